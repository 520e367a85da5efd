//! Person names: width folded, one half-width space between family and given
//! name, honorifics dropped (`様`; `殿`/`さん` after a space or a name of two or more characters, so `鵜殿` stays). Variant kanji are kept as
//! written in the display value (`髙橋` stays `髙橋`) and folded only in the
//! match key, which also drops spaces and lower-cases Latin letters.
//!
//! It does not split family and given name when the input has no space (that
//! needs a name dictionary; the space-less key makes the two forms agree).

use super::IssueKind;
use super::{kana, text, Dictionaries, Normalized};

pub fn normalize(raw: &str, dict: &Dictionaries) -> Normalized {
    let folded = text::fold(raw);
    let v = text::strip_honorific(&folded, Some(2)).to_string();
    if v.is_empty() {
        return Normalized::empty();
    }
    let mut n = Normalized::default();
    if v.chars().any(|c| c.is_ascii_digit()) {
        n.issue(IssueKind::DigitsInName, format!("`{v}` contains digits"));
    }
    let key: String = v
        .chars()
        .filter(|c| !matches!(c, ' ' | '・' | '.' | ','))
        .map(|c| kana::large_kana(dict.variants.fold_char(c)))
        .flat_map(char::to_lowercase)
        .collect();
    n.key = Some(kana::to_katakana(&key));
    n.value = Some(v);
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_and_variants() {
        let d = Dictionaries::default();
        let a = normalize("佐藤　太郎", &d);
        assert_eq!(a.value.as_deref(), Some("佐藤 太郎"));
        let b = normalize("髙橋 一郎 様", &d);
        assert_eq!(b.value.as_deref(), Some("髙橋 一郎"));
        assert_eq!(b.key, normalize("高橋一郎", &d).key);
        // 殿 is an honorific only after a space: 鵜殿 is a surname.
        assert_eq!(
            normalize("鵜殿 太郎", &d).value.as_deref(),
            Some("鵜殿 太郎")
        );
        assert_eq!(normalize("鵜殿", &d).value.as_deref(), Some("鵜殿"));
        assert_eq!(
            normalize("佐藤 太郎 殿", &d).value.as_deref(),
            Some("佐藤 太郎")
        );
    }
}

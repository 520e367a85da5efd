//! Generic names (`name`): a personal, given or family name in any script,
//! for schemas that are not Japanese (Febrl's `given_name`, `surname`).
//!
//! The display value is the folded text (`text::fold`: width, NFKC, spaces
//! collapsed and trimmed) with its case kept as written: `  José  MARÍA`
//! → `José MARÍA`. The match key is lower-cased, without accents
//! (`José` → `jose`; only the Latin/Greek/Cyrillic combining diacritics are
//! dropped, so the Japanese voiced marks of `ガ` stay), with the few Latin
//! letters that carry their stroke in the letter itself spelled out
//! (`ø`→`o`, `ß`→`ss`, `æ`→`ae`, …), and without spaces, hyphens,
//! apostrophes and dots, so `Mary-Ann`, `mary ann` and `Maryann` agree.
//!
//! A value with digits keeps its display value with a `digits_in_name`
//! issue; one with no letter at all (`-`, `?`, `0`) is an `invalid_name`.
//! It does not drop titles (`Mr`, `Dr`) or split given and family names:
//! that is the schema's business. Japanese names belong to `person_name`,
//! which knows honorifics and variant kanji.

use super::IssueKind;
use super::{text, Normalized};
use unicode_normalization::UnicodeNormalization;

pub fn normalize(raw: &str) -> Normalized {
    let folded = text::fold(raw);
    if folded.is_empty() {
        return Normalized::empty();
    }
    if !folded.chars().any(char::is_alphabetic) {
        return Normalized::invalid(IssueKind::InvalidName, format!("`{folded}` has no letters"));
    }
    let mut n = Normalized::default();
    if folded.chars().any(|c| c.is_ascii_digit()) {
        n.issue(
            IssueKind::DigitsInName,
            format!("`{folded}` contains digits"),
        );
    }
    n.key = Some(key(&folded));
    n.value = Some(folded);
    n
}

/// The match key of a folded name (see the module docs).
pub fn key(folded: &str) -> String {
    let kept = |c: &char| !matches!(c, ' ' | '-' | '\'' | '’' | '.' | '‐');
    if folded.is_ascii() {
        return folded
            .chars()
            .filter(kept)
            .map(|c| c.to_ascii_lowercase())
            .collect();
    }
    let mut out = String::with_capacity(folded.len());
    // NFD splits `é` into `e` + U+0301; the marks go, and NFC puts back
    // together what NFD split in other scripts (Hangul syllables, kana).
    let stripped: String = folded
        .nfd()
        .filter(|c| !is_latin_diacritic(*c))
        .nfc()
        .collect();
    for c in stripped.chars().filter(kept).flat_map(char::to_lowercase) {
        match c {
            'ø' => out.push('o'),
            'ł' => out.push('l'),
            'đ' | 'ð' => out.push('d'),
            'ħ' => out.push('h'),
            'ı' => out.push('i'),
            'ß' => out.push_str("ss"),
            'æ' => out.push_str("ae"),
            'œ' => out.push_str("oe"),
            'þ' => out.push_str("th"),
            _ => out.push(c),
        }
    }
    out
}

/// Combining diacritical marks used by Latin, Greek and Cyrillic letters
/// (not the kana voiced marks U+3099/U+309A, which change the sound).
fn is_latin_diacritic(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_go_in_the_key_only() {
        let n = normalize("  José  MARÍA ");
        assert_eq!(n.value.as_deref(), Some("José MARÍA"));
        assert_eq!(n.key.as_deref(), Some("josemaria"));
        assert_eq!(normalize("Jose Maria").key, n.key);
        assert_eq!(normalize("Søren").key.as_deref(), Some("soren"));
        assert_eq!(normalize("Straße").key.as_deref(), Some("strasse"));
    }

    #[test]
    fn other_scripts_keep_their_marks() {
        assert_eq!(normalize("ガ").key.as_deref(), Some("ガ"));
        assert_eq!(normalize("김민준").key.as_deref(), Some("김민준"));
        assert_eq!(normalize("Ёлка").key.as_deref(), Some("елка"));
    }

    #[test]
    fn no_letters_is_invalid() {
        assert_eq!(normalize("-").issues[0].kind.as_str(), "invalid_name");
        assert_eq!(normalize("  ").value, None);
        assert_eq!(normalize("ann3").issues[0].kind.as_str(), "digits_in_name");
    }
}

//! Kana fields (`company_kana`, `person_kana`) and the kana helpers the other
//! normalizers share.
//!
//! Display form: full-width katakana (hiragana and half-width katakana
//! converted), one half-width space between words. Match key: no spaces or
//! middle dots, small kana made large (`ャ`→`ヤ`, so the bank-transfer
//! spelling `シヤ` agrees with `シャ`), `ヂ`→`ジ`, `ヅ`→`ズ`, `ヴ`→`ブ`,
//! `ヲヰヱ`→`オイエ`, and long vowels unified (`サトー`, `サトウ`, `サトオ` all
//! key as `サトオ`). For company kana the key also drops legal-form readings
//! (`カブシキガイシャ` as a word anywhere, or glued to the start or end;
//! bank abbreviations such as `カ)`), which the company normalizer recognises.
//!
//! It does not romanise and does not guess readings of kanji.

use super::IssueKind;
use super::{text, Normalized};

/// Hiragana → katakana; everything else unchanged.
pub fn to_katakana(s: &str) -> String {
    s.chars().map(katakana_of).collect()
}

/// The katakana of a hiragana; any other character unchanged.
pub fn katakana_of(c: char) -> char {
    match c {
        '\u{3041}'..='\u{3096}' | '\u{309D}' | '\u{309E}' => {
            char::from_u32(c as u32 + 0x60).unwrap_or(c)
        }
        _ => c,
    }
}

/// Display value of a kana field.
fn display(raw: &str) -> String {
    to_katakana(&text::fold(raw))
}

/// Characters that may appear in a kana field without an issue.
fn is_kana_field_char(c: char) -> bool {
    text::is_katakana(c)
        || matches!(
            c,
            'ー' | '・' | ' ' | '(' | ')' | '.' | ',' | '-' | '&' | '/' | '\''
        )
        || c.is_ascii_alphanumeric()
}

fn not_kana_issue(n: &mut Normalized, v: &str) {
    if let Some(bad) = v.chars().find(|c| !is_kana_field_char(*c)) {
        n.issue(
            IssueKind::NotKana,
            format!("`{bad}` is not katakana: kana fields hold readings only"),
        );
    }
}

pub fn person_kana(raw: &str) -> Normalized {
    let v = display(raw);
    if v.is_empty() {
        return Normalized::empty();
    }
    let mut n = Normalized {
        key: Some(kana_key(&v)),
        value: Some(v.clone()),
        ..Normalized::default()
    };
    not_kana_issue(&mut n, &v);
    n
}

pub fn company_kana(raw: &str) -> Normalized {
    let v = display(raw);
    if v.is_empty() {
        return Normalized::empty();
    }
    let (key, form) = super::company::kana_key_without_legal_form(&v);
    let mut n = Normalized {
        key: Some(key),
        value: Some(v.clone()),
        ..Normalized::default()
    };
    if let Some(form) = form {
        n.push_part("legal_form", form);
    }
    not_kana_issue(&mut n, &v);
    n
}

/// Small kana made large, and the kana that sound alike folded (ヂ→ジ, ヅ→ズ, ヴ→ブ, ヲ→オ).
pub fn large_kana(c: char) -> char {
    match c {
        'ァ' => 'ア',
        'ィ' => 'イ',
        'ゥ' => 'ウ',
        'ェ' => 'エ',
        'ォ' => 'オ',
        'ッ' => 'ツ',
        'ャ' => 'ヤ',
        'ュ' => 'ユ',
        'ョ' => 'ヨ',
        'ヮ' => 'ワ',
        'ヵ' => 'カ',
        'ヶ' => 'ケ',
        'ヂ' => 'ジ',
        'ヅ' => 'ズ',
        'ヴ' => 'ブ',
        'ヲ' => 'オ',
        'ヰ' => 'イ',
        'ヱ' => 'エ',
        _ => c,
    }
}

/// The vowel (as a katakana letter) that a kana ends in, if it has one.
fn vowel_of(c: char) -> Option<char> {
    // One letter per katakana from U+30A1 (ァ) to U+30FA (ヺ): its vowel, or
    // `_` for ン, ッ, ァ, ヵ, ヶ and the marks. Built from the kana rows
    // (ア: アカガサザタダナハバパマヤラワャヮ, イ: イキギシジチヂニヒビピミリヰィ,
    // ウ: ウクグスズツヅヌフブプムユルュゥヴ, エ: エケゲセゼテデネヘベペメレヱェ,
    // オ: オコゴソゾトドノホボポモヨロヲョォ); a test checks it against them.
    const VOWELS: &[u8; 90] =
        b"_aiiuueeooaaiiuueeooaaiiuueeooaaii_uueeooaiueoaaaiiiuuueeeoooaiueoaauuooaiueoaaieo_u______";
    let i = (c as u32).checked_sub(0x30A1)? as usize;
    match VOWELS.get(i)? {
        b'a' => Some('ア'),
        b'i' => Some('イ'),
        b'u' => Some('ウ'),
        b'e' => Some('エ'),
        b'o' => Some('オ'),
        _ => None,
    }
}

/// The match key of a katakana string (see module docs).
pub fn kana_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev: Option<char> = None;
    for c in s.chars().map(katakana_of) {
        if matches!(c, ' ' | '・' | '.' | ',' | '\'') {
            continue;
        }
        // Long vowels: `ー` repeats the previous vowel; オ-row + ウ and エ-row + イ
        // are read as long vowels too.
        let c2 = match (c, prev.and_then(vowel_of)) {
            ('ー', Some(v)) => v,
            ('ウ', Some('オ')) => 'オ',
            ('イ', Some('エ')) => 'エ',
            ('ー', None) => continue,
            _ => c,
        };
        let k = large_kana(c2);
        out.push(k);
        prev = Some(k);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vowel_table_follows_the_kana_rows() {
        const ROWS: [(&str, char); 5] = [
            ("アカガサザタダナハバパマヤラワャヮ", 'ア'),
            ("イキギシジチヂニヒビピミリヰィ", 'イ'),
            ("ウクグスズツヅヌフブプムユルュゥヴ", 'ウ'),
            ("エケゲセゼテデネヘベペメレヱェ", 'エ'),
            ("オコゴソゾトドノホボポモヨロヲョォ", 'オ'),
        ];
        for c in ('\u{3000}'..='\u{3100}').chain(['a', 'ン', 'ッ', 'ー', '亜']) {
            let expected = ROWS
                .iter()
                .find(|(row, _)| row.contains(c))
                .map(|(_, v)| *v);
            assert_eq!(vowel_of(c), expected, "{c}");
        }
    }

    #[test]
    fn display_is_full_width_katakana() {
        assert_eq!(
            person_kana("ｻﾄｳ ﾀﾛｳ").value.as_deref(),
            Some("サトウ タロウ")
        );
        assert_eq!(
            person_kana("やまだ　はなこ").value.as_deref(),
            Some("ヤマダ ハナコ")
        );
    }

    #[test]
    fn key_unifies_long_vowels_and_small_kana() {
        assert_eq!(kana_key("サトウ"), kana_key("サトー"));
        assert_eq!(kana_key("サトウ"), kana_key("サトオ"));
        assert_eq!(kana_key("シヤ"), kana_key("シャ"));
        assert_eq!(kana_key("チヂミ"), kana_key("チジミ"));
        assert_ne!(kana_key("サトウ"), kana_key("サイトウ"));
    }

    #[test]
    fn kanji_in_kana_field_is_an_issue() {
        let n = person_kana("佐藤");
        assert_eq!(n.issues[0].kind.as_str(), "not_kana");
        assert_eq!(n.value.as_deref(), Some("佐藤"));
    }
}

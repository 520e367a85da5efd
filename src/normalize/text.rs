//! Text folding shared by every normalizer: the `text` field type itself, and
//! the first step of all the Japanese ones.
//!
//! [`fold`] does, in one pass over the characters:
//! - strips variation selectors (U+FE00–FE0F, U+E0100–E01EF) and invisible
//!   format characters (zero-width spaces, BOM, soft hyphen), and turns control
//!   characters and every kind of whitespace into a space;
//! - applies NFKC, which folds width (`ＡＢＣ`→`ABC`, `ｶﾞ`→`ガ`) and expands
//!   enclosed and squared forms (`㈱`→`(株)`, `①`→`1`, `㍿`→`株式会社`,
//!   `㋿`→`令和`) — **except** on the characters where NFKC destroys meaning:
//!   CJK compatibility ideographs (`﨑`, `神`, … are variant kanji a person
//!   writes on purpose; the person normalizer folds them only in the match key)
//!   and the stand-alone voiced marks `゛゜` (NFKC turns them into a space plus
//!   a combining mark);
//! - disambiguates dashes: every dash-like character (`-‐‑‒–—―−─━ー`, …)
//!   becomes `ー` after kana, and `-` otherwise (between digits, after kanji,
//!   in Latin text) — so an address's `1ー2` is `1-2` and `ｺｰﾋｰ` is `コーヒー`.
//!   Two exceptions where a long vowel cannot be meant: a dash before a digit
//!   (`コーポ-101`) and a hyphen (not a typed `ー`) after `ン`/`ッ`
//!   (`セブン‐イレブン` → `セブン-イレブン`) stay `-`;
//! - collapses space runs into one half-width space and trims both ends.
//!
//! It does not touch kanji variants, kana type (hiragana stays hiragana) or
//! case: those are decisions of the field-specific normalizers.

use unicode_normalization::char::compose;
use unicode_normalization::UnicodeNormalization;

/// Fold a string as described in the module docs.
pub fn fold(input: &str) -> String {
    // Fast path: printable ASCII without doubled spaces needs only trimming.
    if input.bytes().all(|b| (0x20..0x7f).contains(&b)) && !input.contains("  ") {
        let trimmed = input.trim();
        if !trimmed.contains('-') {
            return trimmed.to_string();
        }
    }

    // 1. Clean characters and NFKC the unprotected runs.
    let chars = clean_chars(input, true);

    // 2. Dashes by context, and 3. spaces collapsed.
    let mut out = String::with_capacity(input.len());
    let mut prev: Option<char> = None;
    for (i, &c) in chars.iter().enumerate() {
        let c = if is_dash(c) {
            let prev_kana = prev.is_some_and(|p| is_kana(p) || p == 'ー');
            // A long vowel never comes before a number (`コーポ-101` is a
            // room number), and ン/ッ cannot be lengthened, so a hyphen
            // typed after them is a hyphen (`セブン‐イレブン`). A `ー` typed
            // there on purpose is kept: only the hyphen-like dashes are read so.
            let next_digit = chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
            let after_unlengthenable =
                prev.is_some_and(|p| matches!(p, 'ン' | 'ッ' | 'ん' | 'っ')) && c != 'ー';
            if prev_kana && !next_digit && !after_unlengthenable {
                'ー'
            } else {
                '-'
            }
        } else {
            c
        };
        if c == ' ' && (prev.is_none() || prev == Some(' ')) {
            continue;
        }
        out.push(c);
        prev = Some(c);
    }
    while out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Step 1 of [`fold`]: characters cleaned, NFKC applied to the runs between
/// protected characters and spaces. `shortcuts` off runs NFKC on every run
/// (the reference the shortcuts are tested against).
fn clean_chars(input: &str, shortcuts: bool) -> Vec<char> {
    let mut chars: Vec<char> = Vec::with_capacity(input.len());
    let mut run = String::new();
    // Most runs hold only characters NFKC leaves alone (and that nothing
    // composes with): those skip the normalizer, the costliest step.
    let mut run_inert = shortcuts;
    for c in input.chars() {
        if is_variation_selector(c) || is_invisible(c) {
            continue;
        }
        if c.is_control() || c.is_whitespace() {
            flush_nfkc(&mut run, run_inert, &mut chars);
            run_inert = shortcuts;
            chars.push(' ');
        } else if is_nfkc_protected(c) {
            flush_nfkc(&mut run, run_inert, &mut chars);
            run_inert = shortcuts;
            chars.push(c);
        } else if let Some(ascii) = full_width_ascii(c).filter(|_| shortcuts) {
            // NFKC of a full-width ASCII character is the ASCII one, and the
            // run stays as cheap as if it had been typed so.
            run.push(ascii);
        } else if let Some(kana) = half_width_kana(c).filter(|_| shortcuts) {
            // Likewise half-width katakana (`ｶ` → `カ`); a half-width voiced
            // mark composes with the kana before it as NFKC would (`ｶﾞ` →
            // `ガ`), and where it cannot, the run goes through NFKC.
            let composed = match kana {
                '\u{3099}' | '\u{309A}' => run
                    .chars()
                    .next_back()
                    .and_then(|last| Some((last, compose(last, kana)?))),
                _ => None,
            };
            match composed {
                Some((last, voiced)) => {
                    run.truncate(run.len() - last.len_utf8());
                    run.push(voiced);
                }
                None => {
                    run_inert &= is_nfkc_inert(kana);
                    run.push(kana);
                }
            }
        } else {
            run_inert &= is_nfkc_inert(c);
            run.push(c);
        }
    }
    flush_nfkc(&mut run, run_inert, &mut chars);
    chars
}

fn flush_nfkc(run: &mut String, inert: bool, out: &mut Vec<char>) {
    if run.is_empty() {
        return;
    }
    if inert {
        out.extend(run.chars());
        run.clear();
        return;
    }
    for c in run.nfkc() {
        // NFKC may itself produce whitespace (U+3000 → ' ').
        if c.is_whitespace() {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    run.clear();
}

/// Characters NFKC maps to themselves and that no following character
/// composes with: printable ASCII, full-width hiragana and katakana (not the
/// stand-alone voiced marks), `・`, `ー`, unified CJK ideographs (extension A
/// included), and the CJK punctuation `、。々〆〇「」【】〒〜…` (U+3001–301F).
fn is_nfkc_inert(c: char) -> bool {
    matches!(
        c,
        '\u{21}'..='\u{7E}'
            | '\u{3001}'..='\u{301F}'
            | '\u{3041}'..='\u{3096}'
            | '\u{30A1}'..='\u{30FC}'
            | '\u{3400}'..='\u{4DBF}'
            | '\u{4E00}'..='\u{9FFF}'
    )
}

/// The NFKC form of a half-width katakana or mark (U+FF61–FF9F): `ｶ` → `カ`,
/// `ｰ` → `ー`, `｡` → `。`, and the voiced marks `ﾞ` `ﾟ` → the combining
/// U+3099 / U+309A (which then compose with the kana before them).
fn half_width_kana(c: char) -> Option<char> {
    const FULL: [char; 61] = [
        '。', '「', '」', '、', '・', 'ヲ', 'ァ', 'ィ', 'ゥ', 'ェ', 'ォ', 'ャ', 'ュ', 'ョ', 'ッ',
        'ー', 'ア', 'イ', 'ウ', 'エ', 'オ', 'カ', 'キ', 'ク', 'ケ', 'コ', 'サ', 'シ', 'ス', 'セ',
        'ソ', 'タ', 'チ', 'ツ', 'テ', 'ト', 'ナ', 'ニ', 'ヌ', 'ネ', 'ノ', 'ハ', 'ヒ', 'フ', 'ヘ',
        'ホ', 'マ', 'ミ', 'ム', 'メ', 'モ', 'ヤ', 'ユ', 'ヨ', 'ラ', 'リ', 'ル', 'レ', 'ロ', 'ワ',
        'ン',
    ];
    match c {
        '\u{FF61}'..='\u{FF9D}' => FULL.get(c as usize - 0xFF61).copied(),
        '\u{FF9E}' => Some('\u{3099}'),
        '\u{FF9F}' => Some('\u{309A}'),
        _ => None,
    }
}

/// The ASCII character a full-width one (U+FF01–FF5E, `Ａ１（`) stands for:
/// its NFKC form.
fn full_width_ascii(c: char) -> Option<char> {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0),
        _ => None,
    }
}

/// Drop a trailing honorific from a (folded) name: `様` and `御中` always;
/// `殿`, `さま` and `さん` after a space, or written straight after a name
/// of at least `glued_min_chars` characters — as the end of a short name they
/// are real characters (`鵜殿`), and companies pass `None` (`○○御殿`).
/// Never leaves an empty name.
pub fn strip_honorific(s: &str, glued_min_chars: Option<usize>) -> &str {
    for (h, always) in [
        ("御中", true),
        ("様", true),
        ("殿", false),
        ("さま", false),
        ("さん", false),
    ] {
        if let Some(rest) = s.strip_suffix(h) {
            let name = rest.trim_end();
            let spaced = name.len() < rest.len();
            let long_enough = glued_min_chars.is_some_and(|n| name.chars().count() >= n);
            if !name.is_empty() && (always || spaced || long_enough) {
                return name;
            }
        }
    }
    s
}

/// Remove every space (the usual last step of a match key).
pub fn without_spaces(s: &str) -> String {
    s.chars().filter(|c| *c != ' ').collect()
}

pub fn is_variation_selector(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}' | '\u{180B}'..='\u{180D}')
}

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' | '\u{200E}' | '\u{200F}'
    )
}

/// Characters NFKC must not touch (see module docs).
fn is_nfkc_protected(c: char) -> bool {
    is_compat_ideograph(c) || matches!(c, '゛' | '゜')
}

/// CJK compatibility ideographs (U+F900–FAFF, U+2F800–2FA1F): variant
/// kanji with a code point of their own (`神` U+FA19, `﨑` U+FA11).
pub fn is_compat_ideograph(c: char) -> bool {
    matches!(c, '\u{F900}'..='\u{FAFF}' | '\u{2F800}'..='\u{2FA1F}')
}

/// The unified ideograph a compatibility ideograph stands for (its canonical
/// decomposition: `神` U+FA19 → `神` U+795E); every other character, and the
/// dozen compatibility ideographs with no decomposition (`﨑`), unchanged.
/// For match keys only: display values keep what was written.
pub fn unify_compat_ideograph(c: char) -> char {
    if is_compat_ideograph(c) {
        let mut it = std::iter::once(c).nfc();
        if let (Some(d), None) = (it.next(), it.next()) {
            return d;
        }
    }
    c
}

/// Dash-like characters, including the long-vowel marks (full and half width),
/// which people type interchangeably with hyphens.
pub fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'
            | '\u{2011}'
            | '\u{2012}'
            | '\u{2013}'
            | '\u{2014}'
            | '\u{2015}'
            | '\u{2043}'
            | '\u{2212}'
            | '\u{2500}'
            | '\u{2501}'
            | '\u{FE58}'
            | '\u{FE63}'
            | '\u{FF0D}'
            | '\u{FF70}'
            | '\u{30FC}'
            | '\u{02D7}'
    )
}

pub fn is_hiragana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{3096}' | '\u{309D}' | '\u{309E}')
}

pub fn is_katakana(c: char) -> bool {
    matches!(c, '\u{30A1}'..='\u{30FA}' | '\u{30FD}'..='\u{30FF}' | '\u{31F0}'..='\u{31FF}')
}

pub fn is_kana(c: char) -> bool {
    is_hiragana(c) || is_katakana(c)
}

/// CJK ideographs (unified, extensions, compatibility) and the iteration mark `々`.
pub fn is_kanji(c: char) -> bool {
    matches!(
        c,
        '\u{4E00}'..='\u{9FFF}'
            | '\u{3400}'..='\u{4DBF}'
            | '\u{20000}'..='\u{3134F}'
            | '\u{F900}'..='\u{FAFF}'
            | '々'
            | '〆'
            | 'ヶ'
    )
}

const KANJI_DIGITS: [char; 10] = ['〇', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

fn kanji_digit(c: char) -> Option<u32> {
    match c {
        '〇' | '零' | '０' => Some(0),
        '一' | '壱' | '壹' => Some(1),
        '二' | '弐' | '貳' => Some(2),
        '三' | '参' | '參' => Some(3),
        '四' => Some(4),
        '五' => Some(5),
        '六' => Some(6),
        '七' => Some(7),
        '八' => Some(8),
        '九' => Some(9),
        _ => None,
    }
}

/// Is `c` a character of a kanji numeral (`一`…`九`, `〇`, `十`, `百`, `千`)?
pub fn is_kanji_numeral(c: char) -> bool {
    kanji_digit(c).is_some() || matches!(c, '十' | '拾' | '百' | '千')
}

/// Parse a kanji numeral, positional (`二〇二四`) or with units (`二千二十四`,
/// `十一`, `百`). Also accepts ASCII digits. Returns `None` for anything else.
pub fn parse_number(s: &str) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    if s.chars().all(|c| c.is_ascii_digit()) {
        return s.parse().ok();
    }
    let has_units = s.chars().any(|c| matches!(c, '十' | '拾' | '百' | '千'));
    if !has_units {
        let mut n: u32 = 0;
        for c in s.chars() {
            n = n.checked_mul(10)?.checked_add(kanji_digit(c)?)?;
        }
        return Some(n);
    }
    let mut total: u32 = 0;
    let mut digit: Option<u32> = None;
    for c in s.chars() {
        let unit = match c {
            '十' | '拾' => 10,
            '百' => 100,
            '千' => 1000,
            _ => {
                if digit.is_some() {
                    return None;
                }
                digit = Some(kanji_digit(c).or_else(|| c.to_digit(10))?);
                continue;
            }
        };
        total = total.checked_add(digit.unwrap_or(1).checked_mul(unit)?)?;
        digit = None;
    }
    total.checked_add(digit.unwrap_or(0))
}

/// Write `n` as a kanji numeral with units, as 丁目 and 条 are officially
/// written: 1→`一`, 10→`十`, 11→`十一`, 22→`二十二`, 105→`百五`.
pub fn to_kanji_number(n: u32) -> String {
    if n == 0 {
        return "〇".to_string();
    }
    let mut out = String::new();
    let mut rest = n;
    if rest >= 10_000 {
        // Never needed for addresses; fall back to positional digits.
        return n
            .to_string()
            .chars()
            .map(|c| KANJI_DIGITS[c.to_digit(10).unwrap_or(0) as usize])
            .collect();
    }
    for (unit, mark) in [(1000, '千'), (100, '百'), (10, '十')] {
        let d = rest / unit;
        if d > 0 {
            if d > 1 {
                out.push(KANJI_DIGITS[d as usize]);
            }
            out.push(mark);
        }
        rest %= unit;
    }
    if rest > 0 {
        out.push(KANJI_DIGITS[rest as usize]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The shortcuts (inert runs, full-width ASCII) give what NFKC gives,
        /// on strings mixing every kind of character they treat apart.
        #[test]
        fn shortcuts_agree_with_nfkc(s in proptest::collection::vec(prop_oneof![
            proptest::char::range('!', '~'),
            proptest::char::range('\u{FF01}', '\u{FF9F}'),
            proptest::char::range('\u{3000}', '\u{30FF}'),
            proptest::char::range('\u{0300}', '\u{0310}'),
            proptest::char::range('\u{3400}', '\u{3410}'),
            proptest::char::range('\u{4E00}', '\u{4E20}'),
            proptest::char::range('\u{F900}', '\u{F910}'),
            proptest::char::range('\u{3200}', '\u{33FF}'),
            Just(' '), Just('é'), Just('\u{FE0F}'),
            // Half-width kana beside their voiced marks, often enough to meet.
            proptest::char::range('\u{FF66}', '\u{FF9D}'),
            proptest::sample::select(vec!['ﾞ', 'ﾟ', 'ｳ', 'ﾜ', 'ﾊ', 'ｶ', 'ｱ', '\u{3099}', 'か']),
            proptest::sample::select(vec!['ﾞ', 'ﾟ']),
        ], 0..12).prop_map(|v| v.into_iter().collect::<String>())) {
            prop_assert_eq!(clean_chars(&s, true), clean_chars(&s, false), "{:?}", s);
        }
    }

    #[test]
    fn folds_width_and_enclosed_forms() {
        assert_eq!(fold("㈱ＡＢＣ商事"), "(株)ABC商事");
        assert_eq!(fold("ｶﾌﾞｼｷｶﾞｲｼｬ"), "カブシキガイシャ");
        assert_eq!(fold("①"), "1");
        assert_eq!(fold("㍿"), "株式会社");
    }

    #[test]
    fn dash_depends_on_context() {
        assert_eq!(fold("1ー2ー3"), "1-2-3");
        assert_eq!(fold("ｺｰﾋｰ"), "コーヒー");
        assert_eq!(fold("コ-ヒ-"), "コーヒー");
        assert_eq!(fold("霞が関1−2−1"), "霞が関1-2-1");
        assert_eq!(fold("らーめん"), "らーめん");
        assert_eq!(fold("コーポ-101"), "コーポ-101");
        assert_eq!(fold("セブン‐イレブン"), "セブン-イレブン");
        assert_eq!(fold("セブンーイレブン"), "セブンーイレブン");
    }

    #[test]
    fn keeps_compatibility_ideographs_and_strips_selectors() {
        assert_eq!(fold("山﨑"), "山﨑");
        assert_eq!(fold("葛\u{E0100}飾"), "葛飾");
    }

    #[test]
    fn every_inert_char_is_its_own_nfkc() {
        let ranges = [
            (0x21, 0x7E),
            (0x3041, 0x3096),
            (0x30A1, 0x30FA),
            (0x4E00, 0x9FFF),
        ];
        let extra = ['ー', '々', '、', '。', '「', '」'];
        let all = ranges
            .iter()
            .flat_map(|&(a, b)| (a..=b).filter_map(char::from_u32))
            .chain(extra);
        for c in all {
            assert!(is_nfkc_inert(c), "{c:?}");
            let n: String = std::iter::once(c).nfkc().collect();
            assert_eq!(n, c.to_string(), "{c:?} (U+{:04X})", c as u32);
        }
    }

    #[test]
    fn inert_runs_match_nfkc() {
        // The shortcut must give exactly what NFKC gives.
        for s in [
            "佐藤たろうカタカナー々、。「」abcXYZ019",
            "がぎぐ",
            "漢字テスト",
        ] {
            let expected: String = s.nfkc().collect();
            assert_eq!(fold(s), expected);
        }
        // Half-width kana and combining marks still go through NFKC.
        assert_eq!(fold("ｶﾞ"), "ガ");
        assert_eq!(fold("か\u{3099}"), "が");
    }

    #[test]
    fn collapses_spaces() {
        assert_eq!(fold("  佐藤　　太郎\t "), "佐藤 太郎");
    }

    #[test]
    fn kanji_numbers_round_trip() {
        for n in [1, 9, 10, 11, 20, 22, 99, 100, 105, 110, 999, 1000, 2024] {
            assert_eq!(parse_number(&to_kanji_number(n)), Some(n), "{n}");
        }
        assert_eq!(parse_number("二〇二四"), Some(2024));
        assert_eq!(to_kanji_number(22), "二十二");
        assert_eq!(parse_number("三x"), None);
    }
}

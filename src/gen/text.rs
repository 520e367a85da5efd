//! Character-level rewrites that data entry produces: full-width ASCII,
//! half-width and hiragana kana, kanji numerals, kana → romaji for e-mail
//! addresses, and one-character typos. Pure functions.

use rand::Rng;

/// ASCII letters, digits and symbols → full-width (`A1-` → `Ａ１－`);
/// a space → an ideographic space.
pub fn fullwidth_ascii(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
            ' ' => '\u{3000}',
            _ => c,
        })
        .collect()
}

/// Full-width ASCII → half-width (`ＡＩＧ` → `AIG`), the inverse of
/// [`fullwidth_ascii`] for letters, digits and symbols.
pub fn halfwidth_ascii(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '！'..='～' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Digits only → full-width (`1-2-3` → `１-２-３`).
pub fn fullwidth_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Katakana → hiragana (ヴ and ー kept).
pub fn hiragana(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'ァ'..='ヶ' if c != 'ヴ' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}

const HALF_KANA: &str =
    "ｧｱｨｲｩｳｪｴｫｵｶｶｷｷｸｸｹｹｺｺｻｻｼｼｽｽｾｾｿｿﾀﾀﾁﾁｯﾂﾂﾃﾃﾄﾄﾅﾆﾇﾈﾉﾊﾊﾊﾋﾋﾋﾌﾌﾌﾍﾍﾍﾎﾎﾎﾏﾐﾑﾒﾓｬﾔｭﾕｮﾖﾗﾘﾙﾚﾛﾜﾜｲｴｦﾝ";

/// Full-width katakana → half-width (`ガ` → `ｶﾞ`), spaces → ASCII spaces,
/// other characters kept.
pub fn halfwidth_kana(s: &str) -> String {
    let half: Vec<char> = HALF_KANA.chars().collect();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            'ァ'..='ン' => {
                let i = (c as u32 - 'ァ' as u32) as usize;
                out.push(half[i]);
                // The voiced and semi-voiced columns follow their plain kana.
                const VOICED: &str = "ガギグゲゴザジズゼゾダヂヅデドバビブベボ";
                const SEMI: &str = "パピプペポ";
                if VOICED.contains(c) {
                    out.push('ﾞ');
                } else if SEMI.contains(c) {
                    out.push('ﾟ');
                }
            }
            'ヴ' => out.push_str("ｳﾞ"),
            'ー' => out.push('ｰ'),
            '・' => out.push('･'),
            '\u{3000}' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Katakana (full-width) → lower-case Hepburn-style romaji for e-mail local
/// parts and domains (`サトウ` → `satou`, `シャ` → `sha`, `ッカ` → `kka`).
/// Characters with no reading are dropped.
pub fn romaji(kana: &str) -> String {
    let chars: Vec<char> = kana.chars().collect();
    let mut out = String::with_capacity(chars.len() * 2);
    let mut sokuon = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == 'ッ' {
            sokuon = true;
            i += 1;
            continue;
        }
        // Yōon: キャ → kya, シャ → sha.
        let next = chars.get(i + 1).copied();
        let (mut syl, used) = match (base_romaji(c), next) {
            (Some(b), Some(n @ ('ャ' | 'ュ' | 'ョ'))) => {
                let v = match n {
                    'ャ' => "a",
                    'ュ' => "u",
                    _ => "o",
                };
                let stem = match b {
                    "shi" => "sh".to_string(),
                    "chi" => "ch".to_string(),
                    "ji" => "j".to_string(),
                    _ => format!("{}y", &b[..b.len() - 1]),
                };
                (format!("{stem}{v}"), 2)
            }
            (Some(b), _) => (b.to_string(), 1),
            (None, _) => (String::new(), 1),
        };
        if sokuon {
            if let Some(f) = syl.chars().next().filter(|f| !"aiueo".contains(*f)) {
                syl.insert(0, f);
            }
            sokuon = false;
        }
        out.push_str(&syl);
        i += used;
    }
    out
}

fn base_romaji(c: char) -> Option<&'static str> {
    const TABLE: &[(char, &str)] = &[
        ('ア', "a"),
        ('イ', "i"),
        ('ウ', "u"),
        ('エ', "e"),
        ('オ', "o"),
        ('ァ', "a"),
        ('ィ', "i"),
        ('ゥ', "u"),
        ('ェ', "e"),
        ('ォ', "o"),
        ('カ', "ka"),
        ('キ', "ki"),
        ('ク', "ku"),
        ('ケ', "ke"),
        ('コ', "ko"),
        ('ガ', "ga"),
        ('ギ', "gi"),
        ('グ', "gu"),
        ('ゲ', "ge"),
        ('ゴ', "go"),
        ('サ', "sa"),
        ('シ', "shi"),
        ('ス', "su"),
        ('セ', "se"),
        ('ソ', "so"),
        ('ザ', "za"),
        ('ジ', "ji"),
        ('ズ', "zu"),
        ('ゼ', "ze"),
        ('ゾ', "zo"),
        ('タ', "ta"),
        ('チ', "chi"),
        ('ツ', "tsu"),
        ('テ', "te"),
        ('ト', "to"),
        ('ダ', "da"),
        ('ヂ', "ji"),
        ('ヅ', "zu"),
        ('デ', "de"),
        ('ド', "do"),
        ('ナ', "na"),
        ('ニ', "ni"),
        ('ヌ', "nu"),
        ('ネ', "ne"),
        ('ノ', "no"),
        ('ハ', "ha"),
        ('ヒ', "hi"),
        ('フ', "fu"),
        ('ヘ', "he"),
        ('ホ', "ho"),
        ('バ', "ba"),
        ('ビ', "bi"),
        ('ブ', "bu"),
        ('ベ', "be"),
        ('ボ', "bo"),
        ('パ', "pa"),
        ('ピ', "pi"),
        ('プ', "pu"),
        ('ペ', "pe"),
        ('ポ', "po"),
        ('マ', "ma"),
        ('ミ', "mi"),
        ('ム', "mu"),
        ('メ', "me"),
        ('モ', "mo"),
        ('ヤ', "ya"),
        ('ユ', "yu"),
        ('ヨ', "yo"),
        ('ャ', "ya"),
        ('ュ', "yu"),
        ('ョ', "yo"),
        ('ラ', "ra"),
        ('リ', "ri"),
        ('ル', "ru"),
        ('レ', "re"),
        ('ロ', "ro"),
        ('ワ', "wa"),
        ('ヲ', "o"),
        ('ン', "n"),
        ('ヴ', "vu"),
    ];
    TABLE.iter().find(|(k, _)| *k == c).map(|(_, r)| *r)
}

/// Kana that are easily mistaken for each other, in pairs.
const SIMILAR_KANA: &[(char, char)] = &[
    ('シ', 'ツ'),
    ('ソ', 'ン'),
    ('ハ', 'バ'),
    ('バ', 'パ'),
    ('ヒ', 'ビ'),
    ('フ', 'ブ'),
    ('ホ', 'ボ'),
    ('カ', 'ガ'),
    ('キ', 'ギ'),
    ('ク', 'グ'),
    ('コ', 'ゴ'),
    ('サ', 'ザ'),
    ('タ', 'ダ'),
    ('ト', 'ド'),
    ('ウ', 'ワ'),
    ('ヨ', 'ョ'),
    ('ヤ', 'ャ'),
    ('ユ', 'ュ'),
    ('ツ', 'ッ'),
    ('オ', 'ウ'),
    ('ロ', 'ル'),
    ('メ', 'ヌ'),
];

/// One typo: a kana replaced by a similar one when there is one, otherwise a
/// character deleted or two adjacent ones swapped. Spaces are never touched;
/// a value of fewer than three characters is returned as is.
pub fn typo<R: Rng>(s: &str, rng: &mut R) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    if chars.len() < 3 {
        return s.to_string();
    }
    let similar: Vec<usize> = (0..chars.len())
        .filter(|&i| {
            SIMILAR_KANA
                .iter()
                .any(|(a, b)| *a == chars[i] || *b == chars[i])
        })
        .collect();
    let op = rng.gen_range(0..3);
    if op == 0 && !similar.is_empty() {
        let i = similar[rng.gen_range(0..similar.len())];
        let c = chars[i];
        if let Some(&(a, b)) = SIMILAR_KANA.iter().find(|(a, b)| *a == c || *b == c) {
            chars[i] = if a == c { b } else { a };
        }
    } else {
        // Never at the first character: a typo there is rarer in practice
        // (the first character is the one people check).
        let i = rng.gen_range(1..chars.len());
        if chars[i].is_whitespace() || chars[i - 1].is_whitespace() {
            return s.to_string();
        }
        if op == 1 {
            chars.remove(i);
        } else {
            chars.swap(i - 1, i);
        }
    }
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_and_kana() {
        assert_eq!(fullwidth_ascii("AB 1"), "ＡＢ\u{3000}１");
        assert_eq!(halfwidth_kana("ガンバ パーク"), "ｶﾞﾝﾊﾞ ﾊﾟｰｸ");
        assert_eq!(halfwidth_kana("サトウ　ケン"), "ｻﾄｳ ｹﾝ");
        assert_eq!(hiragana("サトウ ケン"), "さとう けん");
        assert_eq!(crate::normalize::text::to_kanji_number(1), "一");
        assert_eq!(crate::normalize::text::to_kanji_number(10), "十");
        assert_eq!(crate::normalize::text::to_kanji_number(12), "十二");
        assert_eq!(crate::normalize::text::to_kanji_number(23), "二十三");
    }

    #[test]
    fn romaji_hepburn() {
        assert_eq!(romaji("サトウ"), "satou");
        assert_eq!(romaji("シュンスケ"), "shunsuke");
        assert_eq!(romaji("ハットリ"), "hattori");
        assert_eq!(romaji("キョウコ"), "kyouko");
        assert_eq!(romaji("ジュンイチ"), "junichi");
        assert_eq!(romaji("チャ"), "cha");
        assert_eq!(romaji("コーセー"), "kose");
    }
}

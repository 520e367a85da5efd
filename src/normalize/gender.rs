//! Gender: the notations found in Japanese customer files (男/女, 男性/女性,
//! 男子/女子, ♂/♀, M/F, male/female, ISO 5218 codes 0/1/2/9, readings in
//! either kana) folded to `男性`, `女性`,
//! `その他` or `不明`; the key is `m`, `f`, `x` or `u`. Anything else is an
//! `invalid_gender` issue.

use super::IssueKind;
use super::{text, Normalized};

pub fn normalize(raw: &str) -> Normalized {
    let folded = text::fold(raw);
    if folded.is_empty() {
        return Normalized::empty();
    }
    // Case, spaces (`女　性`), a trailing dot (`M.`) and kana type (`オトコ`,
    // `ﾀﾞﾝｾｲ`) do not change what a notation says.
    let lower: String = folded
        .trim_end_matches('.')
        .chars()
        .filter(|c| *c != ' ')
        .map(|c| match c {
            'ァ'..='ヶ' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect();
    let (display, key) = match lower.as_str() {
        "男" | "男性" | "男子" | "♂" | "m" | "male" | "man" | "1" | "おとこ" | "だんせい" => {
            ("男性", "m")
        }
        "女" | "女性" | "女子" | "♀" | "f" | "female" | "woman" | "2" | "おんな" | "じょせい" => {
            ("女性", "f")
        }
        "その他" | "他" | "x" | "other" | "9" | "non-binary" | "nonbinary" => ("その他", "x"),
        "不明" | "未回答" | "回答しない" | "無回答" | "u" | "unknown" | "0" | "-" => {
            ("不明", "u")
        }
        _ => {
            return Normalized::invalid(
                IssueKind::InvalidGender,
                format!("`{folded}` is not a known gender notation"),
            )
        }
    };
    Normalized {
        value: Some(display.to_string()),
        key: Some(key.to_string()),
        ..Normalized::default()
    }
}

//! Phone numbers, through `phonenumber` (a port of Google's libphonenumber),
//! with Japan as the default region.
//!
//! Display: the national format with hyphens at the area-code boundaries
//! (`03-1234-5678`, `090-1234-5678`, `0120-123-456`) or E.164 when the rules
//! ask for it; numbers of other countries are written in international
//! format. Key: E.164 (`+81312345678`), also kept as the `e164` part. An
//! extension (`内線12`, `ext. 12`) is kept in the display value
//! (`03-1234-5678 内線12`) and in the `extension` part; several numbers in one
//! cell are all kept (`03-… / 090-…`, issue `multiple_values`); a label
//! before or after the number (`TEL:`, `携帯`, `(代表)`) is dropped. A number that
//! libphonenumber does not consider valid for its region keeps its raw form
//! and gets an `invalid_phone` issue — it is never guessed into shape.

use super::IssueKind;
use super::{phone_jp, text, Normalized};
use crate::rules::{PhoneFormat, PhoneOptions};
use phonenumber::{country, Mode};

pub fn normalize(raw: &str, opts: &PhoneOptions) -> Normalized {
    let folded = text::fold(raw);
    if folded.is_empty() {
        return Normalized::empty();
    }
    // Several numbers in one cell (`03-… / 090-…`): each is normalized and
    // all are kept, so nothing is lost; the first is the match key.
    for sep in ['/', '、', ',', ';', '・'] {
        let pieces: Vec<&str> = folded.split(sep).map(str::trim).collect();
        if pieces.len() > 1 && pieces.iter().all(|p| digit_count(p) >= 9) {
            let each: Vec<Normalized> = pieces.iter().map(|p| normalize_one(p, opts)).collect();
            if each.iter().any(|n| n.value.is_none()) {
                return Normalized::invalid(
                    IssueKind::InvalidPhone,
                    format!("`{folded}`: one of the numbers is not valid"),
                );
            }
            let mut n = each[0].clone();
            let values: Vec<&str> = each.iter().filter_map(|n| n.value.as_deref()).collect();
            n.value = Some(values.join(" / "));
            n.issue(
                IssueKind::MultipleValues,
                "more than one phone number; all are kept, the first is the match key",
            );
            return n;
        }
    }
    normalize_one(&folded, opts)
}

/// One phone number (already folded).
fn normalize_one(folded: &str, opts: &PhoneOptions) -> Normalized {
    let mut n = Normalized::default();
    // Japanese extension notations; libphonenumber knows `ext.` only.
    let mut number_part = folded.to_string();
    let mut extension: Option<String> = None;
    // ASCII lower-casing keeps byte offsets (full lower-casing does not).
    let lower = number_part.to_ascii_lowercase();
    for marker in ["内線", "(内)", "内", "ext.", "ext", "x"] {
        if let Some(pos) = lower.find(marker) {
            let after = &number_part[pos + marker.len()..];
            let digits: String = after.chars().filter(|c| c.is_ascii_digit()).collect();
            // An extension follows a whole number: the `x` of `FAX 03-…`, in a
            // label before the number, is not one.
            if !digits.is_empty() && digit_count(&number_part[..pos]) >= 9 {
                extension = Some(digits);
                number_part.truncate(pos);
                break;
            }
        }
    }
    // Labels people put after the number: 03-… (代表), 090-… 携帯. Only a
    // word without digits, in parentheses or after a space, and only after a
    // whole number; letters stuck to the digits still make it invalid.
    loop {
        let t = number_part.trim_end_matches([' ', '(']);
        let cut = match t.strip_suffix(')') {
            Some(inner) => inner.rfind('('),
            None => t.rfind(' '),
        };
        match cut {
            Some(i) if digit_count(&t[i..]) == 0 && digit_count(&t[..i]) >= 9 => {
                number_part.truncate(i);
            }
            _ => {
                let len = t.len();
                number_part.truncate(len);
                break;
            }
        }
    }
    // Labels people put in front: TEL: 03-…, 携帯 090-…
    let number_part: String = number_part
        .trim_start_matches(|c: char| !(c.is_ascii_digit() || c == '+' || c == '('))
        .trim()
        .to_string();

    let letters = number_part
        .chars()
        .any(|c| c.is_alphabetic() && !c.is_ascii_digit());
    // (national display, E.164); Japanese numbers take the fast path.
    let compact: String = number_part
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '(' | ')' | '.'))
        .collect();
    let plain = !compact.is_empty()
        && compact
            .char_indices()
            .all(|(i, c)| c.is_ascii_digit() || (i == 0 && c == '+'));
    let formatted = match phone_jp::national_number(&compact).filter(|_| plain && !letters) {
        Some(national) => phone_jp::format_valid(national).map(|d| (d, format!("+81{national}"))),
        None if letters => None,
        None => phonenumber::parse(Some(country::Id::JP), &number_part)
            .ok()
            .filter(|p| p.is_valid())
            .map(|number| {
                let e164 = number.format().mode(Mode::E164).to_string();
                let shown = if number.code().value() == 81 {
                    number.format().mode(Mode::National).to_string()
                } else {
                    number.format().mode(Mode::International).to_string()
                };
                (shown, e164)
            }),
    };
    let Some((national_display, e164)) = formatted else {
        n.issue(
            IssueKind::InvalidPhone,
            format!("`{folded}` is not a valid phone number"),
        );
        return n;
    };
    // The extension stays in the display value (it is part of how to reach
    // the person), in each format's own notation; the key is the number.
    let display = match (opts.format, &extension) {
        (PhoneFormat::E164, None) => e164.clone(),
        (PhoneFormat::E164, Some(ext)) => format!("{e164} ext. {ext}"),
        (PhoneFormat::National, None) => national_display,
        (PhoneFormat::National, Some(ext)) => format!("{national_display} 内線{ext}"),
    };
    n.value = Some(display);
    n.key = Some(e164.clone());
    n.push_part("e164", e164);
    if let Some(ext) = extension {
        n.push_part("extension", ext);
    }
    n
}

fn digit_count(s: &str) -> usize {
    s.chars().filter(|c| c.is_ascii_digit()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Option<String> {
        normalize(s, &PhoneOptions::default()).value
    }

    #[test]
    fn national_format() {
        assert_eq!(v("+81-3-1234-5678").as_deref(), Some("03-1234-5678"));
        assert_eq!(
            v("０３（１２３４）５６７８").as_deref(),
            Some("03-1234-5678")
        );
        assert_eq!(v("09012345678").as_deref(), Some("090-1234-5678"));
        assert_eq!(v("0120-123-456").as_deref(), Some("0120-123-456"));
    }

    #[test]
    fn invalid_is_an_issue() {
        let n = normalize("03-1234", &PhoneOptions::default());
        assert_eq!(n.value, None);
        assert_eq!(n.issues[0].kind.as_str(), "invalid_phone");
    }

    #[test]
    fn extension_is_split() {
        let n = normalize("03-1234-5678 内線123", &PhoneOptions::default());
        assert_eq!(n.part("extension"), Some("123"));
        assert_eq!(n.value.as_deref(), Some("03-1234-5678 内線123"));
        // The x of FAX is not an extension marker.
        assert_eq!(v("FAX 03-1234-5678").as_deref(), Some("03-1234-5678"));
    }

    #[test]
    fn labels_after_the_number_are_dropped() {
        assert_eq!(v("03-1234-5678(代表)").as_deref(), Some("03-1234-5678"));
        assert_eq!(v("090-1234-5678 携帯").as_deref(), Some("090-1234-5678"));
        assert_eq!(v("03-1234-567a"), None);
    }
}

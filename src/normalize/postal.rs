//! Postal code normalizer: `〒１６０－００２３` → `160-0023`, checked against
//! the Japan Post master ([`crate::master`]), with the prefecture, city and town
//! the code stands for as parts.
//!
//! It accepts any notation that folds to exactly seven digits with optional
//! `〒`, `-` and spaces around them (`1600023`, `160 0023`, `〒160-0023`).
//! It deliberately does not try to repair a code with six or eight digits, nor
//! pick a code out of a longer text (an address with a code in front is the
//! address normalizer's business): a wrong digit would silently move a
//! customer to another town.

use super::IssueKind;
use super::{text, Normalized};
use crate::master::{master, PostalEntry};

/// Normalize one postal code. See the module docs.
pub fn normalize(raw: &str) -> Normalized {
    let v = text::fold(raw);
    if v.is_empty() {
        return Normalized::empty();
    }
    let Some(digits) = seven_digits(&v) else {
        return Normalized::invalid(
            IssueKind::InvalidPostalCode,
            format!("`{v}` is not a 7-digit postal code"),
        );
    };
    let mut n = Normalized::same_key(format!("{}-{}", &digits[..3], &digits[3..]));
    n.key = Some(digits.clone());
    match lookup(&digits).first() {
        Some(e) => {
            n.push_part("prefecture", e.prefecture);
            n.push_part("city", e.city);
            n.push_part("town", e.town);
        }
        None => n.issue(
            IssueKind::UnknownPostalCode,
            format!("{digits} is not in the Japan Post postal code list"),
        ),
    }
    n
}

/// The seven digits of a folded postal code, or `None` when it is anything else
/// than `〒`, spaces, one optional `-` and seven digits.
pub fn seven_digits(folded: &str) -> Option<String> {
    let s = folded.trim_start_matches(['〒', ' ']).trim();
    let mut digits = String::with_capacity(7);
    let mut dashes = 0;
    for c in s.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '-' | ' ' if digits.len() == 3 => dashes += 1,
            _ => return None,
        }
    }
    (digits.len() == 7 && dashes <= 2).then_some(digits)
}

/// The master rows of a postal code in any notation [`normalize`] accepts
/// (several when the code covers several towns); empty when invalid or unknown.
/// This is what the address normalizer uses to complete a missing prefecture
/// and city.
pub fn lookup(code: &str) -> &'static [PostalEntry] {
    let digits = if code.len() == 7 && code.bytes().all(|b| b.is_ascii_digit()) {
        code.to_string()
    } else {
        match seven_digits(&text::fold(code)) {
            Some(d) => d,
            None => return &[],
        }
    };
    master().postal(&digits)
}

/// The prefecture and city of a postal code, when the code is known.
pub fn prefecture_and_city(code: &str) -> Option<(&'static str, &'static str)> {
    lookup(code).first().map(|e| (e.prefecture, e.city))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(n: &Normalized) -> Vec<&'static str> {
        n.issues.iter().map(|i| i.kind.as_str()).collect()
    }

    #[test]
    fn full_width_with_mark() {
        let n = normalize("〒１６０－００２３");
        assert_eq!(n.value.as_deref(), Some("160-0023"));
        assert_eq!(n.key.as_deref(), Some("1600023"));
        assert_eq!(n.part("prefecture"), Some("東京都"));
        assert_eq!(n.part("city"), Some("新宿区"));
        assert_eq!(n.part("town"), Some("西新宿"));
        assert!(n.issues.is_empty());
    }

    #[test]
    fn plain_and_spaced() {
        assert_eq!(normalize("1000013").value.as_deref(), Some("100-0013"));
        assert_eq!(normalize(" 100 0013 ").value.as_deref(), Some("100-0013"));
    }

    #[test]
    fn wrong_length_is_invalid() {
        for bad in ["160-002", "1600-0023", "160-00234", "abc", "16０-OO23"] {
            let n = normalize(bad);
            assert_eq!(n.value, None, "{bad}");
            assert_eq!(kinds(&n), ["invalid_postal_code"], "{bad}");
        }
        assert_eq!(normalize(""), Normalized::empty());
    }

    #[test]
    fn unknown_code_keeps_value() {
        let n = normalize("000-0000");
        assert_eq!(n.value.as_deref(), Some("000-0000"));
        assert_eq!(kinds(&n), ["unknown_postal_code"]);
    }

    #[test]
    fn business_codes_are_known() {
        let n = normalize("060-8621");
        assert!(n.issues.is_empty());
        assert_eq!(n.part("city"), Some("札幌市中央区"));
    }

    #[test]
    fn prefecture_and_city_for_address() {
        assert_eq!(
            prefecture_and_city("100-0013"),
            Some(("東京都", "千代田区"))
        );
        assert_eq!(prefecture_and_city("000-0000"), None);
    }
}

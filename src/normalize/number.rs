//! Numbers (`number`): a numeric value — a street number, a quantity, an
//! amount — written as the one canonical decimal.
//!
//! Accepted: an optional sign (`+`, `-`, or any dash `fold` turns into `-`),
//! digits of either width, thousands separators (`,`, `_`, `'` or a space,
//! one kind per value, groups of exactly three digits: `1,234,567`,
//! `1 234`), and a decimal point (`.`). The canonical form drops the `+`, the
//! separators, leading zeros of the integer part and trailing zeros of the
//! fraction: `1,234` → `1234`, `007` → `7`, `+3.50` → `3.5`, `.5` → `0.5`,
//! `-0.0` → `0`. Digits are kept as strings, so any length is exact (no
//! floating point). The key is the canonical form.
//!
//! Anything else is an `invalid_number` with no value: letters (`12a`,
//! `1e3`), currency and unit signs, a decimal comma or a misplaced group
//! separator (`1,5` could be one and a half or fifteen; it is not guessed).
//! An identifier whose leading zeros matter (`007`) is a `code`, not a
//! number.

use super::IssueKind;
use super::{text, Normalized};

pub fn normalize(raw: &str) -> Normalized {
    let folded = text::fold(raw);
    if folded.is_empty() {
        return Normalized::empty();
    }
    match canonical(&folded) {
        Some(v) => Normalized::same_key(v),
        None => Normalized::invalid(
            IssueKind::InvalidNumber,
            format!("`{folded}` is not a number"),
        ),
    }
}

/// The canonical decimal of a folded number, if it is one.
pub fn canonical(s: &str) -> Option<String> {
    let (negative, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let rest = rest.trim_start();
    let (int, frac) = match rest.split_once('.') {
        Some((i, f)) => (i, f),
        None => (rest, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let int = ungroup(int)?;
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let mut out = String::with_capacity(int.len() + frac.len() + 3);
    if negative && !(int.is_empty() && frac.is_empty()) {
        out.push('-');
    }
    out.push_str(if int.is_empty() { "0" } else { int });
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    Some(out)
}

/// The digits of an integer part, thousands separators checked and removed.
fn ungroup(int: &str) -> Option<String> {
    let sep = int.chars().find(|c| !c.is_ascii_digit());
    let Some(sep) = sep else {
        return Some(int.to_string());
    };
    if !matches!(sep, ',' | '_' | '\'' | ' ') {
        return None;
    }
    let groups: Vec<&str> = int.split(sep).collect();
    let first_ok = (1..=3).contains(&groups[0].len());
    let rest_ok = groups[1..].iter().all(|g| g.len() == 3);
    let digits_only = groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()));
    (first_ok && rest_ok && digits_only).then(|| groups.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Option<String> {
        normalize(s).value
    }

    #[test]
    fn canonical_decimals() {
        assert_eq!(v("1,234").as_deref(), Some("1234"));
        assert_eq!(v("007").as_deref(), Some("7"));
        assert_eq!(v("+3.50").as_deref(), Some("3.5"));
        assert_eq!(v(".5").as_deref(), Some("0.5"));
        assert_eq!(v("-0.0").as_deref(), Some("0"));
        assert_eq!(v("１２３").as_deref(), Some("123"));
        assert_eq!(v("1 234 567").as_deref(), Some("1234567"));
        assert_eq!(
            v("123456789012345678901234567890").as_deref(),
            Some("123456789012345678901234567890")
        );
    }

    #[test]
    fn not_numbers() {
        for s in [
            "12a",
            "1e3",
            "1,5",
            "1,23,456",
            "1,234_567",
            "$5",
            "-",
            ".",
            "1.2.3",
            "--1",
        ] {
            assert_eq!(
                normalize(s).issues[0].kind.as_str(),
                "invalid_number",
                "{s}"
            );
            assert_eq!(v(s), None, "{s}");
        }
    }
}

//! Corporate numbers (法人番号): 13 digits whose first digit is a check digit
//! over the other twelve (国税庁's formula). Invoice registration numbers
//! (`T` + the corporate number) are accepted; the `T` is recorded in the
//! `invoice` part and the display value is the bare 13 digits. A Japanese
//! label in front (`法人番号：`) is ignored.

use super::IssueKind;
use super::{text, Normalized};

/// The check digit for the 12 base digits (most significant first).
pub fn check_digit(base: &[u32]) -> u32 {
    // P_n is the n-th digit counted from the least significant end; Q_n is 1
    // for odd n and 2 for even n. Check = 9 − (Σ P_n·Q_n mod 9).
    let sum: u32 = base
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| d * if i % 2 == 0 { 1 } else { 2 })
        .sum();
    9 - sum % 9
}

pub fn normalize(raw: &str) -> Normalized {
    let folded = text::fold(raw);
    if folded.is_empty() {
        return Normalized::empty();
    }
    // A label in front (`法人番号：`, `登録番号 `) is not part of the number;
    // only non-ASCII text is taken for one, so `X7000…` stays invalid.
    let folded = folded
        .trim_start_matches(|c: char| !c.is_ascii() || c == ':' || c == ' ')
        .to_string();
    let (invoice, body) = match folded.strip_prefix(['T', 't']) {
        Some(rest) => (true, rest),
        None => (false, folded.as_str()),
    };
    let digits: String = body.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
    if digits.len() != 13 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Normalized::invalid(
            IssueKind::InvalidCorporateNumber,
            format!("`{folded}` is not 13 digits"),
        );
    }
    let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    if d[0] != check_digit(&d[1..]) {
        return Normalized::invalid(
            IssueKind::CorporateNumberCheckDigit,
            format!(
                "`{digits}`: check digit {} does not match (expected {})",
                d[0],
                check_digit(&d[1..])
            ),
        );
    }
    let mut n = Normalized::same_key(digits);
    if invoice {
        n.push_part("invoice", "T");
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digit_verified() {
        assert_eq!(
            normalize("７００００１２０５０００２").value.as_deref(),
            Some("7000012050002")
        );
        assert_eq!(
            normalize("T7000012050002").value.as_deref(),
            Some("7000012050002")
        );
        assert_eq!(
            normalize("8000012050002").issues[0].kind.as_str(),
            "corporate_number_check_digit"
        );
        assert_eq!(
            normalize("700001205000").issues[0].kind.as_str(),
            "invalid_corporate_number"
        );
    }
}

//! Postal code normalizer (placeholder: format only; validation against the
//! Japan Post master replaces this).

use super::{text, Normalized};

pub fn normalize(raw: &str) -> Normalized {
    let v = text::fold(raw);
    let digits: String = v.chars().filter(|c| c.is_ascii_digit()).collect();
    if v.is_empty() {
        return Normalized::empty();
    }
    if digits.len() != 7 {
        return Normalized::invalid(
            "invalid_postal_code",
            format!("`{v}` is not a 7-digit postal code"),
        );
    }
    Normalized::same_key(format!("{}-{}", &digits[..3], &digits[3..]))
}

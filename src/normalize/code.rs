//! Codes (`code`): identifiers such as a social-security number, a customer
//! or member code, a postcode outside Japan, a state abbreviation.
//!
//! The display value is the folded text (`text::fold`: trimmed, width
//! folded, spaces collapsed), so `ＡＢ－１２３` shows as `AB-123`; nothing
//! else changes, leading zeros included (`007` is not `7`: use `number` for
//! quantities). The match key drops the separators people type into codes
//! at will — spaces, hyphens (every dash `fold` knows, so also `ー`) and
//! dots — and upper-cases the rest: `ab-123`, `AB 123` and `AB.123` all key
//! `AB123`. A value made only of those separators (`-`, `...`) has no code in
//! it: `invalid_code`, no value.

use super::IssueKind;
use super::{text, Normalized};

pub fn normalize(raw: &str) -> Normalized {
    let folded = text::fold(raw);
    if folded.is_empty() {
        return Normalized::empty();
    }
    let key: String = folded
        .chars()
        .filter(|&c| !matches!(c, ' ' | '-' | 'ー' | '.'))
        .flat_map(char::to_uppercase)
        .collect();
    if key.is_empty() {
        return Normalized::invalid(
            IssueKind::InvalidCode,
            format!("`{folded}` has no code in it"),
        );
    }
    Normalized {
        value: Some(folded),
        key: Some(key),
        ..Normalized::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_leave_the_key() {
        let n = normalize(" ａｂ－１２３ ");
        assert_eq!(n.value.as_deref(), Some("ab-123"));
        assert_eq!(n.key.as_deref(), Some("AB123"));
        assert_eq!(normalize("AB 1.23").key, n.key);
        assert_eq!(normalize("007").key.as_deref(), Some("007"));
        assert_eq!(normalize("- -").issues[0].kind.as_str(), "invalid_code");
    }
}

//! What a record on the wire may hold: ids, sources and values, each with a
//! length limit and the characters it may use. One definition for both
//! sides of the contract: the service validates with these patterns and
//! the OpenAPI document states the very same strings, so what the document
//! calls valid is accepted and what it calls invalid is refused.
//!
//! The patterns use only character classes with `\xNN` / `\uNNNN` escapes
//! and `^…$` anchors, which read the same in Rust's `regex`, ECMA-262 (what
//! OpenAPI tools assume) and Python's `re`; lengths count characters
//! (Unicode scalar values), as JSON Schema's `maxLength` does.

use super::ServiceError;
use regex::Regex;
use std::sync::LazyLock;

/// The space characters an id or a value may not start or end with (or,
/// for a value, consist of only), besides the control characters.
macro_rules! spaces {
    () => {
        r"\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF"
    };
}

/// Control characters (C0, DEL, C1) and the space.
macro_rules! controls {
    () => {
        r"\x00-\x20\x7F-\x9F"
    };
}

/// The longest record id, in characters.
pub const MAX_ID_CHARS: usize = 128;
/// A record id: no `/` (ids go in URLs), no control characters, no space at
/// either end.
pub const ID_PATTERN: &str = concat!(
    r"^[^/",
    controls!(),
    spaces!(),
    r"](?:[^/\x00-\x1F\x7F-\x9F]*[^/",
    controls!(),
    spaces!(),
    r"])?$"
);

/// The longest source name (`crm`, `web-form`, …), in characters.
pub const MAX_SOURCE_CHARS: usize = 64;
/// A source: no control characters, no space at either end.
pub const SOURCE_PATTERN: &str = concat!(
    r"^[^",
    controls!(),
    spaces!(),
    r"](?:[^\x00-\x1F\x7F-\x9F]*[^",
    controls!(),
    spaces!(),
    r"])?$"
);

/// The longest field value, in characters.
pub const MAX_VALUE_CHARS: usize = 1000;
/// A field value holds at least one character that is neither a control
/// character nor a space (a blank value is left out, not sent).
pub const VALUE_PATTERN: &str = concat!(r"[^", controls!(), spaces!(), r"]");

/// The longest free text a steward writes (a reason, an assignee's name).
pub const MAX_TEXT_CHARS: usize = 1000;
/// The longest name (a token's holder, an assignee).
pub const MAX_NAME_CHARS: usize = 100;

fn compiled(pattern: &'static str) -> Regex {
    Regex::new(pattern).expect("the wire patterns are valid")
}

static ID: LazyLock<Regex> = LazyLock::new(|| compiled(ID_PATTERN));
static SOURCE: LazyLock<Regex> = LazyLock::new(|| compiled(SOURCE_PATTERN));
static VALUE: LazyLock<Regex> = LazyLock::new(|| compiled(VALUE_PATTERN));

/// A value as a message may show it: at most 40 characters, escaped.
pub fn shown(value: &str) -> String {
    let mut out: String = value.chars().take(40).collect::<String>();
    if value.chars().nth(40).is_some() {
        out.push('…');
    }
    out.escape_debug().to_string()
}

/// Refuse an id that breaks [`ID_PATTERN`] or [`MAX_ID_CHARS`].
pub fn check_id(id: &str) -> Result<(), ServiceError> {
    let n = id.chars().count();
    if n == 0 || n > MAX_ID_CHARS || !ID.is_match(id) {
        return Err(ServiceError::InvalidRecord(format!(
            "record id `{}`: 1–{MAX_ID_CHARS} characters, no `/`, no control characters, no space at either end",
            shown(id)
        )));
    }
    Ok(())
}

/// Refuse a source that breaks [`SOURCE_PATTERN`] or [`MAX_SOURCE_CHARS`].
pub fn check_source(source: &str) -> Result<(), ServiceError> {
    let n = source.chars().count();
    if n == 0 || n > MAX_SOURCE_CHARS || !SOURCE.is_match(source) {
        return Err(ServiceError::InvalidRecord(format!(
            "source `{}`: 1–{MAX_SOURCE_CHARS} characters, no control characters, no space at either end",
            shown(source)
        )));
    }
    Ok(())
}

/// Whether a value holds nothing but spaces and control characters (a
/// blank cell of an imported file is an absent value).
pub fn is_blank(value: &str) -> bool {
    !VALUE.is_match(value)
}

/// Refuse a field value that is blank or over [`MAX_VALUE_CHARS`].
pub fn check_value(field: &str, value: &str) -> Result<(), ServiceError> {
    if value.chars().count() > MAX_VALUE_CHARS {
        return Err(ServiceError::InvalidRecord(format!(
            "{field}: the value is over {MAX_VALUE_CHARS} characters"
        )));
    }
    if !VALUE.is_match(value) {
        return Err(ServiceError::InvalidRecord(format!(
            "{field}: the value is blank (leave the field out instead)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        for ok in ["R0000001", "a", "CRM-2", "顧客 12", "x", &"a".repeat(128)] {
            assert!(check_id(ok).is_ok(), "{ok:?}");
        }
        for bad in [
            "",
            " a",
            "a ",
            "a/b",
            "a\u{0}b",
            "a\n",
            "\u{3000}a",
            "a\u{FEFF}",
            "a\u{85}b",
            &"a".repeat(129),
        ] {
            assert!(check_id(bad).is_err(), "{bad:?}");
        }
        // A space inside is fine; a long id is not echoed whole.
        assert!(check_id("a b").is_ok());
        let e = check_id(&"x".repeat(500_000)).unwrap_err().to_string();
        assert!(e.len() < 300, "{}", e.len());
    }

    #[test]
    fn sources_and_values() {
        assert!(check_source("crm").is_ok());
        assert!(check_source("web form").is_ok());
        assert!(check_source("").is_err());
        assert!(check_source(&"s".repeat(65)).is_err());
        assert!(check_source("a\tb").is_err());
        assert!(check_value("name", "山田").is_ok());
        assert!(check_value("name", " 山田 ").is_ok());
        assert!(check_value("name", "a\nb").is_ok());
        for blank in ["", " ", "\u{3000}", "\t\n", "\u{FEFF}"] {
            assert!(check_value("name", blank).is_err(), "{blank:?}");
        }
        assert!(check_value("name", &"あ".repeat(1000)).is_ok());
        assert!(check_value("name", &"あ".repeat(1001)).is_err());
    }
}

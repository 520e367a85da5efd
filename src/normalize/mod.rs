//! Normalizers: one file per field type, each a pure function from a raw string
//! (plus its options and dictionaries) to a [`Normalized`] value.
//!
//! A normalizer never panics, does no IO and never loses the raw value: the
//! caller keeps the raw input beside the result, and anything that cannot be
//! understood becomes an [`Issue`] rather than an error. `value` is `None` only
//! when the input is empty or so broken that no canonical form exists (an
//! impossible date, a phone number with letters in it); the caller then keeps
//! the raw value in place and reports the issue.
//!
//! `value` is the canonical *display* form a data steward sees (DESIGN.md,
//! "Canonical forms"). `key` is the more aggressive *match key* that the matcher
//! and index compare (variant kanji folded, legal forms removed, small kana made
//! large, spaces removed). `parts` carries structured or derived pieces
//! (an address's prefecture/city/town/lot/building, a company's branch and
//! legal form, a phone number's E.164 form).

pub mod address;
pub mod company;
pub mod corporate_number;
pub mod date;
pub mod email;
pub mod gender;
pub mod kana;
pub mod person;
pub mod phone;
pub mod postal;
pub mod text;

use serde::Serialize;

/// A problem found in a value. `kind` is a stable, snake_case code (it shows up
/// in reports and, later, in the API); `message` says what was wrong in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub kind: &'static str,
    pub message: String,
}

impl Issue {
    pub fn new(kind: &'static str, message: impl Into<String>) -> Issue {
        Issue {
            kind,
            message: message.into(),
        }
    }
}

/// A named structured piece of a normalized value (`prefecture`, `branch`, `e164`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Part {
    pub name: &'static str,
    pub value: String,
}

/// What a normalizer returns. See the module docs for the meaning of each field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Normalized {
    pub value: Option<String>,
    pub key: Option<String>,
    pub parts: Vec<Part>,
    pub issues: Vec<Issue>,
}

impl Normalized {
    /// The result for an empty (or whitespace-only) input: no value, no issue.
    pub fn empty() -> Normalized {
        Normalized::default()
    }

    /// A value that could not be understood: no canonical form, one issue.
    pub fn invalid(kind: &'static str, message: impl Into<String>) -> Normalized {
        Normalized {
            issues: vec![Issue::new(kind, message)],
            ..Normalized::default()
        }
    }

    /// A value whose display form is also its match key.
    pub fn same_key(value: String) -> Normalized {
        Normalized {
            key: Some(value.clone()),
            value: Some(value),
            ..Normalized::default()
        }
    }

    pub fn part(&self, name: &str) -> Option<&str> {
        self.parts
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.value.as_str())
    }

    pub fn push_part(&mut self, name: &'static str, value: impl Into<String>) {
        let value = value.into();
        if !value.is_empty() {
            self.parts.push(Part { name, value });
        }
    }

    pub fn issue(&mut self, kind: &'static str, message: impl Into<String>) {
        self.issues.push(Issue::new(kind, message));
    }
}

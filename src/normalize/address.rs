//! Address normalizer (placeholder: folds text only; the full normalizer
//! against the town master replaces this).

use super::{text, Normalized};
use crate::rules::AddressOptions;

pub fn normalize(raw: &str, _opts: &AddressOptions) -> Normalized {
    let v = text::fold(raw);
    if v.is_empty() {
        return Normalized::empty();
    }
    Normalized::same_key(v)
}

pub fn normalize_with_postal(
    raw: &str,
    _postal: Option<&str>,
    opts: &AddressOptions,
) -> Normalized {
    normalize(raw, opts)
}

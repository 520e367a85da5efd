//! E-mail addresses: trimmed, width folded, a `mailto:` prefix dropped, the
//! domain lower-cased (and the local part too unless the rules say not to).
//!
//! Validation is deliberately practical, not RFC 5322: exactly one `@`, a
//! non-empty local part of the characters mail systems accept, a domain with
//! at least one dot, no empty labels and a top-level domain of two letters or
//! more. Anything else is an `invalid_email`
//! issue and no value. Common slips (a space, a comma for a dot, `＠` typed as
//! `@@`) are reported, not fixed: a wrong address must not look right.

use super::IssueKind;
use super::{text, Normalized};
use crate::rules::EmailOptions;

pub fn normalize(raw: &str, opts: &EmailOptions) -> Normalized {
    let folded = text::fold(raw);
    if folded.is_empty() {
        return Normalized::empty();
    }
    // `mailto:` in any case (`Mailto:` is what spreadsheets capitalise to).
    let s = match folded.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("mailto:") => &folded[7..],
        _ => folded.as_str(),
    }
    .trim()
    .trim_start_matches('<')
    .trim_end_matches('>');
    let invalid =
        |why: &str| Normalized::invalid(IssueKind::InvalidEmail, format!("`{folded}`: {why}"));
    if s.contains(' ') {
        return invalid("contains a space");
    }
    let Some((local, domain)) = s.split_once('@') else {
        return invalid("no @");
    };
    if domain.contains('@') {
        return invalid("more than one @");
    }
    if local.is_empty() || local.len() > 64 {
        return invalid("empty or over-long local part");
    }
    let local_ok = local
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    if !local_ok {
        return invalid("local part has characters mail systems do not accept");
    }
    if domain.contains(',') {
        return invalid("comma in the domain (a dot was meant?)");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        // No top-level domain is one letter or numeric (`example.c` is a
        // slip); punycode ones (`xn--…`) are fine.
        && labels.last().is_some_and(|tld| {
            tld.len() >= 2
                && (tld.chars().all(|c| c.is_ascii_alphabetic()) || tld.starts_with("xn--"))
        });
    if !domain_ok {
        return invalid("domain is not a valid host name");
    }
    let local = if opts.lowercase_local {
        local.to_ascii_lowercase()
    } else {
        local.to_string()
    };
    let domain = domain.to_ascii_lowercase();
    let mut n = Normalized {
        value: Some(format!("{local}@{domain}")),
        key: Some(format!("{}@{domain}", local.to_ascii_lowercase())),
        ..Normalized::default()
    };
    n.push_part("domain", domain);
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_and_lowercases() {
        let n = normalize(
            " ＩＮＦＯ＠ＥＸＡＭＰＬＥ．ＣＯ．ＪＰ ",
            &EmailOptions::default(),
        );
        assert_eq!(n.value.as_deref(), Some("info@example.co.jp"));
        let keep = EmailOptions {
            lowercase_local: false,
        };
        assert_eq!(
            normalize("Taro@Example.COM", &keep).value.as_deref(),
            Some("Taro@example.com")
        );
    }

    #[test]
    fn rejects_broken_addresses() {
        for bad in [
            "taro",
            "taro@example",
            "a@b@c.jp",
            "taro@example,co,jp",
            "ta ro@x.jp",
        ] {
            let n = normalize(bad, &EmailOptions::default());
            assert_eq!(n.value, None, "{bad}");
            assert_eq!(n.issues[0].kind.as_str(), "invalid_email", "{bad}");
        }
    }
}

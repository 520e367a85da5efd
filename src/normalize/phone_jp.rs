//! The fast path for Japanese numbers: validation and national formatting
//! straight from libphonenumber's Japan metadata (as shipped in the
//! `phonenumber` crate), with the metadata's regexes compiled once into plain
//! `regex::Regex`es.
//!
//! Why not just call `phonenumber::parse` + `format`: that crate looks every
//! pattern up through a global mutex-guarded regex cache, which costs ten
//! times more than the work itself and serialises the threads of a parallel
//! `clean`. Here a number costs a few regex matches. The rules are the metadata's, not ours:
//! a number is valid when the general descriptor and one type descriptor
//! (fixed line, mobile, toll free, …) match it entirely at a possible length,
//! and it is formatted with the first format whose last leading-digits
//! pattern matches its start and whose pattern matches it entirely — the
//! libphonenumber algorithm. Anything that is not a plain domestic (`0…`) or
//! `+81` number goes to the full `phonenumber` path. A test checks both paths
//! agree.

use phonenumber::metadata::{Descriptor, DATABASE};
use regex::Regex;
use std::sync::OnceLock;

struct Desc {
    re: Regex,
    lengths: Vec<u16>,
}

impl Desc {
    fn new(d: &Descriptor, general_lengths: &[u16]) -> Option<Desc> {
        let lengths = if d.possible_length().is_empty() {
            general_lengths.to_vec()
        } else {
            d.possible_length().to_vec()
        };
        Some(Desc {
            re: Regex::new(&format!("(?x)^(?:{})$", d.national_number().as_str())).ok()?,
            lengths,
        })
    }

    fn matches(&self, national: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&(national.len() as u16)))
            && self.re.is_match(national)
    }
}

struct Format {
    leading: Option<Regex>,
    pattern: Regex,
    template: String,
}

struct Plan {
    general: Desc,
    types: Vec<Desc>,
    formats: Vec<Format>,
}

fn plan() -> Option<&'static Plan> {
    static PLAN: OnceLock<Option<Plan>> = OnceLock::new();
    PLAN.get_or_init(build).as_ref()
}

fn build() -> Option<Plan> {
    let meta = DATABASE.by_id("JP")?;
    let d = meta.descriptors();
    let general_lengths = d.general().possible_length().to_vec();
    let general = Desc::new(d.general(), &[])?;
    let types = [
        d.fixed_line(),
        d.mobile(),
        d.toll_free(),
        d.premium_rate(),
        d.shared_cost(),
        d.personal_number(),
        d.voip(),
        d.pager(),
        d.uan(),
        d.voicemail(),
    ]
    .into_iter()
    .flatten()
    .filter_map(|x| Desc::new(x, &general_lengths))
    .collect();
    let first_group = Regex::new(r"\$(\d)").ok()?;
    let np = meta.national_prefix().unwrap_or("");
    let mut formats = Vec::new();
    for f in meta.formats() {
        let mut template = f.format().to_string();
        if let Some(rule) = f.national_prefix() {
            if let Some(first) = first_group.captures(&template).and_then(|c| c.get(0)) {
                let group = first.as_str().to_string();
                let rule = rule.replace("$NP", np).replace("$FG", &group);
                template = first_group
                    .replace(&template, regex::NoExpand(rule.as_str()))
                    .into_owned();
            }
        }
        // `$1-$2` → `${1}-${2}` so a digit after a group can never extend it.
        let template = first_group.replace_all(&template, "$${$1}").into_owned();
        formats.push(Format {
            leading: match f.leading_digits().last() {
                Some(l) => Some(Regex::new(&format!("(?x)^(?:{})", l.as_str())).ok()?),
                None => None,
            },
            pattern: Regex::new(&format!("(?x)^(?:{})$", f.pattern().as_str())).ok()?,
            template,
        });
    }
    Some(Plan {
        general,
        types,
        formats,
    })
}

/// The national significant number of a plain Japanese number (`0312345678`,
/// `+81312345678`, `81312345678` is not accepted), or `None` when the input
/// needs the full parser.
pub fn national_number(digits_and_plus: &str) -> Option<&str> {
    if let Some(rest) = digits_and_plus.strip_prefix("+81") {
        return Some(rest.strip_prefix('0').unwrap_or(rest));
    }
    let rest = digits_and_plus.strip_prefix('0')?;
    if rest.starts_with('0') {
        return None; // international prefix (00…, 010…)
    }
    Some(rest)
}

/// `Some(national format)` when `national` (the significant number, without
/// the leading 0) is a valid Japanese number; `None` when it is not, or when
/// the metadata could not be loaded.
pub fn format_valid(national: &str) -> Option<String> {
    let plan = plan()?;
    if !national.bytes().all(|b| b.is_ascii_digit()) || !plan.general.matches(national) {
        return None;
    }
    if !plan.types.iter().any(|t| t.matches(national)) {
        return None;
    }
    for f in &plan.formats {
        if f.leading.as_ref().is_none_or(|l| l.is_match(national)) && f.pattern.is_match(national) {
            return Some(
                f.pattern
                    .replace(national, f.template.as_str())
                    .into_owned(),
            );
        }
    }
    // Valid but no format: libphonenumber writes the digits as they are.
    Some(format!("0{national}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonenumber::{country, Mode};

    /// The fast path must say exactly what the `phonenumber` crate says.
    #[test]
    fn agrees_with_phonenumber_crate() {
        let numbers = [
            "0312345678",
            "0335814111",
            "0667891234",
            "0112223333",
            "0422123456",
            "0499212345",
            "0466123456",
            "0980123456",
            "09012345678",
            "08012345678",
            "07012345678",
            "05012345678",
            "0120123456",
            "0120123",
            "0800123456",
            "0570123456",
            "0990123456",
            "0312345",
            "031234567890",
            "0901234567",
            "0123456789",
            "0191234567",
            "0742123456",
            "0266123456",
            "0155123456",
            "0126123456",
            "0467123456",
            "0598123456",
            "0820123456",
            "0602123456",
            "02012345678",
            "06012345678",
        ];
        for n in numbers {
            let national = national_number(n).unwrap();
            let fast = format_valid(national);
            let slow = phonenumber::parse(Some(country::Id::JP), n)
                .ok()
                .filter(|p| p.is_valid())
                .map(|p| p.format().mode(Mode::National).to_string());
            assert_eq!(fast, slow, "{n}");
        }
    }
}

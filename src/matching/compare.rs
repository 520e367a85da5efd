//! Field comparisons: each compares two prepared values and returns a level,
//! from the strongest agreement (level 1) down to disagreement; level 0 means
//! "no evidence" (a value is missing on either side) and weighs nothing.
//!
//! All string measures count `char`s (Unicode scalar values), never bytes:
//! `strsim`'s Jaro–Winkler and the edit distances below iterate chars.

use serde::{Deserialize, Serialize};

/// How a comparison compares; each kind has a fixed list of levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Comparator {
    /// Company name match key (legal form removed): exact / close (a slip of
    /// one character) / similar (a kana spelling variant, or alike) / extended
    /// (one name is the other plus a word: `小樽商科大学附属図書館`) / distinct
    /// (a part names another organisation: `函館家庭裁判所` / `函館地方裁判所`) /
    /// different / one-sided (a company's record against one with no company
    /// name, a consumer's: [`super::level`]). See [`name_difference`].
    Company,
    /// The branch or office split off a company name: same / one side only / different.
    Branch,
    /// The legal form: same / different (missing when either has none).
    LegalForm,
    /// Katakana keys without surname/given split: exact / close / different.
    Kana,
    /// A person's name (kanji or kana), split at the space when both sides have
    /// one: exact / close / given name only (surname changed) / surname only / different.
    Person,
    /// A name written only in kana against one written only in kanji, by
    /// the kanji's readings ([`super::reading`]): the levels of [`Comparator::Person`].
    Reading,
    /// An address by parts: exact / same block / same town / same city /
    /// same prefecture (another city) / different.
    Address,
    /// `NNN-NNNN`: exact / same first three digits / two offices' own codes
    /// (事業所個別番号) / different.
    Postal,
    /// Identifiers that either agree or not (corporate number, gender, number).
    Exact,
    /// A phone number (E.164): the same mobile number (070/080/090: one
    /// person's, wherever they live) / the same other number (a landline:
    /// a household's or an office's) / different.
    Phone,
    /// E-mail: exact / same local part / different.
    Email,
    /// ISO dates: exact / day and month swapped / one digit off / different.
    Date,
    /// A generic name (any script): exact / Jaro–Winkler ≥ 0.92 / ≥ 0.80 / different.
    Name,
    /// Free text: exact / Jaro–Winkler ≥ 0.90 / ≥ 0.75 / different.
    Text,
    /// A code: exact / one edit / different.
    Code,
}

impl Comparator {
    /// [`Comparator::Company`]'s `one_sided` level: a company's name on one
    /// record, none on the other (given by [`super::level`], not by
    /// [`Comparator::compare`], which sees two values).
    pub const COMPANY_ONE_SIDED: u8 = 7;

    /// Level labels, level 1 first (level 0, "missing", is implicit).
    pub fn levels(self) -> &'static [&'static str] {
        match self {
            Comparator::Company => &[
                "exact",
                "close",
                "similar",
                "extended",
                "distinct",
                "different",
                "one_sided",
            ],
            Comparator::Branch => &["same", "one_sided", "different"],
            Comparator::LegalForm => &["same", "different"],
            Comparator::Kana => &["exact", "close", "different"],
            Comparator::Person | Comparator::Reading => {
                &["exact", "close", "given_only", "surname_only", "different"]
            }
            Comparator::Address => &[
                "exact",
                "same_block",
                "same_town",
                "same_city",
                "same_prefecture",
                "different",
            ],
            Comparator::Postal => &["exact", "same_area", "other_office", "different"],
            Comparator::Exact => &["exact", "different"],
            Comparator::Phone => &["mobile", "exact", "different"],
            Comparator::Email => &["exact", "same_local", "different"],
            Comparator::Date => &["exact", "swapped", "one_off", "different"],
            Comparator::Name => &["exact", "close", "similar", "different"],
            Comparator::Text => &["exact", "close", "similar", "different"],
            Comparator::Code => &["exact", "close", "different"],
        }
    }

    /// The label of a level as the model, the pairs file, the report and the
    /// API name it: `missing` for level 0, else [`Comparator::levels`]'s.
    /// Levels come from [`Comparator::compare`], so they are in range; a
    /// model is checked against the plan when it is loaded
    /// ([`super::model::Model::check_fits`]), never during a request.
    pub fn level_label(self, level: u8) -> &'static str {
        match level {
            0 => "missing",
            l => {
                let labels = self.levels();
                debug_assert!((l as usize) <= labels.len(), "{self:?} has no level {l}");
                labels.get(l as usize - 1).copied().unwrap_or("unknown")
            }
        }
    }

    /// Whether a level says the two values name *different things* rather
    /// than one thing written differently: another organisation's name
    /// (`extended`, `distinct`), a company against a consumer (`one_sided`),
    /// two offices' own postal codes, another branch. Such a level is
    /// evidence against a match on its own, outside its evidence group
    /// ([`super::model::ComparisonModel::weight`]).
    pub fn is_against(self, level: u8) -> bool {
        matches!(
            (self, level),
            (Comparator::Company, 4..=5 | Self::COMPANY_ONE_SIDED)
                | (Comparator::Postal, 3)
                | (Comparator::Branch, 3)
        )
    }

    /// Whether a level is evidence of its own, outside the comparison's
    /// evidence group: a level against ([`Self::is_against`]), and one
    /// person's mobile number agreeing — a move changes the address, the
    /// postal code and the landline together, never the mobile, and a
    /// household shares a landline, rarely a mobile.
    pub fn stands_alone(self, level: u8) -> bool {
        self.is_against(level) || (self == Comparator::Phone && level == 1)
    }

    /// Whether a level says the two records share a place: an address in
    /// one town, one postal code, one phone. `None` when the comparison
    /// says nothing of a place, or has no value on a side (level 0)
    /// ([`super::model::settle_branch`]).
    pub fn same_place(self, level: u8) -> Option<bool> {
        match (self, level) {
            (_, 0) => None,
            (Comparator::Address, l) => Some(l <= 3),
            (Comparator::Postal, l) => Some(l == 1),
            (Comparator::Phone, l) => Some(l <= 2),
            _ => None,
        }
    }

    /// Whether the comparison compares a person's names, by the levels of
    /// [`Comparator::Person`] ([`super::model::settle_person`]).
    pub fn is_person_name(self) -> bool {
        matches!(self, Comparator::Person | Comparator::Reading)
    }

    /// The levels that say the two values are the same value (the seeding
    /// rule counts them, [`super::model::train`]): level 1, and for a phone
    /// both the mobile and the other number.
    pub fn exact_levels(self) -> &'static [u8] {
        match self {
            Comparator::Phone => &[1, 2],
            _ => &[1],
        }
    }

    /// The level whose weight is adjusted by term frequency, and which part of
    /// the value the frequency is counted on (see [`Value::tf_key`]).
    pub fn tf_levels(self) -> &'static [u8] {
        match self {
            Comparator::Company | Comparator::Person | Comparator::Name | Comparator::Exact => &[1],
            // a shared landline (an office's, a household's) is common
            Comparator::Phone => &[1, 2],
            // exact address (a block of flats shares one), same town
            Comparator::Address => &[1, 3],
            _ => &[],
        }
    }

    /// The levels whose weight is adjusted by term frequency: those counted
    /// ([`Self::tf_levels`]), and a reading's exact level, adjusted by how
    /// common the name is in the record's own kana or kanji comparison
    /// ([`super::tf_sources`]).
    pub fn tf_adjusted(self) -> &'static [u8] {
        match self {
            Comparator::Reading => &[1],
            _ => self.tf_levels(),
        }
    }

    /// Compare two values (both present). Returns a level ≥ 1.
    pub fn compare(self, a: &Value, b: &Value) -> u8 {
        match self {
            Comparator::Company => {
                if a.key == b.key {
                    return 1;
                }
                // `ダイクレ` + branch `本社` is `ダイクレ本社` written apart.
                let (ba, bb) = (a.part(0), b.part(0));
                if (!ba.is_empty() || !bb.is_empty())
                    && a.key
                        .bytes()
                        .chain(ba.bytes())
                        .eq(b.key.bytes().chain(bb.bytes()))
                {
                    return 1;
                }
                match name_difference(&a.key, &b.key) {
                    NameDifference::Slip => 2,
                    NameDifference::Variant => 3,
                    NameDifference::Extended => 4,
                    NameDifference::Distinct => 5,
                    NameDifference::Unrelated => {
                        if close(&a.key, &b.key, 0.92) {
                            2
                        } else if jaro_winkler(&a.key, &b.key) >= 0.80 {
                            3
                        } else {
                            6
                        }
                    }
                }
            }
            Comparator::Branch | Comparator::LegalForm => {
                if a.key == b.key {
                    1
                } else if self == Comparator::Branch && (a.key.is_empty() || b.key.is_empty()) {
                    2
                } else {
                    self.levels().len() as u8
                }
            }
            Comparator::Kana => {
                if a.key == b.key {
                    1
                } else if close(&a.key, &b.key, 0.90) {
                    2
                } else {
                    3
                }
            }
            Comparator::Person => compare_person(a, b),
            Comparator::Reading if super::reading::is_derived(a) => super::reading::compare(b, a),
            Comparator::Reading => super::reading::compare(a, b),
            Comparator::Address => compare_address(a, b),
            Comparator::Postal => {
                if a.key == b.key {
                    1
                } else if a.part(0) == OFFICE_CODE && b.part(0) == OFFICE_CODE {
                    // Two offices' own codes: two establishments, even in
                    // one building (one code is one office's mail).
                    3
                } else if a.key.get(..3).is_some() && a.key.get(..3) == b.key.get(..3) {
                    2
                } else {
                    4
                }
            }
            Comparator::Exact => {
                if a.key == b.key {
                    1
                } else {
                    2
                }
            }
            Comparator::Phone => match a.key == b.key {
                true if is_mobile(&a.key) => 1,
                true => 2,
                false => 3,
            },
            Comparator::Email => {
                if a.key == b.key {
                    1
                } else if local_part(&a.key) == local_part(&b.key)
                    && !is_generic_local(local_part(&a.key))
                {
                    2
                } else {
                    3
                }
            }
            Comparator::Date => compare_date(&a.key, &b.key),
            Comparator::Name => {
                if a.key == b.key {
                    1
                } else {
                    let jw = jaro_winkler(&a.key, &b.key);
                    if jw >= 0.92 {
                        2
                    } else if jw >= 0.80 {
                        3
                    } else {
                        4
                    }
                }
            }
            Comparator::Text => {
                if a.key == b.key {
                    1
                } else {
                    let jw = jaro_winkler(&a.key, &b.key);
                    if jw >= 0.90 {
                        2
                    } else if jw >= 0.75 {
                        3
                    } else {
                        4
                    }
                }
            }
            Comparator::Code => {
                if a.key == b.key {
                    1
                } else if osa_at_most_one(&a.key, &b.key) {
                    2
                } else {
                    3
                }
            }
        }
    }
}

/// The part a postal [`Value`] carries when its code is one office's own
/// code (事業所個別番号), which [`crate::master::Master::is_office_code`] knows.
pub const OFFICE_CODE: &str = "office";

/// How two different company name keys differ, once their common beginning
/// and end are set aside (`函館|家庭|裁判所` / `函館|地方|裁判所`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameDifference {
    /// One character wrong, missing, extra or swapped: a typing slip.
    Slip,
    /// Short kana spellings of one sound (`ヴァ`/`バ`, `ティ`/`チ`).
    Variant,
    /// One name is the other plus a word (a faculty, a library, a trade
    /// word): another organisation, or a part of one.
    Extended,
    /// Each has its own word where the other differs (`家庭`/`地方`,
    /// `教育`/`地方福祉`, `1`/`2`): another organisation.
    Distinct,
    /// Less than two characters in common: the measures of similarity decide.
    Unrelated,
}

fn name_difference(a: &str, b: &str) -> NameDifference {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    if prefix + suffix < 2 {
        return NameDifference::Unrelated;
    }
    let (ma, mb) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let digit = |m: &[char]| m.iter().any(|c| c.is_ascii_digit());
    if digit(ma) || digit(mb) {
        // 第1工場 / 第2工場: a number is never a slip worth merging on.
        return if ma.is_empty() || mb.is_empty() {
            NameDifference::Extended
        } else {
            NameDifference::Distinct
        };
    }
    let slip = match (ma.len(), mb.len()) {
        (1, 1) | (1, 0) | (0, 1) => true,
        (2, 2) => ma[0] == mb[1] && ma[1] == mb[0],
        _ => false,
    };
    if slip {
        return NameDifference::Slip;
    }
    let kana = |m: &[char]| m.iter().all(|&c| ('\u{30A0}'..='\u{30FF}').contains(&c));
    if kana(ma) && kana(mb) && ma.len().max(mb.len()) <= 2 {
        return NameDifference::Variant;
    }
    if ma.is_empty() || mb.is_empty() {
        NameDifference::Extended
    } else {
        NameDifference::Distinct
    }
}

/// An e-mail address's local part (all of it when there is no `@`).
fn local_part(email: &str) -> &str {
    email.split('@').next().unwrap_or(email)
}

/// Local parts that name a role or a shared mailbox (`rules/generic_email_local.txt`).
const GENERIC_EMAIL_LOCAL: &str = include_str!("../../rules/generic_email_local.txt");

/// Whether an e-mail local part is a role or shared mailbox (`info`,
/// `sales.tokyo`, `support2`): the same one at two domains says nothing
/// about one customer. Its first word, split at `.` `_` `-` `+` and digits.
fn is_generic_local(local: &str) -> bool {
    static WORDS: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    let words = WORDS.get_or_init(|| {
        GENERIC_EMAIL_LOCAL
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect()
    });
    let lower = local.to_lowercase();
    let first = lower
        .split(|c: char| matches!(c, '.' | '_' | '-' | '+') || c.is_ascii_digit())
        .find(|w| !w.is_empty())
        .unwrap_or("");
    words.contains(lower.as_str()) || words.contains(first)
}

/// A prepared value: the match key plus the pieces some comparators need.
///
/// - `Person`: `parts` = [surname key, given name key] when the name was
///   written with a space, else empty.
/// - `Address`: `parts` = [city key (prefecture + city), town key without 丁目,
///   丁目, first lot number] (each may be empty when the address did not parse).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Value {
    pub key: Box<str>,
    pub parts: Box<[Box<str>]>,
}

impl Value {
    pub fn new(key: impl Into<Box<str>>) -> Value {
        Value {
            key: key.into(),
            parts: Box::new([]),
        }
    }

    pub fn with_parts(key: impl Into<Box<str>>, parts: Vec<Box<str>>) -> Value {
        Value {
            key: key.into(),
            parts: parts.into_boxed_slice(),
        }
    }

    fn part(&self, i: usize) -> &str {
        self.parts.get(i).map(|p| &**p).unwrap_or("")
    }

    /// What the term frequency of `level` is counted on: the whole key, or for
    /// an address's same-town level, city + town.
    pub fn tf_key(&self, comparator: Comparator, level: u8) -> std::borrow::Cow<'_, str> {
        if comparator == Comparator::Address && level == 3 {
            format!("{}\u{1f}{}", self.part(0), self.part(1)).into()
        } else {
            (&*self.key).into()
        }
    }
}

pub(crate) fn compare_person(a: &Value, b: &Value) -> u8 {
    if a.key == b.key {
        return 1;
    }
    const CLOSE: u8 = 2;
    const SURNAME_ONLY: u8 = 4;
    let split = a.parts.len() == 2 && b.parts.len() == 2;
    if split {
        let (sa, ga, sb, gb) = (a.part(0), a.part(1), b.part(0), b.part(1));
        let same_surname = sa == sb;
        let same_given = ga == gb;
        if same_surname && close(ga, gb, 0.90) {
            // 昌子 / 花子: one kanji apart, and read apart.
            return if super::reading::read_apart(ga, gb) {
                SURNAME_ONLY
            } else {
                CLOSE
            };
        }
        if same_given && close(sa, sb, 0.90) {
            return CLOSE;
        }
        if same_given {
            return 3;
        }
        if same_surname {
            return SURNAME_ONLY;
        }
        return 5;
    }
    if !close(&a.key, &b.key, 0.92) {
        return 5;
    }
    // One name written apart, the other not (`小池 優子` / `小池浩子`): the
    // other cut after the same surname; neither: after the longest surname
    // the table knows that both begin with.
    fn given<'v>(whole: &'v Value, apart: &'v Value) -> Option<(&'v str, &'v str)> {
        let g = whole.key.strip_prefix(apart.part(0))?;
        (!g.is_empty()).then(|| (g, apart.part(1)))
    }
    let cut = if b.parts.len() == 2 {
        given(a, b)
    } else if a.parts.len() == 2 {
        given(b, a)
    } else {
        super::reading::cut_after_common_surname(&a.key, &b.key)
    };
    match cut {
        Some((ga, gb)) if super::reading::read_apart(ga, gb) => SURNAME_ONLY,
        _ => CLOSE,
    }
}

fn compare_address(a: &Value, b: &Value) -> u8 {
    if a.key == b.key {
        return 1;
    }
    // Another city: a move within the prefecture is commoner than one
    // across the country, and commoner than a namesake there.
    let elsewhere = || {
        let (pa, pb) = (a.part(4), b.part(4));
        if !pa.is_empty() && pa == pb {
            5
        } else {
            6
        }
    };
    let parsed = |v: &Value| !v.part(0).is_empty() && !v.part(1).is_empty();
    if parsed(a) && parsed(b) {
        if a.part(0) != b.part(0) {
            return elsewhere();
        }
        if a.part(1) != b.part(1) {
            return 4;
        }
        if a.part(2) == b.part(2) && !a.part(3).is_empty() && a.part(3) == b.part(3) {
            return 2;
        }
        return 3;
    }
    // One side did not parse: fall back on the keys.
    let jw = jaro_winkler(&a.key, &b.key);
    if jw >= 0.95 {
        2
    } else if jw >= 0.85 {
        4
    } else {
        elsewhere()
    }
}

/// `YYYY-MM-DD` keys (other text compares as exact / different).
fn compare_date(a: &str, b: &str) -> u8 {
    if a == b {
        return 1;
    }
    if let (Some((ya, ma, da)), Some((yb, mb, db))) = (ymd(a), ymd(b)) {
        if ya == yb && ma == db && da == mb {
            return 2;
        }
    }
    if a.chars().count() == b.chars().count()
        && a.chars().zip(b.chars()).filter(|(x, y)| x != y).count() == 1
    {
        return 3;
    }
    4
}

fn ymd(s: &str) -> Option<(&str, &str, &str)> {
    let mut it = s.splitn(3, '-');
    Some((it.next()?, it.next()?, it.next()?))
}

pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    strsim::jaro_winkler(a, b)
}

/// Close: one edit (substitution, insertion, deletion or adjacent
/// transposition) apart, or Jaro–Winkler at least `jw`. Short CJK names lose
/// much Jaro–Winkler for one wrong character, so the edit test comes first.
fn close(a: &str, b: &str, jw: f64) -> bool {
    let shortest = a.chars().count().min(b.chars().count());
    (shortest >= 2 && osa_at_most_one(a, b)) || jaro_winkler(a, b) >= jw
}

/// Optimal string alignment distance ≤ 1, on chars, without a matrix.
pub fn osa_at_most_one(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (la, lb) = (a.len(), b.len());
    if la.abs_diff(lb) > 1 {
        return false;
    }
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if prefix == la && prefix == lb {
        return true;
    }
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ra, rb) = (la - prefix - suffix, lb - prefix - suffix);
    match (ra, rb) {
        (1, 1) | (1, 0) | (0, 1) => true,
        (2, 2) => a[prefix] == b[prefix + 1] && a[prefix + 1] == b[prefix],
        _ => false,
    }
}

/// A Japanese mobile number in E.164 (`+8170…`, `+8180…`, `+8190…`, ten
/// digits after the country code): 携帯電話 and PHS numbers, each one
/// person's.
pub fn is_mobile(e164: &str) -> bool {
    e164.strip_prefix("+81").is_some_and(|n| {
        n.len() == 10
            && matches!(n.as_bytes()[..2], [b'7' | b'8' | b'9', b'0'])
            && n.bytes().all(|b| b.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Value {
        Value::new(s)
    }

    fn person(s: &str, g: &str) -> Value {
        Value::with_parts(format!("{s}{g}"), vec![s.into(), g.into()])
    }

    #[test]
    fn edit_distance_counts_chars() {
        assert!(osa_at_most_one("髙橋", "高橋"));
        assert!(osa_at_most_one("さとう", "さおとう"));
        assert!(osa_at_most_one("abcd", "abdc"));
        assert!(!osa_at_most_one("abcd", "badc"));
        assert!(!osa_at_most_one("佐藤", "加藤一"));
        // Multi-byte characters are one edit, not three.
        assert!(osa_at_most_one("東京都", "東京府"));
    }

    #[test]
    fn a_shared_mobile_is_a_level_of_its_own_and_stands_alone() {
        let c = Comparator::Phone;
        assert_eq!(c.compare(&v("+819012345678"), &v("+819012345678")), 1);
        assert_eq!(c.compare(&v("+81312345678"), &v("+81312345678")), 2);
        assert_eq!(c.compare(&v("+819012345678"), &v("+819012345679")), 3);
        for mobile in ["+817012345678", "+818012345678", "+819012345678"] {
            assert!(is_mobile(mobile), "{mobile}");
        }
        // A landline, a free dial, an IP phone, a short number, abroad.
        for other in [
            "+81312345678",
            "+81120123456",
            "+815012345678",
            "+81901234567",
            "+14155550100",
            "+819012345678x",
        ] {
            assert!(!is_mobile(other), "{other}");
        }
        assert!(c.stands_alone(1) && !c.stands_alone(2) && !c.stands_alone(3));
        assert_eq!(c.exact_levels(), &[1, 2]);
        assert_eq!(c.level_label(1), "mobile");
    }

    #[test]
    fn person_levels() {
        let c = Comparator::Person;
        assert_eq!(
            c.compare(&person("佐藤", "太郎"), &person("佐藤", "太郎")),
            1
        );
        assert_eq!(
            c.compare(&person("佐藤", "太郎"), &person("佐藤", "太朗")),
            2
        );
        assert_eq!(
            c.compare(&person("佐藤", "花子"), &person("鈴木", "花子")),
            3
        );
        assert_eq!(
            c.compare(&person("佐藤", "花子"), &person("佐藤", "一郎")),
            4
        );
        assert_eq!(
            c.compare(&person("佐藤", "花子"), &person("山田", "一郎")),
            5
        );
        assert_eq!(c.compare(&v("佐藤花子"), &v("佐藤花子")), 1);
        assert_eq!(c.compare(&v("佐藤花子"), &v("佐籐花子")), 2);
    }

    /// Given names one kanji apart are one name slipped when they share a
    /// reading, two people (a household's) when the readings differ.
    #[test]
    fn given_names_one_kanji_apart_and_read_apart_are_two_people() {
        let c = Comparator::Person;
        let level = |a: &Value, b: &Value| (c.compare(a, b), c.compare(b, a));
        // マサコ… / ハナコ; ショウタ / リョウタ.
        assert_eq!(
            level(&person("西田", "昌子"), &person("西田", "花子")),
            (4, 4)
        );
        assert_eq!(level(&person("森", "翔太"), &person("森", "亮太")), (4, 4));
        // A slip of the input method keeps the reading: ユウコ.
        assert_eq!(
            level(&person("原田", "裕子"), &person("原田", "祐子")),
            (2, 2)
        );
        // A name the table does not know says nothing.
        assert_eq!(
            level(&person("佐藤", "陽菜"), &person("佐藤", "陽太")),
            (2, 2)
        );
        // Swapped, not replaced; and kana is not read.
        assert_eq!(level(&person("林", "香美"), &person("林", "美香")), (2, 2));
        assert_eq!(
            level(&person("ナカヤマ", "ナオコ"), &person("ナカヤマ", "ナオト")),
            (2, 2)
        );
        // One written apart, the other not: cut after the same surname.
        assert_eq!(level(&v("小池浩子"), &person("小池", "優子")), (4, 4));
        assert_eq!(level(&v("小池裕子"), &person("小池", "浩子")), (2, 2));
        // Neither: cut after the longest surname the table knows.
        assert_eq!(level(&v("小池浩子"), &v("小池優子")), (4, 4));
        assert_eq!(level(&v("佐藤浩子"), &v("佐藤浩美")), (4, 4));
        assert_eq!(level(&v("小池浩子"), &v("小池裕子")), (2, 2));
    }

    #[test]
    fn address_levels() {
        let a = |key: &str, town: &str, chome: &str, lot: &str| {
            Value::with_parts(
                key,
                vec![
                    "東京都千代田区".into(),
                    town.into(),
                    chome.into(),
                    lot.into(),
                ],
            )
        };
        let c = Comparator::Address;
        let x = a("k1", "霞が関", "一丁目", "2");
        assert_eq!(c.compare(&x, &a("k1", "霞が関", "一丁目", "2")), 1);
        assert_eq!(c.compare(&x, &a("k2", "霞が関", "一丁目", "2")), 2);
        assert_eq!(c.compare(&x, &a("k3", "霞が関", "二丁目", "2")), 3);
        assert_eq!(c.compare(&x, &a("k4", "永田町", "一丁目", "2")), 4);
        let other_city = Value::with_parts("k5", vec!["東京都港区".into(), "霞が関".into()]);
        assert_eq!(
            c.compare(&x, &other_city),
            6,
            "no prefecture part: not known to be one"
        );
        let at = |city: &str, pref: &str| {
            Value::with_parts(
                city,
                vec![
                    city.into(),
                    "本町".into(),
                    "".into(),
                    "1".into(),
                    pref.into(),
                ],
            )
        };
        let tokyo = at("東京都港区", "東京都");
        assert_eq!(c.compare(&tokyo, &at("東京都八王子市", "東京都")), 5);
        assert_eq!(c.compare(&tokyo, &at("大阪府大阪市北区", "大阪府")), 6);
    }

    #[test]
    fn dates() {
        assert_eq!(compare_date("1980-04-01", "1980-04-01"), 1);
        assert_eq!(compare_date("1980-04-01", "1980-01-04"), 2);
        assert_eq!(compare_date("1980-04-01", "1981-04-01"), 3);
        assert_eq!(compare_date("1980-04-01", "1975-11-30"), 4);
    }

    #[test]
    fn branches_and_legal_forms() {
        let b = Comparator::Branch;
        assert_eq!(b.compare(&v("札幌支社"), &v("札幌支社")), 1);
        assert_eq!(b.compare(&v("札幌支社"), &v("")), 2);
        assert_eq!(b.compare(&v("札幌支社"), &v("本社")), 3);
        let l = Comparator::LegalForm;
        assert_eq!(l.compare(&v("株式会社"), &v("有限会社")), 2);
    }

    #[test]
    fn a_shared_mailbox_is_no_evidence() {
        let e = Comparator::Email;
        assert_eq!(e.compare(&v("info@a.example"), &v("info@a.example")), 1);
        // The same person at two providers…
        assert_eq!(
            e.compare(&v("tanaka.h@a.example"), &v("tanaka.h@b.example")),
            2
        );
        // …but not the same role mailbox at two companies.
        for local in ["info", "sales.tokyo", "support2", "no-reply", "総務"] {
            let (a, b) = (format!("{local}@a.example"), format!("{local}@b.example"));
            assert_eq!(e.compare(&v(&a), &v(&b)), 3, "{local}");
        }
        assert!(!is_generic_local("infodesk.tanaka"));
        assert!(!is_generic_local("hiroshi"));
    }

    #[test]
    fn company_names_that_differ_where_it_matters() {
        let c = |a: &str, b: &str| Comparator::Company.compare(&v(a), &v(b));
        let label = |a: &str, b: &str| Comparator::Company.level_label(c(a, b));
        // Another organisation at one address: a part of the name differs.
        assert_eq!(label("函館家庭裁判所", "函館地方裁判所"), "distinct");
        assert_eq!(label("上北地方福祉事務所", "上北教育事務所"), "distinct");
        assert_eq!(
            label("日本赤十字東北看護大学", "日本赤十字東北介護福祉短期大学部"),
            "distinct"
        );
        assert_eq!(label("abc第1工場", "abc第2工場"), "distinct");
        // A part of one: a word added.
        assert_eq!(label("小樽商科大学", "小樽商科大学附属図書館"), "extended");
        assert_eq!(label("abc", "abc商事"), "extended");
        // A branch split off on one side only is the same name.
        let branch = |k: &str, b: &str| Value::with_parts(k, vec![b.into()]);
        let c = Comparator::Company;
        assert_eq!(
            c.compare(&branch("ダイクレ", "本社"), &v("ダイクレ本社")),
            1
        );
        assert_eq!(c.compare(&branch("ダイクレ", "本社"), &v("ダイクレ")), 1);
        // A typing slip of one character is the same name, written badly.
        assert_eq!(label("山田商事", "山田商時"), "close");
        assert_eq!(label("サンライズ", "サンライス"), "close");
        assert_eq!(label("abcシステムズ", "abcシステズ"), "close");
        assert_eq!(label("サンライズ工業", "サランイズ工業"), "close");
        // Kana spellings of one sound.
        assert_eq!(label("ヴァイオリン工房", "バイオリン工房"), "similar");
        // Nothing in common.
        assert_eq!(label("山田商事", "鈴木物産"), "different");
    }

    #[test]
    fn two_offices_own_postal_codes() {
        let office = |k: &str| Value::with_parts(k, vec![OFFICE_CODE.into()]);
        let p = Comparator::Postal;
        let label = |a: &Value, b: &Value| p.level_label(p.compare(a, b));
        assert_eq!(label(&office("0608621"), &office("0608621")), "exact");
        assert_eq!(
            label(&office("0608621"), &office("0608613")),
            "other_office"
        );
        // An office's code and the area's: the same place, written two ways.
        assert_eq!(label(&office("0608621"), &v("0600001")), "same_area");
        assert_eq!(label(&v("0600001"), &v("1000001")), "different");
    }

    #[test]
    fn every_level_is_reachable_and_labelled() {
        for c in [Comparator::Name, Comparator::Text] {
            assert_eq!(c.compare(&v("abc"), &v("xyz")) as usize, c.levels().len());
        }
        // A company name's last level is given by `level`, for one value.
        let c = Comparator::Company;
        assert_eq!(c.level_label(c.compare(&v("abc"), &v("xyz"))), "different");
        assert_eq!(c.level_label(Comparator::COMPANY_ONE_SIDED), "one_sided");
        assert_eq!(Comparator::COMPANY_ONE_SIDED as usize, c.levels().len());
    }
}

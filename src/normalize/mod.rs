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
pub mod code;
pub mod company;
pub mod corporate_number;
pub mod date;
pub mod email;
pub mod gender;
pub mod kana;
pub mod name;
pub mod number;
pub mod person;
pub mod phone;
pub mod phone_jp;
pub mod postal;
pub mod text;
pub mod variants;

use crate::record::FieldType;
use crate::rules::{FieldRule, Options, Replacement, Rules};
use rustc_hash::FxHashMap;
use serde::Serialize;
use variants::VariantTable;

crate::stable_names! {
    /// Every kind of issue a normalizer reports, with its stable name (the
    /// reports, the `issues` column and the API use these names). The one
    /// list: a new kind of issue starts here.
    pub enum IssueKind {
        /// A field the rules mark required is empty.
        RequiredMissing = "required_missing",
        /// A value outside the field's allowed values (選択肢).
        NotAllowed = "not_allowed",
        /// Not a phone number (letters, too few or too many digits, no such area code).
        InvalidPhone = "invalid_phone",
        /// More than one value in one cell (two phone numbers); the first is kept.
        MultipleValues = "multiple_values",
        /// Not a postal code (`NNN-NNNN`).
        InvalidPostalCode = "invalid_postal_code",
        /// A well-formed postal code Japan Post does not have.
        UnknownPostalCode = "unknown_postal_code",
        /// Not an e-mail address.
        InvalidEmail = "invalid_email",
        /// Not a date in any notation understood.
        InvalidDate = "invalid_date",
        /// A date that does not exist (`2023-02-30`, `平成31年5月1日`).
        ImpossibleDate = "impossible_date",
        /// A date whose order cannot be told (`01/02/03`).
        AmbiguousDate = "ambiguous_date",
        /// Not 13 digits (or `T` + 13 for an invoice number).
        InvalidCorporateNumber = "invalid_corporate_number",
        /// 13 digits whose check digit is wrong.
        CorporateNumberCheckDigit = "corporate_number_check_digit",
        /// Not a gender notation understood.
        InvalidGender = "invalid_gender",
        /// Only a legal form, no name (`株式会社`).
        NoCompanyName = "no_company_name",
        /// More than one legal form in a company name.
        MultipleLegalForms = "multiple_legal_forms",
        /// A reading that is not all kana.
        NotKana = "not_kana",
        /// A person's name with digits in it.
        DigitsInName = "digits_in_name",
        /// A name with no letter at all.
        InvalidName = "invalid_name",
        /// A code with nothing but separators.
        InvalidCode = "invalid_code",
        /// Not a canonical decimal (`12a`, `1,5`, `1e3`).
        InvalidNumber = "invalid_number",
        /// An address whose prefecture cannot be found or completed.
        UnknownPrefecture = "unknown_prefecture",
        /// An address whose city, ward, town or village cannot be found.
        UnknownCity = "unknown_city",
        /// A city name several prefectures have, with nothing to tell which.
        AmbiguousCity = "ambiguous_city",
        /// A town (町名・大字) the official town master does not have in that city.
        UnknownTown = "unknown_town",
        /// An address that writes out a city its postal code contradicts (the written city is kept).
        PostalCodeMismatch = "postal_code_mismatch",
    }
}

/// A problem found in a value: its kind, and what was wrong in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub kind: IssueKind,
    pub message: String,
}

impl Issue {
    pub fn new(kind: IssueKind, message: impl Into<String>) -> Issue {
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
    pub fn invalid(kind: IssueKind, message: impl Into<String>) -> Normalized {
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

    pub fn issue(&mut self, kind: IssueKind, message: impl Into<String>) {
        self.issues.push(Issue::new(kind, message));
    }
}

/// The dictionaries match keys are built with: variant kanji and company
/// aliases (alias key → canonical key).
#[derive(Debug, Clone)]
pub struct Dictionaries {
    pub variants: VariantTable,
    pub company_aliases: FxHashMap<String, String>,
}

impl Default for Dictionaries {
    fn default() -> Self {
        Dictionaries {
            variants: VariantTable::new(&[]),
            company_aliases: FxHashMap::default(),
        }
    }
}

/// All normalizers, configured by one rule set. Cheap to share across threads.
#[derive(Debug, Clone)]
pub struct Normalizer {
    options: Options,
    dict: Dictionaries,
    replacements: Vec<Replacement>,
}

impl Normalizer {
    pub fn new(rules: &Rules) -> Normalizer {
        let variants = VariantTable::new(&rules.dictionary.variant_kanji);
        let plain = Dictionaries {
            variants: variants.clone(),
            company_aliases: FxHashMap::default(),
        };
        let opts = &rules.options.company_name;
        let key_of = |name: &str| {
            company::normalize(name, opts, &plain)
                .key
                .unwrap_or_default()
        };
        let company_aliases = rules
            .dictionary
            .company_aliases
            .iter()
            .map(|(alias, canonical)| (key_of(alias), key_of(canonical)))
            .filter(|(a, c)| !a.is_empty() && !c.is_empty())
            .collect();
        Normalizer {
            options: rules.options.clone(),
            dict: Dictionaries {
                variants,
                company_aliases,
            },
            // Replacements apply to folded text, so they are folded too
            // (a rule written `（旧）` must match the folded `(旧)`).
            replacements: rules
                .dictionary
                .replacements
                .iter()
                .map(|r| Replacement {
                    from: text::fold(&r.from),
                    to: text::fold(&r.to),
                    types: r.types.clone(),
                })
                .filter(|r| !r.from.is_empty())
                .collect(),
        }
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Build now the tables that are otherwise built on first use (the
    /// address and postal masters, the phone metadata: about 0.15 s), so a
    /// caller pays for them when it chooses. `clean` does it on one core
    /// while the other reads the input.
    pub fn load_tables(&self) {
        for ty in FieldType::ALL {
            for sample in ["東京都千代田区霞が関1-2-1", "03-3581-4111", "100-0013"] {
                self.normalize_address_with_postal(ty, sample, Some("100-0013"));
            }
        }
    }

    /// Normalize one value of a field type.
    pub fn normalize(&self, field_type: FieldType, raw: &str) -> Normalized {
        self.normalize_address_with_postal(field_type, raw, None)
    }

    /// A value of the field `rule` defines: normalized by its type (an
    /// address with the record's postal code at hand), then checked against
    /// the rule ([`check_field_rule`]: required, 選択肢). The service's
    /// records and the values stewards type both go through here.
    pub fn normalize_field(
        &self,
        rule: &FieldRule,
        raw: &str,
        postal_code: Option<&str>,
    ) -> Normalized {
        let mut n = self.normalize_address_with_postal(rule.field_type, raw, postal_code);
        check_field_rule(rule, raw, &mut n);
        n
    }

    /// As [`Normalizer::normalize`], with the record's postal code at hand so an
    /// address missing its prefecture and city can be completed from it.
    pub fn normalize_address_with_postal(
        &self,
        field_type: FieldType,
        raw: &str,
        postal_code: Option<&str>,
    ) -> Normalized {
        let replaced;
        let raw = if self.replacements.iter().any(|r| r.applies_to(field_type)) {
            let mut s = text::fold(raw);
            for r in self
                .replacements
                .iter()
                .filter(|r| r.applies_to(field_type))
            {
                s = s.replace(&r.from, &r.to);
            }
            replaced = s;
            replaced.as_str()
        } else {
            raw
        };
        let o = &self.options;
        match field_type {
            FieldType::Text => {
                let v = text::fold(raw);
                if v.is_empty() {
                    Normalized::empty()
                } else {
                    Normalized::same_key(v)
                }
            }
            FieldType::CompanyName => company::normalize(raw, &o.company_name, &self.dict),
            FieldType::CompanyKana => kana::company_kana(raw),
            FieldType::PersonName => person::normalize(raw, &self.dict),
            FieldType::PersonKana => kana::person_kana(raw),
            FieldType::Address => match postal_code {
                Some(p) => address::normalize_with_postal(raw, Some(p), &o.address),
                None => address::normalize(raw, &o.address),
            },
            FieldType::PostalCode => postal::normalize(raw),
            FieldType::Phone => phone::normalize(raw, &o.phone),
            FieldType::Email => email::normalize(raw, &o.email),
            FieldType::Date => date::normalize(raw, &o.date),
            FieldType::CorporateNumber => corporate_number::normalize(raw),
            FieldType::Gender => gender::normalize(raw),
            FieldType::Name => name::normalize(raw),
            FieldType::Code => code::normalize(raw),
            FieldType::Number => number::normalize(raw),
        }
    }
}

impl Replacement {
    fn applies_to(&self, t: FieldType) -> bool {
        self.types.is_empty() || self.types.contains(&t)
    }
}

/// Check a value against its 項目定義: required, allowed values (選択肢).
/// Violations become issues; the value is never changed.
pub fn check_field_rule(rule: &FieldRule, raw: &str, n: &mut Normalized) {
    if raw.trim().is_empty() {
        if rule.required {
            n.issue(
                IssueKind::RequiredMissing,
                format!("{} is required", rule.name),
            );
        }
        return;
    }
    if !rule.allowed.is_empty() {
        // `allowed` is stored folded (rules/mod.rs).
        let folded;
        let v = match &n.value {
            Some(v) => v.as_str(),
            None => {
                folded = text::fold(raw);
                folded.as_str()
            }
        };
        if !rule.allowed.iter().any(|a| a == v) {
            n.issue(
                IssueKind::NotAllowed,
                format!("`{v}` is not one of: {}", rule.allowed.join(", ")),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> Rules {
        Rules::parse(text, "test.toml").unwrap()
    }

    #[test]
    fn field_rules_report_required_and_allowed() {
        let r = rules(
            "[[field]]\nname = \"連絡可否\"\ntype = \"text\"\nrequired = true\nallowed = [\"可\", \"不可\"]\n",
        );
        let rule = &r.fields[0];
        let n = Normalizer::new(&r);
        let mut empty = n.normalize(FieldType::Text, " ");
        check_field_rule(rule, " ", &mut empty);
        assert_eq!(empty.issues[0].kind.as_str(), "required_missing");
        let mut ok = n.normalize(FieldType::Text, "不可");
        check_field_rule(rule, "不可", &mut ok);
        assert!(ok.issues.is_empty());
        let mut bad = n.normalize(FieldType::Text, "OK");
        check_field_rule(rule, "OK", &mut bad);
        assert_eq!(bad.issues[0].kind.as_str(), "not_allowed");
        // The value itself is never "fixed".
        assert_eq!(bad.value.as_deref(), Some("OK"));
    }

    #[test]
    fn replacements_apply_to_their_types_only() {
        let r = rules(
            "[[dictionary.replace]]\nfrom = \"（旧）\"\nto = \"\"\ntypes = [\"company_name\"]\n",
        );
        let n = Normalizer::new(&r);
        assert_eq!(
            n.normalize(FieldType::CompanyName, "ABC商事（旧）")
                .value
                .as_deref(),
            Some("ABC商事")
        );
        assert_eq!(
            n.normalize(FieldType::Text, "ABC商事（旧）")
                .value
                .as_deref(),
            Some("ABC商事(旧)")
        );
    }

    #[test]
    fn company_aliases_share_a_key() {
        let r = rules("[dictionary.company_aliases]\n\"日本電信電話\" = [\"NTT\"]\n");
        let n = Normalizer::new(&r);
        assert_eq!(
            n.normalize(FieldType::CompanyName, "NTT株式会社").key,
            n.normalize(FieldType::CompanyName, "日本電信電話(株)").key
        );
    }
}

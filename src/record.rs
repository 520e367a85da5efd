//! Field types: the vocabulary shared by rules, import, normalizers and (later)
//! matching. A column of an import has exactly one field type.
//!
//! Most types are Japanese-oriented (`company_name`, `person_kana`,
//! `address`, …); `text`, `date`, `email`, `name`, `code` and `number` are
//! generic and make a rule file for any schema (`rules/examples/febrl.toml`).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Free text: folded (width, NFKC, dashes, spaces) and nothing more.
    Text,
    CompanyName,
    CompanyKana,
    PersonName,
    PersonKana,
    Address,
    PostalCode,
    Phone,
    Email,
    Date,
    CorporateNumber,
    Gender,
    /// A name in any script (generic schemas): case kept, accents and case
    /// folded in the key.
    Name,
    /// An identifier (social-security number, customer code): separators and
    /// case folded in the key.
    Code,
    /// A numeric value, written as its canonical decimal.
    Number,
}

impl FieldType {
    pub const ALL: [FieldType; 15] = [
        FieldType::Text,
        FieldType::CompanyName,
        FieldType::CompanyKana,
        FieldType::PersonName,
        FieldType::PersonKana,
        FieldType::Address,
        FieldType::PostalCode,
        FieldType::Phone,
        FieldType::Email,
        FieldType::Date,
        FieldType::CorporateNumber,
        FieldType::Gender,
        FieldType::Name,
        FieldType::Code,
        FieldType::Number,
    ];

    /// Public data about a business (a company's name and its reading, the
    /// 法人番号 published by the National Tax Agency): shown to viewers as
    /// it is. Everything else may be personal data and is masked for them.
    pub fn is_public(self) -> bool {
        matches!(
            self,
            FieldType::CompanyName | FieldType::CompanyKana | FieldType::CorporateNumber
        )
    }

    /// What a steward needs to tell two customers apart at a glance: the
    /// values a proposal list shows beside its ids.
    pub fn is_key(self) -> bool {
        !matches!(
            self,
            FieldType::Text | FieldType::Gender | FieldType::Number | FieldType::PostalCode
        )
    }

    /// Found by search (`GET /v1/search`): the values a person is looked up
    /// by (names, readings, phone, e-mail, address, identifiers, dates).
    pub fn is_searched(self) -> bool {
        !matches!(
            self,
            FieldType::Text | FieldType::Gender | FieldType::Number
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::CompanyName => "company_name",
            FieldType::CompanyKana => "company_kana",
            FieldType::PersonName => "person_name",
            FieldType::PersonKana => "person_kana",
            FieldType::Address => "address",
            FieldType::PostalCode => "postal_code",
            FieldType::Phone => "phone",
            FieldType::Email => "email",
            FieldType::Date => "date",
            FieldType::CorporateNumber => "corporate_number",
            FieldType::Gender => "gender",
            FieldType::Name => "name",
            FieldType::Code => "code",
            FieldType::Number => "number",
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FieldType {
    type Err = String;

    fn from_str(s: &str) -> Result<FieldType, String> {
        let s = s.trim();
        // `birth_date` is the default rule set's name for a date column.
        if s == "birth_date" {
            return Ok(FieldType::Date);
        }
        FieldType::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = FieldType::ALL.iter().map(|t| t.as_str()).collect();
                format!(
                    "unknown field type `{s}` (expected one of: {})",
                    names.join(", ")
                )
            })
    }
}

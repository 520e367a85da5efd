//! Field types: the vocabulary shared by rules, import, normalizers and (later)
//! matching. A column of an import has exactly one field type.

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
}

impl FieldType {
    pub const ALL: [FieldType; 12] = [
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
    ];

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

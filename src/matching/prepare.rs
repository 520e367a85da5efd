//! Turning one record's raw fields into what matching needs: the compared
//! [`Value`]s and the [`BlockingKeys`] for the candidate index. The batch
//! job (`dedupe`) and the live service call the same [`Preparer`], so a
//! record is matched the same way in both.

use super::compare::Value;
use super::{prepare, Comparison};
use crate::index::{BlockingKeys, BlockingSchema};
use crate::normalize::{Normalized, Normalizer};
use crate::record::FieldType;
use crate::rules::MatchingOptions;

/// One record, ready to match.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PreparedRecord {
    /// One value per comparison of the plan (`None`: missing).
    pub values: Vec<Option<Value>>,
    pub keys: BlockingKeys,
}

/// How many bytes of the preparer's fingerprint an encoded record starts
/// with.
pub const TAG_LEN: usize = 8;

impl PreparedRecord {
    /// The record as bytes the store keeps beside it (so candidates are not
    /// normalized again on every check), led by `tag`: the fingerprint of
    /// the rules and schema it was prepared under.
    pub fn encode(&self, tag: &[u8; TAG_LEN]) -> Vec<u8> {
        let mut out = tag.to_vec();
        postcard::to_io(self, &mut out).expect("writing to a Vec cannot fail");
        out
    }

    /// The record [`PreparedRecord::encode`] wrote under this `tag`; `None`
    /// when it was written under other rules (or is not one), and the
    /// record must be prepared again from its fields.
    pub fn decode(bytes: &[u8], tag: &[u8; TAG_LEN]) -> Option<PreparedRecord> {
        let body = bytes.strip_prefix(&tag[..])?;
        postcard::from_bytes(body).ok()
    }
}

/// The plan's columns, how each blocks, and how to prepare a record.
#[derive(Debug, Clone)]
pub struct Preparer {
    pub plan: Vec<Comparison>,
    pub types: Vec<FieldType>,
    pub blocking: BlockingSchema,
    text_columns: Vec<usize>,
    scored_columns: Vec<usize>,
    exact_columns: Vec<usize>,
    /// The compared columns, each once.
    columns: Vec<usize>,
    postal_column: Option<usize>,
}

impl Preparer {
    /// The plan of the compared columns (`compare[c]`: whether column `c`,
    /// named `headers[c]` and of type `types[c]`, takes part; see
    /// [`crate::rules::Rules::is_compared`]) and which columns block how, by
    /// type: names and addresses by BM25 over bigrams; dates and postal
    /// codes as extra BM25 terms; phone, e-mail, corporate number and codes
    /// as exact blocks. The batch job and the service both start here.
    pub fn new(
        headers: &[String],
        types: &[FieldType],
        compare: &[bool],
        opts: &MatchingOptions,
    ) -> Preparer {
        let plan = super::plan(headers, types, compare, opts.entity);
        let mut p = Preparer {
            blocking: BlockingSchema {
                text_fields: vec![],
                scored_fields: vec![],
                exact_fields: vec![],
                top_k: opts.top_k,
                max_block: opts.max_block,
                max_term_share: opts.max_term_share,
            },
            columns: {
                let mut c: Vec<usize> = plan.iter().map(|c| c.column).collect();
                c.dedup();
                c
            },
            plan,
            types: types.to_vec(),
            text_columns: vec![],
            scored_columns: vec![],
            exact_columns: vec![],
            postal_column: types.iter().position(|t| *t == FieldType::PostalCode),
        };
        for (c, &t) in types.iter().enumerate() {
            if !compare[c] {
                continue;
            }
            let name = format!("{c}_{}", t.as_str());
            use FieldType as F;
            match t {
                F::CompanyName | F::PersonName | F::Address | F::Name | F::Text => {
                    p.blocking.text_fields.push(name);
                    p.text_columns.push(c);
                }
                F::Date | F::PostalCode => {
                    p.blocking.scored_fields.push(name);
                    p.scored_columns.push(c);
                }
                F::Phone | F::Email | F::CorporateNumber | F::Code => {
                    p.blocking.exact_fields.push(name);
                    p.exact_columns.push(c);
                }
                // Readings repeat the name's evidence at many times the cost
                // (kana bigrams are common); genders and numbers pick nobody.
                F::Gender | F::Number | F::CompanyKana | F::PersonKana => {}
            }
        }
        p
    }

    /// Normalize the compared columns of one record (`fields[c]` is column
    /// `c`'s raw value); returns each compared column's result too.
    pub fn normalize<S: AsRef<str>>(
        &self,
        normalizer: &Normalizer,
        fields: &[S],
    ) -> Vec<(usize, Normalized)> {
        let postal = self.postal_column.map(|p| fields[p].as_ref());
        self.columns
            .iter()
            .map(|&c| {
                let raw = fields[c].as_ref();
                let n = if self.types[c] == FieldType::Address {
                    normalizer.normalize_address_with_postal(self.types[c], raw, postal)
                } else {
                    normalizer.normalize(self.types[c], raw)
                };
                (c, n)
            })
            .collect()
    }

    /// The values and blocking keys of one record.
    pub fn prepare<S: AsRef<str>>(&self, normalizer: &Normalizer, fields: &[S]) -> PreparedRecord {
        let normalized = self.normalize(normalizer, fields);
        self.from_normalized(normalizer, &normalized)
    }

    /// As [`Preparer::prepare`], from [`Preparer::normalize`]'s output.
    pub fn from_normalized(
        &self,
        normalizer: &Normalizer,
        normalized: &[(usize, Normalized)],
    ) -> PreparedRecord {
        let get = |c: usize| normalized.iter().find(|(k, _)| *k == c).map(|(_, n)| n);
        let values = self
            .plan
            .iter()
            .map(|c| get(c.column).and_then(|n| prepare(c, n, normalizer)))
            .collect();
        let key = |c: &usize| get(*c).and_then(|n| n.key.clone());
        // An address blocks on its town and lot: prefecture and city
        // bigrams are shared by too many records to pick candidates.
        let text_key = |c: &usize| match (self.types[*c], get(*c)) {
            (FieldType::Address, Some(n)) if n.part("town").is_some() => Some(format!(
                "{}{}",
                n.part("town").unwrap_or(""),
                n.part("lot").unwrap_or("")
            )),
            _ => key(c),
        };
        PreparedRecord {
            values,
            keys: BlockingKeys {
                text: self.text_columns.iter().map(text_key).collect(),
                scored: self.scored_columns.iter().map(key).collect(),
                exact: self.exact_columns.iter().map(key).collect(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_record_comes_back_only_under_its_rules() {
        let r = PreparedRecord {
            values: vec![
                Some(Value::with_parts(
                    "東京都港区芝公園",
                    vec!["東京都港区".into(), "芝公園".into()],
                )),
                None,
                Some(Value::new("ヤマダタロウ")),
            ],
            keys: BlockingKeys {
                text: vec![Some("芝公園4".into()), None],
                scored: vec![Some("1050011".into())],
                exact: vec![None, Some("+81312345678".into())],
            },
        };
        let tag = *b"rules-01";
        let bytes = r.encode(&tag);
        assert_eq!(PreparedRecord::decode(&bytes, &tag), Some(r));
        // Made under other rules, cut short, or not one at all: prepare again.
        assert_eq!(PreparedRecord::decode(&bytes, b"rules-02"), None);
        assert_eq!(
            PreparedRecord::decode(&bytes[..bytes.len() - 3], &tag),
            None
        );
        assert_eq!(PreparedRecord::decode(b"rules", &tag), None);
    }
}

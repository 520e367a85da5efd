//! Turning one record's raw fields into what matching needs: the compared
//! [`Value`]s and the [`BlockingKeys`] for the candidate index. The batch
//! job (`dedupe`) and the live service call the same [`Preparer`], so a
//! record is matched the same way in both.

use super::compare::Value;
use super::{prepare, reading, Aspect, Comparison};
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
    /// The compared kanji name column, which a reading is set against.
    name_column: Option<usize>,
    /// Per column, the column holding its branch (a cleaned file's
    /// `会社名_branch`, [`crate::import::branch_columns`]).
    branch_of: Vec<Option<usize>>,
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
        // A cleaned file's branch column is read with its company name,
        // never compared on its own.
        let branch_of = crate::import::branch_columns(headers, types);
        let mut compare = compare.to_vec();
        for (c, b) in branch_of.iter().enumerate() {
            if let (Some(b), true) = (b, compare[c]) {
                compare[*b] = false;
            }
        }
        let compare = &compare[..];
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
            name_column: super::kanji_name(&plan).map(|c| plan[c].column),
            plan,
            types: types.to_vec(),
            text_columns: vec![],
            scored_columns: vec![],
            exact_columns: vec![],
            postal_column: types.iter().position(|t| *t == FieldType::PostalCode),
            branch_of,
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
                let branch = self.branch_of[c].map(|b| fields[b].as_ref());
                let raw = crate::import::with_branch(fields[c].as_ref(), branch);
                let n = if self.types[c] == FieldType::Address {
                    normalizer.normalize_address_with_postal(self.types[c], &raw, postal)
                } else {
                    normalizer.normalize(self.types[c], &raw)
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
        let value = |c: &Comparison| {
            let n = get(c.column);
            if c.aspect != Aspect::Reading {
                return n.and_then(|n| prepare(c, n, normalizer));
            }
            let fold = |w: &str| {
                normalizer
                    .normalize(FieldType::PersonName, w)
                    .key
                    .unwrap_or_default()
            };
            reading::value(
                n,
                self.name_column.and_then(get),
                || n.and_then(|n| prepare(c, n, normalizer)),
                fold,
            )
        };
        let values = self.plan.iter().map(value).collect();
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

#[cfg(test)]
mod reading_tests {
    use super::*;
    use crate::matching::{level, Aspect};
    use crate::rules::Rules;

    #[test]
    fn a_name_only_in_kanji_meets_one_only_in_kana_by_its_readings() {
        let rules = Rules::default_rules();
        let normalizer = Normalizer::new(&rules);
        let headers = ["氏名", "フリガナ"].map(String::from);
        let types = [FieldType::PersonName, FieldType::PersonKana];
        let p = Preparer::new(&headers, &types, &[true, true], &MatchingOptions::default());
        let r = p
            .plan
            .iter()
            .position(|c| c.aspect == Aspect::Reading)
            .expect("kanji and kana give a reading comparison");
        assert_eq!(p.plan[r].name, "フリガナ:reading");
        let at = |name: &str, kana: &str| p.prepare(&normalizer, &[name, kana]).values[r].clone();
        let kanji = at("髙橋 一郎", "");
        let kana = at("", "ﾀｶﾊｼ ｲﾁﾛｳ");
        let label = |a: &Option<Value>, b: &Option<Value>| {
            let c = &p.plan[r];
            c.comparator.level_label(level(c, a.as_ref(), b.as_ref()))
        };
        assert_eq!(label(&kanji, &kana), "exact");
        assert_eq!(label(&kana, &kanji), "exact");
        assert_eq!(label(&at("高橋 花子", ""), &kana), "surname_only");
        assert_eq!(label(&at("鈴木一郎", ""), &kana), "given_only");
        // Kanji against kanji and kana against kana: the name's own
        // comparisons say it; a record with both, or a name the table does
        // not know, has no reading value.
        assert_eq!(label(&kanji, &at("高橋一郎", "")), "missing");
        assert_eq!(label(&kana, &at("", "タカハシ イチロウ")), "missing");
        assert_eq!(at("高橋 一郎", "タカハシ イチロウ"), None);
        assert_eq!(at("鏖 鏖", ""), None);
        // A common name read alike says less than a rare one: the reading's
        // frequency is the left record's name's, here its kanji's.
        let mut rows: Vec<[&str; 2]> = vec![["高橋 一郎", ""]; 9];
        rows.extend([
            ["鈴木 花子", ""],
            ["", "タカハシ イチロウ"],
            ["", "スズキ ハナコ"],
        ]);
        // Records without a name count in the shares as any record does.
        rows.extend(vec![["", ""]; 3000]);
        let prepared: Vec<PreparedRecord> =
            rows.iter().map(|r| p.prepare(&normalizer, r)).collect();
        let tf = crate::matching::TermFrequencies::count(&p.plan, prepared.len(), |i, c| {
            prepared[i].values[c].as_ref()
        });
        let model = crate::matching::starting_model(&p.plan, &rules.start);
        let reading_weight = |left: &PreparedRecord, right: &PreparedRecord| {
            let levels: Vec<u8> = (0..p.plan.len())
                .map(|c| {
                    level(
                        &p.plan[c],
                        left.values[c].as_ref(),
                        right.values[c].as_ref(),
                    )
                })
                .collect();
            assert_eq!(levels[r], 1);
            crate::matching::score(&model, &p.plan, &levels, &tf, |c| left.values[c].as_ref()).terms
                [r]
                .weight
        };
        let common = reading_weight(&prepared[0], &prepared[10]);
        let rare = reading_weight(&prepared[9], &prepared[11]);
        assert!(common < rare, "{common} < {rare}");
        // Looked up on the kana side, both readings are as rare.
        let (a, b) = (
            reading_weight(&prepared[10], &prepared[0]),
            reading_weight(&prepared[11], &prepared[9]),
        );
        assert!((a - b).abs() < 1e-9 && a > common, "{a} {b} {common}");
        // Without a compared kanji column there is no reading comparison.
        let alone = Preparer::new(
            &headers,
            &types,
            &[false, true],
            &MatchingOptions::default(),
        );
        assert!(alone.plan.iter().all(|c| c.aspect != Aspect::Reading));
    }
}

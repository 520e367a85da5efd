//! Golden records: each field's value picked among an entity's members by
//! the field's survivorship rule, with where it came from.
//!
//! Pure: members and rules in, golden record out. A steward's choice
//! (`overrides`: the record whose value a field keeps) wins over the rule,
//! and a value a steward typed (`manual`) over that; a consent flag's
//! restrictive value (`連絡可否 = 不可`) wins over everything, since keeping
//! a customer who said no from being contacted matters more than any other
//! choice. Fields of a survivorship group (`[survivorship] groups`: an
//! address, its postal code and the phone) travel together: they come from
//! the record the group's first chosen (or first) field comes from, so a
//! golden record never pairs one person's address with another's phone.

use super::FieldSchema;
use crate::rules::{Survivorship, SurvivorshipOptions};
use crate::store::{ManualValue, Record};
use serde::Serialize;
use std::collections::BTreeMap;

/// One field of a golden record.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct GoldenField {
    pub value: String,
    /// The member whose value this is (empty for a value a steward typed).
    pub record_id: String,
    /// Why: `restrictive`, `typed` (a steward typed it), `manual` (a
    /// steward chose the record), `with {field}` (a survivorship group
    /// follows that field's record), or the survivorship rule's name.
    pub rule: String,
}

/// Field name → chosen value, for every field some member has or a steward
/// typed.
pub type Golden = BTreeMap<String, GoldenField>;

/// The display value a member holds for a field (normalized, else raw).
pub(crate) fn value_of<'r>(r: &'r Record, field: &str) -> Option<&'r str> {
    r.normalized
        .get(field)
        .and_then(|f| f.value.as_deref())
        .or_else(|| r.fields.get(field).map(String::as_str))
        .filter(|v| !v.trim().is_empty())
}

/// Build the golden record of `members` (any order).
pub fn golden(
    schema: &FieldSchema,
    opts: &SurvivorshipOptions,
    members: &[Record],
    overrides: &BTreeMap<String, String>,
) -> Golden {
    shaped(schema, opts, members, overrides, &BTreeMap::new())
}

/// [`golden`] with the values stewards typed (`manual`).
pub fn shaped(
    schema: &FieldSchema,
    opts: &SurvivorshipOptions,
    members: &[Record],
    overrides: &BTreeMap<String, String>,
    manual: &BTreeMap<String, ManualValue>,
) -> Golden {
    let mut out = by_field(schema, opts, members, overrides, manual);
    // Groups travel together: from the record of the group's first chosen
    // field, else of its first field; a field with its own choice keeps it.
    for group in &opts.groups {
        let lead = group
            .iter()
            .find(|f| overrides.contains_key(*f) && out.get(*f).is_some_and(|g| g.rule == "manual"))
            .or_else(|| {
                group
                    .iter()
                    .find(|f| out.get(*f).is_some_and(|g| !g.record_id.is_empty()))
            });
        let Some(lead) = lead else { continue };
        let from = out[lead].record_id.clone();
        let Some(r) = members.iter().find(|r| r.id == from) else {
            continue;
        };
        for f in group {
            if f == lead || overrides.contains_key(f) || manual.contains_key(f) {
                continue;
            }
            if out.get(f).is_some_and(|g| g.rule == "restrictive") {
                continue;
            }
            if let Some(v) = value_of(r, f) {
                out.insert(
                    f.clone(),
                    GoldenField {
                        value: v.to_string(),
                        record_id: r.id.clone(),
                        rule: format!("with {lead}"),
                    },
                );
            }
        }
    }
    out
}

fn by_field(
    schema: &FieldSchema,
    opts: &SurvivorshipOptions,
    members: &[Record],
    overrides: &BTreeMap<String, String>,
    manual: &BTreeMap<String, ManualValue>,
) -> Golden {
    // Most recent first, then by id: every rule's tie-break.
    let mut members: Vec<&Record> = members.iter().collect();
    members.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.id.cmp(&b.id)));
    let mut out = Golden::new();
    for f in &schema.fields {
        let held: Vec<(&Record, &str)> = members
            .iter()
            .filter_map(|r| value_of(r, &f.name).map(|v| (*r, v)))
            .collect();
        let pick = |r: &Record, v: &str, rule: &str| GoldenField {
            value: v.to_string(),
            record_id: r.id.clone(),
            rule: rule.to_string(),
        };
        if let Some(restrictive) = &f.restrictive {
            let folded = |v: &str| crate::normalize::text::fold(v);
            if let Some((r, v)) = held.iter().find(|(_, v)| folded(v) == *restrictive) {
                out.insert(f.name.clone(), pick(r, v, "restrictive"));
                continue;
            }
        }
        // A typed value stands whether or not a member holds the field
        // (a customer's 連絡可否 = 不可 taken on the phone).
        if let Some(m) = manual.get(&f.name) {
            out.insert(
                f.name.clone(),
                GoldenField {
                    value: m.value.clone(),
                    record_id: String::new(),
                    rule: "typed".into(),
                },
            );
            continue;
        }
        if held.is_empty() {
            continue;
        }
        if let Some(chosen) = overrides.get(&f.name) {
            if let Some((r, v)) = held.iter().find(|(r, _)| &r.id == chosen) {
                out.insert(f.name.clone(), pick(r, v, "manual"));
                continue;
            }
        }
        let rule = f.survivorship.unwrap_or(opts.default);
        let (r, v) = match rule {
            Survivorship::MostRecent => held[0],
            Survivorship::MostComplete => *held
                .iter()
                .enumerate()
                .max_by(|(i, (_, a)), (j, (_, b))| {
                    a.chars().count().cmp(&b.chars().count()).then(j.cmp(i))
                })
                .map(|(_, x)| x)
                .expect("non-empty"),
            Survivorship::MostFrequent => {
                let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
                for (i, (_, v)) in held.iter().enumerate() {
                    let e = counts.entry(v).or_insert((0, i));
                    e.0 += 1;
                }
                let (_, (_, first)) = counts
                    .iter()
                    .max_by(|(_, (n, i)), (_, (m, j))| n.cmp(m).then(j.cmp(i)))
                    .expect("non-empty");
                held[*first]
            }
            Survivorship::SourcePriority => {
                let rank = |r: &Record| {
                    opts.sources
                        .iter()
                        .position(|s| *s == r.source)
                        .unwrap_or(usize::MAX)
                };
                *held
                    .iter()
                    .enumerate()
                    .min_by_key(|(i, (r, _))| (rank(r), *i))
                    .map(|(_, x)| x)
                    .expect("non-empty")
            }
        };
        out.insert(f.name.clone(), pick(r, v, rule.as_str()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rules;
    use crate::store::StoredField;

    fn rec(id: &str, source: &str, at: &str, fields: &[(&str, &str)]) -> Record {
        Record {
            num: 0,
            id: id.into(),
            source: source.into(),
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            normalized: fields
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        StoredField {
                            value: Some(v.to_string()),
                            issues: vec![],
                            parts: Default::default(),
                        },
                    )
                })
                .collect(),
            entity_id: "E1".into(),
            version: 1,
            created_at: at.into(),
            updated_at: at.into(),
            prepared: None,
            search: None,
        }
    }

    fn schema() -> FieldSchema {
        FieldSchema::from_rules(&Rules::default_rules())
    }

    #[test]
    fn most_complete_then_manual_then_restrictive() {
        let a = rec(
            "a",
            "crm",
            "2026-01-01T00:00:00Z",
            &[("address", "千代田区霞が関"), ("contact_ok", "可")],
        );
        let b = rec(
            "b",
            "web",
            "2026-02-01T00:00:00Z",
            &[
                ("address", "東京都千代田区霞が関一丁目2-1"),
                ("contact_ok", "不可"),
            ],
        );
        let opts = SurvivorshipOptions::default();
        let g = golden(&schema(), &opts, &[a.clone(), b.clone()], &BTreeMap::new());
        assert_eq!(g["address"].record_id, "b");
        assert_eq!(g["address"].rule, "most_complete");
        assert_eq!(g["contact_ok"].value, "不可");
        assert_eq!(g["contact_ok"].rule, "restrictive");

        // A steward's choice wins over the rule, not over consent.
        let overrides: BTreeMap<String, String> = [
            ("address".to_string(), "a".to_string()),
            ("contact_ok".to_string(), "a".to_string()),
        ]
        .into();
        let g = golden(&schema(), &opts, &[a, b], &overrides);
        assert_eq!(g["address"].value, "千代田区霞が関");
        assert_eq!(g["address"].rule, "manual");
        assert_eq!(g["contact_ok"].value, "不可");
    }

    #[test]
    fn a_group_travels_together_and_a_typed_value_wins() {
        // The longest address is b's, the longest phone a's: field by field
        // they would pair b's address with a's phone.
        let a = rec(
            "a",
            "crm",
            "2026-01-01T00:00:00Z",
            &[
                ("address", "岡山県岡山市北区"),
                ("postal_code", "700-0001"),
                ("phone", "086-222-3333"),
            ],
        );
        let b = rec(
            "b",
            "web",
            "2026-02-01T00:00:00Z",
            &[
                ("address", "香川県高松市番町一丁目1-1"),
                ("postal_code", "760-0017"),
                ("phone", "087-1-2"),
            ],
        );
        let mut opts = SurvivorshipOptions::default();
        let alone = golden(&schema(), &opts, &[a.clone(), b.clone()], &BTreeMap::new());
        assert_eq!(alone["address"].record_id, "b");
        assert_eq!(alone["phone"].record_id, "a");
        // A service whose rule file sets only an option has the built-in
        // fields and groups, and so its golden records keep one contact's
        // address and phone together.
        let partial = Rules::parse("[matching]\nentity = \"company\"\n", "r.toml").unwrap();
        let g = golden(
            &FieldSchema::from_rules(&partial),
            &partial.survivorship,
            &[a.clone(), b.clone()],
            &BTreeMap::new(),
        );
        for f in ["address", "postal_code", "phone"] {
            assert_eq!(g[f].record_id, "b", "{f}");
        }
        opts.groups = vec![vec!["address".into(), "postal_code".into(), "phone".into()]];
        let g = golden(&schema(), &opts, &[a.clone(), b.clone()], &BTreeMap::new());
        for f in ["address", "postal_code", "phone"] {
            assert_eq!(g[f].record_id, "b", "{f}");
        }
        assert_eq!(g["phone"].rule, "with address");
        // A steward's choice of the phone's record leads the group.
        let chosen: BTreeMap<String, String> = [("phone".to_string(), "a".to_string())].into();
        let g = golden(&schema(), &opts, &[a.clone(), b.clone()], &chosen);
        for f in ["address", "postal_code", "phone"] {
            assert_eq!(g[f].record_id, "a", "{f}");
        }
        // A typed value wins over the choice, and names no record.
        let typed: BTreeMap<String, ManualValue> = [(
            "phone".to_string(),
            ManualValue {
                value: "086-111-2222".into(),
                by: "stella".into(),
                at: "2026-03-01T00:00:00Z".into(),
                reason: Some("本人に確認".into()),
            },
        )]
        .into();
        let g = shaped(&schema(), &opts, &[a.clone(), b.clone()], &chosen, &typed);
        assert_eq!(g["phone"].value, "086-111-2222");
        assert_eq!(g["phone"].rule, "typed");
        assert_eq!(g["phone"].record_id, "");
        // A typed value on a field no member holds stands too: a customer
        // who said no on the phone is not contacted.
        let said_no: BTreeMap<String, ManualValue> = [(
            "contact_ok".to_string(),
            ManualValue {
                value: "不可".into(),
                by: "stella".into(),
                at: "2026-03-01T00:00:00Z".into(),
                reason: None,
            },
        )]
        .into();
        assert!(!alone.contains_key("contact_ok"));
        let g = shaped(&schema(), &opts, &[a, b], &BTreeMap::new(), &said_no);
        assert_eq!(g["contact_ok"].value, "不可");
        assert_eq!(g["contact_ok"].rule, "typed");
    }

    #[test]
    fn most_recent_frequent_and_source_priority() {
        let recs = vec![
            rec(
                "a",
                "web",
                "2026-01-01T00:00:00Z",
                &[("phone", "03-1111-1111")],
            ),
            rec(
                "b",
                "crm",
                "2026-01-02T00:00:00Z",
                &[("phone", "03-1111-1111")],
            ),
            rec(
                "c",
                "web",
                "2026-01-03T00:00:00Z",
                &[("phone", "03-2222-2222")],
            ),
        ];
        let mut s = schema();
        let phone = s.position("phone").unwrap();
        let mut opts = SurvivorshipOptions::default();
        for (rule, want) in [
            (Survivorship::MostRecent, "03-2222-2222"),
            (Survivorship::MostFrequent, "03-1111-1111"),
        ] {
            s.fields[phone].survivorship = Some(rule);
            let g = golden(&s, &opts, &recs, &BTreeMap::new());
            assert_eq!(g["phone"].value, want, "{rule:?}");
        }
        s.fields[phone].survivorship = Some(Survivorship::SourcePriority);
        opts.sources = vec!["crm".into()];
        let g = golden(&s, &opts, &recs, &BTreeMap::new());
        assert_eq!(g["phone"].record_id, "b");
    }
}

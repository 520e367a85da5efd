//! Matching: which comparisons a file's columns give, the values they compare,
//! and scoring a pair with a trained [`model::Model`].
//!
//! No IO, not async, no tantivy: the index hands over candidate pairs, this
//! module says how alike they are and why.

pub mod band;
pub mod batch;
pub mod compare;
pub mod explain;
pub mod model;
pub mod prepare;
pub mod reading;

pub use band::{Band, BandCounts, Bands};
pub use explain::{ExplainTerm, Explanation};

use crate::normalize::{text, Normalized, Normalizer};
use crate::record::FieldType;
use crate::rules::Entity;
use compare::{Comparator, Value};
use model::{ComparisonSpec, Model, Term};
use std::collections::HashMap;

/// Which piece of a normalized value a comparison looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aspect {
    /// The match key.
    Key,
    /// The match key, with the surname/given split of the display value.
    PersonName,
    /// The match key with prefecture+city, town, 丁目 and first lot number.
    AddressParts,
    /// A company name's branch (`札幌支店`); empty when it has none.
    Branch,
    /// A company name's legal form.
    LegalForm,
    /// A postal code, marked when it is one office's own code.
    Postal,
    /// A company name's match key, with its branch (without spaces) as a part.
    CompanyName,
    /// A person's name read across scripts: the kana of a record without
    /// kanji, or the readings of the kanji of one without kana
    /// ([`reading::value`]).
    Reading,
}

/// One comparison of a match plan.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// Column header, or `header:aspect` for a derived comparison.
    pub name: String,
    pub column: usize,
    pub field_type: FieldType,
    pub aspect: Aspect,
    pub comparator: Comparator,
    /// Counts towards the deterministic rule that seeds training.
    pub identifying: bool,
    /// Evidence group (see [`model::ComparisonModel::group`]).
    pub group: &'static str,
    /// What an agreement identifies, for the rule that seeds training (see
    /// [`model::ComparisonSpec::seed_group`]): the evidence group, except
    /// that for an establishment the 法人番号 names the company, as the
    /// company name does (two offices of one company share it).
    pub seed_group: &'static str,
}

/// The comparisons for a file's columns. `compare[i]` says whether column `i`
/// takes part (an id column or a 選択肢 flag such as 連絡可否 does not).
/// With [`Entity::Establishment`] a company's branch and an office's own
/// postal code are compared; with [`Entity::Company`] they are not evidence.
pub fn plan(
    headers: &[String],
    types: &[FieldType],
    compare: &[bool],
    entity: Entity,
) -> Vec<Comparison> {
    let establishment = entity == Entity::Establishment;
    let company = types.contains(&FieldType::CompanyName);
    let kanji_name = (0..types.len()).any(|c| compare[c] && types[c] == FieldType::PersonName);
    let mut out = Vec::new();
    for (col, (h, &t)) in headers.iter().zip(types).enumerate() {
        if !compare[col] {
            continue;
        }
        let group = match t {
            // A person named on a company's record is a contact: another
            // contact of one customer is no evidence against.
            FieldType::PersonName | FieldType::PersonKana if company => model::CONTACT_GROUP,
            FieldType::PersonName | FieldType::PersonKana => model::PERSON_GROUP,
            FieldType::CompanyName | FieldType::CompanyKana => "company",
            FieldType::Address | FieldType::PostalCode | FieldType::Phone => "location",
            _ => "",
        };
        let mut add = |suffix: &str, aspect, comparator, identifying| {
            // A company's branch and legal form are evidence of their own;
            // a name's reading is the name's evidence.
            let group = if suffix.is_empty() || aspect == Aspect::Reading {
                group
            } else {
                ""
            };
            let seed_group = match t {
                FieldType::CorporateNumber if establishment => "company",
                _ => group,
            };
            let name = if suffix.is_empty() {
                h.clone()
            } else {
                format!("{h}:{suffix}")
            };
            out.push(Comparison {
                name,
                column: col,
                field_type: t,
                aspect,
                comparator,
                identifying,
                group,
                seed_group,
            });
        };
        use Comparator as C;
        match t {
            FieldType::CompanyName => {
                add("", Aspect::CompanyName, C::Company, true);
                if establishment {
                    add("branch", Aspect::Branch, C::Branch, false);
                }
                add("legal_form", Aspect::LegalForm, C::LegalForm, false);
            }
            FieldType::CompanyKana => add("", Aspect::Key, C::Kana, false),
            FieldType::PersonName => add("", Aspect::PersonName, C::Person, true),
            FieldType::PersonKana => {
                add("", Aspect::PersonName, C::Person, false);
                if kanji_name {
                    add("reading", Aspect::Reading, C::Reading, false);
                }
            }
            FieldType::Address => add("", Aspect::AddressParts, C::Address, true),
            FieldType::PostalCode if establishment => add("", Aspect::Postal, C::Postal, false),
            FieldType::PostalCode => add("", Aspect::Key, C::Postal, false),
            FieldType::Phone => add("", Aspect::Key, C::Phone, true),
            FieldType::CorporateNumber => add("", Aspect::Key, C::Exact, true),
            FieldType::Gender => add("", Aspect::Key, C::Exact, false),
            FieldType::Number => add("", Aspect::Key, C::Exact, true),
            FieldType::Email => add("", Aspect::Key, C::Email, true),
            FieldType::Date => add("", Aspect::Key, C::Date, true),
            FieldType::Name => add("", Aspect::Key, C::Name, true),
            FieldType::Code => add("", Aspect::Key, C::Code, true),
            FieldType::Text => add("", Aspect::Key, C::Text, true),
        }
    }
    out
}

/// The name `[start.levels]` gives a comparison: its field type, and the
/// aspect for a company's branch and legal form (`company_name:branch`).
pub(crate) fn start_name(c: &Comparison) -> String {
    let t = c.field_type.as_str();
    match c.aspect {
        Aspect::Branch => format!("{t}:branch"),
        Aspect::LegalForm => format!("{t}:legal_form"),
        Aspect::Reading => format!("{t}:reading"),
        _ => t.to_string(),
    }
}

/// The comparator of the comparison `[start.levels]` calls `name`; `None`
/// when no field type gives it.
pub fn start_comparator(name: &str) -> Option<Comparator> {
    let types = &FieldType::ALL[..];
    let headers: Vec<String> = types.iter().map(|t| t.as_str().to_string()).collect();
    plan(
        &headers,
        types,
        &vec![true; types.len()],
        Entity::Establishment,
    )
    .into_iter()
    .find(|c| start_name(c) == name)
    .map(|c| c.comparator)
}

/// The model of the rules' starting weights for `plan`: matching works with
/// it from the first record, before any training. A level the weights leave
/// out weighs 0 (m = u).
pub fn starting_model(plan: &[Comparison], start: &crate::rules::StartWeights) -> Model {
    use model::{ComparisonModel, LevelModel, Training};
    const NEUTRAL: f64 = 0.01;
    Model {
        calibrated: None,
        version: 1,
        prior: start.prior,
        comparisons: plan
            .iter()
            .map(|c| {
                let given = start.levels.get(&start_name(c));
                ComparisonModel {
                    name: c.name.clone(),
                    comparator: c.comparator,
                    group: c.group.to_string(),
                    levels: c
                        .comparator
                        .levels()
                        .iter()
                        .enumerate()
                        .map(|(i, label)| {
                            let [m, u] = given
                                .and_then(|g| g.get(*label))
                                .copied()
                                .unwrap_or([NEUTRAL, NEUTRAL]);
                            LevelModel {
                                label: label.to_string(),
                                m,
                                u,
                                tf: c.comparator.tf_adjusted().contains(&(i as u8 + 1)),
                                tf_scale: 1.0,
                            }
                        })
                        .collect(),
                }
            })
            .collect(),
        training: Training {
            starting: true,
            ..Training::default()
        },
    }
}

pub fn specs(plan: &[Comparison]) -> Vec<ComparisonSpec> {
    plan.iter()
        .map(|c| ComparisonSpec {
            name: c.name.clone(),
            comparator: c.comparator,
            identifying: c.identifying,
            group: c.group,
            seed_group: c.seed_group,
        })
        .collect()
}

/// The version of what [`prepare`] makes of a value: kept prepared values
/// (the service's store) are for one version. Bump it when a comparison's
/// value changes (2: an address carries its prefecture; 3: a name's
/// reading across scripts).
pub const PREPARE_VERSION: u32 = 3;

/// The value a comparison sees in a normalized field (`None`: missing).
pub fn prepare(c: &Comparison, n: &Normalized, normalizer: &Normalizer) -> Option<Value> {
    let key = n.key.as_deref().filter(|k| !k.is_empty())?;
    Some(match c.aspect {
        Aspect::Key => Value::new(key),
        Aspect::Branch => Value::new(n.part("branch").unwrap_or("")),
        Aspect::LegalForm => Value::new(n.part("legal_form")?),
        Aspect::Postal if crate::master::master().is_office_code(key) => {
            Value::with_parts(key, vec![compare::OFFICE_CODE.into()])
        }
        Aspect::Postal => Value::new(key),
        Aspect::CompanyName => match n.part("branch") {
            Some(b) => Value::with_parts(key, vec![text::without_spaces(b).into()]),
            None => Value::new(key),
        },
        // Alone, a reading is the kana as written; [`prepare::Preparer`]
        // sets it against the record's kanji name.
        Aspect::PersonName | Aspect::Reading => {
            let display = n.value.as_deref().unwrap_or("");
            let words: Vec<&str> = display.split(' ').filter(|w| !w.is_empty()).collect();
            if words.len() == 2 {
                let k = |w: &str| -> Box<str> {
                    normalizer
                        .normalize(c.field_type, w)
                        .key
                        .unwrap_or_default()
                        .into()
                };
                Value::with_parts(key, vec![k(words[0]), k(words[1])])
            } else {
                Value::new(key)
            }
        }
        Aspect::AddressParts => {
            let town = n.part("town").unwrap_or("");
            let (base, chome) = split_chome(town);
            let city = format!(
                "{}{}",
                n.part("prefecture").unwrap_or(""),
                n.part("city").unwrap_or("")
            );
            let lot = n.part("lot").unwrap_or("");
            let first_lot = lot.split('-').next().unwrap_or("");
            let prefecture = n.part("prefecture").unwrap_or("");
            Value::with_parts(
                key,
                vec![
                    city.into(),
                    base.into(),
                    chome.into(),
                    first_lot.into(),
                    prefecture.into(),
                ],
            )
        }
    })
}

/// `霞が関一丁目` → (`霞が関`, `一丁目`); `1丁目` too.
fn split_chome(town: &str) -> (&str, &str) {
    if let Some(stem) = town.strip_suffix("丁目") {
        let digits = stem
            .char_indices()
            .rev()
            .take_while(|(_, c)| "〇一二三四五六七八九十百0123456789".contains(*c))
            .last()
            .map(|(i, _)| i);
        if let Some(i) = digits {
            return (&town[..i], &town[i..]);
        }
    }
    (town, "")
}

/// The level of one comparison for two (possibly missing) values. A
/// missing value is no evidence (level 0), but for a company's name: a
/// record with one against a record with none is a company against a
/// consumer (a schema holding both: the service's), two customers —
/// [`Comparator::Company`]'s `one_sided`, evidence against
/// ([`Comparator::is_against`]).
pub fn level(c: &Comparison, a: Option<&Value>, b: Option<&Value>) -> u8 {
    match (a, b) {
        (Some(_), None) | (None, Some(_)) if c.comparator == Comparator::Company => {
            Comparator::COMPANY_ONE_SIDED
        }
        (Some(a), Some(b)) => {
            if c.aspect == Aspect::Branch && a.key.is_empty() && b.key.is_empty() {
                0
            } else if c.aspect == Aspect::Reading
                && reading::is_derived(a) == reading::is_derived(b)
            {
                // Kana against kana, kanji against kanji: the name's own
                // comparisons say it.
                0
            } else {
                c.comparator.compare(a, b)
            }
        }
        _ => 0,
    }
}

/// How often each value occurs, for the term-frequency adjusted levels.
#[derive(Debug, Default)]
pub struct TermFrequencies {
    records: usize,
    /// per comparison, per tf level: tf key → count
    counts: Vec<Vec<(u8, HashMap<String, u32>)>>,
}

impl TermFrequencies {
    /// Count over all records' values (`values[record][comparison]`).
    pub fn count<'a>(
        plan: &[Comparison],
        records: usize,
        value_of: impl Fn(usize, usize) -> Option<&'a Value>,
    ) -> TermFrequencies {
        let counts = plan
            .iter()
            .enumerate()
            .map(|(ci, c)| {
                c.comparator
                    .tf_levels()
                    .iter()
                    .map(|&level| {
                        let mut m: HashMap<String, u32> = HashMap::new();
                        for r in 0..records {
                            if let Some(v) = value_of(r, ci) {
                                *m.entry(v.tf_key(c.comparator, level).into_owned())
                                    .or_default() += 1;
                            }
                        }
                        (level, m)
                    })
                    .collect()
            })
            .collect();
        TermFrequencies { records, counts }
    }
}

/// How common the left record's value is among the *other* records: the
/// share of them holding `key` at a comparison's term-frequency level
/// ([`share_of_others`]). Batch runs count in memory
/// ([`TermFrequencies`]); the live service asks its index.
pub trait Frequencies {
    fn freq(&self, comparison: usize, level: u8, key: &str) -> f64;
}

/// The share of the records other than the scored (left) one that hold its
/// value, from the `holding` records that hold it among `records`;
/// `left_counted` says whether the left record is among them (a batch
/// counts every record; a record being created is not in the index yet).
///
/// Under "not a match" the right record is one of the *others*, so the left
/// record's own holding is no evidence of how common the value is. Counting
/// it made a value seen twice (the two records of the pair) look twice as
/// common as it is, one bit of evidence lost on exactly the pairs whose
/// rarity is all there is to go on (a name shared and nothing else). A value
/// the left record alone holds (a reading's source name) counts as held by
/// one other: as rare as a count can say. 0 when nothing is known.
pub fn share_of_others(holding: u64, records: u64, left_counted: bool) -> f64 {
    let (others, total) = if left_counted {
        if holding == 0 {
            return 0.0;
        }
        ((holding - 1).max(1), records.saturating_sub(1))
    } else {
        (holding, records)
    };
    if total == 0 {
        0.0
    } else {
        others as f64 / total as f64
    }
}

impl Frequencies for TermFrequencies {
    fn freq(&self, comparison: usize, level: u8, key: &str) -> f64 {
        let Some((_, m)) = self
            .counts
            .get(comparison)
            .and_then(|l| l.iter().find(|(lv, _)| *lv == level))
        else {
            return 0.0;
        };
        let n = m.get(key).copied().unwrap_or(0);
        share_of_others(n as u64, self.records as u64, true)
    }
}

/// The places a record's values have a term frequency: each comparison's
/// term-frequency levels, as `(comparison, level)`, in plan order. An engine
/// that counts values across machines counts a record's [`tf_keys`] per
/// slot and scores with [`SlotFrequencies`].
pub fn tf_slots(plan: &[Comparison]) -> Vec<(usize, u8)> {
    plan.iter()
        .enumerate()
        .flat_map(|(ci, c)| c.comparator.tf_levels().iter().map(move |&l| (ci, l)))
        .collect()
}

/// A record's value at each slot of [`tf_slots`] (by slot number) that it
/// has, as [`TermFrequencies`] counts it.
pub fn tf_keys(plan: &[Comparison], values: &[Option<Value>]) -> Vec<(u16, String)> {
    tf_slots(plan)
        .into_iter()
        .enumerate()
        .filter_map(|(slot, (ci, level))| {
            let v = values[ci].as_ref()?;
            Some((
                slot as u16,
                v.tf_key(plan[ci].comparator, level).into_owned(),
            ))
        })
        .collect()
}

/// One record's frequencies: how many of `records` hold its value at each
/// slot of [`tf_slots`] (the record itself among them). Scoring looks
/// frequencies up on the left record only, so a pair is scored with its
/// left record's counts.
pub struct SlotFrequencies<'a> {
    pub slots: &'a [(usize, u8)],
    pub counts: &'a [u64],
    pub records: u64,
}

impl Frequencies for SlotFrequencies<'_> {
    fn freq(&self, comparison: usize, level: u8, _key: &str) -> f64 {
        let slot = self.slots.iter().position(|&s| s == (comparison, level));
        let n = slot.and_then(|s| self.counts.get(s)).copied().unwrap_or(0);
        share_of_others(n, self.records, true)
    }
}

/// Where the term frequency of comparison `ci` at `level` is looked up, on
/// the left record: `(comparison, level)`, the first of these the record
/// has a value at, whose frequency is known (> 0). A comparison's own
/// value, except for a reading ([`Comparator::Reading`]), which counts
/// nothing of its own: how common the left record's name is, in its kana
/// comparison when it wrote the reading, else in its kanji name comparison
/// (a common name read alike says less than a rare one, as in either
/// script alone). By the frequency, not the value, so that an engine that
/// carries a record's counts and not its values ([`SlotFrequencies`])
/// finds the same one.
pub fn tf_sources(plan: &[Comparison], ci: usize, level: u8) -> [Option<(usize, u8)>; 2] {
    if plan[ci].comparator != Comparator::Reading {
        return [Some((ci, level)), None];
    }
    let kana = plan
        .iter()
        .position(|c| c.column == plan[ci].column && c.comparator == Comparator::Person);
    [kana, kanji_name(plan)].map(|c| c.map(|c| (c, 1)))
}

/// The comparison of the plan's kanji name (the first compared
/// [`FieldType::PersonName`] column), which a reading is set against.
pub fn kanji_name(plan: &[Comparison]) -> Option<usize> {
    plan.iter()
        .position(|c| c.field_type == FieldType::PersonName && c.comparator == Comparator::Person)
}

/// A scored pair: the total weight (log2 odds) and each comparison's term.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    pub weight: f64,
    pub terms: Vec<Term>,
}

impl Score {
    pub fn probability(&self) -> f64 {
        Model::probability(self.weight)
    }
}

/// Score a pair from its levels. `values` gives the left record's value of a
/// comparison, for the term-frequency lookup.
pub fn score<'v>(
    model: &Model,
    plan: &[Comparison],
    levels: &[u8],
    tf: &dyn Frequencies,
    left_value: impl Fn(usize) -> Option<&'v Value>,
) -> Score {
    let mut terms = Vec::with_capacity(levels.len());
    for (ci, &level) in levels.iter().enumerate() {
        let mut w = model.level_weight(ci, level);
        let mut adj = 0.0;
        if level > 0 && plan[ci].comparator.tf_adjusted().contains(&level) {
            let f = tf_sources(plan, ci, level)
                .into_iter()
                .flatten()
                .filter_map(|(src, src_level)| {
                    let v = left_value(src)?;
                    Some(tf.freq(src, src_level, &v.tf_key(plan[src].comparator, src_level)))
                })
                .find(|&f| f > 0.0);
            if let Some(f) = f {
                adj = model.tf_adjustment(ci, level, f);
            }
        }
        w += adj;
        terms.push(Term {
            level,
            weight: w,
            tf_adjustment: adj,
        });
    }
    let mut weights: Vec<f64> = terms.iter().map(|t| t.weight).collect();
    let mut groups = model::pair_groups(
        model.comparisons.iter().map(|c| c.comparator),
        model.comparisons.iter().map(|c| c.group.as_str()),
        levels,
    );
    model::settle_pair(
        |c| model.comparisons[c].comparator,
        levels,
        &mut groups,
        &mut weights,
        |c| model.level_weight(c, 1),
    );
    for (t, w) in terms.iter_mut().zip(&weights) {
        if *w != t.weight {
            t.tf_adjustment = 0.0;
        }
        t.weight = *w;
    }
    let weight = model.prior_weight() + weights.iter().sum::<f64>();
    Score { weight, terms }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value's frequency counts the records other than the scored one:
    /// the pair's own two records are one holder besides it, not two.
    #[test]
    fn a_values_frequency_is_among_the_other_records() {
        // Counted with the scored record (a batch; a stored record).
        assert_eq!(share_of_others(2, 101, true), 1.0 / 100.0);
        assert_eq!(share_of_others(5, 101, true), 4.0 / 100.0);
        // Held by the scored record alone (a reading's source name): as
        // rare as a count can say.
        assert_eq!(share_of_others(1, 101, true), 1.0 / 100.0);
        assert_eq!(share_of_others(0, 101, true), 0.0);
        assert_eq!(share_of_others(1, 1, true), 0.0);
        // Not counted (a record being created): the count is the others'.
        assert_eq!(share_of_others(1, 100, false), 1.0 / 100.0);
        assert_eq!(share_of_others(0, 100, false), 0.0);
        // A batch's counts and an engine's per-record counts say the same.
        let plan = [Comparison {
            name: "氏名".into(),
            column: 0,
            field_type: FieldType::PersonName,
            aspect: Aspect::PersonName,
            comparator: Comparator::Person,
            identifying: true,
            group: model::PERSON_GROUP,
            seed_group: model::PERSON_GROUP,
        }];
        let values: Vec<Option<Value>> = ["佐藤花子", "佐藤花子", "鈴木一郎", "佐藤花子", ""]
            .iter()
            .map(|v| (!v.is_empty()).then(|| Value::new(*v)))
            .collect();
        let tf = TermFrequencies::count(&plan, values.len(), |r, _| values[r].as_ref());
        assert_eq!(tf.freq(0, 1, "佐藤花子"), 2.0 / 4.0);
        assert_eq!(tf.freq(0, 1, "鈴木一郎"), 1.0 / 4.0);
        let slots = tf_slots(&plan);
        let one = SlotFrequencies {
            slots: &slots,
            counts: &[3],
            records: 5,
        };
        assert_eq!(one.freq(0, 1, ""), tf.freq(0, 1, "佐藤花子"));
    }

    /// A missing value is no evidence, but for a company's name against a
    /// record with none: a company against a consumer.
    #[test]
    fn a_company_against_a_record_with_no_company_name_is_one_sided() {
        let headers = ["会社名".to_string(), "氏名".to_string()];
        let types = [FieldType::CompanyName, FieldType::PersonName];
        let plan = plan(
            &headers,
            &types,
            &[true, true],
            crate::rules::Entity::Establishment,
        );
        let company = plan
            .iter()
            .find(|c| c.comparator == Comparator::Company)
            .unwrap();
        let abc = Value::new("ABC商事");
        for (a, b) in [(Some(&abc), None), (None, Some(&abc))] {
            let l = level(company, a, b);
            assert_eq!(company.comparator.level_label(l), "one_sided");
            assert!(company.comparator.is_against(l));
        }
        assert_eq!(level(company, None, None), 0);
        // Only the name itself says so: its branch, its legal form and a
        // person's name missing on one side are no evidence.
        for c in plan.iter().filter(|c| c.comparator != Comparator::Company) {
            assert_eq!(level(c, Some(&abc), None), 0, "{}", c.name);
        }
    }

    #[test]
    fn chome_split() {
        assert_eq!(split_chome("霞が関一丁目"), ("霞が関", "一丁目"));
        assert_eq!(split_chome("本町12丁目"), ("本町", "12丁目"));
        assert_eq!(split_chome("日本大通"), ("日本大通", ""));
        assert_eq!(split_chome("丁目"), ("丁目", ""));
    }
}

//! The Fellegi–Sunter model: per comparison level, m = P(level | match) and
//! u = P(level | non-match); a pair's score is the log2 prior odds plus the sum
//! of log2(m/u) over its comparisons (level 0, "missing", adds nothing), with a
//! term-frequency adjustment on the levels that have one.
//!
//! Training needs no labels. u comes from random pairs (almost all of which
//! are non-matches) and stays fixed. m starts, per comparison, from the
//! candidate pairs that the other identifying comparisons already call
//! matches (a deterministic rule, leaving the comparison itself out). The
//! prior starts from that rule's share of all pairs and EM refines it over all
//! pairs of the file — the blocked candidates as they are, the rest
//! represented by the random sample.
//! EM runs on the distinct level patterns with their counts, so its cost does
//! not grow with the number of pairs.

use super::compare::Comparator;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Probabilities are kept in [FLOOR, 1 − FLOOR] so no weight is infinite.
const FLOOR: f64 = 1e-10;
/// How far a term-frequency adjustment may move a weight, in bits.
const TF_CLAMP: f64 = 6.0;

/// A trained model: m and u per comparison level, and the prior.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Model {
    /// Format version of this file.
    pub version: u32,
    /// P(match) among all pairs of the file.
    pub prior: f64,
    pub comparisons: Vec<ComparisonModel>,
    /// How training went (informative; not used for scoring).
    pub training: Training,
    /// The bands calibrated from the stewards' labels when the service
    /// trained (`[matching] auto_merge_precision`, `review_recall`); absent:
    /// the rules' thresholds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibrated: Option<Calibrated>,
}

/// Thresholds calibrated from labels, as probabilities.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Calibrated {
    pub match_threshold: f64,
    pub review_threshold: f64,
    /// The labelled pairs they were calibrated on.
    pub labels: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ComparisonModel {
    /// `column` or `column:aspect` (`会社名:branch`).
    pub name: String,
    pub comparator: Comparator,
    /// Comparisons of one evidence group say the same thing twice (a name
    /// and its reading; an address, its postal code and its phone — a
    /// household shares all three): only the strongest term of a group
    /// counts, the others weigh 0. Empty: a group of its own.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    pub levels: Vec<LevelModel>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LevelModel {
    pub label: String,
    /// P(level | match)
    pub m: f64,
    /// P(level | non-match), from random pairs
    pub u: f64,
    /// Term-frequency adjusted (the weight shown is the average one).
    pub tf: bool,
    /// The share of the term-frequency adjustment that counts, in [0, 1]:
    /// 1 unless the stewards' labels showed that a value's rarity tells
    /// less here ([`learn_tf_from_labels`]).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub tf_scale: f64,
}

fn one() -> f64 {
    1.0
}

fn is_one(x: &f64) -> bool {
    *x == 1.0
}

impl LevelModel {
    /// log2(m / u), as trained; scoring uses [`ComparisonModel::weight`].
    pub fn raw_weight(&self) -> f64 {
        (self.m / self.u).log2()
    }
}

impl ComparisonModel {
    /// The weight of a level (≥ 1) as scoring uses it: log2(m / u), except
    /// that a level saying the two are *different things* (another
    /// organisation's name, two offices' own postal codes, another branch:
    /// [`Comparator::is_against`]) weighs at least as much against a match as
    /// the comparison's first level weighs for one. Random pairs almost never
    /// reach such a level, so u alone would call it evidence *for* a match.
    /// And a person's name agreeing in the surname only weighs at most 0.
    pub fn weight(&self, level: u8) -> f64 {
        let raw = self.levels[level as usize - 1].raw_weight();
        against_cap(self.comparator, level, raw, || self.levels[0].raw_weight())
    }
}

/// See [`ComparisonModel::weight`]; `first` gives the first level's weight
/// (computed only for an against level: scoring calls this per term).
/// A person's name that agrees in the surname only, or not at all
/// ([`Comparator::is_person_name`], `surname_only` and `different`), is
/// never evidence *for* one person: in a household at one address (or
/// among one company's contacts) sharing a surname is common, and
/// training can find it more often among matches than among random pairs.
fn against_cap(comparator: Comparator, level: u8, raw: f64, first: impl FnOnce() -> f64) -> f64 {
    const SURNAME_ONLY: u8 = 4;
    if comparator.is_against(level) {
        raw.min(-first().abs())
    } else if comparator.is_person_name() && level >= SURNAME_ONLY {
        raw.min(0.0)
    } else {
        raw
    }
}

/// The evidence group a term counts in: a level saying the two are
/// different things stands alone (the group's strongest agreement must not
/// hide it: `小樽商科大学` / `小樽商科大学附属図書館` have one reading), and so
/// does a shared mobile number ([`Comparator::stands_alone`]).
pub fn term_group(comparator: Comparator, level: u8, group: &str) -> &str {
    if comparator.stands_alone(level) {
        ""
    } else {
        group
    }
}

/// The evidence group of each term of one pair (`levels`; `comparators[c]`
/// and `groups[c]` are comparison c's): [`term_group`]'s, except that a
/// name in [`CONTACT_GROUP`] is a consumer's name, in [`PERSON_GROUP`],
/// when the pair has no company name to compare (one side or both have
/// none): a schema with company and person fields (the service's is every
/// field of the rules) holds consumers too, and a household of them is
/// told apart by the rules of the person group ([`settle_person`]).
pub fn pair_groups<'g>(
    comparators: impl Iterator<Item = Comparator> + Clone,
    groups: impl Iterator<Item = &'g str>,
    levels: &[u8],
) -> Vec<&'g str> {
    let mut company = comparators
        .clone()
        .zip(levels)
        .filter(|(c, _)| *c == Comparator::Company)
        .map(|(_, &l)| l)
        .peekable();
    let consumers = company.peek().is_some() && company.all(|l| l == 0);
    comparators
        .zip(groups)
        .zip(levels)
        .map(|((c, g), &l)| match term_group(c, l, g) {
            CONTACT_GROUP if consumers && c.is_person_name() => PERSON_GROUP,
            other => other,
        })
        .collect()
}

/// The evidence group of the person named on a company's record: another
/// contact of one customer is no evidence against.
pub const CONTACT_GROUP: &str = "contact";

/// The evidence group of a consumer's name, in kanji and in kana (a
/// contact named on a company's record is in `contact`, and another
/// contact of one customer is no evidence against).
pub const PERSON_GROUP: &str = "person";

/// One person's name in kanji and kana says one thing. In the
/// [`PERSON_GROUP`]: an alike name (`close`: 直子 / 直人) whose reading names
/// another given name (`surname_only`, `different`: ナオコ / ナオト) counts as
/// that other name; and when the best the group says is `surname_only` —
/// another person of one household, a sibling or a twin, whose address,
/// phone and even birth date agree — it is evidence against, as strong as
/// the full name is for, standing outside the group. `is_person(c)` says
/// whether comparison c compares names ([`Comparator::is_person_name`]); `first(c)`
/// is its first-level weight (in the unit of `weights`). Called by
/// [`settle_pair`].
pub fn settle_person(
    is_person: impl Fn(usize) -> bool,
    levels: &[u8],
    groups: &mut [&str],
    weights: &mut [f64],
    first: impl Fn(usize) -> f64,
) {
    const CLOSE: u8 = 2;
    const SURNAME_ONLY: u8 = 4;
    let members: Vec<usize> = (0..levels.len())
        .filter(|&c| groups[c] == PERSON_GROUP && levels[c] > 0 && is_person(c))
        .collect();
    let Some(best) = members.iter().map(|&c| levels[c]).min() else {
        return;
    };
    let other_name = members
        .iter()
        .map(|&c| levels[c])
        .filter(|&l| l >= SURNAME_ONLY)
        .min();
    let verdict = match other_name {
        Some(l) if best == CLOSE => {
            for &c in &members {
                if levels[c] == CLOSE {
                    weights[c] = 0.0;
                }
            }
            l
        }
        _ => best,
    };
    if verdict == SURNAME_ONLY {
        let against = members
            .iter()
            .copied()
            .find(|&c| levels[c] == SURNAME_ONLY)
            .expect("a member says it");
        for &c in &members {
            weights[c] = 0.0;
        }
        weights[against] = -first(against).abs();
        groups[against] = "";
    }
}

/// A branch named on one side only (`one_sided`: `九州電力` / `九州電力
/// 長崎支社`) is one office written two ways, or a head office and one of
/// its branches — two customers when each office is one
/// ([`crate::rules::Entity::Establishment`]; the branch is compared only then).
/// Which it is, the places tell: when the records share none — the
/// addresses that can be compared lie in other towns, and no postal code or
/// phone agrees ([`Comparator::same_place`]) — they are two offices. On a
/// generated business file (BtoB, 20,000 records) that pattern held 4
/// matches against 2,975 non-matches, and with one place in common 60
/// against 197. So then the branch's term weighs against as strongly as a
/// shared branch weighs for, standing outside any group. `comparator(c)` is
/// comparison c's; `first(c)` its first-level weight (in the unit of
/// `weights`). Called by [`settle_pair`].
pub fn settle_branch(
    comparator: impl Fn(usize) -> Comparator,
    levels: &[u8],
    groups: &mut [&str],
    weights: &mut [f64],
    first: impl Fn(usize) -> f64,
) {
    const ONE_SIDED: u8 = 2;
    let Some(branch) =
        (0..levels.len()).find(|&c| comparator(c) == Comparator::Branch && levels[c] == ONE_SIDED)
    else {
        return;
    };
    let mut places = (0..levels.len())
        .filter_map(|c| comparator(c).same_place(levels[c]))
        .peekable();
    if places.peek().is_some() && !places.any(|same| same) {
        weights[branch] = -first(branch).abs();
        groups[branch] = "";
    }
}

/// What a pair's terms weigh together, once each is weighed: one person's
/// name in kanji and kana ([`settle_person`]), a head office against a
/// branch ([`settle_branch`]), then each evidence group's strongest term
/// ([`combine_groups`]). Scoring and training call this one function, so
/// they weigh a pattern alike. `comparator(c)` is comparison c's, `groups`
/// the pair's ([`pair_groups`]), `first(c)` its first-level weight.
pub fn settle_pair(
    comparator: impl Fn(usize) -> Comparator,
    levels: &[u8],
    groups: &mut [&str],
    weights: &mut [f64],
    first: impl Fn(usize) -> f64,
) {
    settle_person(
        |c| comparator(c).is_person_name(),
        levels,
        groups,
        weights,
        &first,
    );
    settle_branch(&comparator, levels, groups, weights, &first);
    combine_groups(groups, weights);
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Training {
    /// The rules' starting weights (`[start]`), not trained on any data:
    /// the service matches with them until its first training.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub starting: bool,
    /// The records the service trained on (0: a file's model, or unknown);
    /// it trains again once it holds twice as many.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub records: u64,
    pub candidate_pairs: u64,
    pub random_pairs: u64,
    pub deterministic_matches: u64,
    pub em_iterations: u32,
    pub converged: bool,
    /// The labels the store held when the service trained (m blended with
    /// the matches among them, [`learn_from_labels`]); it trains again
    /// after [`RETRAIN_LABELS`] more.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub labels: u64,
}

/// How many labelled matches count as much as the unsupervised estimate of
/// a comparison's m: with fewer, the estimate leads; with many more, the
/// labels do.
pub const LABEL_WEIGHT: f64 = 200.0;

/// The service trains again after this many new labels.
pub const RETRAIN_LABELS: u64 = 100;

/// Blend each comparison's m with the levels of labelled matches, once
/// there are at least [`LABEL_WEIGHT`] of them: m = (count + K·m) / (n + K),
/// K = [`LABEL_WEIGHT`], n the labelled matches in which the comparison has
/// a value (a missing value counts for no level). Stewards label the pairs
/// they were shown — mostly the review band — so the labels are a biased
/// sample: blended from the first labels on, 300 decisions on a generated
/// CRM file gave F1 0.8592 where the model without them gave 0.8643
/// (`tests/serve.rs`, `simulated_steward`). `matched` holds each labelled
/// match's levels.
pub fn learn_from_labels(model: &mut Model, matched: &[Vec<u8>]) {
    if (matched.len() as f64) < LABEL_WEIGHT {
        return;
    }
    for (c, cm) in model.comparisons.iter_mut().enumerate() {
        let mut counts = vec![0u64; cm.levels.len()];
        for levels in matched {
            if let Some(&l) = levels.get(c).filter(|&&l| l > 0) {
                if let Some(n) = counts.get_mut(l as usize - 1) {
                    *n += 1;
                }
            }
        }
        let n: u64 = counts.iter().sum();
        if n == 0 {
            continue;
        }
        for (level, count) in cm.levels.iter_mut().zip(&counts) {
            let m = (*count as f64 + LABEL_WEIGHT * level.m) / (n as f64 + LABEL_WEIGHT);
            level.m = m.clamp(FLOOR, 1.0 - FLOOR);
        }
    }
}

/// How many labelled pairs of each kind, matches and non-matches, a
/// term-frequency level needs among the pairs it adjusts before
/// [`learn_tf_from_labels`] fits its scale (and at least [`LABEL_WEIGHT`]
/// in all).
pub const TF_LABELS_EACH: usize = 20;

/// Fit each term-frequency level's share of its adjustment (`tf_scale`,
/// 0 … 1) to the stewards' labels: how much agreeing on a rare value (a
/// rare name, a landline few records share) tells these records apart,
/// beyond what the level itself says. `labelled` holds each labelled pair
/// scored by `model` (whose scales are where the fit starts) and whether
/// it is a match.
///
/// The fit maximises the labels' likelihood over the scales of the levels
/// with enough labels ([`TF_LABELS_EACH`]), one level at a time over a grid
/// of tenths, with an intercept of its own: stewards label mostly the
/// review band, a sample chosen by score, and the intercept takes up how
/// far that sample's share of matches is from the model's prior, so only
/// the slope of rarity is learnt. Group effects are held as scored (a term
/// its group dropped stays dropped). Each fitted scale is then blended with
/// the starting one as m is ([`learn_from_labels`]): (n·fit + K·start) /
/// (n + K), n the labelled pairs the level adjusts, K = [`LABEL_WEIGHT`].
pub fn learn_tf_from_labels(model: &mut Model, labelled: &[(super::Score, bool)]) {
    let keys: Vec<(usize, usize)> = model
        .comparisons
        .iter()
        .enumerate()
        .flat_map(|(c, cm)| {
            cm.levels
                .iter()
                .enumerate()
                .filter(|(_, l)| l.tf && l.tf_scale > 0.0)
                .map(move |(i, _)| (c, i))
        })
        .collect();
    let start: Vec<f64> = keys
        .iter()
        .map(|&(c, i)| model.comparisons[c].levels[i].tf_scale)
        .collect();
    // Each pair's adjustment per key at scale 1, and its weight without them.
    let raw: Vec<Vec<f64>> = labelled
        .iter()
        .map(|(score, _)| {
            keys.iter()
                .zip(&start)
                .map(|(&(c, i), s)| {
                    let t = &score.terms[c];
                    if t.level as usize == i + 1 {
                        t.tf_adjustment / s
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect();
    let base: Vec<f64> = labelled
        .iter()
        .zip(&raw)
        .map(|((score, _), r)| score.weight - r.iter().zip(&start).map(|(a, s)| a * s).sum::<f64>())
        .collect();
    let y: Vec<bool> = labelled.iter().map(|(_, m)| *m).collect();
    let adjusted: Vec<usize> = (0..keys.len())
        .map(|k| raw.iter().filter(|r| r[k] != 0.0).count())
        .collect();
    let fitted: Vec<usize> = (0..keys.len())
        .filter(|&k| {
            let matches = raw
                .iter()
                .zip(&y)
                .filter(|(r, &m)| m && r[k] != 0.0)
                .count();
            let non = adjusted[k] - matches;
            adjusted[k] as f64 >= LABEL_WEIGHT && matches.min(non) >= TF_LABELS_EACH
        })
        .collect();
    if fitted.is_empty() {
        return;
    }
    let mut scale = start.clone();
    let weights = |scale: &[f64]| -> Vec<f64> {
        base.iter()
            .zip(&raw)
            .map(|(b, r)| b + r.iter().zip(scale).map(|(a, s)| a * s).sum::<f64>())
            .collect()
    };
    const PASSES: usize = 3;
    for _ in 0..PASSES {
        for &k in &fitted {
            let mut best = (f64::NEG_INFINITY, scale[k]);
            for tenth in 0..=10 {
                let s = f64::from(tenth) / 10.0;
                let mut trial = scale.clone();
                trial[k] = s;
                let ll = intercept_likelihood(&weights(&trial), &y);
                if ll > best.0 {
                    best = (ll, s);
                }
            }
            scale[k] = best.1;
        }
    }
    for &k in &fitted {
        let (c, i) = keys[k];
        let n = adjusted[k] as f64;
        model.comparisons[c].levels[i].tf_scale =
            ((n * scale[k] + LABEL_WEIGHT * start[k]) / (n + LABEL_WEIGHT)).clamp(0.0, 1.0);
    }
}

/// The log-likelihood of labels `y` under weights `w` (log2 odds) shifted
/// by the intercept that maximises it (Newton's method; the labels must
/// hold both kinds).
fn intercept_likelihood(w: &[f64], y: &[bool]) -> f64 {
    let ln2 = std::f64::consts::LN_2;
    // ln σ(x) = −ln(1 + e^−x), without overflow
    let log_sigmoid = |x: f64| -> f64 { -((-x).max(0.0) + (-x.abs()).exp().ln_1p()) };
    let mut b = 0.0;
    for _ in 0..50 {
        let (mut g, mut h) = (0.0, 0.0);
        for (wi, &m) in w.iter().zip(y) {
            let p = 1.0 / (1.0 + (-(wi + b) * ln2).exp());
            g += if m { 1.0 - p } else { -p };
            h += p * (1.0 - p);
        }
        if h <= 1e-12 {
            break;
        }
        let step = (g / (h * ln2)).clamp(-8.0, 8.0);
        b += step;
        if step.abs() < 1e-9 {
            break;
        }
    }
    w.iter()
        .zip(y)
        .map(|(wi, &m)| {
            let z = (wi + b) * ln2;
            if m {
                log_sigmoid(z)
            } else {
                log_sigmoid(-z)
            }
        })
        .sum()
}

/// Whether `p` can be a level's m or u: in (0, 1], so a weight log2(m/u)
/// can be computed from it.
pub fn is_probability(p: f64) -> bool {
    p.is_finite() && p > 0.0 && p <= 1.0
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One comparison's contribution to a pair's score.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub level: u8,
    /// log2(m/u) of the level plus the term-frequency adjustment.
    pub weight: f64,
    pub tf_adjustment: f64,
}

impl Model {
    /// The readable file form (`--save-model`).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a model is always representable in TOML")
    }

    pub fn from_toml(text: &str) -> Result<Model, toml::de::Error> {
        toml::from_str(text)
    }

    /// Whether this model can score pairs of `plan`: the same comparisons
    /// (names and comparators, in order), each with its comparator's levels,
    /// and probabilities a weight can be computed from. Checked whenever a
    /// model is loaded or replaced, so a model that does not fit is a clear
    /// error then, never a panic while a pair is scored.
    pub fn check_fits(&self, plan: &[super::Comparison]) -> Result<(), ModelMismatch> {
        let want: Vec<(&str, Comparator)> = plan
            .iter()
            .map(|c| (c.name.as_str(), c.comparator))
            .collect();
        let have: Vec<(&str, Comparator)> = self
            .comparisons
            .iter()
            .map(|c| (c.name.as_str(), c.comparator))
            .collect();
        if want != have {
            let list = |v: &[(&str, Comparator)]| {
                v.iter()
                    .map(|(n, c)| format!("{n} ({c:?})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(ModelMismatch(format!(
                "the data gives the comparisons [{}], the model has [{}]",
                list(&want),
                list(&have)
            )));
        }
        for c in &self.comparisons {
            let labels = c.comparator.levels();
            let have: Vec<&str> = c.levels.iter().map(|l| l.label.as_str()).collect();
            if have != labels {
                return Err(ModelMismatch(format!(
                    "{} has the levels [{}] in the model, [{}] expected",
                    c.name,
                    have.join(", "),
                    labels.join(", ")
                )));
            }
            for l in &c.levels {
                if !is_probability(l.m) || !is_probability(l.u) {
                    return Err(ModelMismatch(format!(
                        "{} level {}: m = {} and u = {} must be in (0, 1]",
                        c.name, l.label, l.m, l.u
                    )));
                }
                if !(0.0..=1.0).contains(&l.tf_scale) {
                    return Err(ModelMismatch(format!(
                        "{} level {}: tf_scale = {} must be in [0, 1]",
                        c.name, l.label, l.tf_scale
                    )));
                }
            }
        }
        if !(self.prior.is_finite() && self.prior > 0.0 && self.prior < 1.0) {
            return Err(ModelMismatch(format!(
                "the prior {} must be in (0, 1)",
                self.prior
            )));
        }
        if let Some(c) = &self.calibrated {
            let open = |p: f64| p.is_finite() && p > 0.0 && p < 1.0;
            if !(open(c.match_threshold)
                && open(c.review_threshold)
                && c.review_threshold <= c.match_threshold)
            {
                return Err(ModelMismatch(format!(
                    "calibrated thresholds {} / {} must be in (0, 1), review ≤ match",
                    c.review_threshold, c.match_threshold
                )));
            }
        }
        Ok(())
    }

    pub fn prior_weight(&self) -> f64 {
        (self.prior / (1.0 - self.prior)).log2()
    }

    /// The weight of a level, without term frequency (0 for missing).
    pub fn level_weight(&self, comparison: usize, level: u8) -> f64 {
        if level == 0 {
            return 0.0;
        }
        self.comparisons[comparison].weight(level)
    }

    /// log2 adjustment for a value seen with relative frequency `freq` on a
    /// term-frequency level: agreeing on a rare value is stronger evidence
    /// than agreeing on a common one.
    pub fn tf_adjustment(&self, comparison: usize, level: u8, freq: f64) -> f64 {
        let l = &self.comparisons[comparison].levels[level as usize - 1];
        if !l.tf || freq <= 0.0 {
            return 0.0;
        }
        l.tf_scale * (l.u / freq.max(FLOOR)).log2().clamp(-TF_CLAMP, TF_CLAMP)
    }

    /// Probability of a match for a total weight.
    pub fn probability(weight: f64) -> f64 {
        1.0 / (1.0 + (-weight).exp2())
    }

    /// The weight at which the probability is `p`: `log2(p / (1 − p))`;
    /// ±∞ at 1 and 0 (the rules keep thresholds strictly between).
    pub fn weight_for(p: f64) -> f64 {
        (p / (1.0 - p)).log2()
    }
}

/// A model that cannot score the pairs at hand, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the model does not fit: {0}")]
pub struct ModelMismatch(pub String);

/// Keep only the strongest term of each evidence group: the largest positive
/// weight when any is positive, else the least negative; the others become 0.
/// `groups[i]` is comparison i's group ("" = alone).
pub fn combine_groups<G: AsRef<str>>(groups: &[G], weights: &mut [f64]) {
    for i in 0..weights.len() {
        let g = groups[i].as_ref();
        if g.is_empty() {
            continue;
        }
        // The first member of each group does the work for all of them.
        if groups[..i].iter().any(|x| x.as_ref() == g) {
            continue;
        }
        let members: Vec<usize> = (i..weights.len())
            .filter(|&j| groups[j].as_ref() == g)
            .collect();
        let best = members
            .iter()
            .copied()
            .filter(|&j| weights[j] != 0.0)
            .max_by(|&a, &b| weights[a].total_cmp(&weights[b]).then(b.cmp(&a)));
        for &j in &members {
            if Some(j) != best {
                weights[j] = 0.0;
            }
        }
    }
}

/// Distinct level patterns with how many pairs have each.
#[derive(Debug, Default)]
pub struct Patterns {
    pub width: usize,
    counts: HashMap<Box<[u8]>, u64>,
}

impl Patterns {
    pub fn new(width: usize) -> Patterns {
        Patterns {
            width,
            counts: HashMap::new(),
        }
    }

    pub fn add(&mut self, levels: &[u8], n: u64) {
        debug_assert_eq!(levels.len(), self.width);
        match self.counts.get_mut(levels) {
            Some(c) => *c += n,
            None => {
                self.counts.insert(levels.into(), n);
            }
        }
    }

    pub fn merge(&mut self, other: Patterns) {
        for (k, n) in other.counts {
            self.add(&k, n);
        }
    }

    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Sorted, so training is deterministic whatever the hash order.
    fn sorted(&self) -> Vec<(&[u8], u64)> {
        let mut v: Vec<(&[u8], u64)> = self.counts.iter().map(|(k, n)| (&**k, *n)).collect();
        v.sort_unstable();
        v
    }

    /// Share of pairs at each level, per comparison (level 0 excluded), with
    /// add-one smoothing so no level is impossible.
    fn level_shares(&self, levels: &[usize], filter: impl Fn(&[u8]) -> bool) -> Vec<Vec<f64>> {
        let mut counts: Vec<Vec<f64>> = levels.iter().map(|&n| vec![1.0; n]).collect();
        for (p, n) in self.sorted() {
            if !filter(p) {
                continue;
            }
            for (c, &l) in p.iter().enumerate() {
                if l > 0 {
                    counts[c][l as usize - 1] += n as f64;
                }
            }
        }
        counts.into_iter().map(normalise).collect()
    }
}

fn normalise(v: Vec<f64>) -> Vec<f64> {
    let s: f64 = v.iter().sum();
    v.into_iter()
        .map(|x| (x / s).clamp(FLOOR, 1.0 - FLOOR))
        .collect()
}

/// What a comparison is, for training.
#[derive(Debug, Clone)]
pub struct ComparisonSpec {
    pub name: String,
    pub comparator: Comparator,
    /// Counts towards the deterministic rule (an identifying field: name,
    /// phone, e-mail, birth date, address, corporate number).
    pub identifying: bool,
    /// Evidence group (see [`ComparisonModel::group`]); empty for none.
    pub group: &'static str,
    /// The group an exact agreement counts in for the seeding rule; empty
    /// for one of its own. Usually `group`; see
    /// [`super::Comparison::seed_group`].
    pub seed_group: &'static str,
}

/// How much rarer than the file's size the chance agreements seeding
/// training must be, in bits: with n records and n²/2 pairs, agreements
/// worth log2(n) + this many bits of u happen by chance in about n / 2^this
/// pairs of non-matches (measured: 3 agreeing comparisons, counted one by
/// one, let a household's address, postal code and landline vouch for each
/// other, and seeded m for "moved" at a fifth of its rate in a CRM file).
pub const SEED_MARGIN_BITS: f64 = 7.0;

/// The evidence (bits of u, summed over agreeing evidence groups) a pair
/// needs to seed training, for a file of `all_pairs` pairs.
pub fn seed_bits(all_pairs: f64) -> f64 {
    let records = (2.0 * all_pairs.max(1.0)).sqrt();
    records.log2() + SEED_MARGIN_BITS
}

/// Train a model without labels: `u` from the random pairs' patterns; `m`
/// from the candidate pairs that the other identifying comparisons call
/// matches (leave one out); the prior by EM over the candidate pairs with the
/// random sample standing for the pairs blocking left out (EM that also moves
/// `m` was measured and is worse, see below).
pub fn train(
    specs: &[ComparisonSpec],
    candidates: &Patterns,
    random: &Patterns,
    all_pairs: f64,
    max_iterations: u32,
) -> Model {
    let sizes: Vec<usize> = specs.iter().map(|s| s.comparator.levels().len()).collect();
    // u: random pairs are (almost all) non-matches. It stays fixed: EM that
    // also moves u explains blocking's look-alike non-matches as a class of
    // their own.
    let u = random.level_shares(&sizes, |_| true);

    // Seed m per comparison from the candidate pairs that the *other*
    // identifying comparisons call matches (leave one out), so a field's own
    // agreement never vouches for itself. Comparisons of one evidence group
    // move together (a move changes the address, the postal code and the
    // landline at once): a field's m is seeded from agreements outside its
    // group, and a group counts once, with its rarest agreement. The rule
    // asks for enough evidence, in bits of u, that chance agreements of
    // non-matches are few against the file's matches ([`seed_bits`]).
    let evidence = |c: usize| match specs[c].seed_group {
        "" => c,
        g => specs.iter().position(|s| s.seed_group == g).unwrap_or(c),
    };
    // Bits of u of a level that says the two values are one
    // ([`Comparator::exact_levels`]) of an identifying comparison, else 0.
    let bits = |c: usize, l: u8| {
        let exact = l > 0 && specs[c].comparator.exact_levels().contains(&l);
        if specs[c].identifying && exact {
            -u[c][l as usize - 1].log2()
        } else {
            0.0
        }
    };
    // The evidence of the groups other than `except`'s that agree exactly.
    let agreeing = |p: &[u8], except: Option<usize>| {
        let mut best: Vec<(usize, f64)> = Vec::new();
        for (c, &l) in p.iter().enumerate() {
            let g = evidence(c);
            let b = bits(c, l);
            if b <= 0.0 || Some(g) == except {
                continue;
            }
            match best.iter_mut().find(|(x, _)| *x == g) {
                Some((_, x)) => *x = x.max(b),
                None => best.push((g, b)),
            }
        }
        best.iter().map(|(_, b)| b).sum::<f64>()
    };
    let need = seed_bits(all_pairs);
    let everything = vec![1u8; specs.len()];
    let m: Vec<Vec<f64>> = (0..specs.len())
        .map(|c| {
            let own = Some(evidence(c));
            // Where the other groups cannot give that much, all of them.
            let need = need.min(agreeing(&everything, own));
            let shares = candidates.level_shares(&sizes, |p| {
                let e = agreeing(p, own);
                e > 0.0 && e >= need
            });
            shares[c].clone()
        })
        .collect();
    let total = candidates.total();
    let seed_need = need.min(agreeing(&everything, None));
    let seeded: u64 = candidates
        .sorted()
        .iter()
        .filter(|(p, _)| agreeing(p, None) >= seed_need)
        .map(|(_, n)| n)
        .sum();

    // EM runs over every pair of the file: the candidates as they are, the
    // pairs blocking left out represented by the random sample, scaled up.
    // It moves m and the prior; the prior starts at the deterministic rule's
    // share of all pairs.
    let background = (all_pairs - total as f64).max(0.0);
    let scale = if random.total() > 0 {
        background / random.total() as f64
    } else {
        0.0
    };
    let mut patterns: Vec<(&[u8], f64)> = candidates
        .sorted()
        .into_iter()
        .map(|(p, n)| (p, n as f64))
        .collect();
    patterns.extend(
        random
            .sorted()
            .into_iter()
            .map(|(p, n)| (p, n as f64 * scale)),
    );
    let population: f64 = patterns.iter().map(|(_, n)| n).sum();
    let mut prior = (seeded.max(1) as f64 / population.max(1.0)).clamp(1e-12, 0.5);

    // EM for the prior, with m and u held: the E-step gives each pattern its
    // match posterior, the M-step takes their mean. (Letting EM move m too
    // was measured on the generated 20k sets: under the dependence between
    // fields it drifts towards a "same area / same surname" class; pairwise
    // F1 fell to 0.51–0.53 without evidence groups and to 0.94 (BtoB) and
    // 0.91 (BtoC) with them, against 0.98 and 0.99 with m held at the
    // leave-one-out estimate.)
    let log_ratio: Vec<f64> = patterns
        .iter()
        .map(|(p, _)| {
            let mut groups = pair_groups(
                specs.iter().map(|s| s.comparator),
                specs.iter().map(|s| s.group),
                p,
            );
            let mut w: Vec<f64> = p
                .iter()
                .enumerate()
                .map(|(c, &l)| {
                    if l == 0 {
                        0.0
                    } else {
                        let ln = |i: usize| (m[c][i] / u[c][i]).ln();
                        against_cap(specs[c].comparator, l, ln(l as usize - 1), || ln(0))
                    }
                })
                .collect();
            settle_pair(
                |c| specs[c].comparator,
                p,
                &mut groups,
                &mut w,
                |c| (m[c][0] / u[c][0]).ln(),
            );
            w.iter().sum()
        })
        .collect();
    let mut iterations = 0;
    let mut converged = false;
    while iterations < max_iterations && population > 0.0 {
        iterations += 1;
        let odds = (prior / (1.0 - prior)).ln();
        let matched: f64 = patterns
            .iter()
            .zip(&log_ratio)
            .map(|((_, n), lr)| n / (1.0 + (-(odds + lr)).exp()))
            .sum();
        let new_prior = (matched / population).clamp(1e-12, 1.0 - FLOOR);
        let delta = ((prior - new_prior) / prior).abs();
        prior = new_prior;
        if delta < 1e-4 {
            converged = true;
            break;
        }
    }

    Model {
        calibrated: None,
        version: 1,
        prior,
        comparisons: specs
            .iter()
            .enumerate()
            .map(|(c, s)| ComparisonModel {
                name: s.name.clone(),
                comparator: s.comparator,
                group: s.group.to_string(),
                levels: s
                    .comparator
                    .levels()
                    .iter()
                    .enumerate()
                    .map(|(i, label)| LevelModel {
                        label: label.to_string(),
                        m: m[c][i],
                        u: u[c][i],
                        tf: s.comparator.tf_adjusted().contains(&(i as u8 + 1)),
                        tf_scale: 1.0,
                    })
                    .collect(),
            })
            .collect(),
        training: Training {
            starting: false,
            records: 0,
            candidate_pairs: total,
            random_pairs: random.total(),
            deterministic_matches: seeded,
            em_iterations: iterations,
            converged,
            labels: 0,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str) -> ComparisonSpec {
        ComparisonSpec {
            name: name.into(),
            comparator: Comparator::Exact,
            identifying: true,
            group: "",
            seed_group: "",
        }
    }

    #[test]
    fn one_name_in_kanji_and_kana_says_one_thing() {
        use Comparator as C;
        // kanji name, kana name, address (another group).
        let comparators = [C::Person, C::Person, C::Address];
        let settle = |levels: [u8; 3], weights: [f64; 3]| {
            let mut groups = [PERSON_GROUP, PERSON_GROUP, "location"];
            let mut w = weights;
            settle_person(
                |c| comparators[c] == C::Person,
                &levels,
                &mut groups,
                &mut w,
                |c| [13.0, 12.0, 14.0][c],
            );
            combine_groups(&groups, &mut w);
            w
        };
        // Twins or siblings: only the surname agrees, in both scripts.
        assert_eq!(settle([4, 4, 1], [-0.5, -0.4, 14.0]), [-13.0, 0.0, 14.0]);
        // 直子 / 直人 read ナオコ / ナオト: the reading names another name.
        assert_eq!(settle([2, 4, 1], [5.0, -0.4, 14.0]), [0.0, -12.0, 14.0]);
        assert_eq!(settle([2, 5, 1], [5.0, -6.0, 14.0]), [0.0, -6.0, 14.0]);
        // 裕子 / 祐子 read ユウコ twice: one person, a slip of the kanji.
        assert_eq!(settle([2, 1, 1], [5.0, 12.0, 14.0]), [0.0, 12.0, 14.0]);
        // Another reading of one kanji name (ヒロコ / ユウコ): the kanji wins.
        assert_eq!(settle([1, 4, 1], [13.0, -0.4, 14.0]), [13.0, 0.0, 14.0]);
        // A kana slip with no kanji, and a married name: not against.
        assert_eq!(settle([0, 2, 1], [0.0, 9.0, 14.0]), [0.0, 9.0, 14.0]);
        assert_eq!(settle([3, 3, 1], [2.6, 2.0, 14.0]), [2.6, 0.0, 14.0]);
        // A contact's name is not in the person group: left alone.
        let mut groups = ["contact", "contact", "location"];
        let mut w = [-0.5, -0.4, 14.0];
        settle_person(
            |c| comparators[c] == C::Person,
            &[4, 4, 1],
            &mut groups,
            &mut w,
            |_| 13.0,
        );
        assert_eq!(w, [-0.5, -0.4, 14.0]);
    }

    #[test]
    fn a_branch_on_one_side_with_no_place_in_common_is_another_office() {
        use Comparator as C;
        // company name, branch, address, postal code, phone.
        let comparators = [C::Company, C::Branch, C::Address, C::Postal, C::Phone];
        let groups0 = ["company", "", "location", "location", "location"];
        let weights = [12.0, -2.5, -3.0, -2.0, -4.0];
        let settle = |levels: [u8; 5]| {
            let mut groups = groups0;
            let mut w = weights;
            settle_branch(
                |c| comparators[c],
                &levels,
                &mut groups,
                &mut w,
                |c| [13.0, 6.5, 5.0, 4.0, 7.0][c],
            );
            (w, groups)
        };
        // 九州電力 / 九州電力 長崎支社 in other towns, with other codes
        // and phones: two offices, weighed against as a shared branch is for.
        let (w, g) = settle([1, 2, 5, 4, 3]);
        assert_eq!(w, [12.0, -6.5, -3.0, -2.0, -4.0]);
        assert_eq!(g[1], "");
        // No value to compare on one side counts for nothing either way.
        assert_eq!(settle([1, 2, 6, 0, 0]).0[1], -6.5);
        // One place in common (one town; one postal code; one phone;
        // one mobile): one office written two ways, perhaps.
        for levels in [
            [1, 2, 3, 4, 3],
            [1, 2, 5, 1, 3],
            [1, 2, 5, 4, 2],
            [1, 2, 6, 4, 1],
        ] {
            assert_eq!(settle(levels).0, weights, "{levels:?}");
        }
        // A neighbouring postal code (same area) or two offices' own codes
        // are no place in common.
        assert_eq!(settle([1, 2, 4, 2, 3]).0[1], -6.5);
        assert_eq!(settle([1, 2, 4, 3, 3]).0[1], -6.5);
        // Nothing about a place to compare: nothing said.
        assert_eq!(settle([1, 2, 0, 0, 0]).0, weights);
        // The same branch, another branch, no branch: left alone.
        for b in [0, 1, 3] {
            assert_eq!(settle([1, b, 5, 4, 3]).0, weights, "branch level {b}");
        }
    }

    #[test]
    fn a_group_does_not_vouch_for_its_own_members() {
        // Address and phone move together; name and e-mail do not. 1,000
        // people with two records each: 800 the same, 200 moved (address
        // and phone both new). 300 households share address and phone only.
        let spec = |name: &str, group: &'static str| ComparisonSpec {
            name: name.into(),
            comparator: Comparator::Exact,
            identifying: true,
            group,
            seed_group: group,
        };
        let specs = vec![
            spec("name", ""),
            spec("email", ""),
            spec("address", "loc"),
            spec("phone", "loc"),
        ];
        let mut cand = Patterns::new(4);
        cand.add(&[1, 1, 1, 1], 800);
        cand.add(&[1, 1, 2, 2], 200);
        cand.add(&[2, 2, 1, 1], 300);
        let mut random = Patterns::new(4);
        random.add(&[2, 2, 2, 2], 99_960);
        for p in [[1, 2, 2, 2], [2, 1, 2, 2], [2, 2, 1, 2], [2, 2, 2, 1]] {
            random.add(&p, 10);
        }
        let model = train(&specs, &cand, &random, 2e6, 100);
        let moved = model.comparisons[2].levels[1].m;
        // Counting the phone's agreement as evidence for the address would
        // seed from the unmoved pairs only: m(moved) ≈ 0.
        assert!((moved - 0.2).abs() < 0.02, "m(address different) {moved}");
        // A household agrees on one group only: it seeds nothing.
        assert!(model.comparisons[0].levels[1].m < 0.01);
    }

    #[test]
    fn em_separates_matches_from_non_matches() {
        // Three exact/different comparisons. Matches (200) mostly agree,
        // non-matches (800) mostly disagree; random pairs are all non-matches.
        let specs = vec![spec("a"), spec("b"), spec("c")];
        let mut cand = Patterns::new(3);
        cand.add(&[1, 1, 1], 180);
        cand.add(&[1, 1, 2], 20);
        cand.add(&[2, 2, 2], 700);
        cand.add(&[1, 2, 2], 100);
        let mut random = Patterns::new(3);
        random.add(&[2, 2, 2], 9_000);
        random.add(&[1, 2, 2], 900);
        random.add(&[2, 1, 2], 100);
        let model = train(&specs, &cand, &random, 1000.0, 100);
        assert!((model.prior - 0.2).abs() < 0.03, "prior {}", model.prior);
        assert!(model.level_weight(0, 1) > 0.0 && model.level_weight(0, 2) < 0.0);
        assert!(model.level_weight(1, 1) > model.level_weight(0, 1));
        assert_eq!(model.training.deterministic_matches, 180);
        // Deterministic: pattern order does not matter.
        let mut cand2 = Patterns::new(3);
        cand2.add(&[1, 2, 2], 100);
        cand2.add(&[2, 2, 2], 700);
        cand2.add(&[1, 1, 2], 20);
        cand2.add(&[1, 1, 1], 180);
        assert_eq!(train(&specs, &cand2, &random, 1000.0, 100), model);
    }

    #[test]
    fn labels_move_m_by_their_weight() {
        let specs = vec![spec("a"), spec("b")];
        let mut cand = Patterns::new(2);
        cand.add(&[1, 1], 100);
        cand.add(&[2, 2], 900);
        let mut random = Patterns::new(2);
        random.add(&[2, 2], 9_000);
        random.add(&[1, 2], 100);
        let mut model = train(&specs, &cand, &random, 1000.0, 50);
        let before = model.comparisons[0].levels[1].m;
        // Fewer labelled matches than the estimate weighs: nothing moves.
        let few = vec![vec![2u8, 0u8]; LABEL_WEIGHT as usize - 1];
        let unchanged = model.clone();
        learn_from_labels(&mut model, &few);
        assert_eq!(model, unchanged);
        // As many as it weighs, all at level 2 of `a` (and missing for
        // `b`): m moves half way towards 1.
        let matched = vec![vec![2u8, 0u8]; LABEL_WEIGHT as usize];
        let b_before = model.comparisons[1].levels.clone();
        learn_from_labels(&mut model, &matched);
        let after = model.comparisons[0].levels[1].m;
        assert!(
            (after - (before + 1.0) / 2.0).abs() < 1e-9,
            "{before} → {after}"
        );
        // Missing values teach nothing.
        assert_eq!(model.comparisons[1].levels, b_before);
        // The levels still sum to one.
        let sum: f64 = model.comparisons[0].levels.iter().map(|l| l.m).sum();
        assert!((sum - 1.0).abs() < 1e-6, "{sum}");
    }

    #[test]
    fn only_the_strongest_term_of_a_group_counts() {
        let groups = ["loc", "", "loc", "loc"];
        let mut w = [3.0, 5.0, 9.0, -4.0];
        combine_groups(&groups, &mut w);
        assert_eq!(w, [0.0, 5.0, 9.0, 0.0]);
        let mut w = [-3.0, 1.0, -1.0, 0.0];
        combine_groups(&groups, &mut w);
        assert_eq!(w, [0.0, 1.0, -1.0, 0.0]);
    }

    /// A model of one person-name comparison, its exact level seen on a
    /// hundredth of random pairs.
    fn one_name_model() -> Model {
        let specs = vec![ComparisonSpec {
            name: "name".into(),
            comparator: Comparator::Person,
            identifying: true,
            group: "",
            seed_group: "",
        }];
        let mut cand = Patterns::new(1);
        cand.add(&[1], 10);
        cand.add(&[5], 10);
        let mut random = Patterns::new(1);
        random.add(&[1], 10);
        random.add(&[5], 990);
        train(&specs, &cand, &random, 20.0, 10)
    }

    /// Labelled pairs agreeing on a name of one of four frequencies, each a
    /// match with the probability that `truth` (log2 odds of the pair's
    /// rarity adjustment) gives; scored by `model` 3.5 bits too low, as a
    /// review-band sample is.
    fn tf_labels(
        model: &Model,
        n: usize,
        truth: impl Fn(f64) -> f64,
    ) -> Vec<(super::super::Score, bool)> {
        let freqs = [0.0001, 0.001, 0.01, 0.05];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        (0..n)
            .map(|i| {
                let adj = model.tf_adjustment(0, 1, freqs[i % freqs.len()]);
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let uniform = (state >> 11) as f64 / (1u64 << 53) as f64;
                let matched = uniform < Model::probability(truth(adj));
                let term = Term {
                    level: 1,
                    weight: 2.0 + adj,
                    tf_adjustment: adj,
                };
                (
                    super::super::Score {
                        weight: -3.0 + adj,
                        terms: vec![term],
                    },
                    matched,
                )
            })
            .collect()
    }

    #[test]
    fn labels_scale_rarity_by_what_it_tells() {
        let model = one_name_model();
        let scale = |m: &Model| m.comparisons[0].levels[0].tf_scale;
        // Rarity tells nothing: the scale falls towards 0, held up only by
        // the blend with the start (2,000 labels against 200).
        let mut flat = model.clone();
        learn_tf_from_labels(&mut flat, &tf_labels(&model, 2000, |_| 0.5));
        assert!(scale(&flat) < 0.25, "{}", scale(&flat));
        // Rarity tells what the model says: the scale stays near 1.
        let mut full = model.clone();
        learn_tf_from_labels(&mut full, &tf_labels(&model, 2000, |adj| 0.5 + adj));
        assert!(scale(&full) > 0.85, "{}", scale(&full));
        // Half of it: in between.
        let mut half = model.clone();
        learn_tf_from_labels(&mut half, &tf_labels(&model, 2000, |adj| 0.5 + adj / 2.0));
        assert!((0.3..0.75).contains(&scale(&half)), "{}", scale(&half));
        // A scaled model scores with the share it learnt, and keeps it in
        // its file (a whole one is not written).
        let adj = model.tf_adjustment(0, 1, 0.0001);
        assert!((flat.tf_adjustment(0, 1, 0.0001) - scale(&flat) * adj).abs() < 1e-12);
        assert_eq!(Model::from_toml(&flat.to_toml()).unwrap(), flat);
        assert!(flat.to_toml().contains("tf_scale") && !model.to_toml().contains("tf_scale"));
        // Too few labels, or one kind only: nothing moves.
        let mut few = model.clone();
        learn_tf_from_labels(
            &mut few,
            &tf_labels(&model, LABEL_WEIGHT as usize - 1, |_| 0.5),
        );
        assert_eq!(few, model);
        let mut one_kind = model.clone();
        learn_tf_from_labels(&mut one_kind, &tf_labels(&model, 2000, |_| 40.0));
        assert_eq!(one_kind, model);
    }

    #[test]
    fn rare_agreement_weighs_more() {
        let model = one_name_model();
        let common = model.tf_adjustment(0, 1, 0.05);
        let rare = model.tf_adjustment(0, 1, 0.0001);
        assert!(rare > 0.0 && common < 0.0, "{rare} {common}");
        assert!((Model::probability(Model::weight_for(0.9)) - 0.9).abs() < 1e-9);
    }

    #[test]
    fn names_with_no_company_to_compare_are_a_consumers() {
        use Comparator as C;
        let comparators = [C::Company, C::Person, C::Reading, C::Address];
        let groups = ["company", CONTACT_GROUP, CONTACT_GROUP, "location"];
        let g = |levels: &[u8]| {
            pair_groups(comparators.iter().copied(), groups.iter().copied(), levels)
        };
        // Two companies' records: their names are contacts.
        assert_eq!(g(&[1, 4, 0, 1]), groups);
        // No company name on one side or both: a consumer's name.
        assert_eq!(
            g(&[0, 4, 0, 1]),
            ["company", PERSON_GROUP, PERSON_GROUP, "location"]
        );
        // A level against still stands alone.
        assert_eq!(g(&[5, 4, 0, 1])[0], "");
        // A schema without company names keeps the plan's groups.
        let alone = pair_groups([C::Person].into_iter(), [CONTACT_GROUP].into_iter(), &[4]);
        assert_eq!(alone, [CONTACT_GROUP]);
    }

    #[test]
    fn a_name_agreeing_in_the_surname_only_is_never_for() {
        for comparator in [Comparator::Person, Comparator::Reading, Comparator::Name] {
            let levels = comparator
                .levels()
                .iter()
                .map(|l| LevelModel {
                    label: l.to_string(),
                    // Every level found among matches more than at random.
                    m: 0.2,
                    u: 0.01,
                    tf: false,
                    tf_scale: 1.0,
                })
                .collect();
            let c = ComparisonModel {
                name: "n".into(),
                comparator,
                group: "contact".into(),
                levels,
            };
            let w: Vec<f64> = (1..=comparator.levels().len() as u8)
                .map(|l| c.weight(l))
                .collect();
            if comparator.is_person_name() {
                assert!(w[..3].iter().all(|&x| x > 4.0), "{comparator:?} {w:?}");
                assert_eq!(&w[3..], &[0.0, 0.0], "{comparator:?}");
            } else {
                assert!(w.iter().all(|&x| x > 4.0), "{comparator:?} {w:?}");
            }
        }
    }
}

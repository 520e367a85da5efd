//! The Fellegi–Sunter model: per comparison level, m = P(level | match) and
//! u = P(level | non-match); a pair's score is the log2 prior odds plus the sum
//! of log2(m/u) over its comparisons (level 0, "missing", adds nothing), with a
//! term-frequency adjustment on the levels that have one.
//!
//! Training needs no labels: u comes from random pairs (almost all of which are
//! non-matches), m and the prior from EM over the blocked candidate pairs,
//! started from the pairs that a deterministic rule already calls matches.
//! EM runs on the distinct level patterns with their counts, so its cost does
//! not grow with the number of pairs.

use super::compare::Comparator;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Probabilities are kept in [FLOOR, 1 − FLOOR] so no weight is infinite.
const FLOOR: f64 = 1e-6;
/// How far a term-frequency adjustment may move a weight, in bits.
const TF_CLAMP: f64 = 6.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// Format version of this file.
    pub version: u32,
    /// P(match) among candidate pairs.
    pub prior: f64,
    pub comparisons: Vec<ComparisonModel>,
    /// How training went (informative; not used for scoring).
    pub training: Training,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonModel {
    /// `column` or `column:aspect` (`会社名:branch`).
    pub name: String,
    pub comparator: Comparator,
    pub levels: Vec<LevelModel>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelModel {
    pub label: String,
    pub m: f64,
    pub u: f64,
    /// Term-frequency adjusted (the weight shown is the average one).
    pub tf: bool,
}

impl LevelModel {
    pub fn weight(&self) -> f64 {
        (self.m / self.u).log2()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Training {
    pub candidate_pairs: u64,
    pub random_pairs: u64,
    pub deterministic_matches: u64,
    pub em_iterations: u32,
    pub converged: bool,
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
    pub fn prior_weight(&self) -> f64 {
        (self.prior / (1.0 - self.prior)).log2()
    }

    /// The weight of a level, without term frequency (0 for missing).
    pub fn level_weight(&self, comparison: usize, level: u8) -> f64 {
        if level == 0 {
            return 0.0;
        }
        self.comparisons[comparison].levels[level as usize - 1].weight()
    }

    /// log2 adjustment for a value seen with relative frequency `freq` on a
    /// term-frequency level: agreeing on a rare value is stronger evidence
    /// than agreeing on a common one.
    pub fn tf_adjustment(&self, comparison: usize, level: u8, freq: f64) -> f64 {
        let l = &self.comparisons[comparison].levels[level as usize - 1];
        if !l.tf || freq <= 0.0 {
            return 0.0;
        }
        (l.u / freq.max(FLOOR)).log2().clamp(-TF_CLAMP, TF_CLAMP)
    }

    /// Probability of a match for a total weight.
    pub fn probability(weight: f64) -> f64 {
        1.0 / (1.0 + (-weight).exp2())
    }

    /// The weight at which the probability is `p`.
    pub fn weight_for(p: f64) -> f64 {
        let p = p.clamp(FLOOR, 1.0 - FLOOR);
        (p / (1.0 - p)).log2()
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
}

/// How many identifying comparisons must agree exactly for the deterministic
/// rule that seeds EM.
pub const DETERMINISTIC_AGREEMENTS: usize = 3;

/// Train a model: `u` from the random pairs' patterns, `m` and the prior by EM
/// over the candidate pairs' patterns.
pub fn train(
    specs: &[ComparisonSpec],
    candidates: &Patterns,
    random: &Patterns,
    max_iterations: u32,
) -> Model {
    let sizes: Vec<usize> = specs.iter().map(|s| s.comparator.levels().len()).collect();
    let u = random.level_shares(&sizes, |_| true);

    // Seed: pairs a deterministic rule calls matches.
    let is_deterministic = |p: &[u8]| {
        p.iter()
            .zip(specs)
            .filter(|(l, s)| s.identifying && **l == 1)
            .count()
            >= DETERMINISTIC_AGREEMENTS
    };
    let total = candidates.total();
    let seeded: u64 = candidates
        .sorted()
        .iter()
        .filter(|(p, _)| is_deterministic(p))
        .map(|(_, n)| n)
        .sum();
    let mut m = candidates.level_shares(&sizes, is_deterministic);
    let mut prior = if total == 0 {
        0.01
    } else {
        (seeded as f64 / total as f64).clamp(0.001, 0.5)
    };

    let patterns = candidates.sorted();
    let mut iterations = 0;
    let mut converged = false;
    while iterations < max_iterations && total > 0 {
        iterations += 1;
        let mut m_acc: Vec<Vec<f64>> = sizes.iter().map(|&n| vec![0.0; n]).collect();
        let mut matched = 0.0;
        for (p, n) in &patterns {
            let mut lm = prior.ln();
            let mut lu = (1.0 - prior).ln();
            for (c, &l) in p.iter().enumerate() {
                if l > 0 {
                    lm += m[c][l as usize - 1].ln();
                    lu += u[c][l as usize - 1].ln();
                }
            }
            let post = 1.0 / (1.0 + (lu - lm).exp());
            let w = post * *n as f64;
            matched += w;
            for (c, &l) in p.iter().enumerate() {
                if l > 0 {
                    m_acc[c][l as usize - 1] += w;
                }
            }
        }
        let new_m: Vec<Vec<f64>> = m_acc
            .into_iter()
            .map(|v| {
                if v.iter().sum::<f64>() <= 0.0 {
                    vec![1.0 / v.len() as f64; v.len()]
                } else {
                    normalise(v)
                }
            })
            .collect();
        let new_prior = (matched / total as f64).clamp(FLOOR, 1.0 - FLOOR);
        let delta = m
            .iter()
            .flatten()
            .zip(new_m.iter().flatten())
            .map(|(a, b)| (a - b).abs())
            .fold((prior - new_prior).abs(), f64::max);
        m = new_m;
        prior = new_prior;
        if delta < 1e-7 {
            converged = true;
            break;
        }
    }

    Model {
        version: 1,
        prior,
        comparisons: specs
            .iter()
            .enumerate()
            .map(|(c, s)| ComparisonModel {
                name: s.name.clone(),
                comparator: s.comparator,
                levels: s
                    .comparator
                    .levels()
                    .iter()
                    .enumerate()
                    .map(|(i, label)| LevelModel {
                        label: label.to_string(),
                        m: m[c][i],
                        u: u[c][i],
                        tf: s.comparator.tf_levels().contains(&(i as u8 + 1)),
                    })
                    .collect(),
            })
            .collect(),
        training: Training {
            candidate_pairs: total,
            random_pairs: random.total(),
            deterministic_matches: seeded,
            em_iterations: iterations,
            converged,
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
        }
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
        let model = train(&specs, &cand, &random, 100);
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
        assert_eq!(train(&specs, &cand2, &random, 100), model);
    }

    #[test]
    fn rare_agreement_weighs_more() {
        let specs = vec![ComparisonSpec {
            name: "name".into(),
            comparator: Comparator::Person,
            identifying: true,
        }];
        let mut cand = Patterns::new(1);
        cand.add(&[1], 10);
        cand.add(&[5], 10);
        let mut random = Patterns::new(1);
        random.add(&[1], 10);
        random.add(&[5], 990);
        let model = train(&specs, &cand, &random, 10);
        let common = model.tf_adjustment(0, 1, 0.05);
        let rare = model.tf_adjustment(0, 1, 0.0001);
        assert!(rare > 0.0 && common < 0.0, "{rare} {common}");
        assert!((Model::probability(Model::weight_for(0.9)) - 0.9).abs() < 1e-9);
    }
}

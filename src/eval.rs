//! Evaluation of a clustering against the truth: the figures `nayose eval`
//! prints. Pure: it takes two id → label maps (the true entity of each
//! record, the predicted cluster of each record) and returns [`Figures`];
//! reading the files is `cli/eval.rs`'s job.
//!
//! - **Pairwise** precision, recall and F1 over the pairs of records put
//!   together. Pairs are never enumerated: each record falls in one cell
//!   (true entity × predicted cluster), and a group of `n` records holds
//!   `n(n-1)/2` pairs, so true, predicted and correct pair counts are sums
//!   over entities, clusters and cells. Sorting one `u64` per record is the
//!   whole cost: a million ids take a fraction of a second.
//! - **Exact clusters**: a predicted cluster is exact when it holds precisely
//!   the records of one true entity. Cluster precision is the share of
//!   predicted clusters that are exact, cluster recall the share of true
//!   entities recovered exactly. Singletons count like any other cluster (a
//!   record left alone that is alone in the truth is an exact cluster).
//! - **B-cubed** precision and recall: per record, the share of its cluster
//!   that is its entity and the share of its entity that is in its cluster,
//!   averaged over records.
//!
//! An empty label (no entity, no cluster) makes the record a singleton: its
//! own entity or its own cluster. Both maps must hold the same ids; an id in
//! one and not the other is an [`IdMismatch`], since figures over two
//! different sets of records mean nothing. A ratio whose denominator is zero
//! (precision when no pair was predicted) is `None`, not a made-up 0 or 1.

use serde::Serialize;
use std::collections::HashMap;
use std::fmt;

/// How many missing ids an [`IdMismatch`] names (it counts all of them).
pub const MISMATCH_SHOWN: usize = 5;

/// Everything `nayose eval` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub records: u64,
    pub true_entities: u64,
    pub predicted_clusters: u64,
    /// Pairs of records in the same true entity.
    pub true_pairs: u64,
    /// Pairs of records in the same predicted cluster.
    pub predicted_pairs: u64,
    /// Pairs in the same cluster and the same entity.
    pub correct_pairs: u64,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub f1: Option<f64>,
    /// Predicted clusters equal to a true entity.
    pub exact_clusters: u64,
    pub cluster_precision: Option<f64>,
    pub cluster_recall: Option<f64>,
    pub bcubed_precision: Option<f64>,
    pub bcubed_recall: Option<f64>,
    pub bcubed_f1: Option<f64>,
}

/// The two maps do not hold the same ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdMismatch {
    /// How many ids only the truth has, and the first few of them (sorted).
    pub only_in_truth: usize,
    pub only_in_truth_first: Vec<String>,
    pub only_in_clusters: usize,
    pub only_in_clusters_first: Vec<String>,
}

impl fmt::Display for IdMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sides = Vec::new();
        for (n, first, name) in [
            (
                self.only_in_truth,
                &self.only_in_truth_first,
                "only in the truth",
            ),
            (
                self.only_in_clusters,
                &self.only_in_clusters_first,
                "only in the clusters",
            ),
        ] {
            if n > 0 {
                let more = if n > first.len() { ", …" } else { "" };
                let ids = if n == 1 { "id" } else { "ids" };
                sides.push(format!("{n} {ids} {name} ({}{more})", first.join(", ")));
            }
        }
        write!(
            f,
            "the two files do not hold the same ids: {}",
            sides.join("; ")
        )
    }
}

impl std::error::Error for IdMismatch {}

/// Compare predicted clusters with the true entities (see the module docs).
pub fn evaluate(
    truth: &HashMap<String, String>,
    clusters: &HashMap<String, String>,
) -> Result<Figures, IdMismatch> {
    check_same_ids(truth, clusters)?;

    // One (entity, cluster) number pair per record; an empty label is a
    // number of its own.
    let mut entity_of = Labels::default();
    let mut cluster_of = Labels::default();
    let mut cells: Vec<u64> = Vec::with_capacity(truth.len());
    for (id, entity) in truth {
        let cluster = &clusters[id];
        let e = entity_of.number(entity);
        let c = cluster_of.number(cluster);
        cells.push((u64::from(e) << 32) | u64::from(c));
    }
    cells.sort_unstable();

    let mut entity_size = vec![0u64; entity_of.count as usize];
    let mut cluster_size = vec![0u64; cluster_of.count as usize];
    for &cell in &cells {
        entity_size[(cell >> 32) as usize] += 1;
        cluster_size[(cell & 0xffff_ffff) as usize] += 1;
    }

    let mut correct_pairs = 0u64;
    let mut exact_clusters = 0u64;
    // Σ n²/|cluster| and Σ n²/|entity| over cells, for B-cubed.
    let mut bcubed_p_sum = 0f64;
    let mut bcubed_r_sum = 0f64;
    let mut i = 0;
    while i < cells.len() {
        let cell = cells[i];
        let mut j = i + 1;
        while j < cells.len() && cells[j] == cell {
            j += 1;
        }
        let n = (j - i) as u64;
        let e_size = entity_size[(cell >> 32) as usize];
        let c_size = cluster_size[(cell & 0xffff_ffff) as usize];
        correct_pairs += pairs(n);
        if n == e_size && n == c_size {
            exact_clusters += 1;
        }
        let n2 = (n * n) as f64;
        bcubed_p_sum += n2 / c_size as f64;
        bcubed_r_sum += n2 / e_size as f64;
        i = j;
    }

    let records = cells.len() as u64;
    let true_pairs: u64 = entity_size.iter().map(|&n| pairs(n)).sum();
    let predicted_pairs: u64 = cluster_size.iter().map(|&n| pairs(n)).sum();
    let precision = ratio(correct_pairs, predicted_pairs);
    let recall = ratio(correct_pairs, true_pairs);
    let (bcubed_precision, bcubed_recall) = if records == 0 {
        (None, None)
    } else {
        (
            Some(bcubed_p_sum / records as f64),
            Some(bcubed_r_sum / records as f64),
        )
    };
    Ok(Figures {
        records,
        true_entities: entity_size.len() as u64,
        predicted_clusters: cluster_size.len() as u64,
        true_pairs,
        predicted_pairs,
        correct_pairs,
        precision,
        recall,
        f1: f1(precision, recall),
        exact_clusters,
        cluster_precision: ratio(exact_clusters, cluster_size.len() as u64),
        cluster_recall: ratio(exact_clusters, entity_size.len() as u64),
        bcubed_precision,
        bcubed_recall,
        bcubed_f1: f1(bcubed_precision, bcubed_recall),
    })
}

fn check_same_ids(
    truth: &HashMap<String, String>,
    clusters: &HashMap<String, String>,
) -> Result<(), IdMismatch> {
    let missing = |a: &HashMap<String, String>, b: &HashMap<String, String>| {
        let mut ids: Vec<&String> = a.keys().filter(|id| !b.contains_key(*id)).collect();
        let n = ids.len();
        ids.sort_unstable();
        let first = ids
            .into_iter()
            .take(MISMATCH_SHOWN)
            .cloned()
            .collect::<Vec<_>>();
        (n, first)
    };
    let (only_in_truth, only_in_truth_first) = missing(truth, clusters);
    let (only_in_clusters, only_in_clusters_first) = missing(clusters, truth);
    if only_in_truth == 0 && only_in_clusters == 0 {
        Ok(())
    } else {
        Err(IdMismatch {
            only_in_truth,
            only_in_truth_first,
            only_in_clusters,
            only_in_clusters_first,
        })
    }
}

/// Labels numbered in the order they are met; every empty label is new.
#[derive(Default)]
struct Labels<'a> {
    numbers: HashMap<&'a str, u32>,
    count: u32,
}

impl<'a> Labels<'a> {
    fn number(&mut self, label: &'a str) -> u32 {
        let next = self.count;
        let n = if label.is_empty() {
            next
        } else {
            *self.numbers.entry(label).or_insert(next)
        };
        if n == next {
            self.count += 1;
        }
        n
    }
}

fn pairs(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

fn f1(p: Option<f64>, r: Option<f64>) -> Option<f64> {
    let (p, r) = (p?, r?);
    Some(if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn close(a: Option<f64>, b: f64) {
        let a = a.expect("a figure");
        assert!((a - b).abs() < 1e-12, "{a} != {b}");
    }

    #[test]
    fn perfect_clustering() {
        let t = map(&[("1", "a"), ("2", "a"), ("3", "b")]);
        let c = map(&[("1", "x"), ("2", "x"), ("3", "y")]);
        let f = evaluate(&t, &c).unwrap();
        assert_eq!(
            (f.true_pairs, f.predicted_pairs, f.correct_pairs),
            (1, 1, 1)
        );
        close(f.f1, 1.0);
        assert_eq!(f.exact_clusters, 2);
        close(f.cluster_precision, 1.0);
        close(f.bcubed_f1, 1.0);
    }

    /// Truth: {1,2,3} {4,5} {6}. Predicted: {1,2} {3,4,5,6}.
    /// True pairs 3+1 = 4; predicted 1+6 = 7; correct: cell(a,x)=2 → 1,
    /// cell(b,y)=2 → 1, others single → 2. P = 2/7, R = 2/4, F1 = 4/11.
    /// No predicted cluster equals an entity: cluster P = R = 0.
    /// B-cubed P: records 1,2: 2/2; 3: 1/4; 4,5: 2/4; 6: 1/4 → (2+0.25+1+0.25)/6 = 3.5/6.
    /// B-cubed R: 1,2: 2/3; 3: 1/3; 4,5: 2/2; 6: 1/1 → (4/3+1/3+2+1)/6 = (14/3)/6.
    #[test]
    fn imperfect_clustering_hand_computed() {
        let t = map(&[
            ("1", "a"),
            ("2", "a"),
            ("3", "a"),
            ("4", "b"),
            ("5", "b"),
            ("6", "c"),
        ]);
        let c = map(&[
            ("1", "x"),
            ("2", "x"),
            ("3", "y"),
            ("4", "y"),
            ("5", "y"),
            ("6", "y"),
        ]);
        let f = evaluate(&t, &c).unwrap();
        assert_eq!(f.records, 6);
        assert_eq!((f.true_entities, f.predicted_clusters), (3, 2));
        assert_eq!(
            (f.true_pairs, f.predicted_pairs, f.correct_pairs),
            (4, 7, 2)
        );
        close(f.precision, 2.0 / 7.0);
        close(f.recall, 0.5);
        close(f.f1, 4.0 / 11.0);
        assert_eq!(f.exact_clusters, 0);
        close(f.cluster_precision, 0.0);
        close(f.cluster_recall, 0.0);
        close(f.bcubed_precision, 3.5 / 6.0);
        close(f.bcubed_recall, 14.0 / 18.0);
    }

    /// Everything left alone: no predicted pair, so precision is undefined;
    /// recall is 0; singleton entities are still recovered exactly.
    #[test]
    fn all_singletons_and_empty_labels() {
        let t = map(&[("1", "a"), ("2", "a"), ("3", "")]);
        let c = map(&[("1", ""), ("2", ""), ("3", "")]);
        let f = evaluate(&t, &c).unwrap();
        assert_eq!(f.predicted_clusters, 3);
        assert_eq!(f.true_entities, 2);
        assert_eq!(f.predicted_pairs, 0);
        assert_eq!(f.precision, None);
        close(f.recall, 0.0);
        assert_eq!(f.f1, None);
        // {3} is a singleton in both.
        assert_eq!(f.exact_clusters, 1);
        close(f.cluster_precision, 1.0 / 3.0);
        close(f.cluster_recall, 0.5);
    }

    #[test]
    fn mismatched_ids_are_counted_and_named() {
        let t = map(&[("1", "a"), ("2", "a"), ("3", "b")]);
        let c = map(&[("1", "x"), ("4", "x")]);
        let e = evaluate(&t, &c).unwrap_err();
        assert_eq!(e.only_in_truth, 2);
        assert_eq!(e.only_in_truth_first, ["2", "3"]);
        assert_eq!(e.only_in_clusters, 1);
        assert!(
            e.to_string().contains("2 ids only in the truth (2, 3)"),
            "{e}"
        );
    }

    #[test]
    fn empty_input() {
        let f = evaluate(&HashMap::new(), &HashMap::new()).unwrap();
        assert_eq!(f.records, 0);
        assert_eq!(f.precision, None);
        assert_eq!(f.bcubed_f1, None);
    }

    #[test]
    fn a_million_ids() {
        // Entities of 4; clusters split each entity in two pairs.
        let n = 1_000_000;
        let t: HashMap<String, String> = (0..n)
            .map(|i| (i.to_string(), (i / 4).to_string()))
            .collect();
        let c: HashMap<String, String> = (0..n)
            .map(|i| (i.to_string(), (i / 2).to_string()))
            .collect();
        let f = evaluate(&t, &c).unwrap();
        assert_eq!(f.true_pairs, 6 * (n / 4));
        assert_eq!(f.predicted_pairs, n / 2);
        assert_eq!(f.correct_pairs, n / 2);
        close(f.precision, 1.0);
        close(f.recall, 1.0 / 3.0);
    }
}

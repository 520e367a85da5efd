//! Evaluation of a clustering against the truth: the figures `nayose eval`
//! prints. Pure: it takes two id → label maps (the true entity of each
//! record, the predicted cluster of each record; labels numbered by
//! [`Labels`]) and returns [`Figures`]; reading the files is `cli/eval.rs`'s
//! job.
//!
//! - **Pairwise** precision, recall and F1 over the pairs of records put
//!   together. Pairs are never enumerated: each record falls in one cell
//!   (true entity × predicted cluster), and a group of `n` records holds
//!   `n(n-1)/2` pairs, so true, predicted and correct pair counts are sums
//!   over entities, clusters and cells. One hash lookup and one sort per
//!   record is the whole cost: a million ids take a fraction of a second.
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
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

/// A fast, non-cryptographic hasher for ids and labels (the Fx hash of
/// rustc, with a finalizer). Evaluation hashes every id and label once or twice, and SipHash's
/// resistance to crafted collisions buys nothing for a file the user chose.
#[derive(Debug, Default, Clone, Copy)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().unwrap_or_default()));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }

    fn write_u8(&mut self, b: u8) {
        self.add(u64::from(b));
    }

    fn finish(&self) -> u64 {
        // The multiply leaves the low bits, which pick the bucket, depending
        // on the first bytes only; the splitmix64 finalizer spreads them.
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl IdHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

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

/// id → label number: what [`evaluate`] compares. [`Labels::number`]
/// numbers the labels of a file as it is read (the label text is then still
/// in cache, which makes reading a million ids several times faster than
/// numbering them afterwards).
pub type Labelling = HashMap<String, u32, BuildHasherDefault<IdHasher>>;

/// Compare predicted clusters with the true entities (see the module docs).
/// Label numbers mean nothing across the two maps: entity 3 and cluster 3
/// are unrelated.
pub fn evaluate<S: BuildHasher>(
    truth: &HashMap<String, u32, S>,
    clusters: &HashMap<String, u32, S>,
) -> Result<Figures, IdMismatch> {
    // One (entity, cluster) cell per record.
    let mut cells: Vec<(u32, u32)> = Vec::with_capacity(truth.len());
    for (id, &entity) in truth {
        // The ids are the same in both maps when every truth id is in the
        // clusters and the sizes agree; the missing ones are named only then.
        let Some(&cluster) = clusters.get(id) else {
            return Err(mismatch(truth, clusters));
        };
        cells.push((cluster, entity));
    }
    if clusters.len() != truth.len() {
        return Err(mismatch(truth, clusters));
    }
    let records = cells.len() as u64;

    // Sorted by cluster: cluster sizes, and each cell's size.
    cells.sort_unstable();
    struct Cell {
        entity: u32,
        n: u64,
        cluster_size: u64,
    }
    let mut runs: Vec<Cell> = Vec::new();
    let (mut predicted_clusters, mut predicted_pairs) = (0u64, 0u64);
    for cluster in cells.chunk_by(|a, b| a.0 == b.0) {
        let size = cluster.len() as u64;
        predicted_clusters += 1;
        predicted_pairs += pairs(size);
        for cell in cluster.chunk_by(|a, b| a.1 == b.1) {
            runs.push(Cell {
                entity: cell[0].1,
                n: cell.len() as u64,
                cluster_size: size,
            });
        }
    }
    drop(cells);

    // Sorted by entity: entity sizes, then everything per cell.
    runs.sort_unstable_by_key(|c| c.entity);
    let (mut true_entities, mut true_pairs, mut correct_pairs) = (0u64, 0u64, 0u64);
    let mut exact_clusters = 0u64;
    // Σ n²/|cluster| and Σ n²/|entity| over cells, for B-cubed.
    let (mut bcubed_p_sum, mut bcubed_r_sum) = (0f64, 0f64);
    for entity in runs.chunk_by(|a, b| a.entity == b.entity) {
        let size: u64 = entity.iter().map(|c| c.n).sum();
        true_entities += 1;
        true_pairs += pairs(size);
        for c in entity {
            correct_pairs += pairs(c.n);
            if c.n == size && c.n == c.cluster_size {
                exact_clusters += 1;
            }
            let n2 = (c.n * c.n) as f64;
            bcubed_p_sum += n2 / c.cluster_size as f64;
            bcubed_r_sum += n2 / size as f64;
        }
    }

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
        true_entities,
        predicted_clusters,
        true_pairs,
        predicted_pairs,
        correct_pairs,
        precision,
        recall,
        f1: f1(precision, recall),
        exact_clusters,
        cluster_precision: ratio(exact_clusters, predicted_clusters),
        cluster_recall: ratio(exact_clusters, true_entities),
        bcubed_precision,
        bcubed_recall,
        bcubed_f1: f1(bcubed_precision, bcubed_recall),
    })
}

/// What differs between the ids of two maps known to differ.
fn mismatch<S: BuildHasher>(
    truth: &HashMap<String, u32, S>,
    clusters: &HashMap<String, u32, S>,
) -> IdMismatch {
    let missing = |a: &HashMap<String, u32, S>, b: &HashMap<String, u32, S>| {
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
    IdMismatch {
        only_in_truth,
        only_in_truth_first,
        only_in_clusters,
        only_in_clusters_first,
    }
}

/// Numbers for the labels of one file, in the order they are met. Every
/// empty label gets a number of its own: its record is a singleton.
#[derive(Debug, Default)]
pub struct Labels {
    numbers: HashMap<String, u32, BuildHasherDefault<IdHasher>>,
    count: u32,
}

impl Labels {
    pub fn number(&mut self, label: &str) -> u32 {
        if let Some(&n) = self.numbers.get(label) {
            return n;
        }
        let n = self.count;
        self.count += 1;
        if !label.is_empty() {
            self.numbers.insert(label.to_string(), n);
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

    fn map(pairs: &[(&str, &str)]) -> Labelling {
        let mut labels = Labels::default();
        pairs
            .iter()
            .map(|(id, label)| (id.to_string(), labels.number(label)))
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
        let f = evaluate(&Labelling::default(), &Labelling::default()).unwrap();
        assert_eq!(f.records, 0);
        assert_eq!(f.precision, None);
        assert_eq!(f.bcubed_f1, None);
    }

    #[test]
    fn a_million_ids() {
        // Entities of 4; clusters split each entity in two pairs.
        let n = 1_000_000;
        let t: Labelling = (0..n).map(|i| (i.to_string(), (i / 4) as u32)).collect();
        let c: Labelling = (0..n).map(|i| (i.to_string(), (i / 2) as u32)).collect();
        let f = evaluate(&t, &c).unwrap();
        assert_eq!(f.true_pairs, 6 * (n / 4));
        assert_eq!(f.predicted_pairs, n / 2);
        assert_eq!(f.correct_pairs, n / 2);
        close(f.precision, 1.0);
        close(f.recall, 1.0 / 3.0);
    }
}

//! The matching stages over a batch of records or pairs: prepare, find the
//! candidate pairs, compare, train, score, cluster. The `dedupe` job runs
//! them over a file, the service's import over the stored records, and a
//! distributed engine can run them per partition: each is a function of its
//! inputs, with no IO, no store and no HTTP (blocking asks the caller's
//! index through a closure).
//!
//! Records in a batch are numbered by their position (`u32`); a [`Pair`]
//! names two positions, its left record first (the one whose values the
//! term-frequency adjustment looks up). Every stage is deterministic: work is
//! split over threads in fixed chunks and put back in order, and random
//! pairs come from seeded ChaCha streams per chunk.

use super::band::{BandCounts, Bands};
use super::compare::Value;
use super::model::{self, Model, Patterns};
use super::prepare::{PreparedRecord, Preparer};
use super::{Comparison, Frequencies};
use crate::cluster::{self, Edge};
use crate::index::BlockingKeys;
use crate::normalize::Normalizer;
use crate::rules::MatchingOptions;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

/// Stage-by-stage progress, for a progress bar. No-op defaults.
pub trait StageProgress: Sync {
    fn stage(&self, _name: &str, _total: u64) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}

pub struct NoProgress;
impl StageProgress for NoProgress {}

/// Prepared records side by side: each record's compared values (one per
/// comparison of the plan) and blocking keys, by position.
#[derive(Debug, Clone, Default)]
pub struct PreparedBatch {
    width: usize,
    /// `values[position * width + comparison]`
    values: Vec<Option<Value>>,
    keys: Vec<BlockingKeys>,
}

impl PreparedBatch {
    /// An empty batch for a plan of `width` comparisons.
    pub fn new(width: usize) -> PreparedBatch {
        PreparedBatch {
            width,
            values: Vec::new(),
            keys: Vec::new(),
        }
    }

    pub fn with_capacity(width: usize, records: usize) -> PreparedBatch {
        PreparedBatch {
            width,
            values: Vec::with_capacity(records * width),
            keys: Vec::with_capacity(records),
        }
    }

    pub fn push(&mut self, record: PreparedRecord) {
        debug_assert_eq!(record.values.len(), self.width);
        self.values.extend(record.values);
        self.keys.push(record.keys);
    }

    /// Append another batch (of the same plan) after this one.
    pub fn append(&mut self, other: PreparedBatch) {
        debug_assert_eq!(other.width, self.width);
        self.values.extend(other.values);
        self.keys.extend(other.keys);
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The value of comparison `c` of the record at `position`.
    pub fn value(&self, position: u32, c: usize) -> Option<&Value> {
        self.values[position as usize * self.width + c].as_ref()
    }

    /// Every compared value of the record at `position`.
    pub fn values(&self, position: u32) -> &[Option<Value>] {
        let start = position as usize * self.width;
        &self.values[start..start + self.width]
    }

    pub fn keys(&self) -> &[BlockingKeys] {
        &self.keys
    }
}

/// Two records of a batch, by position; `a` is the left one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pair {
    pub a: u32,
    pub b: u32,
}

/// Prepare a batch of rows (`rows[i][column]` is a raw value), in parallel.
pub fn prepare<R: AsRef<[S]> + Sync, S: AsRef<str>>(
    preparer: &Preparer,
    normalizer: &Normalizer,
    rows: &[R],
    progress: &dyn StageProgress,
) -> PreparedBatch {
    let prepared: Vec<PreparedRecord> = rows
        .par_iter()
        .with_min_len(1024)
        .map(|row| {
            let p = preparer.prepare(normalizer, row.as_ref());
            progress.advance(1);
            p
        })
        .collect();
    let mut batch = PreparedBatch::with_capacity(preparer.plan.len(), prepared.len());
    for p in prepared {
        batch.push(p);
    }
    batch
}

/// The candidate pairs of `records`: `find(i)` gives the candidates of
/// `records[i]` (itself left out); the pairs come out as `(lower, higher)`,
/// each once, ascending — a pair found from either side counts once.
pub fn candidate_pairs<T, E, F>(records: &[T], find: F) -> Result<Vec<(T, T)>, E>
where
    T: Copy + Ord + Send + Sync,
    E: Send,
    F: Fn(usize) -> Result<Vec<T>, E> + Sync,
{
    let found: Vec<Vec<(T, T)>> = (0..records.len())
        .into_par_iter()
        .with_min_len(256)
        .map(|i| {
            let r = records[i];
            Ok(find(i)?
                .into_iter()
                .map(|o| if o < r { (o, r) } else { (r, o) })
                .collect())
        })
        .collect::<Result<_, E>>()?;
    let mut pairs: Vec<(T, T)> = found.into_iter().flatten().collect();
    pairs.par_sort_unstable();
    pairs.dedup();
    Ok(pairs)
}

/// The level of every comparison of the plan for two records' values.
pub fn compare_values(
    plan: &[Comparison],
    a: &[Option<Value>],
    b: &[Option<Value>],
    out: &mut Vec<u8>,
) {
    for (ci, c) in plan.iter().enumerate() {
        out.push(super::level(c, a[ci].as_ref(), b[ci].as_ref()));
    }
}

/// The levels of every pair, `plan.len()` per pair, in pair order.
pub fn compare(
    plan: &[Comparison],
    batch: &PreparedBatch,
    pairs: &[Pair],
    progress: &dyn StageProgress,
) -> Vec<u8> {
    pairs
        .par_chunks(4096)
        .flat_map_iter(|chunk| {
            let mut out = Vec::with_capacity(chunk.len() * plan.len());
            for p in chunk {
                compare_values(plan, batch.values(p.a), batch.values(p.b), &mut out);
            }
            progress.advance(chunk.len() as u64);
            out
        })
        .collect()
}

/// Train a model for the records of `batch` from their candidate pairs'
/// levels (`levels`, `plan.len()` per pair; see [`model::train`]); u comes
/// from random pairs of the batch (all pairs when there are few).
pub fn train(
    plan: &[Comparison],
    opts: &MatchingOptions,
    batch: &PreparedBatch,
    levels: &[u8],
) -> Model {
    let width = plan.len();
    let candidates = levels
        .par_chunks(width * 4096)
        .map(|chunk| {
            let mut p = Patterns::new(width);
            for l in chunk.chunks(width) {
                p.add(l, 1);
            }
            p
        })
        .reduce(
            || Patterns::new(width),
            |mut x, y| {
                x.merge(y);
                x
            },
        );
    let random = random_patterns(plan, opts, batch);
    train_patterns(plan, opts, &candidates, &random, batch.len())
}

/// The model of `records` records from their candidate pairs' level
/// patterns and their random pairs' ([`random_pairs`]).
pub fn train_patterns(
    plan: &[Comparison],
    opts: &MatchingOptions,
    candidates: &Patterns,
    random: &Patterns,
    records: usize,
) -> Model {
    let n = records as f64;
    model::train(
        &super::specs(plan),
        candidates,
        random,
        n * (n - 1.0) / 2.0,
        opts.em_iterations,
    )
}

/// Random pairs are drawn in chunks of this many, each from its own seeded
/// stream, so chunks can be drawn in parallel or on other machines.
const RANDOM_CHUNK: u64 = 65_536;

/// How many chunks of [`random_pairs`] training draws among `records`.
pub fn random_pair_chunks(records: usize, opts: &MatchingOptions) -> u64 {
    let n = records as u64;
    if n * n.saturating_sub(1) / 2 <= opts.random_pairs {
        1
    } else {
        opts.random_pairs.div_ceil(RANDOM_CHUNK)
    }
}

/// Chunk `chunk` of the random pairs (by rank, the lower first) whose
/// levels give u: every pair when there are at most `random_pairs` of them,
/// else `random_pairs` pairs drawn with `seed`.
pub fn random_pairs(records: usize, opts: &MatchingOptions, chunk: u64) -> Vec<Pair> {
    let n = records as u32;
    let all = (n as u64) * (n as u64).saturating_sub(1) / 2;
    if all <= opts.random_pairs {
        return (0..n)
            .flat_map(|a| (a + 1..n).map(move |b| Pair { a, b }))
            .collect();
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(
        opts.seed ^ chunk.wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    let count = RANDOM_CHUNK.min(opts.random_pairs - chunk * RANDOM_CHUNK);
    (0..count)
        .map(|_| {
            let a = rng.gen_range(0..n);
            let mut b = rng.gen_range(0..n - 1);
            if b >= a {
                b += 1;
            }
            Pair {
                a: a.min(b),
                b: a.max(b),
            }
        })
        .collect()
}

/// Level patterns of the random pairs of the batch.
fn random_patterns(plan: &[Comparison], opts: &MatchingOptions, batch: &PreparedBatch) -> Patterns {
    let width = plan.len();
    (0..random_pair_chunks(batch.len(), opts))
        .into_par_iter()
        .map(|chunk| {
            let mut p = Patterns::new(width);
            let mut buf = Vec::with_capacity(width);
            for pair in random_pairs(batch.len(), opts, chunk) {
                buf.clear();
                compare_values(plan, batch.values(pair.a), batch.values(pair.b), &mut buf);
                p.add(&buf, 1);
            }
            p
        })
        .reduce(
            || Patterns::new(width),
            |mut x, y| {
                x.merge(y);
                x
            },
        )
}

/// Every pair's weight under `model` (term frequencies from `tf`, looked up
/// on the left record's values), in pair order.
pub fn score(
    model: &Model,
    plan: &[Comparison],
    batch: &PreparedBatch,
    pairs: &[Pair],
    levels: &[u8],
    tf: &(dyn Frequencies + Sync),
) -> Vec<f64> {
    pairs
        .par_iter()
        .zip(levels.par_chunks(plan.len()))
        .with_min_len(4096)
        .map(|(p, l)| super::score(model, plan, l, tf, |c| batch.value(p.a, c)).weight)
        .collect()
}

/// How many pairs fall in each band.
pub fn count_bands(bands: &Bands, weights: &[f64]) -> BandCounts {
    let mut counts = BandCounts::default();
    for &w in weights {
        counts.add(bands.of(w));
    }
    counts
}

/// Cluster the `n` records of a batch: its auto-merge-band pairs link
/// records, every scored pair counts in the anti-chaining guard (see
/// [`cluster::cluster`]); per record, its cluster's representative (the
/// smallest position in it).
pub fn cluster(
    n: usize,
    pairs: &[Pair],
    weights: &[f64],
    bands: &Bands,
    min_link_density: f64,
) -> Vec<u32> {
    let edges: Vec<Edge> = pairs
        .iter()
        .zip(weights)
        .map(|(p, &weight)| Edge {
            a: p.a,
            b: p.b,
            weight,
        })
        .collect();
    cluster::cluster(n, &edges, bands.match_weight, min_link_density)
}

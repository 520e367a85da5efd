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

use super::band::{Band, BandCounts, Bands};
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
    let n = batch.len();
    let random = random_patterns(plan, opts, batch);
    model::train(
        &super::specs(plan),
        &candidates,
        &random,
        n as f64 * (n as f64 - 1.0) / 2.0,
        opts.em_iterations,
    )
}

/// Level patterns of random pairs of the batch (all pairs when there are
/// few records).
fn random_patterns(plan: &[Comparison], opts: &MatchingOptions, batch: &PreparedBatch) -> Patterns {
    let (n, width) = (batch.len(), plan.len());
    let levels_of = |a: u32, b: u32, out: &mut Vec<u8>| {
        compare_values(plan, batch.values(a), batch.values(b), out)
    };
    let all = (n as u64) * (n as u64).saturating_sub(1) / 2;
    let mut patterns = Patterns::new(width);
    let mut buf = Vec::with_capacity(width);
    if all <= opts.random_pairs {
        for a in 0..n as u32 {
            for b in a + 1..n as u32 {
                buf.clear();
                levels_of(a, b, &mut buf);
                patterns.add(&buf, 1);
            }
        }
        return patterns;
    }
    const CHUNK: u64 = 65_536;
    let chunks = opts.random_pairs.div_ceil(CHUNK);
    (0..chunks)
        .into_par_iter()
        .map(|chunk| {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(
                opts.seed ^ chunk.wrapping_mul(0x9E37_79B9_7F4A_7C15),
            );
            let mut p = Patterns::new(width);
            let mut buf = Vec::with_capacity(width);
            let count = CHUNK.min(opts.random_pairs - chunk * CHUNK);
            for _ in 0..count {
                let a = rng.gen_range(0..n as u32);
                let mut b = rng.gen_range(0..n as u32 - 1);
                if b >= a {
                    b += 1;
                }
                buf.clear();
                levels_of(a.min(b), a.max(b), &mut buf);
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

/// Cluster the `n` records of a batch over their auto-merge-band pairs,
/// guarded against chaining (see [`cluster::cluster`]); per record, its
/// cluster's representative (the smallest position in it).
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
        .filter(|(_, &w)| bands.of(w) == Band::Match)
        .map(|(p, &weight)| Edge {
            a: p.a,
            b: p.b,
            weight,
        })
        .collect();
    cluster::cluster(n, &edges, min_link_density)
}

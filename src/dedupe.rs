//! The `dedupe` job: read → normalize → index → block → compare → train →
//! score → cluster → write clusters (and pairs).
//!
//! Records are put in order of their id first and every stage works on that
//! order ("rank"), so the result depends neither on the input row order nor on
//! thread timing: BM25 ties break by rank, random pairs are drawn over ranks
//! with a fixed seed, EM runs on sorted pattern counts and clusters are named
//! by their smallest id.

use crate::cluster::{self, Edge};
use crate::import::{self, write_rejects, Format, ReadOptions, TableWriter};
use crate::index::{BlockingKeys, IndexBuilder, IndexError, OversizedBlock};
use crate::matching::compare::Value;
use crate::matching::model::{self, Model, Patterns};
use crate::matching::prepare::Preparer;
use crate::matching::{self, Comparison, TermFrequencies};
use crate::normalize::Normalizer;
use crate::record::FieldType;
use crate::report::PairView;
use crate::rules::{header_key, MatchingOptions, Rules};
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Instant;

/// What to deduplicate and where the results go.
#[derive(Debug, Clone)]
pub struct DedupeJob {
    pub input: PathBuf,
    pub output: PathBuf,
    pub pairs: Option<PathBuf>,
    pub rejects: Option<PathBuf>,
    pub overrides: Vec<(String, FieldType)>,
    pub id_column: Option<String>,
    pub read: ReadOptions,
    /// Use this model instead of training one.
    pub model: Option<Model>,
}

#[derive(Debug, thiserror::Error)]
pub enum DedupeError {
    #[error(transparent)]
    Import(#[from] import::ImportError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error("--id-column `{column}` is not a column of the file (columns: {})", columns.join(", "))]
    UnknownIdColumn {
        column: String,
        columns: Vec<String>,
    },
    #[error("--field `{column}` is not a column of the file (columns: {})", columns.join(", "))]
    UnknownColumn {
        column: String,
        columns: Vec<String>,
    },
    #[error("ids must be unique: `{id}` is on line {first} and on line {second}")]
    DuplicateId {
        id: String,
        first: usize,
        second: usize,
    },
    #[error("the model does not fit this file: {0}")]
    ModelMismatch(String),
    #[error("no column to compare (columns: {})", .0.join(", "))]
    NothingToCompare(Vec<String>),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// Stage-by-stage progress, for a progress bar. No-op defaults.
pub trait StageProgress: Sync {
    fn stage(&self, _name: &str, _total: u64) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}

pub struct NoProgress;
impl StageProgress for NoProgress {}

/// One scored candidate pair (record ranks, `a < b`).
#[derive(Debug, Clone)]
pub struct ScoredPair {
    pub a: u32,
    pub b: u32,
    pub weight: f64,
    pub levels: Box<[u8]>,
}

/// Everything a run found; the CLI prints it and the report draws it.
pub struct DedupeResult {
    pub records: usize,
    pub rejected: usize,
    pub plan: Vec<Comparison>,
    pub model: Model,
    pub candidate_pairs: u64,
    /// Pairs per band: match, review, no-match.
    pub bands: [u64; 3],
    pub clusters: usize,
    /// Every cluster's size, singletons included, ascending.
    pub cluster_sizes: Vec<usize>,
    pub oversized: Vec<OversizedBlock>,
    pub stages: Vec<(String, f64)>,
    /// Every candidate pair's weight (for the histogram).
    pub pair_weights: Vec<f64>,
    /// The pairs whose probability is nearest 0.5, with their terms, for the report.
    pub uncertain: Vec<PairView>,
    /// Candidate pairs per comparison and level (index 0: missing).
    pub level_counts: Vec<Vec<u64>>,
}

impl DedupeResult {
    pub fn largest_cluster(&self) -> usize {
        self.cluster_sizes.last().copied().unwrap_or(0)
    }

    /// The data of the HTML report.
    pub fn report(&self, title: &str, opts: &MatchingOptions) -> crate::report::DedupeReport {
        use crate::report::{ComparisonSummary, DedupeReport, LevelSummary};
        DedupeReport {
            title: title.to_string(),
            records: self.records,
            candidate_pairs: self.candidate_pairs,
            clusters: self.clusters,
            prior_weight: self.model.prior_weight(),
            merge_threshold: opts.match_threshold,
            review_threshold: opts.review_threshold,
            pair_weights: self.pair_weights.clone(),
            cluster_sizes: self.cluster_sizes.clone(),
            comparisons: self
                .model
                .comparisons
                .iter()
                .zip(&self.level_counts)
                .map(|(c, counts)| ComparisonSummary {
                    name: c.name.clone(),
                    levels: c
                        .levels
                        .iter()
                        .enumerate()
                        .map(|(i, l)| LevelSummary {
                            label: l.label.clone(),
                            m: l.m,
                            u: l.u,
                            weight: l.weight(),
                            pairs: counts.get(i + 1).copied().unwrap_or(0),
                        })
                        .collect(),
                })
                .collect(),
            uncertain_pairs: self.uncertain.clone(),
            stages: self.stages.clone(),
            oversized_blocks: self
                .oversized
                .iter()
                .map(|b| (b.field.clone(), b.value.clone(), b.records))
                .collect(),
        }
    }
}

struct Prepared {
    ids: Vec<String>,
    /// Input row index of each rank.
    row_of_rank: Vec<usize>,
    /// values[rank * comparisons + c]
    values: Vec<Option<Value>>,
    keys: Vec<BlockingKeys>,
}

impl Prepared {
    fn value(&self, rank: u32, c: usize, width: usize) -> Option<&Value> {
        self.values[rank as usize * width + c].as_ref()
    }
}

/// Run the job.
pub fn dedupe_file(
    job: &DedupeJob,
    rules: &Rules,
    normalizer: &Normalizer,
    progress: &dyn StageProgress,
) -> Result<DedupeResult, DedupeError> {
    let opts = &rules.matching;
    let mut stages = Vec::new();
    let mut clock = Instant::now();
    let mut lap = |name: &str, stages: &mut Vec<(String, f64)>| {
        stages.push((name.to_string(), clock.elapsed().as_secs_f64()));
        clock = Instant::now();
    };

    progress.stage("reading", 0);
    let table = import::read_path(&job.input, &job.read)?;
    if let Some(column) = import::unknown_override(&table.headers, &job.overrides) {
        return Err(DedupeError::UnknownColumn {
            column: column.to_string(),
            columns: table.headers.clone(),
        });
    }
    let detected = import::detect_columns(
        &table.headers,
        &table.rows,
        rules,
        normalizer,
        &job.overrides,
    );
    let types: Vec<FieldType> = detected.iter().map(|d| d.field_type).collect();
    let id_col = match &job.id_column {
        Some(c) => Some(import::find_column(&table.headers, c).ok_or_else(|| {
            DedupeError::UnknownIdColumn {
                column: c.clone(),
                columns: table.headers.clone(),
            }
        })?),
        None => detected
            .iter()
            .position(|d| d.rule.as_deref() == Some("id"))
            .or_else(|| table.headers.iter().position(|h| header_key(h) == "id")),
    };
    let compare: Vec<bool> = (0..table.headers.len())
        .map(|c| {
            let rule = detected[c]
                .rule
                .as_deref()
                .and_then(|r| rules.fields.iter().find(|f| f.name == r));
            Some(c) != id_col
                && rule.is_none_or(|r| r.allowed.is_empty())
                && !opts.ignore.iter().any(|i| {
                    header_key(i) == header_key(&table.headers[c])
                        || detected[c].rule.as_deref() == Some(i.as_str())
                })
        })
        .collect();
    let plan = matching::plan(&table.headers, &types, &compare);
    if plan.is_empty() {
        return Err(DedupeError::NothingToCompare(table.headers.clone()));
    }
    if let Some(m) = &job.model {
        check_model(m, &plan)?;
    }
    lap("read", &mut stages);

    // Ids, and the rank order.
    let ids: Vec<String> = match id_col {
        Some(c) => table
            .rows
            .iter()
            .map(|r| r.fields[c].trim().to_string())
            .collect(),
        None => table.rows.iter().map(|r| r.line.to_string()).collect(),
    };
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by(|&x, &y| ids[x].cmp(&ids[y]));
    for w in order.windows(2) {
        if ids[w[0]] == ids[w[1]] {
            let (f, s) = (table.rows[w[0]].line, table.rows[w[1]].line);
            return Err(DedupeError::DuplicateId {
                id: ids[w[0]].clone(),
                first: f.min(s),
                second: f.max(s),
            });
        }
    }

    // Normalize the compared columns, in rank order.
    progress.stage("normalizing", ids.len() as u64);
    let preparer = Preparer::new(plan, &types, &compare, opts);
    let plan = &preparer.plan;
    let width = plan.len();
    let prepare_row = |row: usize| -> (Vec<Option<Value>>, BlockingKeys) {
        let p = preparer.prepare(normalizer, &table.rows[row].fields);
        progress.advance(1);
        (p.values, p.keys)
    };
    // Normalize in slices; tantivy's indexing thread indexes one slice while
    // the next is normalized.
    let mut values = Vec::with_capacity(order.len() * width);
    let mut keys = Vec::with_capacity(order.len());
    let mut builder = IndexBuilder::new(&preparer.blocking)?;
    for slice in order.chunks(65_536) {
        let part: Vec<(Vec<Option<Value>>, BlockingKeys)> = slice
            .par_iter()
            .with_min_len(1024)
            .map(|&row| prepare_row(row))
            .collect();
        for (v, k) in part {
            builder.add(&k)?;
            values.extend(v);
            keys.push(k);
        }
    }
    let prepared = Prepared {
        ids: order.iter().map(|&r| ids[r].clone()).collect(),
        row_of_rank: order,
        values,
        keys,
    };
    lap("normalize", &mut stages);

    progress.stage("indexing", 0);
    let index = builder.finish()?;
    lap("index", &mut stages);
    progress.stage("blocking", prepared.keys.len() as u64);
    type Found = Result<(Vec<(u32, u32)>, Vec<OversizedBlock>), IndexError>;
    let found: Vec<Found> = (0..prepared.keys.len())
        .into_par_iter()
        .with_min_len(256)
        .map(|r| {
            let c = index.candidates(&prepared.keys[r], Some(r as u32))?;
            progress.advance(1);
            let r = r as u32;
            let pairs = c
                .records
                .into_iter()
                .map(|o| if o < r { (o, r) } else { (r, o) })
                .collect();
            Ok((pairs, c.oversized))
        })
        .collect();
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    let mut oversized: BTreeMap<(String, String), u64> = BTreeMap::new();
    for f in found {
        let (p, o) = f?;
        pairs.extend(p);
        for b in o {
            oversized.insert((b.field, b.value), b.records);
        }
    }
    drop(index);
    pairs.par_sort_unstable();
    pairs.dedup();
    lap("block", &mut stages);

    // Compare.
    progress.stage("comparing", pairs.len() as u64);
    let levels_of = |a: u32, b: u32, out: &mut Vec<u8>| {
        for (ci, c) in plan.iter().enumerate() {
            out.push(matching::level(
                c,
                prepared.value(a, ci, width),
                prepared.value(b, ci, width),
            ));
        }
    };
    let levels: Vec<u8> = pairs
        .par_chunks(4096)
        .flat_map_iter(|chunk| {
            let mut out = Vec::with_capacity(chunk.len() * width);
            for &(a, b) in chunk {
                levels_of(a, b, &mut out);
            }
            progress.advance(chunk.len() as u64);
            out
        })
        .collect();
    lap("compare", &mut stages);

    // Train (or reuse) the model.
    let model = match &job.model {
        Some(m) => m.clone(),
        None => {
            progress.stage("training", 0);
            train_model(plan, opts, prepared.ids.len(), &levels, &levels_of)
        }
    };
    lap("train", &mut stages);

    // Score.
    progress.stage("scoring", pairs.len() as u64);
    let tf = TermFrequencies::count(plan, prepared.ids.len(), |r, c| {
        prepared.value(r as u32, c, width)
    });
    let weights: Vec<f64> = pairs
        .par_iter()
        .zip(levels.par_chunks(width))
        .with_min_len(4096)
        .map(|(&(a, _), l)| {
            matching::score(&model, plan, l, &tf, |c| prepared.value(a, c, width)).weight
        })
        .collect();
    progress.advance(pairs.len() as u64);
    let match_w = Model::weight_for(opts.match_threshold);
    let review_w = Model::weight_for(opts.review_threshold);
    let mut bands = [0u64; 3];
    for &w in &weights {
        bands[if w >= match_w {
            0
        } else if w >= review_w {
            1
        } else {
            2
        }] += 1;
    }
    lap("score", &mut stages);

    // Cluster.
    progress.stage("clustering", 0);
    let edges: Vec<Edge> = pairs
        .iter()
        .zip(&weights)
        .filter(|(_, &w)| w >= match_w)
        .map(|(&(a, b), &weight)| Edge { a, b, weight })
        .collect();
    let reps = cluster::cluster(prepared.ids.len(), &edges, opts.min_link_density);
    let mut size_of: HashMap<u32, usize> = HashMap::new();
    for &r in &reps {
        *size_of.entry(r).or_default() += 1;
    }
    let mut best: Vec<Option<(f64, u32)>> = vec![None; prepared.ids.len()];
    for (&(a, b), &w) in pairs.iter().zip(&weights) {
        for (x, y) in [(a, b), (b, a)] {
            let slot = &mut best[x as usize];
            let better = match slot {
                None => true,
                Some((bw, by)) => w > *bw || (w == *bw && y < *by),
            };
            if better {
                *slot = Some((w, y));
            }
        }
    }
    lap("cluster", &mut stages);

    // Write.
    progress.stage("writing", 0);
    let mut rank_of_row = vec![0u32; prepared.ids.len()];
    for (rank, &row) in prepared.row_of_rank.iter().enumerate() {
        rank_of_row[row] = rank as u32;
    }
    write_clusters(job, &prepared, &rank_of_row, &reps, &size_of, &best)?;
    if let Some(path) = &job.pairs {
        write_pairs(
            path, &prepared, plan, &model, &pairs, &levels, &weights, &tf, review_w, match_w,
        )?;
    }
    if !table.rejects.is_empty() {
        let path = job
            .rejects
            .clone()
            .unwrap_or_else(|| sibling(&job.output, "rejects.csv"));
        write_rejects(&path, &table.rejects).map_err(|e| DedupeError::Write {
            path: path.display().to_string(),
            source: e,
        })?;
    }
    lap("write", &mut stages);
    progress.finish();

    let mut cluster_sizes: Vec<usize> = size_of.values().copied().collect();
    cluster_sizes.sort_unstable();
    let uncertain = most_uncertain(&pairs, &weights, 50)
        .into_iter()
        .map(|i| {
            let (a, b) = pairs[i];
            explain(
                &table.headers,
                &table.rows[prepared.row_of_rank[a as usize]].fields,
                &table.rows[prepared.row_of_rank[b as usize]].fields,
                &prepared.ids[a as usize],
                &prepared.ids[b as usize],
                plan,
                &model,
                &levels[i * width..(i + 1) * width],
                &tf,
                |c| prepared.value(a, c, width),
            )
        })
        .collect();
    let mut level_counts: Vec<Vec<u64>> = plan
        .iter()
        .map(|c| vec![0; c.comparator.levels().len() + 1])
        .collect();
    for l in levels.chunks(width) {
        for (c, &x) in l.iter().enumerate() {
            level_counts[c][x as usize] += 1;
        }
    }
    Ok(DedupeResult {
        level_counts,
        records: prepared.ids.len(),
        rejected: table.rejects.len(),
        candidate_pairs: pairs.len() as u64,
        bands,
        clusters: cluster_sizes.iter().filter(|&&s| s >= 2).count(),
        cluster_sizes,
        oversized: oversized
            .into_iter()
            .map(|((field, value), records)| OversizedBlock {
                field,
                value,
                records,
            })
            .collect(),
        stages,
        pair_weights: weights,
        uncertain,
        plan: preparer.plan,
        model,
    })
}

fn sibling(path: &std::path::Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".");
    s.push(suffix);
    PathBuf::from(s)
}

/// A loaded model must have the comparisons this file gives, in order.
fn check_model(m: &Model, plan: &[Comparison]) -> Result<(), DedupeError> {
    let want: Vec<(&str, _)> = plan
        .iter()
        .map(|c| (c.name.as_str(), c.comparator))
        .collect();
    let have: Vec<(&str, _)> = m
        .comparisons
        .iter()
        .map(|c| (c.name.as_str(), c.comparator))
        .collect();
    if want != have {
        let names = |v: &[(&str, _)]| v.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
        return Err(DedupeError::ModelMismatch(format!(
            "the file gives comparisons [{}], the model has [{}]",
            names(&want),
            names(&have)
        )));
    }
    for (c, cm) in plan.iter().zip(&m.comparisons) {
        if cm.levels.len() != c.comparator.levels().len() {
            return Err(DedupeError::ModelMismatch(format!(
                "{} has {} levels in the model, {} expected",
                c.name,
                cm.levels.len(),
                c.comparator.levels().len()
            )));
        }
    }
    Ok(())
}

/// Train a model for `n` records from their candidate pairs' levels
/// (`levels`, `plan.len()` per pair) and a way to compare any two records
/// (for the random pairs that estimate u).
pub fn train_model(
    plan: &[Comparison],
    opts: &MatchingOptions,
    n: usize,
    levels: &[u8],
    levels_of: &(dyn Fn(u32, u32, &mut Vec<u8>) + Sync),
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
    let random = random_patterns(n, opts, levels_of, width);
    model::train(
        &matching::specs(plan),
        &candidates,
        &random,
        n_all_pairs(n),
        opts.em_iterations,
    )
}

fn n_all_pairs(n: usize) -> f64 {
    n as f64 * (n as f64 - 1.0) / 2.0
}

/// Level patterns of random pairs (all pairs when there are few records).
fn random_patterns(
    n: usize,
    opts: &MatchingOptions,
    levels_of: &(dyn Fn(u32, u32, &mut Vec<u8>) + Sync),
    width: usize,
) -> Patterns {
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

/// Indices of the `n` pairs whose weight is nearest 0 (probability 0.5).
fn most_uncertain(pairs: &[(u32, u32)], weights: &[f64], n: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..pairs.len()).collect();
    idx.sort_by(|&x, &y| {
        weights[x]
            .abs()
            .total_cmp(&weights[y].abs())
            .then(pairs[x].cmp(&pairs[y]))
    });
    idx.truncate(n);
    idx
}

#[allow(clippy::too_many_arguments)]
fn explain<'v>(
    headers: &[String],
    left: &[String],
    right: &[String],
    left_id: &str,
    right_id: &str,
    plan: &[Comparison],
    model: &Model,
    levels: &[u8],
    tf: &TermFrequencies,
    left_value: impl Fn(usize) -> Option<&'v Value>,
) -> PairView {
    let s = matching::score(model, plan, levels, tf, left_value);
    let mut columns: Vec<usize> = plan.iter().map(|c| c.column).collect();
    columns.dedup();
    PairView {
        left_id: left_id.to_string(),
        right_id: right_id.to_string(),
        weight: s.weight,
        probability: s.probability(),
        fields: columns
            .iter()
            .map(|&c| (headers[c].clone(), left[c].clone(), right[c].clone()))
            .collect(),
        terms: plan
            .iter()
            .zip(&s.terms)
            .map(|(c, t)| {
                (
                    c.name.clone(),
                    level_label(c, t.level).to_string(),
                    t.weight,
                )
            })
            .collect(),
    }
}

fn level_label(c: &Comparison, level: u8) -> &'static str {
    if level == 0 {
        "missing"
    } else {
        c.comparator.levels()[level as usize - 1]
    }
}

fn write_err(path: &std::path::Path) -> impl Fn(std::io::Error) -> DedupeError + '_ {
    move |source| DedupeError::Write {
        path: path.display().to_string(),
        source,
    }
}

fn write_clusters(
    job: &DedupeJob,
    p: &Prepared,
    rank_of_row: &[u32],
    reps: &[u32],
    size_of: &HashMap<u32, usize>,
    best: &[Option<(f64, u32)>],
) -> Result<(), DedupeError> {
    let path = &job.output;
    let mut w = TableWriter::create(path, Format::for_output(path), Default::default())
        .map_err(write_err(path))?;
    w.write_row(&[
        "id",
        "cluster_id",
        "cluster_size",
        "best_score",
        "best_match_id",
    ])
    .map_err(write_err(path))?;
    for &rank in rank_of_row {
        let rep = reps[rank as usize];
        let size = size_of[&rep].to_string();
        let (score, with) = match best[rank as usize] {
            Some((w, o)) => (
                format!("{:.4}", Model::probability(w)),
                p.ids[o as usize].as_str(),
            ),
            None => (String::new(), ""),
        };
        w.write_row(&[
            p.ids[rank as usize].as_str(),
            p.ids[rep as usize].as_str(),
            size.as_str(),
            score.as_str(),
            with,
        ])
        .map_err(write_err(path))?;
    }
    w.finish().map_err(write_err(path))?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn write_pairs(
    path: &std::path::Path,
    p: &Prepared,
    plan: &[Comparison],
    model: &Model,
    pairs: &[(u32, u32)],
    levels: &[u8],
    weights: &[f64],
    tf: &TermFrequencies,
    review_w: f64,
    match_w: f64,
) -> Result<(), DedupeError> {
    let width = plan.len();
    let mut w = TableWriter::create(path, Format::for_output(path), Default::default())
        .map_err(write_err(path))?;
    let mut header: Vec<String> = [
        "left_id",
        "right_id",
        "band",
        "weight",
        "probability",
        "prior",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for c in plan {
        header.push(format!("{}:level", c.name));
        header.push(format!("{}:weight", c.name));
    }
    let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
    w.write_row(&header_refs).map_err(write_err(path))?;
    let mut idx: Vec<usize> = (0..pairs.len())
        .filter(|&i| weights[i] >= review_w)
        .collect();
    idx.sort_by(|&x, &y| {
        weights[y]
            .total_cmp(&weights[x])
            .then(pairs[x].cmp(&pairs[y]))
    });
    let prior = model.prior_weight();
    let mut row: Vec<String> = Vec::with_capacity(header.len());
    for i in idx {
        let (a, b) = pairs[i];
        let l = &levels[i * width..(i + 1) * width];
        // The terms, term-frequency adjustment included, sum with the prior
        // to the weight.
        let s = matching::score(model, plan, l, tf, |c| p.value(a, c, width));
        row.clear();
        row.push(p.ids[a as usize].clone());
        row.push(p.ids[b as usize].clone());
        row.push(
            if s.weight >= match_w {
                "match"
            } else {
                "review"
            }
            .to_string(),
        );
        row.push(format!("{:.3}", s.weight));
        row.push(format!("{:.4}", s.probability()));
        row.push(format!("{prior:.3}"));
        for (c, t) in plan.iter().zip(&s.terms) {
            row.push(level_label(c, t.level).to_string());
            row.push(format!("{:.3}", t.weight));
        }
        let refs: Vec<&str> = row.iter().map(String::as_str).collect();
        w.write_row(&refs).map_err(write_err(path))?;
    }
    w.finish().map_err(write_err(path))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncertain_pairs_are_nearest_even_odds() {
        let pairs = [(0, 1), (0, 2), (1, 2)];
        assert_eq!(most_uncertain(&pairs, &[5.0, -0.5, 0.5], 2), vec![1, 2]);
    }
}

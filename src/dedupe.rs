//! The `dedupe` job: read → normalize → index → block → compare → train →
//! score → cluster → write clusters (and pairs).
//!
//! Records are put in order of their id first and every stage works on that
//! order ("rank"), so the result depends neither on the input row order nor on
//! thread timing: BM25 ties break by rank, random pairs are drawn over ranks
//! with a fixed seed, EM runs on sorted pattern counts and clusters are named
//! by their smallest id.

use crate::import::labels::LabelRow;
use crate::import::{self, write_rejects, Format, ReadOptions, Table, TableWriter};
use crate::index::{IndexBuilder, IndexError, OversizedBlock};
use crate::matching::band::LabelEstimates;
use crate::matching::batch::{self, Pair, PreparedBatch};
use crate::matching::model::{learn_from_labels, learn_tf_from_labels, Model, ModelMismatch};
use crate::matching::prepare::Preparer;
use crate::matching::{self, BandCounts, Bands, Comparison, Explanation, TermFrequencies};
use crate::normalize::Normalizer;
use crate::record::FieldType;
use crate::report::PairView;
use crate::rules::{header_key, FieldRule, MatchingOptions, Rules};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

pub use crate::matching::batch::{NoProgress, StageProgress};

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
    /// Decided pairs (`id_a,id_b,label`): a `match` links its pair in the
    /// clusters, a `non_match` keeps it from linking them directly.
    pub labels: Option<PathBuf>,
}

impl DedupeJob {
    /// A job over a table in memory (no files): the Python package's and
    /// the Spark driver's.
    pub fn for_table(overrides: Vec<(String, FieldType)>, id_column: Option<String>) -> DedupeJob {
        DedupeJob {
            input: PathBuf::new(),
            output: PathBuf::new(),
            pairs: None,
            rejects: None,
            overrides,
            id_column,
            read: ReadOptions::default(),
            model: None,
            labels: None,
        }
    }
}

/// What the labels file gave the run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelUse {
    /// Pairs labelled `match` / `non_match` whose records are in the file.
    pub matches: usize,
    pub non_matches: usize,
    /// Rows naming an id the file does not have (left out).
    pub unknown: usize,
    /// The first of those rows' line in the labels file.
    pub first_unknown_line: Option<usize>,
    /// The bands the clustering used: the rules', or calibrated from the
    /// labels (`[matching] auto_merge_precision`, `review_recall`).
    pub bands: Bands,
    /// Each labelled pair scored by the model and counted by band.
    pub estimates: LabelEstimates,
}

/// A labelled pair's weight in the clustering: far beyond either band edge.
pub const LABELLED_WEIGHT: f64 = 1e6;

/// The labels of a run: each decided pair by the ranks of its records
/// (smaller first), and what the file gave. The embedded job and the Spark
/// job (`nayose.spark.dedupe(labels=…)`) make and use it alike.
pub struct Decided {
    pub pairs: HashMap<(u32, u32), bool>,
    pub used: LabelUse,
}

impl Decided {
    /// A labels file's rows by the ranks `rank` gives their ids; a row
    /// naming an id the file does not have is counted and left out.
    /// `bands`: the rules' (until [`Decided::calibrate`]).
    pub fn of(rows: &[LabelRow], rank: impl Fn(&str) -> Option<u32>, bands: Bands) -> Decided {
        let mut pairs = HashMap::new();
        let mut used = LabelUse {
            bands,
            ..LabelUse::default()
        };
        for row in rows {
            match (rank(&row.id_a), rank(&row.id_b)) {
                (Some(a), Some(b)) => {
                    pairs.insert((a.min(b), a.max(b)), row.matched);
                    if row.matched {
                        used.matches += 1;
                    } else {
                        used.non_matches += 1;
                    }
                }
                _ => {
                    used.unknown += 1;
                    used.first_unknown_line.get_or_insert(row.line);
                }
            }
        }
        Decided { pairs, used }
    }

    /// The labelled matches, in rank order.
    pub fn matches(&self) -> Vec<Pair> {
        self.labelled()
            .into_iter()
            .filter_map(|(p, m)| m.then_some(p))
            .collect()
    }

    /// Each decided pair (ranks, smaller first) and whether it is a match,
    /// in rank order.
    pub fn labelled(&self) -> Vec<(Pair, bool)> {
        let mut pairs: Vec<(Pair, bool)> = self
            .pairs
            .iter()
            .map(|(&(a, b), &m)| (Pair { a, b }, m))
            .collect();
        pairs.sort();
        pairs
    }

    /// What the labels teach a model of `batch`, as the service's training
    /// learns from its stewards: m blended with the labelled matches'
    /// levels ([`learn_from_labels`]), then the term-frequency scales fitted
    /// to every labelled pair as that model scores them
    /// ([`learn_tf_from_labels`]; `tf`, the file's frequencies).
    pub fn teach(
        &self,
        model: &mut Model,
        plan: &[Comparison],
        batch: &PreparedBatch,
        tf: &(dyn matching::Frequencies + Sync),
    ) {
        let labelled = self.labelled();
        let pairs: Vec<Pair> = labelled.iter().map(|(p, _)| *p).collect();
        let levels = batch::compare(plan, batch, &pairs, &NoProgress);
        let levels: Vec<&[u8]> = levels.chunks(plan.len().max(1)).collect();
        let matched: Vec<Vec<u8>> = levels
            .iter()
            .zip(&labelled)
            .filter(|(_, (_, m))| *m)
            .map(|(l, _)| l.to_vec())
            .collect();
        learn_from_labels(model, &matched);
        let scored: Vec<(matching::Score, bool)> = labelled
            .iter()
            .zip(&levels)
            .map(|((p, m), l)| {
                (
                    matching::score(model, plan, l, tf, |c| batch.value(p.a, c)),
                    *m,
                )
            })
            .collect();
        learn_tf_from_labels(model, &scored);
    }

    /// A pair's weight in the clustering: the model's `weight`, or beyond
    /// the band edges, for or against, when the pair is labelled.
    pub fn bind(&self, a: u32, b: u32, weight: f64) -> f64 {
        match self.pairs.get(&(a.min(b), a.max(b))) {
            Some(true) => LABELLED_WEIGHT,
            Some(false) => -LABELLED_WEIGHT,
            None => weight,
        }
    }

    /// The bands calibrated from the model's own weights of the labelled
    /// pairs (`(weight, matched)`, any order) to the rules' targets, and
    /// how the model does on those pairs in them (kept in `used`).
    pub fn calibrate(&mut self, labelled: &[(f64, bool)], opts: &MatchingOptions) -> Bands {
        let bands =
            self.used
                .bands
                .calibrated(labelled, opts.auto_merge_precision, opts.review_recall);
        self.used.bands = bands;
        self.used.estimates = LabelEstimates::count(&bands, labelled);
        bands
    }
}

impl LabelUse {
    /// Whether the bands used are calibrated, not the rules' (`opts`).
    pub fn calibrated(&self, opts: &MatchingOptions) -> bool {
        self.bands != Bands::new(opts)
    }

    /// What the labels gave, as the Python summaries show it (`labels`).
    pub fn summary(&self, opts: &MatchingOptions) -> serde_json::Value {
        serde_json::json!({
            "matches": self.matches,
            "non_matches": self.non_matches,
            "unknown": self.unknown,
            "first_unknown_line": self.first_unknown_line,
            "calibrated": self.calibrated(opts),
            "match_weight": self.bands.match_weight,
            "review_weight": self.bands.review_weight,
            "estimates": self.estimates,
        })
    }
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
    #[error(transparent)]
    ModelMismatch(#[from] ModelMismatch),
    #[error("no column to compare (columns: {})", .0.join(", "))]
    NothingToCompare(Vec<String>),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// Everything a run found; the CLI prints it and the report draws it.
pub struct DedupeResult {
    pub records: usize,
    pub rejected: usize,
    pub plan: Vec<Comparison>,
    pub model: Model,
    pub candidate_pairs: u64,
    pub bands: BandCounts,
    pub clusters: usize,
    /// Every cluster's size, singletons included, ascending.
    pub cluster_sizes: Vec<usize>,
    pub oversized: Vec<OversizedBlock>,
    /// `[matching] ignore` entries that name no column of the file (a
    /// misspelt entry leaves the column it meant compared).
    pub unused_ignore: Vec<String>,
    pub stages: Vec<(String, f64)>,
    /// Every candidate pair's weight (for the histogram).
    pub pair_weights: Vec<f64>,
    /// The pairs whose probability is nearest 0.5, with their terms, for the report.
    pub uncertain: Vec<PairView>,
    /// Candidate pairs per comparison and level (index 0: missing).
    pub level_counts: Vec<Vec<u64>>,
    /// What `--labels` gave, when given.
    pub labels: Option<LabelUse>,
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
            // The bands the clustering used: calibrated from labels, or the rules'.
            merge_threshold: self.labels.as_ref().map_or(opts.match_threshold, |l| {
                crate::matching::model::Model::probability(l.bands.match_weight)
            }),
            review_threshold: self.labels.as_ref().map_or(opts.review_threshold, |l| {
                crate::matching::model::Model::probability(l.bands.review_weight)
            }),
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
                            weight: c.weight(i as u8 + 1),
                            pairs: counts.get(i + 1).copied().unwrap_or(0),
                            tf_scale: l.tf.then_some(l.tf_scale),
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
            labels: self.labels.as_ref().map(|l| crate::report::ReportLabels {
                calibrated: l.calibrated(opts),
                estimates: l.estimates.clone(),
            }),
        }
    }
}

/// Run the job on its file: [`DedupeRun`]'s stages in order, then the
/// clusters, pairs and rejects files.
pub fn dedupe_file(
    job: &DedupeJob,
    rules: &Rules,
    normalizer: &Normalizer,
    progress: &dyn StageProgress,
) -> Result<DedupeResult, DedupeError> {
    // The clock starts before the file is read: the `read` stage is its time.
    let mut run = DedupeRun::new(job, rules, normalizer, progress);
    progress.stage("reading", 0);
    let table = import::read_path(&job.input, &job.read)?;
    let (input, matched, labels) = run.stages(table)?;
    run.write(&input, &matched)?;
    run.lap("write");
    progress.finish();
    let mut result = run.result(input, matched);
    result.labels = labels.map(|d| d.used);
    Ok(result)
}

/// The clusters file's columns.
pub const CLUSTER_COLUMNS: [&str; 5] = [
    "id",
    "cluster_id",
    "cluster_size",
    "best_score",
    "best_match_id",
];

/// What [`dedupe_table`] gives: the run's result, the rows the clusters
/// file would hold ([`CLUSTER_COLUMNS`], input row order), the rows that
/// could not be read.
pub struct DedupedTable {
    pub result: DedupeResult,
    pub clusters: Vec<[String; 5]>,
    pub rejects: Vec<import::Reject>,
}

/// Run the job on a table in memory (the Python package): the same stages
/// as [`dedupe_file`]; `job.input` and the output paths are not used,
/// nothing is written.
pub fn dedupe_table(
    table: Table,
    job: &DedupeJob,
    rules: &Rules,
    normalizer: &Normalizer,
    progress: &dyn StageProgress,
) -> Result<DedupedTable, DedupeError> {
    let mut run = DedupeRun::new(job, rules, normalizer, progress);
    let (input, matched, labels) = run.stages(table)?;
    let clusters = cluster_rows(&input, &matched.clusters);
    let rejects = input.table.rejects.clone();
    progress.finish();
    let mut result = run.result(input, matched);
    result.labels = labels.map(|d| d.used);
    Ok(DedupedTable {
        result,
        clusters,
        rejects,
    })
}

/// What a job compares in a table, decided from its header and rows (the
/// first 200 non-empty values of a column tell its type): each column's
/// type, whether it is compared, the id column, and the [`Preparer`].
pub struct ColumnPlan {
    pub types: Vec<FieldType>,
    pub compare: Vec<bool>,
    pub id_column: Option<usize>,
    pub preparer: Preparer,
    /// `[matching] ignore` entries that name no column of the file.
    pub unused_ignore: Vec<String>,
}

pub fn plan_columns(
    table: &Table,
    rules: &Rules,
    normalizer: &Normalizer,
    job: &DedupeJob,
) -> Result<ColumnPlan, DedupeError> {
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
    let id_column = match &job.id_column {
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
    let columns: Vec<(&str, Option<&FieldRule>)> = (0..table.headers.len())
        .map(|c| {
            let rule = detected[c]
                .rule
                .as_deref()
                .and_then(|r| rules.fields.iter().find(|f| f.name == r));
            (table.headers[c].as_str(), rule)
        })
        .collect();
    let compare: Vec<bool> = columns
        .iter()
        .enumerate()
        .map(|(c, &(header, rule))| Some(c) != id_column && rules.is_compared(header, rule))
        .collect();
    let unused_ignore = rules.ignore_unused(columns.iter().copied());
    let preparer = Preparer::new(&table.headers, &types, &compare, &rules.matching);
    if preparer.plan.is_empty() {
        return Err(DedupeError::NothingToCompare(table.headers.clone()));
    }
    Ok(ColumnPlan {
        types,
        compare,
        id_column,
        preparer,
        unused_ignore,
    })
}

impl<'a> DedupeRun<'a> {
    fn new(
        job: &'a DedupeJob,
        rules: &'a Rules,
        normalizer: &'a Normalizer,
        progress: &'a dyn StageProgress,
    ) -> DedupeRun<'a> {
        DedupeRun {
            job,
            rules,
            normalizer,
            progress,
            bands: Bands::new(&rules.matching),
            stages: Vec::new(),
            clock: Instant::now(),
        }
    }

    /// Every stage from the table to the clusters.
    fn stages(&mut self, table: Table) -> Result<(Input, Matched, Option<Decided>), DedupeError> {
        let run = self;
        let rules = run.rules;
        let input = run.read(table)?;
        let mut labels = run.labels(&input)?;
        run.lap("read");
        let (batch, builder) = run.prepare(&input)?;
        run.lap("normalize");
        let index = run.index(builder)?;
        run.lap("index");
        let (pairs, oversized) = run.block(&index, &batch)?;
        drop(index);
        run.lap("block");
        let plan = &input.preparer.plan;
        let mut pairs = pairs;
        let mut levels = run.compare(plan, &batch, &pairs);
        run.lap("compare");
        let mut model = run.train(plan, &batch, &levels);
        let tf = TermFrequencies::count(plan, batch.len(), |r, c| batch.value(r as u32, c));
        if let Some(decided) = &labels {
            decided.teach(&mut model, plan, &batch, &tf);
        }
        run.lap("train");
        let mut scored = run.score(&model, plan, &batch, &pairs, &levels, tf);
        run.lap("score");
        let clusters = match &mut labels {
            Some(decided) => {
                let weights = bind_labels(
                    &model,
                    plan,
                    &batch,
                    decided,
                    &mut pairs,
                    &mut levels,
                    &mut scored,
                );
                // The model's own weights of the labelled pairs calibrate the
                // bands and estimate how the model does on them.
                let labelled: Vec<(f64, bool)> = pairs
                    .iter()
                    .zip(&scored.weights)
                    .filter_map(|(p, &w)| {
                        decided
                            .pairs
                            .get(&(p.a.min(p.b), p.a.max(p.b)))
                            .map(|&m| (w, m))
                    })
                    .collect();
                run.bands = decided.calibrate(&labelled, &rules.matching);
                run.cluster(&batch, &pairs, &weights)
            }
            None => run.cluster(&batch, &pairs, &scored.weights),
        };
        run.lap("cluster");
        let matched = Matched {
            model,
            batch,
            pairs,
            levels,
            scored,
            clusters,
            oversized,
        };
        Ok((input, matched, labels))
    }
}

/// Make the labels bind: a labelled match that blocking did not find
/// becomes a pair of its own (compared and scored, so the pairs file
/// explains it); the weights the clustering sees are the model's, with each
/// labelled pair's beyond the band edges, for or against.
fn bind_labels(
    model: &Model,
    plan: &[Comparison],
    batch: &PreparedBatch,
    decided: &Decided,
    pairs: &mut Vec<Pair>,
    levels: &mut Vec<u8>,
    scored: &mut Scored,
) -> Vec<f64> {
    let found: std::collections::HashSet<(u32, u32)> =
        pairs.iter().map(|p| (p.a.min(p.b), p.a.max(p.b))).collect();
    let missing: Vec<Pair> = decided
        .matches()
        .into_iter()
        .filter(|p| !found.contains(&(p.a, p.b)))
        .collect();
    let new_levels = batch::compare(plan, batch, &missing, &NoProgress);
    let new_weights = batch::score(model, plan, batch, &missing, &new_levels, &scored.tf);
    pairs.extend(missing);
    levels.extend(new_levels);
    scored.weights.extend(new_weights);
    pairs
        .iter()
        .zip(&scored.weights)
        .map(|(p, &w)| decided.bind(p.a, p.b, w))
        .collect()
}

/// What the stages between reading and writing made of the file.
struct Matched {
    model: Model,
    batch: PreparedBatch,
    pairs: Vec<Pair>,
    /// `plan.len()` levels per pair.
    levels: Vec<u8>,
    scored: Scored,
    clusters: Clusters,
    oversized: Vec<OversizedBlock>,
}

/// The file as read: its table, what each column is, and the records in
/// rank (id) order.
struct Input {
    table: Table,
    preparer: Preparer,
    /// Record ids, by rank.
    ids: Vec<String>,
    /// The input row of each rank.
    row_of_rank: Vec<usize>,
    /// `[matching] ignore` entries that name no column of the file.
    unused_ignore: Vec<String>,
}

/// The pairs' weights and the term frequencies they were scored with.
struct Scored {
    weights: Vec<f64>,
    tf: TermFrequencies,
}

/// Each record's cluster (its representative's rank) and best candidate.
struct Clusters {
    reps: Vec<u32>,
    size_of: HashMap<u32, usize>,
    /// The strongest candidate of each record: (weight, its rank).
    best: Vec<Option<(f64, u32)>>,
}

/// One run of the job, a method per stage. Only [`DedupeRun::read`] and
/// [`DedupeRun::write`] touch files; the stages between are the functions of
/// [`crate::matching::batch`] over this file's records and pairs.
struct DedupeRun<'a> {
    job: &'a DedupeJob,
    rules: &'a Rules,
    normalizer: &'a Normalizer,
    progress: &'a dyn StageProgress,
    bands: Bands,
    stages: Vec<(String, f64)>,
    clock: Instant,
}

impl DedupeRun<'_> {
    /// Close a stage: note its time.
    fn lap(&mut self, name: &str) {
        self.stages
            .push((name.to_string(), self.clock.elapsed().as_secs_f64()));
        self.clock = Instant::now();
    }

    /// Read the file, decide what each column is and which are compared,
    /// and put the records in order of their id (rank).
    fn read(&self, table: Table) -> Result<Input, DedupeError> {
        let ColumnPlan {
            id_column: id_col,
            preparer,
            unused_ignore,
            ..
        } = plan_columns(&table, self.rules, self.normalizer, self.job)?;
        if let Some(m) = &self.job.model {
            m.check_fits(&preparer.plan)?;
        }
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
        Ok(Input {
            ids: order.iter().map(|&r| ids[r].clone()).collect(),
            row_of_rank: order,
            table,
            preparer,
            unused_ignore,
        })
    }

    /// Prepare every record, in rank order, a slice at a time; each slice's
    /// keys go to the index builder, whose indexing thread indexes it while
    /// the next slice is prepared.
    fn prepare(&self, input: &Input) -> Result<(PreparedBatch, IndexBuilder), DedupeError> {
        let preparer = &input.preparer;
        self.progress.stage("normalizing", input.ids.len() as u64);
        let mut builder = IndexBuilder::new(&preparer.blocking)?;
        let mut all = PreparedBatch::with_capacity(preparer.plan.len(), input.ids.len());
        for ranks in input.row_of_rank.chunks(65_536) {
            let rows: Vec<&Vec<String>> = ranks
                .iter()
                .map(|&row| &input.table.rows[row].fields)
                .collect();
            let part = batch::prepare(preparer, self.normalizer, &rows, self.progress);
            for k in part.keys() {
                builder.add(k)?;
            }
            all.append(part);
        }
        Ok((all, builder))
    }

    /// The candidate index over every record's keys (one segment, rank order).
    fn index(&self, builder: IndexBuilder) -> Result<crate::index::CandidateIndex, DedupeError> {
        self.progress.stage("indexing", 0);
        Ok(builder.finish()?)
    }

    /// Each record's candidates: pairs of ranks, and the exact keys too
    /// common to block on.
    fn block(
        &self,
        index: &crate::index::CandidateIndex,
        batch: &PreparedBatch,
    ) -> Result<(Vec<Pair>, Vec<OversizedBlock>), DedupeError> {
        self.progress.stage("blocking", batch.len() as u64);
        let oversized: Mutex<BTreeMap<(String, String), u64>> = Mutex::default();
        let ranks: Vec<u32> = (0..batch.len() as u32).collect();
        let found = batch::candidate_pairs(&ranks, |r| {
            let c = index.candidates(&batch.keys()[r], Some(r as u32))?;
            self.progress.advance(1);
            if !c.oversized.is_empty() {
                let mut o = oversized.lock().expect("oversized blocks");
                for b in c.oversized {
                    o.insert((b.field, b.value), b.records);
                }
            }
            Ok::<_, IndexError>(c.records)
        })?;
        let pairs = found.into_iter().map(|(a, b)| Pair { a, b }).collect();
        let oversized = oversized
            .into_inner()
            .expect("oversized blocks")
            .into_iter()
            .map(|((field, value), records)| OversizedBlock {
                field,
                value,
                records,
            })
            .collect();
        Ok((pairs, oversized))
    }

    /// The labels file, as pairs of ranks: `None` without `--labels`.
    fn labels(&self, input: &Input) -> Result<Option<Decided>, DedupeError> {
        let Some(path) = &self.job.labels else {
            return Ok(None);
        };
        let rows = import::labels::read_labels(path, &ReadOptions::default())?;
        let rank = |id: &str| {
            input
                .ids
                .binary_search_by(|x| x.as_str().cmp(id))
                .ok()
                .map(|r| r as u32)
        };
        Ok(Some(Decided::of(&rows, rank, self.bands)))
    }

    fn compare(&self, plan: &[Comparison], batch: &PreparedBatch, pairs: &[Pair]) -> Vec<u8> {
        self.progress.stage("comparing", pairs.len() as u64);
        batch::compare(plan, batch, pairs, self.progress)
    }

    /// The model: the job's own, or one trained on this file.
    fn train(&self, plan: &[Comparison], batch: &PreparedBatch, levels: &[u8]) -> Model {
        match &self.job.model {
            Some(m) => m.clone(),
            None => {
                self.progress.stage("training", 0);
                batch::train(plan, &self.rules.matching, batch, levels)
            }
        }
    }

    fn score(
        &self,
        model: &Model,
        plan: &[Comparison],
        batch: &PreparedBatch,
        pairs: &[Pair],
        levels: &[u8],
        tf: TermFrequencies,
    ) -> Scored {
        self.progress.stage("scoring", pairs.len() as u64);
        let weights = batch::score(model, plan, batch, pairs, levels, &tf);
        self.progress.advance(pairs.len() as u64);
        Scored { weights, tf }
    }

    /// Clusters over the auto-merge band, and each record's best candidate.
    fn cluster(&self, batch: &PreparedBatch, pairs: &[Pair], weights: &[f64]) -> Clusters {
        self.progress.stage("clustering", 0);
        let reps = batch::cluster(
            batch.len(),
            pairs,
            weights,
            &self.bands,
            self.rules.matching.min_link_density,
        );
        let mut size_of: HashMap<u32, usize> = HashMap::new();
        for &r in &reps {
            *size_of.entry(r).or_default() += 1;
        }
        let mut best: Vec<Option<(f64, u32)>> = vec![None; batch.len()];
        for (p, &w) in pairs.iter().zip(weights) {
            for (x, y) in [(p.a, p.b), (p.b, p.a)] {
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
        Clusters {
            reps,
            size_of,
            best,
        }
    }

    /// Write the clusters, the pairs (when asked) and the rejects.
    fn write(&self, input: &Input, m: &Matched) -> Result<(), DedupeError> {
        let job = self.job;
        self.progress.stage("writing", 0);
        write_clusters(&job.output, input, &m.clusters)?;
        if let Some(path) = &job.pairs {
            let explained = PairExplainer {
                input,
                model: &m.model,
                batch: &m.batch,
                tf: &m.scored.tf,
            };
            write_pairs(path, &explained, &self.bands, m)?;
        }
        if !input.table.rejects.is_empty() {
            let path = job
                .rejects
                .clone()
                .unwrap_or_else(|| import::default_rejects_path(&job.output));
            write_rejects(&path, &input.table.rejects).map_err(write_err(&path))?;
        }
        Ok(())
    }

    /// What the CLI prints and the report draws.
    fn result(self, input: Input, m: Matched) -> DedupeResult {
        let plan = &input.preparer.plan;
        let width = plan.len();
        let mut cluster_sizes: Vec<usize> = m.clusters.size_of.values().copied().collect();
        cluster_sizes.sort_unstable();
        let explainer = PairExplainer {
            input: &input,
            model: &m.model,
            batch: &m.batch,
            tf: &m.scored.tf,
        };
        let uncertain = most_uncertain(&m.pairs, &m.scored.weights, 50)
            .into_iter()
            .map(|i| explainer.view(m.pairs[i], &m.levels[i * width..(i + 1) * width]))
            .collect();
        let mut level_counts: Vec<Vec<u64>> = plan
            .iter()
            .map(|c| vec![0; c.comparator.levels().len() + 1])
            .collect();
        for l in m.levels.chunks(width) {
            for (c, &x) in l.iter().enumerate() {
                level_counts[c][x as usize] += 1;
            }
        }
        DedupeResult {
            level_counts,
            records: input.ids.len(),
            rejected: input.table.rejects.len(),
            candidate_pairs: m.pairs.len() as u64,
            bands: batch::count_bands(&self.bands, &m.scored.weights),
            clusters: cluster_sizes.iter().filter(|&&s| s >= 2).count(),
            cluster_sizes,
            oversized: m.oversized,
            unused_ignore: input.unused_ignore,
            stages: self.stages,
            pair_weights: m.scored.weights,
            uncertain,
            plan: input.preparer.plan,
            model: m.model,
            labels: None,
        }
    }
}

/// Explains pairs of the run: the terms of their scores, by comparison.
struct PairExplainer<'a> {
    input: &'a Input,
    model: &'a Model,
    batch: &'a PreparedBatch,
    tf: &'a TermFrequencies,
}

impl PairExplainer<'_> {
    /// The explanation of a pair with these levels.
    fn explain(&self, pair: Pair, levels: &[u8]) -> Explanation {
        let plan = &self.input.preparer.plan;
        // The terms, term-frequency adjustment included, sum with the prior
        // to the weight.
        let s = matching::score(self.model, plan, levels, self.tf, |c| {
            self.batch.value(pair.a, c)
        });
        let headers = &self.input.table.headers;
        Explanation::of(self.model, plan, &s, |c| headers[c].as_str())
    }

    /// Both records side by side with the explanation (for the report).
    fn view(&self, pair: Pair, levels: &[u8]) -> PairView {
        let input = self.input;
        let explanation = self.explain(pair, levels);
        let row = |rank: u32| &input.table.rows[input.row_of_rank[rank as usize]].fields;
        let (left, right) = (row(pair.a), row(pair.b));
        let mut columns: Vec<usize> = input.preparer.plan.iter().map(|c| c.column).collect();
        columns.dedup();
        let weight = explanation.weight();
        PairView {
            left_id: input.ids[pair.a as usize].clone(),
            right_id: input.ids[pair.b as usize].clone(),
            weight,
            probability: Model::probability(weight),
            fields: columns
                .iter()
                .map(|&c| {
                    (
                        input.table.headers[c].clone(),
                        left[c].clone(),
                        right[c].clone(),
                    )
                })
                .collect(),
            terms: explanation.terms,
        }
    }
}

/// Indices of the `n` pairs whose weight is nearest 0 (probability 0.5).
fn most_uncertain(pairs: &[Pair], weights: &[f64], n: usize) -> Vec<usize> {
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

fn write_err(path: &std::path::Path) -> impl Fn(std::io::Error) -> DedupeError + '_ {
    move |source| DedupeError::Write {
        path: path.display().to_string(),
        source,
    }
}

/// The clusters file, in input row order.
fn write_clusters(
    path: &std::path::Path,
    input: &Input,
    clusters: &Clusters,
) -> Result<(), DedupeError> {
    let mut w = TableWriter::create(path, Format::for_output(path), Default::default())
        .map_err(write_err(path))?;
    w.write_row(&CLUSTER_COLUMNS).map_err(write_err(path))?;
    for row in cluster_rows(input, clusters) {
        let fields: Vec<&str> = row.iter().map(String::as_str).collect();
        w.write_row(&fields).map_err(write_err(path))?;
    }
    w.finish().map_err(write_err(path))?;
    Ok(())
}

/// Each input row's cluster ([`CLUSTER_COLUMNS`]), in input row order.
fn cluster_rows(input: &Input, clusters: &Clusters) -> Vec<[String; 5]> {
    let mut rank_of_row = vec![0u32; input.ids.len()];
    for (rank, &row) in input.row_of_rank.iter().enumerate() {
        rank_of_row[row] = rank as u32;
    }
    let ids = &input.ids;
    rank_of_row
        .into_iter()
        .map(|rank| {
            let rep = clusters.reps[rank as usize];
            let (score, with) = match clusters.best[rank as usize] {
                Some((w, o)) => (
                    format!("{:.4}", Model::probability(w)),
                    ids[o as usize].clone(),
                ),
                None => (String::new(), String::new()),
            };
            [
                ids[rank as usize].clone(),
                ids[rep as usize].clone(),
                clusters.size_of[&rep].to_string(),
                score,
                with,
            ]
        })
        .collect()
}

/// The pairs file: every pair in the match and review bands, strongest
/// first, with each comparison's level and weight.
fn write_pairs(
    path: &std::path::Path,
    explained: &PairExplainer,
    bands: &Bands,
    m: &Matched,
) -> Result<(), DedupeError> {
    let (pairs, levels, weights) = (&m.pairs, &m.levels, &m.scored.weights);
    let input = explained.input;
    let plan = &input.preparer.plan;
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
        .filter(|&i| bands.of(weights[i]).is_candidate_match())
        .collect();
    idx.sort_by(|&x, &y| {
        weights[y]
            .total_cmp(&weights[x])
            .then(pairs[x].cmp(&pairs[y]))
    });
    let mut row: Vec<String> = Vec::with_capacity(header.len());
    for i in idx {
        let pair = pairs[i];
        let e = explained.explain(pair, &levels[i * width..(i + 1) * width]);
        let weight = e.weight();
        row.clear();
        row.push(input.ids[pair.a as usize].clone());
        row.push(input.ids[pair.b as usize].clone());
        row.push(bands.of(weight).as_str().to_string());
        row.push(format!("{weight:.3}"));
        row.push(format!("{:.4}", Model::probability(weight)));
        row.push(format!("{:.3}", e.prior));
        for t in &e.terms {
            row.push(t.level.clone());
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
        let pairs = [(0, 1), (0, 2), (1, 2)].map(|(a, b)| Pair { a, b });
        assert_eq!(most_uncertain(&pairs, &[5.0, -0.5, 0.5], 2), vec![1, 2]);
    }
}

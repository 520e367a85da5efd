//! The dedupe job's stages for `nayose.spark.dedupe`: each is a function of
//! one Arrow batch (records, terms or pairs), run on the executors through
//! `mapInArrow`; what must be counted over every record (document
//! frequencies, term frequencies, level patterns, components) Spark counts
//! between them. The stages are the library's own (`Preparer`, the BM25
//! weight of `index::postings`, `compare_values`, `score`,
//! `split_component`), so the job is the command line's, cut at the places
//! where it needs the whole file.

use crate::{load_rules, overrides, to_table, value_error};
use arrow_array::builder::{BinaryBuilder, Int32Builder, Int8Builder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int32Type, Int64Type, Int8Type};
use arrow_array::{Array, ArrayRef, BinaryArray, Float32Array, Float64Array, RecordBatch};
use arrow_pyarrow::{PyArrowType, Table as PyTable};
use nayose::cluster::{split_component, Edge};
use nayose::dedupe::{plan_columns, Decided, DedupeJob, LABELLED_WEIGHT};
use nayose::import::labels::{read_labels, LabelRow};
use nayose::import::ReadOptions;
use nayose::index::common_df;
use nayose::index::postings::{hit_order, key_terms, Bm25Stats, TermKind};
use nayose::matching::batch::{compare_values, random_pair_chunks, random_pairs, train_patterns};
use nayose::matching::model::{learn_from_labels, learn_tf_from_labels, Model, Patterns};
use nayose::matching::prepare::{PreparedRecord, Preparer};
use nayose::matching::{self, tf_keys, tf_slots, Band, Bands, SlotFrequencies};
use nayose::normalize::Normalizer;
use nayose::record::FieldType;
use nayose::rules::Rules;
use pyo3::prelude::*;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// The BM25 candidates of query records, fed rows `(q, postings)` sorted
/// by `q` (each row one of q's terms with that term's packed postings,
/// [`DedupeStages::pack_postings`]): the weights of each other record are
/// summed exactly (as `f64`), and when q's rows end its top k in
/// [`hit_order`] become pairs `(lower, higher)`. A query's rows may span
/// batches: the sums carry over until `finish`.
#[pyclass]
pub struct TopHits {
    k: usize,
    q: Option<u32>,
    sums: HashMap<u32, f64>,
}

impl TopHits {
    fn close(&mut self, a: &mut Int32Builder, b: &mut Int32Builder) {
        let Some(q) = self.q.take() else { return };
        let mut hits: Vec<(f32, u32)> = self.sums.drain().map(|(d, s)| (s as f32, d)).collect();
        hits.sort_by(|x, y| hit_order(*x, *y));
        for (_, d) in hits.into_iter().take(self.k) {
            a.append_value(q.min(d) as i32);
            b.append_value(q.max(d) as i32);
        }
    }
}

#[pymethods]
impl TopHits {
    /// Feed a batch of `(q, postings)` rows; arrays `a`, `b` of the pairs
    /// of the queries it completes.
    fn feed(
        &mut self,
        py: Python<'_>,
        q: PyArrowType<arrow_data::ArrayData>,
        postings: PyArrowType<arrow_data::ArrayData>,
    ) -> Arrays {
        let (q, postings) = (array(q), array(postings));
        let (q, postings) = (q.as_primitive::<Int32Type>(), postings.as_binary::<i32>());
        py.detach(|| {
            let (mut a, mut b) = (Int32Builder::new(), Int32Builder::new());
            for i in 0..q.len() {
                let query = q.value(i) as u32;
                if self.q != Some(query) {
                    self.close(&mut a, &mut b);
                    self.q = Some(query);
                }
                for e in postings.value(i).chunks_exact(8) {
                    let d = u32::from_le_bytes([e[0], e[1], e[2], e[3]]);
                    if d != query {
                        let w = f32::from_le_bytes([e[4], e[5], e[6], e[7]]);
                        *self.sums.entry(d).or_default() += w as f64;
                    }
                }
            }
            out(vec![Arc::new(a.finish()), Arc::new(b.finish())])
        })
    }

    /// The pairs of the last query.
    fn finish(&mut self) -> Arrays {
        let (mut a, mut b) = (Int32Builder::new(), Int32Builder::new());
        self.close(&mut a, &mut b);
        out(vec![Arc::new(a.finish()), Arc::new(b.finish())])
    }
}

/// What every executor must agree on, decided once on the driver: the
/// columns, each one's type, which are compared, the id column.
#[derive(serde::Serialize, serde::Deserialize)]
struct Plan {
    headers: Vec<String>,
    types: Vec<String>,
    compare: Vec<bool>,
    id_column: usize,
}

/// The tag an encoded prepared record starts with (records are prepared
/// and read again within one job, under one plan).
const TAG: &[u8; 8] = b"nayose-s";

/// A labels file (`id_a,id_b,label`) read on the driver with the command
/// line's reader and checks; [`DedupeStages::rank_labels`] ranks it.
#[pyclass(frozen)]
pub struct LabelFile {
    rows: Vec<LabelRow>,
}

/// A labels file's pairs by the ranks of their records
/// ([`DedupeStages::rank_labels`]), calibrating the bands.
#[pyclass]
pub struct RankedLabels(Decided);

#[pymethods]
impl LabelFile {
    #[staticmethod]
    fn read(path: PathBuf) -> PyResult<LabelFile> {
        let rows = read_labels(&path, &ReadOptions::default()).map_err(value_error)?;
        Ok(LabelFile { rows })
    }

    /// The ids the labels name, each once, in byte order.
    fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .rows
            .iter()
            .flat_map(|r| [r.id_a.clone(), r.id_b.clone()])
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

type Arrays = Vec<PyArrowType<arrow_data::ArrayData>>;

fn out(arrays: Vec<ArrayRef>) -> Arrays {
    arrays
        .into_iter()
        .map(|a| PyArrowType(a.into_data()))
        .collect()
}

fn array(a: PyArrowType<arrow_data::ArrayData>) -> ArrayRef {
    arrow_array::make_array(a.0)
}

fn decode(preps: &BinaryArray, i: usize) -> PyResult<PreparedRecord> {
    PreparedRecord::decode(preps.value(i), TAG)
        .ok_or_else(|| value_error("a prepared record of another plan"))
}

#[pyclass(frozen)]
pub struct DedupeStages {
    rules: Rules,
    normalizer: Normalizer,
    plan: Plan,
    preparer: Preparer,
    slots: Vec<(usize, u8)>,
}

impl DedupeStages {
    /// Score one pair from its levels and its left record's counts at each
    /// term-frequency slot among `records` records.
    fn score_one(
        &self,
        model: &Model,
        records: u64,
        levels: &[u8],
        counts: &[u64],
    ) -> matching::Score {
        let tf = SlotFrequencies {
            slots: &self.slots,
            counts,
            records,
        };
        // The tf key is the left record's own: its counts stand for it, so
        // the value itself is not needed here.
        let present = matching::compare::Value::new("");
        matching::score(model, &self.preparer.plan, levels, &tf, |_| Some(&present))
    }
}

#[pymethods]
impl DedupeStages {
    /// The plan of a job from the first rows of its table (as the command
    /// line decides it from the first 65,536), as JSON; an error when the
    /// id column is missing or nothing is compared.
    #[staticmethod]
    #[pyo3(signature = (sample, rules, fields, id_column, max_field_bytes))]
    fn plan(
        py: Python<'_>,
        sample: PyArrowType<PyTable>,
        rules: Option<(String, String)>,
        fields: Option<Vec<(String, String)>>,
        id_column: String,
        max_field_bytes: usize,
    ) -> PyResult<String> {
        let rules = load_rules(rules)?;
        let table = to_table(sample.0, max_field_bytes)?;
        let job = DedupeJob::for_table(overrides(fields)?, Some(id_column));
        let p = py
            .detach(|| plan_columns(&table, &rules, &Normalizer::new(&rules), &job))
            .map_err(value_error)?;
        let plan = Plan {
            headers: table.headers.clone(),
            types: p.types.iter().map(|t| t.to_string()).collect(),
            compare: p.compare,
            id_column: p.id_column.expect("an id column was given"),
        };
        serde_json::to_string(&plan).map_err(value_error)
    }

    #[new]
    #[pyo3(signature = (rules, plan))]
    fn new(rules: Option<(String, String)>, plan: &str) -> PyResult<DedupeStages> {
        let rules = load_rules(rules)?;
        let plan: Plan = serde_json::from_str(plan).map_err(value_error)?;
        let types = plan
            .types
            .iter()
            .map(|t| t.parse::<FieldType>().map_err(value_error))
            .collect::<PyResult<Vec<_>>>()?;
        let preparer = Preparer::new(&plan.headers, &types, &plan.compare, &rules.matching);
        Ok(DedupeStages {
            normalizer: Normalizer::new(&rules),
            slots: tf_slots(&preparer.plan),
            rules,
            plan,
            preparer,
        })
    }

    /// The job's fields by kind: (text fields, scored fields, exact
    /// fields, term-frequency slots), for the statistics and the report.
    fn fields(&self) -> (Vec<String>, Vec<String>, Vec<String>, usize) {
        let b = &self.preparer.blocking;
        (
            b.text_fields.clone(),
            b.scored_fields.clone(),
            b.exact_fields.clone(),
            self.slots.len(),
        )
    }

    /// The matching options the plan needs on the driver: (top_k,
    /// max_block, the document frequency above which the embedded search
    /// leaves a bigram out among `records` records).
    fn blocking(&self, records: u64) -> (usize, usize, u64) {
        let m = &self.rules.matching;
        (m.top_k, m.max_block, common_df(records, m.max_term_share))
    }

    /// Prepare a batch of input rows: arrays `id`, `prep` (the encoded
    /// prepared record) for the rows read, and `error`, `column`, `raw` for
    /// those that could not be (null elsewhere).
    fn prepare(
        &self,
        py: Python<'_>,
        batch: PyArrowType<RecordBatch>,
        max_field_bytes: usize,
    ) -> PyResult<Arrays> {
        let batch = batch.0;
        let names: Vec<&str> = batch
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        if names
            != self
                .plan
                .headers
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
        {
            return Err(value_error(format!(
                "the columns changed: {names:?}, planned {:?}",
                self.plan.headers
            )));
        }
        let opts = ReadOptions {
            max_field_bytes,
            ..ReadOptions::default()
        };
        let schema = batch.schema();
        let table = nayose::import::arrow::read_batches(&schema, [Ok(batch)], &opts)
            .map_err(value_error)?;
        Ok(py.detach(|| {
            let (mut ids, mut preps) = (StringBuilder::new(), BinaryBuilder::new());
            let (mut errors, mut columns, mut raws) = (
                StringBuilder::new(),
                StringBuilder::new(),
                StringBuilder::new(),
            );
            for row in &table.rows {
                let p = self.preparer.prepare(&self.normalizer, &row.fields);
                ids.append_value(row.fields[self.plan.id_column].trim());
                preps.append_value(p.encode(TAG));
                errors.append_null();
                columns.append_null();
                raws.append_null();
            }
            for r in &table.rejects {
                ids.append_null();
                preps.append_null();
                errors.append_value(&r.reason);
                columns.append_option(r.column.and_then(|c| self.plan.headers.get(c - 1)));
                raws.append_value(&r.raw);
            }
            out(vec![
                Arc::new(ids.finish()),
                Arc::new(preps.finish()),
                Arc::new(errors.finish()),
                Arc::new(columns.finish()),
                Arc::new(raws.finish()),
            ])
        }))
    }

    /// Each record's key terms: arrays `rank`, `kind` (0 bigram, 1 scored,
    /// 2 exact), `field`, `term`, `tf`, `len`.
    fn terms(
        &self,
        py: Python<'_>,
        ranks: PyArrowType<arrow_data::ArrayData>,
        preps: PyArrowType<arrow_data::ArrayData>,
    ) -> PyResult<Arrays> {
        let (ranks, preps) = (array(ranks), array(preps));
        let (ranks, preps) = (ranks.as_primitive::<Int32Type>(), preps.as_binary::<i32>());
        py.detach(|| {
            let (mut r, mut k, mut f) =
                (Int32Builder::new(), Int8Builder::new(), Int32Builder::new());
            let (mut term, mut tf, mut len) = (
                StringBuilder::new(),
                Int32Builder::new(),
                Int32Builder::new(),
            );
            for i in 0..preps.len() {
                for t in key_terms(&decode(preps, i)?.keys) {
                    r.append_value(ranks.value(i));
                    k.append_value(t.kind as i8);
                    f.append_value(t.field as i32);
                    term.append_value(&t.term);
                    tf.append_value(t.tf as i32);
                    len.append_value(t.len as i32);
                }
            }
            Ok(out(vec![
                Arc::new(r.finish()),
                Arc::new(k.finish()),
                Arc::new(f.finish()),
                Arc::new(term.finish()),
                Arc::new(tf.finish()),
                Arc::new(len.finish()),
            ]))
        })
    }

    /// The BM25 weight of each posting (`kind`, `field`, its term's `df`,
    /// `tf`, `len`) under the statistics (JSON of `Bm25Stats`): a float32
    /// array, null for an exact term.
    fn weights(
        &self,
        stats: &str,
        kind: PyArrowType<arrow_data::ArrayData>,
        field: PyArrowType<arrow_data::ArrayData>,
        df: PyArrowType<arrow_data::ArrayData>,
        tf: PyArrowType<arrow_data::ArrayData>,
        len: PyArrowType<arrow_data::ArrayData>,
    ) -> PyResult<PyArrowType<arrow_data::ArrayData>> {
        let stats: Bm25Stats = serde_json::from_str(stats).map_err(value_error)?;
        let (kind, field, df, tf, len) =
            (array(kind), array(field), array(df), array(tf), array(len));
        let kind = kind.as_primitive::<Int8Type>();
        let field = field.as_primitive::<Int32Type>();
        let df = df.as_primitive::<Int64Type>();
        let (tf, len) = (
            tf.as_primitive::<Int32Type>(),
            len.as_primitive::<Int32Type>(),
        );
        let w: Float32Array = (0..kind.len())
            .map(|i| {
                let k = TermKind::from_u8(kind.value(i) as u8)?;
                stats.weight(
                    k,
                    field.value(i) as u16,
                    df.value(i) as u64,
                    tf.value(i) as u32,
                    len.value(i) as u32,
                )
            })
            .collect();
        Ok(PyArrowType(w.into_data()))
    }

    /// Each term's postings (a list of `(rank, w)` per row) packed as one
    /// binary value per row: little-endian `u32` rank and `f32` weight,
    /// in rank order.
    #[staticmethod]
    fn pack_postings(
        hits: PyArrowType<arrow_data::ArrayData>,
    ) -> PyArrowType<arrow_data::ArrayData> {
        let hits = array(hits);
        let hits = hits.as_list::<i32>();
        let mut out = BinaryBuilder::new();
        let mut entries: Vec<(u32, f32)> = Vec::new();
        for i in 0..hits.len() {
            let list = hits.value(i);
            let list = list.as_struct();
            let (r, w) = (
                list.column(0).as_primitive::<Int32Type>(),
                list.column(1).as_primitive::<Float32Type>(),
            );
            entries.clear();
            entries.extend((0..r.len()).map(|j| (r.value(j) as u32, w.value(j))));
            entries.sort_by_key(|e| e.0);
            let mut bytes = Vec::with_capacity(entries.len() * 8);
            for (r, w) in &entries {
                bytes.extend_from_slice(&r.to_le_bytes());
                bytes.extend_from_slice(&w.to_le_bytes());
            }
            out.append_value(&bytes);
        }
        PyArrowType(out.finish().into_data())
    }

    /// A fresh BM25 top-k selection over rows sorted by query record.
    fn top_hits(&self) -> TopHits {
        TopHits {
            k: self.rules.matching.top_k,
            q: None,
            sums: HashMap::new(),
        }
    }

    /// Each record's term-frequency keys: arrays `rank`, `slot`, `key`.
    fn tf_keys(
        &self,
        py: Python<'_>,
        ranks: PyArrowType<arrow_data::ArrayData>,
        preps: PyArrowType<arrow_data::ArrayData>,
    ) -> PyResult<Arrays> {
        let (ranks, preps) = (array(ranks), array(preps));
        let (ranks, preps) = (ranks.as_primitive::<Int32Type>(), preps.as_binary::<i32>());
        py.detach(|| {
            let (mut r, mut s, mut k) = (
                Int32Builder::new(),
                Int32Builder::new(),
                StringBuilder::new(),
            );
            for i in 0..preps.len() {
                for (slot, key) in tf_keys(&self.preparer.plan, &decode(preps, i)?.values) {
                    r.append_value(ranks.value(i));
                    s.append_value(slot as i32);
                    k.append_value(key);
                }
            }
            Ok(out(vec![
                Arc::new(r.finish()),
                Arc::new(s.finish()),
                Arc::new(k.finish()),
            ]))
        })
    }

    /// The levels of each pair of prepared records: a binary array, one
    /// byte per comparison of the plan.
    fn compare(
        &self,
        py: Python<'_>,
        a: PyArrowType<arrow_data::ArrayData>,
        b: PyArrowType<arrow_data::ArrayData>,
    ) -> PyResult<PyArrowType<arrow_data::ArrayData>> {
        let (a, b) = (array(a), array(b));
        let (a, b) = (a.as_binary::<i32>(), b.as_binary::<i32>());
        py.detach(|| {
            let mut levels = BinaryBuilder::new();
            let mut buf = Vec::with_capacity(self.preparer.plan.len());
            for i in 0..a.len() {
                let (x, y) = (decode(a, i)?, decode(b, i)?);
                buf.clear();
                compare_values(&self.preparer.plan, &x.values, &y.values, &mut buf);
                levels.append_value(&buf);
            }
            Ok(PyArrowType(levels.finish().into_data()))
        })
    }

    /// How many chunks of random pairs training draws among `records`.
    fn random_chunks(&self, records: usize) -> u64 {
        random_pair_chunks(records, &self.rules.matching)
    }

    /// Chunk `chunk` of the random pairs, by rank: arrays `a`, `b`.
    fn random_pairs(&self, records: usize, chunk: u64) -> Arrays {
        let pairs = random_pairs(records, &self.rules.matching, chunk);
        let a: arrow_array::Int32Array = pairs.iter().map(|p| Some(p.a as i32)).collect();
        let b: arrow_array::Int32Array = pairs.iter().map(|p| Some(p.b as i32)).collect();
        out(vec![Arc::new(a), Arc::new(b)])
    }

    /// Train the model of `records` records from the level patterns of the
    /// candidate pairs and of the random pairs (`(levels, count)` each),
    /// then learn from the level patterns of the labelled matches when
    /// there are labels; the model as TOML.
    #[pyo3(signature = (candidates, random, records, labelled=None))]
    fn train(
        &self,
        candidates: Vec<(Vec<u8>, u64)>,
        random: Vec<(Vec<u8>, u64)>,
        records: usize,
        labelled: Option<Vec<(Vec<u8>, u64)>>,
    ) -> String {
        let width = self.preparer.plan.len();
        let patterns = |rows: &[(Vec<u8>, u64)]| {
            let mut p = Patterns::new(width);
            for (levels, n) in rows {
                p.add(levels, *n);
            }
            p
        };
        let mut model = train_patterns(
            &self.preparer.plan,
            &self.rules.matching,
            &patterns(&candidates),
            &patterns(&random),
            records,
        );
        if let Some(labelled) = labelled {
            let matched: Vec<Vec<u8>> = labelled
                .into_iter()
                .flat_map(|(levels, n)| std::iter::repeat_n(levels, n as usize))
                .collect();
            learn_from_labels(&mut model, &matched);
        }
        model.to_toml()
    }

    /// Fit the term-frequency scales of `model` (TOML) to the labelled
    /// pairs — each pair's levels, its left record's counts at each slot
    /// among `records` records, and whether it is a match — as the command
    /// line does ([`learn_tf_from_labels`]): the model as TOML.
    fn learn_tf(
        &self,
        model: &str,
        records: u64,
        levels: Vec<Vec<u8>>,
        counts: Vec<Vec<u64>>,
        matched: Vec<bool>,
    ) -> PyResult<String> {
        let mut model = Model::from_toml(model).map_err(value_error)?;
        model.check_fits(&self.preparer.plan).map_err(value_error)?;
        let scored: Vec<(matching::Score, bool)> = levels
            .iter()
            .zip(&counts)
            .zip(matched)
            .map(|((l, c), m)| (self.score_one(&model, records, l, c), m))
            .collect();
        learn_tf_from_labels(&mut model, &scored);
        Ok(model.to_toml())
    }

    /// The bands of the rules, as weights: (auto-merge, review).
    fn bands(&self) -> (f64, f64) {
        let b = Bands::new(&self.rules.matching);
        (b.match_weight, b.review_weight)
    }

    /// The weight a labelled pair has in the clustering (beyond either band
    /// edge: a match's; a non-match's is its negative).
    #[staticmethod]
    fn labelled_weight() -> f64 {
        LABELLED_WEIGHT
    }

    /// The labels of `file` by the ranks of their records (`ranks`: id →
    /// rank, for the ids the table has), and arrays `a`, `b` (ranks,
    /// smaller first) and `m` (a match) of the pairs decided.
    fn rank_labels(&self, file: &LabelFile, ranks: HashMap<String, u32>) -> (RankedLabels, Arrays) {
        let decided = Decided::of(
            &file.rows,
            |id| ranks.get(id).copied(),
            Bands::new(&self.rules.matching),
        );
        let pairs = decided.labelled();
        let a: arrow_array::Int32Array = pairs.iter().map(|(p, _)| Some(p.a as i32)).collect();
        let b: arrow_array::Int32Array = pairs.iter().map(|(p, _)| Some(p.b as i32)).collect();
        let m: arrow_array::BooleanArray = pairs.iter().map(|(_, m)| Some(*m)).collect();
        let arrays = out(vec![Arc::new(a), Arc::new(b), Arc::new(m)]);
        (RankedLabels(decided), arrays)
    }

    /// Calibrate the bands from the model's weights of the labelled pairs
    /// (`weights`, `matched`), as the command line does: the bands to use,
    /// as weights (auto-merge, review).
    fn calibrate(
        &self,
        labels: &mut RankedLabels,
        weights: Vec<f64>,
        matched: Vec<bool>,
    ) -> (f64, f64) {
        let labelled: Vec<(f64, bool)> = weights.into_iter().zip(matched).collect();
        let b = labels.0.calibrate(&labelled, &self.rules.matching);
        (b.match_weight, b.review_weight)
    }

    /// What the labels gave the job, as JSON (the summary's `labels`).
    fn labels_summary(&self, labels: &RankedLabels) -> String {
        labels.0.used.summary(&self.rules.matching).to_string()
    }

    /// Score pairs: their levels and their left record's counts at each
    /// term-frequency slot (a list per pair) among `records` records. Arrays
    /// `weight` (float64) and `band` (0 no match, 1 review, 2 match).
    fn score(
        &self,
        py: Python<'_>,
        model: &str,
        records: u64,
        levels: PyArrowType<arrow_data::ArrayData>,
        counts: PyArrowType<arrow_data::ArrayData>,
    ) -> PyResult<Arrays> {
        let model = Model::from_toml(model).map_err(value_error)?;
        model.check_fits(&self.preparer.plan).map_err(value_error)?;
        let bands = Bands::new(&self.rules.matching);
        let (levels, counts) = (array(levels), array(counts));
        let (levels, counts) = (levels.as_binary::<i32>(), counts.as_list::<i32>());
        py.detach(|| {
            let mut weights = Vec::with_capacity(levels.len());
            let mut band = Int8Builder::new();
            for i in 0..levels.len() {
                let c = counts.value(i);
                let c: Vec<u64> = c
                    .as_primitive::<Int64Type>()
                    .values()
                    .iter()
                    .map(|&n| n as u64)
                    .collect();
                let w = self.score_one(&model, records, levels.value(i), &c).weight;
                weights.push(w);
                band.append_value(match bands.of(w) {
                    Band::NoMatch => 0,
                    Band::Review => 1,
                    Band::Match => 2,
                });
            }
            Ok(out(vec![
                Arc::new(Float64Array::from(weights)),
                Arc::new(band.finish()),
            ]))
        })
    }

    /// The clusters of one connected component of the auto-merge pairs
    /// (weight at or above `merge_weight`) from every scored pair inside it
    /// (`a`, `b`, `weight`): arrays `record`, `rep` (the smallest rank of
    /// its cluster).
    fn cluster(
        &self,
        a: PyArrowType<arrow_data::ArrayData>,
        b: PyArrowType<arrow_data::ArrayData>,
        weight: PyArrowType<arrow_data::ArrayData>,
        merge_weight: f64,
    ) -> Arrays {
        let (a, b, w) = (array(a), array(b), array(weight));
        let (a, b) = (a.as_primitive::<Int32Type>(), b.as_primitive::<Int32Type>());
        let w = w.as_primitive::<Float64Type>();
        let mut edges: Vec<Edge> = (0..a.len())
            .map(|i| Edge {
                a: a.value(i) as u32,
                b: b.value(i) as u32,
                weight: w.value(i),
            })
            .collect();
        let reps = split_component(
            &mut edges,
            merge_weight,
            self.rules.matching.min_link_density,
        );
        let record: arrow_array::Int32Array = reps.iter().map(|&(r, _)| Some(r as i32)).collect();
        let rep: arrow_array::Int32Array = reps.iter().map(|&(_, p)| Some(p as i32)).collect();
        out(vec![Arc::new(record), Arc::new(rep)])
    }

    /// A weight as the clusters file writes its probability (`0.9731`).
    #[staticmethod]
    fn probability_text(
        weight: PyArrowType<arrow_data::ArrayData>,
    ) -> PyArrowType<arrow_data::ArrayData> {
        let w = array(weight);
        let w = w.as_primitive::<Float64Type>();
        let text: arrow_array::StringArray = (0..w.len())
            .map(|i| (!w.is_null(i)).then(|| format!("{:.4}", Model::probability(w.value(i)))))
            .collect();
        PyArrowType(text.into_data())
    }
}

//! Import jobs: a CSV/TSV/XLSX file or NDJSON stored as records, then
//! deduplicated as a batch (the auto-merge band merged with the same
//! anti-chaining guard as `nayose dedupe`, the review band proposed).
//!
//! Rows are stored in batches, each one transaction that also records the
//! job's progress and its summary so far, so no batch is half there and a
//! job cut off by a crash goes on from the next batch when it is finished
//! at the next start (`jobs.rs`); the records it stored are noted, so all
//! of them are matched whether it ran once or was cut off. Every row is
//! stored, listed as rejected with its line, column and reason, or (the job
//! cancelled) counted as left.

use super::limits;
use super::train::{NumberedBatch, MIN_TRAINING_RECORDS};
use super::{
    propose_pair, Actor, IndexFrequencies, PairScore, Prepared, RecordInput, Result, Service,
    ServiceError,
};
use crate::import::{self, Format, ReadOptions};
use crate::matching::batch::{self, NoProgress, Pair};
use crate::matching::model::Model;
use crate::matching::{self, Band, Explanation};
use crate::rules::header_key;
use crate::store::{
    now, AuditAction, AuditEntry, HistoryAction, HistoryEntry, Job, JobStage, ProposalSource, Tx,
};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};

/// Rows per store transaction.
const BATCH: usize = 2000;
/// Rejected rows listed in a job's result (all are counted).
const LISTED_REJECTS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    Table(Format),
    Ndjson,
}

impl ImportFormat {
    /// From a content type (`text/csv`, `application/x-ndjson`, …).
    pub fn from_content_type(ct: &str) -> Option<ImportFormat> {
        let ct = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        Some(match ct.as_str() {
            "text/csv" => ImportFormat::Table(Format::Csv),
            "text/tab-separated-values" => ImportFormat::Table(Format::Tsv),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
                ImportFormat::Table(Format::Xlsx)
            }
            "application/x-ndjson" | "application/ndjson" | "application/jsonl" => {
                ImportFormat::Ndjson
            }
            _ => return None,
        })
    }
}

impl ImportFormat {
    /// The stable name a job keeps.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportFormat::Table(f) => f.as_str(),
            ImportFormat::Ndjson => "ndjson",
        }
    }

    pub fn parse(s: &str) -> Option<ImportFormat> {
        Some(match s {
            "csv" => ImportFormat::Table(Format::Csv),
            "tsv" => ImportFormat::Table(Format::Tsv),
            "xlsx" => ImportFormat::Table(Format::Xlsx),
            "ndjson" => ImportFormat::Ndjson,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub bytes: Vec<u8>,
    pub format: ImportFormat,
    /// The source every row gets (a `source` column or field wins).
    pub source: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RejectedRow {
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    pub error: String,
}

/// What an import did (so far, while it runs).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ImportSummary {
    /// Data rows read; `rows == stored + rejected + left`.
    pub rows: u64,
    pub stored: u64,
    pub rejected: u64,
    /// Rows not stored because the job was cancelled.
    #[serde(default)]
    pub left: u64,
    /// The first rejected rows with line, column and reason.
    pub rejects: Vec<RejectedRow>,
    /// Columns that name no field of the rules (not stored).
    pub ignored_columns: Vec<String>,
    /// Which file column went to which field.
    pub columns: BTreeMap<String, String>,
    pub candidate_pairs: u64,
    pub merged_records: u64,
    pub proposals: u64,
    /// Set when a model was trained from the store's records.
    pub trained_model: bool,
    /// Why the rows were stored but not matched, when they were not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_matched: Option<String>,
}

/// An import job as it runs: its id, who it acts for, whether it was asked
/// to stop, and what it did so far.
struct ImportRun<'a> {
    job_id: &'a str,
    actor: &'a Actor,
    cancel: &'a AtomicBool,
    /// Rows of the file (as parsed) processed so far, stored or rejected.
    done: u64,
    /// Rows of the file to store.
    total: u64,
    summary: ImportSummary,
}

impl ImportSummary {
    /// Count a rejected row; the first [`LISTED_REJECTS`] by line are listed.
    fn add_reject(&mut self, r: RejectedRow) {
        self.rejected += 1;
        self.rejects.push(r);
        if self.rejects.len() > LISTED_REJECTS {
            self.rejects.sort_by_key(|r| r.line);
            self.rejects.truncate(LISTED_REJECTS);
        }
    }
}

/// An import's file, read: its records (line, record) and its refused rows.
#[derive(Default)]
struct Parsed {
    rows: Vec<(usize, RecordInput)>,
    rejects: Vec<RejectedRow>,
    /// Columns that name no field.
    ignored: Vec<String>,
    /// Which column went to which field.
    columns: BTreeMap<String, String>,
}

impl Parsed {
    /// Keep a record the service's rules accept; refuse any other with
    /// its reason.
    fn push_checked(&mut self, service: &Service, line: usize, input: RecordInput) {
        match service.check_input(&input) {
            Ok(()) => self.rows.push((line, input)),
            Err(e) => self.rejects.push(RejectedRow {
                line,
                column: None,
                error: e.to_string(),
            }),
        }
    }
}

/// Where each column of an imported table goes.
struct ColumnMap {
    /// The field of each column (by position in the schema), if any.
    field: Vec<Option<usize>>,
    id: Option<usize>,
    source: Option<usize>,
}

impl Service {
    /// Read an import's file into checked records (line, record) and rows
    /// refused with their reason.
    fn parse_import(&self, req: &ImportRequest) -> Result<Parsed> {
        match req.format {
            ImportFormat::Ndjson => self.parse_ndjson(req),
            ImportFormat::Table(format) => self.parse_table(req, format),
        }
    }

    /// One JSON record a line, as `POST /v1/records` takes them.
    fn parse_ndjson(&self, req: &ImportRequest) -> Result<Parsed> {
        let text = std::str::from_utf8(&req.bytes)
            .map_err(|e| ServiceError::Invalid(format!("NDJSON must be UTF-8: {e}")))?;
        let mut p = Parsed::default();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<RecordInput>(line) {
                Ok(mut r) => {
                    if r.source.is_none() {
                        r.source = req.source.clone();
                    }
                    p.push_checked(self, i + 1, r);
                }
                Err(e) => p.rejects.push(RejectedRow {
                    line: i + 1,
                    column: Some(e.column()),
                    error: e.to_string(),
                }),
            }
        }
        Ok(p)
    }

    /// A CSV, TSV or XLSX file: each column mapped to a field (or the id,
    /// or the source), each row a record of its non-blank values.
    fn parse_table(&self, req: &ImportRequest, format: Format) -> Result<Parsed> {
        let table = import::read_bytes(&req.bytes, format, &ReadOptions::default())
            .map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let map = self.map_columns(&table);
        let mut p = Parsed {
            rejects: table
                .rejects
                .iter()
                .map(|r| RejectedRow {
                    line: r.line,
                    column: r.column,
                    error: r.reason.clone(),
                })
                .collect(),
            ..Parsed::default()
        };
        for (c, h) in table.headers.iter().enumerate() {
            match map.field[c] {
                Some(f) => {
                    p.columns
                        .insert(h.clone(), self.schema.fields[f].name.clone());
                }
                None if Some(c) == map.id => {
                    p.columns.insert(h.clone(), "id".into());
                }
                None if Some(c) == map.source => {
                    p.columns.insert(h.clone(), "source".into());
                }
                None => p.ignored.push(h.clone()),
            }
        }
        for row in &table.rows {
            let fields: BTreeMap<String, String> = map
                .field
                .iter()
                .enumerate()
                .filter_map(|(c, f)| {
                    let f = (*f)?;
                    let v = row.fields[c].trim();
                    (!limits::is_blank(v))
                        .then(|| (self.schema.fields[f].name.clone(), v.to_string()))
                })
                .collect();
            let cell = |c: Option<usize>| {
                c.map(|c| row.fields[c].trim().to_string())
                    .filter(|v| !v.is_empty())
            };
            let input = RecordInput {
                id: cell(map.id),
                source: cell(map.source).or_else(|| req.source.clone()),
                fields,
            };
            p.push_checked(self, row.line, input);
        }
        p.rows.sort_by_key(|(l, _)| *l);
        Ok(p)
    }

    /// Which field each column of a table goes to: the rule it matched,
    /// else its header, else the first free field of its type; the `id`
    /// and `source` columns by name.
    fn map_columns(&self, table: &import::Table) -> ColumnMap {
        let detected = import::detect_columns(
            &table.headers,
            &table.rows,
            &self.rules,
            &self.normalizer,
            &[],
        );
        let mut taken: HashSet<usize> = HashSet::new();
        let mut map = ColumnMap {
            field: vec![None; table.headers.len()],
            id: None,
            source: None,
        };
        for (c, h) in table.headers.iter().enumerate() {
            let key = header_key(h);
            if key == "id" || detected[c].rule.as_deref() == Some("id") {
                map.id.get_or_insert(c);
                continue;
            }
            if key == "source" || key == "ソース" {
                map.source.get_or_insert(c);
                continue;
            }
            let by_name = detected[c]
                .rule
                .as_deref()
                .and_then(|r| self.schema.position(r))
                .or_else(|| self.schema.position(h));
            if let Some(f) = by_name.filter(|f| !taken.contains(f)) {
                taken.insert(f);
                map.field[c] = Some(f);
            }
        }
        for (c, t) in map.field.iter_mut().enumerate() {
            if t.is_some() || Some(c) == map.id || Some(c) == map.source {
                continue;
            }
            let ty = detected[c].field_type;
            if ty == crate::record::FieldType::Text {
                continue;
            }
            if let Some(f) = self
                .schema
                .fields
                .iter()
                .enumerate()
                .position(|(i, f)| f.field_type == ty && !taken.contains(&i))
            {
                taken.insert(f);
                *t = Some(f);
            }
        }
        map
    }

    /// Run an import (the job row exists): store the rows the job has not
    /// stored yet, batch by batch, then match every row it stored.
    pub fn run_import(
        &self,
        actor: &Actor,
        job: &Job,
        req: &ImportRequest,
        cancel: &AtomicBool,
    ) -> Result<ImportSummary> {
        let parsed = self.parse_import(req)?;
        let summary = match &job.result {
            // Cut off before: what it did is in the job.
            Some(done) => serde_json::from_value(done.clone())
                .map_err(|e| ServiceError::Invalid(format!("job {}: {e}", job.id)))?,
            None => {
                let mut rejects = parsed.rejects.clone();
                rejects.sort_by_key(|r| r.line);
                rejects.truncate(LISTED_REJECTS);
                ImportSummary {
                    rows: (parsed.rows.len() + parsed.rejects.len()) as u64,
                    rejected: parsed.rejects.len() as u64,
                    rejects,
                    ignored_columns: parsed.ignored.clone(),
                    columns: parsed.columns.clone(),
                    ..ImportSummary::default()
                }
            }
        };
        let mut run = ImportRun {
            job_id: &job.id,
            actor,
            cancel,
            done: job.done.min(parsed.rows.len() as u64),
            total: parsed.rows.len() as u64,
            summary,
        };
        // The records stored before a restart, prepared as the store keeps them.
        let mut mine = NumberedBatch::new(self.preparer.plan.len());
        if run.done > 0 {
            let nums = self.read(|tx| Ok(tx.job_records(&job.id)?))?;
            for (r, p) in self.load_prepared(&nums)? {
                mine.push(r.num, p);
            }
        }
        let left = &parsed.rows[run.done as usize..];
        self.store_rows(&mut run, left, &mut mine)?;
        self.write(|tx| {
            let mut j = tx
                .job(&job.id)?
                .ok_or_else(|| ServiceError::not_found("job", &job.id))?;
            j.stage = Some(JobStage::Matching);
            tx.upsert_job(&j)?;
            Ok(())
        })?;
        let mut summary = run.summary;
        summary.rejects.sort_by_key(|r| r.line);
        self.match_imported(actor, &job.id, mine, &mut summary)?;
        Ok(summary)
    }

    /// Store rows, batch by batch (the next batch normalized on the other
    /// cores while one is written), until they are all stored or the job is
    /// cancelled; each stored record joins `mine`.
    fn store_rows(
        &self,
        run: &mut ImportRun,
        rows: &[(usize, RecordInput)],
        mine: &mut NumberedBatch,
    ) -> Result<()> {
        let mut seen_ids: HashSet<String> = HashSet::new();
        let prepare_batch = |batch: &[(usize, RecordInput)]| -> Vec<Prepared> {
            batch
                .par_iter()
                .map(|(_, r)| self.prepare(&r.fields))
                .collect()
        };
        let batches: Vec<&[(usize, RecordInput)]> = rows.chunks(BATCH).collect();
        let mut next = batches.first().map(|b| prepare_batch(b));
        for (bi, batch) in batches.iter().copied().enumerate() {
            if run.cancel.load(Ordering::SeqCst) {
                run.summary.left = run.total - run.done;
                break;
            }
            let prepared = next.take().expect("prepared ahead");
            let (written, ahead) = rayon::join(
                || self.store_batch(run, batch, &prepared, &mut seen_ids),
                || batches.get(bi + 1).map(|b| prepare_batch(b)),
            );
            next = ahead;
            let ok = written?;
            let mut prepared: Vec<Option<Prepared>> = prepared.into_iter().map(Some).collect();
            for (i, num) in ok {
                let p = prepared[i].take().expect("each row once");
                mine.push(num, p.record);
            }
        }
        Ok(())
    }

    /// Deduplicate an import's stored records against the whole store: the
    /// candidate pairs of each, a model trained when none was given, the
    /// auto-merge band clustered with the anti-chaining guard and merged,
    /// the review band (and the auto-merge pairs the guard kept apart)
    /// proposed. The stages are [`crate::matching::batch`]'s, as in
    /// `nayose dedupe`.
    fn match_imported(
        &self,
        actor: &Actor,
        job_id: &str,
        mine: NumberedBatch,
        summary: &mut ImportSummary,
    ) -> Result<()> {
        // Committed, in one segment.
        self.index.compact()?;
        if mine.nums.is_empty() {
            // Nothing stored (cancelled at once, every row rejected).
            return Ok(());
        }
        let pairs = self.candidate_pairs(&mine)?;
        // A model from the store's own records, unless one was given: when
        // the store holds only this import, from the pairs just found.
        let count = self.read(|tx| Ok(tx.count_records()?))?;
        if !self.model_pinned() && count >= MIN_TRAINING_RECORDS {
            let mut model = if count == mine.nums.len() as u64 {
                self.train_on(&mine, &pairs)
            } else {
                self.train_from_store()?
            };
            model.training.records = count;
            self.set_model(model)?;
            summary.trained_model = true;
        }
        let Some(model) = self.model() else {
            summary.not_matched = Some(format!(
                "no model: one is trained once the store holds {MIN_TRAINING_RECORDS} records, or start with --model"
            ));
            return Ok(());
        };
        summary.candidate_pairs = pairs.len() as u64;
        let (matched, scored) = self.score_import(&model, mine, &pairs)?;
        summary.merged_records += self.merge_import_clusters(actor, job_id, &matched, &scored)?;
        summary.proposals += self.propose_import_pairs(&matched)?;
        Ok(())
    }

    /// Score an import's candidate pairs: those in the auto-merge and review
    /// bands, with their explanations, in pair order; and every pair with
    /// its weight (record numbers), for the anti-chaining guard.
    fn score_import(
        &self,
        model: &Model,
        mine: NumberedBatch,
        pairs: &[(u64, u64)],
    ) -> Result<(Vec<MatchedPair>, Vec<ScoredPair>)> {
        // The records of the store the pairs reach, prepared once, after
        // the import's own.
        let mut all = mine;
        let outside: Vec<u64> = {
            let known: HashSet<u64> = all.nums.iter().copied().collect();
            let mut v: Vec<u64> = pairs
                .iter()
                .flat_map(|&(a, b)| [a, b])
                .filter(|n| !known.contains(n))
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        for (r, p) in self.load_prepared(&outside)? {
            all.push(r.num, p);
        }
        let known = all.pairs_of(pairs);
        let plan = &self.preparer.plan;
        let levels = batch::compare(plan, &all.batch, &known, &NoProgress);
        let freq = IndexFrequencies(&self.index);
        let weights = batch::score(model, plan, &all.batch, &known, &levels, &freq);
        let bands = self.bands_of(model);
        let scored = known
            .iter()
            .zip(&weights)
            .map(|(p, &w)| (all.nums[p.a as usize], all.nums[p.b as usize], w))
            .collect();
        let matched = known
            .par_iter()
            .zip(levels.par_chunks(plan.len()))
            .zip(&weights)
            .filter_map(|((p, l), &weight)| {
                let band = bands.of(weight);
                if !band.is_candidate_match() {
                    return None;
                }
                let s = matching::score(model, plan, l, &freq, |c| all.batch.value(p.a, c));
                Some(MatchedPair {
                    a: all.nums[p.a as usize],
                    b: all.nums[p.b as usize],
                    weight,
                    band,
                    explanation: self.explain(model, &s),
                })
            })
            .collect();
        Ok((matched, scored))
    }

    /// Cluster the auto-merge band (anti-chaining guard over all the
    /// `scored` pairs among its records) and merge each cluster's
    /// entities; returns how many merges were made.
    fn merge_import_clusters(
        &self,
        actor: &Actor,
        job_id: &str,
        matched: &[MatchedPair],
        scored: &[ScoredPair],
    ) -> Result<u64> {
        let merged: Vec<&MatchedPair> = matched.iter().filter(|m| m.band == Band::Match).collect();
        // The records in the band, numbered in record-number order.
        let mut num_of: Vec<u64> = merged.iter().flat_map(|m| [m.a, m.b]).collect();
        num_of.sort_unstable();
        num_of.dedup();
        let local: HashMap<u64, u32> = num_of
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, i as u32))
            .collect();
        let (pairs, weights): (Vec<Pair>, Vec<f64>) = scored
            .iter()
            .filter_map(|&(a, b, w)| {
                let pair = Pair {
                    a: *local.get(&a)?,
                    b: *local.get(&b)?,
                };
                Some((pair, w))
            })
            .unzip();
        let bands = self.model().map_or(self.bands, |m| self.bands_of(&m));
        let reps = batch::cluster(
            num_of.len(),
            &pairs,
            &weights,
            &bands,
            self.rules.matching.min_link_density,
        );
        let mut groups: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
        for (i, &rep) in reps.iter().enumerate() {
            groups.entry(rep).or_default().push(num_of[i]);
        }
        let groups: Vec<Vec<u64>> = groups.into_values().filter(|g| g.len() > 1).collect();
        let because = format!("import {job_id}");
        let mut merges = 0;
        for chunk in groups.chunks(500) {
            let _w = self.writer.lock().expect("writer");
            merges += self.write(|tx| {
                let mut merged = 0;
                for g in chunk {
                    let mut entity = entity_of(tx, g[0])?;
                    for &n in &g[1..] {
                        let other = entity_of(tx, n)?;
                        if other != entity {
                            entity = self
                                .merge_entities(tx, actor, &entity, &other, &because, None)?
                                .keep;
                            merged += 1;
                        }
                    }
                }
                Ok(merged)
            })?;
        }
        Ok(merges)
    }

    /// Propose the matched pairs whose records are still in two entities
    /// (the review band, and auto-merge pairs the guard kept apart), unless
    /// one is pending or a steward rejected the pair; returns how many.
    fn propose_import_pairs(&self, matched: &[MatchedPair]) -> Result<u64> {
        let mut proposed = 0;
        for chunk in matched.chunks(2000) {
            let _w = self.writer.lock().expect("writer");
            proposed += self.write(|tx| {
                let mut n = 0;
                for m in chunk {
                    let (Some(ra), Some(rb)) = (tx.record_by_num(m.a)?, tx.record_by_num(m.b)?)
                    else {
                        continue;
                    };
                    if ra.entity_id == rb.entity_id {
                        continue;
                    }
                    let scored = PairScore {
                        weight: m.weight,
                        band: m.band,
                        explanation: &m.explanation,
                    };
                    if propose_pair(tx, &ra, &rb, scored, ProposalSource::Batch)?.is_some() {
                        n += 1;
                    }
                }
                Ok(n)
            })?;
        }
        Ok(proposed)
    }

    /// Store one batch of an import in one transaction, with the job's
    /// progress and its summary so far (so a job cut off after it goes on
    /// from the next batch), and add it to the index; returns the stored
    /// rows (position in the batch, record number).
    fn store_batch(
        &self,
        run: &mut ImportRun,
        batch: &[(usize, RecordInput)],
        prepared: &[Prepared],
        seen_ids: &mut HashSet<String>,
    ) -> Result<Vec<(usize, u64)>> {
        let (job_id, actor) = (run.job_id, run.actor);
        let _w = self.writer.lock().expect("writer");
        // Each stored row: its position in the batch, its record number and
        // the number of its change (the index applies each at its own, so
        // an index commit in the middle of the batch records what it holds).
        let (ok, summary) = self.write(|tx| {
            let mut ok: Vec<(usize, u64, u64)> = Vec::new();
            let mut summary = run.summary.clone();
            let mut ids = Vec::new();
            let at = now();
            for (i, ((line, input), p)) in batch.iter().zip(prepared).enumerate() {
                let id = match &input.id {
                    // Checked when the file was parsed.
                    Some(id) => {
                        if seen_ids.contains(id) || tx.record(id)?.is_some() {
                            summary.add_reject(RejectedRow {
                                line: *line,
                                column: None,
                                error: format!("record `{}` already exists", limits::shown(id)),
                            });
                            continue;
                        }
                        id.clone()
                    }
                    None => super::next_record_id(tx)?,
                };
                let entity_id = super::new_entity(tx, &at)?;
                let rec = self.new_record(input, &id, p, &entity_id, &at);
                let num = tx.insert_record(&rec)?;
                let seq = tx.log_change(num, false)?;
                tx.add_history(
                    &entity_id,
                    &HistoryEntry {
                        at: at.clone(),
                        actor: actor.name.clone(),
                        action: HistoryAction::Created,
                        detail: serde_json::json!({"record": id, "job": job_id}),
                    },
                )?;
                ids.push(id);
                ok.push((i, num, seq));
            }
            summary.stored += ok.len() as u64;
            let nums: Vec<u64> = ok.iter().map(|&(_, n, _)| n).collect();
            tx.add_job_records(job_id, &nums)?;
            // One audit entry per batch, naming the records (not their
            // values: the job's file is the before/after of an import).
            tx.audit(&AuditEntry {
                seq: 0,
                at: at.clone(),
                actor: actor.name.clone(),
                action: AuditAction::RecordImport,
                subject: format!("job:{job_id}"),
                before: serde_json::Value::Null,
                after: serde_json::json!({ "records": ids }),
                reason: None,
            })?;
            let mut job = tx
                .job(job_id)?
                .ok_or_else(|| ServiceError::not_found("job", job_id))?;
            job.total = run.total;
            job.done = run.done + batch.len() as u64;
            job.result = Some(serde_json::to_value(&summary).expect("json"));
            tx.upsert_job(&job)?;
            Ok((ok, summary))
        })?;
        run.summary = summary;
        run.done += batch.len() as u64;
        for &(i, num, seq) in &ok {
            self.index
                .upsert(seq, num, self.live_doc(&prepared[i].record))?;
            if let Some(id) = &batch[i].1.id {
                seen_ids.insert(id.clone());
            }
        }
        drop(_w);
        self.maybe_commit()?;
        Ok(ok.into_iter().map(|(i, num, _)| (i, num)).collect())
    }
}

/// A scored pair of an import: two record numbers and the match weight.
type ScoredPair = (u64, u64, f64);

/// A pair an import acts on: merged (auto-merge band) or proposed.
struct MatchedPair {
    /// Record numbers, `a < b`.
    a: u64,
    b: u64,
    weight: f64,
    band: Band,
    explanation: Explanation,
}

fn entity_of(tx: &mut dyn Tx, num: u64) -> Result<String> {
    Ok(tx
        .entities_of(&[num])?
        .pop()
        .ok_or_else(|| ServiceError::not_found("record", &format!("#{num}")))?
        .1)
}

//! Import jobs: a CSV/TSV/XLSX file or NDJSON stored as records, then
//! deduplicated as a batch (the auto-merge band merged with the same
//! anti-chaining guard as `nayose dedupe`, the review band proposed).
//!
//! Rows are stored in batches, each one transaction that also records the
//! job's progress, so after a crash the job says exactly how many rows were
//! stored, and no batch is half there. Every row is either stored or listed
//! as rejected with its line, column and reason.

use super::{Actor, Prepared, RecordInput, Result, Service, ServiceError};
use crate::cluster::{self, Edge};
use crate::import::{self, Format, ReadOptions};
use crate::matching::prepare::PreparedRecord;
use crate::rules::header_key;
use crate::store::{now, AuditEntry, HistoryEntry, Job, NewProposal, Tx};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// Rows per store transaction.
const BATCH: usize = 2000;
/// Rejected rows listed in a job's result (all are counted).
const LISTED_REJECTS: usize = 1000;
/// A model is trained from the store's own records once it holds this many.
pub const MIN_TRAINING_RECORDS: u64 = 200;

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

#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub bytes: Vec<u8>,
    pub format: ImportFormat,
    /// The source every row gets (a `source` column or field wins).
    pub source: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RejectedRow {
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    pub error: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct ImportSummary {
    /// Data rows read; `rows == stored + rejected`.
    pub rows: u64,
    pub stored: u64,
    pub rejected: u64,
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

/// Where an import job stands: `done` of `total` rows.
#[derive(Clone, Copy)]
struct JobProgress<'a> {
    id: &'a str,
    total: u64,
    done: u64,
}

/// A batch of an import, written: the stored rows (position in the batch,
/// record number) and the rejected ones.
struct StoredBatch {
    ok: Vec<(usize, u64)>,
    bad: Vec<RejectedRow>,
}

struct Parsed {
    rows: Vec<(usize, RecordInput)>,
    rejects: Vec<RejectedRow>,
    ignored: Vec<String>,
    columns: BTreeMap<String, String>,
}

impl Service {
    fn parse_import(&self, req: &ImportRequest) -> Result<Parsed> {
        match req.format {
            ImportFormat::Ndjson => {
                let text = std::str::from_utf8(&req.bytes)
                    .map_err(|e| ServiceError::Invalid(format!("NDJSON must be UTF-8: {e}")))?;
                let mut p = Parsed {
                    rows: vec![],
                    rejects: vec![],
                    ignored: vec![],
                    columns: BTreeMap::new(),
                };
                for (i, line) in text.lines().enumerate() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    let parsed: std::result::Result<RecordInput, _> = serde_json::from_str(line);
                    match parsed {
                        Ok(mut r) => match self.check_fields(&r.fields) {
                            Ok(()) => {
                                if r.source.is_none() {
                                    r.source = req.source.clone();
                                }
                                p.rows.push((i + 1, r))
                            }
                            Err(e) => p.rejects.push(RejectedRow {
                                line: i + 1,
                                column: None,
                                error: e.to_string(),
                            }),
                        },
                        Err(e) => p.rejects.push(RejectedRow {
                            line: i + 1,
                            column: Some(e.column()),
                            error: e.to_string(),
                        }),
                    }
                }
                Ok(p)
            }
            ImportFormat::Table(format) => {
                let table = import::read_bytes(&req.bytes, format, &ReadOptions::default())
                    .map_err(|e| ServiceError::Invalid(e.to_string()))?;
                let detected = import::detect_columns(
                    &table.headers,
                    &table.rows,
                    &self.rules,
                    &self.normalizer,
                    &[],
                );
                // Column → field: the rule it matched, else its header, else
                // the first free field of its type.
                let mut taken: HashSet<usize> = HashSet::new();
                let mut target: Vec<Option<usize>> = vec![None; table.headers.len()];
                let mut id_col = None;
                let mut source_col = None;
                for (c, h) in table.headers.iter().enumerate() {
                    let key = header_key(h);
                    if key == "id" || detected[c].rule.as_deref() == Some("id") {
                        id_col.get_or_insert(c);
                        continue;
                    }
                    if key == "source" || key == "ソース" {
                        source_col.get_or_insert(c);
                        continue;
                    }
                    let by_name = detected[c]
                        .rule
                        .as_deref()
                        .and_then(|r| self.schema.position(r))
                        .or_else(|| self.schema.position(h));
                    if let Some(f) = by_name.filter(|f| !taken.contains(f)) {
                        taken.insert(f);
                        target[c] = Some(f);
                    }
                }
                for (c, t) in target.iter_mut().enumerate() {
                    if t.is_some() || Some(c) == id_col || Some(c) == source_col {
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
                let mut p = Parsed {
                    rows: vec![],
                    rejects: table
                        .rejects
                        .iter()
                        .map(|r| RejectedRow {
                            line: r.line,
                            column: r.column,
                            error: r.reason.clone(),
                        })
                        .collect(),
                    ignored: vec![],
                    columns: BTreeMap::new(),
                };
                for (c, h) in table.headers.iter().enumerate() {
                    match target[c] {
                        Some(f) => {
                            p.columns
                                .insert(h.clone(), self.schema.fields[f].name.clone());
                        }
                        None if Some(c) == id_col => {
                            p.columns.insert(h.clone(), "id".into());
                        }
                        None if Some(c) == source_col => {
                            p.columns.insert(h.clone(), "source".into());
                        }
                        None => p.ignored.push(h.clone()),
                    }
                }
                for row in &table.rows {
                    let fields: BTreeMap<String, String> = target
                        .iter()
                        .enumerate()
                        .filter_map(|(c, f)| {
                            let f = (*f)?;
                            let v = row.fields[c].trim();
                            (!v.is_empty())
                                .then(|| (self.schema.fields[f].name.clone(), v.to_string()))
                        })
                        .collect();
                    let id = id_col
                        .map(|c| row.fields[c].trim().to_string())
                        .filter(|v| !v.is_empty());
                    let source = source_col
                        .map(|c| row.fields[c].trim().to_string())
                        .filter(|v| !v.is_empty())
                        .or_else(|| req.source.clone());
                    p.rows.push((row.line, RecordInput { id, source, fields }));
                }
                p.rows.sort_by_key(|(l, _)| *l);
                Ok(p)
            }
        }
    }

    /// Create a job for an import and run it on a thread of its own. With
    /// an idempotency key, a retried upload answers with the first job.
    pub fn start_import(
        self: &Arc<Self>,
        actor: &Actor,
        req: ImportRequest,
        idem: Option<&super::IdemKey>,
    ) -> Result<super::Reply<Job>> {
        let job = self.write(|tx| {
            if let Some(prev) = self.replay(tx, actor, idem)? {
                return Ok(Err(prev));
            }
            let n: u64 = tx
                .meta("next_job_id")?
                .and_then(|v| v.parse().ok())
                .unwrap_or(1);
            tx.set_meta("next_job_id", &(n + 1).to_string())?;
            let job = Job {
                id: format!("J{n:07}"),
                kind: "import".into(),
                status: "running".into(),
                total: 0,
                done: 0,
                created_at: now(),
                finished_at: None,
                result: serde_json::Value::Null,
                error: None,
            };
            tx.upsert_job(&job)?;
            self.remember(tx, actor, idem, 202, &job)?;
            Ok(Ok(job))
        })?;
        let job = match job {
            Ok(job) => job,
            Err(prev) => {
                return Ok(super::Reply::Replay {
                    status: prev.status,
                    body: prev.body,
                })
            }
        };
        let me = Arc::clone(self);
        let actor = actor.clone();
        let id = job.id.clone();
        std::thread::Builder::new()
            .name(format!("import-{id}"))
            .spawn(move || {
                let r = me.run_import(&actor, &id, &req);
                let _ = me.write(|tx| {
                    let mut j = tx
                        .job(&id)?
                        .ok_or_else(|| ServiceError::NotFound(format!("job {id}")))?;
                    j.finished_at = Some(now());
                    match &r {
                        Ok(s) => {
                            j.status = "done".into();
                            j.result = serde_json::to_value(s).expect("json");
                        }
                        Err(e) => {
                            j.status = "failed".into();
                            j.error = Some(e.to_string());
                        }
                    }
                    tx.upsert_job(&j)?;
                    Ok(())
                });
            })
            .map_err(|e| ServiceError::Invalid(format!("cannot start the import: {e}")))?;
        Ok(super::Reply::Fresh(job))
    }

    pub fn job(&self, id: &str) -> Result<Job> {
        self.read(|tx| {
            tx.job(id)?
                .ok_or_else(|| ServiceError::NotFound(format!("job `{id}`")))
        })
    }

    /// Run an import to the end (the job row must exist).
    pub fn run_import(
        &self,
        actor: &Actor,
        job_id: &str,
        req: &ImportRequest,
    ) -> Result<ImportSummary> {
        let parsed = self.parse_import(req)?;
        let mut summary = ImportSummary {
            rows: (parsed.rows.len() + parsed.rejects.len()) as u64,
            ignored_columns: parsed.ignored.clone(),
            columns: parsed.columns.clone(),
            ..ImportSummary::default()
        };
        let mut rejects = parsed.rejects;
        let total = parsed.rows.len() as u64;

        // Store, batch by batch.
        let mut stored: Vec<(u64, PreparedRecord)> = Vec::with_capacity(parsed.rows.len());
        let mut seen_ids: HashSet<String> = HashSet::new();
        let mut done = 0u64;
        let prepare_batch = |batch: &[(usize, RecordInput)]| -> Vec<Prepared> {
            batch
                .par_iter()
                .map(|(_, r)| self.prepare(&r.fields))
                .collect()
        };
        let batches: Vec<&[(usize, RecordInput)]> = parsed.rows.chunks(BATCH).collect();
        let mut next = batches.first().map(|b| prepare_batch(b));
        for (bi, batch) in batches.iter().copied().enumerate() {
            let prepared = next.take().expect("prepared ahead");
            // The next batch is normalized on the other cores while this
            // one is written (writes are single-threaded).
            let progress = JobProgress {
                id: job_id,
                total,
                done,
            };
            let (written, ahead) = rayon::join(
                || self.store_batch(actor, &progress, batch, &prepared, &mut seen_ids),
                || batches.get(bi + 1).map(|b| prepare_batch(b)),
            );
            next = ahead;
            let StoredBatch { ok, bad } = written?;
            done += batch.len() as u64;
            summary.stored += ok.len() as u64;
            let mut prepared: Vec<Option<Prepared>> = prepared.into_iter().map(Some).collect();
            for (i, num) in ok {
                let p = prepared[i].take().expect("each row once");
                stored.push((num, p.record));
            }
            rejects.extend(bad);
        }
        // Committed, in one segment.
        self.index.compact()?;
        summary.rejected = rejects.len() as u64;
        rejects.sort_by_key(|r| r.line);
        rejects.truncate(LISTED_REJECTS);
        summary.rejects = rejects;

        // Candidate pairs: each imported record against the whole index.
        let pairs = self.candidate_pairs(&stored)?;

        // A model from the store's own records, unless one was given: when
        // the store holds only this import, from the pairs just found.
        let count = self.read(|tx| Ok(tx.count_records()?))?;
        if !self.model_pinned() && count >= MIN_TRAINING_RECORDS {
            let model = if count == stored.len() as u64 {
                self.train_on(&stored, &pairs)
            } else {
                self.train_from_store()?
            };
            self.set_model(model)?;
            summary.trained_model = true;
        }
        let Some(model) = self.model() else {
            summary.not_matched = Some(format!(
                "no model: one is trained once the store holds {MIN_TRAINING_RECORDS} records, or start with --model"
            ));
            return Ok(summary);
        };
        let mine: HashMap<u64, &PreparedRecord> = stored.iter().map(|(n, p)| (*n, p)).collect();
        summary.candidate_pairs = pairs.len() as u64;
        // Records of the store the pairs reach, prepared once.
        let outside: Vec<u64> = {
            let mut v: Vec<u64> = pairs
                .iter()
                .flat_map(|&(a, b)| [a, b])
                .filter(|n| !mine.contains_key(n))
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let outside: HashMap<u64, PreparedRecord> = self
            .load_prepared(&outside)?
            .into_iter()
            .map(|(r, p)| (r.num, p))
            .collect();
        let get = |n: u64| mine.get(&n).copied().or_else(|| outside.get(&n));
        let scored: Vec<(u64, u64, f64, f64, &'static str, super::Explanation)> = pairs
            .par_iter()
            .filter_map(|&(a, b)| {
                let (pa, pb) = (get(a)?, get(b)?);
                let freq = super::IndexFrequencies::new(&self.index);
                let (w, p, band, ex) = self.score_pair(&model, pa, pb, false, &freq);
                (band != "no_match").then_some((a, b, w, p, band, ex))
            })
            .collect();

        // Clusters over the auto-merge band, guarded against chaining.
        let mut num_of: Vec<u64> = scored
            .iter()
            .filter(|s| s.4 == "match")
            .flat_map(|s| [s.0, s.1])
            .collect();
        num_of.sort_unstable();
        num_of.dedup();
        let local: HashMap<u64, u32> = num_of
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, i as u32))
            .collect();
        let edges: Vec<Edge> = scored
            .iter()
            .filter(|s| s.4 == "match")
            .map(|(a, b, w, ..)| Edge {
                a: local[a],
                b: local[b],
                weight: *w,
            })
            .collect();
        let reps = cluster::cluster(num_of.len(), &edges, self.rules.matching.min_link_density);
        let mut groups: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
        for (i, &rep) in reps.iter().enumerate() {
            groups.entry(rep).or_default().push(num_of[i]);
        }
        let groups: Vec<Vec<u64>> = groups.into_values().filter(|g| g.len() > 1).collect();
        let because = format!("import {job_id}");
        for chunk in groups.chunks(500) {
            let _w = self.writer.lock().expect("writer");
            summary.merged_records += self.write(|tx| {
                let mut merged = 0;
                for g in chunk {
                    let mut entity = entity_of(tx, g[0])?;
                    for &n in &g[1..] {
                        let other = entity_of(tx, n)?;
                        if other != entity {
                            entity =
                                self.merge_entities(tx, actor, &entity, &other, &because, None)?;
                            merged += 1;
                        }
                    }
                }
                Ok(merged)
            })?;
        }
        // Proposals: the review band, and auto-merge pairs the guard kept apart.
        for chunk in scored.chunks(2000) {
            let _w = self.writer.lock().expect("writer");
            summary.proposals += self.write(|tx| {
                let mut n = 0;
                for (a, b, w, p, band, ex) in chunk {
                    let (Some(ra), Some(rb)) = (tx.record_by_num(*a)?, tx.record_by_num(*b)?)
                    else {
                        continue;
                    };
                    if ra.entity_id == rb.entity_id {
                        continue;
                    }
                    let versions = [ra.version, rb.version];
                    if tx.pending_proposal_between(*a, *b)?.is_some()
                        || tx.is_rejected(*a, *b, versions)?
                    {
                        continue;
                    }
                    tx.insert_proposal(
                        &NewProposal {
                            a: *a,
                            b: *b,
                            score: *w,
                            probability: *p,
                            band: band.to_string(),
                            source: "batch".into(),
                            explanation: serde_json::to_value(ex).expect("json"),
                            versions,
                        },
                        &now(),
                    )?;
                    n += 1;
                }
                Ok(n)
            })?;
        }
        Ok(summary)
    }

    /// Store one batch of an import in one transaction (with the job's
    /// progress: `done` rows before it) and add it to the index; returns the
    /// stored rows (position in the batch, record number) and the rejected
    /// ones.
    fn store_batch(
        &self,
        actor: &Actor,
        job: &JobProgress,
        batch: &[(usize, RecordInput)],
        prepared: &[Prepared],
        seen_ids: &mut HashSet<String>,
    ) -> Result<StoredBatch> {
        let JobProgress {
            id: job_id,
            total,
            done,
        } = *job;
        let _w = self.writer.lock().expect("writer");

        let (ok, bad, seq) = self.write(|tx| {
            let mut ok: Vec<(usize, u64)> = Vec::new();
            let mut bad: Vec<RejectedRow> = Vec::new();
            let mut ids = Vec::new();
            let at = now();
            let mut seq = 0;
            for (i, ((line, input), p)) in batch.iter().zip(prepared).enumerate() {
                let id = match &input.id {
                    Some(id) => {
                        if let Err(e) = super::validate_id(id) {
                            bad.push(RejectedRow {
                                line: *line,
                                column: None,
                                error: e.to_string(),
                            });
                            continue;
                        }
                        if seen_ids.contains(id) || tx.record(id)?.is_some() {
                            bad.push(RejectedRow {
                                line: *line,
                                column: None,
                                error: format!("record `{id}` already exists"),
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
                seq = tx.log_change(num, false)?;
                tx.add_history(
                    &entity_id,
                    &HistoryEntry {
                        at: at.clone(),
                        actor: actor.name.clone(),
                        action: "created".into(),
                        detail: serde_json::json!({"record": id, "job": job_id}),
                    },
                )?;
                ids.push(id);
                ok.push((i, num));
            }
            // One audit entry per batch, naming the records (not their
            // values: the job's file is the before/after of an import).
            tx.audit(&AuditEntry {
                seq: 0,
                at: at.clone(),
                actor: actor.name.clone(),
                action: "record.import".into(),
                subject: format!("job:{job_id}"),
                before: serde_json::Value::Null,
                after: serde_json::json!({ "records": ids }),
                reason: None,
            })?;
            let mut job = tx
                .job(job_id)?
                .ok_or_else(|| ServiceError::NotFound(format!("job {job_id}")))?;
            job.total = total;
            job.done = done + batch.len() as u64;
            tx.upsert_job(&job)?;
            Ok((ok, bad, seq))
        })?;
        for (i, num) in &ok {
            self.index
                .upsert(seq, *num, self.live_doc(&prepared[*i].record))?;
            if let Some(id) = &batch[*i].1.id {
                seen_ids.insert(id.clone());
            }
        }
        drop(_w);
        self.maybe_commit()?;
        Ok(StoredBatch { ok, bad })
    }

    /// `POST /v1/model/train`: train on the stored records and use the model.
    pub fn retrain(&self, actor: &Actor) -> Result<crate::matching::model::Model> {
        if self.model_pinned() {
            return Err(ServiceError::Invalid(
                "the model was given with --model; restart without it to train one".into(),
            ));
        }
        let count = self.read(|tx| Ok(tx.count_records()?))?;
        if count < MIN_TRAINING_RECORDS {
            return Err(ServiceError::Invalid(format!(
                "{count} records stored; training needs at least {MIN_TRAINING_RECORDS}"
            )));
        }
        let m = self.train_from_store()?;
        self.set_model(m.clone())?;
        self.write(|tx| {
            tx.audit(&AuditEntry {
                seq: 0,
                at: now(),
                actor: actor.name.clone(),
                action: "model.train".into(),
                subject: "model".into(),
                before: serde_json::Value::Null,
                after: serde_json::json!({ "records": count, "prior": m.prior }),
                reason: None,
            })?;
            Ok(())
        })?;
        Ok(m)
    }

    /// Train a model on every stored record, as `nayose dedupe` trains on a file.
    pub fn train_from_store(&self) -> Result<crate::matching::model::Model> {
        let mut records: Vec<(u64, PreparedRecord)> = Vec::new();
        let mut after = 0;
        loop {
            let batch = self.read(|tx| Ok(tx.records_after(after, 8192)?))?;
            let Some(last) = batch.last() else { break };
            after = last.num;
            records.par_extend(batch.par_iter().map(|r| (r.num, self.prepared_of(r))));
        }
        let pairs = self.candidate_pairs(&records)?;
        Ok(self.train_on(&records, &pairs))
    }

    /// The candidate pairs of these records, each searched against the
    /// whole index: record numbers `(lower, higher)`, each pair once,
    /// ascending (a pair found from either side counts).
    fn candidate_pairs(&self, records: &[(u64, PreparedRecord)]) -> Result<Vec<(u64, u64)>> {
        let found: Vec<Vec<(u64, u64)>> = records
            .par_iter()
            .with_min_len(256)
            .map(|(num, p)| -> Result<Vec<(u64, u64)>> {
                let (c, _) = self.index.candidates(&p.keys, Some(*num))?;
                Ok(c.into_iter().map(|o| (o.min(*num), o.max(*num))).collect())
            })
            .collect::<Result<_>>()?;
        let mut pairs: Vec<(u64, u64)> = found.into_iter().flatten().collect();
        pairs.sort_unstable();
        pairs.dedup();
        Ok(pairs)
    }

    /// Train a model on records and their candidate pairs (pairs reaching
    /// a record not among them are left out).
    fn train_on(
        &self,
        records: &[(u64, PreparedRecord)],
        pairs: &[(u64, u64)],
    ) -> crate::matching::model::Model {
        let rank: HashMap<u64, u32> = records
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (*n, i as u32))
            .collect();
        let pairs: Vec<(u32, u32)> = pairs
            .iter()
            .filter_map(|(a, b)| Some((*rank.get(a)?, *rank.get(b)?)))
            .collect();
        let plan = &self.preparer.plan;
        let levels_of = |a: u32, b: u32, out: &mut Vec<u8>| {
            let (pa, pb) = (&records[a as usize].1, &records[b as usize].1);
            for (ci, c) in plan.iter().enumerate() {
                out.push(crate::matching::level(
                    c,
                    pa.values[ci].as_ref(),
                    pb.values[ci].as_ref(),
                ));
            }
        };
        let levels: Vec<u8> = pairs
            .par_chunks(4096)
            .flat_map_iter(|chunk| {
                let mut out = Vec::with_capacity(chunk.len() * plan.len());
                for &(a, b) in chunk {
                    levels_of(a, b, &mut out);
                }
                out
            })
            .collect();
        crate::dedupe::train_model(
            plan,
            &self.rules.matching,
            records.len(),
            &levels,
            &levels_of,
        )
    }
}

fn entity_of(tx: &mut dyn Tx, num: u64) -> Result<String> {
    Ok(tx
        .entities_of(&[num])?
        .pop()
        .ok_or_else(|| ServiceError::NotFound(format!("record #{num}")))?
        .1)
}

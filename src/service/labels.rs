//! Labels: the pairs of records stewards have decided — approve = match,
//! reject = non-match, a split = non-match between the parts — and pairs
//! imported from a labels file. They are kept in the store (one per pair,
//! the latest decision wins), exported by `GET /v1/labels`, and what the
//! model's estimates of its own precision and recall are counted on
//! ([`super::Service::label_estimates`]).
//!
//! Undoing a decision (reopen) drops its label; erasing a record drops
//! every label of it.

use super::{Actor, Result, Service, ServiceError};
use crate::import::labels::{read_labels_bytes, BadLabel};
use crate::import::{Format, ReadOptions};
use crate::matching::band::{LabelEstimates, LevelLabels};
use crate::matching::prepare::PreparedRecord;
use crate::store::{
    now, AuditAction, AuditEntry, Label, LabelKind, LabelSource, Proposal, Record, Tx,
};
use serde::Serialize;
use std::collections::HashMap;

/// A split labels each record taken out against each record left, up to
/// this many pairs (the first records by id on each side): enough to teach
/// the model, bounded for an entity of thousands.
pub const SPLIT_LABELS_MAX: usize = 1_000;
/// A labels file sent to `POST /v1/labels` holds at most this many rows.
pub const IMPORT_LABELS_MAX: usize = 100_000;
/// `GET /v1/labels` pages hold at most this many labels.
pub const LABELS_PAGE_MAX: usize = 10_000;

crate::stable_names! {
    /// How `GET /v1/labels` writes the labels.
    #[derive(Default)]
    pub enum LabelsFormat {
        /// A page of labels as JSON, with a cursor.
        #[default]
        Json = "json",
        /// Every label: `id_a,id_b,label,source,proposal,actor,created_at`,
        /// the first three as `nayose dedupe --labels` reads them.
        Csv = "csv",
        /// Every label, one JSON object a line.
        Ndjson = "ndjson",
    }
}

/// What `POST /v1/labels` did.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LabelImport {
    /// Labelled pairs in the file (a pair given twice the same way counts once).
    pub pairs: usize,
    /// Labels stored (new, or replacing the pair's earlier label).
    pub stored: usize,
    /// Pairs left out because a record id is not in the store.
    pub unknown: usize,
    /// The line of the first such pair.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_unknown_line: Option<usize>,
    /// Rows that could not be used (an empty id, a pair of one record, a
    /// label other than `match`/`non_match`, a pair labelled both ways, a
    /// row the CSV reader refused): how many, and the first
    /// [`REFUSED_SHOWN`] with line, column and reason.
    pub refused: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refused_rows: Vec<BadLabel>,
}

/// The refused rows an answer lists (the count is always whole).
pub const REFUSED_SHOWN: usize = 100;

/// The label a decision on proposal `p` leaves.
pub(crate) fn label_decision(
    tx: &mut dyn Tx,
    p: &Proposal,
    kind: LabelKind,
    actor: &Actor,
    at: &str,
) -> Result<()> {
    tx.put_label(&Label {
        a: p.a,
        b: p.b,
        id_a: p.record_ids[0].clone(),
        id_b: p.record_ids[1].clone(),
        label: kind,
        source: LabelSource::Proposal,
        proposal: Some(p.id.clone()),
        actor: actor.name.clone(),
        created_at: at.to_string(),
    })?;
    Ok(())
}

/// The labels a split leaves: each record taken out is not the same
/// customer as each record left (at most [`SPLIT_LABELS_MAX`] pairs), and
/// the pair is remembered as rejected, so it is not proposed again. A pair
/// of `apart` (a < b) already says so — a steward's audit answer, say —
/// and keeps its own label. Returns the pairs (a < b) it labelled.
pub(crate) fn label_split(
    tx: &mut dyn Tx,
    taken: &[&Record],
    kept: &[&Record],
    apart: &std::collections::HashSet<(u64, u64)>,
    actor: &Actor,
    at: &str,
) -> Result<std::collections::HashSet<(u64, u64)>> {
    let mut labelled = std::collections::HashSet::new();
    let pairs = taken
        .iter()
        .flat_map(|t| kept.iter().map(move |k| (*t, *k)))
        .take(SPLIT_LABELS_MAX);
    for (t, k) in pairs {
        // Not proposed again while both records are as they were.
        tx.remember_rejection(t.num, k.num, [t.version, k.version])?;
        if apart.contains(&(t.num.min(k.num), t.num.max(k.num))) {
            continue;
        }
        tx.put_label(&Label {
            a: t.num,
            b: k.num,
            id_a: t.id.clone(),
            id_b: k.id.clone(),
            label: LabelKind::NonMatch,
            source: LabelSource::Split,
            proposal: None,
            actor: actor.name.clone(),
            created_at: at.to_string(),
        })?;
        labelled.insert((t.num.min(k.num), t.num.max(k.num)));
    }
    Ok(labelled)
}

impl Service {
    /// Labels after position `after`, up to `limit` (at most
    /// [`LABELS_PAGE_MAX`]), each with its position for the next page.
    pub fn labels(&self, after: u64, limit: usize) -> Result<Vec<(u64, Label)>> {
        let limit = limit.clamp(1, LABELS_PAGE_MAX);
        self.read(|tx| Ok(tx.labels(after, limit)?))
    }

    /// Every label, oldest write first.
    pub fn all_labels(&self) -> Result<Vec<Label>> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let page = self.labels(after, LABELS_PAGE_MAX)?;
            let Some(&(last, _)) = page.last() else {
                break;
            };
            after = last;
            out.extend(page.into_iter().map(|(_, l)| l));
        }
        Ok(out)
    }

    /// `POST /v1/labels`: store the labels of a labels file (`id_a,id_b,label`,
    /// as `nayose dedupe --labels` reads it). A file without those columns
    /// is refused; a row that cannot be used is answered with its line,
    /// column and reason, and the others are stored; pairs naming a record
    /// the store does not hold are counted and left out.
    pub fn import_labels(
        &self,
        actor: &Actor,
        bytes: &[u8],
        format: Format,
    ) -> Result<LabelImport> {
        let (rows, bad) = read_labels_bytes(bytes, format, &ReadOptions::default())
            .map_err(|e| ServiceError::Invalid(e.to_string()))?;
        if rows.len() > IMPORT_LABELS_MAX {
            return Err(ServiceError::Invalid(format!(
                "a labels file holds at most {IMPORT_LABELS_MAX} pairs; this one has {}",
                rows.len()
            )));
        }
        let _w = self.writer.lock().expect("writer");
        self.write(|tx| {
            let at = now();
            let mut out = LabelImport {
                pairs: rows.len(),
                stored: 0,
                unknown: 0,
                first_unknown_line: None,
                refused: bad.len(),
                refused_rows: bad.iter().take(REFUSED_SHOWN).cloned().collect(),
            };
            for r in &rows {
                let (Some(a), Some(b)) = (tx.record(&r.id_a)?, tx.record(&r.id_b)?) else {
                    out.unknown += 1;
                    out.first_unknown_line.get_or_insert(r.line);
                    continue;
                };
                let (a, b) = if a.num < b.num { (a, b) } else { (b, a) };
                tx.put_label(&Label {
                    a: a.num,
                    b: b.num,
                    id_a: a.id,
                    id_b: b.id,
                    label: if r.matched {
                        LabelKind::Match
                    } else {
                        LabelKind::NonMatch
                    },
                    source: LabelSource::Import,
                    proposal: None,
                    actor: actor.name.clone(),
                    created_at: at.clone(),
                })?;
                out.stored += 1;
            }
            tx.audit(&AuditEntry {
                seq: 0,
                at,
                actor: actor.name.clone(),
                action: AuditAction::LabelsImport,
                subject: "labels".into(),
                before: serde_json::Value::Null,
                after: serde_json::to_value(&out).unwrap_or_default(),
                reason: None,
            })?;
            Ok(out)
        })
    }
}

impl Service {
    /// Score every labelled pair with `model` and count (labels whose
    /// records are gone or not prepared are left out); and the precision of
    /// the merged pairs, from the labels and the audit of merges.
    pub fn label_estimates(&self, model: &crate::matching::model::Model) -> Result<LabelEstimates> {
        let labels = self.all_labels()?;
        let scored = self.weigh_labelled(model, &self.prepared_pairs(&labels)?);
        let mut out = LabelEstimates::count(&self.bands_of(model), &scored);
        out.merged_precision = self.merged_pairs_with(&labels)?.precision();
        Ok(out)
    }

    /// Labelled pairs scored by `model`: (score, labelled a match).
    pub(crate) fn score_labelled(
        &self,
        model: &crate::matching::model::Model,
        pairs: &[(PreparedRecord, PreparedRecord, bool)],
    ) -> Vec<(crate::matching::Score, bool)> {
        let freq = super::RememberedFrequencies::new(&self.index, super::Counted::All);
        pairs
            .iter()
            .map(|(a, b, matched)| (self.score_pair(model, a, b, &freq), *matched))
            .collect()
    }

    /// Labelled pairs' weights under `model`: (weight, labelled a match).
    pub(crate) fn weigh_labelled(
        &self,
        model: &crate::matching::model::Model,
        pairs: &[(PreparedRecord, PreparedRecord, bool)],
    ) -> Vec<(f64, bool)> {
        self.score_labelled(model, pairs)
            .into_iter()
            .map(|(s, m)| (s.weight, m))
            .collect()
    }

    /// The comparison levels of a pair of prepared records.
    pub(crate) fn levels_of(&self, a: &PreparedRecord, b: &PreparedRecord) -> Vec<u8> {
        let mut levels = Vec::with_capacity(self.preparer.plan.len());
        crate::matching::batch::compare_values(
            &self.preparer.plan,
            &a.values,
            &b.values,
            &mut levels,
        );
        levels
    }

    /// How many labelled pairs each comparison level has (for
    /// `sort=informative`).
    pub(crate) fn level_labels(&self) -> Result<LevelLabels> {
        let plan = &self.preparer.plan;
        let mut out = LevelLabels::default();
        for (a, b, _) in self.labelled_pairs()? {
            let levels = self.levels_of(&a, &b);
            out.add(
                plan.iter()
                    .zip(&levels)
                    .map(|(c, &l)| (c.name.as_str(), c.comparator.level_label(l))),
            );
        }
        Ok(out)
    }

    /// Every labelled pair whose two records are stored, with their
    /// prepared values and whether it is labelled a match (read 500 labels
    /// at a time).
    pub(crate) fn labelled_pairs(&self) -> Result<Vec<(PreparedRecord, PreparedRecord, bool)>> {
        self.prepared_pairs(&self.all_labels()?)
    }

    /// [`Self::labelled_pairs`] of labels already read.
    pub(crate) fn prepared_pairs(
        &self,
        labels: &[Label],
    ) -> Result<Vec<(PreparedRecord, PreparedRecord, bool)>> {
        let mut out = Vec::with_capacity(labels.len());
        for chunk in labels.chunks(500) {
            let nums: Vec<u64> = chunk.iter().flat_map(|l| [l.a, l.b]).collect();
            let prepared: HashMap<u64, PreparedRecord> = self
                .load_prepared(&nums)?
                .into_iter()
                .map(|(r, p)| (r.num, p))
                .collect();
            for l in chunk {
                if let (Some(a), Some(b)) = (prepared.get(&l.a), prepared.get(&l.b)) {
                    out.push((a.clone(), b.clone(), l.label == LabelKind::Match));
                }
            }
        }
        Ok(out)
    }
}

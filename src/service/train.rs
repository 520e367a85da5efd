//! Training the model from the stored records, as `nayose dedupe` trains
//! on a file: the same candidate search and the same
//! [`crate::matching::batch`] stages over the records the store holds.

use super::{Actor, Result, Service, ServiceError};
use crate::matching::batch::{self, NoProgress, Pair, PreparedBatch};
use crate::matching::model::{Calibrated, Model};
use crate::matching::prepare::PreparedRecord;
use crate::store::{now, AuditAction, AuditEntry};
use rayon::prelude::*;
use std::collections::HashMap;

/// A model is trained from the store's own records once it holds this many.
pub const MIN_TRAINING_RECORDS: u64 = 200;

/// Records created one by one are matched with the rules' starting weights
/// until the store holds this many; then the service trains by itself. (At
/// 2,000 generated records, models trained on 200–800 matched worse than
/// the starting weights: `tests/serve.rs`, cold start.)
pub const FIRST_TRAINING_RECORDS: u64 = 1_000;

impl Service {
    /// Whether a model can be trained now: not when one was given with
    /// `--model`, nor with fewer than [`MIN_TRAINING_RECORDS`] records.
    pub(crate) fn can_train(&self) -> Result<u64> {
        if self.model_pinned() {
            return Err(ServiceError::Refused(
                "the model was given with --model; restart without it to train one".into(),
            ));
        }
        let count = self.read(|tx| Ok(tx.count_records()?))?;
        if count < MIN_TRAINING_RECORDS {
            return Err(ServiceError::Refused(format!(
                "{count} records stored; training needs at least {MIN_TRAINING_RECORDS}"
            )));
        }
        Ok(count)
    }

    /// Train on every stored record and use the model from now on (the
    /// work of a training job, `POST /v1/model/train`); the open proposals
    /// are then scored with it ([`Service::rescore_open_proposals`]).
    pub fn retrain(&self, actor: &Actor) -> Result<Model> {
        let count = self.can_train()?;
        let mut m = self.train_from_store()?;
        m.training.records = count;
        self.set_model(m.clone())?;
        self.write(|tx| {
            tx.audit(&AuditEntry {
                seq: 0,
                at: now(),
                actor: actor.name.clone(),
                action: AuditAction::ModelTrain,
                subject: "model".into(),
                before: serde_json::Value::Null,
                after: serde_json::json!({ "records": count, "prior": m.prior }),
                reason: None,
            })?;
            Ok(())
        })?;
        let rescored = self.rescore_open_proposals(actor)?;
        tracing::info!(?rescored, "open proposals scored with the new model");
        Ok(m)
    }

    /// Train a model on every stored record, as `nayose dedupe` trains on a file.
    pub fn train_from_store(&self) -> Result<Model> {
        let mut records = NumberedBatch::new(self.preparer.plan.len());
        let mut after = 0;
        loop {
            let batch = self.read(|tx| Ok(tx.records_after(after, 8192)?))?;
            let Some(last) = batch.last() else { break };
            after = last.num;
            let prepared: Vec<(u64, PreparedRecord)> = batch
                .par_iter()
                .map(|r| (r.num, self.prepared_of(r)))
                .collect();
            for (num, p) in prepared {
                records.push(num, p);
            }
        }
        let pairs = self.candidate_pairs(&records)?;
        let mut model = self.train_on(&records, &pairs);
        self.learn_from_labels(&mut model)?;
        Ok(model)
    }

    /// What the stewards' labels teach a newly trained model: m blended
    /// with the labelled matches ([`crate::matching::model::learn_from_labels`]),
    /// the term-frequency scales fitted to every labelled pair as that
    /// model scores them ([`crate::matching::model::learn_tf_from_labels`]),
    /// then the bands calibrated on every labelled pair scored by it
    /// (`[matching] auto_merge_precision`, `review_recall`; kept in the
    /// model). Notes how many labels the store held.
    pub(crate) fn learn_from_labels(&self, model: &mut Model) -> Result<()> {
        let pairs = self.labelled_pairs()?;
        let matched: Vec<Vec<u8>> = pairs
            .iter()
            .filter(|p| p.2)
            .map(|(a, b, _)| self.levels_of(a, b))
            .collect();
        crate::matching::model::learn_from_labels(model, &matched);
        crate::matching::model::learn_tf_from_labels(model, &self.score_labelled(model, &pairs));
        model.training.labels = self.read(|tx| Ok(tx.count_labels()?))?;
        let m = &self.rules.matching;
        if m.auto_merge_precision.is_some() || m.review_recall.is_some() {
            let scored = self.weigh_labelled(model, &pairs);
            let bands = self
                .bands
                .calibrated(&scored, m.auto_merge_precision, m.review_recall);
            model.calibrated = (bands != self.bands).then(|| Calibrated {
                match_threshold: Model::probability(bands.match_weight),
                review_threshold: Model::probability(bands.review_weight),
                labels: scored.len() as u64,
            });
        }
        Ok(())
    }

    /// The candidate pairs of these records, each searched against the
    /// whole index: record numbers `(lower, higher)`, each pair once,
    /// ascending.
    pub(crate) fn candidate_pairs(&self, records: &NumberedBatch) -> Result<Vec<(u64, u64)>> {
        let keys = records.batch.keys();
        batch::candidate_pairs(&records.nums, |i| {
            let (c, _) = self.index.candidates(&keys[i], Some(records.nums[i]))?;
            Ok(c)
        })
    }

    /// Train a model on records and their candidate pairs (pairs reaching
    /// a record not among them are left out).
    pub(crate) fn train_on(&self, records: &NumberedBatch, pairs: &[(u64, u64)]) -> Model {
        let pairs = records.pairs_of(pairs);
        let plan = &self.preparer.plan;
        let levels = batch::compare(plan, &records.batch, &pairs, &NoProgress);
        batch::train(plan, &self.rules.matching, &records.batch, &levels)
    }
}

/// Stored records prepared side by side, with their record numbers.
pub(crate) struct NumberedBatch {
    /// The record number at each position of `batch`.
    pub(crate) nums: Vec<u64>,
    pub(crate) batch: PreparedBatch,
}

impl NumberedBatch {
    pub(crate) fn new(width: usize) -> NumberedBatch {
        NumberedBatch {
            nums: Vec::new(),
            batch: PreparedBatch::new(width),
        }
    }

    pub(crate) fn push(&mut self, num: u64, p: PreparedRecord) {
        self.nums.push(num);
        self.batch.push(p);
    }

    /// Pairs of record numbers as pairs of positions in the batch (each
    /// the same way round); pairs reaching a record not in it are left out.
    pub(crate) fn pairs_of(&self, pairs: &[(u64, u64)]) -> Vec<Pair> {
        let position: HashMap<u64, u32> = self
            .nums
            .iter()
            .enumerate()
            .map(|(i, &n)| (n, i as u32))
            .collect();
        pairs
            .iter()
            .filter_map(|(a, b)| {
                Some(Pair {
                    a: *position.get(a)?,
                    b: *position.get(b)?,
                })
            })
            .collect()
    }
}

//! The audit of merges: how a service knows the precision of what it has
//! merged. Stewards label the review band; the auto-merge band, where most
//! merges are, is never shown to them, so labels alone cannot say how
//! often a merge is wrong. The audit draws pairs of records the service
//! holds as one customer — uniformly at random, in a fixed order — for a
//! steward to answer "one customer or not". Each answer is a label
//! (source `audit`); with the pairs labelled otherwise, the answers give
//! the pairwise precision of the entities with an interval
//! ([`crate::matching::band::MergedPairs`], in `GET /v1/model`).
//!
//! The order is a hash of the two record numbers, so it depends on
//! nothing a steward sees and never changes: the first pairs not yet
//! labelled are a uniform sample of the unlabelled pairs, as long as the
//! steward answers them in order rather than picking.
//!
//! An answer "two customers" changes no entity by itself. The entity then
//! holds a conflict — two members labelled apart — and its view
//! ([`Service::conflicts`]) says how to split it: which members go with
//! which of the two, from the labels and the model's weights
//! ([`crate::cluster::two_sides`]).

use super::{Actor, Result, Service, ServiceError};
use crate::cluster::{two_sides, Link};
use crate::matching::band::{Band, Estimate, MergedPairs};
use crate::matching::Explanation;
use crate::store::{now, AuditAction, AuditEntry, Label, LabelKind, LabelSource, Record};
use serde::Serialize;
use std::collections::{BinaryHeap, HashMap};

/// An audit sample holds at most this many pairs.
pub const AUDIT_SAMPLE_MAX: usize = 100;

/// A pair of records the service holds as one customer, for a steward to
/// answer whether they are.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MergeAuditPair {
    /// The entity both records are in.
    pub entity_id: String,
    pub record_ids: [String; 2],
    /// The pair's match weight under the model in use (log2 odds): the two
    /// records may have been merged through others, not with each other.
    pub score: f64,
    pub probability: f64,
    pub band: Band,
    pub explanation: Explanation,
}

/// The next pairs of the audit, and how far it has come.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MergeAuditSample {
    /// Pairs of records held as one customer.
    pub pairs: u64,
    /// Of them, labelled other than by the audit (a decided proposal, an
    /// imported label): counted as labelled, not audited.
    pub labelled: u64,
    /// Of the others, answered in the audit.
    pub audited: u64,
    /// The pairwise precision of the entities, from the labels and the
    /// audit (as `GET /v1/model` `labels.merged_precision`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_precision: Option<Estimate>,
    /// The next unlabelled pairs in the audit's order.
    pub items: Vec<MergeAuditPair>,
}

/// An entity's conflicts listed at most.
pub const CONFLICTS_MAX: usize = 20;
/// Labels within one entity read at most, for its conflicts.
const LABELS_WITHIN_MAX: usize = 10_000;
/// An entity of more members gets no split suggested (O(n²) pairs scored).
pub const SPLIT_SUGGESTION_MAX: usize = 300;

/// Two members of one entity labelled two customers (an audit answer, an
/// imported label): what the entity holds against a steward's word, and
/// how to split it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EntityConflict {
    pub record_ids: [String; 2],
    pub source: LabelSource,
    pub actor: String,
    pub created_at: String,
    /// The members a split would move to a new entity (as
    /// `POST /v1/entities/{id}/split` takes them): the smaller of the two
    /// sides grown from the two records by the labels and the model's
    /// weights, the second record's side on a tie. Absent for an entity
    /// of more than 300 members.
    pub split: Option<Vec<String>>,
}

/// Where a pair falls in the audit's order: a 64-bit mix (SplitMix64's
/// finalizer, twice) of the two record numbers, smaller first.
fn pair_key(a: u64, b: u64) -> u64 {
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    let (a, b) = (a.min(b), a.max(b));
    mix(mix(a) ^ b)
}

/// The merged entities and every label, as the audit sees them.
struct Merged {
    /// (entity, record numbers ascending) of every entity of two or more.
    entities: Vec<(String, Vec<u64>)>,
    /// Label of each labelled pair (a < b, as the store keeps them):
    /// (source, a match).
    labels: HashMap<(u64, u64), (LabelSource, bool)>,
}

impl Merged {
    fn counts(&self) -> MergedPairs {
        let entity_of: HashMap<u64, usize> = self
            .entities
            .iter()
            .enumerate()
            .flat_map(|(i, (_, nums))| nums.iter().map(move |&n| (n, i)))
            .collect();
        let mut out = MergedPairs {
            pairs: self
                .entities
                .iter()
                .map(|(_, nums)| {
                    let k = nums.len() as u64;
                    k * (k - 1) / 2
                })
                .sum(),
            ..Default::default()
        };
        for (&(a, b), &(source, matched)) in &self.labels {
            let one =
                matches!((entity_of.get(&a), entity_of.get(&b)), (Some(x), Some(y)) if x == y);
            if !one {
                continue;
            }
            if source == LabelSource::Audit {
                out.audited += 1;
                out.audited_matches += u64::from(matched);
            } else {
                out.known += 1;
                out.known_matches += u64::from(matched);
            }
        }
        out
    }

    /// The `limit` unlabelled pairs first in the audit's order: (entity
    /// index, a, b), in that order.
    fn next(&self, limit: usize) -> Vec<(usize, u64, u64)> {
        let mut heap: BinaryHeap<(u64, u64, u64, usize)> = BinaryHeap::with_capacity(limit + 1);
        for (i, (_, nums)) in self.entities.iter().enumerate() {
            for (j, &a) in nums.iter().enumerate() {
                for &b in &nums[j + 1..] {
                    if self.labels.contains_key(&(a, b)) {
                        continue;
                    }
                    let key = pair_key(a, b);
                    if heap.len() < limit {
                        heap.push((key, a, b, i));
                    } else if heap
                        .peek()
                        .is_some_and(|top| (key, a, b) < (top.0, top.1, top.2))
                    {
                        heap.pop();
                        heap.push((key, a, b, i));
                    }
                }
            }
        }
        heap.into_sorted_vec()
            .into_iter()
            .map(|(_, a, b, i)| (i, a, b))
            .collect()
    }
}

impl Service {
    /// The merged entities, with `labels` (every label) by pair.
    fn merged(&self, labels: &[Label]) -> Result<Merged> {
        let entities = self.read(|tx| Ok(tx.merged_entities()?))?;
        let labels = labels
            .iter()
            .map(|l| ((l.a, l.b), (l.source, l.label == LabelKind::Match)))
            .collect();
        Ok(Merged { entities, labels })
    }

    /// What the labels and the audit say of the pairs held as one customer.
    pub fn merged_pairs(&self) -> Result<MergedPairs> {
        self.merged_pairs_with(&self.all_labels()?)
    }

    /// [`Self::merged_pairs`] with every label already read.
    pub(crate) fn merged_pairs_with(&self, labels: &[Label]) -> Result<MergedPairs> {
        Ok(self.merged(labels)?.counts())
    }

    /// `GET /v1/merge-audit`: the next `limit` (at most [`AUDIT_SAMPLE_MAX`])
    /// pairs of the audit, each scored by the model in use. Reads every
    /// merged entity and every label: the cost grows with the pairs held
    /// as one customer.
    pub fn audit_sample(&self, limit: usize) -> Result<MergeAuditSample> {
        let model = self.model().ok_or(ServiceError::NoModel)?;
        let merged = self.merged(&self.all_labels()?)?;
        let counts = merged.counts();
        let next = merged.next(limit.clamp(1, AUDIT_SAMPLE_MAX));
        let nums: Vec<u64> = next.iter().flat_map(|&(_, a, b)| [a, b]).collect();
        let prepared: HashMap<u64, _> = self
            .load_prepared(&nums)?
            .into_iter()
            .map(|(r, p)| (r.num, (r.id, p)))
            .collect();
        let freq = super::RememberedFrequencies::new(&self.index, super::Counted::All);
        let bands = self.bands_of(&model);
        let mut items = Vec::with_capacity(next.len());
        for (i, a, b) in next {
            let (Some((id_a, pa)), Some((id_b, pb))) = (prepared.get(&a), prepared.get(&b)) else {
                continue;
            };
            let s = self.score_pair(&model, pa, pb, &freq);
            items.push(MergeAuditPair {
                entity_id: merged.entities[i].0.clone(),
                record_ids: [id_a.clone(), id_b.clone()],
                score: s.weight,
                probability: s.probability(),
                band: bands.of(s.weight),
                explanation: self.explain(&model, &s),
            });
        }
        Ok(MergeAuditSample {
            pairs: counts.pairs,
            labelled: counts.known,
            audited: counts.audited,
            merged_precision: counts.precision(),
            items,
        })
    }

    /// The conflicts of an entity of `members` (ascending by number): each
    /// `non_match` label between two of them, oldest first (at most
    /// [`CONFLICTS_MAX`]), with the split it suggests.
    pub fn conflicts(&self, entity: &str, members: &[Record]) -> Result<Vec<EntityConflict>> {
        if members.len() < 2 {
            return Ok(Vec::new());
        }
        let labels = self.read(|tx| Ok(tx.labels_within(entity, LABELS_WITHIN_MAX)?))?;
        let apart: Vec<&Label> = labels
            .iter()
            .filter(|l| l.label == LabelKind::NonMatch)
            .take(CONFLICTS_MAX)
            .collect();
        if apart.is_empty() {
            return Ok(Vec::new());
        }
        let weights = if members.len() <= SPLIT_SUGGESTION_MAX {
            Some(self.member_weights(members)?)
        } else {
            None
        };
        let index: HashMap<u64, usize> = members
            .iter()
            .enumerate()
            .map(|(i, r)| (r.num, i))
            .collect();
        let labelled: HashMap<(usize, usize), Link> = labels
            .iter()
            .filter_map(|l| {
                let (i, j) = (*index.get(&l.a)?, *index.get(&l.b)?);
                let link = match l.label {
                    LabelKind::Match => Link::Same,
                    LabelKind::NonMatch => Link::Apart,
                };
                Some(((i.min(j), i.max(j)), link))
            })
            .collect();
        Ok(apart
            .into_iter()
            .map(|l| {
                let split = match (&weights, index.get(&l.a), index.get(&l.b)) {
                    (Some(w), Some(&a), Some(&b)) => {
                        let n = members.len();
                        let link = |i: usize, j: usize| {
                            let key = (i.min(j), i.max(j));
                            labelled
                                .get(&key)
                                .copied()
                                .unwrap_or(Link::Weight(w[key.0 * n + key.1]))
                        };
                        let b_side = two_sides(n, a, b, link);
                        let on_b = b_side.iter().filter(|&&x| x).count();
                        let moved = on_b <= n - on_b;
                        Some(
                            members
                                .iter()
                                .zip(&b_side)
                                .filter(|&(_, &x)| x == moved)
                                .map(|(r, _)| r.id.clone())
                                .collect(),
                        )
                    }
                    _ => None,
                };
                EntityConflict {
                    record_ids: [l.id_a.clone(), l.id_b.clone()],
                    source: l.source,
                    actor: l.actor.clone(),
                    created_at: l.created_at.clone(),
                    split,
                }
            })
            .collect())
    }

    /// The model's weight of every pair of `members`, row-major (`i * n +
    /// j`, i < j); −∞ where the model or a record's prepared values are
    /// missing.
    fn member_weights(&self, members: &[Record]) -> Result<Vec<f64>> {
        let n = members.len();
        let mut w = vec![f64::NEG_INFINITY; n * n];
        let Some(model) = self.model() else {
            return Ok(w);
        };
        let nums: Vec<u64> = members.iter().map(|r| r.num).collect();
        let prepared: HashMap<u64, _> = self
            .load_prepared(&nums)?
            .into_iter()
            .map(|(r, p)| (r.num, p))
            .collect();
        let freq = super::RememberedFrequencies::new(&self.index, super::Counted::All);
        for i in 0..n {
            for j in i + 1..n {
                if let (Some(pa), Some(pb)) = (prepared.get(&nums[i]), prepared.get(&nums[j])) {
                    w[i * n + j] = self.score_pair(&model, pa, pb, &freq).weight;
                }
            }
        }
        Ok(w)
    }

    /// `POST /v1/merge-audit`: a steward's answer for two records held as one
    /// customer — one customer (`match`) or not — kept as a label from the
    /// audit and audited. The answer changes no entity: a steward who
    /// finds two customers splits the entity. Refused when the two records
    /// are not in one entity (any more).
    pub fn answer_audit(
        &self,
        actor: &Actor,
        record_ids: [&str; 2],
        label: LabelKind,
    ) -> Result<Label> {
        if record_ids[0] == record_ids[1] {
            return Err(ServiceError::Invalid(
                "record_ids: two different records".into(),
            ));
        }
        let _w = self.writer.lock().expect("writer");
        self.write(|tx| {
            let mut records = Vec::with_capacity(2);
            for id in record_ids {
                records.push(
                    tx.record(id)?
                        .ok_or_else(|| ServiceError::not_found("record", id))?,
                );
            }
            if records[0].entity_id != records[1].entity_id {
                return Err(ServiceError::Refused(format!(
                    "records `{}` and `{}` are not held as one customer: the audit asks only of \
                     merged records",
                    super::limits::shown(record_ids[0]),
                    super::limits::shown(record_ids[1]),
                )));
            }
            records.sort_by_key(|r| r.num);
            let at = now();
            let l = Label {
                a: records[0].num,
                b: records[1].num,
                id_a: records[0].id.clone(),
                id_b: records[1].id.clone(),
                label,
                source: LabelSource::Audit,
                proposal: None,
                actor: actor.name.clone(),
                created_at: at.clone(),
            };
            tx.put_label(&l)?;
            tx.audit(&AuditEntry {
                seq: 0,
                at,
                actor: actor.name.clone(),
                action: AuditAction::EntityAudit,
                subject: records[0].entity_id.clone(),
                before: serde_json::Value::Null,
                after: serde_json::to_value(&l).unwrap_or_default(),
                reason: None,
            })?;
            Ok(l)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(entities: &[&[u64]], labels: &[(u64, u64, LabelSource, bool)]) -> Merged {
        Merged {
            entities: entities
                .iter()
                .enumerate()
                .map(|(i, nums)| (format!("E{i}"), nums.to_vec()))
                .collect(),
            labels: labels
                .iter()
                .map(|&(a, b, s, m)| ((a, b), (s, m)))
                .collect(),
        }
    }

    #[test]
    fn the_order_is_uniform_and_fixed() {
        // Every pair of 60 records: the first 300 of 1,770 in the order
        // fall evenly over the first and second halves of the numbers.
        let nums: Vec<u64> = (1..=60).collect();
        let m = merged(&[&nums], &[]);
        let first = m.next(300);
        assert_eq!(first.len(), 300);
        assert_eq!(first, m.next(300), "the same order each time");
        let low = first
            .iter()
            .filter(|&&(_, a, b)| a <= 30 && b <= 30)
            .count();
        let high = first.iter().filter(|&&(_, a, b)| a > 30 && b > 30).count();
        // 435 of 1,770 pairs lie in each half: about 74 of 300 expected.
        assert!(
            (50..100).contains(&low) && (50..100).contains(&high),
            "{low} {high}"
        );
        // Sorted by key, and the key does not care which record is first.
        let keys: Vec<u64> = first.iter().map(|&(_, a, b)| pair_key(a, b)).collect();
        assert!(keys.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(pair_key(3, 9), pair_key(9, 3));
    }

    #[test]
    fn labelled_pairs_leave_the_sample_and_the_rest_keep_their_order() {
        let m = merged(&[&[1, 2, 3, 4], &[7, 8]], &[]);
        let all = m.next(100);
        assert_eq!(all.len(), 6 + 1);
        let (_, a, b) = all[0];
        let m2 = merged(
            &[&[1, 2, 3, 4], &[7, 8]],
            &[(a, b, LabelSource::Audit, true)],
        );
        assert_eq!(m2.next(100), all[1..].to_vec());
        assert_eq!(m2.next(2), all[1..3].to_vec());
    }

    #[test]
    fn counts_take_labels_inside_one_entity_by_stratum() {
        let m = merged(
            &[&[1, 2, 3], &[7, 8]],
            &[
                (1, 2, LabelSource::Proposal, true),
                (1, 3, LabelSource::Audit, false),
                (7, 8, LabelSource::Audit, true),
                // Not one entity: not a merged pair.
                (2, 7, LabelSource::Import, false),
            ],
        );
        assert_eq!(
            m.counts(),
            MergedPairs {
                pairs: 4,
                known: 1,
                known_matches: 1,
                audited: 2,
                audited_matches: 1,
            }
        );
    }
}

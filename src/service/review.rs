//! Stewards' work: proposals and their decisions, entities (golden records,
//! members, history), merges and splits, the audit log.
//!
//! A decision is conditional on the proposal's version: of two stewards
//! deciding one proposal at once, one wins and the other gets
//! [`ServiceError::Conflict`] with the proposal as it now is.

use super::golden::{golden, shaped, Golden};
use super::labels::{label_decision, label_split};
use super::{Actor, IdemKey, Reply, Result, Service, ServiceError, Written};
use crate::matching::prepare::PreparedRecord;
use crate::matching::Band;
use crate::store::{
    now, AuditAction, AuditEntry, AuditFilter, Comment, Entity, HistoryAction, HistoryEntry, Label,
    LabelKind, LabelSource, ManualValue, Proposal, ProposalFilter, ProposalSort, ProposalStatus,
    Record, StoreError, Tx, INFORMATIVE_POOL,
};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// A record as a list shows it: its id, a name to call it by, and the
/// values that tell customers apart (display values, in the schema's order).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecordSummary {
    pub id: String,
    pub entity_id: String,
    /// The company name and the person's name, as far as the record has
    /// them (empty when it has neither).
    pub name: String,
    /// Field → display value, for the schema's key fields the record holds.
    pub fields: BTreeMap<String, String>,
    /// The fields `name` is made of, in order.
    #[serde(skip)]
    pub name_fields: Vec<String>,
}

impl RecordSummary {
    /// `name` made again from `fields` (after they were masked).
    pub fn rename(&mut self) {
        let parts: Vec<&str> = self
            .name_fields
            .iter()
            .filter_map(|f| self.fields.get(f).map(String::as_str))
            .collect();
        self.name = parts.join(" ");
    }
}

/// A proposal in a list, with both records summed up.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProposalItem {
    #[serde(flatten)]
    pub proposal: Proposal,
    /// The two records, in the order of `record_ids`.
    pub records: Vec<RecordSummary>,
}

/// The most entities a group view gathers around a proposal; a larger
/// group is cut off (`truncated`) and reviewed pair by pair.
pub const GROUP_ENTITIES_MAX: usize = 20;

/// The connected pending proposals around a customer: every record that
/// would form the entity, side by side, with the proposals between them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GroupView {
    /// The proposal the group was gathered from.
    pub proposal: String,
    /// The entities the group would merge, oldest id first.
    pub entities: Vec<String>,
    /// Every member of those entities.
    pub records: Vec<Record>,
    /// The pending proposals between them, by id.
    pub proposals: Vec<ProposalItem>,
    /// The golden record if the whole group were approved.
    pub proposed_golden: Golden,
    /// More entities are linked than [`GROUP_ENTITIES_MAX`].
    pub truncated: bool,
}

/// A steward's decision on a group: each listed proposal approved, except
/// those touching an excluded record, which are rejected.
#[derive(Debug, Clone, Default)]
pub struct GroupDecision {
    /// Proposal id → the version the steward saw.
    pub proposals: BTreeMap<String, u64>,
    /// Records taken out of the group: their proposals are rejected.
    pub exclude: Vec<String>,
    /// Field → the record whose value the merged golden record keeps.
    pub winners: BTreeMap<String, String>,
    pub reason: Option<String>,
}

/// What a group decision did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GroupOutcome {
    pub approved: Vec<String>,
    pub rejected: Vec<String>,
    /// Closed by the group's own merges (both records were one customer by
    /// then): nothing left to decide.
    pub superseded: Vec<String>,
    /// The entity the approved records form (null when nothing was approved).
    pub entity_id: Option<String>,
}

/// A proposal with both records, each field side by side, and the golden
/// record an approval would give.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProposalDetail {
    #[serde(flatten)]
    pub proposal: Proposal,
    pub records: Vec<Record>,
    /// Per field: both values and whether they are equal after normalizing.
    pub fields: Vec<FieldPair>,
    /// The golden record of the two entities merged.
    pub proposed_golden: Golden,
    /// Values of the proposed golden record that contradict each other.
    pub warnings: Vec<GoldenWarning>,
    /// Stewards' comments, oldest first.
    pub comments: Vec<Comment>,
}

/// Two values of a golden record that contradict each other.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GoldenWarning {
    /// `postal_code_mismatch`: the postal code is for another place than
    /// the address; `phone_area_mismatch`: a fixed-line phone's area code
    /// is in a prefecture that is neither the address's nor a neighbour;
    /// `typed_value_invalid`: a value a steward typed that the field's
    /// normalizer cannot read, or not one of the field's allowed values.
    pub code: String,
    pub fields: Vec<String>,
    pub message: String,
    /// The facts the message names, for a client to word it in its own
    /// language: for `phone_area_mismatch`, `area_code` (`087`), `area`
    /// (`高松`), `phone_prefecture` and `address_prefecture`; empty for
    /// the others.
    pub params: BTreeMap<String, String>,
}

/// A golden record shaped but not stored: what an approval would give.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GoldenPreview {
    pub golden: Golden,
    pub warnings: Vec<GoldenWarning>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldPair {
    pub field: String,
    /// A part of the field compared on its own row (`branch`); null for
    /// the field's whole value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
    pub values: [Option<String>; 2],
    pub same: bool,
}

/// An entity with its golden record, members and history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EntityView {
    #[serde(flatten)]
    pub entity: Entity,
    pub golden: Golden,
    /// Values of the golden record that contradict each other.
    pub warnings: Vec<GoldenWarning>,
    pub members: Vec<Record>,
    pub history: Vec<HistoryEntry>,
    /// Members labelled two customers, with the split each suggests.
    pub conflicts: Vec<super::merge_audit::EntityConflict>,
}

/// What a bulk approval did or, as a dry run, would do.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BulkOutcome {
    pub dry_run: bool,
    /// Open proposals at or above the score: what a confirmation names.
    pub count: usize,
    /// Approved by this call (empty on a dry run).
    pub approved: Vec<String>,
    /// Passed over: decided meanwhile, or superseded by an earlier merge
    /// of the same run (both records already in one entity).
    pub skipped: Vec<String>,
}

/// What a steward decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
    Defer,
    /// Undo a decision: the proposal is open again. A rejected pair is
    /// forgotten; an approval's merge is reverted exactly, or refused (a
    /// conflict) once the entities changed after it.
    Reopen,
}

/// What a steward decided about a proposal.
#[derive(Debug, Clone)]
pub struct DecisionRequest {
    pub decision: Decision,
    /// Approve only: field → the record whose value the golden record keeps.
    pub winners: BTreeMap<String, String>,
    /// Approve only: field → a value the steward typed (a correction no
    /// member holds), kept with who, when and why.
    pub values: BTreeMap<String, String>,
    /// Why (kept with the decision and in the audit log).
    pub reason: Option<String>,
    /// The proposal version the steward saw; a stale one is a conflict.
    pub version: Option<u64>,
}

impl Decision {
    /// What the audit log calls it.
    fn audit_action(self) -> AuditAction {
        match self {
            Decision::Approve => AuditAction::ProposalApprove,
            Decision::Reject => AuditAction::ProposalReject,
            Decision::Defer => AuditAction::ProposalDefer,
            Decision::Reopen => AuditAction::ProposalReopen,
        }
    }
}

/// What scoring the open proposals again did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Rescored {
    /// Still in the review band, with the new score.
    pub kept: usize,
    /// Fell below the review band: superseded.
    pub superseded: usize,
    /// Rose into the auto-merge band: merged.
    pub merged: usize,
    /// Rose into the auto-merge band, but the two entities are not linked
    /// densely enough to merge by themselves (the anti-chaining guard): kept
    /// open for a steward.
    pub held: usize,
}

/// What a merge did (`merge_entities`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Merged {
    /// The entity that stays (the older id).
    pub keep: String,
    /// The entity merged into it (`None`: the two were one already).
    pub gone: Option<String>,
    /// The records that moved from `gone` into `keep`.
    pub moved: Vec<u64>,
    /// Pending proposals inside the merged entity, superseded, with the
    /// status each had.
    pub superseded: Vec<(String, ProposalStatus)>,
}

/// What undoing an approval needs, kept with it: its merge, and the two
/// entities before and after. The undo is exact, or refused when the
/// entities are no longer as the approval left them.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
struct MergeUndo {
    keep: String,
    gone: Option<String>,
    moved: Vec<u64>,
    /// Members of `keep` after the merge.
    members: Vec<u64>,
    /// Overrides (`keep`, `gone`) before the approval.
    before: [BTreeMap<String, String>; 2],
    /// Overrides of `keep` after it.
    after: BTreeMap<String, String>,
    /// Typed values (`keep`, `gone`) before, and of `keep` after.
    #[serde(default)]
    manual_before: [BTreeMap<String, ManualValue>; 2],
    #[serde(default)]
    manual_after: BTreeMap<String, ManualValue>,
    superseded: Vec<(String, ProposalStatus)>,
}

/// The anti-chaining guard scores every cross pair of two entities up to
/// this many pairs; larger merges are left to a steward.
pub const GUARD_PAIRS_MAX: usize = 400;

impl Service {
    /// After a new model: score every open proposal again. One that falls
    /// below the review band is superseded, one that rises into the
    /// auto-merge band is merged (as `actor`), the others take the new
    /// score; each change is audited. A proposal decided meanwhile, or whose
    /// record is gone, is left as it is.
    pub fn rescore_open_proposals(&self, actor: &Actor) -> Result<Rescored> {
        let model = self.model().ok_or(ServiceError::NoModel)?;
        let mut open = Vec::new();
        loop {
            let page = self.proposals(&ProposalFilter {
                status: Some(ProposalStatus::Open),
                offset: open.len(),
                limit: 500,
                ..ProposalFilter::default()
            })?;
            let more = page.len() == 500;
            open.extend(page);
            if !more {
                break;
            }
        }
        let freq = super::RememberedFrequencies::new(&self.index, super::Counted::All);
        let bands = self.bands_of(&model);
        let mut done = Rescored::default();
        for chunk in open.chunks(500) {
            // The records a chunk of proposals names, prepared in one read.
            let nums: Vec<u64> = chunk.iter().flat_map(|p| [p.a, p.b]).collect();
            let prepared: HashMap<u64, PreparedRecord> = self
                .load_prepared(&nums)?
                .into_iter()
                .map(|(r, p)| (r.num, p))
                .collect();
            for seen in chunk {
                let (Some(a), Some(b)) = (prepared.get(&seen.a), prepared.get(&seen.b)) else {
                    continue;
                };
                let score = self.score_pair(&model, a, b, &freq);
                let band = bands.of(score.weight);
                let _w = self.writer.lock().expect("writer");
                let outcome = self.write(|tx| {
                    let mut p = Self::proposal_in(tx, &seen.id)?;
                    if p.status != ProposalStatus::Open || p.version != seen.version {
                        return Ok(None);
                    }
                    let expected = p.version;
                    let at = now();
                    let before = serde_json::json!({
                        "status": p.status.as_str(),
                        "probability": p.probability,
                    });
                    p.score = score.weight;
                    p.probability = score.probability();
                    p.band = band;
                    p.explanation = self.explain(&model, &score);
                    let merge =
                        band == Band::Match && self.densely_linked(tx, &model, &freq, p.a, p.b)?;
                    let reason = match band {
                        Band::NoMatch => {
                            p.status = ProposalStatus::Superseded;
                            Some("below the review band under the new model")
                        }
                        Band::Match if merge => {
                            let plain = DecisionRequest {
                                decision: Decision::Approve,
                                values: BTreeMap::new(),
                                winners: BTreeMap::new(),
                                reason: None,
                                version: None,
                            };
                            self.approve_in(tx, actor, &p, &plain, &at)?;
                            p.status = ProposalStatus::Approved;
                            Some("in the auto-merge band under the new model")
                        }
                        Band::Match => Some(
                            "in the auto-merge band under the new model, kept open: \
                             its two entities are not linked densely enough to merge \
                             by themselves (anti-chaining guard)",
                        ),
                        Band::Review => None,
                    };
                    if let Some(r) = reason.filter(|_| p.status != ProposalStatus::Open) {
                        p.decided_at = Some(at.clone());
                        p.decided_by = Some(actor.name.clone());
                        p.reason = Some(r.to_string());
                    }
                    p.version += 1;
                    tx.update_proposal(&p, expected)?;
                    tx.audit(&AuditEntry {
                        seq: 0,
                        at,
                        actor: actor.name.clone(),
                        action: AuditAction::ProposalRescore,
                        subject: format!("proposal:{}", p.id),
                        before,
                        after: serde_json::json!({
                            "status": p.status.as_str(),
                            "probability": p.probability,
                        }),
                        reason: reason.map(str::to_string),
                    })?;
                    Ok(Some((band, merge)))
                })?;
                match outcome {
                    Some((Band::NoMatch, _)) => done.superseded += 1,
                    Some((Band::Match, true)) => done.merged += 1,
                    Some((Band::Match, false)) => done.held += 1,
                    Some((Band::Review, _)) => done.kept += 1,
                    None => {}
                }
            }
        }
        Ok(done)
    }

    /// The anti-chaining guard for a merge the model alone decides (as the
    /// import clusters with it, [`crate::cluster::dense_enough`], every
    /// pair scored): whether the cross pairs of the entities of records `a`
    /// and `b` are on average at least `min_link_density` likely matches.
    /// Entities of more than [`GUARD_PAIRS_MAX`] cross
    /// pairs are not merged by the model.
    fn densely_linked(
        &self,
        tx: &mut dyn Tx,
        model: &crate::matching::model::Model,
        freq: &dyn crate::matching::Frequencies,
        a: u64,
        b: u64,
    ) -> Result<bool> {
        let ids = tx.entities_of(&[a, b])?;
        let (Some(ea), Some(eb)) = (ids.first(), ids.get(1)) else {
            return Ok(false);
        };
        if ea.1 == eb.1 {
            return Ok(true);
        }
        let side = |tx: &mut dyn Tx, e: &str| -> Result<Vec<PreparedRecord>> {
            Ok(tx
                .records_of_entity(e)?
                .iter()
                .map(|r| self.prepared_of(r))
                .collect())
        };
        let (xa, xb) = (side(tx, &ea.1)?, side(tx, &eb.1)?);
        let possible = xa.len() * xb.len();
        if possible > GUARD_PAIRS_MAX {
            return Ok(false);
        }
        let probability: f64 = xa
            .iter()
            .flat_map(|x| xb.iter().map(move |y| (x, y)))
            .map(|(x, y)| self.score_pair(model, x, y, freq).probability())
            .sum();
        Ok(crate::cluster::dense_enough(
            probability,
            possible,
            possible,
            self.rules.matching.min_link_density,
        ))
    }

    pub fn proposals(&self, f: &ProposalFilter) -> Result<Vec<Proposal>> {
        if f.sort != ProposalSort::Informative {
            return self.read(|tx| Ok(tx.proposals(f)?));
        }
        // The pool of the most uncertain, ranked by what a label teaches;
        // past it, the list goes on by uncertainty.
        let pool_filter = ProposalFilter {
            offset: 0,
            limit: INFORMATIVE_POOL,
            after: None,
            ..f.clone()
        };
        let pool = self.read(|tx| Ok(tx.proposals(&pool_filter)?))?;
        let full = pool.len() == INFORMATIVE_POOL;
        let labels = self.level_labels()?;
        let mut ranked: Vec<(f64, Proposal)> = pool
            .into_iter()
            .map(|p| {
                let terms = p.explanation.terms.iter();
                let info = labels.information(
                    p.probability,
                    terms.map(|t| (t.comparison.as_str(), t.level.as_str())),
                );
                (info, p)
            })
            .collect();
        // Stable: ties keep the store's order (uncertainty, then number).
        ranked.sort_by(|(x, _), (y, _)| y.total_cmp(x));
        let end = f.offset.saturating_add(f.limit);
        let mut out: Vec<Proposal> = ranked
            .into_iter()
            .skip(f.offset)
            .take(f.limit)
            .map(|(_, p)| p)
            .collect();
        if full && end > INFORMATIVE_POOL {
            let rest = ProposalFilter {
                sort: ProposalSort::Uncertainty,
                offset: f.offset.max(INFORMATIVE_POOL),
                limit: f.limit - out.len(),
                after: None,
                ..f.clone()
            };
            out.extend(self.read(|tx| Ok(tx.proposals(&rest)?))?);
        }
        Ok(out)
    }

    /// [`Service::proposals`], each with its two records summed up.
    pub fn proposal_items(&self, f: &ProposalFilter) -> Result<Vec<ProposalItem>> {
        let list = self.proposals(f)?;
        self.read(|tx| {
            let mut out = Vec::with_capacity(list.len());
            for p in list {
                let records = vec![
                    self.summary(&record_in(tx, p.a)?),
                    self.summary(&record_in(tx, p.b)?),
                ];
                out.push(ProposalItem {
                    proposal: p,
                    records,
                });
            }
            Ok(out)
        })
    }

    /// A record summed up for a list.
    pub fn summary(&self, r: &Record) -> RecordSummary {
        let mut fields = BTreeMap::new();
        let mut company = None;
        let mut person = None;
        for f in &self.schema.fields {
            if !f.field_type.is_key() {
                continue;
            }
            let Some(v) = super::golden::value_of(r, &f.name) else {
                continue;
            };
            match f.field_type {
                crate::record::FieldType::CompanyName => {
                    company.get_or_insert(f.name.clone());
                }
                crate::record::FieldType::PersonName | crate::record::FieldType::Name => {
                    person.get_or_insert(f.name.clone());
                }
                _ => {}
            }
            fields.insert(f.name.clone(), v.to_string());
        }
        let mut out = RecordSummary {
            id: r.id.clone(),
            entity_id: r.entity_id.clone(),
            name: String::new(),
            fields,
            name_fields: [company, person].into_iter().flatten().collect(),
        };
        out.rename();
        out
    }

    pub fn proposal_counts(&self) -> Result<BTreeMap<Band, u64>> {
        self.read(|tx| Ok(tx.pending_counts()?))
    }

    fn proposal_in(tx: &mut dyn Tx, id: &str) -> Result<Proposal> {
        tx.proposal(id)?
            .ok_or_else(|| ServiceError::not_found("proposal", id))
    }

    pub fn proposal(&self, id: &str) -> Result<ProposalDetail> {
        self.read(|tx| {
            let p = Self::proposal_in(tx, id)?;
            let a = tx.record_by_num(p.a)?;
            let b = tx.record_by_num(p.b)?;
            let (Some(a), Some(b)) = (a, b) else {
                return Err(ServiceError::not_found("proposal", id));
            };
            let (members, overrides, manual) = merged_shape(tx, &a.entity_id, &b.entity_id)?;
            let mut fields = Vec::new();
            for f in &self.schema.fields {
                let (na, nb) = (a.normalized.get(&f.name), b.normalized.get(&f.name));
                let va = na.and_then(|x| x.value.clone());
                let vb = nb.and_then(|x| x.value.clone());
                let ra = a.fields.get(&f.name);
                let rb = b.fields.get(&f.name);
                if ra.is_none() && rb.is_none() {
                    continue;
                }
                fields.push(FieldPair {
                    field: f.name.clone(),
                    part: None,
                    same: va.is_some() && va == vb,
                    values: [va.or_else(|| ra.cloned()), vb.or_else(|| rb.cloned())],
                });
                let branch = |n: Option<&crate::store::StoredField>| {
                    n.and_then(|x| x.parts.get("branch").cloned())
                };
                let (ba, bb) = (branch(na), branch(nb));
                if ba.is_some() || bb.is_some() {
                    fields.push(FieldPair {
                        field: f.name.clone(),
                        part: Some("branch".into()),
                        same: ba == bb,
                        values: [ba, bb],
                    });
                }
            }
            let proposed_golden = shaped(
                &self.schema,
                &self.rules.survivorship,
                &members,
                &overrides,
                &manual,
            );
            let comments = tx.comments(&p.id)?;
            Ok(ProposalDetail {
                proposal: p,
                records: vec![a, b],
                fields,
                warnings: self.golden_warnings(&proposed_golden),
                proposed_golden,
                comments,
            })
        })
    }

    /// `GET /v1/proposals/{id}/group`: the pending proposals connected to
    /// this one through their entities, with every record involved.
    pub fn group(&self, id: &str) -> Result<GroupView> {
        self.read(|tx| self.group_in(tx, id))
    }

    fn group_in(&self, tx: &mut dyn Tx, id: &str) -> Result<GroupView> {
        let start = Self::proposal_in(tx, id)?;
        let mut entities: Vec<String> = Vec::new();
        let mut queue = std::collections::VecDeque::new();
        for num in [start.a, start.b] {
            let e = record_in(tx, num)?.entity_id;
            if !entities.contains(&e) {
                entities.push(e.clone());
                queue.push_back(e);
            }
        }
        let mut records: Vec<Record> = Vec::new();
        let mut proposals: BTreeMap<u64, Proposal> = BTreeMap::new();
        let mut truncated = false;
        while let Some(e) = queue.pop_front() {
            let members = tx.records_of_entity(&e)?;
            for m in &members {
                for q in tx.proposals_of(m.num, true)? {
                    let other = if q.a == m.num { q.b } else { q.a };
                    let oe = record_in(tx, other)?.entity_id;
                    if !entities.contains(&oe) {
                        if entities.len() >= GROUP_ENTITIES_MAX {
                            truncated = true;
                            continue;
                        }
                        entities.push(oe.clone());
                        queue.push_back(oe);
                    }
                    let key: u64 = q.id.parse().unwrap_or(u64::MAX);
                    proposals.entry(key).or_insert(q);
                }
            }
            records.extend(members);
        }
        entities.sort();
        records.sort_by(|a, b| a.id.cmp(&b.id));
        let names: Vec<&str> = entities.iter().map(String::as_str).collect();
        let (overrides, manual) = union_choices(tx, &names)?;
        let proposed_golden = shaped(
            &self.schema,
            &self.rules.survivorship,
            &records,
            &overrides,
            &manual,
        );
        let by_num: HashMap<u64, &Record> = records.iter().map(|r| (r.num, r)).collect();
        let mut items = Vec::with_capacity(proposals.len());
        for p in proposals.into_values() {
            // Both sides are members: a proposal to an entity past the cut
            // is left out with it.
            let (Some(a), Some(b)) = (by_num.get(&p.a), by_num.get(&p.b)) else {
                continue;
            };
            let records = vec![self.summary(a), self.summary(b)];
            items.push(ProposalItem {
                proposal: p,
                records,
            });
        }
        Ok(GroupView {
            proposal: start.id,
            entities,
            records,
            proposals: items,
            proposed_golden,
            truncated,
        })
    }

    /// `POST /v1/proposals/{id}/group`: decide a group in one transaction —
    /// every listed proposal approved, those touching an excluded record
    /// rejected, the steward's winners kept by the merged golden record.
    /// All or nothing: a proposal decided meanwhile is a conflict.
    pub fn decide_group(
        &self,
        actor: &Actor,
        id: &str,
        request: GroupDecision,
        idem: Option<&IdemKey>,
    ) -> Result<Reply<GroupOutcome>> {
        for f in request.winners.keys() {
            if self.schema.position(f).is_none() {
                return Err(ServiceError::UnknownField {
                    field: super::limits::shown(f),
                    known: self.schema.names(),
                });
            }
        }
        if request.proposals.is_empty() {
            return Err(ServiceError::Invalid(
                "proposals: name at least one proposal of the group".into(),
            ));
        }
        let _w = self.writer.lock().expect("writer");
        let written = self.write_once(actor, idem, |tx| {
            let group = self.group_in(tx, id)?;
            let in_group: HashMap<&str, &Proposal> = group
                .proposals
                .iter()
                .map(|i| (i.proposal.id.as_str(), &i.proposal))
                .collect();
            let mut excluded = std::collections::HashSet::new();
            for rid in &request.exclude {
                let Some(r) = group.records.iter().find(|r| &r.id == rid) else {
                    return Err(ServiceError::Refused(format!(
                        "record `{}` is not in the group of proposal {id}",
                        super::limits::shown(rid)
                    )));
                };
                excluded.insert(r.num);
            }
            let mut todo = Vec::new();
            for (pid, version) in &request.proposals {
                let Some(p) = in_group.get(pid.as_str()) else {
                    // Decided meanwhile, or never part of the group.
                    let current = Self::proposal_in(tx, pid)?;
                    return Err(conflict(
                        &current,
                        &format!("proposal {pid} is not pending in the group of proposal {id}"),
                    ));
                };
                // Every proposal as the steward saw it, before the group's
                // own merges close any of them.
                if p.version != *version {
                    return Err(conflict(
                        p,
                        &format!(
                            "proposal {pid} is at version {}, not {version}: it changed since",
                            p.version
                        ),
                    ));
                }
                let decision = if excluded.contains(&p.a) || excluded.contains(&p.b) {
                    Decision::Reject
                } else {
                    Decision::Approve
                };
                todo.push(((*p).clone(), decision, *version));
            }
            // Rejections first: an approval never merges what is taken out.
            todo.sort_by_key(|(_, d, _)| *d != Decision::Reject);
            let mut out = GroupOutcome {
                approved: Vec::new(),
                rejected: Vec::new(),
                superseded: Vec::new(),
                entity_id: None,
            };
            let reason = request.reason.clone();
            // The last approval keeps the winners: its merge makes the
            // entity they choose from, and its undo gives them back.
            let mut last = todo.iter().rposition(|(_, d, _)| *d == Decision::Approve);
            let mut late_winners = false;
            if last.is_none() && !request.winners.is_empty() {
                return Err(ServiceError::Refused(
                    "winners: nothing was approved to keep them".into(),
                ));
            }
            for (i, (p, decision, version)) in todo.into_iter().enumerate() {
                // Within this transaction only the group's own merges change
                // proposals: one between two records they already joined is
                // closed by them.
                let mut p = Self::proposal_in(tx, &p.id)?;
                if p.status == ProposalStatus::Superseded && decision == Decision::Approve {
                    out.superseded.push(p.id);
                    if Some(i) == last {
                        last = None;
                        // Rare: kept on the entity directly (this one
                        // approval's undo then refuses: shaped again).
                        late_winners = true;
                    }
                    continue;
                }
                let one = DecisionRequest {
                    decision,
                    values: Default::default(),
                    winners: if Some(i) == last {
                        request.winners.clone()
                    } else {
                        BTreeMap::new()
                    },
                    reason: reason.clone(),
                    version: Some(version),
                };
                self.decide_in(tx, actor, &mut p, &one)?;
                match decision {
                    Decision::Approve => {
                        out.entity_id = Some(record_in(tx, p.a)?.entity_id);
                        out.approved.push(p.id);
                    }
                    _ => out.rejected.push(p.id),
                }
            }
            if let Some(e) = &out.entity_id {
                let members = tx.records_of_entity(e)?;
                for num in &excluded {
                    if members.iter().any(|m| m.num == *num) {
                        let r = record_in(tx, *num)?;
                        return Err(ServiceError::Refused(format!(
                            "record {} is already one customer with records of the group; \
                             split it out of entity {e} instead",
                            r.id
                        )));
                    }
                }
                if late_winners && !request.winners.is_empty() {
                    if let Some(rid) = request
                        .winners
                        .values()
                        .find(|rid| !members.iter().any(|m| &m.id == *rid))
                    {
                        return Err(ServiceError::Refused(format!(
                            "winner `{}` is not a member of the merged entity",
                            super::limits::shown(rid)
                        )));
                    }
                    let mut ent = entity_in(tx, e)?;
                    ent.overrides.extend(request.winners.clone());
                    ent.version += 1;
                    ent.updated_at = now();
                    tx.update_entity(&ent)?;
                }
            }
            Ok((out, ()))
        })?;
        Ok(match written {
            Written::Fresh(o, ()) => Reply::Fresh(o),
            Written::Replay(body) => Reply::Replay(body),
        })
    }

    /// Comment on a proposal (any status): kept with it and audited (the
    /// entry names the comment, not its text).
    pub fn comment(&self, actor: &Actor, id: &str, text: &str) -> Result<Comment> {
        if super::limits::is_blank(text) || text.chars().count() > super::limits::MAX_TEXT_CHARS {
            return Err(ServiceError::Invalid(format!(
                "text: 1–{} characters, not blank",
                super::limits::MAX_TEXT_CHARS
            )));
        }
        let _w = self.writer.lock().expect("writer");
        self.write(|tx| {
            let p = Self::proposal_in(tx, id)?;
            let mut c = Comment {
                seq: 0,
                proposal: p.id.clone(),
                actor: actor.name.clone(),
                at: now(),
                text: text.trim().to_string(),
            };
            c.seq = tx.add_comment(&c)?;
            tx.audit(&AuditEntry {
                seq: 0,
                at: c.at.clone(),
                actor: actor.name.clone(),
                action: AuditAction::ProposalComment,
                subject: format!("proposal:{}", p.id),
                before: serde_json::Value::Null,
                after: serde_json::json!({ "comment": c.seq }),
                reason: None,
            })?;
            Ok(c)
        })
    }

    /// What approving proposal `id` with these choices would make of the
    /// golden record, and what in it contradicts itself; nothing is stored.
    pub fn preview(
        &self,
        actor: &Actor,
        id: &str,
        winners: &BTreeMap<String, String>,
        values: &BTreeMap<String, String>,
    ) -> Result<GoldenPreview> {
        let values = &self.check_shape_fields(winners, values)?;
        self.read(|tx| {
            let p = Self::proposal_in(tx, id)?;
            let (a, b) = (record_in(tx, p.a)?, record_in(tx, p.b)?);
            let (members, mut overrides, mut manual) =
                merged_shape(tx, &a.entity_id, &b.entity_id)?;
            for (f, r) in winners {
                if !members.iter().any(|m| &m.id == r) {
                    return Err(ServiceError::Refused(format!(
                        "winner `{}` is not a member of the merged entity",
                        super::limits::shown(r)
                    )));
                }
                overrides.insert(f.clone(), r.clone());
            }
            put_typed(&mut overrides, &mut manual, values, actor, &now(), &None);
            let golden = shaped(
                &self.schema,
                &self.rules.survivorship,
                &members,
                &overrides,
                &manual,
            );
            Ok(GoldenPreview {
                warnings: self.golden_warnings(&golden),
                golden,
            })
        })
    }

    /// Winners and typed values name fields of the schema; a typed value
    /// is not blank and fits a value's limit.
    /// Check a shaping request's field names and typed values; returns the
    /// typed values as the field's normalizer writes them (`R5.4.1` →
    /// `2023-04-01`), so a golden record holds one form whoever wrote it.
    /// A value the normalizer cannot read or outside the field's 選択肢 is
    /// kept as typed, and the golden record warns about it
    /// (`typed_value_invalid`), as a record keeps such a value with an
    /// issue.
    fn check_shape_fields(
        &self,
        winners: &BTreeMap<String, String>,
        values: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>> {
        for f in winners.keys().chain(values.keys()) {
            if self.schema.position(f).is_none() {
                return Err(ServiceError::UnknownField {
                    field: super::limits::shown(f),
                    known: self.schema.names(),
                });
            }
        }
        let mut typed = BTreeMap::new();
        for (f, v) in values {
            if super::limits::is_blank(v) || v.chars().count() > super::limits::MAX_VALUE_CHARS {
                return Err(ServiceError::Invalid(format!(
                    "values.{f}: 1–{} characters, not blank",
                    super::limits::MAX_VALUE_CHARS
                )));
            }
            typed.insert(f.clone(), self.typed_value(f, v).0);
        }
        Ok(typed)
    }

    /// A typed value of field `f` as its normalizer writes it, and whether
    /// it is kept as typed instead (`true`): the normalizer cannot read it,
    /// or it is not one of the field's 選択肢.
    fn typed_value(&self, f: &str, v: &str) -> (String, bool) {
        let Some(rule) = self.schema.position(f).map(|i| &self.schema.fields[i]) else {
            return (v.trim().to_string(), false);
        };
        let n = self.normalizer.normalize_field(rule, v, None);
        let allowed = !n
            .issues
            .iter()
            .any(|i| i.kind == crate::normalize::IssueKind::NotAllowed);
        match n.value {
            Some(value) if allowed => (value, false),
            _ => (v.trim().to_string(), true),
        }
    }

    /// The values of a golden record that contradict each other: a postal
    /// code for another place than the address (`postal_code_mismatch`), a
    /// fixed-line phone whose area code is in a prefecture that is neither
    /// the address's nor one of its neighbours (`phone_area_mismatch`;
    /// numbering areas cross prefecture lines only between neighbours:
    /// 町田市 dials 相模原's 042-7).
    pub fn golden_warnings(&self, g: &Golden) -> Vec<GoldenWarning> {
        use crate::normalize::IssueKind;
        use crate::record::FieldType;
        let mut out = Vec::new();
        for (f, v) in g.iter().filter(|(_, v)| v.rule == "typed") {
            // The value itself stays out of the warning: a viewer sees
            // warnings, and golden values only masked.
            if self.typed_value(f, &v.value).1 {
                out.push(GoldenWarning {
                    code: "typed_value_invalid".into(),
                    fields: vec![f.clone()],
                    message: format!(
                        "{f}: the typed value cannot be read, or is not one of the field's values; \
                         it is kept as typed"
                    ),
                    params: BTreeMap::new(),
                });
            }
        }
        let of = |t: FieldType| self.schema.fields.iter().filter(move |f| f.field_type == t);
        let Some((addr, a)) = of(FieldType::Address).find_map(|f| g.get(&f.name).map(|v| (f, v)))
        else {
            return out;
        };
        let postal = of(FieldType::PostalCode).find_map(|f| g.get(&f.name).map(|v| (f, v)));
        let n = self.normalizer.normalize_address_with_postal(
            FieldType::Address,
            &a.value,
            postal.map(|(_, p)| p.value.as_str()),
        );
        if let Some(((postal, _), i)) = postal.zip(
            n.issues
                .iter()
                .find(|i| i.kind == IssueKind::PostalCodeMismatch),
        ) {
            out.push(GoldenWarning {
                code: "postal_code_mismatch".into(),
                fields: vec![postal.name.clone(), addr.name.clone()],
                message: i.message.clone(),
                params: BTreeMap::new(),
            });
        }
        let Some(prefecture) = n.part("prefecture").filter(|p| !p.is_empty()) else {
            return out;
        };
        for (phone, v) in of(FieldType::Phone).filter_map(|f| g.get(&f.name).map(|v| (f, v))) {
            let p = self.normalizer.normalize(FieldType::Phone, &v.value);
            let Some(national) = p.part("e164").and_then(|e| e.strip_prefix("+81")) else {
                continue;
            };
            let Some(area) = crate::master::phone_area(national) else {
                continue;
            };
            if crate::master::same_or_neighbouring(area.prefecture, prefecture) {
                continue;
            }
            // The area code as the number is written (`0422`), not the
            // listed prefix (`04222`).
            let code = crate::normalize::phone_jp::format_valid(national)
                .and_then(|f| f.split('-').next().map(str::to_string))
                .unwrap_or_else(|| format!("0{}", area.prefix));
            out.push(GoldenWarning {
                code: "phone_area_mismatch".into(),
                fields: vec![phone.name.clone(), addr.name.clone()],
                message: format!(
                    "the area code {code} is {} in {}, the address is in {prefecture}",
                    area.area, area.prefecture
                ),
                params: [
                    ("area_code", code),
                    ("area", area.area.to_string()),
                    ("phone_prefecture", area.prefecture.to_string()),
                    ("address_prefecture", prefecture.to_string()),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            });
        }
        out
    }

    /// Assign a proposal to a steward (`None`: unassign). Conditional on
    /// `expected_version` when given.
    pub fn assign(
        &self,
        actor: &Actor,
        id: &str,
        assignee: Option<String>,
        expected_version: Option<u64>,
    ) -> Result<Proposal> {
        self.write(|tx| {
            let mut p = Self::proposal_in(tx, id)?;
            let expected = expected_version.unwrap_or(p.version);
            if expected != p.version || !p.status.is_pending() {
                return Err(conflict(&p, "the proposal changed or was decided"));
            }
            let before = p.assignee.clone();
            p.assignee = assignee;
            p.version += 1;
            tx.update_proposal(&p, expected)?;
            tx.audit(&AuditEntry {
                seq: 0,
                at: now(),
                actor: actor.name.clone(),
                action: AuditAction::ProposalAssign,
                subject: format!("proposal:{id}"),
                before: serde_json::json!({ "assignee": before }),
                after: serde_json::json!({ "assignee": p.assignee }),
                reason: None,
            })?;
            Ok(p)
        })
    }

    /// Decide a proposal, as one idempotent write conditional on the
    /// proposal's version.
    pub fn decide(
        &self,
        actor: &Actor,
        id: &str,
        request: DecisionRequest,
        idem: Option<&IdemKey>,
    ) -> Result<Reply<Proposal>> {
        let request = DecisionRequest {
            values: self.check_shape_fields(&request.winners, &request.values)?,
            ..request
        };
        let _w = self.writer.lock().expect("writer");
        let written = self.write_once(actor, idem, |tx| {
            let mut p = Self::proposal_in(tx, id)?;
            self.decide_in(tx, actor, &mut p, &request)?;
            Ok((p, ()))
        })?;
        Ok(match written {
            Written::Fresh(p, ()) => Reply::Fresh(p),
            Written::Replay(body) => Reply::Replay(body),
        })
    }

    /// A decision's work on proposal `p`, in the caller's transaction:
    /// checked against the version the steward saw, carried out, recorded on
    /// the proposal (`p` is left as stored) and audited.
    fn decide_in(
        &self,
        tx: &mut dyn Tx,
        actor: &Actor,
        p: &mut Proposal,
        request: &DecisionRequest,
    ) -> Result<()> {
        let id = p.id.clone();
        let expected = request.version.unwrap_or(p.version);
        let allowed = match request.decision {
            Decision::Reopen => matches!(
                p.status,
                ProposalStatus::Rejected | ProposalStatus::Deferred | ProposalStatus::Approved
            ),
            _ => p.status.is_pending(),
        };
        if expected != p.version || !allowed {
            return Err(conflict(
                p,
                &format!(
                    "proposal {id} is {} (version {})",
                    p.status.as_str(),
                    p.version
                ),
            ));
        }
        let before = serde_json::json!({ "status": p.status.as_str() });
        let at = now();
        p.status = match request.decision {
            Decision::Approve => {
                self.approve_in(tx, actor, p, request, &at)?;
                label_decision(tx, p, LabelKind::Match, actor, &at)?;
                ProposalStatus::Approved
            }
            Decision::Reject => {
                tx.remember_rejection(p.a, p.b, p.versions)?;
                label_decision(tx, p, LabelKind::NonMatch, actor, &at)?;
                ProposalStatus::Rejected
            }
            Decision::Defer => ProposalStatus::Deferred,
            Decision::Reopen => {
                reopen_in(tx, p)?;
                if p.status == ProposalStatus::Approved {
                    self.undo_approval_in(tx, actor, p)?;
                }
                tx.forget_label_of_proposal(&p.id)?;
                ProposalStatus::Open
            }
        };
        p.version += 1;
        if request.decision == Decision::Reopen {
            p.decided_at = None;
            p.decided_by = None;
            p.reason = None;
        } else {
            p.decided_at = Some(at.clone());
            p.decided_by = Some(actor.name.clone());
            p.reason = request.reason.clone();
        }
        tx.update_proposal(p, expected)?;
        tx.audit(&AuditEntry {
            seq: 0,
            at,
            actor: actor.name.clone(),
            action: request.decision.audit_action(),
            subject: format!("proposal:{id}"),
            before,
            after: serde_json::json!({
                "status": p.status.as_str(),
                "winners": request.winners,
            }),
            reason: request.reason.clone(),
        })?;
        Ok(())
    }

    /// An approval's work, in its transaction: merge the two records'
    /// entities and keep the steward's winners (each a member of either).
    fn approve_in(
        &self,
        tx: &mut dyn Tx,
        actor: &Actor,
        p: &Proposal,
        request: &DecisionRequest,
        at: &str,
    ) -> Result<()> {
        let (winners, values, reason) = (&request.winners, &request.values, &request.reason);
        let a = record_in(tx, p.a)?;
        let b = record_in(tx, p.b)?;
        for rid in winners.values() {
            if *rid != a.id && *rid != b.id {
                let ea = tx.records_of_entity(&a.entity_id)?;
                let eb = tx.records_of_entity(&b.entity_id)?;
                if !ea.iter().chain(&eb).any(|r| &r.id == rid) {
                    return Err(ServiceError::Refused(format!(
                        "winner `{}` is not a member of the merged entity",
                        super::limits::shown(rid)
                    )));
                }
            }
        }
        let (ea, eb) = (entity_in(tx, &a.entity_id)?, entity_in(tx, &b.entity_id)?);
        let before = [ea.overrides, eb.overrides];
        let manual_before = [ea.manual, eb.manual];
        let merged = self.merge_entities(
            tx,
            actor,
            &a.entity_id,
            &b.entity_id,
            &format!("proposal {}", p.id),
            Some(&p.id),
        )?;
        let mut e = entity_in(tx, &merged.keep)?;
        if !winners.is_empty() || !values.is_empty() {
            e.overrides.extend(winners.clone());
            put_typed(&mut e.overrides, &mut e.manual, values, actor, at, reason);
            e.version += 1;
            e.updated_at = at.to_string();
            tx.update_entity(&e)?;
        }
        let keep_was_a = merged.keep == a.entity_id;
        let [ob_a, ob_b] = before;
        let [mb_a, mb_b] = manual_before;
        let undo = MergeUndo {
            manual_before: if keep_was_a {
                [mb_a, mb_b]
            } else {
                [mb_b, mb_a]
            },
            manual_after: e.manual,
            members: tx
                .records_of_entity(&merged.keep)?
                .iter()
                .map(|r| r.num)
                .collect(),
            before: if keep_was_a {
                [ob_a, ob_b]
            } else {
                [ob_b, ob_a]
            },
            after: e.overrides,
            keep: merged.keep,
            gone: merged.gone,
            moved: merged.moved,
            superseded: merged.superseded,
        };
        tx.put_merge_undo(&p.id, &serde_json::to_string(&undo).expect("json"))?;
        Ok(())
    }

    /// Undo an approval's merge, in its transaction: the records that moved
    /// go back, both entities take their overrides as they were, and the
    /// proposals the merge superseded are pending again. Refused (a
    /// conflict naming why) once either entity has changed since: a later
    /// merge, split, a member added or removed, another choice of values.
    fn undo_approval_in(&self, tx: &mut dyn Tx, actor: &Actor, p: &Proposal) -> Result<()> {
        let refuse = |why: String| {
            Err(conflict(
                p,
                &format!("approval of proposal {} cannot be undone: {why}", p.id),
            ))
        };
        let Some(body) = tx.merge_undo(&p.id)? else {
            return refuse(
                "it was approved before approvals could be undone; split the entity instead".into(),
            );
        };
        let undo: MergeUndo = serde_json::from_str(&body)
            .map_err(|e| StoreError::Backend(format!("undo of proposal {}: {e}", p.id)))?;
        let mut keep = entity_in(tx, &undo.keep)?;
        if let Some(into) = &keep.merged_into {
            return refuse(format!("entity {} was merged into {into} since", keep.id));
        }
        let mut members: Vec<u64> = tx
            .records_of_entity(&keep.id)?
            .iter()
            .map(|r| r.num)
            .collect();
        let mut expected = undo.members.clone();
        members.sort_unstable();
        expected.sort_unstable();
        if members != expected {
            return refuse(format!(
                "entity {} has gained or lost records since",
                keep.id
            ));
        }
        if keep.overrides != undo.after || keep.manual != undo.manual_after {
            return refuse(format!(
                "the golden record of entity {} was shaped again since",
                keep.id
            ));
        }
        let at = now();
        let mut gone = match &undo.gone {
            Some(g) => {
                let e = entity_in(tx, g)?;
                if e.merged_into.as_deref() != Some(keep.id.as_str())
                    || !tx.records_of_entity(g)?.is_empty()
                {
                    return refuse(format!("entity {g} has changed since"));
                }
                Some(e)
            }
            None => None,
        };
        let mut back = Vec::new();
        if let Some(g) = gone.as_mut() {
            for &num in &undo.moved {
                let mut r = record_in(tx, num)?;
                r.entity_id = g.id.clone();
                tx.update_record(&r)?;
                back.push(r.id);
            }
            g.merged_into = None;
            g.overrides = undo.before[1].clone();
            g.manual = undo.manual_before[1].clone();
            g.version += 1;
            g.updated_at = at.clone();
            tx.update_entity(g)?;
        }
        keep.overrides = undo.before[0].clone();
        keep.manual = undo.manual_before[0].clone();
        keep.version += 1;
        keep.updated_at = at.clone();
        tx.update_entity(&keep)?;
        for (id, status) in &undo.superseded {
            let Some(mut q) = tx.proposal(id)? else {
                continue;
            };
            if q.status != ProposalStatus::Superseded
                || tx.pending_proposal_between(q.a, q.b)?.is_some()
            {
                continue;
            }
            let expected = q.version;
            q.status = *status;
            q.version += 1;
            q.decided_at = None;
            q.decided_by = None;
            q.reason = None;
            tx.update_proposal(&q, expected)?;
        }
        let because = format!("proposal {} reopened", p.id);
        let detail = serde_json::json!({
            "from": keep.id, "to": undo.gone, "records": back, "because": because,
        });
        let mut touched = vec![keep.id.as_str()];
        touched.extend(undo.gone.as_deref());
        let entry = history(actor, HistoryAction::Unmerge, &at, &detail);
        add_history_to(tx, &touched, &entry)?;
        tx.audit(&AuditEntry {
            seq: 0,
            at,
            actor: actor.name.clone(),
            action: AuditAction::EntityUnmerge,
            subject: format!("entity:{}", keep.id),
            before: serde_json::json!({ "members": undo.members.len() }),
            after: detail,
            reason: Some(because),
        })?;
        tx.forget_merge_undo(&p.id)?;
        Ok(())
    }

    /// Approve every open proposal with `score >= min_score` that the
    /// filter's band, source and assignee (when given) select — the filters
    /// a steward sees — strongest first, each as its own decision with its
    /// own audit entry. Deferred proposals are left alone: a steward set
    /// them aside on purpose.
    pub fn bulk_approve(
        &self,
        actor: &Actor,
        min_score: f64,
        filter: &ProposalFilter,
        dry_run: bool,
    ) -> Result<BulkOutcome> {
        if !min_score.is_finite() {
            return Err(ServiceError::Invalid("min_score: a finite number".into()));
        }
        let mut todo: Vec<Proposal> = Vec::new();
        loop {
            let page = self.proposals(&ProposalFilter {
                status: Some(ProposalStatus::Open),
                band: filter.band,
                source: filter.source,
                assignee: filter.assignee.clone(),
                min_score: Some(min_score),
                sort: ProposalSort::Score,
                offset: todo.len(),
                limit: 1000,
                after: None,
            })?;
            let done = page.len() < 1000;
            todo.extend(page);
            if done {
                break;
            }
        }
        let mut out = BulkOutcome {
            dry_run,
            count: todo.len(),
            approved: Vec::new(),
            skipped: Vec::new(),
        };
        if dry_run {
            return Ok(out);
        }
        let reason = format!("bulk approval: score ≥ {min_score}");
        for p in todo {
            let request = DecisionRequest {
                decision: Decision::Approve,
                values: Default::default(),
                winners: BTreeMap::new(),
                reason: Some(reason.clone()),
                version: Some(p.version),
            };
            match self.decide(actor, &p.id, request, None) {
                Ok(_) => out.approved.push(p.id),
                Err(ServiceError::Conflict { .. }) => out.skipped.push(p.id),
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Merge entity `y` into `x` (or `x` into `y`: the older id stays, so
    /// ids downstream systems hold keep answering). Pending proposals inside
    /// the merged entity are superseded. Returns the surviving id.
    pub(crate) fn merge_entities(
        &self,
        tx: &mut dyn Tx,
        actor: &Actor,
        x: &str,
        y: &str,
        because: &str,
        proposal: Option<&str>,
    ) -> Result<Merged> {
        if x == y {
            return Ok(Merged {
                keep: x.to_string(),
                ..Merged::default()
            });
        }
        let (keep, gone) = if x < y { (x, y) } else { (y, x) };
        let moved = tx.records_of_entity(gone)?;
        let kept = tx.records_of_entity(keep)?;
        for mut r in moved.clone() {
            r.entity_id = keep.to_string();
            tx.update_record(&r)?;
        }
        let at = now();
        let mut g = entity_in(tx, gone)?;
        let mut k = entity_in(tx, keep)?;
        for (f, r) in std::mem::take(&mut g.overrides) {
            k.overrides.entry(f).or_insert(r);
        }
        for (f, m) in std::mem::take(&mut g.manual) {
            k.manual.entry(f).or_insert(m);
        }
        g.merged_into = Some(keep.to_string());
        g.version += 1;
        g.updated_at = at.clone();
        tx.update_entity(&g)?;
        k.version += 1;
        k.updated_at = at.clone();
        tx.update_entity(&k)?;
        let ids = |v: &[Record]| v.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
        let detail = serde_json::json!({
            "merged": gone, "into": keep, "records": ids(&moved), "because": because,
        });
        let entry = history(actor, HistoryAction::Merge, &at, &detail);
        add_history_to(tx, &[keep, gone], &entry)?;
        tx.audit(&AuditEntry {
            seq: 0,
            at: at.clone(),
            actor: actor.name.clone(),
            action: AuditAction::EntityMerge,
            subject: format!("entity:{keep}"),
            before: serde_json::json!({ keep: ids(&kept), gone: ids(&moved) }),
            after: serde_json::json!({ keep: ids(&kept).into_iter().chain(ids(&moved)).collect::<Vec<_>>() }),
            reason: Some(because.to_string()),
        })?;
        // Proposals between members of the merged entity have nothing left to decide.
        let members: std::collections::HashSet<u64> =
            kept.iter().chain(&moved).map(|r| r.num).collect();
        let mut superseded = Vec::new();
        for r in &moved {
            for mut p in tx.proposals_of(r.num, true)? {
                if Some(p.id.as_str()) != proposal
                    && members.contains(&p.a)
                    && members.contains(&p.b)
                {
                    let expected = p.version;
                    superseded.push((p.id.clone(), p.status));
                    p.status = ProposalStatus::Superseded;
                    p.version += 1;
                    p.decided_at = Some(at.clone());
                    p.reason = Some(format!("merged by {because}"));
                    tx.update_proposal(&p, expected)?;
                }
            }
        }
        Ok(Merged {
            keep: keep.to_string(),
            gone: Some(gone.to_string()),
            moved: moved.iter().map(|r| r.num).collect(),
            superseded,
        })
    }

    /// `GET /v1/entities/{id}`: a merged-away id answers with the entity it
    /// went into (`merged_into` says so).
    pub fn entity(&self, id: &str) -> Result<EntityView> {
        let mut view = self.read(|tx| {
            let mut e = entity_in(tx, id)?;
            let mut hops = 0;
            while let Some(next) = e.merged_into.clone() {
                hops += 1;
                if hops > 64 {
                    break;
                }
                e = entity_in(tx, &next)?;
            }
            let members = tx.records_of_entity(&e.id)?;
            let history = tx.history(&e.id)?;
            let golden = shaped(
                &self.schema,
                &self.rules.survivorship,
                &members,
                &e.overrides,
                &e.manual,
            );
            Ok(EntityView {
                entity: e,
                warnings: self.golden_warnings(&golden),
                golden,
                members,
                history,
                conflicts: Vec::new(),
            })
        })?;
        view.conflicts = self.conflicts(&view.entity.id, &view.members)?;
        Ok(view)
    }

    /// `POST /v1/entities/{id}/golden`: shape an entity's golden record —
    /// the record a field takes its value from (`winners`), a value typed
    /// for a field (`values`, kept with who, when and why), or back to the
    /// rules (`clear`). Audited.
    pub fn shape_entity(
        &self,
        actor: &Actor,
        id: &str,
        winners: &BTreeMap<String, String>,
        values: &BTreeMap<String, String>,
        clear: &[String],
        reason: Option<String>,
    ) -> Result<EntityView> {
        let values = &self.check_shape_fields(winners, values)?;
        let id = self.entity(id)?.entity.id;
        let _w = self.writer.lock().expect("writer");
        self.write(|tx| {
            let mut e = entity_in(tx, &id)?;
            let members = tx.records_of_entity(&id)?;
            let before = serde_json::json!({ "overrides": e.overrides, "manual": e.manual });
            let at = now();
            for f in clear {
                e.overrides.remove(f);
                e.manual.remove(f);
            }
            for (f, r) in winners {
                if !members.iter().any(|m| &m.id == r) {
                    return Err(ServiceError::Refused(format!(
                        "winner `{}` is not a member of entity {id}",
                        super::limits::shown(r)
                    )));
                }
                e.manual.remove(f);
                e.overrides.insert(f.clone(), r.clone());
            }
            put_typed(&mut e.overrides, &mut e.manual, values, actor, &at, &reason);
            e.version += 1;
            e.updated_at = at.clone();
            tx.update_entity(&e)?;
            tx.audit(&AuditEntry {
                seq: 0,
                at,
                actor: actor.name.clone(),
                action: AuditAction::EntityShape,
                subject: format!("entity:{id}"),
                before,
                after: serde_json::json!({ "overrides": e.overrides, "manual": e.manual }),
                reason,
            })?;
            Ok(())
        })?;
        drop(_w);
        self.entity(&id)
    }

    /// `POST /v1/entities/{id}/split`: move `records` to a new entity.
    pub fn split(
        &self,
        actor: &Actor,
        id: &str,
        records: &[String],
        reason: Option<String>,
    ) -> Result<EntityView> {
        if records.is_empty() {
            return Err(ServiceError::Invalid(
                "split: name at least one record".into(),
            ));
        }
        let mut records = records.to_vec();
        records.sort();
        records.dedup();
        let records = &records[..];
        let _w = self.writer.lock().expect("writer");
        let new_id = self.write(|tx| {
            let mut e = entity_in(tx, id)?;
            if e.merged_into.is_some() {
                return Err(ServiceError::Refused(format!(
                    "entity {id} was merged into {}; split that one",
                    e.merged_into.as_deref().unwrap_or("")
                )));
            }
            let members = tx.records_of_entity(id)?;
            for r in records {
                if !members.iter().any(|m| &m.id == r) {
                    return Err(ServiceError::Refused(format!(
                        "record `{}` is not a member of entity {id}",
                        super::limits::shown(r)
                    )));
                }
            }
            if records.len() >= members.len() {
                return Err(ServiceError::Refused(
                    "split: at least one member must stay".into(),
                ));
            }
            // Pairs a steward already labelled apart keep their label.
            let before_labels = tx.labels_within(id, usize::MAX)?;
            let apart: HashSet<(u64, u64)> = before_labels
                .iter()
                .filter(|l| l.label == LabelKind::NonMatch)
                .map(|l| (l.a.min(l.b), l.a.max(l.b)))
                .collect();
            let at = now();
            let new_id = super::new_entity(tx, &at)?;
            for m in &members {
                if records.contains(&m.id) {
                    let mut r = m.clone();
                    r.entity_id = new_id.clone();
                    tx.update_record(&r)?;
                }
            }
            let before: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
            let (taken, kept): (Vec<&Record>, Vec<&Record>) =
                members.iter().partition(|m| records.contains(&m.id));
            let labelled = label_split(tx, &taken, &kept, &apart, actor, &at)?;
            // The labels it replaced (an approval's match), for an unsplit
            // to put back.
            let replaced: Vec<serde_json::Value> = before_labels
                .iter()
                .filter(|l| labelled.contains(&(l.a.min(l.b), l.a.max(l.b))))
                .map(|l| serde_json::json!({ "a": l.a, "b": l.b, "label": l }))
                .collect();
            // An approval between the two parts no longer holds: it says so,
            // and has no merge left to undo.
            let kept_nums: HashSet<u64> = kept.iter().map(|r| r.num).collect();
            let mut superseded = Vec::new();
            for t in &taken {
                for mut q in tx.proposals_of(t.num, false)? {
                    let other = if q.a == t.num { q.b } else { q.a };
                    if q.status == ProposalStatus::Approved && kept_nums.contains(&other) {
                        let expected = q.version;
                        q.status = ProposalStatus::Superseded;
                        q.version += 1;
                        q.reason = Some(format!("split apart from entity {id}"));
                        tx.update_proposal(&q, expected)?;
                        tx.forget_merge_undo(&q.id)?;
                        superseded.push(q.id.clone());
                    }
                }
            }
            let dropped: BTreeMap<&String, &String> = e
                .overrides
                .iter()
                .filter(|(_, r)| records.contains(r))
                .collect();
            let dropped = serde_json::json!(dropped);
            e.overrides.retain(|_, r| !records.contains(r));
            e.version += 1;
            e.updated_at = at.clone();
            tx.update_entity(&e)?;
            let detail = serde_json::json!({
                "from": id,
                "to": new_id,
                "records": records,
                "replaced_labels": replaced,
                "superseded": superseded,
                "dropped_choices": dropped,
            });
            let entry = history(actor, HistoryAction::Split, &at, &detail);
            add_history_to(tx, &[id, new_id.as_str()], &entry)?;
            tx.audit(&AuditEntry {
                seq: 0,
                at,
                actor: actor.name.clone(),
                action: AuditAction::EntitySplit,
                subject: format!("entity:{id}"),
                before: serde_json::json!({ id: before }),
                after: detail,
                reason,
            })?;
            Ok(new_id)
        })?;
        drop(_w);
        let _ = new_id;
        self.entity(id)
    }

    /// `POST /v1/entities/{id}/unsplit`: undo the split that made entity
    /// `id`. Its records go back to the entity they were split from, `id`
    /// forwards to it, and the labels and remembered rejections the split
    /// left are forgotten (a later label of a pair — an audit answer —
    /// stays) and the labels it replaced put back. Exact or refused: only
    /// while `id` holds exactly the records the split moved and the other
    /// entity is still there. Approvals the split superseded are approved
    /// again (their merge can no longer be undone by itself), and golden
    /// choices it dropped come back where no other was made since. Audited.
    pub fn unsplit(&self, actor: &Actor, id: &str, reason: Option<String>) -> Result<EntityView> {
        let _w = self.writer.lock().expect("writer");
        let from = self.write(|tx| {
            let mut gone = entity_in(tx, id)?;
            if let Some(into) = &gone.merged_into {
                return Err(ServiceError::Refused(format!(
                    "entity {id} was merged into {into}: nothing to undo"
                )));
            }
            let split = tx.history(id)?.into_iter().rev().find(|h| {
                h.action == HistoryAction::Split && h.detail["to"].as_str() == Some(id)
            });
            let Some(split) = split else {
                return Err(ServiceError::Refused(format!(
                    "entity {id} was not made by a split"
                )));
            };
            let from = split.detail["from"].as_str().unwrap_or_default().to_string();
            let mut moved: Vec<String> = split.detail["records"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
                .unwrap_or_default();
            moved.sort();
            let members = tx.records_of_entity(id)?;
            let mut now_in: Vec<String> = members.iter().map(|r| r.id.clone()).collect();
            now_in.sort();
            if now_in != moved {
                return Err(ServiceError::Refused(format!(
                    "entity {id} changed since the split: it holds {} records, the split \
                     moved {}",
                    now_in.len(),
                    moved.len()
                )));
            }
            let mut keep = entity_in(tx, &from)?;
            if let Some(into) = &keep.merged_into {
                return Err(ServiceError::Refused(format!(
                    "entity {from}, split from, was merged into {into} since"
                )));
            }
            let kept = tx.records_of_entity(&from)?;
            if kept.is_empty() {
                return Err(ServiceError::Refused(format!(
                    "entity {from}, split from, has no records any more"
                )));
            }
            let at = now();
            for m in &members {
                let mut r = m.clone();
                r.entity_id = from.clone();
                tx.update_record(&r)?;
            }
            // The split's own labels (a later label of a pair replaced it
            // and stays), wherever the other record has gone since, and the
            // rejections it remembered; then the labels it replaced, where
            // no later label took their place.
            for m in &members {
                for l in tx.labels_of(m.num)? {
                    if l.source == LabelSource::Split && l.created_at == split.at {
                        tx.forget_label(l.a, l.b)?;
                        tx.forget_rejection(l.a, l.b)?;
                    }
                }
            }
            for m in &members {
                for k in &kept {
                    tx.forget_rejection(m.num, k.num)?;
                }
            }
            for r in split.detail["replaced_labels"].as_array().into_iter().flatten() {
                let (Some(a), Some(b)) = (r["a"].as_u64(), r["b"].as_u64()) else {
                    continue;
                };
                let Ok(mut l) = serde_json::from_value::<Label>(r["label"].clone()) else {
                    continue;
                };
                if tx.label(a, b)?.is_none() {
                    (l.a, l.b) = (a, b);
                    tx.put_label(&l)?;
                }
            }
            // The approvals it superseded hold again (with no merge to undo:
            // the split took it apart), and its dropped choices come back
            // where no other was made since.
            for p in split.detail["superseded"].as_array().into_iter().flatten() {
                let Some(mut q) = p.as_str().map(|p| tx.proposal(p)).transpose()?.flatten() else {
                    continue;
                };
                if q.status == ProposalStatus::Superseded
                    && q.reason.as_deref() == Some(&format!("split apart from entity {from}"))
                {
                    let expected = q.version;
                    q.status = ProposalStatus::Approved;
                    q.version += 1;
                    q.reason = None;
                    tx.update_proposal(&q, expected)?;
                }
            }
            if let Some(dropped) = split.detail["dropped_choices"].as_object() {
                for (f, r) in dropped {
                    if let Some(r) = r.as_str() {
                        if !keep.overrides.contains_key(f) && !keep.manual.contains_key(f) {
                            keep.overrides.insert(f.clone(), r.to_string());
                        }
                    }
                }
            }
            gone.merged_into = Some(from.clone());
            gone.version += 1;
            gone.updated_at = at.clone();
            tx.update_entity(&gone)?;
            keep.version += 1;
            keep.updated_at = at.clone();
            tx.update_entity(&keep)?;
            let detail = serde_json::json!({ "from": id, "to": from, "records": moved });
            let entry = history(actor, HistoryAction::Unsplit, &at, &detail);
            add_history_to(tx, &[from.as_str(), id], &entry)?;
            tx.audit(&AuditEntry {
                seq: 0,
                at,
                actor: actor.name.clone(),
                action: AuditAction::EntityUnsplit,
                subject: format!("entity:{from}"),
                before: serde_json::json!({ id: moved, from.as_str(): kept.iter().map(|r| r.id.as_str()).collect::<Vec<_>>() }),
                after: detail,
                reason,
            })?;
            Ok(from)
        })?;
        drop(_w);
        self.entity(&from)
    }

    /// Which entity a record belongs to now (the crosswalk).
    pub fn crosswalk(&self, record_id: &str) -> Result<(String, String)> {
        let r = self.record(record_id)?;
        Ok((r.id, r.entity_id))
    }

    pub fn audit(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>> {
        self.read(|tx| Ok(tx.audit_entries(f)?))
    }

    /// The keys `text` gives as each kind of value the schema searches
    /// (a name, a reading, a phone number, an e-mail address, an address …),
    /// normalized as the matcher normalizes them: spaces, width, hiragana and
    /// katakana, variant kanji, phone and e-mail notations folded.
    fn search_terms(&self, text: &str) -> Vec<String> {
        let mut types: Vec<crate::record::FieldType> = Vec::new();
        for f in &self.schema.fields {
            if f.field_type.is_searched() && !types.contains(&f.field_type) {
                types.push(f.field_type);
            }
        }
        let mut keys: Vec<String> = Vec::new();
        for t in types {
            let n = self.normalizer.normalize(t, text);
            for k in [n.key, n.value].into_iter().flatten() {
                if k.chars().count() >= 2 && !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
        keys
    }

    /// Records that hold `text`: its normalized keys within a record's
    /// match keys, or the text itself within a value as written. By id.
    pub fn search(&self, text: &str, limit: usize) -> Result<Vec<Record>> {
        if super::limits::is_blank(text) {
            return Err(ServiceError::Invalid("search: `q` is blank".into()));
        }
        let text = text.trim();
        let keys = self.search_terms(text);
        self.read(|tx| {
            let mut out: Vec<Record> = tx.search_keys(&keys, limit)?;
            for r in tx.search_records(text, limit)? {
                if !out.iter().any(|o| o.num == r.num) {
                    out.push(r);
                }
            }
            if let Some(r) = tx.record(text)? {
                if !out.iter().any(|o| o.num == r.num) {
                    out.push(r);
                }
            }
            out.sort_by(|a, b| a.id.cmp(&b.id));
            out.truncate(limit);
            Ok(out)
        })
    }

    /// `GET /v1/search`: the customers `text` finds, each with every
    /// record of its entity (not only the ones that matched) and its golden
    /// record — what a disclosure or erasure request must cover.
    pub fn search_entities(&self, text: &str, limit: usize) -> Result<SearchResult> {
        // Records, not customers, are searched: room for a few per customer.
        let records = limit.saturating_mul(4);
        let found = self.search(text, records)?;
        let more = found.len() >= records;
        self.read(|tx| {
            let mut by_entity: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for r in &found {
                by_entity
                    .entry(r.entity_id.clone())
                    .or_default()
                    .push(r.id.clone());
            }
            let truncated = more || by_entity.len() > limit;
            let mut entities = Vec::new();
            for (id, matched) in by_entity.into_iter().take(limit) {
                let e = entity_in(tx, &id)?;
                let members = tx.records_of_entity(&id)?;
                let golden = golden(
                    &self.schema,
                    &self.rules.survivorship,
                    &members,
                    &e.overrides,
                );
                entities.push(SearchHit {
                    entity_id: id,
                    matched,
                    golden,
                    members,
                });
            }
            Ok(SearchResult {
                entities,
                truncated,
            })
        })
    }
}

/// A customer search found: the entity, the records that matched, every
/// member and the golden record.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchHit {
    pub entity_id: String,
    /// The members that matched the query.
    pub matched: Vec<String>,
    pub golden: Golden,
    /// Every record of the entity.
    pub members: Vec<Record>,
}

/// What a customer search found.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SearchResult {
    pub entities: Vec<SearchHit>,
    /// More customers (or records) matched than were listed: narrow the query.
    pub truncated: bool,
}

/// A reopening's work: the pair's rejection is forgotten; refused while
/// another proposal for the pair is open.
fn reopen_in(tx: &mut dyn Tx, p: &Proposal) -> Result<()> {
    if let Some(newer) = tx.pending_proposal_between(p.a, p.b)? {
        return Err(conflict(
            &newer,
            &format!(
                "proposal {} for this pair is open; decide that one",
                newer.id
            ),
        ));
    }
    if p.status == ProposalStatus::Rejected {
        tx.forget_rejection(p.a, p.b)?;
    }
    Ok(())
}

/// The members of two entities and their choices, as one merged entity
/// would hold them (the first entity's choice wins a field both made).
fn history(
    actor: &Actor,
    action: HistoryAction,
    at: &str,
    detail: &serde_json::Value,
) -> HistoryEntry {
    HistoryEntry {
        at: at.to_string(),
        actor: actor.name.clone(),
        action,
        detail: detail.clone(),
    }
}

/// One entry in the history of each of `entities` (a merge, split or undo
/// touches two).
fn add_history_to(tx: &mut dyn Tx, entities: &[&str], entry: &HistoryEntry) -> Result<()> {
    for e in entities {
        tx.add_history(e, entry)?;
    }
    Ok(())
}

/// Keep the values a steward typed (trimmed), with who, when and why; a
/// typed value replaces a chosen record for its field.
fn put_typed(
    overrides: &mut BTreeMap<String, String>,
    manual: &mut BTreeMap<String, ManualValue>,
    values: &BTreeMap<String, String>,
    actor: &Actor,
    at: &str,
    reason: &Option<String>,
) {
    for (f, v) in values {
        overrides.remove(f);
        manual.insert(
            f.clone(),
            ManualValue {
                value: v.trim().to_string(),
                by: actor.name.clone(),
                at: at.to_string(),
                reason: reason.clone(),
            },
        );
    }
}

/// Members, chosen records per field, typed values per field.
type Shape = (
    Vec<Record>,
    BTreeMap<String, String>,
    BTreeMap<String, ManualValue>,
);

fn merged_shape(tx: &mut dyn Tx, x: &str, y: &str) -> Result<Shape> {
    let entities: &[&str] = if x == y { &[x] } else { &[x, y] };
    let mut members = Vec::new();
    for e in entities {
        members.extend(tx.records_of_entity(e)?);
    }
    let (overrides, manual) = union_choices(tx, entities)?;
    Ok((members, overrides, manual))
}

/// The stewards' choices of entities about to be one: chosen records and
/// typed values per field, the first entity's winning a field both made.
fn union_choices(
    tx: &mut dyn Tx,
    entities: &[&str],
) -> Result<(BTreeMap<String, String>, BTreeMap<String, ManualValue>)> {
    let (mut overrides, mut manual) = (BTreeMap::new(), BTreeMap::new());
    for id in entities {
        let e = entity_in(tx, id)?;
        for (k, v) in e.overrides {
            overrides.entry(k).or_insert(v);
        }
        for (k, v) in e.manual {
            manual.entry(k).or_insert(v);
        }
    }
    Ok((overrides, manual))
}

fn conflict(p: &Proposal, message: &str) -> ServiceError {
    ServiceError::Conflict {
        message: message.to_string(),
        current: serde_json::to_value(p).expect("json"),
    }
}

fn record_in(tx: &mut dyn Tx, num: u64) -> Result<Record> {
    tx.record_by_num(num)?
        .ok_or_else(|| ServiceError::not_found("record", &format!("#{num}")))
}

fn entity_in(tx: &mut dyn Tx, id: &str) -> Result<Entity> {
    tx.entity(id)?
        .ok_or_else(|| ServiceError::not_found("entity", id))
}

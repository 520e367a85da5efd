//! The store: the service's source of truth (records, entities, proposals,
//! decisions, the audit log, tokens, jobs, idempotency keys).
//!
//! [`Store`] is the interface; [`sqlite::SqliteStore`] the embedded default.
//! Every change the service makes is one [`Store::write`] transaction, so a
//! crash leaves either all of it or none of it. The interface speaks in the
//! service's terms (no SQL crosses it), so a PostgreSQL implementation is a
//! second `impl Store`, not a rewrite.
//!
//! No normalizing and no matching happen here: records arrive normalized.

pub mod sqlite;

use crate::matching::{Band, Explanation};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store: {0}")]
    Backend(String),
    #[error(
        "the store at {path} is from a newer nayose (schema {found}, this build knows {known})"
    )]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    /// A conditional write found the row changed (the caller reports 409).
    #[error("conflict")]
    Conflict,
    /// An insert named a key that is taken (a record id sent twice, …): the
    /// caller's mistake, reported as 409, not a failure of the store.
    #[error("{0} already exists")]
    Duplicate(String),
}

crate::stable_names! {
    /// Roles, weakest first; each can do what the ones before it can.
    pub enum Role {
        Viewer = "viewer",
        Ingest = "ingest",
        Steward = "steward",
        Admin = "admin",
    }
}

impl Role {
    /// Whether this role may do what `need` may. Ingest and steward are
    /// separate duties: an ingest token writes records but decides nothing,
    /// a steward decides but does not load data; admin does both.
    pub fn allows(self, need: Role) -> bool {
        match need {
            Role::Viewer => true,
            Role::Ingest => matches!(self, Role::Ingest | Role::Admin),
            Role::Steward => matches!(self, Role::Steward | Role::Admin),
            Role::Admin => self == Role::Admin,
        }
    }
}

/// One normalized field as stored: the display value and the issues.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoredField {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<String>,
    /// Parts a steward compares on their own: a company name's branch
    /// (支店・営業所・事業所…), also written at the end of `value`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parts: BTreeMap<String, String>,
}

/// A customer record as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Record {
    /// Internal number (the index's document key); never shown.
    #[serde(skip)]
    pub num: u64,
    pub id: String,
    pub source: String,
    /// Raw values as received, by field name.
    pub fields: BTreeMap<String, String>,
    /// Normalized values, by field name.
    pub normalized: BTreeMap<String, StoredField>,
    pub entity_id: String,
    /// Counts up on every update (a remembered rejection names versions).
    pub version: u64,
    pub created_at: String,
    pub updated_at: String,
    /// What matching needs of the record, prepared when it was written
    /// (`PreparedRecord::encode`): derived, never shown, `None` when not
    /// kept.
    #[serde(skip)]
    #[schema(ignore)]
    pub prepared: Option<Vec<u8>>,
    /// The record's match keys (normalized: spaces, width, kana and variant
    /// kanji folded), one per line, for search; derived, never shown.
    /// `None` on a record read back: writing it then keeps the stored keys.
    #[serde(skip)]
    #[schema(ignore)]
    pub search: Option<String>,
}

/// What matching needs of a stored record: who it is, its entity, and its
/// prepared values (when kept).
#[derive(Debug, Clone, PartialEq)]
pub struct MatchRow {
    pub num: u64,
    pub id: String,
    pub entity_id: String,
    pub prepared: Option<Vec<u8>>,
}

/// A golden record and where its members are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Entity {
    pub id: String,
    /// Set when this entity was merged into another (its id still answers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
    /// Field name → record id whose value a steward chose.
    pub overrides: BTreeMap<String, String>,
    /// Field name → a value a steward typed (a correction no member holds).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub manual: BTreeMap<String, ManualValue>,
    pub version: u64,
    pub created_at: String,
    pub updated_at: String,
}

/// A value a steward typed into a golden record: who, when and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ManualValue {
    pub value: String,
    pub by: String,
    pub at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

crate::stable_names! {
    /// Where a proposal stands.
    pub enum ProposalStatus {
        Open = "open",
        Deferred = "deferred",
        Approved = "approved",
        Rejected = "rejected",
        /// Closed without a decision: a record changed or was erased, or the
        /// two records ended up in one entity another way.
        Superseded = "superseded",
    }
}

crate::stable_names! {
    /// Where a proposal came from.
    pub enum ProposalSource {
        /// An import job's batch matching.
        Batch = "batch",
        /// A record created or updated through the API.
        Live = "live",
    }
}

impl ProposalStatus {
    /// Still waiting for a steward.
    pub fn is_pending(self) -> bool {
        matches!(self, ProposalStatus::Open | ProposalStatus::Deferred)
    }
}

/// A proposed merge of two records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Proposal {
    pub id: String,
    /// Record numbers, `a < b`.
    #[serde(skip)]
    pub a: u64,
    #[serde(skip)]
    pub b: u64,
    #[schema(value_type = Vec<String>)]
    pub record_ids: [String; 2],
    pub score: f64,
    pub probability: f64,
    pub band: Band,
    pub source: ProposalSource,
    pub status: ProposalStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Per-comparison explanation, as computed when proposed.
    pub explanation: Explanation,
    pub version: u64,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Record versions when proposed (a rejection holds for these).
    #[serde(skip)]
    #[schema(ignore)]
    pub versions: [u64; 2],
}

crate::stable_names! {
    /// What a steward said about two records.
    pub enum LabelKind {
        /// One customer.
        Match = "match",
        /// Two customers.
        NonMatch = "non_match",
    }
}

crate::stable_names! {
    /// Where a label came from.
    pub enum LabelSource {
        /// A proposal approved (match) or rejected (non-match).
        Proposal = "proposal",
        /// A split: the records taken out and the ones left are two customers.
        Split = "split",
        /// A labels file (`POST /v1/labels`).
        Import = "import",
        /// An answer to the audit of merges (`POST /v1/merge-audit`): two records
        /// held as one customer, drawn at random, looked at by a steward.
        Audit = "audit",
    }
}

/// A decided pair of records: what the stewards' decisions teach the model
/// (`GET /v1/labels`). One per pair; the latest decision wins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Label {
    /// Record numbers, `a < b`.
    #[serde(skip)]
    pub a: u64,
    #[serde(skip)]
    pub b: u64,
    pub id_a: String,
    pub id_b: String,
    pub label: LabelKind,
    pub source: LabelSource,
    /// The proposal decided, for a label from one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proposal: Option<String>,
    pub actor: String,
    pub created_at: String,
}

/// A steward's comment on a proposal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Comment {
    pub seq: u64,
    pub proposal: String,
    pub actor: String,
    pub at: String,
    pub text: String,
}

/// A new proposal.
#[derive(Debug, Clone)]
pub struct NewProposal {
    pub a: u64,
    pub b: u64,
    pub score: f64,
    pub probability: f64,
    pub band: Band,
    pub source: ProposalSource,
    pub explanation: Explanation,
    pub versions: [u64; 2],
}

#[derive(Debug, Clone, Default)]
pub struct ProposalFilter {
    pub status: Option<ProposalStatus>,
    pub band: Option<Band>,
    pub source: Option<ProposalSource>,
    pub assignee: Option<String>,
    pub min_score: Option<f64>,
    /// Proposal number to continue after (from the cursor; `ByNumber` only).
    pub after: Option<u64>,
    pub sort: ProposalSort,
    /// Rows to skip (the cursor of the sorted orders, which a number cannot continue).
    pub offset: usize,
    pub limit: usize,
}

/// How many of the most uncertain proposals `sort=informative` ranks.
pub const INFORMATIVE_POOL: usize = 1_000;

crate::stable_names! {
    /// The order of a proposal list.
    #[derive(Default)]
    pub enum ProposalSort {
        /// Oldest first (the default; pages continue after a proposal number).
        #[default]
        ByNumber = "id",
        /// Probability closest to 0.5 first: where a steward's eye adds most.
        Uncertainty = "uncertainty",
        /// Highest score first (bulk approval works down from the top).
        Score = "score",
        /// What a steward's label would teach the model most, first:
        /// uncertain pairs at the comparison levels with the fewest labels
        /// ([`crate::matching::band::LevelLabels`]). The
        /// [`INFORMATIVE_POOL`] most uncertain proposals are ranked so;
        /// after them the list goes on by uncertainty.
        Informative = "informative",
    }
}

crate::stable_names! {
    /// What an audit entry records.
    pub enum AuditAction {
        RecordCreate = "record.create",
        RecordUpdate = "record.update",
        RecordDelete = "record.delete",
        /// An APPI erasure (the entry is a PII-free tombstone).
        RecordErase = "record.erase",
        /// A batch of an import stored (the entry names the records).
        RecordImport = "record.import",
        /// A record created live joined an entity in the auto-merge band.
        EntityAutoMerge = "entity.auto_merge",
        EntityMerge = "entity.merge",
        EntitySplit = "entity.split",
        /// An approval undone: its merge reverted.
        EntityUnmerge = "entity.unmerge",
        /// A split undone: the records it moved went back.
        EntityUnsplit = "entity.unsplit",
        /// A steward shaped a golden record: chose a member's value, typed
        /// one, or gave a field back to the rules.
        EntityShape = "entity.shape",
        ProposalApprove = "proposal.approve",
        ProposalReject = "proposal.reject",
        ProposalDefer = "proposal.defer",
        ProposalReopen = "proposal.reopen",
        ProposalAssign = "proposal.assign",
        /// A steward commented on a proposal (the entry names the comment,
        /// not its text).
        ProposalComment = "proposal.comment",
        /// A new model scored an open proposal again: it took the new
        /// score, or fell below the review band (superseded), or rose into
        /// the auto-merge band (merged).
        ProposalRescore = "proposal.rescore",
        ModelTrain = "model.train",
        /// A disclosure request answered: what was disclosed (ids only).
        RequestDisclose = "request.disclose",
        /// An erasure request answered: every record of a customer erased
        /// (ids only).
        RequestErase = "request.erase",
        /// A labels file stored (`POST /v1/labels`).
        LabelsImport = "labels.import",
        /// A steward answered the audit of merges: whether two records of
        /// one entity are one customer (`POST /v1/merge-audit`).
        EntityAudit = "entity.audit",
        TokenCreate = "token.create",
        JobCancel = "job.cancel",
        /// An import cut off by a crash, finished at start-up.
        JobResume = "job.resume",
    }
}

crate::stable_names! {
    /// What an entry of an entity's history records.
    pub enum HistoryAction {
        /// The entity was created with its first record.
        Created = "created",
        /// A record created live joined it in the auto-merge band.
        AutoMerge = "auto_merge",
        Merge = "merge",
        Split = "split",
        /// An approval undone: the records its merge brought in left again.
        Unmerge = "unmerge",
        /// A split undone: the records it moved came back.
        Unsplit = "unsplit",
        MemberDeleted = "member_deleted",
        MemberErased = "member_erased",
    }
}

crate::stable_names! {
    /// What a job does.
    pub enum JobKind {
        Import = "import",
        /// Training the model on the stored records.
        Train = "train",
    }
}

crate::stable_names! {
    /// Where a job stands.
    pub enum JobStatus {
        Running = "running",
        Done = "done",
        Failed = "failed",
        /// Stopped on request (`POST /v1/jobs/{id}/cancel`).
        Cancelled = "cancelled",
    }
}

/// One line of the audit log: who did what to which thing, before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: String,
    pub actor: String,
    pub action: AuditAction,
    pub subject: String,
    /// What it was before (any JSON; null when there was nothing).
    pub before: serde_json::Value,
    /// What it is after (any JSON; `"[erased]"` once its record was erased).
    pub after: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

crate::stable_names! {
    /// Which end of the audit log comes first.
    #[derive(Default)]
    pub enum AuditOrder {
        #[default]
        Newest = "newest",
        Oldest = "oldest",
    }
}

crate::stable_names! {
    /// How the audit log is written.
    #[derive(Default)]
    pub enum AuditFormat {
        #[default]
        Json = "json",
        Csv = "csv",
    }
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<AuditAction>,
    pub subject: Option<String>,
    /// Entries whose subject, before or after names this (a record id: as
    /// a JSON string, so `R1` does not find `R10`).
    pub mentions: Option<String>,
    /// Entries at or after this time (RFC 3339, as `at` is written).
    pub since: Option<String>,
    /// Entries before this time.
    pub until: Option<String>,
    /// Newest first (then `after` is the cursor from the other side: entries
    /// numbered below it).
    pub newest_first: bool,
    pub after: Option<u64>,
    pub limit: usize,
}

/// One entry of an entity's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub at: String,
    pub actor: String,
    pub action: HistoryAction,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Token {
    pub id: u64,
    pub name: String,
    pub role: Role,
    pub created_at: String,
}

/// A background job (an import), as it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Job {
    pub id: String,
    pub kind: JobKind,
    pub status: JobStatus,
    /// What a running job is doing; null once it has ended.
    pub stage: Option<JobStage>,
    /// Rows to store (known once the file is read).
    pub total: u64,
    /// Rows stored or rejected so far.
    pub done: u64,
    pub created_at: String,
    pub finished_at: Option<String>,
    /// What the job did (an import's summary): so far while it runs, in
    /// full once it has ended; null before its file is read.
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    /// Why it failed.
    pub error: Option<String>,
    /// Someone asked to cancel it.
    pub cancel_requested: bool,
    /// It was cut off (the server stopped) and finished at the next start.
    pub resumed: bool,
    /// What finishing it after a restart needs of its request (the file's
    /// format, the source); not shown.
    #[serde(skip)]
    #[schema(ignore)]
    pub request: Option<String>,
}

crate::stable_names! {
    /// What a running job is doing.
    pub enum JobStage {
        /// Reading its file and storing the rows, batch by batch.
        Storing = "storing",
        /// Training the model if there is none, finding the candidates of
        /// the stored rows, merging and proposing.
        Matching = "matching",
        /// Training the model on every stored record.
        Training = "training",
    }
}

/// A stored answer to a write with an idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub struct Idempotent {
    pub request_hash: String,
    /// The answer, as JSON.
    pub body: String,
}

/// What a transaction can do. Reads see the transaction's own writes.
pub trait Tx {
    // records
    fn insert_record(&mut self, r: &Record) -> Result<u64, StoreError>;
    fn update_record(&mut self, r: &Record) -> Result<(), StoreError>;
    fn delete_record(&mut self, num: u64) -> Result<(), StoreError>;
    fn record(&mut self, id: &str) -> Result<Option<Record>, StoreError>;
    fn record_by_num(&mut self, num: u64) -> Result<Option<Record>, StoreError>;
    /// What matching needs of these records (gone ones left out), without
    /// reading their fields.
    fn match_rows(&mut self, nums: &[u64]) -> Result<Vec<MatchRow>, StoreError>;
    /// The entity of each of these records (gone ones left out), by number.
    fn entities_of(&mut self, nums: &[u64]) -> Result<Vec<(u64, String)>, StoreError>;
    /// Replace a record's prepared values (after the rules changed); not a
    /// change of the record.
    fn set_prepared(&mut self, num: u64, prepared: &[u8], search: &str) -> Result<(), StoreError>;
    fn records_of_entity(&mut self, entity: &str) -> Result<Vec<Record>, StoreError>;
    /// Every entity of two or more records, with their record numbers
    /// (ascending), by entity id: the pairs the service holds as one
    /// customer.
    fn merged_entities(&mut self) -> Result<Vec<(String, Vec<u64>)>, StoreError>;
    /// Records whose any normalized or raw value contains `text`, up to `limit`.
    fn search_records(&mut self, text: &str, limit: usize) -> Result<Vec<Record>, StoreError>;
    /// Records whose search keys hold any of `keys` (each as a substring),
    /// by number, up to `limit`.
    fn search_keys(&mut self, keys: &[String], limit: usize) -> Result<Vec<Record>, StoreError>;
    fn count_records(&mut self) -> Result<u64, StoreError>;
    /// Records by number, from `after` on, up to `limit` (for rebuilding the index).
    fn records_after(&mut self, after: u64, limit: usize) -> Result<Vec<Record>, StoreError>;
    /// Change log: a new change number for record `num`.
    fn log_change(&mut self, num: u64, deleted: bool) -> Result<u64, StoreError>;
    /// Changes after `seq`: (seq, record number, deleted).
    fn changes_after(
        &mut self,
        seq: u64,
        limit: usize,
    ) -> Result<Vec<(u64, u64, bool)>, StoreError>;
    fn last_change(&mut self) -> Result<u64, StoreError>;

    // entities
    fn insert_entity(&mut self, e: &Entity) -> Result<(), StoreError>;
    fn update_entity(&mut self, e: &Entity) -> Result<(), StoreError>;
    fn entity(&mut self, id: &str) -> Result<Option<Entity>, StoreError>;
    fn next_entity_id(&mut self) -> Result<String, StoreError>;
    fn add_history(&mut self, entity: &str, h: &HistoryEntry) -> Result<(), StoreError>;
    fn history(&mut self, entity: &str) -> Result<Vec<HistoryEntry>, StoreError>;

    // proposals
    fn insert_proposal(&mut self, p: &NewProposal, at: &str) -> Result<String, StoreError>;
    fn proposal(&mut self, id: &str) -> Result<Option<Proposal>, StoreError>;
    fn pending_proposal_between(&mut self, a: u64, b: u64) -> Result<Option<Proposal>, StoreError>;
    fn proposals(&mut self, f: &ProposalFilter) -> Result<Vec<Proposal>, StoreError>;
    /// Proposals of one record, pending ones only or all.
    fn proposals_of(&mut self, num: u64, pending_only: bool) -> Result<Vec<Proposal>, StoreError>;
    /// Write `p` if its stored version is still `expected`; else
    /// [`StoreError::Conflict`].
    fn update_proposal(&mut self, p: &Proposal, expected: u64) -> Result<(), StoreError>;
    fn delete_proposals_of(&mut self, num: u64) -> Result<(), StoreError>;
    /// Counts of pending proposals per band.
    fn pending_counts(&mut self) -> Result<BTreeMap<Band, u64>, StoreError>;
    fn remember_rejection(&mut self, a: u64, b: u64, versions: [u64; 2]) -> Result<(), StoreError>;
    /// Whether a rejection of (a, b) at these versions is remembered.
    fn is_rejected(&mut self, a: u64, b: u64, versions: [u64; 2]) -> Result<bool, StoreError>;
    fn forget_rejections_of(&mut self, num: u64) -> Result<(), StoreError>;
    fn forget_rejection(&mut self, a: u64, b: u64) -> Result<(), StoreError>;

    // labels
    /// Keep a label (ids are ignored: the numbers say the pair); a later
    /// label of the same pair replaces it.
    fn put_label(&mut self, l: &Label) -> Result<(), StoreError>;
    /// Drop the label a proposal's decision left (its decision was undone).
    fn forget_label_of_proposal(&mut self, proposal: &str) -> Result<(), StoreError>;
    /// Drop the label of one pair (a split undone takes its labels back).
    fn forget_label(&mut self, a: u64, b: u64) -> Result<(), StoreError>;
    /// Erasure: every label of a record goes with it.
    fn forget_labels_of(&mut self, num: u64) -> Result<(), StoreError>;

    /// Store a comment (its `seq` is given here); returns the seq.
    fn add_comment(&mut self, c: &Comment) -> Result<u64, StoreError>;
    /// A proposal's comments, oldest first.
    fn comments(&mut self, proposal: &str) -> Result<Vec<Comment>, StoreError>;

    // What undoing an approval needs (the service's JSON; gone with the
    // proposal).
    fn put_merge_undo(&mut self, proposal: &str, body: &str) -> Result<(), StoreError>;
    fn merge_undo(&mut self, proposal: &str) -> Result<Option<String>, StoreError>;
    fn forget_merge_undo(&mut self, proposal: &str) -> Result<(), StoreError>;
    /// Labels in the order they were last written, after position `after`
    /// (0: from the start), up to `limit`, each with its position.
    fn labels(&mut self, after: u64, limit: usize) -> Result<Vec<(u64, Label)>, StoreError>;
    fn count_labels(&mut self) -> Result<u64, StoreError>;
    /// Labels between two members of `entity`, oldest first, up to `limit`.
    fn labels_within(&mut self, entity: &str, limit: usize) -> Result<Vec<Label>, StoreError>;
    /// The labels of one record, wherever the other record is, oldest first.
    fn labels_of(&mut self, num: u64) -> Result<Vec<Label>, StoreError>;
    /// The label of one pair, if any.
    fn label(&mut self, a: u64, b: u64) -> Result<Option<Label>, StoreError>;

    // audit
    fn audit(&mut self, e: &AuditEntry) -> Result<u64, StoreError>;
    fn audit_entries(&mut self, f: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError>;
    /// Erasure: replace `before`/`after` of every entry about `subject` with
    /// `"[erased]"` (the only change the audit log allows).
    fn redact_audit(&mut self, subject: &str) -> Result<(), StoreError>;
    /// Erasure: drop stored idempotent answers whose body holds `text`.
    fn forget_idempotent_mentioning(&mut self, text: &str) -> Result<(), StoreError>;

    // tokens
    fn insert_token(
        &mut self,
        name: &str,
        role: Role,
        hash: &str,
        at: &str,
    ) -> Result<u64, StoreError>;
    fn token_by_hash(&mut self, hash: &str) -> Result<Option<Token>, StoreError>;

    // jobs
    fn upsert_job(&mut self, j: &Job) -> Result<(), StoreError>;
    fn job(&mut self, id: &str) -> Result<Option<Job>, StoreError>;
    fn running_jobs(&mut self) -> Result<Vec<Job>, StoreError>;
    /// Note records an import job stored (to match them if the job is cut
    /// off before it has).
    fn add_job_records(&mut self, job: &str, nums: &[u64]) -> Result<(), StoreError>;
    /// The records a job stored (gone ones left out), ascending.
    fn job_records(&mut self, job: &str) -> Result<Vec<u64>, StoreError>;
    /// Forget which records a job stored (it has matched them).
    fn forget_job_records(&mut self, job: &str) -> Result<(), StoreError>;

    // idempotency
    fn idempotent(&mut self, key: &str, actor: &str) -> Result<Option<Idempotent>, StoreError>;
    fn remember_idempotent(
        &mut self,
        key: &str,
        actor: &str,
        answer: &Idempotent,
        at: &str,
    ) -> Result<(), StoreError>;

    // key/value settings (the trained model, …)
    fn meta(&mut self, key: &str) -> Result<Option<String>, StoreError>;
    fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError>;
}

/// A store: runs transactions. `write` transactions are serialized and
/// atomic; `read` ones see a consistent snapshot and may run side by side.
pub trait Store: Send + Sync {
    fn write_dyn(
        &self,
        f: &mut dyn FnMut(&mut dyn Tx) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    fn read_dyn(
        &self,
        f: &mut dyn FnMut(&mut dyn Tx) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// Make sure nothing deleted lingers in logs or free space (erasure).
    fn flush(&self) -> Result<(), StoreError>;
}

/// Typed front door of [`Store`]: `store.write(|tx| …)` returns what the
/// closure returns; an error rolls everything back.
pub trait StoreExt {
    fn write<R>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<R, StoreError>,
    ) -> Result<R, StoreError>;
    fn read<R>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<R, StoreError>,
    ) -> Result<R, StoreError>;
}

impl<S: Store + ?Sized> StoreExt for S {
    fn write<R>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let mut f = Some(f);
        let mut out = None;
        self.write_dyn(&mut |tx| {
            let f = f.take().expect("a transaction body runs once");
            out = Some(f(tx)?);
            Ok(())
        })?;
        Ok(out.expect("committed"))
    }

    fn read<R>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let mut f = Some(f);
        let mut out = None;
        self.read_dyn(&mut |tx| {
            let f = f.take().expect("a transaction body runs once");
            out = Some(f(tx)?);
            Ok(())
        })?;
        Ok(out.expect("read"))
    }
}

/// Now, as RFC 3339 UTC with milliseconds.
pub fn now() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

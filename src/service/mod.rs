//! The review service's logic, without HTTP: live checks, record writes,
//! import jobs, proposals and decisions, entities (golden records), erasure.
//!
//! Every write is one store transaction (records, entities, proposals, the
//! audit entry and the idempotency answer together), taken under one writer
//! lock so the index sees changes in the store's order. The index is updated
//! right after the store commits; if the process dies in between, start-up
//! replays the store's change log into the index ([`Service::open`]).
//!
//! Nothing here knows about HTTP: errors are [`ServiceError`]s with stable
//! codes that the server maps to statuses.

pub mod golden;
pub mod import;
pub mod jobs;
pub mod labels;
pub mod limits;
pub mod merge_audit;
pub mod requests;
pub mod review;
pub mod train;

use crate::index::live::{LiveDoc, LiveIndex, Opened};
use crate::index::IndexError;
use crate::matching::batch;
use crate::matching::model::Model;
use crate::matching::prepare::{PreparedRecord, Preparer, TAG_LEN};
use crate::matching::{self, Band, Bands, Explanation, Frequencies, Score};
use crate::normalize::{Normalized, Normalizer};
use crate::record::FieldType;
use crate::rules::{header_key, FieldRule, Rules};
use crate::store::{
    now, AuditAction, AuditEntry, Entity, HistoryAction, HistoryEntry, Idempotent, MatchRow,
    NewProposal, ProposalSource, Record, Role, Store, StoreError, StoreExt, StoredField, Tx,
};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

/// What went wrong, in the service's terms; the server chooses the status
/// and the stable code a client sees.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A request the service cannot act on (a bad parameter, a split that
    /// names a stranger, …).
    #[error("{0}")]
    Invalid(String),
    /// A record that cannot be stored as sent (no field, a value or id over
    /// its limit, …).
    #[error("{0}")]
    InvalidRecord(String),
    #[error("unknown field `{field}` (fields: {})", known.join(", "))]
    UnknownField { field: String, known: Vec<String> },
    /// Nothing of this kind has this id (shown cut short when long).
    #[error("{what} `{}` not found", limits::shown(.id))]
    NotFound { what: &'static str, id: String },
    /// The request does not fit the current state of what it names (a
    /// winner that is not a member, a split that would leave nobody,
    /// training with too few records, a job already finished).
    #[error("{0}")]
    Refused(String),
    #[error("record `{0}` already exists")]
    RecordExists(String),
    /// The thing changed under the caller; `current` is its state now.
    #[error("{message}")]
    Conflict {
        message: String,
        current: serde_json::Value,
    },
    #[error("this idempotency key was used for a different request")]
    IdempotencyMismatch,
    #[error("no model yet: import records first, or start with --model")]
    NoModel,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Index(#[from] IndexError),
}

impl ServiceError {
    /// Nothing of this kind (`record`, `job`, …) has this id.
    pub fn not_found(what: &'static str, id: &str) -> ServiceError {
        ServiceError::NotFound {
            what,
            id: id.to_string(),
        }
    }
}

pub type Result<T> = std::result::Result<T, ServiceError>;

/// Who is acting: the token's name and role (`system` for automatic merges).
#[derive(Debug, Clone)]
pub struct Actor {
    pub name: String,
    pub role: Role,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            name: "system".into(),
            role: Role::Admin,
        }
    }
}

/// An idempotency key with the hash of the request it came with.
#[derive(Debug, Clone)]
pub struct IdemKey {
    pub key: String,
    pub request_hash: String,
}

/// A write's answer: new, or the stored answer (JSON) of an earlier
/// identical request with the same idempotency key.
#[derive(Debug)]
pub enum Reply<T> {
    Fresh(T),
    Replay(String),
}

/// What [`Service::write_once`] did: wrote (the answer and what else the
/// caller needs), or found the answer of an earlier identical request.
pub(crate) enum Written<T, X> {
    Fresh(T, X),
    Replay(String),
}

/// A record on the wire: `{"id"?, "source"?, "fields": {name: value}}`.
#[derive(Debug, Clone, Default, serde::Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordInput {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    pub fields: BTreeMap<String, String>,
}

/// A scored candidate.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Candidate {
    pub id: String,
    pub entity_id: String,
    /// Match weight (log2 odds).
    pub score: f64,
    pub probability: f64,
    pub band: Band,
    /// The prior and each comparison's term; they sum to `score`.
    pub explanation: Explanation,
    #[serde(skip)]
    pub num: u64,
}

/// What the service compares: the rule set's fields (its `id` field aside).
#[derive(Debug, Clone)]
pub struct FieldSchema {
    pub fields: Vec<FieldRule>,
    pub compare: Vec<bool>,
}

impl FieldSchema {
    pub fn from_rules(rules: &Rules) -> FieldSchema {
        let fields: Vec<FieldRule> = if rules.fields.is_empty() {
            FieldType::ALL
                .iter()
                .map(|t| FieldRule {
                    name: t.as_str().to_string(),
                    field_type: *t,
                    headers: vec![],
                    required: false,
                    allowed: vec![],
                    definition: String::new(),
                    restrictive: None,
                    survivorship: None,
                })
                .collect()
        } else {
            rules
                .fields
                .iter()
                .filter(|f| header_key(&f.name) != "id")
                .cloned()
                .collect()
        };
        let compare = fields
            .iter()
            .map(|f| rules.is_compared(&f.name, Some(f)))
            .collect();
        FieldSchema { fields, compare }
    }

    pub fn names(&self) -> Vec<String> {
        self.fields.iter().map(|f| f.name.clone()).collect()
    }

    pub fn position(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// The type of field `name`, if the schema has it.
    pub fn type_of(&self, name: &str) -> Option<FieldType> {
        self.position(name).map(|i| self.fields[i].field_type)
    }

    /// Whether field `name` holds public business data (see
    /// [`FieldType::is_public`]); an unknown field is not public.
    pub fn is_public(&self, name: &str) -> bool {
        self.type_of(name).is_some_and(FieldType::is_public)
    }
}

/// A record normalized for storing and matching.
pub struct Prepared {
    pub normalized: BTreeMap<String, StoredField>,
    pub record: PreparedRecord,
    /// The match keys of the key fields, one per line (`Record::search`).
    pub search: String,
}

pub struct Service {
    pub(crate) store: Arc<dyn Store>,
    pub rules: Rules,
    pub normalizer: Normalizer,
    pub schema: FieldSchema,
    pub preparer: Preparer,
    /// Where the rules' thresholds put a weight.
    pub bands: Bands,
    model: RwLock<Option<Arc<Model>>>,
    index: LiveIndex,
    /// Serializes writes so the index applies them in the store's order.
    writer: Mutex<()>,
    /// Index commits are batched: commit when this many changes wait.
    pub commit_every: usize,
    model_pinned: bool,
    startup: IndexStartup,
    /// The start of the rules' fingerprint, which leads every prepared
    /// record the store keeps (one written under other rules is not used).
    tag: [u8; TAG_LEN],
    /// Where running import jobs keep their files.
    jobs_dir: std::path::PathBuf,
    /// The cancel flag of each job running in this process.
    cancels: Mutex<HashMap<String, Arc<std::sync::atomic::AtomicBool>>>,
    /// Held while deciding whether to start a training by itself, so two
    /// creates do not both start one.
    training_check: Mutex<()>,
}

/// What start-up did to the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexStartup {
    /// `Fresh`: built again from every record (missing, unreadable, or
    /// built for other rules); `Existing`: caught up.
    pub opened: Opened,
    /// Records added (fresh) or changes replayed (existing).
    pub replayed: u64,
}

/// Term frequencies from the live index of stored (indexed) records, each
/// looked up as asked (for pairs of many different records, scored on any
/// thread).
pub(crate) struct IndexFrequencies<'a>(pub(crate) &'a LiveIndex);

impl Frequencies for IndexFrequencies<'_> {
    fn freq(&self, comparison: usize, level: u8, key: &str) -> f64 {
        self.0.freq(comparison, level, key, true)
    }
}

/// Which values of a scored (left) record the live index counts, so that a
/// value's frequency is its share among the *other* records
/// ([`matching::share_of_others`]).
#[derive(Clone, Copy)]
pub(crate) enum Counted<'a> {
    /// The scored records are stored and indexed: every value.
    All,
    /// The record is being created, or checked with no copy indexed: none.
    Nothing,
    /// A stored record checked or updated with values of its own: those
    /// its indexed copy holds too (`plan` names each comparison's
    /// comparator).
    Copy {
        copy: &'a PreparedRecord,
        plan: &'a [matching::Comparison],
    },
}

impl Counted<'_> {
    fn counts(&self, comparison: usize, level: u8, key: &str) -> bool {
        match self {
            Counted::All => true,
            Counted::Nothing => false,
            Counted::Copy { copy, plan } => copy.values[comparison]
                .as_ref()
                .is_some_and(|v| v.tf_key(plan[comparison].comparator, level) == key),
        }
    }
}

/// Term frequencies from the live index for one record scored against its
/// candidates: the key looked up is the record's own value, so each is
/// looked up once instead of once per candidate.
pub(crate) struct RememberedFrequencies<'a> {
    index: &'a LiveIndex,
    /// Which of the scored record's values the index counts.
    counted: Counted<'a>,
    /// The key and frequency looked up last, by (comparison, level).
    memo: std::cell::RefCell<HashMap<(usize, u8), (String, f64)>>,
}

impl<'a> RememberedFrequencies<'a> {
    pub(crate) fn new(index: &'a LiveIndex, counted: Counted<'a>) -> Self {
        RememberedFrequencies {
            index,
            counted,
            memo: Default::default(),
        }
    }
}

impl Frequencies for RememberedFrequencies<'_> {
    fn freq(&self, comparison: usize, level: u8, key: &str) -> f64 {
        if let Some((k, f)) = self.memo.borrow().get(&(comparison, level)) {
            if k == key {
                return *f;
            }
        }
        let counted = self.counted.counts(comparison, level, key);
        let f = self.index.freq(comparison, level, key, counted);
        self.memo
            .borrow_mut()
            .insert((comparison, level), (key.to_string(), f));
        f
    }
}

/// The fingerprint of what the index is built from: when the rules or the
/// field schema change, it is rebuilt.
fn fingerprint(rules: &Rules, schema: &FieldSchema, preparer: &Preparer) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(format!("{:?}", rules.options).as_bytes());
    h.update(format!("{:?}", rules.dictionary).as_bytes());
    h.update(format!("{:?}", rules.matching).as_bytes());
    for f in &schema.fields {
        h.update(format!("{}:{}|", f.name, f.field_type.as_str()).as_bytes());
    }
    h.update(format!("{:?}", preparer.blocking).as_bytes());
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(matching::PREPARE_VERSION.to_le_bytes());
    h.update(SEARCH_VERSION.to_le_bytes());
    hex::encode(h.finalize())
}

const MODEL_KEY: &str = "model";

/// The version of the search keys kept with each record (`Prepared::search`):
/// part of the fingerprint, so a store prepares its records again when it
/// changes (1: the first keys).
const SEARCH_VERSION: u32 = 1;

/// The model the store keeps, when it fits these rules. One trained under
/// other rules (other fields or comparisons) cannot score these records: it
/// is left unused and a new one is trained at start-up
/// ([`Service::finish_interrupted_work`]).
fn stored_model(store: &dyn Store, preparer: &Preparer) -> Result<Option<Model>> {
    let Some(text) = store.read(|tx| tx.meta(MODEL_KEY))? else {
        return Ok(None);
    };
    let fits = Model::from_toml(&text)
        .map_err(|e| e.to_string())
        .and_then(|m| {
            m.check_fits(&preparer.plan)
                .map(|()| m)
                .map_err(|e| e.to_string())
        });
    match fits {
        Ok(m) => Ok(Some(m)),
        Err(why) => {
            tracing::warn!("the stored model is not used ({why}); a new one will be trained");
            Ok(None)
        }
    }
}
/// Which rules the records' kept prepared values are for (hex tag).
const PREPARED_TAG: &str = "prepared_tag";

impl Service {
    /// Open the service over a store; its data directory holds the index
    /// (`index/`, checked against the store and rebuilt or caught up) and
    /// the files of running imports (`jobs/`). Interrupted imports are
    /// finished by [`Service::resume_jobs`], which the caller runs once the
    /// service is shared.
    pub fn open(
        store: Arc<dyn Store>,
        data_dir: &Path,
        rules: Rules,
        model: Option<Model>,
    ) -> Result<Service> {
        let index_dir = data_dir.join("index");
        let jobs_dir = data_dir.join("jobs");
        std::fs::create_dir_all(&jobs_dir).map_err(|e| {
            ServiceError::Store(StoreError::Backend(format!(
                "cannot create {}: {e}",
                jobs_dir.display()
            )))
        })?;
        let normalizer = Normalizer::new(&rules);
        let schema = FieldSchema::from_rules(&rules);
        for i in rules.ignore_unused(schema.fields.iter().map(|f| (f.name.as_str(), Some(f)))) {
            tracing::warn!(
                "[matching] ignore names `{i}`, which is no field of the rules \
                 (by name or header): it leaves nothing out"
            );
        }
        let names = schema.names();
        let types: Vec<FieldType> = schema.fields.iter().map(|f| f.field_type).collect();
        let preparer = Preparer::new(&names, &types, &schema.compare, &rules.matching);
        let tf_levels: Vec<(usize, u8)> = preparer
            .plan
            .iter()
            .enumerate()
            .flat_map(|(ci, c)| c.comparator.tf_levels().iter().map(move |&l| (ci, l)))
            .collect();
        let fp = fingerprint(&rules, &schema, &preparer);
        let (index, opened) = LiveIndex::open(&index_dir, &preparer.blocking, &tf_levels, &fp)?;
        let model_pinned = model.is_some();
        let model = match model {
            Some(m) => {
                m.check_fits(&preparer.plan).map_err(|e| {
                    ServiceError::Invalid(format!(
                        "--model: {e}. The service compares its rules' fields by their \
                             names ({}); a model saved by `nayose dedupe --save-model` fits only \
                             when that file's columns were those fields under those names. \
                             Without --model the service trains its own on the records it holds",
                        preparer
                            .plan
                            .iter()
                            .map(|c| c.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?;
                Some(m)
            }
            // Until one is trained, the rules' starting weights match.
            None => Some(
                stored_model(&*store, &preparer)?
                    .unwrap_or_else(|| matching::starting_model(&preparer.plan, &rules.start)),
            ),
        };
        let bands = Bands::new(&rules.matching);
        let service = Service {
            store,
            rules,
            normalizer,
            schema,
            preparer,
            bands,
            model: RwLock::new(model.map(Arc::new)),
            index,
            writer: Mutex::new(()),
            commit_every: 2000,
            model_pinned,
            startup: IndexStartup {
                opened,
                replayed: 0,
            },
            tag: {
                let bytes = hex::decode(&fp).expect("a fingerprint is hex");
                bytes[..TAG_LEN]
                    .try_into()
                    .expect("a fingerprint is 32 bytes")
            },
            jobs_dir,
            cancels: Mutex::default(),
            training_check: Mutex::default(),
        };
        let mut service = service;
        service.startup.replayed = service.catch_up(opened)?;
        service.refresh_prepared(opened == Opened::Fresh)?;
        Ok(service)
    }

    /// Bring the index up to the store: replay changes after the index's
    /// last commit, or add every record to a fresh index.
    fn catch_up(&self, opened: Opened) -> Result<u64> {
        let last = self.store.read(|tx| tx.last_change())?;
        let mut replayed = 0;
        match opened {
            Opened::Fresh => {
                let mut after = 0;
                loop {
                    let batch = self.store.read(|tx| tx.records_after(after, 4096))?;
                    let Some(last_rec) = batch.last() else { break };
                    after = last_rec.num;
                    let docs: Vec<(u64, LiveDoc)> = self
                        .kept_prepared(&batch)?
                        .into_iter()
                        .map(|(num, p)| (num, self.live_doc(&p)))
                        .collect();
                    for (num, doc) in docs {
                        self.index.upsert(last, num, doc)?;
                        replayed += 1;
                    }
                }
                self.index.advance_seq(last);
                // Committed, in one segment.
                self.index.compact()?;
            }
            Opened::Existing { seq } => {
                let mut from = seq;
                loop {
                    let changes = self.store.read(|tx| tx.changes_after(from, 4096))?;
                    let Some(&(s, _, _)) = changes.last() else {
                        break;
                    };
                    for (seq, num, _) in changes {
                        replayed += 1;
                        match self.store.read(|tx| tx.record_by_num(num))? {
                            Some(r) => {
                                let doc = self.live_doc(&self.prepared_of(&r));
                                self.index.upsert(seq, num, doc)?
                            }
                            None => self.index.delete(seq, num)?,
                        }
                    }
                    from = s;
                }
            }
        }
        self.index.commit()?;
        Ok(replayed)
    }

    /// The prepared values of a batch of stored records; those kept under
    /// other rules (or not kept) are prepared again and the store's copy
    /// replaced.
    fn kept_prepared(&self, batch: &[Record]) -> Result<Vec<(u64, PreparedRecord)>> {
        use rayon::prelude::*;
        let found: Vec<(u64, PreparedRecord, Option<String>)> = batch
            .par_iter()
            .map(|r| match self.kept(r.prepared.as_deref()) {
                Some(p) => (r.num, p, None),
                None => {
                    let p = self.prepare_stored(r);
                    (r.num, p.record, Some(p.search))
                }
            })
            .collect();
        if found.iter().any(|f| f.2.is_some()) {
            self.store.write(|tx| {
                for (num, p, search) in &found {
                    if let Some(search) = search {
                        tx.set_prepared(*num, &self.encode(p), search)?;
                    }
                }
                Ok(())
            })?;
        }
        Ok(found.into_iter().map(|(n, p, _)| (n, p)).collect())
    }

    /// Keep every record's prepared values under the current rules (after
    /// the rules changed, or in a store from before they were kept); the
    /// store remembers which rules its copies are for.
    fn refresh_prepared(&self, index_rebuilt: bool) -> Result<()> {
        let tag = hex::encode(self.tag);
        if self.store.read(|tx| tx.meta(PREPARED_TAG))?.as_deref() == Some(tag.as_str()) {
            return Ok(());
        }
        // A rebuilt index has just done this for every record.
        if !index_rebuilt {
            let mut after = 0;
            loop {
                let batch = self.store.read(|tx| tx.records_after(after, 4096))?;
                let Some(last) = batch.last() else { break };
                after = last.num;
                self.kept_prepared(&batch)?;
            }
        }
        self.store.write(|tx| tx.set_meta(PREPARED_TAG, &tag))?;
        Ok(())
    }

    /// What start-up did to the index.
    pub fn startup(&self) -> IndexStartup {
        self.startup
    }

    /// One store transaction whose body may fail with a [`ServiceError`]
    /// (which rolls it back and is returned as it was).
    pub(crate) fn write<R>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<R>) -> Result<R> {
        self.transaction(true, f)
    }

    /// A read-only transaction, as [`Service::write`].
    pub(crate) fn read<R>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<R>) -> Result<R> {
        self.transaction(false, f)
    }

    fn transaction<R>(&self, write: bool, f: impl FnOnce(&mut dyn Tx) -> Result<R>) -> Result<R> {
        let mut failed = None;
        let body = |tx: &mut dyn Tx| {
            f(tx).map_err(|e| match e {
                ServiceError::Store(s) => s,
                other => {
                    failed = Some(other);
                    StoreError::Backend("rolled back".into())
                }
            })
        };
        let r = if write {
            self.store.write(body)
        } else {
            self.store.read(body)
        };
        match (r, failed) {
            (_, Some(e)) => Err(e),
            (Ok(v), None) => Ok(v),
            (Err(e), None) => Err(e.into()),
        }
    }

    pub fn model(&self) -> Option<Arc<Model>> {
        self.model.read().expect("model").clone()
    }

    /// The bands a model puts pairs in: calibrated from labels when it was
    /// trained with enough of them, else the rules'.
    pub fn bands_of(&self, model: &Model) -> Bands {
        match &model.calibrated {
            Some(c) => Bands {
                match_weight: Model::weight_for(c.match_threshold),
                review_weight: Model::weight_for(c.review_threshold),
            },
            None => self.bands,
        }
    }

    /// Use this model from now on, and keep it in the store.
    pub fn set_model(&self, m: Model) -> Result<()> {
        m.check_fits(&self.preparer.plan)
            .map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let text = m.to_toml();
        self.store.write(|tx| tx.set_meta(MODEL_KEY, &text))?;
        *self.model.write().expect("model") = Some(Arc::new(m));
        Ok(())
    }

    pub fn model_pinned(&self) -> bool {
        self.model_pinned
    }

    pub fn index(&self) -> &LiveIndex {
        &self.index
    }

    pub fn store(&self) -> &dyn Store {
        &*self.store
    }

    /// Check a record's fields as they came: at least one, each a field
    /// of the rules, each value within [`limits::check_value`].
    pub fn check_fields(&self, fields: &BTreeMap<String, String>) -> Result<()> {
        if fields.is_empty() {
            return Err(ServiceError::InvalidRecord(format!(
                "a record needs at least one field (fields: {})",
                self.schema.names().join(", ")
            )));
        }
        for (name, value) in fields {
            if self.schema.position(name).is_none() {
                return Err(ServiceError::UnknownField {
                    field: limits::shown(name),
                    known: self.schema.names(),
                });
            }
            limits::check_value(name, value)?;
        }
        Ok(())
    }

    /// Check a whole wire record: its fields, and its id and source when
    /// it has them.
    pub fn check_input(&self, input: &RecordInput) -> Result<()> {
        if let Some(id) = &input.id {
            limits::check_id(id)?;
        }
        if let Some(source) = &input.source {
            limits::check_source(source)?;
        }
        self.check_fields(&input.fields)
    }

    /// Normalize a record's fields (by schema position; missing = empty).
    pub fn prepare(&self, fields: &BTreeMap<String, String>) -> Prepared {
        let raw: Vec<&str> = self
            .schema
            .fields
            .iter()
            .map(|f| fields.get(&f.name).map(String::as_str).unwrap_or(""))
            .collect();
        let postal = self
            .schema
            .fields
            .iter()
            .position(|f| f.field_type == FieldType::PostalCode)
            .map(|p| raw[p]);
        let all: Vec<(usize, Normalized)> = self
            .schema
            .fields
            .iter()
            .enumerate()
            .map(|(c, f)| (c, self.normalizer.normalize_field(f, raw[c], postal)))
            .collect();
        let record = self.preparer.from_normalized(&self.normalizer, &all);
        let mut search = String::new();
        for (c, n) in &all {
            let t = self.schema.fields[*c].field_type;
            if let Some(k) = n
                .key
                .as_deref()
                .filter(|k| !k.is_empty() && t.is_searched())
            {
                if !search.is_empty() {
                    search.push('\n');
                }
                search.push_str(k);
            }
        }
        let normalized = all
            .into_iter()
            .filter(|(c, _)| fields.contains_key(&self.schema.fields[*c].name))
            .map(|(c, n)| {
                (
                    self.schema.fields[c].name.clone(),
                    StoredField {
                        // A branch is part of the name a customer goes by:
                        // shown, kept in the golden record, compared on its own.
                        value: match (n.value.clone(), n.part("branch")) {
                            (Some(v), Some(b)) if !b.is_empty() && !v.contains(b) => {
                                Some(format!("{v} {b}"))
                            }
                            (v, _) => v,
                        },
                        parts: n
                            .part("branch")
                            .filter(|b| !b.is_empty())
                            .map(|b| BTreeMap::from([("branch".to_string(), b.to_string())]))
                            .unwrap_or_default(),
                        issues: n
                            .issues
                            .iter()
                            .map(|i| format!("{}: {}", i.kind, i.message))
                            .collect(),
                    },
                )
            })
            .collect();
        Prepared {
            normalized,
            record,
            search,
        }
    }

    pub(crate) fn prepare_stored(&self, r: &Record) -> Prepared {
        self.prepare(&r.fields)
    }

    pub(crate) fn live_doc(&self, p: &PreparedRecord) -> LiveDoc {
        let mut tf = Vec::new();
        for (ci, (c, v)) in self.preparer.plan.iter().zip(&p.values).enumerate() {
            if let Some(v) = v {
                for &l in c.comparator.tf_levels() {
                    tf.push((ci, l, v.tf_key(c.comparator, l).into_owned()));
                }
            }
        }
        LiveDoc {
            keys: p.keys.clone(),
            tf,
        }
    }

    /// Score a pair of prepared records (the term frequencies looked up on
    /// `mine`'s values).
    pub(crate) fn score_pair(
        &self,
        model: &Model,
        mine: &PreparedRecord,
        other: &PreparedRecord,
        freq: &dyn Frequencies,
    ) -> Score {
        let plan = &self.preparer.plan;
        let mut levels = Vec::with_capacity(plan.len());
        batch::compare_values(plan, &mine.values, &other.values, &mut levels);
        matching::score(model, plan, &levels, freq, |c| mine.values[c].as_ref())
    }

    /// The explanation of a score, fields named as the rules name them.
    pub(crate) fn explain(&self, model: &Model, score: &Score) -> Explanation {
        Explanation::of(model, &self.preparer.plan, score, |c| {
            self.schema.fields[c].name.as_str()
        })
    }

    /// Score a prepared record (not stored) against stored ones, best first.
    pub(crate) fn score_against(
        &self,
        model: &Model,
        mine: &PreparedRecord,
        others: &[(MatchRow, PreparedRecord)],
        counted: Counted,
    ) -> Vec<Candidate> {
        let freq = RememberedFrequencies::new(&self.index, counted);
        let mut out: Vec<Candidate> = others
            .iter()
            .map(|(r, p)| {
                let s = self.score_pair(model, mine, p, &freq);
                Candidate {
                    id: r.id.clone(),
                    entity_id: r.entity_id.clone(),
                    score: s.weight,
                    probability: s.probability(),
                    band: self.bands_of(model).of(s.weight),
                    explanation: self.explain(model, &s),
                    num: r.num,
                }
            })
            .collect();
        out.sort_by(|x, y| y.score.total_cmp(&x.score).then(x.id.cmp(&y.id)));
        out
    }

    /// Stored records by number (gone ones skipped), prepared for matching:
    /// the prepared values kept with each record, or (written under other
    /// rules) prepared again from its fields.
    pub(crate) fn load_prepared(&self, nums: &[u64]) -> Result<Vec<(MatchRow, PreparedRecord)>> {
        let rows = self.read(|tx| Ok(tx.match_rows(nums)?))?;
        // A check's dozen candidates on this thread; an import's thousands
        // on all of them.
        use rayon::prelude::*;
        let decode = |r: MatchRow| {
            let p = self.kept(r.prepared.as_deref());
            (r, p)
        };
        let decoded: Vec<(MatchRow, Option<PreparedRecord>)> = if rows.len() > 256 {
            rows.into_par_iter().map(decode).collect()
        } else {
            rows.into_iter().map(decode).collect()
        };
        let stale: Vec<u64> = decoded
            .iter()
            .filter(|(_, p)| p.is_none())
            .map(|(r, _)| r.num)
            .collect();
        let mut again: HashMap<u64, PreparedRecord> = HashMap::new();
        if !stale.is_empty() {
            let records = self.read(|tx| {
                let mut v = Vec::with_capacity(stale.len());
                for &n in &stale {
                    v.extend(tx.record_by_num(n)?);
                }
                Ok(v)
            })?;
            again = records
                .par_iter()
                .map(|r| (r.num, self.prepare_stored(r).record))
                .collect();
        }
        Ok(decoded
            .into_iter()
            .filter_map(|(r, p)| {
                let p = p.or_else(|| again.remove(&r.num))?;
                Some((r, p))
            })
            .collect())
    }

    /// A stored record's prepared values: those kept with it when written
    /// under these rules, else prepared again from its fields.
    pub(crate) fn prepared_of(&self, r: &Record) -> PreparedRecord {
        self.kept(r.prepared.as_deref())
            .unwrap_or_else(|| self.prepare_stored(r).record)
    }

    /// Prepared values as the store keeps them, when made under these rules.
    fn kept(&self, bytes: Option<&[u8]>) -> Option<PreparedRecord> {
        PreparedRecord::decode(bytes?, &self.tag)
    }

    /// A prepared record as the store keeps it.
    pub(crate) fn encode(&self, p: &PreparedRecord) -> Vec<u8> {
        p.encode(&self.tag)
    }

    /// A record about to be stored for the first time (number 0 until the
    /// store gives it one), with its prepared values kept beside it.
    pub(crate) fn new_record(
        &self,
        input: &RecordInput,
        id: &str,
        prepared: &Prepared,
        entity_id: &str,
        at: &str,
    ) -> Record {
        Record {
            num: 0,
            id: id.to_string(),
            source: input.source.clone().unwrap_or_default(),
            fields: input.fields.clone(),
            normalized: prepared.normalized.clone(),
            entity_id: entity_id.to_string(),
            version: 1,
            created_at: at.to_string(),
            updated_at: at.to_string(),
            prepared: Some(self.encode(&prepared.record)),
            search: Some(prepared.search.clone()),
        }
    }

    /// The candidates of a prepared record, scored, best first.
    pub(crate) fn candidates_of(
        &self,
        p: &PreparedRecord,
        itself: Option<u64>,
    ) -> Result<Vec<Candidate>> {
        let model = self.model().ok_or(ServiceError::NoModel)?;
        let (nums, _) = self.index.candidates(&p.keys, itself)?;
        let others = self.load_prepared(&nums)?;
        // A stored record's indexed copy is not one of the others its
        // values are counted among.
        let copy = match itself {
            Some(num) if self.index.holds(num)? > 0 => self.load_prepared(&[num])?.pop(),
            _ => None,
        };
        let counted = match &copy {
            Some((_, copy)) => Counted::Copy {
                copy,
                plan: &self.preparer.plan,
            },
            None => Counted::Nothing,
        };
        Ok(self.score_against(&model, p, &others, counted))
    }

    /// `POST /v1/records/check`: candidates for a record, nothing written.
    pub fn check(&self, input: &RecordInput, limit: usize) -> Result<Vec<Candidate>> {
        self.check_input(input)?;
        let p = self.prepare(&input.fields);
        let itself = match &input.id {
            Some(id) => self.store.read(|tx| tx.record(id))?.map(|r| r.num),
            None => None,
        };
        let mut c = self.candidates_of(&p.record, itself)?;
        c.truncate(limit);
        Ok(c)
    }

    /// One idempotent write. With a key, the stored answer of an earlier
    /// identical request is returned instead of writing again (a different
    /// request under the same key is [`ServiceError::IdempotencyMismatch`]);
    /// otherwise `f` runs in one store transaction, and its answer (`.0`) is
    /// kept under the key in that same transaction. `.1` is what the caller
    /// needs besides the answer (change numbers for the index).
    pub(crate) fn write_once<T: Serialize, X>(
        &self,
        actor: &Actor,
        idem: Option<&IdemKey>,
        f: impl FnOnce(&mut dyn Tx) -> Result<(T, X)>,
    ) -> Result<Written<T, X>> {
        self.write(|tx| {
            if let Some(k) = idem {
                match tx.idempotent(&k.key, &actor.name)? {
                    Some(prev) if prev.request_hash == k.request_hash => {
                        return Ok(Written::Replay(prev.body));
                    }
                    Some(_) => return Err(ServiceError::IdempotencyMismatch),
                    None => {}
                }
            }
            let (answer, extra) = f(tx)?;
            if let Some(k) = idem {
                let body = serde_json::to_string(&answer).expect("answers serialize");
                tx.remember_idempotent(
                    &k.key,
                    &actor.name,
                    &Idempotent {
                        request_hash: k.request_hash.clone(),
                        body,
                    },
                    &now(),
                )?;
            }
            Ok(Written::Fresh(answer, extra))
        })
    }

    /// Commit the index when enough changes wait (called after writes).
    pub(crate) fn maybe_commit(&self) -> Result<()> {
        if self.index.uncommitted() >= self.commit_every {
            self.index.commit()?;
        }
        Ok(())
    }

    /// Commit the index now (a timer calls this so changes do not wait long).
    pub fn commit_index(&self) -> Result<()> {
        if self.index.uncommitted() > 0 {
            self.index.commit()?;
        }
        Ok(())
    }
}

/// The answer to a create.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreateOutcome {
    pub record: Record,
    /// Candidates found at creation, best first.
    pub candidates: Vec<Candidate>,
    /// Set when the record was merged automatically (auto-merge band).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_with: Option<String>,
    /// Proposals opened for the review band.
    pub proposals: Vec<String>,
    /// Why the record was stored without being matched, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_matched: Option<String>,
}

impl Service {
    /// `POST /v1/records`: store a record, check it, and act on the result:
    /// the best auto-merge candidate's entity takes it in; review-band
    /// candidates become proposals (unless a steward rejected that pair).
    /// All candidates are acted on; the answer lists the best `limit`.
    pub fn create(
        &self,
        actor: &Actor,
        input: RecordInput,
        idem: Option<&IdemKey>,
        limit: usize,
    ) -> Result<Reply<CreateOutcome>> {
        self.check_input(&input)?;
        let prepared = self.prepare(&input.fields);
        let doc = self.live_doc(&prepared.record);
        // The search runs before the writer lock, so creates search side by
        // side; under the lock only what changed since is looked at again.
        let at = self.index.position();
        let early = match self.candidates_of(&prepared.record, None) {
            Err(ServiceError::NoModel) => None,
            other => Some(other?),
        };
        let _w = self.writer.lock().expect("writer");
        // Without a model a record is stored unmatched (and says so).
        let candidates = match early {
            None => None,
            Some(c) => Some(self.catch_up_candidates(&prepared.record, c, at)?),
        };
        let not_matched = candidates
            .is_none()
            .then(|| ServiceError::NoModel.to_string());
        let candidates = candidates.unwrap_or_default();
        let written = self.write_once(actor, idem, |tx| {
            let (mut out, seq, num) = self.insert_and_match(
                tx,
                actor,
                &input,
                &prepared,
                candidates,
                ProposalSource::Live,
            )?;
            out.not_matched = not_matched.clone();
            out.candidates.truncate(limit);
            Ok((out, (seq, num)))
        })?;
        let (outcome, (seq, num)) = match written {
            Written::Replay(body) => return Ok(Reply::Replay(body)),
            Written::Fresh(outcome, at) => (outcome, at),
        };
        self.index.upsert(seq, num, doc)?;
        drop(_w);
        self.maybe_commit()?;
        Ok(Reply::Fresh(outcome))
    }

    /// Candidates found at index position `at`, brought up to the present
    /// (call under the writer lock): records changed since are scored again,
    /// records created since are added; after a commit, search again.
    fn catch_up_candidates(
        &self,
        p: &PreparedRecord,
        mut found: Vec<Candidate>,
        at: (u64, u64),
    ) -> Result<Vec<Candidate>> {
        let now = self.index.position();
        if now == at {
            return Ok(found);
        }
        if now.0 != at.0 {
            return self.candidates_of(p, None);
        }
        let (changed, matching) = self.index.changed_after(&p.keys, at.1);
        found.retain(|c| !changed.contains(&c.num));
        if matching.is_empty() {
            return Ok(found);
        }
        let model = self.model().ok_or(ServiceError::NoModel)?;
        let others = self.load_prepared(&matching)?;
        found.extend(self.score_against(&model, p, &others, Counted::Nothing));
        found.sort_by(|x, y| y.score.total_cmp(&x.score).then(x.id.cmp(&y.id)));
        Ok(found)
    }

    /// Insert one record and act on its candidates, inside a transaction.
    /// Returns the outcome, the change number and the record number.
    pub(crate) fn insert_and_match(
        &self,
        tx: &mut dyn Tx,
        actor: &Actor,
        input: &RecordInput,
        prepared: &Prepared,
        candidates: Vec<Candidate>,
        source: ProposalSource,
    ) -> Result<(CreateOutcome, u64, u64)> {
        // Entities may have merged since the candidates were scored.
        let nums: Vec<u64> = candidates.iter().map(|c| c.num).collect();
        let mut now_in: HashMap<u64, String> = tx.entities_of(&nums)?.into_iter().collect();
        let mut candidates = candidates;
        candidates.retain_mut(|c| match now_in.remove(&c.num) {
            Some(e) => {
                c.entity_id = e;
                true
            }
            None => false,
        });
        let id = match &input.id {
            Some(id) => {
                if tx.record(id)?.is_some() {
                    return Err(ServiceError::RecordExists(id.clone()));
                }
                id.clone()
            }
            None => next_record_id(tx)?,
        };
        let at = now();
        let best_match = candidates.iter().find(|c| c.band == Band::Match);
        let entity_id = match best_match {
            Some(c) => c.entity_id.clone(),
            None => new_entity(tx, &at)?,
        };
        let mut record = self.new_record(input, &id, prepared, &entity_id, &at);
        record.num = tx.insert_record(&record)?;
        let seq = tx.log_change(record.num, false)?;
        tx.audit(&AuditEntry {
            seq: 0,
            at: at.clone(),
            actor: actor.name.clone(),
            action: AuditAction::RecordCreate,
            subject: format!("record:{id}"),
            before: serde_json::Value::Null,
            after: serde_json::to_value(&record.fields).expect("json"),
            reason: None,
        })?;
        let mut merged_with = None;
        if let Some(c) = best_match {
            merged_with = Some(c.id.clone());
            tx.add_history(
                &entity_id,
                &HistoryEntry {
                    at: at.clone(),
                    actor: "system".into(),
                    action: HistoryAction::AutoMerge,
                    detail: serde_json::json!({"record": id, "matched": c.id, "score": c.score}),
                },
            )?;
            tx.audit(&AuditEntry {
                seq: 0,
                at: at.clone(),
                actor: "system".into(),
                action: AuditAction::EntityAutoMerge,
                subject: format!("entity:{entity_id}"),
                before: serde_json::Value::Null,
                after: serde_json::json!({"record": id, "matched": c.id, "score": c.score}),
                reason: Some(format!("on behalf of {}", actor.name)),
            })?;
        } else {
            tx.add_history(
                &entity_id,
                &HistoryEntry {
                    at: at.clone(),
                    actor: actor.name.clone(),
                    action: HistoryAction::Created,
                    detail: serde_json::json!({"record": id}),
                },
            )?;
        }
        let mut proposals = Vec::new();
        for c in &candidates {
            let propose =
                c.band == Band::Review || (c.band == Band::Match && c.entity_id != entity_id);
            if !propose || c.entity_id == entity_id {
                continue;
            }
            if let Some(p) = self.propose(tx, &record, c, source)? {
                proposals.push(p);
            }
        }
        let num = record.num;
        Ok((
            CreateOutcome {
                record,
                candidates,
                merged_with,
                proposals,
                not_matched: None,
            },
            seq,
            num,
        ))
    }

    /// Open a proposal between a record and a candidate, unless one is
    /// pending or a steward rejected the pair at these versions.
    pub(crate) fn propose(
        &self,
        tx: &mut dyn Tx,
        record: &Record,
        c: &Candidate,
        source: ProposalSource,
    ) -> Result<Option<String>> {
        let Some(other) = tx.record_by_num(c.num)? else {
            return Ok(None);
        };
        let scored = PairScore {
            weight: c.score,
            band: c.band,
            explanation: &c.explanation,
        };
        propose_pair(tx, record, &other, scored, source)
    }

    /// `GET /v1/records/{id}`.
    pub fn record(&self, id: &str) -> Result<Record> {
        self.store
            .read(|tx| tx.record(id))?
            .ok_or_else(|| ServiceError::not_found("record", id))
    }

    /// `PUT /v1/records/{id}`: replace the fields; re-normalized, re-indexed
    /// and re-matched. Pending proposals of the record are superseded (they
    /// scored the old values) and new ones opened from the new candidates.
    pub fn update(
        &self,
        actor: &Actor,
        id: &str,
        fields: BTreeMap<String, String>,
        idem: Option<&IdemKey>,
        limit: usize,
    ) -> Result<Reply<CreateOutcome>> {
        self.check_fields(&fields)?;
        let prepared = self.prepare(&fields);
        let doc = self.live_doc(&prepared.record);
        let _w = self.writer.lock().expect("writer");
        let old = self.record(id)?;
        // Without a model the new values are stored unmatched (and it says so).
        let (candidates, not_matched) = match self.candidates_of(&prepared.record, Some(old.num)) {
            Err(ServiceError::NoModel) => (Vec::new(), Some(ServiceError::NoModel.to_string())),
            other => (other?, None),
        };
        let written = self.write_once(actor, idem, |tx| {
            let mut rec = tx
                .record(id)?
                .ok_or_else(|| ServiceError::not_found("record", id))?;
            let before = serde_json::to_value(&rec.fields).expect("json");
            rec.fields = fields.clone();
            rec.normalized = prepared.normalized.clone();
            rec.prepared = Some(self.encode(&prepared.record));
            rec.search = Some(prepared.search.clone());
            rec.version += 1;
            rec.updated_at = now();
            tx.update_record(&rec)?;
            let seq = tx.log_change(rec.num, false)?;
            for mut p in tx.proposals_of(rec.num, true)? {
                let expected = p.version;
                p.status = crate::store::ProposalStatus::Superseded;
                p.version += 1;
                p.decided_at = Some(now());
                p.reason = Some(format!("record {id} changed"));
                tx.update_proposal(&p, expected)?;
            }
            tx.audit(&AuditEntry {
                seq: 0,
                at: rec.updated_at.clone(),
                actor: actor.name.clone(),
                action: AuditAction::RecordUpdate,
                subject: format!("record:{id}"),
                before,
                after: serde_json::to_value(&rec.fields).expect("json"),
                reason: None,
            })?;
            let mut proposals = Vec::new();
            for c in &candidates {
                if c.band.is_candidate_match() && c.entity_id != rec.entity_id {
                    if let Some(p) = self.propose(tx, &rec, c, ProposalSource::Live)? {
                        proposals.push(p);
                    }
                }
            }
            let out = CreateOutcome {
                record: rec,
                candidates: candidates.iter().take(limit).cloned().collect(),
                merged_with: None,
                proposals,
                not_matched,
            };
            Ok((out, seq))
        })?;
        match written {
            Written::Replay(body) => Ok(Reply::Replay(body)),
            Written::Fresh(out, seq) => {
                self.index.upsert(seq, out.record.num, doc)?;
                drop(_w);
                self.maybe_commit()?;
                Ok(Reply::Fresh(out))
            }
        }
    }

    /// `DELETE /v1/records/{id}` (`erase`: the APPI erasure — the audit
    /// log's copies of its values are redacted too, and the log keeps only a
    /// PII-free tombstone).
    pub fn delete(
        &self,
        actor: &Actor,
        id: &str,
        erase: bool,
        reason: Option<String>,
    ) -> Result<()> {
        let _w = self.writer.lock().expect("writer");
        let (seq, num) = self.write(|tx| {
            let rec = tx
                .record(id)?
                .ok_or_else(|| ServiceError::not_found("record", id))?;
            tx.delete_proposals_of(rec.num)?;
            tx.forget_rejections_of(rec.num)?;
            tx.forget_labels_of(rec.num)?;
            tx.delete_record(rec.num)?;
            let seq = tx.log_change(rec.num, true)?;
            let mut entity = tx.entity(&rec.entity_id)?;
            if let Some(e) = entity.as_mut() {
                e.overrides.retain(|_, r| r != id);
                // The last record erased: what stewards typed about the
                // person goes too, with the log's copies of it.
                if erase && tx.records_of_entity(&e.id)?.is_empty() {
                    e.manual.clear();
                    tx.redact_audit(&format!("entity:{}", e.id))?;
                }
                e.version += 1;
                e.updated_at = now();
                tx.update_entity(e)?;
            }
            let subject = format!("record:{id}");
            if erase {
                tx.redact_audit(&subject)?;
                tx.forget_idempotent_mentioning(&serde_json::to_string(id).expect("json"))?;
            }
            tx.add_history(
                &rec.entity_id,
                &HistoryEntry {
                    at: now(),
                    actor: actor.name.clone(),
                    action: if erase {
                        HistoryAction::MemberErased
                    } else {
                        HistoryAction::MemberDeleted
                    },
                    detail: serde_json::json!({"record": id}),
                },
            )?;
            tx.audit(&AuditEntry {
                seq: 0,
                at: now(),
                actor: actor.name.clone(),
                action: if erase {
                    AuditAction::RecordErase
                } else {
                    AuditAction::RecordDelete
                },
                subject,
                before: if erase {
                    serde_json::Value::Null
                } else {
                    serde_json::to_value(&rec.fields).expect("json")
                },
                after: serde_json::Value::Null,
                reason,
            })?;
            Ok((seq, rec.num))
        })?;
        self.index.delete(seq, num)?;
        if erase {
            self.index.purge(num)?;
            self.store.flush()?;
        }
        drop(_w);
        self.maybe_commit()?;
        Ok(())
    }
}

/// How a pair scored, for its proposal.
pub(crate) struct PairScore<'a> {
    pub weight: f64,
    pub band: Band,
    pub explanation: &'a Explanation,
}

/// Open a proposal between two stored records, unless one is pending for
/// the pair or a steward rejected the pair at these versions; its id. The
/// one rule for live and batch proposals.
pub(crate) fn propose_pair(
    tx: &mut dyn Tx,
    x: &Record,
    y: &Record,
    scored: PairScore,
    source: ProposalSource,
) -> Result<Option<String>> {
    let (a, b) = if x.num < y.num { (x, y) } else { (y, x) };
    let versions = [a.version, b.version];
    if tx.pending_proposal_between(a.num, b.num)?.is_some()
        || tx.is_rejected(a.num, b.num, versions)?
    {
        return Ok(None);
    }
    let id = tx.insert_proposal(
        &NewProposal {
            a: a.num,
            b: b.num,
            score: scored.weight,
            probability: Model::probability(scored.weight),
            band: scored.band,
            source,
            explanation: scored.explanation.clone(),
            versions,
        },
        &now(),
    )?;
    Ok(Some(id))
}

/// A new entity with no members yet; returns its id.
pub(crate) fn new_entity(tx: &mut dyn Tx, at: &str) -> Result<String> {
    let e = Entity {
        id: tx.next_entity_id()?,
        merged_into: None,
        overrides: BTreeMap::new(),
        manual: Default::default(),
        version: 1,
        created_at: at.to_string(),
        updated_at: at.to_string(),
    };
    tx.insert_entity(&e)?;
    Ok(e.id)
}

/// A new record id (`R0000001`, …), skipping ids that imports already use.
pub(crate) fn next_record_id(tx: &mut dyn Tx) -> Result<String> {
    let mut n: u64 = tx
        .meta("next_record_id")?
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let id = loop {
        let id = format!("R{n:07}");
        n += 1;
        if tx.record(&id)?.is_none() {
            break id;
        }
    };
    tx.set_meta("next_record_id", &n.to_string())?;
    Ok(id)
}

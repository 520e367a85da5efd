//! The embedded store: one SQLite file, `nayose.db`, in the service's data
//! directory.
//!
//! Concurrency. One writer connection behind a mutex runs every write as
//! `BEGIN IMMEDIATE … COMMIT`: writes are serialized in-process anyway, and
//! taking the write lock up front means a transaction never fails half-way
//! through on a lock another writer took. Reads run on separate read-only
//! connections (a small pool); in WAL mode they read the last committed
//! state while a write is in progress, and each read is one transaction so
//! that all its statements see the same snapshot.
//!
//! Durability. `synchronous=NORMAL` in WAL mode: a committed transaction
//! survives the process dying (what the service must withstand); a power
//! cut may lose the last few commits but never leaves a torn database.
//!
//! Schema. [`MIGRATIONS`] lists the steps in order; `PRAGMA user_version`
//! counts those applied, so opening applies only the missing ones, and a
//! file from a newer build (more steps than this one knows) is refused
//! rather than misread. Row numbers the outside world keeps (record and
//! proposal numbers, sequence numbers) are `AUTOINCREMENT`: a number once
//! handed out is never reused after a delete, so a stale reference finds
//! nothing instead of a stranger.
//!
//! Integrity the store itself enforces, so that a service bug fails the
//! transaction instead of corrupting the data:
//! - foreign keys, checked at commit (`DEFERRABLE INITIALLY DEFERRED`, so
//!   rows may be written in any order within a transaction): a record's
//!   entity must exist; an erased record must first lose its proposals
//!   ([`Tx::delete_proposals_of`]) and rejections
//!   ([`Tx::forget_rejections_of`]);
//! - a proposal's records are ordered (`a < b`), and at most one proposal
//!   per pair is pending;
//! - the audit log is append-only: triggers refuse `UPDATE` and `DELETE`.
//!
//! Cursors: proposals, audit entries (oldest first), records and changes
//! are listed in ascending number; `after` is the last number the caller
//! has seen, and `limit` the most rows to return (0 returns none).

use super::{
    AuditAction, AuditEntry, AuditFilter, Comment, Entity, HistoryAction, HistoryEntry, Idempotent,
    Job, JobKind, JobStage, JobStatus, Label, LabelKind, LabelSource, MatchRow, NewProposal,
    Proposal, ProposalFilter, ProposalSort, ProposalSource, ProposalStatus, Record, Role, Store,
    StoreError, Token, Tx,
};
use crate::matching::Band;
use rusqlite::types::{Type, Value};
use rusqlite::{
    ffi, params, params_from_iter, Connection, OpenFlags, OptionalExtension, Row,
    TransactionBehavior,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// The database file in a store's directory.
pub const FILE: &str = "nayose.db";
/// Idle read connections kept open; a burst of readers opens more, and the
/// extra ones are closed when done. Enough for every request the blocking
/// pool runs at once under load: opening a connection (and warming its
/// statement cache) per request cost more than the request itself.
const READERS: usize = 32;
/// Another process (a backup, the CLI) may hold the lock briefly; waiting
/// beats failing a request.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Room for every fixed statement plus the filter combinations in use.
const STATEMENT_CACHE: usize = 64;
/// The entity-id counter, in `meta`, under a name the service won't pick.
const NEXT_ENTITY: &str = "store.next_entity_id";

/// Schema steps, oldest first. Never edit a released step: a database that
/// already applied it would not see the change; add a step instead.
const MIGRATIONS: &[&str] = &[
    SCHEMA_1, SCHEMA_2, SCHEMA_3, SCHEMA_4, SCHEMA_5, SCHEMA_6, SCHEMA_7, SCHEMA_8, SCHEMA_9,
    SCHEMA_10,
];

/// Labels may come from the audit of merges. SQLite cannot change a CHECK,
/// so the table is built again; its rows keep their `seq`, and the sequence
/// goes on from where it was (a number once handed out is not reused).
const SCHEMA_10: &str = r#"
CREATE TABLE labels_new (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    a INTEGER NOT NULL REFERENCES records(num) DEFERRABLE INITIALLY DEFERRED,
    b INTEGER NOT NULL REFERENCES records(num) DEFERRABLE INITIALLY DEFERRED,
    label TEXT NOT NULL CHECK (label IN ('match', 'non_match')),
    source TEXT NOT NULL CHECK (source IN ('proposal', 'split', 'import', 'audit')),
    proposal INTEGER,
    actor TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CHECK (a < b)
) STRICT;
INSERT INTO labels_new (seq, a, b, label, source, proposal, actor, created_at)
    SELECT seq, a, b, label, source, proposal, actor, created_at FROM labels ORDER BY seq;
DELETE FROM sqlite_sequence WHERE name = 'labels_new';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'labels_new', seq FROM sqlite_sequence WHERE name = 'labels';
DROP TABLE labels;
ALTER TABLE labels_new RENAME TO labels;
CREATE UNIQUE INDEX labels_pair ON labels(a, b);
CREATE INDEX labels_b ON labels(b);
CREATE INDEX labels_proposal ON labels(proposal);
"#;

/// Values stewards typed into golden records.
const SCHEMA_9: &str = "ALTER TABLE entities ADD COLUMN manual TEXT NOT NULL DEFAULT '{}';";

/// Stewards' comments on proposals; gone with their proposal (an erasure
/// deletes a record's proposals, and so what was said about them).
const SCHEMA_8: &str = r#"
CREATE TABLE comments (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    proposal INTEGER NOT NULL
        REFERENCES proposals(num) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    text TEXT NOT NULL
) STRICT;
CREATE INDEX comments_proposal ON comments(proposal);
"#;

/// Each record's match keys, for search (filled when the service prepares
/// the records again at start).
const SCHEMA_7: &str = "ALTER TABLE records ADD COLUMN search TEXT;";

/// What undoing an approval needs: the two entities as they were before its
/// merge and as the merge left them (the service's JSON, opaque here). Gone
/// with its proposal.
const SCHEMA_6: &str = r#"
CREATE TABLE merge_undo (
    proposal INTEGER PRIMARY KEY
        REFERENCES proposals(num) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    body TEXT NOT NULL
) STRICT;
"#;

/// Labels: the pairs stewards decided (approve = match, reject = non-match,
/// a split = non-match between the parts) and pairs imported from a labels
/// file. `seq` orders them by their last write. The decided proposals of a
/// store made before are labels from the start.
const SCHEMA_5: &str = r#"
CREATE TABLE labels (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    a INTEGER NOT NULL REFERENCES records(num) DEFERRABLE INITIALLY DEFERRED,
    b INTEGER NOT NULL REFERENCES records(num) DEFERRABLE INITIALLY DEFERRED,
    label TEXT NOT NULL CHECK (label IN ('match', 'non_match')),
    source TEXT NOT NULL CHECK (source IN ('proposal', 'split', 'import')),
    proposal INTEGER,
    actor TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CHECK (a < b)
) STRICT;
CREATE UNIQUE INDEX labels_pair ON labels(a, b);
CREATE INDEX labels_b ON labels(b);
CREATE INDEX labels_proposal ON labels(proposal);
INSERT OR REPLACE INTO labels (a, b, label, source, proposal, actor, created_at)
    SELECT a, b, CASE status WHEN 'approved' THEN 'match' ELSE 'non_match' END,
           'proposal', num, COALESCE(decided_by, ''), COALESCE(decided_at, created_at)
    FROM proposals WHERE status IN ('approved', 'rejected') ORDER BY num;
"#;

/// Each record's prepared values for matching, kept beside it.
const SCHEMA_2: &str = "ALTER TABLE records ADD COLUMN prepared BLOB;";

/// An idempotent answer is replayed with the status its route gives: the
/// store keeps the body only.
const SCHEMA_3: &str = "ALTER TABLE idempotency DROP COLUMN status;";

/// Jobs say their stage, whether cancelling was asked for and whether they
/// were finished after a restart, and keep what that needs: the request's
/// parameters, and the records stored so far (forgotten once matched).
const SCHEMA_4: &str = r#"
ALTER TABLE jobs ADD COLUMN stage TEXT;
ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN resumed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN request TEXT;
CREATE TABLE job_records (
    job TEXT NOT NULL REFERENCES jobs(id) DEFERRABLE INITIALLY DEFERRED,
    num INTEGER NOT NULL
        REFERENCES records(num) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (job, num)
) STRICT, WITHOUT ROWID;
CREATE INDEX job_records_num ON job_records(num);
"#;

const SCHEMA_1: &str = r#"
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE entities (
    id TEXT PRIMARY KEY,
    merged_into TEXT REFERENCES entities(id) DEFERRABLE INITIALLY DEFERRED,
    overrides TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE entity_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entity TEXT NOT NULL REFERENCES entities(id) DEFERRABLE INITIALLY DEFERRED,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
) STRICT;
CREATE INDEX entity_history_entity ON entity_history(entity);

CREATE TABLE records (
    num INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    fields TEXT NOT NULL,
    normalized TEXT NOT NULL,
    entity TEXT NOT NULL REFERENCES entities(id) DEFERRABLE INITIALLY DEFERRED,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX records_entity ON records(entity);

CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    num INTEGER NOT NULL,
    deleted INTEGER NOT NULL
) STRICT;

CREATE TABLE proposals (
    num INTEGER PRIMARY KEY AUTOINCREMENT,
    a INTEGER NOT NULL REFERENCES records(num) DEFERRABLE INITIALLY DEFERRED,
    b INTEGER NOT NULL REFERENCES records(num) DEFERRABLE INITIALLY DEFERRED,
    a_version INTEGER NOT NULL,
    b_version INTEGER NOT NULL,
    score REAL NOT NULL,
    probability REAL NOT NULL,
    band TEXT NOT NULL,
    source TEXT NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('open', 'deferred', 'approved', 'rejected', 'superseded')),
    assignee TEXT,
    explanation TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    decided_at TEXT,
    decided_by TEXT,
    reason TEXT,
    CHECK (a < b)
) STRICT;
CREATE INDEX proposals_status ON proposals(status);
CREATE INDEX proposals_a ON proposals(a);
CREATE INDEX proposals_b ON proposals(b);
CREATE UNIQUE INDEX proposals_pending_pair ON proposals(a, b)
    WHERE status IN ('open', 'deferred');

CREATE TABLE rejections (
    a INTEGER NOT NULL REFERENCES records(num) DEFERRABLE INITIALLY DEFERRED,
    b INTEGER NOT NULL REFERENCES records(num) DEFERRABLE INITIALLY DEFERRED,
    a_version INTEGER NOT NULL,
    b_version INTEGER NOT NULL,
    PRIMARY KEY (a, b),
    CHECK (a < b)
) STRICT;
CREATE INDEX rejections_b ON rejections(b);

CREATE TABLE audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    before TEXT NOT NULL,
    after TEXT NOT NULL,
    reason TEXT
) STRICT;
CREATE INDEX audit_subject ON audit(subject);
CREATE INDEX audit_actor ON audit(actor);
-- The one change allowed: erasure blanks an entry's values, nothing else.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
WHEN NOT (NEW.before = '"[erased]"' AND NEW.after = '"[erased]"'
          AND NEW.seq = OLD.seq AND NEW.at = OLD.at AND NEW.actor = OLD.actor
          AND NEW.action = OLD.action AND NEW.subject = OLD.subject
          AND NEW.reason IS OLD.reason)
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TABLE tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    total INTEGER NOT NULL,
    done INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    result TEXT NOT NULL,
    error TEXT
) STRICT;
CREATE INDEX jobs_status ON jobs(status);

CREATE TABLE idempotency (
    key TEXT NOT NULL,
    actor TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (key, actor)
) STRICT;
"#;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

/// The SQLite store. Cheap to share (`Arc`); all methods take `&self`.
pub struct SqliteStore {
    path: PathBuf,
    // Declared (so dropped) before the writer: the last connection to close
    // folds the log back into the file and removes it, and only the writer
    // may.
    readers: Mutex<Vec<Connection>>,
    writer: Mutex<Connection>,
}

impl SqliteStore {
    /// Open the store in `dir` (created if missing), bringing its schema up
    /// to date.
    pub fn open(dir: &Path) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Backend(format!("creating {}: {e}", dir.display())))?;
        let path = dir.join(FILE);
        let at = |e: rusqlite::Error| StoreError::Backend(format!("{}: {e}", path.display()));
        let mut conn = Connection::open(&path).map_err(at)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(at)?;
        // Before anything is changed: a newer build's file is left as found.
        schema_version(&conn, &path)?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(at)?;
        if !mode.eq_ignore_ascii_case("wal") {
            // Without WAL every read would wait for the writer (and the
            // other way round): refuse rather than serve slowly and oddly.
            return Err(StoreError::Backend(format!(
                "{}: the file system does not allow WAL mode (journal mode {mode})",
                path.display()
            )));
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(at)?;
        conn.pragma_update(None, "foreign_keys", true).map_err(at)?;
        // Erasure means gone from the file too: deleted rows are overwritten
        // with zeros, not left in free pages.
        conn.pragma_update(None, "secure_delete", true)
            .map_err(at)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        migrate(&mut conn, &path)?;
        Ok(SqliteStore {
            path,
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// SQLite's own check of the file's structure (for start-up and after a
    /// restore); the problems it lists, if any, are the error.
    pub fn integrity_check(&self) -> Result<(), StoreError> {
        let conn = self.reader()?;
        let problems = {
            let mut stmt = conn.prepare("PRAGMA integrity_check")?;
            let rows = stmt.query_map([], |row| row.get::<_, String>(0))?;
            rows.collect::<rusqlite::Result<Vec<String>>>()?
        };
        self.give_back(conn);
        if problems.len() == 1 && problems[0] == "ok" {
            Ok(())
        } else {
            Err(StoreError::Backend(format!(
                "{}: integrity check failed: {}",
                self.path.display(),
                problems.join("; ")
            )))
        }
    }

    fn reader(&self) -> Result<Connection, StoreError> {
        if let Some(conn) = lock(&self.readers).pop() {
            return Ok(conn);
        }
        let at = |e: rusqlite::Error| StoreError::Backend(format!("{}: {e}", self.path.display()));
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(at)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(at)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(conn)
    }

    fn give_back(&self, conn: Connection) {
        // A connection still inside a transaction (its rollback failed)
        // would hand its old snapshot to the next reader: close it instead.
        if !conn.is_autocommit() {
            return;
        }
        let mut pool = lock(&self.readers);
        if pool.len() < READERS {
            pool.push(conn);
        }
    }
}

impl Store for SqliteStore {
    fn write_dyn(
        &self,
        f: &mut dyn FnMut(&mut dyn Tx) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut conn = lock(&self.writer);
        // Dropped without commit (an error, a panic) it rolls back.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        f(&mut SqlTx { conn: &tx })?;
        tx.commit().map_err(commit_error)
    }

    /// Copy the write-ahead log into the database and empty it, so erased
    /// rows' old page images do not linger in the `-wal` file. Readers in
    /// the middle of a read can keep the log from emptying; it is retried by
    /// the next erasure and at close.
    fn flush(&self) -> Result<(), StoreError> {
        let conn = lock(&self.writer);
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    fn read_dyn(
        &self,
        f: &mut dyn FnMut(&mut dyn Tx) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut conn = self.reader()?;
        let result = read_on(&mut conn, f);
        self.give_back(conn);
        result
    }
}

fn read_on(
    conn: &mut Connection,
    f: &mut dyn FnMut(&mut dyn Tx) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
    f(&mut SqlTx { conn: &tx })?;
    tx.commit()?;
    Ok(())
}

/// A panic inside a transaction body poisons the mutex, but the transaction
/// was rolled back as the panic unwound, so the connection is sound.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How many migration steps the file has had; a file from a newer build is
/// [`StoreError::TooNew`].
fn schema_version(conn: &Connection, path: &Path) -> Result<usize, StoreError> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let known = MIGRATIONS.len();
    match usize::try_from(found) {
        Ok(version) if version <= known => Ok(version),
        Ok(_) => Err(StoreError::TooNew {
            path: path.display().to_string(),
            found,
            known: known as i64,
        }),
        Err(_) => Err(StoreError::Backend(format!(
            "{}: schema version {found} is not one nayose writes",
            path.display()
        ))),
    }
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    // Looked at again under the write lock: another process may have
    // migrated since the first look.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let from = schema_version(&tx, path)?;
    for (done, step) in MIGRATIONS.iter().enumerate().skip(from) {
        // user_version is in the file header, so it commits (or rolls back)
        // together with the step.
        tx.execute_batch(step).map_err(|e| {
            StoreError::Backend(format!("{}: migration {}: {e}", path.display(), done + 1))
        })?;
        tx.pragma_update(None, "user_version", done + 1)?;
    }
    tx.commit()?;
    Ok(())
}

/// Foreign keys are checked at commit; say which rule a refused commit broke.
fn commit_error(e: rusqlite::Error) -> StoreError {
    if constraint(&e) == Some(ffi::SQLITE_CONSTRAINT_FOREIGNKEY) {
        StoreError::Backend(
            "commit refused: a row would point at a missing one (a record whose entity \
             was not written, or an erased record whose proposals or rejections remain)"
                .into(),
        )
    } else {
        e.into()
    }
}

fn constraint(e: &rusqlite::Error) -> Option<i32> {
    match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Some(f.extended_code)
        }
        _ => None,
    }
}

/// Map a unique-key violation to [`StoreError::Duplicate`] naming `what`.
fn or_duplicate(what: impl FnOnce() -> String) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| match constraint(&e) {
        Some(ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY) => {
            StoreError::Duplicate(what())
        }
        _ => e.into(),
    }
}

fn missing(what: String) -> StoreError {
    StoreError::Backend(format!("{what} not found"))
}

/// Numbers past SQLite's signed range saturate: as a cursor or a limit that
/// means "nothing after" or "no limit", which is what such a value asks.
fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn sql_limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_json<T: Serialize + ?Sized>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Backend(format!("encoding JSON: {e}")))
}

fn bad_column(
    idx: usize,
    e: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, e.into())
}

/// A column holding one of a vocabulary's stable names (`parse`).
fn name_column<T>(row: &Row<'_>, idx: usize, parse: fn(&str) -> Option<T>) -> rusqlite::Result<T> {
    let text = row.get_ref(idx)?.as_str().map_err(|e| bad_column(idx, e))?;
    parse(text).ok_or_else(|| bad_column(idx, format!("unknown name {text:?}")))
}

fn json_column<T: DeserializeOwned>(row: &Row<'_>, idx: usize) -> rusqlite::Result<T> {
    let text = row.get_ref(idx)?.as_str().map_err(|e| bad_column(idx, e))?;
    serde_json::from_str(text).map_err(|e| bad_column(idx, e))
}

/// `(a, b)` with `a < b`, the versions following their records.
fn ordered(a: u64, b: u64, versions: [u64; 2]) -> (u64, u64, [u64; 2]) {
    if a <= b {
        (a, b, versions)
    } else {
        (b, a, [versions[1], versions[0]])
    }
}

/// A LIKE pattern matching `text` anywhere, `%` and `_` taken literally.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

macro_rules! select_records {
    ($rest:literal) => {
        concat!(
            "SELECT num, id, source, fields, normalized, entity, version, created_at, updated_at, \
             prepared FROM records ",
            $rest
        )
    };
}

fn record_row(row: &Row<'_>) -> rusqlite::Result<Record> {
    Ok(Record {
        num: row.get(0)?,
        id: row.get(1)?,
        source: row.get(2)?,
        fields: json_column(row, 3)?,
        normalized: json_column(row, 4)?,
        entity_id: row.get(5)?,
        version: row.get(6)?,
        created_at: row.get(7)?,
        updated_at: row.get(8)?,
        prepared: row.get(9)?,
        search: None,
    })
}

macro_rules! select_entities {
    ($rest:literal) => {
        concat!(
            "SELECT id, merged_into, overrides, version, created_at, updated_at, manual \
             FROM entities ",
            $rest
        )
    };
}

fn entity_row(row: &Row<'_>) -> rusqlite::Result<Entity> {
    Ok(Entity {
        id: row.get(0)?,
        merged_into: row.get(1)?,
        overrides: json_column(row, 2)?,
        manual: json_column(row, 6)?,
        version: row.get(3)?,
        created_at: row.get(4)?,
        updated_at: row.get(5)?,
    })
}

/// Record ids come from the records themselves: a proposal never outlives
/// its records (the foreign keys see to it), so the join drops nothing.
macro_rules! select_proposals {
    ($rest:literal) => {
        concat!(
            "SELECT p.num, p.a, p.b, ra.id, rb.id, p.score, p.probability, p.band, p.source, \
             p.status, p.assignee, p.explanation, p.version, p.created_at, p.decided_at, \
             p.decided_by, p.reason, p.a_version, p.b_version \
             FROM proposals p JOIN records ra ON ra.num = p.a JOIN records rb ON rb.num = p.b ",
            $rest
        )
    };
}

fn proposal_row(row: &Row<'_>) -> rusqlite::Result<Proposal> {
    let num: u64 = row.get(0)?;
    Ok(Proposal {
        id: num.to_string(),
        a: row.get(1)?,
        b: row.get(2)?,
        record_ids: [row.get(3)?, row.get(4)?],
        score: row.get(5)?,
        probability: row.get(6)?,
        band: name_column(row, 7, Band::parse)?,
        source: name_column(row, 8, ProposalSource::parse)?,
        status: name_column(row, 9, ProposalStatus::parse)?,
        assignee: row.get(10)?,
        explanation: json_column(row, 11)?,
        version: row.get(12)?,
        created_at: row.get(13)?,
        decided_at: row.get(14)?,
        decided_by: row.get(15)?,
        reason: row.get(16)?,
        versions: [row.get(17)?, row.get(18)?],
    })
}

fn audit_row(row: &Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        seq: row.get(0)?,
        at: row.get(1)?,
        actor: row.get(2)?,
        action: name_column(row, 3, AuditAction::parse)?,
        subject: row.get(4)?,
        before: json_column(row, 5)?,
        after: json_column(row, 6)?,
        reason: row.get(7)?,
    })
}

macro_rules! select_jobs {
    ($rest:literal) => {
        concat!(
            "SELECT id, kind, status, total, done, created_at, finished_at, result, error, \
             stage, cancel_requested, resumed, request FROM jobs ",
            $rest
        )
    };
}

fn job_row(row: &Row<'_>) -> rusqlite::Result<Job> {
    Ok(Job {
        id: row.get(0)?,
        kind: name_column(row, 1, JobKind::parse)?,
        status: name_column(row, 2, JobStatus::parse)?,
        total: row.get(3)?,
        done: row.get(4)?,
        created_at: row.get(5)?,
        finished_at: row.get(6)?,
        result: json_column(row, 7)?,
        error: row.get(8)?,
        stage: match row
            .get_ref(9)?
            .as_str_or_null()
            .map_err(|e| bad_column(9, e))?
        {
            None => None,
            Some(_) => Some(name_column(row, 9, JobStage::parse)?),
        },
        cancel_requested: row.get(10)?,
        resumed: row.get(11)?,
        request: row.get(12)?,
    })
}

/// A `WHERE` clause built from optional filters, with its arguments.
struct Conditions {
    sql: String,
    args: Vec<Value>,
}

impl Conditions {
    fn new(first: &str, arg: Value) -> Conditions {
        let mut c = Conditions {
            sql: String::new(),
            args: Vec::new(),
        };
        c.and(first, arg);
        c
    }

    /// `column_op` is e.g. `"p.status ="`; the placeholder is appended.
    fn and(&mut self, column_op: &str, arg: Value) {
        self.args.push(arg);
        let keyword = if self.args.len() == 1 { "WHERE" } else { "AND" };
        self.sql
            .push_str(&format!(" {keyword} {column_op} ?{}", self.args.len()));
    }

    fn and_some(&mut self, column_op: &str, arg: Option<Value>) {
        if let Some(arg) = arg {
            self.and(column_op, arg);
        }
    }

    /// A condition that uses its argument inside: `expr(n)` writes it with
    /// placeholder `?n`.
    fn and_expr(&mut self, expr: impl Fn(usize) -> String, arg: Value) {
        self.args.push(arg);
        let keyword = if self.args.len() == 1 { "WHERE" } else { "AND" };
        self.sql
            .push_str(&format!(" {keyword} {}", expr(self.args.len())));
    }
}

struct SqlTx<'c> {
    conn: &'c Connection,
}

impl SqlTx<'_> {
    fn proposal_by_num(&self, num: u64) -> Result<Option<Proposal>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(select_proposals!("WHERE p.num = ?1"))?;
        Ok(stmt.query_row([num], proposal_row).optional()?)
    }
}

/// The columns [`label_row`] reads, from `labels l` with both records.
macro_rules! select_labels {
    ($rest:literal) => {
        concat!(
            "SELECT l.seq, l.a, l.b, ra.id, rb.id, l.label, l.source, l.proposal, l.actor, \
             l.created_at FROM labels l JOIN records ra ON ra.num = l.a \
             JOIN records rb ON rb.num = l.b ",
            $rest
        )
    };
}

/// A label and its position, from [`select_labels`]'s columns.
fn label_row(row: &Row<'_>) -> rusqlite::Result<(u64, Label)> {
    let text = |i: usize| row.get::<_, String>(i);
    Ok((
        row.get::<_, u64>(0)?,
        Label {
            a: row.get(1)?,
            b: row.get(2)?,
            id_a: text(3)?,
            id_b: text(4)?,
            label: name_column(row, 5, LabelKind::parse)?,
            source: name_column(row, 6, LabelSource::parse)?,
            proposal: row.get::<_, Option<u64>>(7)?.map(|n| n.to_string()),
            actor: text(8)?,
            created_at: text(9)?,
        },
    ))
}

impl Tx for SqlTx<'_> {
    /// The record's `num` is ignored: the store hands out the number.
    fn insert_record(&mut self, r: &Record) -> Result<u64, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO records \
             (id, source, fields, normalized, entity, version, created_at, updated_at, prepared, \
              search) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING num",
        )?;
        stmt.query_row(
            params![
                r.id,
                r.source,
                to_json(&r.fields)?,
                to_json(&r.normalized)?,
                r.entity_id,
                r.version,
                r.created_at,
                r.updated_at,
                r.prepared,
                r.search
            ],
            |row| row.get(0),
        )
        .map_err(or_duplicate(|| format!("record {}", r.id)))
    }

    fn update_record(&mut self, r: &Record) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "UPDATE records SET id = ?2, source = ?3, fields = ?4, normalized = ?5, entity = ?6, \
             version = ?7, created_at = ?8, updated_at = ?9, prepared = ?10, \
             search = COALESCE(?11, search) WHERE num = ?1",
        )?;
        let changed = stmt
            .execute(params![
                r.num,
                r.id,
                r.source,
                to_json(&r.fields)?,
                to_json(&r.normalized)?,
                r.entity_id,
                r.version,
                r.created_at,
                r.updated_at,
                r.prepared,
                r.search
            ])
            .map_err(or_duplicate(|| format!("record {}", r.id)))?;
        if changed == 0 {
            return Err(missing(format!("record {}", r.num)));
        }
        Ok(())
    }

    fn delete_record(&mut self, num: u64) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("DELETE FROM records WHERE num = ?1")?;
        if stmt.execute([num])? == 0 {
            return Err(missing(format!("record {num}")));
        }
        Ok(())
    }

    fn record(&mut self, id: &str) -> Result<Option<Record>, StoreError> {
        let mut stmt = self.conn.prepare_cached(select_records!("WHERE id = ?1"))?;
        Ok(stmt.query_row([id], record_row).optional()?)
    }

    fn record_by_num(&mut self, num: u64) -> Result<Option<Record>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(select_records!("WHERE num = ?1"))?;
        Ok(stmt.query_row([num], record_row).optional()?)
    }

    fn match_rows(&mut self, nums: &[u64]) -> Result<Vec<MatchRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT num, id, entity, prepared FROM records WHERE num = ?1")?;
        let mut out = Vec::with_capacity(nums.len());
        for &n in nums {
            let row = stmt
                .query_row([n], |row| {
                    Ok(MatchRow {
                        num: row.get(0)?,
                        id: row.get(1)?,
                        entity_id: row.get(2)?,
                        prepared: row.get(3)?,
                    })
                })
                .optional()?;
            out.extend(row);
        }
        Ok(out)
    }

    fn entities_of(&mut self, nums: &[u64]) -> Result<Vec<(u64, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT entity FROM records WHERE num = ?1")?;
        let mut out = Vec::with_capacity(nums.len());
        for &n in nums {
            let entity: Option<String> = stmt.query_row([n], |row| row.get(0)).optional()?;
            out.extend(entity.map(|e| (n, e)));
        }
        Ok(out)
    }

    fn set_prepared(&mut self, num: u64, prepared: &[u8], search: &str) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("UPDATE records SET prepared = ?2, search = ?3 WHERE num = ?1")?;
        if stmt.execute(params![num, prepared, search])? == 0 {
            return Err(missing(format!("record {num}")));
        }
        Ok(())
    }

    fn records_of_entity(&mut self, entity: &str) -> Result<Vec<Record>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(select_records!("WHERE entity = ?1 ORDER BY num"))?;
        let rows = stmt.query_map([entity], record_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn merged_entities(&mut self) -> Result<Vec<(String, Vec<u64>)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT entity, num FROM records WHERE entity IN \
               (SELECT entity FROM records GROUP BY entity HAVING count(*) > 1) \
             ORDER BY entity, num",
        )?;
        let mut rows = stmt.query([])?;
        let mut out: Vec<(String, Vec<u64>)> = Vec::new();
        while let Some(row) = rows.next()? {
            let (entity, num): (String, u64) = (row.get(0)?, row.get(1)?);
            match out.last_mut() {
                Some((e, nums)) if *e == entity => nums.push(num),
                _ => out.push((entity, vec![num])),
            }
        }
        Ok(out)
    }

    /// Matches values only, not field names, ASCII case-insensitively (SQLite
    /// `LIKE`). The plain `LIKE` over the JSON text is a cheap pre-filter
    /// (JSON escapes character by character, so a value containing `text`
    /// means the JSON contains escaped `text`); `json_each` then confirms the
    /// match is inside a value.
    fn search_records(&mut self, text: &str, limit: usize) -> Result<Vec<Record>, StoreError> {
        let in_value = contains_pattern(text);
        let escaped = to_json(text)?;
        let in_json = contains_pattern(&escaped[1..escaped.len() - 1]);
        let mut stmt = self.conn.prepare_cached(select_records!(
            r"WHERE (fields LIKE ?2 ESCAPE '\'
                     AND EXISTS (SELECT 1 FROM json_each(records.fields)
                                 WHERE json_each.value LIKE ?1 ESCAPE '\'))
                 OR (normalized LIKE ?2 ESCAPE '\'
                     AND EXISTS (SELECT 1 FROM json_each(records.normalized)
                                 WHERE json_each.value ->> '$.value' LIKE ?1 ESCAPE '\'))
               ORDER BY num LIMIT ?3"
        ))?;
        let rows = stmt.query_map(params![in_value, in_json, sql_limit(limit)], record_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn search_keys(&mut self, keys: &[String], limit: usize) -> Result<Vec<Record>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let wheres: Vec<String> = (1..=keys.len())
            .map(|i| format!(r"search LIKE ?{i} ESCAPE '\'"))
            .collect();
        let sql = format!(
            "{} WHERE {} ORDER BY num LIMIT ?{}",
            select_records!(""),
            wheres.join(" OR "),
            keys.len() + 1
        );
        let mut args: Vec<Value> = keys
            .iter()
            .map(|k| Value::Text(contains_pattern(k)))
            .collect();
        args.push(Value::Integer(sql_limit(limit)));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(args.iter()), record_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn count_records(&mut self) -> Result<u64, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT count(*) FROM records")?;
        Ok(stmt.query_row([], |row| row.get(0))?)
    }

    fn records_after(&mut self, after: u64, limit: usize) -> Result<Vec<Record>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(select_records!("WHERE num > ?1 ORDER BY num LIMIT ?2"))?;
        let rows = stmt.query_map(params![int(after), sql_limit(limit)], record_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn log_change(&mut self, num: u64, deleted: bool) -> Result<u64, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("INSERT INTO changes (num, deleted) VALUES (?1, ?2) RETURNING seq")?;
        Ok(stmt.query_row(params![num, deleted], |row| row.get(0))?)
    }

    fn changes_after(
        &mut self,
        seq: u64,
        limit: usize,
    ) -> Result<Vec<(u64, u64, bool)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, num, deleted FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![int(seq), sql_limit(limit)], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn last_change(&mut self) -> Result<u64, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT coalesce(max(seq), 0) FROM changes")?;
        Ok(stmt.query_row([], |row| row.get(0))?)
    }

    fn insert_entity(&mut self, e: &Entity) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO entities \
             (id, merged_into, overrides, version, created_at, updated_at, manual) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        stmt.execute(params![
            e.id,
            e.merged_into,
            to_json(&e.overrides)?,
            e.version,
            e.created_at,
            e.updated_at,
            to_json(&e.manual)?
        ])
        .map_err(or_duplicate(|| format!("entity {}", e.id)))?;
        Ok(())
    }

    fn update_entity(&mut self, e: &Entity) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "UPDATE entities SET merged_into = ?2, overrides = ?3, version = ?4, \
             created_at = ?5, updated_at = ?6, manual = ?7 WHERE id = ?1",
        )?;
        let changed = stmt.execute(params![
            e.id,
            e.merged_into,
            to_json(&e.overrides)?,
            e.version,
            e.created_at,
            e.updated_at,
            to_json(&e.manual)?
        ])?;
        if changed == 0 {
            return Err(missing(format!("entity {}", e.id)));
        }
        Ok(())
    }

    fn entity(&mut self, id: &str) -> Result<Option<Entity>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(select_entities!("WHERE id = ?1"))?;
        Ok(stmt.query_row([id], entity_row).optional()?)
    }

    /// A counter rather than `max(id) + 1`: an id handed out by a committed
    /// transaction is never handed out again, even if no entity was written
    /// under it.
    fn next_entity_id(&mut self) -> Result<String, StoreError> {
        let next = match self.meta(NEXT_ENTITY)? {
            None => 1,
            Some(n) => n
                .parse::<u64>()
                .map_err(|_| StoreError::Backend(format!("meta {NEXT_ENTITY} is {n:?}")))?,
        };
        self.set_meta(NEXT_ENTITY, &(next + 1).to_string())?;
        Ok(format!("E{next:07}"))
    }

    fn add_history(&mut self, entity: &str, h: &HistoryEntry) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO entity_history (entity, at, actor, action, detail) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        stmt.execute(params![
            entity,
            h.at,
            h.actor,
            h.action.as_str(),
            to_json(&h.detail)?
        ])?;
        Ok(())
    }

    /// Oldest first.
    fn history(&mut self, entity: &str) -> Result<Vec<HistoryEntry>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT at, actor, action, detail FROM entity_history WHERE entity = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([entity], |row| {
            Ok(HistoryEntry {
                at: row.get(0)?,
                actor: row.get(1)?,
                action: name_column(row, 2, HistoryAction::parse)?,
                detail: json_column(row, 3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Opens at version 1. The pair is stored in order (`a < b`); a second
    /// pending proposal for the same pair is [`StoreError::Duplicate`].
    fn insert_proposal(&mut self, p: &NewProposal, at: &str) -> Result<String, StoreError> {
        let (a, b, versions) = ordered(p.a, p.b, p.versions);
        if a == b {
            return Err(StoreError::Backend(format!(
                "a proposal needs two records, got record {a} twice"
            )));
        }
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO proposals (a, b, a_version, b_version, score, probability, band, \
             source, status, explanation, version, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'open', ?9, 1, ?10) RETURNING num",
        )?;
        let num: u64 = stmt
            .query_row(
                params![
                    a,
                    b,
                    versions[0],
                    versions[1],
                    p.score,
                    p.probability,
                    p.band.as_str(),
                    p.source.as_str(),
                    to_json(&p.explanation)?,
                    at
                ],
                |row| row.get(0),
            )
            .map_err(or_duplicate(|| {
                format!("a pending proposal for records {a} and {b}")
            }))?;
        Ok(num.to_string())
    }

    /// An id that is not a proposal number finds nothing.
    fn proposal(&mut self, id: &str) -> Result<Option<Proposal>, StoreError> {
        match id.parse::<u64>() {
            Ok(num) => self.proposal_by_num(num),
            Err(_) => Ok(None),
        }
    }

    fn pending_proposal_between(&mut self, a: u64, b: u64) -> Result<Option<Proposal>, StoreError> {
        let (a, b, _) = ordered(a, b, [0, 0]);
        let mut stmt = self.conn.prepare_cached(select_proposals!(
            "WHERE p.a = ?1 AND p.b = ?2 AND p.status IN ('open', 'deferred')"
        ))?;
        Ok(stmt.query_row([a, b], proposal_row).optional()?)
    }

    fn proposals(&mut self, f: &ProposalFilter) -> Result<Vec<Proposal>, StoreError> {
        let mut c = Conditions::new("p.num >", Value::Integer(int(f.after.unwrap_or(0))));
        c.and_some(
            "p.status =",
            f.status.map(|s| Value::Text(s.as_str().into())),
        );
        c.and_some("p.band =", f.band.map(|b| Value::Text(b.as_str().into())));
        c.and_some(
            "p.source =",
            f.source.map(|s| Value::Text(s.as_str().into())),
        );
        c.and_some("p.assignee =", f.assignee.clone().map(Value::Text));
        c.and_some("p.score >=", f.min_score.map(Value::Real));
        // Ties break by number, so a sorted page boundary is stable.
        let order = match f.sort {
            ProposalSort::ByNumber => "p.num",
            // The service ranks its pool of the most uncertain.
            ProposalSort::Uncertainty | ProposalSort::Informative => {
                "abs(p.probability - 0.5), p.num"
            }
            ProposalSort::Score => "p.score DESC, p.num",
        };
        let sql = format!(
            "{}{} ORDER BY {order} LIMIT ?{} OFFSET ?{}",
            select_proposals!(""),
            c.sql,
            c.args.len() + 1,
            c.args.len() + 2
        );
        c.args.push(Value::Integer(sql_limit(f.limit)));
        c.args.push(Value::Integer(int(f.offset as u64)));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(c.args.iter()), proposal_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn proposals_of(&mut self, num: u64, pending_only: bool) -> Result<Vec<Proposal>, StoreError> {
        // `+p.status` keeps the planner off the status index: thousands of
        // proposals may be pending, a record has a handful.
        let mut stmt = if pending_only {
            self.conn.prepare_cached(select_proposals!(
                "WHERE (p.a = ?1 OR p.b = ?1) AND +p.status IN ('open', 'deferred') ORDER BY p.num"
            ))?
        } else {
            self.conn.prepare_cached(select_proposals!(
                "WHERE p.a = ?1 OR p.b = ?1 ORDER BY p.num"
            ))?
        };
        let rows = stmt.query_map([num], proposal_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Everything but the pair itself is written; a missing proposal is a
    /// conflict too (someone else's change removed it).
    fn update_proposal(&mut self, p: &Proposal, expected: u64) -> Result<(), StoreError> {
        let num: u64 =
            p.id.parse()
                .map_err(|_| StoreError::Backend(format!("{:?} is not a proposal id", p.id)))?;
        let mut stmt = self.conn.prepare_cached(
            "UPDATE proposals SET a_version = ?3, b_version = ?4, score = ?5, probability = ?6, \
             band = ?7, source = ?8, status = ?9, assignee = ?10, explanation = ?11, \
             version = ?12, decided_at = ?13, decided_by = ?14, reason = ?15 \
             WHERE num = ?1 AND version = ?2",
        )?;
        let changed = stmt
            .execute(params![
                num,
                expected,
                p.versions[0],
                p.versions[1],
                p.score,
                p.probability,
                p.band.as_str(),
                p.source.as_str(),
                p.status.as_str(),
                p.assignee,
                to_json(&p.explanation)?,
                p.version,
                p.decided_at,
                p.decided_by,
                p.reason
            ])
            .map_err(or_duplicate(|| {
                format!("a pending proposal for records {} and {}", p.a, p.b)
            }))?;
        if changed == 0 {
            return Err(StoreError::Conflict);
        }
        Ok(())
    }

    fn delete_proposals_of(&mut self, num: u64) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("DELETE FROM proposals WHERE a = ?1 OR b = ?1")?;
        stmt.execute([num])?;
        Ok(())
    }

    fn pending_counts(&mut self) -> Result<BTreeMap<Band, u64>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT band, count(*) FROM proposals WHERE status IN ('open', 'deferred') \
             GROUP BY band",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((name_column(row, 0, Band::parse)?, row.get(1)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A later rejection of the same pair replaces the versions.
    fn remember_rejection(&mut self, a: u64, b: u64, versions: [u64; 2]) -> Result<(), StoreError> {
        let (a, b, versions) = ordered(a, b, versions);
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO rejections (a, b, a_version, b_version) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (a, b) DO UPDATE SET a_version = excluded.a_version, \
             b_version = excluded.b_version",
        )?;
        stmt.execute([a, b, versions[0], versions[1]])?;
        Ok(())
    }

    fn is_rejected(&mut self, a: u64, b: u64, versions: [u64; 2]) -> Result<bool, StoreError> {
        let (a, b, versions) = ordered(a, b, versions);
        let mut stmt = self.conn.prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM rejections \
             WHERE a = ?1 AND b = ?2 AND a_version = ?3 AND b_version = ?4)",
        )?;
        Ok(stmt.query_row([a, b, versions[0], versions[1]], |row| row.get(0))?)
    }

    fn forget_rejections_of(&mut self, num: u64) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("DELETE FROM rejections WHERE a = ?1 OR b = ?1")?;
        stmt.execute([num])?;
        Ok(())
    }

    fn forget_rejection(&mut self, a: u64, b: u64) -> Result<(), StoreError> {
        let (a, b, _) = ordered(a, b, [0, 0]);
        let mut stmt = self
            .conn
            .prepare_cached("DELETE FROM rejections WHERE a = ?1 AND b = ?2")?;
        stmt.execute([a, b])?;
        Ok(())
    }

    fn forget_label(&mut self, a: u64, b: u64) -> Result<(), StoreError> {
        let (a, b, _) = ordered(a, b, [0, 0]);
        self.conn
            .prepare_cached("DELETE FROM labels WHERE a = ?1 AND b = ?2")?
            .execute([a, b])?;
        Ok(())
    }

    fn put_label(&mut self, l: &Label) -> Result<(), StoreError> {
        let (a, b, _) = ordered(l.a, l.b, [0, 0]);
        let proposal: Option<u64> = l.proposal.as_deref().and_then(|p| p.parse().ok());
        // Delete and insert, so the pair moves to the end of the order.
        self.forget_label(a, b)?;
        self.conn
            .prepare_cached(
                "INSERT INTO labels (a, b, label, source, proposal, actor, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                a,
                b,
                l.label.as_str(),
                l.source.as_str(),
                proposal,
                l.actor,
                l.created_at
            ])?;
        Ok(())
    }

    fn forget_label_of_proposal(&mut self, proposal: &str) -> Result<(), StoreError> {
        let Ok(num) = proposal.parse::<u64>() else {
            return Ok(());
        };
        self.conn
            .prepare_cached("DELETE FROM labels WHERE proposal = ?1 AND source = 'proposal'")?
            .execute([num])?;
        Ok(())
    }

    fn add_comment(&mut self, c: &Comment) -> Result<u64, StoreError> {
        let num: u64 = c
            .proposal
            .parse()
            .map_err(|_| StoreError::Backend(format!("{:?} is not a proposal id", c.proposal)))?;
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO comments (proposal, actor, at, text) VALUES (?1, ?2, ?3, ?4) RETURNING seq",
        )?;
        Ok(stmt.query_row(params![num, c.actor, c.at, c.text], |row| row.get(0))?)
    }

    fn comments(&mut self, proposal: &str) -> Result<Vec<Comment>, StoreError> {
        let Ok(num) = proposal.parse::<u64>() else {
            return Ok(Vec::new());
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, actor, at, text FROM comments WHERE proposal = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([num], |row| {
            Ok(Comment {
                seq: row.get(0)?,
                proposal: proposal.to_string(),
                actor: row.get(1)?,
                at: row.get(2)?,
                text: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn put_merge_undo(&mut self, proposal: &str, body: &str) -> Result<(), StoreError> {
        let num: u64 = proposal
            .parse()
            .map_err(|_| StoreError::Backend(format!("{proposal:?} is not a proposal id")))?;
        self.conn
            .prepare_cached("INSERT OR REPLACE INTO merge_undo (proposal, body) VALUES (?1, ?2)")?
            .execute(params![num, body])?;
        Ok(())
    }

    fn merge_undo(&mut self, proposal: &str) -> Result<Option<String>, StoreError> {
        let Ok(num) = proposal.parse::<u64>() else {
            return Ok(None);
        };
        Ok(self
            .conn
            .prepare_cached("SELECT body FROM merge_undo WHERE proposal = ?1")?
            .query_row([num], |row| row.get(0))
            .optional()?)
    }

    fn forget_merge_undo(&mut self, proposal: &str) -> Result<(), StoreError> {
        let Ok(num) = proposal.parse::<u64>() else {
            return Ok(());
        };
        self.conn
            .prepare_cached("DELETE FROM merge_undo WHERE proposal = ?1")?
            .execute([num])?;
        Ok(())
    }

    fn forget_labels_of(&mut self, num: u64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM labels WHERE a = ?1 OR b = ?1")?
            .execute([num])?;
        Ok(())
    }

    fn labels(&mut self, after: u64, limit: usize) -> Result<Vec<(u64, Label)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(select_labels!("WHERE l.seq > ?1 ORDER BY l.seq LIMIT ?2"))?;
        let rows = stmt.query_map(params![int(after), sql_limit(limit)], label_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn labels_within(&mut self, entity: &str, limit: usize) -> Result<Vec<Label>, StoreError> {
        let mut stmt = self.conn.prepare_cached(select_labels!(
            "WHERE ra.entity = ?1 AND rb.entity = ?1 ORDER BY l.seq LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![entity, sql_limit(limit)], |row| {
            label_row(row).map(|(_, l)| l)
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn labels_of(&mut self, num: u64) -> Result<Vec<Label>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(select_labels!("WHERE l.a = ?1 OR l.b = ?1 ORDER BY l.seq"))?;
        let rows = stmt.query_map([num], |row| label_row(row).map(|(_, l)| l))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn label(&mut self, a: u64, b: u64) -> Result<Option<Label>, StoreError> {
        let (a, b, _) = ordered(a, b, [0, 0]);
        let mut stmt = self
            .conn
            .prepare_cached(select_labels!("WHERE l.a = ?1 AND l.b = ?2"))?;
        Ok(stmt
            .query_row([a, b], |row| label_row(row).map(|(_, l)| l))
            .optional()?)
    }

    fn count_labels(&mut self) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT count(*) FROM labels")?
            .query_row([], |row| row.get(0))?)
    }

    /// The entry's `seq` is ignored: the store hands out the number.
    fn audit(&mut self, e: &AuditEntry) -> Result<u64, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO audit (at, actor, action, subject, before, after, reason) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING seq",
        )?;
        Ok(stmt.query_row(
            params![
                e.at,
                e.actor,
                e.action.as_str(),
                e.subject,
                to_json(&e.before)?,
                to_json(&e.after)?,
                e.reason
            ],
            |row| row.get(0),
        )?)
    }

    fn redact_audit(&mut self, subject: &str) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "UPDATE audit SET before = '\"[erased]\"', after = '\"[erased]\"' WHERE subject = ?1",
        )?;
        stmt.execute([subject])?;
        Ok(())
    }

    fn forget_idempotent_mentioning(&mut self, text: &str) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("DELETE FROM idempotency WHERE instr(body, ?1) > 0")?;
        stmt.execute([text])?;
        Ok(())
    }

    /// Oldest first, from `after` (a `seq`) on: a cursor over a log that
    /// only grows never skips or repeats an entry.
    fn audit_entries(&mut self, f: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        let mut c = if f.newest_first {
            Conditions::new(
                "seq <",
                Value::Integer(int(f.after.unwrap_or(i64::MAX as u64))),
            )
        } else {
            Conditions::new("seq >", Value::Integer(int(f.after.unwrap_or(0))))
        };
        c.and_some("actor =", f.actor.clone().map(Value::Text));
        c.and_some("action =", f.action.map(|a| Value::Text(a.as_str().into())));
        c.and_some("subject =", f.subject.clone().map(Value::Text));
        c.and_some("at >=", f.since.clone().map(Value::Text));
        c.and_some("at <", f.until.clone().map(Value::Text));
        if let Some(m) = &f.mentions {
            // The subject names it after a colon; the values as a JSON string.
            c.and_expr(
                |n| {
                    format!(
                        "(substr(subject, instr(subject, ':') + 1) = json_extract(?{n}, '$') \
                         OR instr(before, ?{n}) > 0 OR instr(after, ?{n}) > 0)"
                    )
                },
                Value::Text(to_json(m)?),
            );
        }
        let sql = format!(
            "SELECT seq, at, actor, action, subject, before, after, reason FROM audit\
             {} ORDER BY seq {} LIMIT ?{}",
            c.sql,
            if f.newest_first { "DESC" } else { "ASC" },
            c.args.len() + 1
        );
        c.args.push(Value::Integer(sql_limit(f.limit)));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(c.args.iter()), audit_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn insert_token(
        &mut self,
        name: &str,
        role: Role,
        hash: &str,
        at: &str,
    ) -> Result<u64, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO tokens (name, role, hash, created_at) VALUES (?1, ?2, ?3, ?4) \
             RETURNING id",
        )?;
        // The hash is a credential's fingerprint: not repeated in the error.
        stmt.query_row(params![name, role.as_str(), hash, at], |row| row.get(0))
            .map_err(or_duplicate(|| "a token with this secret".into()))
    }

    fn token_by_hash(&mut self, hash: &str) -> Result<Option<Token>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, name, role, created_at FROM tokens WHERE hash = ?1")?;
        let token = stmt
            .query_row([hash], |row| {
                let role = row.get_ref(2)?.as_str().map_err(|e| bad_column(2, e))?;
                let role = Role::parse(role)
                    .ok_or_else(|| bad_column(2, format!("unknown role {role:?}")))?;
                Ok(Token {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    role,
                    created_at: row.get(3)?,
                })
            })
            .optional()?;
        Ok(token)
    }

    fn upsert_job(&mut self, j: &Job) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO jobs (id, kind, status, total, done, created_at, finished_at, result, \
             error, stage, cancel_requested, resumed, request) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) \
             ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, status = excluded.status, \
             total = excluded.total, done = excluded.done, created_at = excluded.created_at, \
             finished_at = excluded.finished_at, result = excluded.result, error = excluded.error, \
             stage = excluded.stage, cancel_requested = excluded.cancel_requested, \
             resumed = excluded.resumed, request = excluded.request",
        )?;
        stmt.execute(params![
            j.id,
            j.kind.as_str(),
            j.status.as_str(),
            j.total,
            j.done,
            j.created_at,
            j.finished_at,
            to_json(&j.result)?,
            j.error,
            j.stage.map(|s| s.as_str()),
            j.cancel_requested,
            j.resumed,
            j.request,
        ])?;
        Ok(())
    }

    fn add_job_records(&mut self, job: &str, nums: &[u64]) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("INSERT OR IGNORE INTO job_records (job, num) VALUES (?1, ?2)")?;
        for &n in nums {
            stmt.execute(params![job, n])?;
        }
        Ok(())
    }

    fn job_records(&mut self, job: &str) -> Result<Vec<u64>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT num FROM job_records WHERE job = ?1 ORDER BY num")?;
        let rows = stmt.query_map([job], |row| row.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn forget_job_records(&mut self, job: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM job_records WHERE job = ?1")?
            .execute([job])?;
        Ok(())
    }

    fn job(&mut self, id: &str) -> Result<Option<Job>, StoreError> {
        let mut stmt = self.conn.prepare_cached(select_jobs!("WHERE id = ?1"))?;
        Ok(stmt.query_row([id], job_row).optional()?)
    }

    /// Oldest first.
    fn running_jobs(&mut self) -> Result<Vec<Job>, StoreError> {
        let mut stmt = self.conn.prepare_cached(select_jobs!(
            "WHERE status = 'running' ORDER BY created_at, id"
        ))?;
        let rows = stmt.query_map([], job_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn idempotent(&mut self, key: &str, actor: &str) -> Result<Option<Idempotent>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT request_hash, body FROM idempotency WHERE key = ?1 AND actor = ?2",
        )?;
        let answer = stmt
            .query_row([key, actor], |row| {
                Ok(Idempotent {
                    request_hash: row.get(0)?,
                    body: row.get(1)?,
                })
            })
            .optional()?;
        Ok(answer)
    }

    /// The first answer stands: remembering a second one for the same key
    /// is [`StoreError::Duplicate`], not a silent overwrite.
    fn remember_idempotent(
        &mut self,
        key: &str,
        actor: &str,
        answer: &Idempotent,
        at: &str,
    ) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO idempotency (key, actor, request_hash, body, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        stmt.execute(params![key, actor, answer.request_hash, answer.body, at])
            .map_err(or_duplicate(|| format!("idempotency key {key:?}")))?;
        Ok(())
    }

    fn meta(&mut self, key: &str) -> Result<Option<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?;
        Ok(stmt.query_row([key], |row| row.get(0)).optional()?)
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )?;
        stmt.execute([key, value])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::{ExplainTerm, Explanation};
    use crate::store::{StoreExt, StoredField};
    use serde_json::json;
    use std::sync::mpsc;
    use tempfile::TempDir;

    const AT: &str = "2026-01-02T03:04:05.678Z";
    const WAIT: Duration = Duration::from_secs(10);

    fn open() -> (TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        (dir, store)
    }

    fn entity(id: &str) -> Entity {
        Entity {
            id: id.into(),
            merged_into: None,
            overrides: BTreeMap::new(),
            manual: Default::default(),
            version: 1,
            created_at: AT.into(),
            updated_at: AT.into(),
        }
    }

    fn record(id: &str, entity: &str, name: &str) -> Record {
        Record {
            num: 0,
            id: id.into(),
            source: "crm".into(),
            fields: BTreeMap::from([("name".into(), name.into())]),
            normalized: BTreeMap::from([(
                "name".into(),
                StoredField {
                    value: Some(name.to_uppercase()),
                    issues: vec!["trimmed".into()],
                    parts: Default::default(),
                },
            )]),
            entity_id: entity.into(),
            version: 1,
            created_at: AT.into(),
            updated_at: AT.into(),
            prepared: None,
            search: None,
        }
    }

    /// Records with these names, each in its own new entity; their numbers.
    fn seed(store: &SqliteStore, names: &[&str]) -> Vec<u64> {
        store
            .write(|tx| {
                let mut nums = Vec::new();
                for name in names {
                    let e = tx.next_entity_id()?;
                    tx.insert_entity(&entity(&e))?;
                    nums.push(tx.insert_record(&record(&format!("r-{name}"), &e, name))?);
                }
                Ok(nums)
            })
            .unwrap()
    }

    fn explanation() -> Explanation {
        Explanation {
            prior: -10.0,
            terms: vec![ExplainTerm {
                comparison: "name".into(),
                field: "name".into(),
                level: "close".into(),
                weight: 4.5,
            }],
        }
    }

    fn proposal(a: u64, b: u64, score: f64, band: &str) -> NewProposal {
        NewProposal {
            a,
            b,
            score,
            probability: score / 10.0,
            band: Band::parse(band).unwrap(),
            source: ProposalSource::Live,
            explanation: explanation(),
            versions: [a * 10, b * 10],
        }
    }

    fn audit_entry(actor: &str, action: AuditAction, subject: &str) -> AuditEntry {
        AuditEntry {
            seq: 0,
            at: AT.into(),
            actor: actor.into(),
            action,
            subject: subject.into(),
            before: json!(null),
            after: json!({"status": "approved"}),
            reason: Some("same company".into()),
        }
    }

    fn user_version(path: &Path) -> i64 {
        Connection::open(path)
            .unwrap()
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn records_round_trip() {
        let (_dir, store) = open();
        let mut r = record("r1", "E1", "Acme");
        let num = store
            .write(|tx| {
                tx.insert_entity(&entity("E1"))?;
                tx.insert_record(&r)
            })
            .unwrap();
        r.num = num;
        store
            .read(|tx| {
                assert_eq!(tx.record("r1")?, Some(r.clone()));
                assert_eq!(tx.record_by_num(num)?, Some(r.clone()));
                assert_eq!(tx.records_of_entity("E1")?, vec![r.clone()]);
                assert_eq!(tx.record("r2")?, None);
                assert_eq!(tx.count_records()?, 1);
                Ok(())
            })
            .unwrap();

        r.version = 2;
        r.fields.insert("phone".into(), "03-1234-5678".into());
        r.updated_at = "2026-02-01T00:00:00.000Z".into();
        store.write(|tx| tx.update_record(&r)).unwrap();
        assert_eq!(store.read(|tx| tx.record("r1")).unwrap(), Some(r.clone()));

        store.write(|tx| tx.delete_record(num)).unwrap();
        assert_eq!(store.read(|tx| tx.record_by_num(num)).unwrap(), None);
        assert!(matches!(
            store.write(|tx| tx.update_record(&r)),
            Err(StoreError::Backend(_))
        ));
        assert!(matches!(
            store.write(|tx| tx.delete_record(num)),
            Err(StoreError::Backend(_))
        ));
    }

    #[test]
    fn record_numbers_are_never_reused() {
        let (_dir, store) = open();
        let nums = seed(&store, &["a", "b"]);
        store.write(|tx| tx.delete_record(nums[1])).unwrap();
        let again = seed(&store, &["c"]);
        assert!(again[0] > nums[1], "{again:?} after {nums:?}");
    }

    #[test]
    fn a_taken_record_id_is_a_duplicate() {
        let (_dir, store) = open();
        seed(&store, &["a", "b"]);
        let e = store
            .read(|tx| tx.record("r-a"))
            .unwrap()
            .unwrap()
            .entity_id;
        let err = store
            .write(|tx| tx.insert_record(&record("r-a", &e, "again")))
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Duplicate(what) if what == "record r-a"),
            "{err:?}"
        );
        let mut b = store.read(|tx| tx.record("r-b")).unwrap().unwrap();
        b.id = "r-a".into();
        let err = store.write(|tx| tx.update_record(&b)).unwrap_err();
        assert!(matches!(err, StoreError::Duplicate(_)), "{err:?}");
    }

    #[test]
    fn records_after_pages_by_number() {
        let (_dir, store) = open();
        let nums = seed(&store, &["a", "b", "c"]);
        let page = |after, limit| {
            store
                .read(|tx| tx.records_after(after, limit))
                .unwrap()
                .iter()
                .map(|r| r.num)
                .collect::<Vec<_>>()
        };
        assert_eq!(page(0, 2), nums[..2]);
        assert_eq!(page(nums[1], 2), nums[2..]);
        assert_eq!(page(nums[2], 2), Vec::<u64>::new());
        assert_eq!(page(0, usize::MAX), nums);
    }

    #[test]
    fn search_matches_values_not_names_and_takes_wildcards_literally() {
        let (_dir, store) = open();
        seed(
            &store,
            &["50%_off \"deal\" c:\\tmp", "500 off", "株式会社ナヨセ"],
        );
        let found = |text: &str| {
            let mut ids: Vec<String> = store
                .read(|tx| tx.search_records(text, 10))
                .unwrap()
                .into_iter()
                .map(|r| r.id)
                .collect();
            ids.sort();
            ids
        };
        assert_eq!(found("%"), ["r-50%_off \"deal\" c:\\tmp"]);
        assert_eq!(found("0_o"), Vec::<String>::new());
        assert_eq!(found("%_"), ["r-50%_off \"deal\" c:\\tmp"]);
        assert_eq!(found("\"deal\""), ["r-50%_off \"deal\" c:\\tmp"]);
        assert_eq!(found("c:\\tmp"), ["r-50%_off \"deal\" c:\\tmp"]);
        assert_eq!(found("ナヨセ"), ["r-株式会社ナヨセ"]);
        assert_eq!(found("00 "), ["r-500 off"]);
        // The field name, the issue list and JSON syntax are not values.
        assert_eq!(found("name"), Vec::<String>::new());
        assert_eq!(found("trimmed"), Vec::<String>::new());
        assert_eq!(found("\":\""), Vec::<String>::new());
        // Normalized values count as much as raw ones.
        store
            .write(|tx| {
                let mut r = record("r-kk", "E0000001", "kk");
                r.normalized.get_mut("name").expect("set by record()").value =
                    Some("株式会社".into());
                tx.insert_record(&r)
            })
            .unwrap();
        assert_eq!(found("株式"), ["r-kk", "r-株式会社ナヨセ"]);
        assert_eq!(found("KK"), ["r-kk"]);
        assert_eq!(store.read(|tx| tx.search_records("o", 2)).unwrap().len(), 2);
    }

    #[test]
    fn change_log_counts_up() {
        let (_dir, store) = open();
        assert_eq!(store.read(|tx| tx.last_change()).unwrap(), 0);
        let seqs = store
            .write(|tx| {
                Ok([
                    tx.log_change(7, false)?,
                    tx.log_change(8, false)?,
                    tx.log_change(7, true)?,
                ])
            })
            .unwrap();
        assert!(seqs[0] < seqs[1] && seqs[1] < seqs[2], "{seqs:?}");
        store
            .read(|tx| {
                assert_eq!(tx.last_change()?, seqs[2]);
                assert_eq!(
                    tx.changes_after(0, 10)?,
                    vec![(seqs[0], 7, false), (seqs[1], 8, false), (seqs[2], 7, true)]
                );
                assert_eq!(tx.changes_after(seqs[0], 1)?, vec![(seqs[1], 8, false)]);
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn entities_and_history_round_trip() {
        let (_dir, store) = open();
        let ids = store
            .write(|tx| Ok([tx.next_entity_id()?, tx.next_entity_id()?]))
            .unwrap();
        assert_eq!(ids, ["E0000001", "E0000002"]);

        let into = entity(&ids[1]);
        let mut e = entity(&ids[0]);
        e.overrides.insert("name".into(), "r-1".into());
        store
            .write(|tx| {
                tx.insert_entity(&e)?;
                tx.insert_entity(&into)
            })
            .unwrap();
        assert_eq!(store.read(|tx| tx.entity(&e.id)).unwrap(), Some(e.clone()));
        assert!(matches!(
            store.write(|tx| tx.insert_entity(&e)),
            Err(StoreError::Duplicate(_))
        ));

        e.merged_into = Some(into.id.clone());
        e.version = 2;
        e.overrides.clear();
        store.write(|tx| tx.update_entity(&e)).unwrap();
        assert_eq!(store.read(|tx| tx.entity(&e.id)).unwrap(), Some(e.clone()));
        assert!(matches!(
            store.write(|tx| tx.update_entity(&entity("E9"))),
            Err(StoreError::Backend(_))
        ));

        let history = [
            HistoryEntry {
                at: AT.into(),
                actor: "alice".into(),
                action: HistoryAction::Split,
                detail: json!({"field": "name"}),
            },
            HistoryEntry {
                at: AT.into(),
                actor: "bob".into(),
                action: HistoryAction::Merge,
                detail: json!({"into": into.id}),
            },
        ];
        store
            .write(|tx| {
                for h in &history {
                    tx.add_history(&e.id, h)?;
                }
                Ok(())
            })
            .unwrap();
        assert_eq!(store.read(|tx| tx.history(&e.id)).unwrap(), history);
        assert_eq!(store.read(|tx| tx.history(&into.id)).unwrap(), []);

        // Past seven digits the ids just grow.
        store
            .write(|tx| tx.set_meta(NEXT_ENTITY, "10000000"))
            .unwrap();
        assert_eq!(store.write(|tx| tx.next_entity_id()).unwrap(), "E10000000");
    }

    #[test]
    fn proposals_round_trip_ordered() {
        let (_dir, store) = open();
        let nums = seed(&store, &["a", "b"]);
        let id = store
            .write(|tx| tx.insert_proposal(&proposal(nums[1], nums[0], 7.5, "review"), AT))
            .unwrap();
        let p = store.read(|tx| tx.proposal(&id)).unwrap().unwrap();
        let expected = Proposal {
            id: id.clone(),
            a: nums[0],
            b: nums[1],
            record_ids: ["r-a".into(), "r-b".into()],
            score: 7.5,
            probability: 0.75,
            band: Band::Review,
            source: ProposalSource::Live,
            status: ProposalStatus::Open,
            assignee: None,
            explanation: explanation(),
            version: 1,
            created_at: AT.into(),
            decided_at: None,
            decided_by: None,
            reason: None,
            // Swapped along with the records.
            versions: [nums[0] * 10, nums[1] * 10],
        };
        assert_eq!(p, expected);
        store
            .read(|tx| {
                assert_eq!(
                    tx.pending_proposal_between(nums[0], nums[1])?,
                    Some(expected.clone())
                );
                assert_eq!(
                    tx.pending_proposal_between(nums[1], nums[0])?,
                    Some(expected.clone())
                );
                assert_eq!(tx.proposal("nope")?, None);
                assert_eq!(tx.proposal("999")?, None);
                Ok(())
            })
            .unwrap();

        let err = store
            .write(|tx| tx.insert_proposal(&proposal(nums[0], nums[1], 1.0, "review"), AT))
            .unwrap_err();
        assert!(matches!(err, StoreError::Duplicate(_)), "{err:?}");
        assert!(store
            .write(|tx| tx.insert_proposal(&proposal(nums[0], nums[0], 1.0, "review"), AT))
            .is_err());

        let mut decided = p.clone();
        decided.status = ProposalStatus::Rejected;
        decided.version = 2;
        decided.decided_at = Some(AT.into());
        decided.decided_by = Some("alice".into());
        decided.reason = Some("different branch".into());
        decided.assignee = Some("alice".into());
        store.write(|tx| tx.update_proposal(&decided, 1)).unwrap();
        store
            .read(|tx| {
                assert_eq!(tx.proposal(&id)?, Some(decided.clone()));
                assert_eq!(tx.pending_proposal_between(nums[0], nums[1])?, None);
                Ok(())
            })
            .unwrap();
        // Decided, the pair may be proposed again.
        store
            .write(|tx| tx.insert_proposal(&proposal(nums[0], nums[1], 1.0, "review"), AT))
            .unwrap();
    }

    #[test]
    fn proposals_filter_and_page() {
        let (_dir, store) = open();
        let n = seed(&store, &["a", "b", "c", "d"]);
        let ids = store
            .write(|tx| {
                let mut ids = Vec::new();
                for (a, b, score, band) in [
                    (n[0], n[1], 9.0, "match"),
                    (n[0], n[2], 5.0, "review"),
                    (n[1], n[2], 6.0, "review"),
                    (n[2], n[3], 4.0, "review"),
                ] {
                    ids.push(tx.insert_proposal(&proposal(a, b, score, band), AT)?);
                }
                let mut deferred = tx.proposal(&ids[3])?.expect("just inserted");
                deferred.status = ProposalStatus::Deferred;
                deferred.assignee = Some("bob".into());
                deferred.version = 2;
                tx.update_proposal(&deferred, 1)?;
                let mut done = tx.proposal(&ids[2])?.expect("just inserted");
                done.status = ProposalStatus::Approved;
                done.version = 2;
                tx.update_proposal(&done, 1)?;
                Ok(ids)
            })
            .unwrap();
        let list = |f: ProposalFilter| {
            store
                .read(|tx| tx.proposals(&f))
                .unwrap()
                .into_iter()
                .map(|p| p.id)
                .collect::<Vec<_>>()
        };
        let all = ProposalFilter {
            limit: 10,
            ..Default::default()
        };
        assert_eq!(list(all.clone()), ids);
        assert_eq!(
            list(ProposalFilter {
                limit: 2,
                ..all.clone()
            }),
            ids[..2]
        );
        let after = ids[1].parse().unwrap();
        assert_eq!(
            list(ProposalFilter {
                after: Some(after),
                ..all.clone()
            }),
            ids[2..]
        );
        assert_eq!(
            list(ProposalFilter {
                status: Some(ProposalStatus::Open),
                ..all.clone()
            }),
            ids[..2]
        );
        assert_eq!(
            list(ProposalFilter {
                band: Some(Band::Review),
                min_score: Some(5.0),
                ..all.clone()
            }),
            ids[1..3]
        );
        assert_eq!(
            list(ProposalFilter {
                assignee: Some("bob".into()),
                source: Some(ProposalSource::Live),
                ..all.clone()
            }),
            ids[3..]
        );
        assert_eq!(
            list(ProposalFilter {
                source: Some(ProposalSource::Batch),
                ..all.clone()
            }),
            Vec::<String>::new()
        );
        // Sorted orders page by offset.
        let by_score = ProposalFilter {
            sort: ProposalSort::Score,
            ..all.clone()
        };
        assert_eq!(
            list(by_score.clone()),
            [&ids[0], &ids[2], &ids[1], &ids[3]].map(String::clone)
        );
        assert_eq!(
            list(ProposalFilter {
                offset: 2,
                limit: 2,
                ..by_score
            }),
            [&ids[1], &ids[3]].map(String::clone)
        );
        let uncertain = list(ProposalFilter {
            sort: ProposalSort::Uncertainty,
            ..all.clone()
        });
        assert_eq!((&uncertain[0], &uncertain[3]), (&ids[1], &ids[0]));

        store
            .read(|tx| {
                let of = |ps: Vec<Proposal>| ps.into_iter().map(|p| p.id).collect::<Vec<_>>();
                assert_eq!(of(tx.proposals_of(n[2], false)?), ids[1..]);
                assert_eq!(
                    of(tx.proposals_of(n[2], true)?),
                    [ids[1].clone(), ids[3].clone()]
                );
                assert_eq!(
                    tx.pending_counts()?,
                    BTreeMap::from([(Band::Match, 1), (Band::Review, 2)])
                );
                Ok(())
            })
            .unwrap();

        store.write(|tx| tx.delete_proposals_of(n[2])).unwrap();
        assert_eq!(list(all), ids[..1]);
    }

    #[test]
    fn a_stale_proposal_update_is_a_conflict() {
        let (_dir, store) = open();
        let n = seed(&store, &["a", "b"]);
        let id = store
            .write(|tx| tx.insert_proposal(&proposal(n[0], n[1], 5.0, "review"), AT))
            .unwrap();
        let seen = store.read(|tx| tx.proposal(&id)).unwrap().unwrap();

        let mut first = seen.clone();
        first.status = ProposalStatus::Approved;
        first.version = 2;
        store
            .write(|tx| tx.update_proposal(&first, seen.version))
            .unwrap();

        let mut second = seen.clone();
        second.status = ProposalStatus::Rejected;
        second.version = 2;
        let err = store
            .write(|tx| tx.update_proposal(&second, seen.version))
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict), "{err:?}");
        assert_eq!(store.read(|tx| tx.proposal(&id)).unwrap(), Some(first));

        let mut gone = seen;
        gone.id = "999".into();
        assert!(matches!(
            store.write(|tx| tx.update_proposal(&gone, 1)),
            Err(StoreError::Conflict)
        ));
    }

    #[test]
    fn rejections_hold_for_their_versions() {
        let (_dir, store) = open();
        let n = seed(&store, &["a", "b", "c"]);
        store
            .write(|tx| {
                tx.remember_rejection(n[1], n[0], [2, 1])?;
                tx.remember_rejection(n[0], n[2], [1, 1])
            })
            .unwrap();
        store
            .read(|tx| {
                assert!(tx.is_rejected(n[0], n[1], [1, 2])?);
                assert!(tx.is_rejected(n[1], n[0], [2, 1])?);
                assert!(!tx.is_rejected(n[0], n[1], [2, 1])?);
                assert!(!tx.is_rejected(n[0], n[1], [1, 3])?);
                assert!(!tx.is_rejected(n[1], n[2], [1, 1])?);
                Ok(())
            })
            .unwrap();

        store
            .write(|tx| tx.remember_rejection(n[0], n[1], [1, 3]))
            .unwrap();
        assert!(store.read(|tx| tx.is_rejected(n[0], n[1], [1, 3])).unwrap());
        assert!(!store.read(|tx| tx.is_rejected(n[0], n[1], [1, 2])).unwrap());

        store.write(|tx| tx.forget_rejection(n[1], n[0])).unwrap();
        assert!(!store.read(|tx| tx.is_rejected(n[0], n[1], [1, 3])).unwrap());
        assert!(store.read(|tx| tx.is_rejected(n[0], n[2], [1, 1])).unwrap());
        store.write(|tx| tx.forget_rejections_of(n[2])).unwrap();
        assert!(!store.read(|tx| tx.is_rejected(n[0], n[2], [1, 1])).unwrap());
    }

    #[test]
    fn audit_round_trip_and_filter() {
        let (_dir, store) = open();
        let entries = [
            audit_entry("alice", AuditAction::ProposalApprove, "proposal/1"),
            audit_entry("bob", AuditAction::ProposalReject, "proposal/2"),
            audit_entry("alice", AuditAction::ProposalReject, "proposal/2"),
        ];
        let seqs = store
            .write(|tx| {
                entries
                    .iter()
                    .map(|e| tx.audit(e))
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap();
        let list = |f: AuditFilter| {
            store
                .read(|tx| tx.audit_entries(&f))
                .unwrap()
                .into_iter()
                .map(|e| e.seq)
                .collect::<Vec<_>>()
        };
        let all = AuditFilter {
            limit: 10,
            ..Default::default()
        };
        let stored = store.read(|tx| tx.audit_entries(&all)).unwrap();
        let mut expected = entries.to_vec();
        for (e, seq) in expected.iter_mut().zip(&seqs) {
            e.seq = *seq;
        }
        assert_eq!(stored, expected);
        assert_eq!(
            list(AuditFilter {
                actor: Some("alice".into()),
                ..all.clone()
            }),
            [seqs[0], seqs[2]]
        );
        assert_eq!(
            list(AuditFilter {
                action: Some(AuditAction::ProposalReject),
                subject: Some("proposal/2".into()),
                after: Some(seqs[1]),
                ..all.clone()
            }),
            [seqs[2]]
        );
        assert_eq!(
            list(AuditFilter {
                limit: 1,
                after: Some(seqs[0]),
                ..all
            }),
            [seqs[1]]
        );
    }

    #[test]
    fn audit_rows_cannot_be_changed_or_deleted() {
        let (_dir, store) = open();
        let seq = store
            .write(|tx| tx.audit(&audit_entry("alice", AuditAction::RecordErase, "record/r1")))
            .unwrap();
        {
            let conn = lock(&store.writer);
            let update = conn.execute("UPDATE audit SET actor = 'mallory' WHERE seq = ?1", [seq]);
            let err = update.unwrap_err().to_string();
            assert!(err.contains("append-only"), "{err}");
            let delete = conn.execute("DELETE FROM audit WHERE seq = ?1", [seq]);
            let err = delete.unwrap_err().to_string();
            assert!(err.contains("append-only"), "{err}");
        }
        let entries = store
            .read(|tx| {
                tx.audit_entries(&AuditFilter {
                    limit: 10,
                    ..Default::default()
                })
            })
            .unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].actor, "alice");
    }

    #[test]
    fn tokens_jobs_idempotency_and_meta_round_trip() {
        let (_dir, store) = open();
        let id = store
            .write(|tx| tx.insert_token("ci", Role::Ingest, "hash-1", AT))
            .unwrap();
        assert_eq!(
            store.read(|tx| tx.token_by_hash("hash-1")).unwrap(),
            Some(Token {
                id,
                name: "ci".into(),
                role: Role::Ingest,
                created_at: AT.into(),
            })
        );
        assert_eq!(store.read(|tx| tx.token_by_hash("hash-2")).unwrap(), None);
        let err = store
            .write(|tx| tx.insert_token("other", Role::Admin, "hash-1", AT))
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Duplicate(what) if !what.contains("hash-1")),
            "{err:?}"
        );

        let mut job = Job {
            id: "job-1".into(),
            kind: JobKind::Import,
            status: JobStatus::Running,
            stage: Some(JobStage::Storing),
            total: 100,
            done: 0,
            created_at: AT.into(),
            finished_at: None,
            result: None,
            error: None,
            cancel_requested: false,
            resumed: false,
            request: Some("{\"format\":\"csv\"}".into()),
        };
        store.write(|tx| tx.upsert_job(&job)).unwrap();
        assert_eq!(store.read(|tx| tx.job("job-1")).unwrap(), Some(job.clone()));
        assert_eq!(store.read(|tx| tx.running_jobs()).unwrap(), [job.clone()]);
        // The records a job stored, until it forgets them; a deleted record
        // leaves the list.
        let nums = seed(&store, &["j1", "j2", "j3"]);
        store
            .write(|tx| tx.add_job_records("job-1", &[nums[2], nums[0], nums[1]]))
            .unwrap();
        assert_eq!(store.read(|tx| tx.job_records("job-1")).unwrap(), nums);
        store.write(|tx| tx.delete_record(nums[1])).unwrap();
        assert_eq!(
            store.read(|tx| tx.job_records("job-1")).unwrap(),
            [nums[0], nums[2]]
        );
        store.write(|tx| tx.forget_job_records("job-1")).unwrap();
        assert!(store.read(|tx| tx.job_records("job-1")).unwrap().is_empty());
        job.status = JobStatus::Failed;
        job.stage = None;
        job.done = 40;
        job.finished_at = Some(AT.into());
        job.result = Some(json!({"records": 40}));
        job.error = Some("cut off".into());
        job.cancel_requested = true;
        job.resumed = true;
        store.write(|tx| tx.upsert_job(&job)).unwrap();
        assert_eq!(store.read(|tx| tx.job("job-1")).unwrap(), Some(job));
        assert_eq!(store.read(|tx| tx.running_jobs()).unwrap(), []);
        assert_eq!(store.read(|tx| tx.job("job-2")).unwrap(), None);

        let answer = Idempotent {
            request_hash: "abc".into(),
            body: "{\"id\":\"r1\"}".into(),
        };
        store
            .write(|tx| tx.remember_idempotent("k1", "alice", &answer, AT))
            .unwrap();
        store
            .read(|tx| {
                assert_eq!(tx.idempotent("k1", "alice")?, Some(answer.clone()));
                assert_eq!(tx.idempotent("k1", "bob")?, None);
                Ok(())
            })
            .unwrap();
        assert!(matches!(
            store.write(|tx| tx.remember_idempotent("k1", "alice", &answer, AT)),
            Err(StoreError::Duplicate(_))
        ));

        assert_eq!(store.read(|tx| tx.meta("model")).unwrap(), None);
        store.write(|tx| tx.set_meta("model", "v1")).unwrap();
        store.write(|tx| tx.set_meta("model", "v2")).unwrap();
        assert_eq!(
            store.read(|tx| tx.meta("model")).unwrap().as_deref(),
            Some("v2")
        );
    }

    #[test]
    fn a_failed_write_leaves_nothing() {
        let (_dir, store) = open();
        let err = store
            .write(|tx| {
                tx.insert_entity(&entity("E1"))?;
                tx.insert_record(&record("r1", "E1", "Acme"))?;
                tx.set_meta("model", "v1")?;
                tx.audit(&audit_entry(
                    "alice",
                    AuditAction::RecordCreate,
                    "record/r1",
                ))?;
                Err::<(), _>(StoreError::Conflict)
            })
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict), "{err:?}");
        store
            .read(|tx| {
                assert_eq!(tx.count_records()?, 0);
                assert_eq!(tx.entity("E1")?, None);
                assert_eq!(tx.meta("model")?, None);
                let audit = tx.audit_entries(&AuditFilter {
                    limit: 10,
                    ..Default::default()
                })?;
                assert!(audit.is_empty());
                Ok(())
            })
            .unwrap();
        // The writer is free again.
        seed(&store, &["a"]);
    }

    #[test]
    fn a_panicking_write_rolls_back_and_the_store_goes_on() {
        let (_dir, store) = open();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            store.write(|tx| {
                tx.set_meta("model", "v1")?;
                panic!("bug in a transaction body");
                #[allow(unreachable_code)]
                Ok(())
            })
        }));
        assert!(panicked.is_err());
        assert_eq!(store.read(|tx| tx.meta("model")).unwrap(), None);
        store.write(|tx| tx.set_meta("model", "v2")).unwrap();
        assert_eq!(
            store.read(|tx| tx.meta("model")).unwrap().as_deref(),
            Some("v2")
        );
    }

    #[test]
    fn dangling_references_are_refused_at_commit() {
        let (_dir, store) = open();
        let err = store
            .write(|tx| tx.insert_record(&record("r1", "E-none", "Acme")))
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Backend(m) if m.contains("commit refused")),
            "{err:?}"
        );
        assert_eq!(store.read(|tx| tx.count_records()).unwrap(), 0);

        let n = seed(&store, &["a", "b"]);
        store
            .write(|tx| {
                tx.insert_proposal(&proposal(n[0], n[1], 5.0, "review"), AT)?;
                tx.remember_rejection(n[0], n[1], [1, 1])
            })
            .unwrap();
        assert!(store.write(|tx| tx.delete_record(n[0])).is_err());
        assert!(store
            .write(|tx| {
                tx.delete_proposals_of(n[0])?;
                tx.delete_record(n[0])
            })
            .is_err());
        assert_eq!(store.read(|tx| tx.count_records()).unwrap(), 2);
        store
            .write(|tx| {
                tx.delete_proposals_of(n[0])?;
                tx.forget_rejections_of(n[0])?;
                tx.delete_record(n[0])
            })
            .unwrap();
        assert_eq!(store.read(|tx| tx.count_records()).unwrap(), 1);
    }

    #[test]
    fn reopening_keeps_data_and_migrates_once() {
        let dir = tempfile::tempdir().unwrap();
        let schema = |path: &Path| -> Vec<String> {
            let conn = Connection::open(path).unwrap();
            let mut stmt = conn
                .prepare("SELECT type || ' ' || name FROM sqlite_schema ORDER BY 1")
                .unwrap();
            let rows = stmt.query_map([], |row| row.get(0)).unwrap();
            rows.collect::<rusqlite::Result<_>>().unwrap()
        };
        let path = {
            let store = SqliteStore::open(dir.path()).unwrap();
            seed(&store, &["a"]);
            store.write(|tx| tx.set_meta("model", "v1")).unwrap();
            store.path().to_path_buf()
        };
        assert_eq!(path, dir.path().join("nayose.db"));
        // Closed cleanly, everything is in the one file.
        assert!(!dir.path().join("nayose.db-wal").exists());
        assert_eq!(user_version(&path), MIGRATIONS.len() as i64);
        let before = schema(&path);
        assert!(
            before.iter().any(|o| o == "trigger audit_no_delete"),
            "{before:?}"
        );

        for _ in 0..2 {
            let store = SqliteStore::open(dir.path()).unwrap();
            store
                .read(|tx| {
                    assert_eq!(
                        tx.record("r-a")?.map(|r| r.fields["name"].clone()),
                        Some("a".into())
                    );
                    assert_eq!(tx.meta("model")?.as_deref(), Some("v1"));
                    Ok(())
                })
                .unwrap();
            store.integrity_check().unwrap();
        }
        assert_eq!(user_version(&path), MIGRATIONS.len() as i64);
        assert_eq!(schema(&path), before);
    }

    /// A store written before labels could come from the audit (schema 9)
    /// opens with its labels in their order, takes an audit label, and
    /// hands out no label number twice.
    #[test]
    fn labels_move_to_the_audit_schema_whole() {
        let dir = tempfile::tempdir().unwrap();
        let label = |a: u64, b: u64, source: LabelSource| Label {
            a,
            b,
            id_a: String::new(),
            id_b: String::new(),
            label: LabelKind::Match,
            source,
            proposal: None,
            actor: "t".into(),
            created_at: "2026-01-01T00:00:00.000Z".into(),
        };
        let (path, n) = {
            let store = SqliteStore::open(dir.path()).unwrap();
            let n = seed(&store, &["a", "b", "c", "d"]);
            store
                .write(|tx| {
                    tx.put_label(&label(n[0], n[1], LabelSource::Import))?;
                    tx.put_label(&label(n[1], n[2], LabelSource::Split))?;
                    tx.put_label(&label(n[2], n[3], LabelSource::Import))?;
                    // The last number handed out is now not in the table.
                    tx.forget_labels_of(n[3])
                })
                .unwrap();
            (store.path().to_path_buf(), n)
        };
        // Back to schema 9: the table as it was, without `audit`.
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(&SCHEMA_10.replace(", 'audit'", ""))
            .unwrap();
        conn.pragma_update(None, "user_version", 9).unwrap();
        assert!(conn
            .execute("UPDATE labels SET source = 'audit' WHERE a = ?1", [n[0]])
            .is_err());
        drop(conn);

        let store = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(user_version(&path), MIGRATIONS.len() as i64);
        let before: Vec<(u64, u64, LabelSource)> = store
            .read(|tx| tx.labels(0, 10))
            .unwrap()
            .into_iter()
            .map(|(seq, l)| (seq, l.a, l.source))
            .collect();
        assert_eq!(
            before,
            vec![
                (1, n[0], LabelSource::Import),
                (2, n[1], LabelSource::Split)
            ]
        );
        store
            .write(|tx| tx.put_label(&label(n[0], n[3], LabelSource::Audit)))
            .unwrap();
        let after = store.read(|tx| tx.labels(2, 10)).unwrap();
        assert_eq!(after.len(), 1);
        assert_eq!(after[0].1.source, LabelSource::Audit);
        assert_eq!(after[0].0, 4, "number 3 was handed out before");
        store.integrity_check().unwrap();
    }

    #[test]
    fn merged_entities_list_the_entities_of_two_or_more_records() {
        let (_dir, store) = open();
        let n = seed(&store, &["a", "b", "c", "d", "e"]);
        let entity_of = |num: u64| {
            store
                .read(|tx| tx.record_by_num(num))
                .unwrap()
                .unwrap()
                .entity_id
        };
        // d and b join a's entity, e joins c's; nothing is left alone.
        let (ea, ec) = (entity_of(n[0]), entity_of(n[2]));
        store
            .write(|tx| {
                for (num, e) in [(n[3], &ea), (n[1], &ea), (n[4], &ec)] {
                    let mut r = tx.record_by_num(num)?.unwrap();
                    r.entity_id = e.clone();
                    tx.update_record(&r)?;
                }
                Ok(())
            })
            .unwrap();
        let mut want = vec![
            (ea.clone(), vec![n[0], n[1], n[3]]),
            (ec.clone(), vec![n[2], n[4]]),
        ];
        want.sort();
        assert_eq!(store.read(|tx| tx.merged_entities()).unwrap(), want);

        // Labels within an entity: both records in it, oldest first.
        let label = |a: u64, b: u64, kind: LabelKind| Label {
            a,
            b,
            id_a: String::new(),
            id_b: String::new(),
            label: kind,
            source: LabelSource::Audit,
            proposal: None,
            actor: "t".into(),
            created_at: "2026-01-01T00:00:00.000Z".into(),
        };
        store
            .write(|tx| {
                tx.put_label(&label(n[1], n[3], LabelKind::NonMatch))?;
                tx.put_label(&label(n[0], n[2], LabelKind::NonMatch))?; // two entities
                tx.put_label(&label(n[0], n[1], LabelKind::Match))?;
                tx.put_label(&label(n[2], n[4], LabelKind::Match))
            })
            .unwrap();
        let within = |e: &str, limit| {
            store
                .read(|tx| tx.labels_within(e, limit))
                .unwrap()
                .into_iter()
                .map(|l| (l.id_a, l.id_b, l.label))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            within(&ea, 10),
            [
                ("r-b".into(), "r-d".into(), LabelKind::NonMatch),
                ("r-a".into(), "r-b".into(), LabelKind::Match)
            ]
        );
        assert_eq!(within(&ea, 1).len(), 1);
        assert_eq!(
            within(&ec, 10),
            [("r-c".into(), "r-e".into(), LabelKind::Match)]
        );
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = SqliteStore::open(dir.path()).unwrap().path().to_path_buf();
        let newer = MIGRATIONS.len() as i64 + 1;
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", newer)
            .unwrap();
        match SqliteStore::open(dir.path()) {
            Err(StoreError::TooNew { found, known, .. }) => {
                assert_eq!((found, known), (newer, MIGRATIONS.len() as i64));
            }
            Err(other) => panic!("expected TooNew, got {other:?}"),
            Ok(_) => panic!("expected TooNew, the store opened"),
        }
        assert_eq!(user_version(&path), newer);
    }

    #[test]
    fn reads_do_not_see_an_uncommitted_write() {
        let (_dir, store) = open();
        let (inserted, wait_for_insert) = mpsc::channel();
        let (read_done, wait_for_read) = mpsc::channel();
        std::thread::scope(|s| {
            let store = &store;
            let writer = s.spawn(move || {
                store.write(|tx| {
                    tx.insert_entity(&entity("E1"))?;
                    tx.insert_record(&record("r1", "E1", "Acme"))?;
                    inserted.send(()).unwrap();
                    // A reader blocked by this write never answers: fail.
                    wait_for_read
                        .recv_timeout(WAIT)
                        .map_err(|_| StoreError::Backend("the read never finished".into()))
                })
            });
            wait_for_insert.recv_timeout(WAIT).unwrap();
            let seen = store
                .read(|tx| Ok((tx.count_records()?, tx.record("r1")?)))
                .unwrap();
            read_done.send(()).unwrap();
            assert_eq!(seen, (0, None));
            writer.join().unwrap().unwrap();
        });
        assert_eq!(store.read(|tx| tx.count_records()).unwrap(), 1);
    }

    #[test]
    fn a_read_keeps_its_snapshot_across_a_commit() {
        let (_dir, store) = open();
        seed(&store, &["a"]);
        let (go, wait_for_go) = mpsc::channel();
        let (committed, wait_for_commit) = mpsc::channel();
        std::thread::scope(|s| {
            let store = &store;
            s.spawn(move || {
                wait_for_go.recv_timeout(WAIT).unwrap();
                seed(store, &["b"]);
                committed.send(()).unwrap();
            });
            let (first, second) = store
                .read(|tx| {
                    let first = tx.count_records()?;
                    go.send(()).unwrap();
                    wait_for_commit.recv_timeout(WAIT).unwrap();
                    Ok((first, (tx.count_records()?, tx.record("r-b")?)))
                })
                .unwrap();
            assert_eq!(first, 1);
            assert_eq!(second, (1, None));
        });
        assert_eq!(store.read(|tx| tx.count_records()).unwrap(), 2);
    }

    #[test]
    fn reads_cannot_write() {
        let (_dir, store) = open();
        assert!(store.read(|tx| tx.set_meta("model", "v1")).is_err());
        assert_eq!(store.read(|tx| tx.meta("model")).unwrap(), None);
    }

    #[test]
    fn integrity_check_finds_a_damaged_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = {
            let store = SqliteStore::open(dir.path()).unwrap();
            let names: Vec<String> = (0..300).map(|i| format!("company {i}")).collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            seed(&store, &names);
            store.integrity_check().unwrap();
            store.path().to_path_buf()
        };
        // Closing checkpointed the log into the file: damage the records
        // and leave the first page (the header and the schema) alone.
        let mut bytes = std::fs::read(&path).unwrap();
        assert!(bytes.len() > 16 * 4096, "{} bytes", bytes.len());
        for b in &mut bytes[8 * 4096..12 * 4096] {
            *b = 0x5a;
        }
        std::fs::write(&path, bytes).unwrap();
        let checked = SqliteStore::open(dir.path()).and_then(|s| s.integrity_check());
        assert!(checked.is_err(), "{checked:?}");
    }
}

//! Background jobs — imports and trainings — from start to end: created in
//! the store (with what finishing them needs: the request's parameters, and
//! an import's file kept in the data directory's `jobs/` folder), run on a
//! thread of their own, cancelled on request, and finished at the next
//! start when a stop of the server cut them off ([`Service::resume_jobs`]).
//! What each kind does is in `import.rs` and `train.rs`.

use super::import::{ImportFormat, ImportRequest};
use super::train::FIRST_TRAINING_RECORDS;
use super::{Actor, IdemKey, Reply, Result, Service, ServiceError, Written};
use crate::matching::model::RETRAIN_LABELS;
use crate::store::{
    now, AuditAction, AuditEntry, Job, JobKind, JobStage, JobStatus, Role, StoreError, Tx,
};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What running a job (or finishing it after a restart) needs of its
/// request, kept in the job row.
#[derive(serde::Serialize, serde::Deserialize)]
struct JobRequest {
    /// Who started it (a resumed job acts for them).
    actor: String,
    role: Role,
    /// An import's file format.
    #[serde(default)]
    format: Option<String>,
    /// The source an import's rows get.
    #[serde(default)]
    source: Option<String>,
}

/// The next job id (`J0000001`, …).
fn next_job_id(tx: &mut dyn Tx) -> Result<String> {
    let n: u64 = tx
        .meta("next_job_id")?
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    tx.set_meta("next_job_id", &(n + 1).to_string())?;
    Ok(format!("J{n:07}"))
}

fn new_job(id: String, kind: JobKind, stage: JobStage, request: &JobRequest) -> Job {
    Job {
        id,
        kind,
        status: JobStatus::Running,
        stage: Some(stage),
        total: 0,
        done: 0,
        created_at: now(),
        finished_at: None,
        result: None,
        error: None,
        cancel_requested: false,
        resumed: false,
        request: Some(serde_json::to_string(request).expect("a job request serializes")),
    }
}

impl Service {
    /// `POST /v1/imports`: create an import job and run it on a thread of
    /// its own. The file is kept in the jobs folder until the job ends, so
    /// an import cut off by a stop of the server is finished at the next
    /// start. With an idempotency key, a retried upload answers with the
    /// first job.
    pub fn start_import(
        self: &Arc<Self>,
        actor: &Actor,
        req: ImportRequest,
        idem: Option<&IdemKey>,
    ) -> Result<Reply<Job>> {
        let request = JobRequest {
            actor: actor.name.clone(),
            role: actor.role,
            format: Some(req.format.as_str().to_string()),
            source: req.source.clone(),
        };
        let mut kept = None;
        let written = self.write_once(actor, idem, |tx| {
            let id = next_job_id(tx)?;
            // The file is on disk before the job exists: a job is never
            // without it.
            kept = Some(self.keep_upload(&id, &req.bytes)?);
            let job = new_job(id, JobKind::Import, JobStage::Storing, &request);
            tx.upsert_job(&job)?;
            Ok((job, ()))
        });
        let job = match written {
            Ok(Written::Fresh(job, ())) => job,
            Ok(Written::Replay(body)) => return Ok(Reply::Replay(body)),
            Err(e) => {
                if let Some(path) = kept {
                    let _ = std::fs::remove_file(path);
                }
                return Err(e);
            }
        };
        self.spawn_job(job.id.clone(), Some(req.bytes))?;
        Ok(Reply::Fresh(job))
    }

    /// `POST /v1/model/train`: a job that trains the model on every stored
    /// record and uses it from now on (minutes on a million records, so not
    /// within a request). While a training runs, asking again answers with
    /// that job: a second one would train on the same records.
    pub fn start_training(self: &Arc<Self>, actor: &Actor) -> Result<Job> {
        self.can_train()?;
        let request = JobRequest {
            actor: actor.name.clone(),
            role: actor.role,
            format: None,
            source: None,
        };
        let job = self.write(|tx| {
            if let Some(running) = tx
                .running_jobs()?
                .into_iter()
                .find(|j| j.kind == JobKind::Train)
            {
                return Ok((running, false));
            }
            let job = new_job(
                next_job_id(tx)?,
                JobKind::Train,
                JobStage::Training,
                &request,
            );
            tx.upsert_job(&job)?;
            Ok((job, true))
        })?;
        let (job, fresh) = job;
        if fresh {
            self.spawn_job(job.id.clone(), None)?;
        }
        Ok(job)
    }

    /// Where an import job's file is kept while it runs.
    fn upload_path(&self, job_id: &str) -> PathBuf {
        self.jobs_dir.join(format!("{job_id}.upload"))
    }

    /// Write an import job's file to the jobs folder, durably.
    fn keep_upload(&self, job_id: &str, bytes: &[u8]) -> Result<PathBuf> {
        use std::io::Write;
        let path = self.upload_path(job_id);
        let io = |e: std::io::Error| {
            ServiceError::Store(StoreError::Backend(format!(
                "cannot keep the upload in {}: {e}",
                self.jobs_dir.display()
            )))
        };
        let mut f = std::fs::File::create(&path).map_err(io)?;
        f.write_all(bytes).map_err(io)?;
        f.sync_all().map_err(io)?;
        Ok(path)
    }

    /// Run a job on a thread of its own (`bytes`: an import's file, when at
    /// hand; else it is read from the jobs folder).
    fn spawn_job(self: &Arc<Self>, id: String, bytes: Option<Vec<u8>>) -> Result<()> {
        let cancel = Arc::new(AtomicBool::new(false));
        self.cancels
            .lock()
            .expect("cancels")
            .insert(id.clone(), Arc::clone(&cancel));
        let me = Arc::clone(self);
        std::thread::Builder::new()
            .name(format!("job-{id}"))
            .spawn(move || {
                me.run_job(&id, bytes, &cancel);
                me.cancels.lock().expect("cancels").remove(&id);
            })
            .map_err(|e| {
                ServiceError::Store(StoreError::Backend(format!("cannot start job {e}")))
            })?;
        Ok(())
    }

    /// Run a job to its end and record how it ended: `done`, `cancelled`
    /// (an import's rows stored before were matched) or `failed`, with its
    /// result. An import's file and its list of stored records are let go.
    fn run_job(&self, id: &str, bytes: Option<Vec<u8>>, cancel: &AtomicBool) {
        let outcome = self.job(id).and_then(|job| {
            let request: JobRequest = job
                .request
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok())
                .ok_or_else(|| ServiceError::Invalid(format!("job {id} has no request")))?;
            let actor = Actor {
                name: request.actor,
                role: request.role,
            };
            if job.cancel_requested {
                cancel.store(true, Ordering::SeqCst);
            }
            match job.kind {
                JobKind::Import => {
                    let format = request
                        .format
                        .as_deref()
                        .and_then(ImportFormat::parse)
                        .ok_or_else(|| {
                            ServiceError::Invalid(format!("job {id}: no file format"))
                        })?;
                    let bytes = match bytes {
                        Some(b) => b,
                        None => std::fs::read(self.upload_path(id)).map_err(|e| {
                            ServiceError::Invalid(format!("the uploaded file is gone ({e})"))
                        })?,
                    };
                    let req = ImportRequest {
                        bytes,
                        format,
                        source: request.source,
                    };
                    let summary = self.run_import(&actor, &job, &req, cancel)?;
                    let cancelled = summary.left > 0;
                    Ok((serde_json::to_value(&summary).expect("json"), cancelled))
                }
                JobKind::Train => {
                    let m = self.retrain(&actor)?;
                    Ok((
                        serde_json::json!({ "prior": m.prior, "training": m.training }),
                        false,
                    ))
                }
            }
        });
        let finished = self.write(|tx| {
            let mut j = tx
                .job(id)?
                .ok_or_else(|| ServiceError::not_found("job", id))?;
            j.finished_at = Some(now());
            j.stage = None;
            match &outcome {
                Ok((result, cancelled)) => {
                    j.status = if *cancelled || j.cancel_requested {
                        JobStatus::Cancelled
                    } else {
                        JobStatus::Done
                    };
                    j.result = Some(result.clone());
                }
                Err(e) => {
                    j.status = JobStatus::Failed;
                    j.error = Some(e.to_string());
                }
            }
            tx.upsert_job(&j)?;
            tx.forget_job_records(id)?;
            Ok(())
        });
        if let Err(e) = finished {
            tracing::error!(job = id, error = %e, "cannot record how the job ended");
            return;
        }
        let _ = std::fs::remove_file(self.upload_path(id));
    }

    pub fn job(&self, id: &str) -> Result<Job> {
        self.read(|tx| {
            tx.job(id)?
                .ok_or_else(|| ServiceError::not_found("job", id))
        })
    }

    /// `POST /v1/jobs/{id}/cancel`: ask a running import to stop. It stores
    /// no more rows after the batch being written, matches those it stored,
    /// and ends `cancelled`; the request is kept, so an import cut off after
    /// it is cancelled when it is finished at the next start. A training is
    /// not cancelled: it changes nothing until its model is ready, and then
    /// it has done its work.
    pub fn cancel_job(&self, actor: &Actor, id: &str) -> Result<Job> {
        let job = self.write(|tx| {
            let mut j = tx
                .job(id)?
                .ok_or_else(|| ServiceError::not_found("job", id))?;
            if j.status != JobStatus::Running {
                return Err(ServiceError::Refused(format!(
                    "job {id} has ended ({})",
                    j.status
                )));
            }
            if j.kind != JobKind::Import {
                return Err(ServiceError::Refused(format!(
                    "job {id} is a {}: only imports are cancelled",
                    j.kind
                )));
            }
            if !j.cancel_requested {
                j.cancel_requested = true;
                tx.upsert_job(&j)?;
                tx.audit(&AuditEntry {
                    seq: 0,
                    at: now(),
                    actor: actor.name.clone(),
                    action: AuditAction::JobCancel,
                    subject: format!("job:{id}"),
                    before: serde_json::Value::Null,
                    after: serde_json::json!({ "done": j.done, "total": j.total }),
                    reason: None,
                })?;
            }
            Ok(j)
        })?;
        if let Some(flag) = self.cancels.lock().expect("cancels").get(id) {
            flag.store(true, Ordering::SeqCst);
        }
        Ok(job)
    }

    /// At start-up: finish every job a stop of the server cut off, on
    /// threads of their own as they would have run — an import stores the
    /// rows it had not stored, trains the model if there is none and
    /// matches every row it stored — each marked `resumed`; let go of files
    /// no job needs; and with nothing to resume and no model, train one
    /// when the store holds enough records (the stored model may have been
    /// left unused, trained under other rules). Returns the jobs resumed.
    pub fn resume_jobs(self: &Arc<Self>) -> Result<Vec<String>> {
        let running = self.read(|tx| Ok(tx.running_jobs()?))?;
        for job in &running {
            self.write(|tx| {
                let mut j = tx
                    .job(&job.id)?
                    .ok_or_else(|| ServiceError::not_found("job", &job.id))?;
                j.resumed = true;
                tx.upsert_job(&j)?;
                tx.audit(&AuditEntry {
                    seq: 0,
                    at: now(),
                    actor: "system".into(),
                    action: AuditAction::JobResume,
                    subject: format!("job:{}", j.id),
                    before: serde_json::Value::Null,
                    after: serde_json::json!({ "done": j.done, "total": j.total }),
                    reason: Some("the server stopped while the job ran".into()),
                })?;
                Ok(())
            })?;
            tracing::info!(
                job = job.id,
                done = job.done,
                total = job.total,
                "resuming a job"
            );
            self.spawn_job(job.id.clone(), None)?;
        }
        let keep: HashSet<PathBuf> = running.iter().map(|j| self.upload_path(&j.id)).collect();
        if let Ok(dir) = std::fs::read_dir(&self.jobs_dir) {
            for f in dir.flatten() {
                if !keep.contains(&f.path()) {
                    let _ = std::fs::remove_file(f.path());
                }
            }
        }
        // A store whose model was left unused (trained under other rules)
        // is trained again at once, as an import would train it.
        let untrained = self.model().is_none_or(|m| m.training.starting);
        if running.is_empty() && untrained && self.can_train().is_ok() {
            let job = self.start_training(&Actor::system())?;
            tracing::info!(job = job.id, "no trained model: training one");
        } else if running.is_empty() {
            self.train_when_due()?;
        }
        Ok(running.into_iter().map(|j| j.id).collect())
    }

    /// Whether a job of this process is running (its thread is registered
    /// until it ends).
    pub fn job_running(&self) -> bool {
        !self.cancels.lock().expect("cancels").is_empty()
    }

    /// Training started by the service itself, unless the model was given
    /// with `--model` or a job is running (an import trains by itself):
    /// while it matches with the rules' starting weights (or has no model)
    /// once it holds [`FIRST_TRAINING_RECORDS`] records, and again whenever
    /// it holds twice the records its model was trained on, or
    /// [`RETRAIN_LABELS`] more labels than it was trained with. Called after
    /// creates, after decisions and at start-up.
    pub fn train_when_due(self: &Arc<Self>) -> Result<Option<Job>> {
        if self.model_pinned() {
            return Ok(None);
        }
        let model = self.model();
        // After RETRAIN_LABELS more decisions: the labels teach m.
        if let Some(m) = model.as_ref().filter(|m| m.training.records > 0) {
            let labels = self.read(|tx| Ok(tx.count_labels()?))?;
            if labels >= m.training.labels + RETRAIN_LABELS {
                let _once = self.training_check.lock().expect("training check");
                if self.job_running() {
                    return Ok(None);
                }
                let job = self.start_training(&Actor::system())?;
                tracing::info!(job = job.id, labels, "training by itself on new labels");
                return Ok(Some(job));
            }
        }
        let due_at = match model {
            None => FIRST_TRAINING_RECORDS,
            Some(m) if m.training.starting => FIRST_TRAINING_RECORDS,
            Some(m) if m.training.records > 0 => 2 * m.training.records,
            Some(_) => return Ok(None),
        };
        // Called after every create: the index's count (committed, plus
        // the records changed since) rules most calls out without a store
        // query; `count(*)` over a million records is not free.
        let at_most = self.index.len() + self.index.uncommitted() as u64;
        if at_most < due_at {
            return Ok(None);
        }
        let _once = self.training_check.lock().expect("training check");
        if self.job_running() {
            return Ok(None);
        }
        let count = self.read(|tx| Ok(tx.count_records()?))?;
        if count < due_at {
            return Ok(None);
        }
        let job = self.start_training(&Actor::system())?;
        tracing::info!(job = job.id, records = count, "training by itself");
        Ok(Some(job))
    }
}

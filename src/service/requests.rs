//! Requests from the people the data is about (個人情報保護法: 開示・消去):
//! a disclosure of everything held about a customer, and the erasure of
//! every record of one, each under a request id and a reason, and each
//! answered in the audit log.

use super::review::EntityView;
use super::{Actor, Result, Service, ServiceError};
use crate::store::{now, AuditAction, AuditEntry, AuditFilter};
use serde::Serialize;

crate::stable_names! {
    /// How a disclosure is written.
    #[derive(Default)]
    pub enum DisclosureFormat {
        #[default]
        Json = "json",
        /// One row per value: `section,id,field,value` (sections `golden`,
        /// `record`, `history`, `audit`).
        Csv = "csv",
    }
}

/// A request from a person about their data: its id (the caller's ticket
/// number) and why it is answered.
#[derive(Debug, Clone)]
pub struct DataRequest {
    pub id: String,
    pub reason: String,
}

impl DataRequest {
    /// A request id as a record id is written (1–128 characters, no `/`,
    /// no control characters) and a reason that is not blank.
    pub fn new(id: &str, reason: &str) -> Result<DataRequest> {
        super::limits::check_id(id).map_err(|_| {
            ServiceError::Invalid(format!(
                "request_id `{}`: 1–128 characters, no `/`, no control characters",
                super::limits::shown(id)
            ))
        })?;
        if super::limits::is_blank(reason) {
            return Err(ServiceError::Invalid(
                "reason: say why the request is answered".into(),
            ));
        }
        Ok(DataRequest {
            id: id.to_string(),
            reason: reason.trim().to_string(),
        })
    }

    fn subject(&self) -> String {
        format!("request:{}", self.id)
    }
}

/// Everything held about a customer: the entity with its golden record,
/// every record and its history, and every audit entry about them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Disclosure {
    pub request_id: String,
    pub at: String,
    #[serde(flatten)]
    pub entity: EntityView,
    /// Audit entries about the entity, its records and their proposals,
    /// oldest first.
    pub audit: Vec<AuditEntry>,
}

/// What an erasure request erased.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Erasure {
    pub request_id: String,
    pub entity_id: String,
    /// Every record of the entity, erased.
    pub erased: Vec<String>,
}

/// The most audit entries of one subject a disclosure gathers.
const AUDIT_PER_SUBJECT: usize = 10_000;

impl Service {
    /// Disclose everything held about entity `id` (followed when merged
    /// away); the request is audited (ids only).
    pub fn disclose(&self, actor: &Actor, id: &str, request: &DataRequest) -> Result<Disclosure> {
        let entity = self.entity(id)?;
        // The entity and its proposals by subject; each record wherever an
        // entry names it (an import lists its records).
        let mut filters = vec![AuditFilter {
            subject: Some(format!("entity:{}", entity.entity.id)),
            ..AuditFilter::default()
        }];
        self.read(|tx| {
            for m in &entity.members {
                filters.push(AuditFilter {
                    mentions: Some(m.id.clone()),
                    ..AuditFilter::default()
                });
                for p in tx.proposals_of(m.num, false)? {
                    filters.push(AuditFilter {
                        subject: Some(format!("proposal:{}", p.id)),
                        ..AuditFilter::default()
                    });
                }
            }
            Ok(())
        })?;
        let mut audit: Vec<AuditEntry> = Vec::new();
        for mut f in filters {
            f.limit = AUDIT_PER_SUBJECT;
            audit.extend(self.audit(&f)?);
        }
        audit.sort_by_key(|e| e.seq);
        audit.dedup_by_key(|e| e.seq);
        let at = now();
        let _w = self.writer.lock().expect("writer");
        self.write(|tx| {
            tx.audit(&AuditEntry {
                seq: 0,
                at: at.clone(),
                actor: actor.name.clone(),
                action: AuditAction::RequestDisclose,
                subject: request.subject(),
                before: serde_json::Value::Null,
                after: serde_json::json!({
                    "entity": entity.entity.id,
                    "records": entity.members.iter().map(|m| &m.id).collect::<Vec<_>>(),
                }),
                reason: Some(request.reason.clone()),
            })?;
            Ok(())
        })?;
        Ok(Disclosure {
            request_id: request.id.clone(),
            at,
            entity,
            audit,
        })
    }

    /// Erase every record of entity `id` (followed when merged away), each
    /// as [`Service::delete`] erases one; the request and what it erased
    /// (ids only) are audited. Run again after a failure part-way, it
    /// erases what is left.
    pub fn erase_entity(&self, actor: &Actor, id: &str, request: &DataRequest) -> Result<Erasure> {
        let view = self.entity(id)?;
        let why = format!("request {}: {}", request.id, request.reason);
        let mut erased = Vec::new();
        for m in &view.members {
            self.delete(actor, &m.id, true, Some(why.clone()))?;
            erased.push(m.id.clone());
        }
        let _w = self.writer.lock().expect("writer");
        self.write(|tx| {
            tx.audit(&AuditEntry {
                seq: 0,
                at: now(),
                actor: actor.name.clone(),
                action: AuditAction::RequestErase,
                subject: request.subject(),
                before: serde_json::Value::Null,
                after: serde_json::json!({ "entity": view.entity.id, "records": erased }),
                reason: Some(request.reason.clone()),
            })?;
            Ok(())
        })?;
        Ok(Erasure {
            request_id: request.id.clone(),
            entity_id: view.entity.id,
            erased,
        })
    }
}

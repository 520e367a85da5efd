//! API tokens: `Authorization: Bearer <token>`. Tokens are stored as their
//! SHA-256 (a stolen database gives no usable token); the bootstrap admin
//! token comes from `NAYOSE_ADMIN_TOKEN` and is never stored.

use crate::service::Actor;
use crate::store::{now, AuditAction, AuditEntry, Role, Store, StoreError, StoreExt};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::sync::Arc;

pub struct Tokens {
    store: Arc<dyn Store>,
    bootstrap: Option<String>,
}

pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Tokens {
    /// `bootstrap`: the admin token from the environment, if any.
    pub fn new(store: Arc<dyn Store>, bootstrap: Option<String>) -> Tokens {
        Tokens {
            store,
            bootstrap: bootstrap.filter(|t| !t.is_empty()).map(|t| hash(&t)),
        }
    }

    /// Who holds this token, if anyone.
    pub fn actor(&self, token: &str) -> Result<Option<Actor>, StoreError> {
        let h = hash(token);
        if self.bootstrap.as_deref() == Some(h.as_str()) {
            return Ok(Some(Actor {
                name: "admin".into(),
                role: Role::Admin,
            }));
        }
        Ok(self.store.read(|tx| tx.token_by_hash(&h))?.map(|t| Actor {
            name: t.name,
            role: t.role,
        }))
    }

    /// Create a token; the plain token is returned once and never stored.
    pub fn create(&self, by: &str, name: &str, role: Role) -> Result<String, StoreError> {
        create_token(&*self.store, by, name, role)
    }
}

/// Create a token in a store (also used by `nayose token create`).
pub fn create_token(
    store: &dyn Store,
    by: &str,
    name: &str,
    role: Role,
) -> Result<String, StoreError> {
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = format!("nyt_{}", hex::encode(bytes));
    let h = hash(&token);
    store.write(|tx| {
        let at = now();
        let id = tx.insert_token(name, role, &h, &at)?;
        tx.audit(&AuditEntry {
            seq: 0,
            at,
            actor: by.to_string(),
            action: AuditAction::TokenCreate,
            subject: format!("token:{id}"),
            before: serde_json::Value::Null,
            after: serde_json::json!({ "name": name, "role": role.as_str() }),
            reason: None,
        })?;
        Ok(())
    })?;
    Ok(token)
}

//! `nayose serve`: the HTTP API over [`crate::service::Service`].
//!
//! Thin: authenticate, parse, call the service on a blocking thread, answer.
//! Every route is under `/v1` except `/healthz`, `/metrics` and
//! `/openapi.json`; every error is an [`error::ApiError`]. The request log
//! holds method, route template, status and time — never a body, a query
//! string or an id from the path, so no personal data reaches it.

pub mod auth;
pub mod error;
mod handlers;
pub mod metrics;
mod openapi;
pub mod ui;

use crate::service::Service;
use auth::Tokens;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use std::time::Duration;

/// Limits on what a request may carry.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// JSON bodies.
    pub json_bytes: usize,
    /// Import files.
    pub import_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            json_bytes: 1 << 20,
            import_bytes: 512 << 20,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub service: Arc<Service>,
    pub tokens: Arc<Tokens>,
    pub metrics: Arc<metrics::Metrics>,
    pub limits: Limits,
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    use handlers::*;
    let limits = state.limits;
    let v1 = Router::new()
        .route("/records", post(create_record).get(search_records))
        .route("/records/check", post(check_record))
        .route(
            "/records/{id}",
            get(get_record).put(update_record).delete(delete_record),
        )
        .route("/records/{id}/erase", post(erase_record))
        .route("/records/{id}/entity", get(record_entity))
        .route(
            "/imports",
            post(start_import).layer(DefaultBodyLimit::max(limits.import_bytes)),
        )
        .route("/jobs/{id}", get(get_job))
        .route("/proposals", get(list_proposals))
        .route("/proposals/counts", get(proposal_counts))
        .route("/proposals/bulk-approve", post(bulk_approve))
        .route("/proposals/{id}", get(get_proposal))
        .route("/proposals/{id}/approve", post(approve_proposal))
        .route("/proposals/{id}/reject", post(reject_proposal))
        .route("/proposals/{id}/defer", post(defer_proposal))
        .route("/proposals/{id}/reopen", post(reopen_proposal))
        .route("/proposals/{id}/assign", post(assign_proposal))
        .route("/entities/{id}", get(get_entity))
        .route("/entities/{id}/split", post(split_entity))
        .route("/audit", get(list_audit))
        .route("/tokens", post(create_token))
        .route("/model", get(get_model))
        .route("/model/train", post(train_model))
        .route("/me", get(whoami))
        .fallback(not_found);
    Router::new()
        .nest("/v1", v1)
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::serve_metrics))
        .route("/openapi.json", get(openapi::serve_openapi))
        .merge(ui::routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limits.json_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .with_state(state)
}

/// Serve until SIGINT or SIGTERM; then stop taking requests, let those in
/// flight finish, and commit the index.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let service = Arc::clone(&state.service);
    // Index commits are batched; this keeps any change from waiting long.
    let committer = {
        let service = Arc::clone(&service);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            loop {
                tick.tick().await;
                let s = Arc::clone(&service);
                let r = tokio::task::spawn_blocking(move || s.commit_index()).await;
                if let Ok(Err(e)) = r {
                    tracing::error!(error = %e, "index commit failed");
                }
            }
        })
    };
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    committer.abort();
    tokio::task::spawn_blocking(move || service.commit_index())
        .await
        .map_err(std::io::Error::other)?
        .map_err(std::io::Error::other)?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

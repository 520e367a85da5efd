//! `nayose serve`: the HTTP API over [`crate::service::Service`].
//!
//! Thin: authenticate, parse, call the service on a blocking thread, answer.
//! Every route is under `/v1` except `/healthz`, `/metrics` and
//! `/openapi.json`; every error — unknown routes and methods, malformed
//! query strings and paths, over-long request lines and bodies included —
//! is an [`error::ApiError`] in the one JSON shape. The request log
//! holds method, route template, status and time — never a body, a query
//! string or an id from the path, so no personal data reaches it.

pub mod auth;
pub mod error;
pub mod extract;
mod handlers;
pub mod metrics;
mod openapi;
pub mod ui;

use crate::service::Service;
use auth::Tokens;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use error::{ApiError, ErrorCode};
use std::sync::Arc;
use std::time::Duration;

/// Limits on what a request may carry, and how long its parts may take.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// JSON bodies.
    pub json_bytes: usize,
    /// Import files.
    pub import_bytes: usize,
    /// The request line (path and query), in bytes: a longer one is
    /// `414 uri_too_long` (hyper itself refuses one over 64 KiB, with an
    /// empty body).
    pub uri_bytes: usize,
    /// From a connection's accept (or its previous answer) to the end of
    /// the next request's headers; then the connection is closed.
    pub header_timeout: Duration,
    /// The longest pause between two pieces of a body: `408
    /// request_timeout`.
    pub body_timeout: Duration,
    /// Connections served at once; more wait to be accepted.
    pub connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            json_bytes: 1 << 20,
            import_bytes: 512 << 20,
            uri_bytes: 8 << 10,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            connections: 1024,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub service: Arc<Service>,
    pub tokens: Arc<Tokens>,
    pub metrics: Arc<metrics::Metrics>,
    pub limits: Limits,
    /// `/openapi.json`, made once from the routes and the rules' fields.
    pub openapi: Arc<String>,
}

impl AppState {
    pub fn new(service: Arc<Service>, tokens: Arc<Tokens>, limits: Limits) -> AppState {
        let openapi = Arc::new(openapi::document(&service.schema));
        AppState {
            service,
            tokens,
            metrics: Arc::new(metrics::Metrics::new()),
            limits,
            openapi,
        }
    }
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    use handlers::*;
    let v1 = Router::new()
        .route("/records", post(create_record).get(search_records))
        .route("/records/check", post(check_record))
        .route(
            "/records/{id}",
            get(get_record).put(update_record).delete(delete_record),
        )
        .route("/records/{id}/erase", post(erase_record))
        .route("/records/{id}/entity", get(record_entity))
        .route("/imports", post(start_import))
        .route("/jobs/{id}", get(get_job))
        .route("/jobs/{id}/cancel", post(cancel_job))
        .route("/proposals", get(list_proposals))
        .route("/proposals/counts", get(proposal_counts))
        .route("/proposals/bulk-approve", post(bulk_approve))
        .route("/proposals/{id}", get(get_proposal))
        .route("/proposals/{id}/approve", post(approve_proposal))
        .route("/proposals/{id}/reject", post(reject_proposal))
        .route("/proposals/{id}/defer", post(defer_proposal))
        .route("/proposals/{id}/reopen", post(reopen_proposal))
        .route("/proposals/{id}/assign", post(assign_proposal))
        .route("/proposals/{id}/group", get(get_group).post(decide_group))
        .route("/proposals/{id}/comments", post(comment_proposal))
        .route("/proposals/{id}/preview", post(preview_proposal))
        .route("/search", get(search_entities))
        .route("/entities/{id}", get(get_entity))
        .route("/entities/{id}/split", post(split_entity))
        .route("/entities/{id}/unsplit", post(unsplit_entity))
        .route("/entities/{id}/disclose", post(disclose_entity))
        .route("/entities/{id}/golden", post(shape_entity))
        .route("/entities/{id}/erase", post(erase_entity))
        .route("/audit", get(list_audit))
        .route("/tokens", post(create_token))
        .route("/model", get(get_model))
        .route("/model/bands", get(get_model_bands))
        .route("/labels", get(list_labels).post(import_labels))
        .route(
            "/merge-audit",
            get(merge_audit_sample).post(answer_merge_audit),
        )
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
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .with_state(state)
}

/// Refuse at once, before anything else is read: a request line over the
/// limit (`414`), and a body whose announced `Content-Length` is over the
/// route's limit (`413`; the body is never read, the connection closes).
async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limits = state.limits;
    let uri = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if uri > limits.uri_bytes {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            ErrorCode::UriTooLong,
            format!("the request line is over {} bytes", limits.uri_bytes),
        )
        .into_response();
    }
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(n) = announced {
        let limit = if req.uri().path() == "/v1/imports" {
            limits.import_bytes
        } else {
            limits.json_bytes
        };
        if n > limit as u64 {
            return ApiError::too_large().into_response();
        }
    }
    next.run(req).await
}

/// Serve until SIGINT or SIGTERM; then stop taking connections, let the
/// requests in flight finish (for up to 30 s), and commit the index. Every
/// connection has the header timeout (an idle keep-alive connection is
/// closed by it too) and every body the body timeout.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::server::graceful::GracefulShutdown;
    use hyper_util::service::TowerToHyperService;

    let service = Arc::clone(&state.service);
    let limits = state.limits;
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
    let app = tower::ServiceBuilder::new()
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            limits.body_timeout,
        ))
        .service(router(state));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.connections));
    let mut stop = std::pin::pin!(shutdown_signal());
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot.expect("never closed"),
            _ = &mut stop => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut stop => break,
        };
        let tcp = match accepted {
            Ok((tcp, _)) => tcp,
            Err(e) => {
                // Out of file descriptors and the like: wait, then go on.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let conn = http.serve_connection(TokioIo::new(tcp), TowerToHyperService::new(app.clone()));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // An error here is the client's: a timeout, a malformed request.
            let _ = conn.await;
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(30)) => {
            tracing::warn!("requests still in flight after 30 s; stopping anyway");
        }
    }
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

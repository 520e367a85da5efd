//! Prometheus metrics (`GET /metrics`) and the request log.

use super::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::time::Instant;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The route template (`/v1/records/{id}`), never the concrete path.
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    records: Gauge<i64, std::sync::atomic::AtomicI64>,
    uncommitted: Gauge<i64, std::sync::atomic::AtomicI64>,
    segments: Gauge<i64, std::sync::atomic::AtomicI64>,
    pending_proposals: Gauge<i64, std::sync::atomic::AtomicI64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("nayose");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
            ])
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to answer, by route",
            latency.clone(),
        );
        let records = Gauge::default();
        registry.register("records", "Records in the store", records.clone());
        let uncommitted = Gauge::default();
        registry.register(
            "index_uncommitted",
            "Changes waiting for the next index commit",
            uncommitted.clone(),
        );
        let segments = Gauge::default();
        registry.register(
            "index_segments",
            "Segments in the committed index (merged in the background; each is searched on its own)",
            segments.clone(),
        );
        let pending_proposals = Gauge::default();
        registry.register(
            "proposals_pending",
            "Proposals waiting for a steward",
            pending_proposals.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            records,
            uncommitted,
            segments,
            pending_proposals,
        }
    }
}

/// Count and time every request; log it without personal data.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let response = next.run(req).await;
    let status = response.status().as_u16();
    let secs = start.elapsed().as_secs_f64();
    state
        .metrics
        .requests
        .get_or_create(&RequestLabels {
            method: method.clone(),
            route: route.clone(),
            status,
        })
        .inc();
    state
        .metrics
        .latency
        .get_or_create(&RouteLabels {
            method: method.clone(),
            route: route.clone(),
        })
        .observe(secs);
    tracing::info!(%method, %route, status, ms = secs * 1000.0, "request");
    response
}

pub async fn serve_metrics(State(state): State<AppState>) -> Response {
    let service = std::sync::Arc::clone(&state.service);
    let figures = tokio::task::spawn_blocking(move || {
        use crate::store::StoreExt;
        let records = service.store().read(|tx| tx.count_records()).unwrap_or(0);
        let pending: u64 = service
            .store()
            .read(|tx| tx.pending_counts())
            .map(|m| m.values().sum())
            .unwrap_or(0);
        let index = service.index();
        (records, pending, index.uncommitted(), index.segments())
    })
    .await
    .unwrap_or((0, 0, 0, 0));
    state.metrics.records.set(figures.0 as i64);
    state.metrics.pending_proposals.set(figures.1 as i64);
    state.metrics.uncommitted.set(figures.2 as i64);
    state.metrics.segments.set(figures.3 as i64);
    let mut out = String::new();
    if prometheus_client::encoding::text::encode(&mut out, &state.metrics.registry).is_err() {
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        out,
    )
        .into_response()
}

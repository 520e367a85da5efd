//! The `/v1` handlers: take what the route needs from the request (the
//! caller with the route's role first, then path, query and body, each
//! refused in the one error shape: `extract.rs`), run the service call on a
//! blocking thread, answer with the route's status. The `#[utoipa::path]` on
//! each is what `/openapi.json` is generated from; `openapi.rs` adds the
//! error answers every route shares.

use super::error::{ApiError, ErrorBody};
use super::extract::{
    whole, whole_param, Admin, ApiJson, ApiPath, ApiQuery, Caller, Ingest, Steward, Viewer,
};
use super::AppState;
use crate::matching::band::LabelEstimates;
use crate::matching::model::Model;
use crate::matching::Band;
use crate::service::golden::Golden;
use crate::service::import::{ImportFormat, ImportRequest};
use crate::service::labels::{LabelImport, LabelsFormat, LABELS_PAGE_MAX};
use crate::service::limits::{self, MAX_NAME_CHARS, MAX_TEXT_CHARS};
use crate::service::merge_audit::{MergeAuditSample, AUDIT_SAMPLE_MAX};
use crate::service::requests::{DataRequest, Disclosure, DisclosureFormat, Erasure};
use crate::service::review::{
    BulkOutcome, Decision, DecisionRequest, EntityView, GoldenPreview, GroupDecision, GroupOutcome,
    GroupView, ProposalDetail, ProposalItem, RecordSummary, SearchResult,
};
use crate::service::{Candidate, CreateOutcome, FieldSchema, IdemKey, RecordInput, Reply, Service};
use crate::store::{
    AuditAction, AuditEntry, AuditFilter, AuditFormat, AuditOrder, Comment, Job, Label, LabelKind,
    Proposal, ProposalFilter, ProposalSort, ProposalSource, ProposalStatus, Record, Role,
};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

/// After a write that can make training due (a record stored, a decision
/// or labels kept): start it. The write stands whether or not it starts; a
/// failure is logged and tried again after the next such write.
fn train_if_due(service: &Arc<Service>) {
    if let Err(e) = service.train_when_due() {
        tracing::warn!("training by itself did not start: {e}");
    }
}

/// Run a service call off the async threads.
async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&Service) -> Result<T, crate::service::ServiceError> + Send + 'static,
) -> Result<T, ApiError> {
    let s = Arc::clone(&state.service);
    tokio::task::spawn_blocking(move || f(&s))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(ApiError::from)
}

/// The longest idempotency key.
const MAX_IDEMPOTENCY_KEY: usize = 200;

fn idem_key(headers: &HeaderMap, route: &str, hash: &str) -> Result<Option<IdemKey>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = v
        .to_str()
        .ok()
        .filter(|k| {
            (1..=MAX_IDEMPOTENCY_KEY).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic())
        })
        .ok_or_else(|| {
            ApiError::invalid(format!(
                "Idempotency-Key: 1–{MAX_IDEMPOTENCY_KEY} visible ASCII characters"
            ))
        })?;
    Ok(Some(IdemKey {
        key: key.to_string(),
        request_hash: format!("{route} {hash}"),
    }))
}

/// A write's answer with the route's status; a replayed one with the same
/// status and the stored body.
fn reply<T: Serialize>(r: Reply<T>, status: StatusCode) -> Response {
    match r {
        Reply::Fresh(v) => (status, Json(v)).into_response(),
        Reply::Replay(body) => {
            (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
    }
}

/// `limit` within `1..=max`, `default` when absent.
fn limit_of(limit: Option<u32>, default: usize, max: usize) -> Result<usize, ApiError> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=max as u32).contains(&n) => Ok(n as usize),
        Some(n) => Err(ApiError::invalid(format!("limit {n}: 1 to {max}"))),
    }
}

/// A cursor handed out as `next_cursor`: 1–18 digits.
fn cursor_of(cursor: Option<&str>) -> Result<Option<u64>, ApiError> {
    match cursor {
        None => Ok(None),
        Some(c) if (1..=18).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(c.parse().ok())
        }
        Some(_) => Err(ApiError::invalid("cursor: pass back a next_cursor")),
    }
}

/// A query-string text parameter: `min..=max` characters.
fn text_param(name: &str, v: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    match v {
        Some(t) if t.is_empty() || t.chars().count() > max => {
            Err(ApiError::invalid(format!("{name}: 1 to {max} characters")))
        }
        other => Ok(other),
    }
}

/// A body's free text (a reason, a name): at most `max` characters.
fn body_text(name: &str, v: &Option<String>, max: usize) -> Result<(), ApiError> {
    match v {
        Some(t) if t.chars().count() > max => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            super::error::ErrorCode::InvalidRequest,
            format!("{name}: at most {max} characters"),
        )),
        _ => Ok(()),
    }
}

// ---- records -----------------------------------------------------------------

/// The most candidates an answer lists.
pub const MAX_CANDIDATES: usize = 100;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LimitQuery {
    /// How many candidates the answer lists at most (default 10).
    #[param(minimum = 1, maximum = 100)]
    #[serde(default, deserialize_with = "whole_param")]
    limit: Option<u32>,
}

impl LimitQuery {
    fn limit(&self) -> Result<usize, ApiError> {
        limit_of(self.limit, 10, MAX_CANDIDATES)
    }
}

/// A check's answer.
#[derive(Serialize, ToSchema)]
pub struct CheckResponse {
    pub candidates: Vec<Candidate>,
}

/// Is this customer already here? Scores the record against the store without writing.
#[utoipa::path(post, path = "/v1/records/check", request_body = RecordInput,
    params(LimitQuery),
    responses((status = 200, body = CheckResponse), (status = 503, body = ErrorBody, description = "no model yet")),
    security(("token" = [])))]
pub async fn check_record(
    _caller: Caller<Viewer>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<LimitQuery>,
    body: ApiJson<RecordInput>,
) -> Result<Json<CheckResponse>, ApiError> {
    let limit = q.limit()?;
    let candidates = blocking(&state, move |s| s.check(&body.value, limit)).await?;
    Ok(Json(CheckResponse { candidates }))
}

/// Store a record; it is checked in the same call (auto-merged in the match band, proposed in the review band). Every candidate is acted on; the answer lists the best `limit`. Until the service has trained a model on its own records it matches with the rules' starting weights; it trains by itself once it holds 1,000 records.
#[utoipa::path(post, path = "/v1/records", request_body = RecordInput,
    params(LimitQuery, ("Idempotency-Key" = Option<String>, Header, description = "repeat a write safely: 1–200 visible ASCII characters")),
    responses((status = 201, body = CreateOutcome), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody, description = "the id is taken, or the idempotency key came with another request")),
    security(("token" = [])))]
pub async fn create_record(
    caller: Caller<Ingest>,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<LimitQuery>,
    body: ApiJson<RecordInput>,
) -> Result<Response, ApiError> {
    let limit = q.limit()?;
    let idem = idem_key(&headers, "POST /v1/records", &body.hash)?;
    let actor = caller.actor;
    let service = Arc::clone(&state.service);
    let r = blocking(&state, move |s| {
        let r = s.create(&actor, body.value, idem.as_ref(), limit)?;
        train_if_due(&service);
        Ok(r)
    })
    .await?;
    Ok(reply(r, StatusCode::CREATED))
}

#[utoipa::path(get, path = "/v1/records/{id}", params(("id" = String, Path)),
    responses((status = 200, body = Record)),
    security(("token" = [])))]
pub async fn get_record(
    caller: Caller<Viewer>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Record>, ApiError> {
    let mut r = blocking(&state, move |s| s.record(&id)).await?;
    if caller.masked() {
        mask_record(&state.service.schema, &mut r);
    }
    Ok(Json(r))
}

/// A record's new fields (`PUT`): they replace the old ones whole.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordUpdate {
    pub fields: BTreeMap<String, String>,
}

/// Replace a record's fields: re-normalized, re-indexed, re-matched (with the rules' starting weights until the service has trained a model).
#[utoipa::path(put, path = "/v1/records/{id}", request_body = RecordUpdate,
    params(("id" = String, Path), LimitQuery, ("Idempotency-Key" = Option<String>, Header, description = "repeat a write safely: 1–200 visible ASCII characters")),
    responses((status = 200, body = CreateOutcome), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody, description = "the idempotency key came with another request")),
    security(("token" = [])))]
pub async fn update_record(
    caller: Caller<Ingest>,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<LimitQuery>,
    body: ApiJson<RecordUpdate>,
) -> Result<Response, ApiError> {
    let limit = q.limit()?;
    let idem = idem_key(&headers, &format!("PUT /v1/records/{id}"), &body.hash)?;
    let actor = caller.actor;
    let r = blocking(&state, move |s| {
        s.update(&actor, &id, body.value.fields, idem.as_ref(), limit)
    })
    .await?;
    Ok(reply(r, StatusCode::OK))
}

#[utoipa::path(delete, path = "/v1/records/{id}", params(("id" = String, Path)),
    responses((status = 204, description = "deleted"), (status = 403, body = ErrorBody)),
    security(("token" = [])))]
pub async fn delete_record(
    caller: Caller<Ingest>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let actor = caller.actor;
    blocking(&state, move |s| s.delete(&actor, &id, false, None)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    /// Why (kept in the audit log); at most 1000 characters.
    #[serde(default)]
    #[schema(max_length = 1000)]
    reason: Option<String>,
}

/// Erase a person's record (APPI): removed from store, index, proposals and golden records; the audit log keeps a PII-free tombstone.
#[utoipa::path(post, path = "/v1/records/{id}/erase", params(("id" = String, Path)),
    request_body = ReasonBody,
    responses((status = 204, description = "erased"), (status = 403, body = ErrorBody)),
    security(("token" = [])))]
pub async fn erase_record(
    caller: Caller<Admin>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<ReasonBody>,
) -> Result<StatusCode, ApiError> {
    body_text("reason", &body.value.reason, MAX_TEXT_CHARS)?;
    let actor = caller.actor;
    blocking(&state, move |s| {
        s.delete(&actor, &id, true, body.value.reason)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Crosswalk {
    pub record_id: String,
    pub entity_id: String,
}

/// The crosswalk: which entity a source record belongs to now.
#[utoipa::path(get, path = "/v1/records/{id}/entity", params(("id" = String, Path)),
    responses((status = 200, body = Crosswalk)),
    security(("token" = [])))]
pub async fn record_entity(
    _caller: Caller<Viewer>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Crosswalk>, ApiError> {
    let (record_id, entity_id) = blocking(&state, move |s| s.crosswalk(&id)).await?;
    Ok(Json(Crosswalk {
        record_id,
        entity_id,
    }))
}

/// The longest search text.
pub const MAX_QUERY_CHARS: usize = 200;
/// The most records a search lists.
pub const MAX_SEARCH_RESULTS: usize = 500;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Text found in any field: a name, kana, phone, e-mail or address (not blank).
    #[param(min_length = 1, max_length = 200)]
    q: String,
    /// At most this many records (default 50).
    #[param(minimum = 1, maximum = 500)]
    #[serde(default, deserialize_with = "whole_param")]
    limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct RecordList {
    pub items: Vec<Record>,
    /// Searches answer in one page.
    pub next_cursor: Option<String>,
    /// More records matched than `limit`: the first `limit` by id are
    /// listed; a narrower `q` (or a larger `limit`) finds the rest.
    pub truncated: bool,
}

/// The most customers a search lists.
pub const MAX_SEARCH_ENTITIES: usize = 100;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EntitySearchQuery {
    /// A name, kana, phone number, e-mail or address (not blank), in any
    /// notation: spaces, width, hiragana or katakana, variant kanji, phone
    /// and e-mail notations are folded as the matcher folds them.
    #[param(min_length = 1, max_length = 200)]
    q: String,
    /// At most this many customers (default 20).
    #[param(minimum = 1, maximum = 100)]
    #[serde(default, deserialize_with = "whole_param")]
    limit: Option<u32>,
}

/// Find a customer: every entity whose records hold the query, each with
/// every one of its records (not only those that matched) and its golden
/// record — what a disclosure or erasure request must cover.
#[utoipa::path(get, path = "/v1/search", params(EntitySearchQuery),
    responses((status = 200, body = SearchResult)), security(("token" = [])))]
pub async fn search_entities(
    caller: Caller<Viewer>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<EntitySearchQuery>,
) -> Result<Json<SearchResult>, ApiError> {
    let limit = limit_of(q.limit, 20, MAX_SEARCH_ENTITIES)?;
    if q.q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::invalid(format!(
            "q: at most {MAX_QUERY_CHARS} characters"
        )));
    }
    let mut found = blocking(&state, move |s| s.search_entities(&q.q, limit)).await?;
    if caller.masked() {
        let schema = &state.service.schema;
        for e in &mut found.entities {
            e.members.iter_mut().for_each(|r| mask_record(schema, r));
            mask_golden(schema, &mut e.golden);
        }
    }
    Ok(Json(found))
}

/// Search records (for disclosure and erasure requests).
#[utoipa::path(get, path = "/v1/records", params(SearchQuery),
    responses((status = 200, body = RecordList)), security(("token" = [])))]
pub async fn search_records(
    caller: Caller<Viewer>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<RecordList>, ApiError> {
    let limit = limit_of(q.limit, 50, MAX_SEARCH_RESULTS)?;
    if q.q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::invalid(format!(
            "q: at most {MAX_QUERY_CHARS} characters"
        )));
    }
    // One more than asked, to know whether the answer was cut.
    let mut items = blocking(&state, move |s| s.search(&q.q, limit + 1)).await?;
    let truncated = items.len() > limit;
    items.truncate(limit);
    if caller.masked() {
        let schema = &state.service.schema;
        items.iter_mut().for_each(|r| mask_record(schema, r));
    }
    Ok(Json(RecordList {
        items,
        next_cursor: None,
        truncated,
    }))
}

// ---- imports and jobs ------------------------------------------------------

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// The source system every row gets (a `source` column wins).
    #[param(min_length = 1, max_length = 64)]
    source: Option<String>,
}

/// Import a file (CSV, TSV, XLSX or NDJSON, by Content-Type) as a job; `GET /v1/jobs/{id}` follows it. The file is kept until the job ends, so an import cut off by a crash is finished at the next start.
#[utoipa::path(post, path = "/v1/imports", params(ImportQuery, ("Idempotency-Key" = Option<String>, Header, description = "repeat a write safely: 1–200 visible ASCII characters")),
    request_body(content(
        (String = "text/csv"),
        (String = "text/tab-separated-values"),
        (String = "application/x-ndjson"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    responses((status = 202, body = Job), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody, description = "the idempotency key came with another request")),
    security(("token" = [])))]
pub async fn start_import(
    caller: Caller<Ingest>,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ImportQuery>,
    req: Request,
) -> Result<Response, ApiError> {
    if let Some(source) = &q.source {
        limits::check_source(source).map_err(|e| ApiError::invalid(e.to_string()))?;
    }
    let format = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(ImportFormat::from_content_type)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                super::error::ErrorCode::UnsupportedMediaType,
                "Content-Type: text/csv, text/tab-separated-values, application/x-ndjson or the XLSX type",
            )
        })?;
    let bytes = super::extract::read_body(req.into_body(), state.limits.import_bytes).await?;
    let hash = hex::encode(Sha256::digest(&bytes));
    let idem = idem_key(
        &headers,
        &format!("POST /v1/imports {:?} {:?}", format, q.source),
        &hash,
    )?;
    let request = ImportRequest {
        bytes: bytes.to_vec(),
        format,
        source: q.source,
    };
    let s = Arc::clone(&state.service);
    let actor = caller.actor;
    let r = tokio::task::spawn_blocking(move || s.start_import(&actor, request, idem.as_ref()))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(ApiError::from)?;
    Ok(reply(r, StatusCode::ACCEPTED))
}

/// A job: its stage, progress and (when it ended) its result.
#[utoipa::path(get, path = "/v1/jobs/{id}", params(("id" = String, Path)),
    responses((status = 200, body = Job)),
    security(("token" = [])))]
pub async fn get_job(
    _caller: Caller<Viewer>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Job>, ApiError> {
    Ok(Json(blocking(&state, move |s| s.job(&id)).await?))
}

/// Stop a running import: no more rows are stored after the batch being written; the rows stored so far are still matched, then the job ends `cancelled`.
#[utoipa::path(post, path = "/v1/jobs/{id}/cancel", params(("id" = String, Path)),
    responses((status = 202, body = Job, description = "cancellation requested"), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody, description = "the job has ended")),
    security(("token" = [])))]
pub async fn cancel_job(
    caller: Caller<Ingest>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<Job>), ApiError> {
    let actor = caller.actor;
    let job = blocking(&state, move |s| s.cancel_job(&actor, &id)).await?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

// ---- masking for viewers ----------------------------------------------------

/// `山田太郎` → `山＊＊＊`: the first character stays so a viewer can tell
/// records apart, the rest is hidden. A value of one character (a gender,
/// a one-kanji given name) is hidden whole: its first is all of it.
pub fn mask(v: &str) -> String {
    let longer = v.chars().filter(|c| !c.is_whitespace()).nth(1).is_some();
    let mut out = String::new();
    for (i, c) in v.chars().enumerate() {
        out.push(if (i == 0 && longer) || c.is_whitespace() {
            c
        } else {
            '＊'
        });
    }
    out
}

/// Mask a record's personal values for a viewer; public business data
/// (company name, its kana, the 法人番号) stays as it is.
fn mask_record(schema: &FieldSchema, r: &mut Record) {
    for (k, v) in r.fields.iter_mut() {
        if !schema.is_public(k) {
            *v = mask(v);
        }
    }
    for (k, f) in r.normalized.iter_mut() {
        if schema.is_public(k) {
            continue;
        }
        if let Some(v) = f.value.as_mut() {
            *v = mask(v);
        }
        f.issues.clear();
    }
}

fn mask_summary(schema: &FieldSchema, r: &mut RecordSummary) {
    for (k, v) in r.fields.iter_mut() {
        if !schema.is_public(k) {
            *v = mask(v);
        }
    }
    r.rename();
}

fn mask_golden(schema: &FieldSchema, g: &mut Golden) {
    for (k, f) in g.iter_mut() {
        if !schema.is_public(k) {
            f.value = mask(&f.value);
        }
    }
}

// ---- proposals -------------------------------------------------------------

/// The most proposals a page lists.
pub const MAX_PROPOSAL_PAGE: usize = 500;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProposalQuery {
    status: Option<ProposalStatus>,
    band: Option<Band>,
    source: Option<ProposalSource>,
    /// A steward's name.
    #[param(min_length = 1, max_length = 100)]
    assignee: Option<String>,
    /// Only proposals scoring at least this (log2 odds).
    min_score: Option<f64>,
    /// `id` (oldest first, the default), `uncertainty` (probability nearest 0.5 first), `score` (highest first) or `informative` (what a label would teach the model most first: uncertain pairs at the comparison levels with the fewest labels, among the 1,000 most uncertain; then by uncertainty)
    sort: Option<ProposalSort>,
    /// A `next_cursor` from the page before.
    #[param(pattern = "^[0-9]{1,18}$")]
    cursor: Option<String>,
    /// At most this many proposals (default 50).
    #[param(minimum = 1, maximum = 500)]
    #[serde(default, deserialize_with = "whole_param")]
    limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct ProposalList {
    /// Each proposal with its two records' names and key values (masked for
    /// viewers, but for public business data).
    pub items: Vec<ProposalItem>,
    /// Pass as `cursor` for the next page; null on the last one.
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/proposals", params(ProposalQuery),
    responses((status = 200, body = ProposalList)),
    security(("token" = [])))]
pub async fn list_proposals(
    caller: Caller<Viewer>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ProposalQuery>,
) -> Result<Json<ProposalList>, ApiError> {
    let sort = q.sort.unwrap_or_default();
    let limit = limit_of(q.limit, 50, MAX_PROPOSAL_PAGE)?;
    if q.min_score.is_some_and(|m| !m.is_finite()) {
        return Err(ApiError::invalid("min_score: a finite number"));
    }
    // The cursor is the last proposal number by id, the rows seen so far
    // in a sorted order; either way the client only passes it back.
    let cursor = cursor_of(q.cursor.as_deref())?;
    let (after, offset) = match sort {
        ProposalSort::ByNumber => (cursor, 0),
        _ => (None, cursor.unwrap_or(0) as usize),
    };
    let filter = ProposalFilter {
        status: q.status,
        band: q.band,
        source: q.source,
        assignee: text_param("assignee", q.assignee, MAX_NAME_CHARS)?,
        min_score: q.min_score,
        after,
        sort,
        offset,
        limit,
    };
    let mut items = blocking(&state, move |s| s.proposal_items(&filter)).await?;
    if caller.masked() {
        let schema = &state.service.schema;
        for r in items.iter_mut().flat_map(|i| i.records.iter_mut()) {
            mask_summary(schema, r);
        }
    }
    let next_cursor = match sort {
        ProposalSort::ByNumber => items.last().map(|p| p.proposal.id.clone()),
        _ => Some((offset + items.len()).to_string()),
    }
    .filter(|_| items.len() == limit);
    Ok(Json(ProposalList { items, next_cursor }))
}

#[derive(Serialize, ToSchema)]
pub struct Counts {
    /// Pending (open and deferred) proposals per band.
    pub pending: BTreeMap<Band, u64>,
}

#[utoipa::path(get, path = "/v1/proposals/counts",
    responses((status = 200, body = Counts)), security(("token" = [])))]
pub async fn proposal_counts(
    _caller: Caller<Viewer>,
    State(state): State<AppState>,
) -> Result<Json<Counts>, ApiError> {
    let pending = blocking(&state, |s| s.proposal_counts()).await?;
    Ok(Json(Counts { pending }))
}

#[utoipa::path(get, path = "/v1/proposals/{id}", params(("id" = String, Path)),
    responses((status = 200, body = ProposalDetail)),
    security(("token" = [])))]
pub async fn get_proposal(
    caller: Caller<Viewer>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ProposalDetail>, ApiError> {
    let mut d = blocking(&state, move |s| s.proposal(&id)).await?;
    if caller.masked() {
        let schema = &state.service.schema;
        d.records.iter_mut().for_each(|r| mask_record(schema, r));
        for f in &mut d.fields {
            if schema.is_public(&f.field) {
                continue;
            }
            for v in f.values.iter_mut().flatten() {
                *v = mask(v);
            }
        }
        mask_golden(schema, &mut d.proposed_golden);
    }
    Ok(Json(d))
}

/// An approval.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    /// Field → the record whose value the golden record keeps (a member of either entity).
    #[serde(default)]
    winners: BTreeMap<String, String>,
    /// Field → a value the steward typed (a correction no member holds; kept with who, when and why).
    #[serde(default)]
    values: BTreeMap<String, String>,
    /// Why (kept with the decision and in the audit log); at most 1000 characters.
    #[serde(default)]
    #[schema(max_length = 1000)]
    reason: Option<String>,
    /// The proposal version the steward saw; a stale one gets 409.
    #[serde(default, deserialize_with = "whole")]
    version: Option<u64>,
}

/// A rejection, deferral or reopening.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// Why (kept with the decision and in the audit log); at most 1000 characters.
    #[serde(default)]
    #[schema(max_length = 1000)]
    reason: Option<String>,
    /// The proposal version the steward saw; a stale one gets 409.
    #[serde(default, deserialize_with = "whole")]
    version: Option<u64>,
}

async fn decide(
    caller: Caller<Steward>,
    state: AppState,
    headers: HeaderMap,
    id: String,
    body: ApiJson<ApproveBody>,
    decision: Decision,
) -> Result<Response, ApiError> {
    let verb = match decision {
        Decision::Approve => "approve",
        Decision::Reject => "reject",
        Decision::Defer => "defer",
        Decision::Reopen => "reopen",
    };
    let idem = idem_key(
        &headers,
        &format!("POST /v1/proposals/{id}/{verb}"),
        &body.hash,
    )?;
    body_text("reason", &body.value.reason, MAX_TEXT_CHARS)?;
    let b = body.value;
    let request = DecisionRequest {
        decision,
        values: b.values,
        winners: b.winners,
        reason: b.reason,
        version: b.version,
    };
    let actor = caller.actor;
    let service = Arc::clone(&state.service);
    let r = blocking(&state, move |s| {
        let r = s.decide(&actor, &id, request, idem.as_ref())?;
        train_if_due(&service);
        Ok(r)
    })
    .await?;
    Ok(reply(r, StatusCode::OK))
}

/// A rejection's, deferral's or reopening's body as an approval without winners.
fn without_winners(body: ApiJson<DecisionBody>) -> ApiJson<ApproveBody> {
    ApiJson {
        value: ApproveBody {
            winners: BTreeMap::new(),
            values: BTreeMap::new(),
            reason: body.value.reason,
            version: body.value.version,
        },
        hash: body.hash,
    }
}

/// Approve: merge the two records' entities (optionally choosing per-field winners).
#[utoipa::path(post, path = "/v1/proposals/{id}/approve", params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "repeat a write safely: 1–200 visible ASCII characters")),
    request_body = ApproveBody,
    responses((status = 200, body = Proposal), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody, description = "decided meanwhile (`current` is the proposal now), a winner is not a member, or the idempotency key came with another request")),
    security(("token" = [])))]
pub async fn approve_proposal(
    caller: Caller<Steward>,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<ApproveBody>,
) -> Result<Response, ApiError> {
    decide(caller, state, headers, id, body, Decision::Approve).await
}

/// A comment on a proposal.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    /// 1–1000 characters, not blank.
    #[schema(min_length = 1, max_length = 1000)]
    text: String,
}

/// Comment on a proposal (shown with it, oldest first; the audit log names the comment, not its text).
#[utoipa::path(post, path = "/v1/proposals/{id}/comments", params(("id" = String, Path)),
    request_body = CommentBody,
    responses((status = 201, body = Comment), (status = 403, body = ErrorBody)),
    security(("token" = [])))]
pub async fn comment_proposal(
    caller: Caller<Steward>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<CommentBody>,
) -> Result<(StatusCode, Json<Comment>), ApiError> {
    let text = body.value.text;
    let actor = caller.actor;
    let c = blocking(&state, move |s| s.comment(&actor, &id, &text)).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// Choices for a golden record: records per field, typed values.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShapeBody {
    /// Field → the member whose value the golden record keeps.
    #[serde(default)]
    winners: BTreeMap<String, String>,
    /// Field → a value typed by the steward.
    #[serde(default)]
    values: BTreeMap<String, String>,
    /// Entity only: fields given back to the survivorship rules.
    #[serde(default)]
    #[schema(max_items = 100)]
    clear: Vec<String>,
    /// Why (kept in the audit log); at most 1000 characters.
    #[serde(default)]
    #[schema(max_length = 1000)]
    reason: Option<String>,
}

/// What approving this proposal with these choices would make of the golden record, and the values in it that contradict each other (a postal code for another place than the address). Nothing is stored.
#[utoipa::path(post, path = "/v1/proposals/{id}/preview", params(("id" = String, Path)),
    request_body = ShapeBody,
    responses((status = 200, body = GoldenPreview), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody, description = "a winner is not a member")),
    security(("token" = [])))]
pub async fn preview_proposal(
    caller: Caller<Steward>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<ShapeBody>,
) -> Result<Json<GoldenPreview>, ApiError> {
    let b = body.value;
    let actor = caller.actor;
    let p = blocking(&state, move |s| {
        s.preview(&actor, &id, &b.winners, &b.values)
    })
    .await?;
    Ok(Json(p))
}

/// Shape an entity's golden record: a member's value for a field, a typed value (kept with who, when and why), or a field given back to the rules. Audited.
#[utoipa::path(post, path = "/v1/entities/{id}/golden", params(("id" = String, Path)),
    request_body = ShapeBody,
    responses((status = 200, body = EntityView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody, description = "a winner is not a member")),
    security(("token" = [])))]
pub async fn shape_entity(
    caller: Caller<Steward>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<ShapeBody>,
) -> Result<Json<EntityView>, ApiError> {
    body_text("reason", &body.value.reason, MAX_TEXT_CHARS)?;
    let b = body.value;
    if b.clear.len() > 100 {
        return Err(ApiError::invalid("clear: at most 100 fields"));
    }
    let actor = caller.actor;
    let e = blocking(&state, move |s| {
        s.shape_entity(&actor, &id, &b.winners, &b.values, &b.clear, b.reason)
    })
    .await?;
    Ok(Json(e))
}

/// The most proposals or excluded records a group decision names.
pub const MAX_GROUP_ITEMS: usize = 200;

/// The connected pending proposals around this one (through the entities of
/// their records, up to 20 entities): every record that would form the
/// customer, side by side, and the golden record the whole group would give.
#[utoipa::path(get, path = "/v1/proposals/{id}/group", params(("id" = String, Path)),
    responses((status = 200, body = GroupView)),
    security(("token" = [])))]
pub async fn get_group(
    caller: Caller<Viewer>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<GroupView>, ApiError> {
    let mut g = blocking(&state, move |s| s.group(&id)).await?;
    if caller.masked() {
        let schema = &state.service.schema;
        g.records.iter_mut().for_each(|r| mask_record(schema, r));
        for r in g.proposals.iter_mut().flat_map(|i| i.records.iter_mut()) {
            mask_summary(schema, r);
        }
        mask_golden(schema, &mut g.proposed_golden);
    }
    Ok(Json(g))
}

/// A decision on a group.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupBody {
    /// Proposal id → the version the steward saw: the proposals decided
    /// (each must be pending in the group); 1 to 200.
    #[schema(value_type = BTreeMap<String, u64>)]
    proposals: BTreeMap<String, serde_json::Number>,
    /// Records taken out of the group: their proposals are rejected, the
    /// others approved.
    #[serde(default)]
    #[schema(max_items = 200)]
    exclude: Vec<String>,
    /// Field → the record whose value the merged golden record keeps.
    #[serde(default)]
    winners: BTreeMap<String, String>,
    /// Why (kept with each decision and in the audit log); at most 1000 characters.
    #[serde(default)]
    #[schema(max_length = 1000)]
    reason: Option<String>,
}

/// Decide a group at once, all or nothing: every listed proposal approved,
/// those touching an excluded record rejected.
#[utoipa::path(post, path = "/v1/proposals/{id}/group", params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "repeat a write safely: 1–200 visible ASCII characters")),
    request_body = GroupBody,
    responses((status = 200, body = GroupOutcome), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody, description = "a listed proposal was decided meanwhile or is not pending in the group, a version is stale, an excluded record is already one customer with the group, a winner is not a member, or the idempotency key came with another request")),
    security(("token" = [])))]
pub async fn decide_group(
    caller: Caller<Steward>,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<GroupBody>,
) -> Result<Response, ApiError> {
    let idem = idem_key(
        &headers,
        &format!("POST /v1/proposals/{id}/group"),
        &body.hash,
    )?;
    body_text("reason", &body.value.reason, MAX_TEXT_CHARS)?;
    let b = body.value;
    if b.proposals.is_empty() || b.proposals.len() > MAX_GROUP_ITEMS {
        return Err(ApiError::invalid(format!(
            "proposals: 1 to {MAX_GROUP_ITEMS} proposals"
        )));
    }
    if b.exclude.len() > MAX_GROUP_ITEMS {
        return Err(ApiError::invalid(format!(
            "exclude: at most {MAX_GROUP_ITEMS} records"
        )));
    }
    let mut proposals = BTreeMap::new();
    for (id, n) in b.proposals {
        // A version is a whole number, however the client wrote it (`2.0`).
        let v = n
            .as_u64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 9e15)
                    .map(|f| f as u64)
            })
            .ok_or_else(|| {
                ApiError::invalid(format!(
                    "proposals: the version of {id} is not a whole number"
                ))
            })?;
        proposals.insert(id, v);
    }
    let request = GroupDecision {
        proposals,
        exclude: b.exclude,
        winners: b.winners,
        reason: b.reason,
    };
    let actor = caller.actor;
    let service = Arc::clone(&state.service);
    let r = blocking(&state, move |s| {
        let r = s.decide_group(&actor, &id, request, idem.as_ref())?;
        train_if_due(&service);
        Ok(r)
    })
    .await?;
    Ok(reply(r, StatusCode::OK))
}

/// Reject: the pair is not proposed again unless one record changes.
#[utoipa::path(post, path = "/v1/proposals/{id}/reject", params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "repeat a write safely: 1–200 visible ASCII characters")),
    request_body = DecisionBody,
    responses((status = 200, body = Proposal), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody, description = "decided meanwhile (`current` is the proposal now), or the idempotency key came with another request")),
    security(("token" = [])))]
pub async fn reject_proposal(
    caller: Caller<Steward>,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<DecisionBody>,
) -> Result<Response, ApiError> {
    decide(
        caller,
        state,
        headers,
        id,
        without_winners(body),
        Decision::Reject,
    )
    .await
}

/// Defer: set aside, still pending.
#[utoipa::path(post, path = "/v1/proposals/{id}/defer", params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "repeat a write safely: 1–200 visible ASCII characters")),
    request_body = DecisionBody,
    responses((status = 200, body = Proposal), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody, description = "decided meanwhile (`current` is the proposal now), or the idempotency key came with another request")),
    security(("token" = [])))]
pub async fn defer_proposal(
    caller: Caller<Steward>,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<DecisionBody>,
) -> Result<Response, ApiError> {
    decide(
        caller,
        state,
        headers,
        id,
        without_winners(body),
        Decision::Defer,
    )
    .await
}

/// Undo a decision. An approval's merge is reverted exactly: the records
/// that moved go back, both golden records are as they were, and the
/// proposals the merge closed are open again.
#[utoipa::path(post, path = "/v1/proposals/{id}/reopen", params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "repeat a write safely: 1–200 visible ASCII characters")),
    request_body = DecisionBody,
    responses((status = 200, body = Proposal), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody, description = "not decided (or superseded), another proposal for the pair is open, an approval whose entities changed since (a later merge, split, member added or removed, or golden record shaped again: the message says which), or the idempotency key came with another request")),
    security(("token" = [])))]
pub async fn reopen_proposal(
    caller: Caller<Steward>,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<DecisionBody>,
) -> Result<Response, ApiError> {
    decide(
        caller,
        state,
        headers,
        id,
        without_winners(body),
        Decision::Reopen,
    )
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkApproveBody {
    /// Approve open proposals with at least this score (log2 odds).
    min_score: f64,
    /// Only this band.
    #[serde(default)]
    band: Option<Band>,
    /// Only proposals from this source (as the list filters).
    #[serde(default)]
    source: Option<ProposalSource>,
    /// Only proposals assigned to this steward (as the list filters).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 100)]
    assignee: Option<String>,
    /// Count only: what a confirmation says before anything is approved.
    #[serde(default)]
    dry_run: bool,
}

/// Approve every open proposal at or above a score that the band, source and assignee filters select, strongest first (each one audited); `dry_run` counts them. The answer lists what was approved and what was passed over.
#[utoipa::path(post, path = "/v1/proposals/bulk-approve", request_body = BulkApproveBody,
    responses((status = 200, body = BulkOutcome), (status = 403, body = ErrorBody)),
    security(("token" = [])))]
pub async fn bulk_approve(
    caller: Caller<Steward>,
    State(state): State<AppState>,
    body: ApiJson<BulkApproveBody>,
) -> Result<Json<BulkOutcome>, ApiError> {
    let b = body.value;
    let actor = caller.actor;
    let filter = ProposalFilter {
        band: b.band,
        source: b.source,
        assignee: text_param("assignee", b.assignee, MAX_NAME_CHARS)?,
        ..ProposalFilter::default()
    };
    Ok(Json(
        blocking(&state, move |s| {
            s.bulk_approve(&actor, b.min_score, &filter, b.dry_run)
        })
        .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// A steward's name (1–100 characters); null unassigns.
    #[schema(min_length = 1, max_length = 100)]
    assignee: Option<String>,
    /// The proposal version the steward saw; a stale one gets 409.
    #[serde(default, deserialize_with = "whole")]
    version: Option<u64>,
}

#[utoipa::path(post, path = "/v1/proposals/{id}/assign", params(("id" = String, Path)),
    request_body = AssignBody,
    responses((status = 200, body = Proposal), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody, description = "changed or decided meanwhile (`current` is the proposal now)")),
    security(("token" = [])))]
pub async fn assign_proposal(
    caller: Caller<Steward>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<AssignBody>,
) -> Result<Json<Proposal>, ApiError> {
    let b = body.value;
    if b.assignee.as_ref().is_some_and(|a| a.is_empty()) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            super::error::ErrorCode::InvalidRequest,
            "assignee: a name, or null to unassign",
        ));
    }
    body_text("assignee", &b.assignee, MAX_NAME_CHARS)?;
    let actor = caller.actor;
    Ok(Json(
        blocking(&state, move |s| {
            s.assign(&actor, &id, b.assignee, b.version)
        })
        .await?,
    ))
}

// ---- entities ----------------------------------------------------------------

/// A golden record, its members and history (a merged-away id answers with the entity it went into).
#[utoipa::path(get, path = "/v1/entities/{id}", params(("id" = String, Path)),
    responses((status = 200, body = EntityView)),
    security(("token" = [])))]
pub async fn get_entity(
    caller: Caller<Viewer>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<EntityView>, ApiError> {
    let mut e = blocking(&state, move |s| s.entity(&id)).await?;
    if caller.masked() {
        let schema = &state.service.schema;
        e.members.iter_mut().for_each(|r| mask_record(schema, r));
        mask_golden(schema, &mut e.golden);
    }
    Ok(Json(e))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitBody {
    /// Members that leave for a new entity (at least one member stays).
    #[schema(min_items = 1, max_items = 1000)]
    records: Vec<String>,
    /// Why (kept in the history and the audit log); at most 1000 characters.
    #[serde(default)]
    #[schema(max_length = 1000)]
    reason: Option<String>,
}

/// A request from the person the data is about.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestBody {
    /// The request's id (your ticket number): 1–128 characters, no `/`.
    #[schema(min_length = 1, max_length = 128)]
    request_id: String,
    /// Why it is answered (kept in the audit log): not blank, at most 1000 characters.
    #[schema(min_length = 1, max_length = 1000)]
    reason: String,
    /// Disclosure only: `json` (default) or `csv`.
    #[serde(default)]
    format: Option<DisclosureFormat>,
}

fn data_request(b: &RequestBody) -> Result<DataRequest, ApiError> {
    body_text("reason", &Some(b.reason.clone()), MAX_TEXT_CHARS)?;
    Ok(DataRequest::new(&b.request_id, &b.reason)?)
}

/// A disclosure request (開示): everything held about a customer — the
/// entity, its golden record, every record with its history, and every
/// audit entry about them — as JSON or CSV. The request is audited.
#[utoipa::path(post, path = "/v1/entities/{id}/disclose", params(("id" = String, Path)),
    request_body = RequestBody,
    responses((status = 200, content((Disclosure = "application/json"), (String = "text/csv"))), (status = 403, body = ErrorBody)),
    security(("token" = [])))]
pub async fn disclose_entity(
    caller: Caller<Steward>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<RequestBody>,
) -> Result<Response, ApiError> {
    let request = data_request(&body.value)?;
    let format = body.value.format.unwrap_or_default();
    let actor = caller.actor;
    let d = blocking(&state, move |s| s.disclose(&actor, &id, &request)).await?;
    if format == DisclosureFormat::Json {
        return Ok(Json(d).into_response());
    }
    let mut rows: Vec<[String; 4]> = Vec::new();
    for (field, g) in &d.entity.golden {
        rows.push([
            "golden".into(),
            d.entity.entity.id.clone(),
            field.clone(),
            g.value.clone(),
        ]);
    }
    for r in &d.entity.members {
        for (field, v) in &r.fields {
            rows.push(["record".into(), r.id.clone(), field.clone(), v.clone()]);
        }
        rows.push([
            "record".into(),
            r.id.clone(),
            "source".into(),
            r.source.clone(),
        ]);
        rows.push([
            "record".into(),
            r.id.clone(),
            "created_at".into(),
            r.created_at.clone(),
        ]);
    }
    for h in &d.entity.history {
        let v = serde_json::json!({"at": h.at, "actor": h.actor, "detail": h.detail});
        rows.push([
            "history".into(),
            d.entity.entity.id.clone(),
            h.action.as_str().into(),
            v.to_string(),
        ]);
    }
    for a in &d.audit {
        let v = serde_json::json!({
            "at": a.at, "actor": a.actor, "subject": a.subject,
            "before": a.before, "after": a.after, "reason": a.reason,
        });
        rows.push([
            "audit".into(),
            a.seq.to_string(),
            a.action.as_str().into(),
            v.to_string(),
        ]);
    }
    let mut out = String::from("section,id,field,value\n");
    for r in &rows {
        let line: Vec<String> = r.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response())
}

/// An erasure request (消去): every record of a customer erased in one
/// action, each as `POST /v1/records/{id}/erase` erases one; the request
/// and what it erased (ids only) are audited.
#[utoipa::path(post, path = "/v1/entities/{id}/erase", params(("id" = String, Path)),
    request_body = RequestBody,
    responses((status = 200, body = Erasure), (status = 403, body = ErrorBody)),
    security(("token" = [])))]
pub async fn erase_entity(
    caller: Caller<Admin>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<RequestBody>,
) -> Result<Json<Erasure>, ApiError> {
    let request = data_request(&body.value)?;
    let actor = caller.actor;
    let e = blocking(&state, move |s| s.erase_entity(&actor, &id, &request)).await?;
    Ok(Json(e))
}

/// The most records one split names.
const MAX_SPLIT_RECORDS: usize = 1000;

/// Split members off into a new entity (undoes a merge).
#[utoipa::path(post, path = "/v1/entities/{id}/split", params(("id" = String, Path)),
    request_body = SplitBody,
    responses((status = 200, body = EntityView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody, description = "a named record is not a member, none would stay, or the entity was merged away")),
    security(("token" = [])))]
pub async fn split_entity(
    caller: Caller<Steward>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<SplitBody>,
) -> Result<Json<EntityView>, ApiError> {
    let b = body.value;
    if b.records.is_empty() || b.records.len() > MAX_SPLIT_RECORDS {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            super::error::ErrorCode::InvalidRequest,
            format!("records: 1 to {MAX_SPLIT_RECORDS} record ids"),
        ));
    }
    body_text("reason", &b.reason, MAX_TEXT_CHARS)?;
    let actor = caller.actor;
    Ok(Json(
        blocking(&state, move |s| s.split(&actor, &id, &b.records, b.reason)).await?,
    ))
}

/// Undo the split that made this entity: its records go back to the entity
/// they came from, which this one then forwards to.
#[utoipa::path(post, path = "/v1/entities/{id}/unsplit", params(("id" = String, Path)),
    request_body = ReasonBody,
    responses((status = 200, body = EntityView, description = "the entity the records went back to"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "not made by a split, changed since, or the other entity was merged away")),
    security(("token" = [])))]
pub async fn unsplit_entity(
    caller: Caller<Steward>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<ReasonBody>,
) -> Result<Json<EntityView>, ApiError> {
    let b = body.value;
    body_text("reason", &b.reason, MAX_TEXT_CHARS)?;
    let actor = caller.actor;
    Ok(Json(
        blocking(&state, move |s| s.unsplit(&actor, &id, b.reason)).await?,
    ))
}

// ---- model -------------------------------------------------------------------

/// The model in use, and what the labels say about it.
#[derive(Serialize, ToSchema)]
pub struct ModelView {
    #[serde(flatten)]
    pub model: Model,
    /// Each labelled pair scored by this model: estimated precision and
    /// recall with 95% intervals (of the labelled pairs — mostly the review
    /// band, where stewards look).
    pub labels: LabelEstimates,
    /// The bands in use: where a pair's score puts it.
    pub bands: BandsView,
}

/// The band thresholds in use, as a score (bits: log2 of the odds of a
/// match) and as a probability, and where they come from.
#[derive(Serialize, ToSchema)]
pub struct BandsView {
    /// At or above this score a pair is merged by itself.
    pub match_score: f64,
    pub match_probability: f64,
    /// At or above this score (and below `match_score`) a pair is proposed
    /// to a steward; below it, it is left alone.
    pub review_score: f64,
    pub review_probability: f64,
    /// `rules` (the rule file's `match_threshold` and `review_threshold`)
    /// or `labels` (calibrated from the stewards' labels).
    pub source: String,
    /// With `source` `labels`: the labelled pairs they were calibrated on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<u64>,
}

impl BandsView {
    /// The bands `service` uses with `model`.
    fn of(service: &crate::service::Service, model: &Model) -> BandsView {
        let b = service.bands_of(model);
        let p = Model::probability;
        BandsView {
            match_score: b.match_weight,
            match_probability: p(b.match_weight),
            review_score: b.review_weight,
            review_probability: p(b.review_weight),
            source: if model.calibrated.is_some() {
                "labels"
            } else {
                "rules"
            }
            .into(),
            labels: model.calibrated.as_ref().map(|c| c.labels),
        }
    }
}

/// The model in use (m and u per comparison level, prior) and its precision and recall estimated from the stewards' labels.
#[utoipa::path(get, path = "/v1/model",
    responses((status = 200, body = ModelView), (status = 503, body = ErrorBody, description = "no model yet")),
    security(("token" = [])))]
pub async fn get_model(
    _caller: Caller<Viewer>,
    State(state): State<AppState>,
) -> Result<Json<ModelView>, ApiError> {
    let view = blocking(&state, |s| {
        let m = s.model().ok_or(crate::service::ServiceError::NoModel)?;
        Ok(ModelView {
            labels: s.label_estimates(&m)?,
            bands: BandsView::of(s, &m),
            model: (*m).clone(),
        })
    })
    .await?;
    Ok(Json(view))
}

/// The band thresholds in use, without the model or the estimates (which
/// score every label and read every merged entity): for pages that show
/// only where the bands start.
#[utoipa::path(get, path = "/v1/model/bands",
    responses((status = 200, body = BandsView), (status = 503, body = ErrorBody, description = "no model yet")),
    security(("token" = [])))]
pub async fn get_model_bands(
    _caller: Caller<Viewer>,
    State(state): State<AppState>,
) -> Result<Json<BandsView>, ApiError> {
    let view = blocking(&state, |s| {
        let m = s.model().ok_or(crate::service::ServiceError::NoModel)?;
        Ok(BandsView::of(s, &m))
    })
    .await?;
    Ok(Json(view))
}

// ---- labels ------------------------------------------------------------------

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LabelsQuery {
    format: Option<LabelsFormat>,
    /// A `next_cursor` from the page before (json only).
    #[param(pattern = "^[0-9]{1,18}$")]
    cursor: Option<String>,
    /// At most this many labels (json only; default 1000).
    #[param(minimum = 1, maximum = 10000)]
    #[serde(default, deserialize_with = "whole_param")]
    limit: Option<u32>,
}

/// A labels file: CSV, its first line `id_a,id_b,label`.
#[derive(ToSchema)]
#[schema(value_type = String, pattern = "^id_a,id_b,label(\r?\n|$)")]
pub struct LabelsCsv(#[allow(dead_code)] String);

#[derive(Serialize, ToSchema)]
pub struct LabelList {
    pub items: Vec<Label>,
    /// Pass as `cursor` for the next page; null on the last one.
    pub next_cursor: Option<String>,
}

/// The labels: pairs of records stewards decided (approve = match, reject = non_match, a split = non_match between its parts) and pairs imported from labels files. CSV and NDJSON give every label at once; JSON pages.
#[utoipa::path(get, path = "/v1/labels", params(LabelsQuery),
    responses((status = 200, content(
        (LabelList = "application/json"),
        (String = "text/csv"),
        (String = "application/x-ndjson"),
    )), (status = 403, body = ErrorBody)),
    security(("token" = [])))]
pub async fn list_labels(
    _caller: Caller<Viewer>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<LabelsQuery>,
) -> Result<Response, ApiError> {
    let after = cursor_of(q.cursor.as_deref())?.unwrap_or(0);
    let limit = limit_of(q.limit, 1000, LABELS_PAGE_MAX)?;
    match q.format.unwrap_or_default() {
        LabelsFormat::Json => {
            let page = blocking(&state, move |s| s.labels(after, limit)).await?;
            let next_cursor = (page.len() == limit)
                .then(|| page.last().map(|(seq, _)| seq.to_string()))
                .flatten();
            let items = page.into_iter().map(|(_, l)| l).collect();
            Ok(Json(LabelList { items, next_cursor }).into_response())
        }
        format => {
            let all = blocking(&state, |s| s.all_labels()).await?;
            let mut body = String::with_capacity(all.len() * 96);
            if format == LabelsFormat::Csv {
                body.push_str("id_a,id_b,label,source,proposal,actor,created_at\n");
                for l in &all {
                    let cells = [
                        l.id_a.as_str(),
                        &l.id_b,
                        l.label.as_str(),
                        l.source.as_str(),
                        l.proposal.as_deref().unwrap_or(""),
                        &l.actor,
                        &l.created_at,
                    ];
                    let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
                    body.push_str(&line.join(","));
                    body.push('\n');
                }
                Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response())
            } else {
                for l in &all {
                    body.push_str(&serde_json::to_string(l).map_err(|_| ApiError::internal())?);
                    body.push('\n');
                }
                Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response())
            }
        }
    }
}

/// A CSV cell: quoted when it holds a comma, a quote or a line break.
fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Store the labels of a labels file: CSV with the header `id_a,id_b,label` (`match` or `non_match`), as `nayose dedupe --labels` reads it. Rows that cannot be used are answered with their line, column and reason; the others are stored; pairs naming a record the store does not hold are counted and left out.
#[utoipa::path(post, path = "/v1/labels",
    request_body(content((LabelsCsv = "text/csv"))),
    responses((status = 200, body = LabelImport), (status = 403, body = ErrorBody), (status = 415, body = ErrorBody)),
    security(("token" = [])))]
pub async fn import_labels(
    caller: Caller<Steward>,
    State(state): State<AppState>,
    req: Request,
) -> Result<Json<LabelImport>, ApiError> {
    let format = match req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(ImportFormat::from_content_type)
    {
        Some(ImportFormat::Table(f @ crate::import::Format::Csv)) => f,
        _ => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                super::error::ErrorCode::UnsupportedMediaType,
                "Content-Type: text/csv",
            ))
        }
    };
    let bytes = super::extract::read_body(req.into_body(), state.limits.import_bytes).await?;
    let actor = caller.actor;
    let service = Arc::clone(&state.service);
    Ok(Json(
        blocking(&state, move |s| {
            let r = s.import_labels(&actor, &bytes, format)?;
            train_if_due(&service);
            Ok(r)
        })
        .await?,
    ))
}

// ---- audit of merges -----------------------------------------------------------

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MergeAuditQuery {
    /// At most this many pairs (default 20).
    #[param(minimum = 1, maximum = 100)]
    #[serde(default, deserialize_with = "whole_param")]
    limit: Option<u32>,
}

/// The next pairs of the audit of merges: pairs of records the service holds as one customer, drawn uniformly at random in a fixed order and not labelled yet, each scored by the model in use. Answered in order with `POST /v1/merge-audit`, they give the precision of the merges (`merged_precision` in `GET /v1/model`).
#[utoipa::path(get, path = "/v1/merge-audit", params(MergeAuditQuery),
    responses((status = 200, body = MergeAuditSample), (status = 503, body = ErrorBody, description = "no model yet")),
    security(("token" = [])))]
pub async fn merge_audit_sample(
    _caller: Caller<Viewer>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<MergeAuditQuery>,
) -> Result<Json<MergeAuditSample>, ApiError> {
    let limit = limit_of(q.limit, 20, AUDIT_SAMPLE_MAX)?;
    Ok(Json(
        blocking(&state, move |s| s.audit_sample(limit)).await?,
    ))
}

/// A steward's answer in the audit of merges.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeAuditAnswer {
    /// Two different records of one entity.
    #[schema(value_type = std::collections::BTreeSet<String>, min_items = 2, max_items = 2)]
    record_ids: [String; 2],
    /// `match`: one customer; `non_match`: two (split the entity to part them).
    label: LabelKind,
}

/// Answer a pair of the audit of merges: one customer (`match`) or not (`non_match`). Kept as a label (source `audit`) and audited; it changes no entity.
#[utoipa::path(post, path = "/v1/merge-audit",
    request_body = MergeAuditAnswer,
    responses((status = 200, body = Label), (status = 400, body = ErrorBody, description = "the same record twice"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "the two records are not in one entity")),
    security(("token" = [])))]
pub async fn answer_merge_audit(
    caller: Caller<Steward>,
    State(state): State<AppState>,
    body: ApiJson<MergeAuditAnswer>,
) -> Result<Json<Label>, ApiError> {
    let MergeAuditAnswer { record_ids, label } = body.value;
    let actor = caller.actor;
    let service = Arc::clone(&state.service);
    Ok(Json(
        blocking(&state, move |s| {
            let l = s.answer_audit(&actor, [&record_ids[0], &record_ids[1]], label)?;
            train_if_due(&service);
            Ok(l)
        })
        .await?,
    ))
}

/// Train the model again from every stored record, as a job (`GET /v1/jobs/{id}` follows it); the new model is used once the job is done.
#[utoipa::path(post, path = "/v1/model/train",
    responses((status = 202, body = Job), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody, description = "the model was given with --model, or too few records are stored")),
    security(("token" = [])))]
pub async fn train_model(
    caller: Caller<Admin>,
    State(state): State<AppState>,
) -> Result<(StatusCode, Json<Job>), ApiError> {
    let actor = caller.actor;
    let s = Arc::clone(&state.service);
    let job = tokio::task::spawn_blocking(move || s.start_training(&actor))
        .await
        .map_err(|_| ApiError::internal())??;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

// ---- audit, tokens, health ---------------------------------------------------

/// The most audit entries a page lists.
pub const MAX_AUDIT_PAGE: usize = 1000;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Who acted (a token's name, `system`).
    #[param(min_length = 1, max_length = 100)]
    actor: Option<String>,
    action: Option<AuditAction>,
    /// `record:R1`, `entity:E0000001`, `proposal:3`, `job:J0000001`, …
    #[param(min_length = 1, max_length = 200)]
    subject: Option<String>,
    /// Entries naming this record anywhere (its own, an import's, a merge's).
    #[param(min_length = 1, max_length = 128)]
    record: Option<String>,
    /// Entries at or after this time (RFC 3339, e.g. `2026-12-01T00:00:00Z`, or a date `2026-12-01`).
    #[param(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+Z?)?$")]
    since: Option<String>,
    /// Entries before this time (same form as `since`).
    #[param(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+Z?)?$")]
    until: Option<String>,
    /// `newest` (the default) or `oldest` first.
    order: Option<AuditOrder>,
    /// `json` (default: pages) or `csv` (every matching entry, up to 100,000).
    format: Option<AuditFormat>,
    /// A `next_cursor` from the page before.
    #[param(pattern = "^[0-9]{1,18}$")]
    cursor: Option<String>,
    /// At most this many entries (default 100).
    #[param(minimum = 1, maximum = 1000)]
    #[serde(default, deserialize_with = "whole_param")]
    limit: Option<u32>,
}

/// The most entries a CSV export of the audit log holds.
pub const MAX_AUDIT_EXPORT: usize = 100_000;

#[derive(Serialize, ToSchema)]
pub struct AuditList {
    pub items: Vec<AuditEntry>,
    /// Pass as `cursor` for the next page; null on the last one.
    pub next_cursor: Option<String>,
}

/// The audit log, newest first (or oldest), filtered by actor, action, subject, record and time; as JSON pages or one CSV.
#[utoipa::path(get, path = "/v1/audit", params(AuditQuery),
    responses((status = 200, content((AuditList = "application/json"), (String = "text/csv"))), (status = 403, body = ErrorBody)), security(("token" = [])))]
pub async fn list_audit(
    _caller: Caller<Steward>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Response, ApiError> {
    let after = cursor_of(q.cursor.as_deref())?;
    let csv = q.format.unwrap_or_default() == AuditFormat::Csv;
    let limit = if csv {
        MAX_AUDIT_EXPORT
    } else {
        limit_of(q.limit, 100, MAX_AUDIT_PAGE)?
    };
    // A date alone is the start of that day (UTC), as `at` is written.
    let time = |name: &str, t: Option<String>| -> Result<Option<String>, ApiError> {
        let Some(t) = t else { return Ok(None) };
        let b = t.as_bytes();
        let date = b.len() >= 10
            && b[..10].iter().enumerate().all(|(i, c)| match i {
                4 | 7 => *c == b'-',
                _ => c.is_ascii_digit(),
            });
        let clock = b.get(11..).map(|r| r.strip_suffix(b"Z").unwrap_or(r));
        let rest_ok = b.len() == 10
            || (b.len() > 11
                && (b[10] == b'T' || b[10] == b' ')
                && clock.is_some_and(|c| {
                    !c.is_empty()
                        && c.iter()
                            .all(|c| c.is_ascii_digit() || matches!(c, b':' | b'.'))
                }));
        if !date || !rest_ok {
            return Err(ApiError::invalid(format!(
                "{name}: a date (2026-12-01) or a time (2026-12-01T09:00:00Z)"
            )));
        }
        Ok(Some(if b.len() == 10 {
            format!("{t}T00:00:00Z")
        } else {
            t.replace(' ', "T")
        }))
    };
    let filter = AuditFilter {
        actor: text_param("actor", q.actor, MAX_NAME_CHARS)?,
        action: q.action,
        subject: text_param("subject", q.subject, 200)?,
        mentions: text_param("record", q.record, limits::MAX_ID_CHARS)?,
        since: time("since", q.since)?,
        until: time("until", q.until)?,
        newest_first: q.order.unwrap_or_default() == AuditOrder::Newest,
        after,
        limit,
    };
    let items = blocking(&state, move |s| s.audit(&filter)).await?;
    if csv {
        let mut out = String::from("seq,at,actor,action,subject,before,after,reason\n");
        for e in &items {
            let cells = [
                e.seq.to_string(),
                e.at.clone(),
                e.actor.clone(),
                e.action.as_str().to_string(),
                e.subject.clone(),
                e.before.to_string(),
                e.after.to_string(),
                e.reason.clone().unwrap_or_default(),
            ];
            let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
            out.push_str(&line.join(","));
            out.push('\n');
        }
        return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response());
    }
    let next_cursor = (items.len() == limit)
        .then(|| items.last().map(|e| e.seq.to_string()))
        .flatten();
    Ok(Json(AuditList { items, next_cursor }).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    /// Who or what holds it (shown in the audit log): 1–100 characters, not blank.
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    role: Role,
}

#[derive(Serialize, ToSchema)]
pub struct NewToken {
    /// Shown once; only its hash is stored.
    pub token: String,
    pub name: String,
    pub role: Role,
}

#[utoipa::path(post, path = "/v1/tokens", request_body = TokenBody,
    responses((status = 201, body = NewToken), (status = 403, body = ErrorBody)),
    security(("token" = [])))]
pub async fn create_token(
    caller: Caller<Admin>,
    State(state): State<AppState>,
    body: ApiJson<TokenBody>,
) -> Result<(StatusCode, Json<NewToken>), ApiError> {
    let b = body.value;
    if limits::is_blank(&b.name) || b.name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            super::error::ErrorCode::InvalidRequest,
            format!("name: 1 to {MAX_NAME_CHARS} characters, not blank"),
        ));
    }
    let tokens = Arc::clone(&state.tokens);
    let (name, role) = (b.name.clone(), b.role);
    let actor = caller.actor;
    let token = tokio::task::spawn_blocking(move || tokens.create(&actor.name, &name, role))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|e| ApiError::from(crate::service::ServiceError::from(e)))?;
    Ok((
        StatusCode::CREATED,
        Json(NewToken {
            token,
            name: b.name,
            role: b.role,
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub name: String,
    pub role: Role,
}

/// Who this token is.
#[utoipa::path(get, path = "/v1/me", responses((status = 200, body = Me)), security(("token" = [])))]
pub async fn whoami(caller: Caller<Viewer>) -> Json<Me> {
    Json(Me {
        name: caller.actor.name,
        role: caller.actor.role,
    })
}

#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "serving", content_type = "text/plain", body = String)))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Any path no route has.
pub async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        super::error::ErrorCode::NotFound,
        "no such route",
    )
}

/// A route's path with a method it does not have (axum adds `Allow`).
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        super::error::ErrorCode::MethodNotAllowed,
        "this route does not take that method (Allow lists those it takes)",
    )
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn masking_keeps_the_first_character_of_longer_values_only() {
        assert_eq!(mask("山田 太郎"), "山＊ ＊＊");
        assert_eq!(mask("03-1234"), "0＊＊＊＊＊＊");
        assert_eq!(mask("男"), "＊");
        assert_eq!(mask(" 誠 "), " ＊ ");
        assert_eq!(mask(""), "");
    }
}

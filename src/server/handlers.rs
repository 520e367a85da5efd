//! The `/v1` handlers: authenticate, parse, run the service call on a
//! blocking thread, answer. The `#[utoipa::path]` on each is what
//! `/openapi.json` is generated from.

use super::auth::Auth;
use super::error::{ApiError, ErrorBody};
use super::AppState;
use crate::service::golden::Golden;
use crate::service::import::{ImportFormat, ImportRequest};
use crate::service::review::{BulkOutcome, Decision, EntityView, ProposalDetail};
use crate::service::{Candidate, CreateOutcome, IdemKey, RecordInput, Reply, Service};
use crate::store::{
    AuditEntry, AuditFilter, Job, Proposal, ProposalFilter, ProposalSort, ProposalStatus, Record,
    Role,
};
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

/// A JSON body: `application/json`, within the size limit, well-formed, of
/// the right shape (unknown fields refused). Keeps the body's hash for
/// idempotency keys.
pub struct ApiJson<T> {
    pub value: T,
    pub hash: String,
}

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|ct| {
                let ct = ct.split(';').next().unwrap_or("").trim();
                ct.eq_ignore_ascii_case("application/json")
            })
            .unwrap_or(false);
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| too_large_or_bad(e.status()))?;
        let value = serde_json::from_slice(&bytes).map_err(|e| {
            use serde_json::error::Category;
            match e.classify() {
                Category::Data => ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_request",
                    format!("the body does not fit: {e}"),
                ),
                _ => ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_json",
                    format!("the body is not valid JSON: {e}"),
                ),
            }
        })?;
        Ok(ApiJson {
            value,
            hash: hex::encode(Sha256::digest(&bytes)),
        })
    }
}

fn too_large_or_bad(status: StatusCode) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the body is larger than this route accepts",
        )
    } else {
        ApiError::invalid("the body could not be read")
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
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error (see the server log)",
            )
        })?
        .map_err(ApiError::from)
}

fn idem_key(headers: &HeaderMap, route: &str, hash: &str) -> Result<Option<IdemKey>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = v
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .ok_or_else(|| ApiError::invalid("Idempotency-Key: 1–200 visible ASCII characters"))?;
    Ok(Some(IdemKey {
        key: key.to_string(),
        request_hash: format!("{route} {hash}"),
    }))
}

fn reply<T: Serialize>(r: Reply<T>, status: StatusCode) -> Response {
    match r {
        Reply::Fresh(v) => (status, Json(v)).into_response(),
        Reply::Replay { status, body } => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
    }
}

// ---- masking for viewers ----------------------------------------------------

/// `山田太郎` → `山＊＊＊`: the first character stays so a viewer can tell
/// records apart, the rest is hidden.
pub fn mask(v: &str) -> String {
    let mut out = String::new();
    for (i, c) in v.chars().enumerate() {
        out.push(if i == 0 || c.is_whitespace() {
            c
        } else {
            '＊'
        });
    }
    out
}

fn mask_record(r: &mut Record) {
    for v in r.fields.values_mut() {
        *v = mask(v);
    }
    for f in r.normalized.values_mut() {
        if let Some(v) = f.value.as_mut() {
            *v = mask(v);
        }
        f.issues.clear();
    }
}

fn mask_golden(g: &mut Golden) {
    for f in g.values_mut() {
        f.value = mask(&f.value);
    }
}

// ---- records -----------------------------------------------------------------

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LimitQuery {
    /// How many candidates the answer lists at most (default 10, at most 100).
    limit: Option<usize>,
}

impl LimitQuery {
    fn limit(&self) -> usize {
        self.limit.unwrap_or(10).clamp(1, 100)
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
    responses((status = 200, body = CheckResponse), (status = 422, body = ErrorBody)),
    security(("token" = [])))]
pub async fn check_record(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<LimitQuery>,
    body: ApiJson<RecordInput>,
) -> Result<Json<CheckResponse>, ApiError> {
    auth.require(Role::Viewer)?;
    let limit = q.limit();
    let candidates = blocking(&state, move |s| s.check(&body.value, limit)).await?;
    Ok(Json(CheckResponse { candidates }))
}

/// Store a record; it is checked in the same call (auto-merged in the match band, proposed in the review band). Every candidate is acted on; the answer lists the best `limit`.
#[utoipa::path(post, path = "/v1/records", request_body = RecordInput,
    params(LimitQuery, ("Idempotency-Key" = Option<String>, Header, description = "repeat a write safely")),
    responses((status = 201, body = CreateOutcome), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("token" = [])))]
pub async fn create_record(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Query(q): Query<LimitQuery>,
    body: ApiJson<RecordInput>,
) -> Result<Response, ApiError> {
    let actor = auth.require(Role::Ingest)?.clone();
    let limit = q.limit();
    let idem = idem_key(&headers, "POST /v1/records", &body.hash)?;
    let r = blocking(&state, move |s| {
        s.create(&actor, body.value, idem.as_ref(), limit)
    })
    .await?;
    Ok(reply(r, StatusCode::CREATED))
}

#[utoipa::path(get, path = "/v1/records/{id}", params(("id" = String, Path)),
    responses((status = 200, body = Record), (status = 404, body = ErrorBody)),
    security(("token" = [])))]
pub async fn get_record(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Record>, ApiError> {
    auth.require(Role::Viewer)?;
    let mut r = blocking(&state, move |s| s.record(&id)).await?;
    if auth.masked() {
        mask_record(&mut r);
    }
    Ok(Json(r))
}

/// Replace a record's fields: re-normalized, re-indexed, re-matched.
#[utoipa::path(put, path = "/v1/records/{id}", request_body = RecordInput,
    params(("id" = String, Path), LimitQuery, ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = CreateOutcome), (status = 404, body = ErrorBody)),
    security(("token" = [])))]
pub async fn update_record(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LimitQuery>,
    body: ApiJson<RecordInput>,
) -> Result<Response, ApiError> {
    let actor = auth.require(Role::Ingest)?.clone();
    if body.value.id.as_deref().is_some_and(|b| b != id) {
        return Err(ApiError::invalid("the body's id differs from the path's"));
    }
    let idem = idem_key(&headers, &format!("PUT /v1/records/{id}"), &body.hash)?;
    let limit = q.limit();
    let r = blocking(&state, move |s| {
        s.update(&actor, &id, body.value.fields, idem.as_ref(), limit)
    })
    .await?;
    Ok(reply(r, StatusCode::OK))
}

#[utoipa::path(delete, path = "/v1/records/{id}", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("token" = [])))]
pub async fn delete_record(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let actor = auth.require(Role::Ingest)?.clone();
    blocking(&state, move |s| s.delete(&actor, &id, false, None)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    #[serde(default)]
    reason: Option<String>,
}

/// Erase a person's record (APPI): removed from store, index, proposals and golden records; the audit log keeps a PII-free tombstone.
#[utoipa::path(post, path = "/v1/records/{id}/erase", params(("id" = String, Path)),
    request_body = ReasonBody,
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("token" = [])))]
pub async fn erase_record(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    body: ApiJson<ReasonBody>,
) -> Result<StatusCode, ApiError> {
    let actor = auth.require(Role::Admin)?.clone();
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
    responses((status = 200, body = Crosswalk), (status = 404, body = ErrorBody)),
    security(("token" = [])))]
pub async fn record_entity(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Crosswalk>, ApiError> {
    auth.require(Role::Viewer)?;
    let (record_id, entity_id) = blocking(&state, move |s| s.crosswalk(&id)).await?;
    Ok(Json(Crosswalk {
        record_id,
        entity_id,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Text found in any field: a name, kana, phone, e-mail or address.
    q: String,
    limit: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct RecordList {
    pub items: Vec<Record>,
    pub next_cursor: Option<String>,
}

/// Search records (for disclosure and erasure requests).
#[utoipa::path(get, path = "/v1/records", params(SearchQuery),
    responses((status = 200, body = RecordList)), security(("token" = [])))]
pub async fn search_records(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<SearchQuery>,
) -> Result<Json<RecordList>, ApiError> {
    auth.require(Role::Viewer)?;
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let mut items = blocking(&state, move |s| s.search(&q.q, limit)).await?;
    if auth.masked() {
        items.iter_mut().for_each(mask_record);
    }
    Ok(Json(RecordList {
        items,
        next_cursor: None,
    }))
}

// ---- imports and jobs ------------------------------------------------------

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The source system every row gets (a `source` column wins).
    source: Option<String>,
}

/// Import a file (CSV, TSV, XLSX or NDJSON, by Content-Type) as a job; `GET /v1/jobs/{id}` follows it.
#[utoipa::path(post, path = "/v1/imports", params(ImportQuery, ("Idempotency-Key" = Option<String>, Header)),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 202, body = Job), (status = 415, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("token" = [])))]
pub async fn start_import(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Query(q): Query<ImportQuery>,
    req: Request,
) -> Result<Response, ApiError> {
    let actor = auth.require(Role::Ingest)?.clone();
    let format = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(ImportFormat::from_content_type)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Content-Type: text/csv, text/tab-separated-values, application/x-ndjson or the XLSX type",
            )
        })?;
    let bytes = Bytes::from_request(req, &state)
        .await
        .map_err(|e| too_large_or_bad(e.status()))?;
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
    let r = tokio::task::spawn_blocking(move || s.start_import(&actor, request, idem.as_ref()))
        .await
        .map_err(|_| ApiError::invalid("import failed to start"))?
        .map_err(ApiError::from)?;
    Ok(reply(r, StatusCode::ACCEPTED))
}

#[utoipa::path(get, path = "/v1/jobs/{id}", params(("id" = String, Path)),
    responses((status = 200, body = Job), (status = 404, body = ErrorBody)),
    security(("token" = [])))]
pub async fn get_job(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Job>, ApiError> {
    auth.require(Role::Viewer)?;
    Ok(Json(blocking(&state, move |s| s.job(&id)).await?))
}

// ---- proposals -------------------------------------------------------------

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProposalQuery {
    /// open, deferred, approved, rejected, superseded
    status: Option<String>,
    /// match or review
    band: Option<String>,
    /// batch or live
    source: Option<String>,
    assignee: Option<String>,
    min_score: Option<f64>,
    /// `id` (oldest first, the default), `uncertainty` (probability nearest 0.5 first) or `score` (highest first)
    sort: Option<String>,
    cursor: Option<String>,
    limit: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct ProposalList {
    pub items: Vec<Proposal>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/proposals", params(ProposalQuery),
    responses((status = 200, body = ProposalList), (status = 400, body = ErrorBody)),
    security(("token" = [])))]
pub async fn list_proposals(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ProposalQuery>,
) -> Result<Json<ProposalList>, ApiError> {
    auth.require(Role::Viewer)?;
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(ProposalStatus::parse(s).ok_or_else(|| {
            ApiError::invalid(format!(
                "status `{s}`: open, deferred, approved, rejected or superseded"
            ))
        })?),
    };
    let sort = match q.sort.as_deref() {
        None => ProposalSort::ByNumber,
        Some(s) => ProposalSort::parse(s)
            .ok_or_else(|| ApiError::invalid(format!("sort `{s}`: id, uncertainty or score")))?,
    };
    // The cursor is the last proposal number by id, the rows seen so far
    // in a sorted order; either way the client only passes it back.
    let cursor = match q.cursor.as_deref() {
        None => None,
        Some(c) => Some(
            c.parse::<u64>()
                .map_err(|_| ApiError::invalid("cursor: pass back a next_cursor"))?,
        ),
    };
    let (after, offset) = match sort {
        ProposalSort::ByNumber => (cursor, 0),
        _ => (None, cursor.unwrap_or(0) as usize),
    };
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let filter = ProposalFilter {
        status,
        band: q.band,
        source: q.source,
        assignee: q.assignee,
        min_score: q.min_score,
        after,
        sort,
        offset,
        limit,
    };
    let items = blocking(&state, move |s| s.proposals(&filter)).await?;
    let next_cursor = match sort {
        ProposalSort::ByNumber => items.last().map(|p| p.id.clone()),
        _ => Some((offset + items.len()).to_string()),
    }
    .filter(|_| items.len() == limit);
    Ok(Json(ProposalList { items, next_cursor }))
}

#[derive(Serialize, ToSchema)]
pub struct Counts {
    /// Pending proposals per band.
    pub pending: BTreeMap<String, u64>,
}

#[utoipa::path(get, path = "/v1/proposals/counts",
    responses((status = 200, body = Counts)), security(("token" = [])))]
pub async fn proposal_counts(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Counts>, ApiError> {
    auth.require(Role::Viewer)?;
    let pending = blocking(&state, |s| s.proposal_counts()).await?;
    Ok(Json(Counts { pending }))
}

#[utoipa::path(get, path = "/v1/proposals/{id}", params(("id" = String, Path)),
    responses((status = 200, body = ProposalDetail), (status = 404, body = ErrorBody)),
    security(("token" = [])))]
pub async fn get_proposal(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<ProposalDetail>, ApiError> {
    auth.require(Role::Viewer)?;
    let mut d = blocking(&state, move |s| s.proposal(&id)).await?;
    if auth.masked() {
        d.records.iter_mut().for_each(mask_record);
        for f in &mut d.fields {
            for v in f.values.iter_mut().flatten() {
                *v = mask(v);
            }
        }
        mask_golden(&mut d.proposed_golden);
    }
    Ok(Json(d))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// Approve only: field → record id whose value the golden record keeps.
    #[serde(default)]
    winners: BTreeMap<String, String>,
    #[serde(default)]
    reason: Option<String>,
    /// The proposal version the steward saw; a stale one gets 409.
    #[serde(default)]
    version: Option<u64>,
}

async fn decide(
    state: AppState,
    auth: Auth,
    headers: HeaderMap,
    id: String,
    body: ApiJson<DecisionBody>,
    decision: Decision,
    verb: &str,
) -> Result<Response, ApiError> {
    let actor = auth.require(Role::Steward)?.clone();
    if decision != Decision::Approve && !body.value.winners.is_empty() {
        return Err(ApiError::invalid("winners only go with approve"));
    }
    let idem = idem_key(
        &headers,
        &format!("POST /v1/proposals/{id}/{verb}"),
        &body.hash,
    )?;
    let b = body.value;
    let r = blocking(&state, move |s| {
        s.decide(
            &actor,
            &id,
            decision,
            b.winners,
            b.reason,
            b.version,
            idem.as_ref(),
        )
    })
    .await?;
    Ok(reply(r, StatusCode::OK))
}

/// Approve: merge the two records' entities (optionally choosing per-field winners).
#[utoipa::path(post, path = "/v1/proposals/{id}/approve", params(("id" = String, Path)),
    request_body = DecisionBody,
    responses((status = 200, body = Proposal), (status = 409, body = ErrorBody)),
    security(("token" = [])))]
pub async fn approve_proposal(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: ApiJson<DecisionBody>,
) -> Result<Response, ApiError> {
    decide(state, auth, headers, id, body, Decision::Approve, "approve").await
}

/// Reject: the pair is not proposed again unless one record changes.
#[utoipa::path(post, path = "/v1/proposals/{id}/reject", params(("id" = String, Path)),
    request_body = DecisionBody,
    responses((status = 200, body = Proposal), (status = 409, body = ErrorBody)),
    security(("token" = [])))]
pub async fn reject_proposal(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: ApiJson<DecisionBody>,
) -> Result<Response, ApiError> {
    decide(state, auth, headers, id, body, Decision::Reject, "reject").await
}

#[utoipa::path(post, path = "/v1/proposals/{id}/defer", params(("id" = String, Path)),
    request_body = DecisionBody,
    responses((status = 200, body = Proposal), (status = 409, body = ErrorBody)),
    security(("token" = [])))]
pub async fn defer_proposal(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: ApiJson<DecisionBody>,
) -> Result<Response, ApiError> {
    decide(state, auth, headers, id, body, Decision::Defer, "defer").await
}

/// Undo a reject or a defer (an approval is undone by splitting the entity).
#[utoipa::path(post, path = "/v1/proposals/{id}/reopen", params(("id" = String, Path)),
    request_body = DecisionBody,
    responses((status = 200, body = Proposal), (status = 409, body = ErrorBody)),
    security(("token" = [])))]
pub async fn reopen_proposal(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: ApiJson<DecisionBody>,
) -> Result<Response, ApiError> {
    decide(state, auth, headers, id, body, Decision::Reopen, "reopen").await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkApproveBody {
    /// Approve open proposals with at least this score.
    min_score: f64,
    /// Only this band (`match` or `review`).
    #[serde(default)]
    band: Option<String>,
    /// Count only: what a confirmation says before anything is approved.
    #[serde(default)]
    dry_run: bool,
}

/// Approve every open proposal at or above a score, strongest first (each one audited); `dry_run` counts them.
#[utoipa::path(post, path = "/v1/proposals/bulk-approve", request_body = BulkApproveBody,
    responses((status = 200, body = BulkOutcome), (status = 400, body = ErrorBody)),
    security(("token" = [])))]
pub async fn bulk_approve(
    State(state): State<AppState>,
    auth: Auth,
    body: ApiJson<BulkApproveBody>,
) -> Result<Json<BulkOutcome>, ApiError> {
    let actor = auth.require(Role::Steward)?.clone();
    let b = body.value;
    Ok(Json(
        blocking(&state, move |s| {
            s.bulk_approve(&actor, b.min_score, b.band, b.dry_run)
        })
        .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// A steward's name; null unassigns.
    assignee: Option<String>,
    #[serde(default)]
    version: Option<u64>,
}

#[utoipa::path(post, path = "/v1/proposals/{id}/assign", params(("id" = String, Path)),
    request_body = AssignBody,
    responses((status = 200, body = Proposal), (status = 409, body = ErrorBody)),
    security(("token" = [])))]
pub async fn assign_proposal(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    body: ApiJson<AssignBody>,
) -> Result<Json<Proposal>, ApiError> {
    let actor = auth.require(Role::Steward)?.clone();
    let b = body.value;
    Ok(Json(
        blocking(&state, move |s| {
            s.assign(&actor, &id, b.assignee, b.version)
        })
        .await?,
    ))
}

// ---- entities ----------------------------------------------------------------

#[utoipa::path(get, path = "/v1/entities/{id}", params(("id" = String, Path)),
    responses((status = 200, body = EntityView), (status = 404, body = ErrorBody)),
    security(("token" = [])))]
pub async fn get_entity(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<EntityView>, ApiError> {
    auth.require(Role::Viewer)?;
    let mut e = blocking(&state, move |s| s.entity(&id)).await?;
    if auth.masked() {
        e.members.iter_mut().for_each(mask_record);
        mask_golden(&mut e.golden);
    }
    Ok(Json(e))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitBody {
    /// Members that leave for a new entity.
    records: Vec<String>,
    #[serde(default)]
    reason: Option<String>,
}

/// Split members off into a new entity (undoes a merge).
#[utoipa::path(post, path = "/v1/entities/{id}/split", params(("id" = String, Path)),
    request_body = SplitBody,
    responses((status = 200, body = EntityView), (status = 400, body = ErrorBody)),
    security(("token" = [])))]
pub async fn split_entity(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    body: ApiJson<SplitBody>,
) -> Result<Json<EntityView>, ApiError> {
    let actor = auth.require(Role::Steward)?.clone();
    let b = body.value;
    Ok(Json(
        blocking(&state, move |s| s.split(&actor, &id, &b.records, b.reason)).await?,
    ))
}

// ---- model -------------------------------------------------------------------

/// The model in use (m and u per comparison level, prior), as JSON.
#[utoipa::path(get, path = "/v1/model",
    responses((status = 200, description = "the model", content_type = "application/json"), (status = 503, body = ErrorBody)),
    security(("token" = [])))]
pub async fn get_model(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<crate::matching::model::Model>, ApiError> {
    auth.require(Role::Viewer)?;
    let m = state
        .service
        .model()
        .ok_or_else(|| ApiError::from(crate::service::ServiceError::NoModel))?;
    Ok(Json((*m).clone()))
}

/// Train the model again from every stored record and use it from now on.
#[utoipa::path(post, path = "/v1/model/train",
    responses((status = 200, description = "the new model", content_type = "application/json"), (status = 400, body = ErrorBody)),
    security(("token" = [])))]
pub async fn train_model(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<crate::matching::model::Model>, ApiError> {
    let actor = auth.require(Role::Admin)?.clone();
    let m = blocking(&state, move |s| s.retrain(&actor)).await?;
    Ok(Json(m))
}

// ---- audit, tokens, health ---------------------------------------------------

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    /// `record:R1`, `entity:E0000001`, `proposal:3`, …
    subject: Option<String>,
    cursor: Option<String>,
    limit: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditList {
    pub items: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

/// The audit log, oldest first.
#[utoipa::path(get, path = "/v1/audit", params(AuditQuery),
    responses((status = 200, body = AuditList)), security(("token" = [])))]
pub async fn list_audit(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditList>, ApiError> {
    auth.require(Role::Steward)?;
    let after = match q.cursor.as_deref() {
        None => None,
        Some(c) => Some(
            c.parse::<u64>()
                .map_err(|_| ApiError::invalid("cursor: pass back a next_cursor"))?,
        ),
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let filter = AuditFilter {
        actor: q.actor,
        action: q.action,
        subject: q.subject,
        after,
        limit,
    };
    let items = blocking(&state, move |s| s.audit(&filter)).await?;
    let next_cursor = (items.len() == limit)
        .then(|| items.last().map(|e| e.seq.to_string()))
        .flatten();
    Ok(Json(AuditList { items, next_cursor }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
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
    State(state): State<AppState>,
    auth: Auth,
    body: ApiJson<TokenBody>,
) -> Result<(StatusCode, Json<NewToken>), ApiError> {
    let actor = auth.require(Role::Admin)?.clone();
    let b = body.value;
    if b.name.trim().is_empty() {
        return Err(ApiError::invalid("name: must not be empty"));
    }
    let tokens = Arc::clone(&state.tokens);
    let (name, role) = (b.name.clone(), b.role);
    let token = tokio::task::spawn_blocking(move || tokens.create(&actor.name, &name, role))
        .await
        .map_err(|_| ApiError::invalid("token creation failed"))?
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
pub async fn whoami(auth: Auth) -> Json<Me> {
    Json(Me {
        name: auth.0.name.clone(),
        role: auth.0.role,
    })
}

#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "serving")))]
pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

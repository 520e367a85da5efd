//! What a handler takes from a request, each refusing in the one error shape
//! ([`ApiError`]) with a stable code — never axum's plain-text rejections:
//!
//! - [`Caller`]: the bearer token's actor, with the role the route needs
//!   checked before anything else of the request (its body included) is
//!   read;
//! - [`ApiQuery`] and [`ApiPath`]: the query string and path parameters
//!   (`400 invalid_request`);
//! - [`ApiJson`]: an `application/json` body within the size limit, read
//!   with the body timeout (`415`, `413`, `408`, `400 invalid_json`,
//!   `422 invalid_request`), and its hash for idempotency keys;
//! - [`read_body`]: any body within a limit (imports).

use super::error::{ApiError, ErrorCode};
use super::AppState;
use crate::service::Actor;
use crate::store::Role;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use std::marker::PhantomData;
use std::sync::Arc;

/// The role a route needs (a marker type per role).
pub trait Need: Send + Sync {
    const ROLE: Role;
}

/// Any valid token (reads).
pub struct Viewer;
/// Writes records and imports.
pub struct Ingest;
/// Decides proposals, splits entities, reads the audit log.
pub struct Steward;
/// Everything: erasure, tokens, training.
pub struct Admin;

impl Need for Viewer {
    const ROLE: Role = Role::Viewer;
}
impl Need for Ingest {
    const ROLE: Role = Role::Ingest;
}
impl Need for Steward {
    const ROLE: Role = Role::Steward;
}
impl Need for Admin {
    const ROLE: Role = Role::Admin;
}

/// The authenticated caller of a request, allowed what `N` needs:
/// `401 unauthorized` without a valid token (`Authorization: Bearer …`, the
/// scheme in any case), `403 forbidden` with a weaker role.
pub struct Caller<N: Need> {
    pub actor: Actor,
    need: PhantomData<N>,
}

impl<N: Need> Caller<N> {
    /// Personal data is masked for viewers.
    pub fn masked(&self) -> bool {
        self.actor.role == Role::Viewer
    }
}

/// The token of an `Authorization` header: the `Bearer` scheme (any case,
/// RFC 9110 §11.1) and a non-empty token.
fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl<N: Need> FromRequestParts<AppState> for Caller<N> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(parts)
            .ok_or_else(ApiError::unauthorized)?
            .to_string();
        let tokens = Arc::clone(&state.tokens);
        let actor = tokio::task::spawn_blocking(move || tokens.actor(&token))
            .await
            .map_err(|_| ApiError::internal())?
            .map_err(|e| ApiError::from(crate::service::ServiceError::from(e)))?
            .ok_or_else(ApiError::unauthorized)?;
        if !actor.role.allows(N::ROLE) {
            return Err(ApiError::forbidden(N::ROLE.as_str()));
        }
        Ok(Caller {
            actor,
            need: PhantomData,
        })
    }
}

/// The query string as `T`; a malformed or mistyped one is
/// `400 invalid_request` naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e| ApiError::invalid(e.body_text()))
    }
}

/// The path parameters as `T`; one that is not valid percent-encoded UTF-8
/// (`%FF`) is `400 invalid_request`.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e| {
                use axum::extract::rejection::PathRejection;
                match e {
                    PathRejection::FailedToDeserializePathParams(e) => {
                        ApiError::invalid(format!("path: {}", e.body_text()))
                    }
                    _ => ApiError::internal(),
                }
            })
    }
}

/// Read a request's whole body, up to `limit` bytes: `413
/// payload_too_large` past it, `408 request_timeout` when the client stops
/// sending (the server's body timeout), `400` when it cannot be read.
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) => Err(body_error(&*e)),
    }
}

fn body_error(e: &(dyn std::error::Error + 'static)) -> ApiError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.is::<http_body_util::LengthLimitError>() {
            return ApiError::too_large();
        }
        if c.is::<tower_http::timeout::TimeoutError>() {
            return ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                ErrorCode::RequestTimeout,
                "the body did not arrive in time",
            );
        }
        cause = c.source();
    }
    ApiError::invalid("the body could not be read")
}

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
                ErrorCode::UnsupportedMediaType,
                "send the body as application/json",
            ));
        }
        let bytes = read_body(req.into_body(), state.limits.json_bytes).await?;
        // Every body is an object: serde would also read a struct from an
        // array of its fields in order, which no client means.
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first.is_some_and(|&b| b == b'[') {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::InvalidRequest,
                "the body must be a JSON object",
            ));
        }
        let value = serde_json::from_slice(&bytes).map_err(|e| {
            use serde_json::error::Category;
            match e.classify() {
                Category::Data => ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::InvalidRequest,
                    format!("the body does not fit: {e}"),
                ),
                _ => ApiError::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::InvalidJson,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(auth: &str) -> Parts {
        let (parts, ()) = axum::http::Request::builder()
            .header(header::AUTHORIZATION, auth)
            .body(())
            .unwrap()
            .into_parts();
        parts
    }

    #[test]
    fn the_bearer_scheme_in_any_case() {
        for h in ["Bearer abc", "bearer abc", "BEARER abc", "  Bearer   abc  "] {
            assert_eq!(bearer_token(&parts(h)), Some("abc"), "{h:?}");
        }
        for h in ["Basic abc", "Bearer", "Bearer ", "Bearerabc", "abc"] {
            assert_eq!(bearer_token(&parts(h)), None, "{h:?}");
        }
    }
}

/// An optional whole number in a JSON body, as JSON Schema's `integer`
/// reads one: `7` and `7.0` alike; `7.5`, `-1` or `"7"` are refused. For
/// `#[serde(default, deserialize_with = "whole")]`.
pub fn whole<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    whole_number::<false, D, T>(d)
}

/// An optional whole number in a query string: the text of one (`7`,
/// `7.0`), as [`whole`] reads the JSON.
pub fn whole_param<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    whole_number::<true, D, T>(d)
}

fn whole_number<'de, const TEXT: bool, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64>,
{
    struct Whole<const TEXT: bool>;
    impl<const TEXT: bool> serde::de::Visitor<'_> for Whole<TEXT> {
        type Value = u64;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a whole number, 0 or more")
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::custom(format!("{v} is below 0")))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<u64, E> {
            // Every whole f64 below 2^64 is exact as u64.
            if v.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&v) {
                Ok(v as u64)
            } else {
                Err(E::custom(format!("{v} is not a whole number of 0 or more")))
            }
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<u64, E> {
            if !TEXT {
                return Err(E::custom("a number, not a string"));
            }
            if let Ok(n) = v.parse::<u64>() {
                return Ok(n);
            }
            match v.parse::<f64>() {
                Ok(f) if f.is_finite() => self.visit_f64(f),
                _ => Err(E::custom("not a whole number")),
            }
        }
    }
    struct Maybe<const TEXT: bool>;
    impl<'de, const TEXT: bool> serde::de::Visitor<'de> for Maybe<TEXT> {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a whole number, 0 or more, or null")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Option<u64>, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Option<u64>, E> {
            Ok(None)
        }
        fn visit_some<D2: serde::Deserializer<'de>>(self, d: D2) -> Result<Option<u64>, D2::Error> {
            d.deserialize_any(Whole::<TEXT>).map(Some)
        }
    }
    let n = d.deserialize_option(Maybe::<TEXT>)?;
    n.map(|n| T::try_from(n).map_err(|_| serde::de::Error::custom(format!("{n} is too large"))))
        .transpose()
}

#[cfg(test)]
mod whole_tests {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Body {
        #[serde(default, deserialize_with = "super::whole")]
        version: Option<u64>,
        #[serde(default, deserialize_with = "super::whole")]
        limit: Option<u32>,
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Query {
        #[serde(default, deserialize_with = "super::whole_param")]
        limit: Option<u32>,
    }

    #[test]
    fn whole_numbers_as_json_schema_reads_them() {
        let ok = |j: &str| serde_json::from_str::<Body>(j).unwrap();
        assert_eq!(ok(r#"{"version": 7}"#).version, Some(7));
        assert_eq!(ok(r#"{"version": 7.0}"#).version, Some(7));
        assert_eq!(ok(r#"{"version": null}"#).version, None);
        assert_eq!(ok(r#"{}"#).version, None);
        for bad in [
            r#"{"version": 7.5}"#,
            r#"{"version": -1}"#,
            r#"{"version": "7"}"#,
            r#"{"limit": 5000000000}"#,
        ] {
            assert!(serde_json::from_str::<Body>(bad).is_err(), "{bad}");
        }
        let q = |t: &str| serde_urlencoded::from_str::<Query>(t);
        assert_eq!(q("limit=5").unwrap().limit, Some(5));
        assert_eq!(q("limit=5.0").unwrap().limit, Some(5));
        assert_eq!(q("").unwrap().limit, None);
        for bad in ["limit=abc", "limit=-1", "limit=1.5", "limit=", "limit=NaN"] {
            assert!(q(bad).is_err(), "{bad}");
        }
    }
}

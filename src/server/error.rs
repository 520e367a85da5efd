//! The one error format: `{"error": {"code", "message", "current"?}}`.
//!
//! Codes are stable (clients branch on them); messages are for people and
//! may change. Messages never carry field values (no PII in errors), and a
//! message is never longer than [`MAX_MESSAGE_CHARS`]: a value the caller
//! sent (an id of 500 KB) is not echoed back whole.

use crate::service::ServiceError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

crate::stable_names! {
    /// The stable codes of error answers.
    pub enum ErrorCode {
        /// The body is not JSON.
        InvalidJson = "invalid_json",
        /// A parameter, path or body does not fit the route.
        InvalidRequest = "invalid_request",
        /// A record names a field the rules do not have.
        UnknownField = "unknown_field",
        UnsupportedMediaType = "unsupported_media_type",
        /// The body (or its announced `Content-Length`) is over the limit.
        PayloadTooLarge = "payload_too_large",
        /// The body did not arrive within the body timeout.
        RequestTimeout = "request_timeout",
        /// The request line is over the limit.
        UriTooLong = "uri_too_long",
        /// No valid `Authorization: Bearer` token.
        Unauthorized = "unauthorized",
        /// The token's role may not do this.
        Forbidden = "forbidden",
        NotFound = "not_found",
        /// The route exists, with other methods (`Allow` lists them).
        MethodNotAllowed = "method_not_allowed",
        RecordExists = "record_exists",
        /// The thing changed under the caller (`current` is how it is now).
        Conflict = "conflict",
        /// The idempotency key came with a different request before.
        IdempotencyMismatch = "idempotency_mismatch",
        /// Matching needs a model and there is none yet.
        NoModel = "no_model",
        Internal = "internal",
    }
}

/// The longest message an error carries.
pub const MAX_MESSAGE_CHARS: usize = 500;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    /// For 409: the current state of what the caller tried to change.
    pub current: Option<serde_json::Value>,
}

/// The body of every error answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// What went wrong, for programs to branch on.
    pub code: ErrorCode,
    /// What went wrong, for people; may change between versions.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub current: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: clip(message.into()),
            current: None,
        }
    }

    pub fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "internal error (see the server log)",
        )
    }

    pub fn too_large() -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            "the body is larger than this route accepts",
        )
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "a valid API token is required (Authorization: Bearer <token>)",
        )
    }

    pub fn forbidden(need: &str) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            format!("this needs the {need} role"),
        )
    }

    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest, message)
    }
}

impl From<ServiceError> for ApiError {
    /// The server's choice of status and code for each service error.
    fn from(e: ServiceError) -> ApiError {
        use crate::store::StoreError;
        use ErrorCode as C;
        let (status, code) = match &e {
            ServiceError::Invalid(_) => (StatusCode::BAD_REQUEST, C::InvalidRequest),
            ServiceError::InvalidRecord(_) => (StatusCode::UNPROCESSABLE_ENTITY, C::InvalidRequest),
            ServiceError::UnknownField { .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, C::UnknownField)
            }
            ServiceError::NotFound { .. } => (StatusCode::NOT_FOUND, C::NotFound),
            ServiceError::Refused(_) => (StatusCode::CONFLICT, C::Conflict),
            ServiceError::RecordExists(_) => (StatusCode::CONFLICT, C::RecordExists),
            ServiceError::Conflict { .. } => (StatusCode::CONFLICT, C::Conflict),
            // The key is bound to another request: a conflict with what
            // the server holds, as a repeated key with other content is.
            ServiceError::IdempotencyMismatch => (StatusCode::CONFLICT, C::IdempotencyMismatch),
            ServiceError::NoModel => (StatusCode::SERVICE_UNAVAILABLE, C::NoModel),
            ServiceError::Store(StoreError::Conflict | StoreError::Duplicate(_)) => {
                (StatusCode::CONFLICT, C::Conflict)
            }
            ServiceError::Store(_) | ServiceError::Index(_) => {
                tracing::error!(error = %e, "internal error");
                return ApiError::internal();
            }
        };
        let message = e.to_string();
        let current = match e {
            ServiceError::Conflict { current, .. } => Some(current),
            _ => None,
        };
        ApiError {
            status,
            code,
            message: clip(message),
            current,
        }
    }
}

/// A message cut at [`MAX_MESSAGE_CHARS`] characters.
fn clip(mut message: String) -> String {
    if let Some((at, _)) = message.char_indices().nth(MAX_MESSAGE_CHARS) {
        message.truncate(at);
        message.push('…');
    }
    message
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                current: self.current,
            },
        };
        (self.status, axum::Json(body)).into_response()
    }
}

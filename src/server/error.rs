//! The one error format: `{"error": {"code", "message", "current"?}}`.
//!
//! Codes are stable (clients branch on them); messages are for people and
//! may change. Messages never carry field values (no PII in errors).

use crate::service::ServiceError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
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
    /// One of: `invalid_json`, `invalid_request`, `unknown_field`,
    /// `unsupported_media_type`, `payload_too_large`, `unauthorized`,
    /// `forbidden`, `not_found`, `record_exists`, `conflict`,
    /// `idempotency_mismatch`, `no_model`, `internal`.
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub current: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            current: None,
        }
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid API token is required (Authorization: Bearer <token>)",
        )
    }

    pub fn forbidden(need: &str) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this needs the {need} role"),
        )
    }

    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> ApiError {
        let code = e.code();
        let status = match &e {
            ServiceError::Invalid(_) => StatusCode::BAD_REQUEST,
            ServiceError::UnknownField { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
            ServiceError::RecordExists(_) => StatusCode::CONFLICT,
            ServiceError::Conflict { .. } => StatusCode::CONFLICT,
            ServiceError::IdempotencyMismatch => StatusCode::UNPROCESSABLE_ENTITY,
            ServiceError::NoModel => StatusCode::SERVICE_UNAVAILABLE,
            ServiceError::Store(
                crate::store::StoreError::Conflict | crate::store::StoreError::Duplicate(_),
            ) => StatusCode::CONFLICT,
            ServiceError::Store(_) | ServiceError::Index(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %e, "internal error");
            "internal error (see the server log)".to_string()
        } else {
            e.to_string()
        };
        let current = match e {
            ServiceError::Conflict { current, .. } => Some(current),
            _ => None,
        };
        ApiError {
            status,
            code,
            message,
            current,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
                current: self.current,
            },
        };
        (self.status, axum::Json(body)).into_response()
    }
}

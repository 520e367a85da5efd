//! The stewards' web page (assets embedded in the binary).

use super::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
}

//! `/openapi.json`, generated from the handlers' annotations and the wire types.

use super::handlers;
use axum::Json;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "nayose", description = "Live duplicate checks, merge proposals and stewards' decisions"),
    paths(
        handlers::check_record, handlers::create_record, handlers::get_record,
        handlers::update_record, handlers::delete_record, handlers::erase_record,
        handlers::record_entity, handlers::search_records, handlers::start_import,
        handlers::get_job, handlers::list_proposals, handlers::proposal_counts,
        handlers::get_proposal, handlers::bulk_approve, handlers::approve_proposal, handlers::reject_proposal,
        handlers::defer_proposal, handlers::reopen_proposal, handlers::assign_proposal,
        handlers::get_entity, handlers::split_entity, handlers::list_audit,
        handlers::create_token, handlers::whoami, handlers::healthz,
        handlers::get_model, handlers::train_model,
    ),
    modifiers(&BearerToken)
)]
pub struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        api.components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "token",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
    }
}

pub async fn serve_openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

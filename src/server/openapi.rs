//! `/openapi.json`: generated from the handlers' annotations and the wire
//! types, then completed with what the annotations cannot say:
//!
//! - a record's fields are the rules' fields (each a value within
//!   [`limits::MAX_VALUE_CHARS`], not blank), ids and sources follow
//!   [`limits`]' patterns — the very strings the service validates with;
//! - the error answers every route shares, each with the one error body:
//!   `400` (parameters or body), `401` (secured routes), `404` (routes with
//!   an id in the path), `408`, `413`, `415` and `422` (routes with a body),
//!   `414` and `500` (every route). Route-specific ones (`403`, `409`,
//!   `503`) are in the handlers' annotations.
//!
//! The document is made once when the server starts.

use super::error::ErrorCode;
use super::handlers;
use super::AppState;
use crate::service::limits::{self, MAX_ID_CHARS, MAX_SOURCE_CHARS, MAX_VALUE_CHARS};
use crate::service::FieldSchema;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{json, Map, Value};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "nayose", description = "Live duplicate checks, merge proposals and stewards' decisions"),
    paths(
        handlers::check_record, handlers::create_record, handlers::get_record,
        handlers::update_record, handlers::delete_record, handlers::erase_record,
        handlers::record_entity, handlers::search_records, handlers::search_entities, handlers::start_import,
        handlers::get_job, handlers::cancel_job, handlers::list_proposals, handlers::proposal_counts,
        handlers::get_proposal, handlers::bulk_approve, handlers::approve_proposal, handlers::reject_proposal,
        handlers::defer_proposal, handlers::reopen_proposal, handlers::assign_proposal,
        handlers::get_group, handlers::decide_group, handlers::comment_proposal,
        handlers::preview_proposal, handlers::shape_entity,
        handlers::get_entity, handlers::split_entity, handlers::unsplit_entity, handlers::disclose_entity, handlers::erase_entity, handlers::list_audit,
        handlers::create_token, handlers::whoami, handlers::healthz,
        handlers::get_model, handlers::get_model_bands, handlers::train_model, handlers::list_labels, handlers::import_labels,
        handlers::merge_audit_sample, handlers::answer_merge_audit,
    ),
    components(schemas(
        ErrorCode, crate::matching::Band, crate::store::ProposalStatus,
        crate::store::ProposalSource, crate::store::ProposalSort, crate::store::AuditAction,
        crate::service::labels::LabelsFormat, crate::service::requests::DisclosureFormat, crate::store::AuditOrder, crate::store::AuditFormat, crate::store::LabelKind, crate::store::LabelSource,
    )),
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

/// A record id, as the service checks it.
fn id_schema() -> Value {
    json!({
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_ID_CHARS,
        "pattern": limits::ID_PATTERN,
    })
}

/// A record's fields: the rules' fields, at least one, each value within
/// the limits.
fn fields_schema(schema: &FieldSchema) -> Value {
    let value = json!({
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_VALUE_CHARS,
        "pattern": limits::VALUE_PATTERN,
    });
    let properties: Map<String, Value> = schema
        .fields
        .iter()
        .map(|f| {
            let mut v = value.clone();
            v["description"] = json!(format!("{} ({})", f.name, f.field_type.as_str()));
            (f.name.clone(), v)
        })
        .collect();
    json!({
        "type": "object",
        "description": "Field name → raw value; at least one field, a blank value is left out.",
        "properties": properties,
        "additionalProperties": false,
        "minProperties": 1,
    })
}

/// The whole document, as served.
pub fn document(schema: &FieldSchema) -> String {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serializes");
    let schemas = &mut doc["components"]["schemas"];
    schemas["RecordInput"] = json!({
        "type": "object",
        "description": "A record on the wire.",
        "properties": {
            "id": {
                "description": "The record's id (given by the caller's system); one is made when absent.",
                "type": ["string", "null"],
                "minLength": 1,
                "maxLength": MAX_ID_CHARS,
                "pattern": limits::ID_PATTERN,
            },
            "source": {
                "description": "The system the record comes from.",
                "type": ["string", "null"],
                "minLength": 1,
                "maxLength": MAX_SOURCE_CHARS,
                "pattern": limits::SOURCE_PATTERN,
            },
            "fields": fields_schema(schema),
        },
        "required": ["fields"],
        "additionalProperties": false,
    });
    schemas["RecordUpdate"]["properties"]["fields"] = fields_schema(schema);
    schemas["RecordUpdate"]["additionalProperties"] = json!(false);
    let winners: Map<String, Value> = schema
        .fields
        .iter()
        .map(|f| (f.name.clone(), id_schema()))
        .collect();
    schemas["ApproveBody"]["properties"]["winners"] = json!({
        "type": "object",
        "description": "Field → the record (a member of either entity) whose value the golden record keeps.",
        "properties": winners,
        "additionalProperties": false,
    });
    schemas["SplitBody"]["properties"]["records"]["items"] = id_schema();
    schemas["GroupBody"]["properties"]["winners"] =
        schemas["ApproveBody"]["properties"]["winners"].clone();
    schemas["GroupBody"]["properties"]["exclude"]["items"] = id_schema();
    schemas["ShapeBody"]["properties"]["winners"] =
        schemas["ApproveBody"]["properties"]["winners"].clone();
    let typed: Map<String, Value> = schema
        .fields
        .iter()
        .map(|f| {
            let v = json!({
                "type": "string",
                "minLength": 1,
                "maxLength": limits::MAX_VALUE_CHARS,
                "pattern": limits::VALUE_PATTERN,
            });
            (f.name.clone(), v)
        })
        .collect();
    let typed = json!({
        "type": "object",
        "description": "Field → a value the steward typed.",
        "properties": typed,
        "additionalProperties": false,
    });
    schemas["ShapeBody"]["properties"]["values"] = typed.clone();
    schemas["ApproveBody"]["properties"]["values"] = typed;
    let names: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
    schemas["ShapeBody"]["properties"]["clear"]["items"] = json!({"type": "string", "enum": names});
    let group = &mut schemas["GroupBody"]["properties"]["proposals"];
    group["minProperties"] = json!(1);
    group["maxProperties"] = json!(handlers::MAX_GROUP_ITEMS);
    group["propertyNames"] = json!({ "pattern": "^[0-9]{1,18}$" });
    for body in [
        "ApproveBody",
        "DecisionBody",
        "ReasonBody",
        "BulkApproveBody",
        "AssignBody",
        "SplitBody",
        "GroupBody",
        "RequestBody",
        "CommentBody",
        "ShapeBody",
        "TokenBody",
    ] {
        schemas[body]["additionalProperties"] = json!(false);
    }
    schemas["TokenBody"]["properties"]["name"]["pattern"] = json!(limits::VALUE_PATTERN);
    schemas["RequestBody"]["properties"]["request_id"]["pattern"] = json!(limits::ID_PATTERN);
    schemas["RequestBody"]["properties"]["reason"]["pattern"] = json!(limits::VALUE_PATTERN);
    schemas["CommentBody"]["properties"]["text"]["pattern"] = json!(limits::VALUE_PATTERN);

    let paths = doc["paths"].as_object_mut().expect("paths");
    for (path, item) in paths.iter_mut() {
        for (_, op) in item.as_object_mut().expect("a path item").iter_mut() {
            complete_operation(path, op);
        }
    }
    serde_json::to_string(&doc).expect("the document serializes")
}

/// Parameter constraints from [`limits`], and the shared error answers.
fn complete_operation(path: &str, op: &mut Value) {
    let mut params = Vec::new();
    let listed = op.get_mut("parameters").and_then(Value::as_array_mut);
    for p in listed.into_iter().flatten() {
        let name = p["name"].as_str().unwrap_or("").to_string();
        let place = p["in"].as_str().unwrap_or("").to_string();
        match (place.as_str(), name.as_str()) {
            ("path", "id") => {
                p["schema"]["minLength"] = json!(1);
                p["schema"]["maxLength"] = json!(MAX_ID_CHARS);
            }
            ("query", "source") => p["schema"]["pattern"] = json!(limits::SOURCE_PATTERN),
            ("query", "q") => p["schema"]["pattern"] = json!(limits::VALUE_PATTERN),
            ("header", "Idempotency-Key") => {
                p["schema"]["pattern"] = json!(r"^[\x21-\x7E]{1,200}$");
            }
            _ => {}
        }
        params.push(place);
    }
    // An import's file is any bytes of its type: no schema to violate.
    if path == "/v1/imports" {
        if let Some(content) = op["requestBody"]["content"].as_object_mut() {
            for media in content.values_mut() {
                *media = json!({});
            }
        }
    }
    let body = op.get("requestBody").is_some();
    let json_body = op["requestBody"]["content"]
        .as_object()
        .is_some_and(|c| c.contains_key("application/json"));
    let secured = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| !s.is_empty());
    let responses = op["responses"].as_object_mut().expect("responses");
    let mut add = |status: u16, description: &str| {
        responses
            .entry(status.to_string())
            .or_insert_with(|| error_response(description));
    };
    if !params.is_empty() || body {
        add(400, "a parameter or the body is malformed");
    }
    if secured {
        add(401, "no valid `Authorization: Bearer` token");
    }
    if params.iter().any(|p| p == "path") {
        add(404, "nothing has this id");
    }
    if body {
        add(408, "the body did not arrive in time");
        add(413, "the body is larger than the route accepts");
        add(415, "the body's Content-Type is not one the route takes");
    }
    if json_body {
        add(422, "the body does not fit the route");
    }
    add(414, "the request line is too long");
    add(500, "internal error");
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {
            "application/json": {
                "schema": { "$ref": "#/components/schemas/ErrorBody" }
            }
        }
    })
}

pub async fn serve_openapi(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi.as_ref().clone(),
    )
}

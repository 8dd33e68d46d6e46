//! The API describes itself: an OpenAPI 3.1 document built from the route table
//! ([`dispatch_shared::routes::ROUTES`]) and hand-written JSON Schemas, served as Dispatch serves its own
//! (`GET /api/v1/docs/openapi.json`, ReDoc at `GET /api/v1/docs`, in `functions/auth`).
//!
//! - [`operations`]: per route, its request body, success body and its own refusals; the other
//!   error statuses follow from the route's permission, path and body.
//! - [`parameters`]: path parameters from the `{param}` placeholders, the list parameters.
//! - [`schemas`]: the component schemas of the bodies.
//!
//! The API tests validate every response they produce against this document
//! (`tests/api/openapi/`), so it cannot drift from the handlers unnoticed. The document is
//! built once per process ([`document`]).

pub mod operations;
pub mod parameters;
pub mod schemas;

use std::sync::LazyLock;

use serde_json::{Map, Value, json};

use dispatch_shared::routes::{Permission, ROUTES, Route};
use operations::{Operation, Success};

/// Where the ReDoc page is served (Dispatch's path).
pub const DOCS_PATH: &str = "/api/v1/docs";
/// Where this document is served (Dispatch's path).
pub const OPENAPI_PATH: &str = "/api/v1/docs/openapi.json";
/// The name of the bearer security scheme.
pub const BEARER: &str = "BearerAuth";

static DOCUMENT: LazyLock<Value> = LazyLock::new(build);
static DOCUMENT_JSON: LazyLock<String> = LazyLock::new(|| DOCUMENT.to_string());

/// The OpenAPI document, built on first use.
pub fn document() -> &'static Value {
    &DOCUMENT
}

/// The document serialised, as `GET /api/v1/docs/openapi.json` answers it.
pub fn document_json() -> &'static str {
    &DOCUMENT_JSON
}

const DESCRIPTION: &str = "Netflix Dispatch's users, auth, organizations, projects and plugins API, served by AWS Lambda functions on DynamoDB.

**Authentication.** Log in (`POST /api/v1/{organization}/auth/login`) and send the token as `Authorization: Bearer <token>`. Public routes need none.

**Errors** are Dispatch's: `{\"detail\": [{\"msg\", \"loc\", \"type\"}]}` (`{\"detail\": \"<message>\"}` where noted). A 429 or 503 carries `Retry-After`.

**Lists** take `page`, `itemsPerPage`, `q`, `filter`, `sortBy[]`, `descending[]` and `cursor`, and answer `{items, itemsPerPage, page, total, next, total_exact}`.";

fn build() -> Value {
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": "Dispatch",
            "description": DESCRIPTION,
            "version": env!("CARGO_PKG_VERSION"),
            "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" },
        },
        "tags": dispatch_shared::routes::Function::ALL
            .iter()
            .map(|f| json!({ "name": f.name(), "description": format!("Served by the {f} function.") }))
            .collect::<Vec<_>>(),
        "paths": paths(),
        "components": {
            "schemas": schemas::components(),
            "securitySchemes": {
                BEARER: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "The token of `POST /api/v1/{organization}/auth/login` or `/auth/register` (or the identity provider's, when one is configured).",
                },
            },
        },
    })
}

fn paths() -> Map<String, Value> {
    let mut paths = Map::new();
    for route in ROUTES {
        let operation = operations::operation(route).unwrap_or_else(|| {
            panic!("{route} is not documented: add it to shared/openapi/src/operations/table.rs")
        });
        let item = paths
            .entry(route.path)
            .or_insert_with(|| Value::Object(Map::new()));
        item[route.method.as_str().to_ascii_lowercase()] = operation_object(route, &operation);
    }
    paths
}

fn operation_object(route: &Route, operation: &Operation) -> Value {
    let mut parameters = parameters::path_parameters(route);
    if matches!(operation.success, Success::Page(_)) {
        parameters.extend(parameters::list_parameters());
    }
    let mut object = json!({
        "operationId": operation.id,
        "summary": operation.summary,
        "description": format!("Who may call it: {}.", who_may_call(route.permission)),
        "tags": [route.function.name()],
        "parameters": parameters,
        "responses": responses(route, operation),
        "security": if route.permission == Permission::Public {
            json!([])
        } else {
            json!([{ BEARER: [] }])
        },
    });
    if let Some(request) = operation.request {
        object["requestBody"] = json!({
            "required": true,
            "content": { "application/json": { "schema": schemas::reference(request) } },
        });
    }
    object
}

fn who_may_call(permission: Permission) -> &'static str {
    match permission {
        Permission::Public => "anyone, without a token",
        Permission::Authenticated => "any authenticated user",
        Permission::OrganizationMember => "any member of the organization",
        Permission::OrganizationOwner => "an Owner of the organization",
        Permission::OrganizationOwnerOrSelf => "an Owner of the organization, or the user themself",
        Permission::OwnerOfOrganizationId => "an Owner of this organization",
        Permission::ProjectCreate => "an Owner or Manager of the organization",
        Permission::ProjectUpdate | Permission::SensitiveProjectAction => {
            "an Owner, Manager or Admin of the organization"
        }
    }
}

fn json_content(schema: Value) -> Value {
    json!({ "application/json": { "schema": schema } })
}

fn responses(route: &Route, operation: &Operation) -> Map<String, Value> {
    let mut responses = Map::new();
    let success = match operation.success {
        Success::Schema(name) | Success::Page(name) => {
            json!({ "description": "Successful Response", "content": json_content(schemas::reference(name)) })
        }
        Success::Null => {
            json!({ "description": "Deleted", "content": json_content(json!({ "type": "null" })) })
        }
        Success::Html => json!({
            "description": "The ReDoc page of this document",
            "content": { "text/html": { "schema": { "type": "string" } } },
        }),
        Success::Document => json!({
            "description": "This OpenAPI document",
            "content": json_content(json!({ "type": "object", "required": ["openapi", "info", "paths"] })),
        }),
    };
    responses.insert("200".into(), success);
    for status in operations::error_statuses(route, operation) {
        responses.insert(status.to_string(), error_response(status, operation));
    }
    responses
}

fn error_response(status: u16, operation: &Operation) -> Value {
    let string_detail = status == 400
        && operation
            .refusals
            .contains(&operations::Refusal::BadRequestString);
    let description = match status {
        400 if string_detail => "Refused, with Dispatch's message as a bare string",
        400 => "Refused (e.g. a wrong current password)",
        401 => "Missing, malformed, expired or revoked credentials",
        403 => {
            "The caller's role does not allow this (or the body sets what only the operator may)"
        }
        404 => "The organization, or the resource the path names, does not exist",
        409 => "A uniqueness guard, a kept default or a concurrent update refused the write",
        413 => "The body is larger than 1 MB",
        422 => "Invalid path, query or body; `loc` names the place",
        429 => "Too many attempts: wait `Retry-After` seconds",
        503 => "DynamoDB throttled or timed out: retry after `Retry-After` seconds",
        _ => "Error",
    };
    let schema = schemas::reference(if string_detail {
        "StringDetailError"
    } else {
        "HTTPError"
    });
    let mut response = json!({ "description": description, "content": json_content(schema) });
    if matches!(status, 429 | 503) {
        response["headers"] = json!({
            "Retry-After": { "description": "Seconds to wait.", "schema": { "type": "integer" } },
        });
    }
    response
}

#[cfg(test)]
mod tests;

//! Schemas every route group shares: Dispatch's error bodies (`dispatch_shared::error`), the list
//! envelope (`dispatch_domain::list::Page::into_json`), roles, the health check.

use serde_json::{Map, Value, json};

use super::{closed, nullable, reference, string};

/// The list envelopes: (component name, component of the items).
pub const PAGES: &[(&str, &str)] = &[
    ("UserPagination", "UserListItem"),
    ("OrganizationPagination", "OrganizationRead"),
    ("ProjectPagination", "ProjectRead"),
    ("PluginPagination", "PluginRead"),
    ("PluginInstancePagination", "PluginInstanceReadMinimal"),
    ("PluginEventPagination", "PluginEventRead"),
];

pub fn schemas() -> Map<String, Value> {
    let mut schemas = Map::new();
    schemas.insert(
        "ErrorDetail".into(),
        closed(
            "One failure: its message, where it is (`[\"body\", \"email\"]`, `[\"query\", \"page\"]`, `[\"path\", \"user_id\"]`, or empty) and a machine-readable type.",
            json!({
                "msg": string(),
                "loc": { "type": "array", "items": { "type": ["string", "integer"] } },
                "type": string(),
            }),
        ),
    );
    schemas.insert(
        "HTTPError".into(),
        closed(
            "Dispatch's error body: a list of failures.",
            json!({ "detail": { "type": "array", "items": reference("ErrorDetail"), "minItems": 1 } }),
        ),
    );
    schemas.insert(
        "StringDetailError".into(),
        closed(
            "Dispatch's error body where its handler raises an `HTTPException` with a bare message.",
            json!({ "detail": string() }),
        ),
    );
    schemas.insert(
        "Role".into(),
        json!({
            "type": "string",
            "description": "A role in an organization, highest first.",
            "enum": ["Owner", "Manager", "Admin", "Member"],
        }),
    );
    schemas.insert(
        "HealthCheck".into(),
        closed(
            "The API is up.",
            json!({ "status": { "type": "string", "enum": ["ok"] } }),
        ),
    );
    for (name, item) in PAGES {
        schemas.insert((*name).into(), page(item));
    }
    schemas
}

/// Dispatch's list envelope around items of the component `item`.
fn page(item: &str) -> Value {
    closed(
        &format!("A page of {item}s, with the total and a cursor to the next page."),
        json!({
            "items": { "type": "array", "items": reference(item) },
            "itemsPerPage": {
                "type": "integer",
                "description": "The page size asked for, or the total when more was asked (and for -1, all).",
            },
            "page": { "type": "integer", "minimum": 1 },
            "total": { "type": "integer", "minimum": 0 },
            "next": nullable(json!({
                "type": "string",
                "description": "Opaque cursor of the next page (pass it as `cursor`); null on the last page.",
            })),
            "total_exact": {
                "type": "boolean",
                "description": "False when a filtered or searched list stopped early (it examines at most 1,000 items per request) and `total` is a lower bound.",
            },
        }),
    )
}

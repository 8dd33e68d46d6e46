//! Path parameters (read from the route's `{param}` placeholders) and the list parameters of
//! every list endpoint (`dispatch_domain::list::ListParams`).

use dispatch_domain::list::params::{DEFAULT_ITEMS_PER_PAGE, MAX_ITEMS_PER_PAGE, MAX_Q_CHARS};
use serde_json::{Value, json};

use super::schemas::id;
use dispatch_shared::routes::Route;

/// The route's path parameters, in path order: `{organization}` a slug, every other an id.
pub fn path_parameters(route: &Route) -> Vec<Value> {
    route
        .path
        .split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let (schema, description) = if name == "organization" {
                (
                    json!({ "type": "string", "minLength": 3, "maxLength": 250 }),
                    "The organization's slug (letters, digits and `_`), e.g. `default`.".to_owned(),
                )
            } else {
                let what = name.trim_end_matches("_id").replace('_', " ");
                (id(), format!("The {what}'s id."))
            };
            json!({
                "name": name,
                "in": "path",
                "required": true,
                "description": description,
                "schema": schema,
            })
        })
        .collect()
}

/// Dispatch's list parameters (`CommonParameters`), as the UI sends them.
pub fn list_parameters() -> Vec<Value> {
    let query = |name: &str, description: &str, schema: Value| json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema });
    vec![
        query(
            "page",
            "The page, from 1 (with `cursor`, ignored).",
            json!({ "type": "integer", "minimum": 1, "default": 1 }),
        ),
        query(
            "itemsPerPage",
            &format!(
                "Items per page; -1 for all. Pages hold at most {MAX_ITEMS_PER_PAGE} items: the rest continues through `next`."
            ),
            json!({ "type": "integer", "minimum": -1, "default": DEFAULT_ITEMS_PER_PAGE }),
        ),
        query(
            "q",
            "Search: items whose searchable text fields hold every term.",
            json!({ "type": "string", "maxLength": MAX_Q_CHARS }),
        ),
        query(
            "filter",
            "Dispatch's filter specification, JSON-encoded (e.g. `{\"and\":[{\"model\":\"Project\",\"field\":\"name\",\"op\":\"==\",\"value\":\"default\"}]}`).",
            json!({ "type": "string", "contentMediaType": "application/json" }),
        ),
        query(
            "sortBy[]",
            "Sort fields (`field` or `Model.field`), paired by position with `descending[]`; repeat the parameter for several.",
            json!({ "type": "array", "items": { "type": "string" } }),
        ),
        query(
            "descending[]",
            "One direction per `sortBy[]` entry.",
            json!({ "type": "array", "items": { "type": "boolean" } }),
        ),
        query(
            "cursor",
            "The `next` of the previous page: continues after it (signed, bound to the query, valid one hour).",
            json!({ "type": "string" }),
        ),
    ]
}

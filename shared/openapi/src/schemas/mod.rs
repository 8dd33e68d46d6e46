//! The component schemas of the OpenAPI document: JSON Schema 2020-12 (OpenAPI 3.1's dialect),
//! written by hand from the views (`dispatch_shared::views`) and the handlers' body types.
//!
//! Responses are described exactly: every field listed, required, nothing else allowed
//! (`additionalProperties: false`), nullability spelled `"type": [T, "null"]`. That strictness
//! is what lets the API tests check every response they see against this document, so a field
//! added to a view without its schema fails a test. Request bodies are open (Dispatch ignores
//! unknown keys) and document the bounds the handlers enforce.

mod common;
mod organizations;
mod plugins;
mod projects;
mod users;

use serde_json::{Map, Value, json};

/// Every component schema, by name.
pub fn components() -> Map<String, Value> {
    let mut all = Map::new();
    for group in [
        common::schemas(),
        users::schemas(),
        organizations::schemas(),
        projects::schemas(),
        plugins::schemas(),
    ] {
        for (name, schema) in group {
            let previous = all.insert(name.clone(), schema);
            assert!(
                previous.is_none(),
                "component schema {name} is defined twice"
            );
        }
    }
    all
}

/// A `$ref` to the component schema `name`.
pub fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// `schema`, or `null`: `"type": [T, "null"]` for a plain type, `anyOf` around a reference.
pub fn nullable(schema: Value) -> Value {
    match schema {
        Value::Object(mut map) if map.get("type").is_some_and(Value::is_string) => {
            let single = map.remove("type").unwrap_or_default();
            map.insert("type".into(), json!([single, "null"]));
            Value::Object(map)
        }
        other => json!({ "anyOf": [other, { "type": "null" }] }),
    }
}

/// A response object: every property required, no other property allowed.
pub fn closed(description: &str, properties: Value) -> Value {
    let required: Vec<&String> = properties
        .as_object()
        .map(|p| p.keys().collect())
        .unwrap_or_default();
    json!({
        "type": "object",
        "description": description,
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// A request body: `required` must be sent; other keys are ignored by the API.
pub fn open(description: &str, required: &[&str], properties: Value) -> Value {
    json!({
        "type": "object",
        "description": description,
        "properties": properties,
        "required": required,
    })
}

/// A list of the component `item`.
pub fn array_of(item: &str) -> Value {
    json!({ "type": "array", "items": reference(item) })
}

/// Shorthands for the scalar types the schemas repeat.
pub fn string() -> Value {
    json!({ "type": "string" })
}
pub fn integer() -> Value {
    json!({ "type": "integer" })
}
pub fn boolean() -> Value {
    json!({ "type": "boolean" })
}
/// A string of at most `max` characters (and at least `min`), as the domain's text types bound it.
pub fn text(min: usize, max: usize) -> Value {
    if min == 0 {
        json!({ "type": "string", "maxLength": max })
    } else {
        json!({ "type": "string", "minLength": min, "maxLength": max })
    }
}
/// An id: Dispatch's `PrimaryKey` (1 to 2^31-2).
pub fn id() -> Value {
    json!({ "type": "integer", "minimum": 1, "maximum": 2_147_483_646 })
}

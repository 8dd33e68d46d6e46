use std::collections::HashSet;

use serde_json::Value;

use super::*;

/// Every `$ref` string in `value`.
fn refs(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("$ref", Value::String(target)) => found.push(target.clone()),
                    _ => refs(child, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| refs(item, found)),
        _ => {}
    }
}

#[test]
fn every_route_is_documented_once_with_a_unique_operation_id() {
    let mut ids = HashSet::new();
    for route in ROUTES {
        let operation = operations::operation(route)
            .unwrap_or_else(|| panic!("{route} has no entry in operations.rs"));
        assert!(
            ids.insert(operation.id),
            "operation id {} twice",
            operation.id
        );
        let documented =
            &document()["paths"][route.path][route.method.as_str().to_ascii_lowercase()];
        assert_eq!(documented["operationId"], operation.id, "{route}");
    }
}

#[test]
fn every_reference_resolves() {
    let document = document();
    let mut found = Vec::new();
    refs(document, &mut found);
    assert!(!found.is_empty());
    for target in found {
        let pointer = target.strip_prefix('#').expect("a local reference");
        assert!(
            document.pointer(pointer).is_some(),
            "{target} does not resolve"
        );
    }
}

#[test]
fn public_routes_need_no_token_and_the_others_the_bearer_scheme() {
    for route in ROUTES {
        let operation =
            &document()["paths"][route.path][route.method.as_str().to_ascii_lowercase()];
        let public = route.permission == Permission::Public;
        assert_eq!(
            operation["security"].as_array().unwrap().is_empty(),
            public,
            "{route}"
        );
        assert_eq!(
            operation["responses"].get("401").is_none(),
            public,
            "{route}"
        );
    }
}

#[test]
fn the_document_is_json_of_openapi_3_1() {
    let parsed: Value = serde_json::from_str(document_json()).unwrap();
    assert_eq!(parsed["openapi"], "3.1.0");
    assert_eq!(parsed["info"]["title"], "Dispatch");
}

#[test]
fn the_document_fits_a_lambda_response_with_room_to_spare() {
    // Lambda answers at most 6 MB (base64 for a gzipped body); the document is far smaller.
    let size = document_json().len();
    eprintln!("OpenAPI document: {size} bytes");
    assert!(size < 1_000_000, "{size} bytes");
}

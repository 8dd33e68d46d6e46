//! The hook of `helpers::call`: every response the API tests produce is checked against the
//! OpenAPI document. Its status must be listed for the route the request reached, and a JSON
//! body must validate (JSON Schema 2020-12) against that status's schema.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use dispatch_openapi::document;
use dispatch_shared::routes::{ROUTES, Route};
use http::{StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::TestResponse;

/// The documented route a request reaches: the method's routes whose pattern matches the path
/// exactly (no trailing `/`: the router does not strip it), literal segments winning over
/// parameters from the left, as axum's router picks.
fn documented_route(method: &http::Method, path: &str) -> Option<&'static Route> {
    let segments: Vec<&str> = path.split('/').collect();
    ROUTES
        .iter()
        .filter(|route| route.method.to_http() == *method)
        .filter_map(|route| {
            let pattern: Vec<&str> = route.path.split('/').collect();
            if pattern.len() != segments.len() {
                return None;
            }
            let mut literal = Vec::with_capacity(pattern.len());
            for (expected, actual) in pattern.iter().zip(&segments) {
                let is_param = expected.starts_with('{') && expected.ends_with('}');
                if is_param && actual.is_empty() || !is_param && expected != actual {
                    return None;
                }
                literal.push(!is_param);
            }
            Some((literal, route))
        })
        .max_by(|(a, _), (b, _)| a.cmp(b))
        .map(|(_, route)| route)
}

/// Compiled validators of the documented bodies, per route and status: compiling one costs
/// far more than a validation, and the suite checks thousands of responses.
static VALIDATORS: LazyLock<Mutex<HashMap<ResponseKey, Arc<jsonschema::Validator>>>> =
    LazyLock::new(Default::default);

/// A documented response: the route's method and path, and the status.
type ResponseKey = (&'static str, &'static str, u16);

/// The validator of `schema`, with the document's components at its root so that
/// `#/components/schemas/…` resolves.
pub fn compile(schema: &Value) -> jsonschema::Validator {
    let mut root = match schema {
        Value::Object(map) => map.clone(),
        other => panic!("a schema object, not {other}"),
    };
    root.insert("components".into(), document()["components"].clone());
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&Value::Object(root))
        .unwrap_or_else(|e| panic!("the schema {schema} compiles: {e}"))
}

fn validator(route: &'static Route, status: u16, schema: &Value) -> Arc<jsonschema::Validator> {
    let key = (route.method.as_str(), route.path, status);
    let mut cache = VALIDATORS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    Arc::clone(
        cache
            .entry(key)
            .or_insert_with(|| Arc::new(compile(schema))),
    )
}

/// What is wrong with `response` to `method path` according to the document; `Ok` for a path
/// no route documents (the 404/405 tests send such paths on purpose), for the 501 of a route
/// without a handler (a test builds such a router on purpose; deployed routers have every
/// handler, `tests/api/route_table`), and for bodies that are not plain JSON (gzip).
pub fn response_problems(
    method: &http::Method,
    path: &str,
    response: &TestResponse,
) -> Result<(), String> {
    let Some(route) = documented_route(method, path) else {
        return Ok(());
    };
    if response.status == StatusCode::NOT_IMPLEMENTED {
        return Ok(());
    }
    let status = response.status.as_u16();
    let operation = &document()["paths"][route.path][method.as_str().to_ascii_lowercase()];
    let Some(documented) = operation["responses"].get(status.to_string()) else {
        return Err(format!(
            "{method} {path} ({route}) answered {status}, which the OpenAPI document does not list: {}",
            response.body
        ));
    };
    if response.headers.contains_key(header::CONTENT_ENCODING) {
        return Ok(());
    }
    let content_type = response
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .trim();
    let Some(media) = documented["content"].get(content_type) else {
        return Err(format!(
            "{method} {path} ({route}) answered {status} as {content_type:?}, not a documented content type"
        ));
    };
    if content_type != "application/json" {
        return Ok(());
    }
    let validator = validator(route, status, &media["schema"]);
    let errors: Vec<String> = validator
        .iter_errors(&response.body)
        .map(|error| format!("at {}: {error}", error.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{method} {path} ({route}) answered {status} with a body its schema refuses:\n  {}\nbody: {}",
            errors.join("\n  "),
            response.body
        ))
    }
}

/// The hook of `helpers::call`: panics when the response contradicts the document.
pub fn check_response(method: &http::Method, path: &str, response: &TestResponse) {
    if let Err(problem) = response_problems(method, path, response) {
        panic!("the OpenAPI document disagrees with the API: {problem}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: Value) -> TestResponse {
        let mut headers = http::HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        TestResponse {
            status: StatusCode::from_u16(status).unwrap(),
            headers,
            body,
        }
    }

    #[test]
    fn the_hook_refuses_what_the_document_does_not_say() {
        let get = http::Method::GET;
        let healthcheck = "/api/v1/healthcheck";
        assert_eq!(
            response_problems(&get, healthcheck, &response(200, json!({"status": "ok"}))),
            Ok(())
        );
        // A body of the wrong shape, an extra field, a status the route never answers.
        for (status, body) in [
            (200, json!({"status": "fine"})),
            (200, json!({"status": "ok", "uptime": 3})),
            (500, json!({"detail": []})),
        ] {
            let refused = response_problems(&get, healthcheck, &response(status, body.clone()));
            assert!(refused.is_err(), "{status} {body} was accepted");
        }
        // Through a `$ref` chain: a project whose `name` is null is not a `ProjectRead`.
        let project_path = "/api/v1/default/projects/1";
        let refused = response_problems(
            &get,
            project_path,
            &response(200, json!({"id": 1, "name": null})),
        );
        assert!(refused.unwrap_err().contains("name"));
        // An error body must be Dispatch's.
        let refused = response_problems(
            &get,
            project_path,
            &response(404, json!({"detail": "gone"})),
        );
        assert!(refused.is_err());
        // Strict through references: an item of a page with a field its schema lacks.
        let organization = json!({
            "id": 1, "name": "Default", "description": null, "default": true,
            "banner_enabled": false, "banner_color": null, "banner_text": null, "slug": "default",
        });
        let page = |item: &Value| json!({"items": [item], "itemsPerPage": 5, "page": 1, "total": 1, "next": null, "total_exact": true});
        let organizations = "/api/v1/organizations";
        let valid = response_problems(&get, organizations, &response(200, page(&organization)));
        assert_eq!(valid, Ok(()));
        let mut leaky = organization.clone();
        leaky["secret"] = json!("x");
        let refused = response_problems(&get, organizations, &response(200, page(&leaky)));
        assert!(refused.unwrap_err().contains("secret"));
        // Paths no route documents are the 404/405 tests' business.
        assert_eq!(
            response_problems(
                &get,
                "/api/v1/default/incidents",
                &response(404, json!(null))
            ),
            Ok(())
        );
        assert_eq!(
            response_problems(&get, "/api/v1/healthcheck/", &response(404, json!(null))),
            Ok(())
        );
    }

    #[test]
    fn requests_reach_the_route_axum_would_pick() {
        let get = http::Method::GET;
        let route = |path| documented_route(&get, path).map(|r| r.path);
        assert_eq!(
            route("/api/v1/default/plugins/instances"),
            Some("/api/v1/{organization}/plugins/instances")
        );
        assert_eq!(
            route("/api/v1/docs/openapi.json"),
            Some("/api/v1/docs/openapi.json")
        );
        assert_eq!(
            route("/api/v1/organizations/7"),
            Some("/api/v1/organizations/{organization_id}")
        );
        assert_eq!(
            route("/api/v1/acme/users/7"),
            Some("/api/v1/{organization}/users/{user_id}")
        );
        assert_eq!(route("/api/v1//users"), None);
    }
}

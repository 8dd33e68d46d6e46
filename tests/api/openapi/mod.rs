//! The API describes itself (`dispatch_openapi`): an OpenAPI 3.1 document of every
//! route, served with ReDoc as Dispatch serves its own. And the document is true: every
//! response the API tests produce goes through [`check_response`] (from `helpers::call`), which
//! fails the test when the status is not documented for its route or the JSON body does not
//! validate against the documented schema ([`hook`]).

mod hook;

pub use hook::check_response;

use std::collections::BTreeSet;
use std::io::Read;

use axum::body::Body;
use dispatch_openapi::{DOCS_PATH, OPENAPI_PATH, document};
use dispatch_shared::routes::ROUTES;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::helpers::{call, request, spawn_app};

/// Every `$ref` in `value`.
fn references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("$ref", Value::String(target)) => found.push(target.clone()),
                    _ => references(child, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, found)),
        _ => {}
    }
}

#[test]
fn the_document_is_openapi_3_1_of_every_route() {
    let document = document();
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["info"]["title"], "Dispatch");
    assert_eq!(document["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        document["info"]["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty())
    );
    let scheme = &document["components"]["securitySchemes"]["BearerAuth"];
    assert_eq!(
        (&scheme["type"], &scheme["scheme"]),
        (&json!("http"), &json!("bearer"))
    );

    let mut operations = 0;
    for route in ROUTES {
        let operation = &document["paths"][route.path][route.method.as_str().to_ascii_lowercase()];
        assert!(operation.is_object(), "{route} is not in the document");
        operations += 1;
        let placeholders: BTreeSet<&str> = route
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        let declared: BTreeSet<&str> = operation["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .filter(|p| p["in"] == "path")
            .inspect(|p| assert_eq!(p["required"], true, "{route}: {p}"))
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(placeholders, declared, "{route}: path parameters");
        let responses = operation["responses"].as_object().expect("responses");
        assert!(responses.contains_key("200"), "{route}");
        for (status, response) in responses {
            assert!(response["description"].is_string(), "{route} {status}");
        }
        let public = route.permission == dispatch_shared::routes::Permission::Public;
        assert_eq!(
            operation["security"] == json!([]),
            public,
            "{route}: security"
        );
        if !public {
            assert_eq!(
                operation["security"],
                json!([{ "BearerAuth": [] }]),
                "{route}"
            );
        }
    }
    let documented: usize = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(
        documented, operations,
        "the document has operations the route table lacks"
    );

    let mut found = Vec::new();
    references(document, &mut found);
    for target in &found {
        let pointer = target.strip_prefix('#').expect("local references only");
        assert!(
            document.pointer(pointer).is_some(),
            "{target} does not resolve"
        );
    }
    // Every component compiles as JSON Schema 2020-12.
    for name in document["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
    {
        hook::compile(&json!({ "$ref": format!("#/components/schemas/{name}") }));
    }
}

#[tokio::test]
async fn the_document_and_redoc_are_served_without_a_token() {
    let app = spawn_app().await;
    let json = call(&app.local_app(), request("GET", OPENAPI_PATH)).await;
    assert_eq!(json.status, StatusCode::OK);
    assert_eq!(json.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(&json.body, document());

    let page = call(&app.local_app(), request("GET", DOCS_PATH)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{:?}",
        page.headers
    );
    let html = page.body.as_str().expect("an HTML page");
    assert!(
        html.contains(r#"spec-url="/api/v1/docs/openapi.json""#),
        "{html}"
    );
    assert!(html.contains(dispatch_auth::docs::REDOC_SCRIPT), "{html}");

    // The auth function serves both on its own, as API Gateway routes them there.
    let router = dispatch_auth::router(app.state.clone()).unwrap();
    for path in [DOCS_PATH, OPENAPI_PATH] {
        assert_eq!(
            call(&router, request("GET", path)).await.status,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn the_document_is_gzipped_for_clients_that_accept_it() {
    let app = spawn_app().await;
    let request = Request::get(OPENAPI_PATH)
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(Body::empty())
        .unwrap();
    let response = app.local_app().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_end(&mut plain)
        .expect("gzip");
    let served: Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(&served, document());
}

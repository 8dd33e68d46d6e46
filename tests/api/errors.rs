//! The error mapping as clients see it: Dispatch's body shape for 404, 405, 413, 501, and the
//! headers every response carries.

use axum::body::Body;
use http::{Request, StatusCode};

use crate::helpers::{call, request, spawn_app};

fn assert_dispatch_shape(body: &serde_json::Value) {
    let detail = body["detail"]
        .as_array()
        .unwrap_or_else(|| panic!("detail is a list: {body}"));
    assert!(!detail.is_empty());
    for entry in detail {
        assert!(entry["msg"].is_string(), "{body}");
        assert!(entry["loc"].is_array(), "{body}");
        assert!(entry["type"].is_string(), "{body}");
    }
}

#[tokio::test]
async fn the_health_check_answers_ok_with_hsts() {
    let app = spawn_app().await;
    let response = call(&app.local_app(), request("GET", "/api/v1/healthcheck")).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body, serde_json::json!({"status": "ok"}));
    assert_eq!(
        response.headers["strict-transport-security"],
        "max-age=31536000 ; includeSubDomains"
    );
}

#[tokio::test]
async fn an_unknown_path_is_404_in_dispatch_shape() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/default/incidents",
        "/nowhere",
        "/api/v1/default/users/1/unknown",
    ] {
        let response = call(&app.local_app(), request("GET", path)).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}");
        assert_dispatch_shape(&response.body);
        assert_eq!(response.body["detail"][0]["msg"], "Not Found");
    }
}

#[tokio::test]
async fn a_known_path_with_another_method_is_405() {
    let app = spawn_app().await;
    // Dispatch has no DELETE for users, and PATCH is not used anywhere.
    for (method, path) in [
        ("DELETE", "/api/v1/default/users/3"),
        ("PATCH", "/api/v1/healthcheck"),
    ] {
        let response = call(&app.local_app(), request(method, path)).await;
        assert_eq!(
            response.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_dispatch_shape(&response.body);
        assert_eq!(response.body["detail"][0]["msg"], "Method Not Allowed");
    }
}

/// A browser's CORS preflight reaches the functions through API Gateway's catch-all route; it
/// must get a 2xx (API Gateway adds the allowed origins' headers). A plain OPTIONS is still 405.
#[tokio::test]
async fn a_cors_preflight_is_204_and_a_plain_options_is_405() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/default/auth/me",
        "/api/v1/default/users/3",
        "/api/v1/nowhere",
    ] {
        let preflight = Request::builder()
            .method("OPTIONS")
            .uri(path)
            .header("origin", "https://dispatch.example.com")
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .body(Body::empty())
            .unwrap();
        let response = call(&app.local_app(), preflight).await;
        assert_eq!(response.status, StatusCode::NO_CONTENT, "{path}");
        assert!(response.body.is_null(), "{path}: {}", response.body);
    }
    let plain = call(
        &app.local_app(),
        request("OPTIONS", "/api/v1/default/auth/me"),
    )
    .await;
    assert_eq!(plain.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_dispatch_shape(&plain.body);
}

#[tokio::test]
async fn bodies_over_one_megabyte_are_refused_before_parsing() {
    let app = spawn_app().await;
    let big = vec![b'x'; 1_000_001];
    let declared = Request::builder()
        .method("POST")
        .uri("/api/v1/default/auth/login")
        .header("content-type", "application/json")
        .header("content-length", big.len())
        .body(Body::from(big.clone()))
        .unwrap();
    let response = call(&app.local_app(), declared).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_dispatch_shape(&response.body);

    // Without a Content-Length header the limit holds while reading.
    let streamed = Request::builder()
        .method("POST")
        .uri("/api/v1/organizations")
        .body(Body::from_stream(futures_util::stream::iter(
            big.chunks(64 * 1024)
                .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
                .collect::<Vec<_>>(),
        )))
        .unwrap();
    let response = call(&app.local_app(), streamed).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_route_whose_issue_has_not_landed_answers_501_in_dispatch_shape() {
    let app = spawn_app().await;
    let token = app
        .register("member@example.com", "correct horse battery")
        .await;
    // Every route has its handler now: a group built without them stands for a route that is
    // in the table before its code lands.
    let pending = dispatch_shared::http::app(
        vec![dispatch_shared::http::RouteHandlers::new(
            dispatch_shared::routes::Function::Plugins,
        )],
        app.state.clone(),
    )
    .unwrap();
    let path = "/api/v1/default/plugins/plugin_events";
    // The permission layer still runs first.
    assert_eq!(
        call(&pending, request("GET", path)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let response = call(&pending, crate::helpers::authed("GET", path, &token)).await;
    assert_eq!(response.status, StatusCode::NOT_IMPLEMENTED);
    assert_dispatch_shape(&response.body);
    assert_eq!(
        response.body["detail"][0]["msg"],
        "GET /api/v1/{organization}/plugins/plugin_events is not implemented yet."
    );
}

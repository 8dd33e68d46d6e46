//! Responses of 1,000 bytes or more are gzipped when the client accepts it (Dispatch does the
//! same, F05), in the dev server and in each function, whose compressed body leaves Lambda as
//! binary (base64) for API Gateway to pass through.

use std::io::Read;

use axum::body::Body;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::helpers::{TestApp, spawn_app};

const PASSWORD: &str = "correct horse battery";

/// The raw response to `GET path` with `Accept-Encoding: accept` (none when `None`).
async fn get(
    app: &TestApp,
    token: &str,
    path: &str,
    accept: Option<&str>,
) -> http::Response<axum::body::Bytes> {
    let mut request = Request::get(path).header("authorization", format!("Bearer {token}"));
    if let Some(accept) = accept {
        request = request.header(header::ACCEPT_ENCODING, accept);
    }
    let response = app
        .local_app()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    http::Response::from_parts(parts, body.collect().await.unwrap().to_bytes())
}

fn gunzip(bytes: &[u8]) -> Value {
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut plain)
        .expect("a gzip stream");
    serde_json::from_slice(&plain).expect("JSON inside")
}

fn header_of(
    response: &http::Response<axum::body::Bytes>,
    name: header::HeaderName,
) -> Option<&str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

const CATALOGUE: &str = "/api/v1/default/plugins?itemsPerPage=-1";

#[tokio::test]
async fn a_large_page_is_gzipped_when_accepted_and_reads_the_same() {
    let app = spawn_app().await;
    let token = app.register("reader@example.com", PASSWORD).await;

    let plain = get(&app, &token, CATALOGUE, None).await;
    assert_eq!(plain.status(), StatusCode::OK);
    assert!(plain.body().len() >= 1_000, "the catalogue is a large page");
    assert_eq!(header_of(&plain, header::CONTENT_ENCODING), None);
    assert_eq!(header_of(&plain, header::VARY), Some("Accept-Encoding"));

    let gzipped = get(&app, &token, CATALOGUE, Some("gzip, deflate, br")).await;
    assert_eq!(gzipped.status(), StatusCode::OK);
    assert_eq!(header_of(&gzipped, header::CONTENT_ENCODING), Some("gzip"));
    assert_eq!(header_of(&gzipped, header::VARY), Some("Accept-Encoding"));
    assert_eq!(
        header_of(&gzipped, header::CONTENT_TYPE),
        Some("application/json")
    );
    assert!(
        gzipped.body().len() * 3 < plain.body().len(),
        "{} bytes gzipped, {} plain",
        gzipped.body().len(),
        plain.body().len()
    );
    let plain_json: Value = serde_json::from_slice(plain.body()).unwrap();
    assert_eq!(gunzip(gzipped.body()), plain_json);

    // In Lambda, lambda_http sends a body with a Content-Encoding as binary (base64).
    let response = http::Response::from_parts(
        gzipped.clone().into_parts().0,
        Body::from(gzipped.body().clone()),
    );
    let lambda = lambda_http::IntoResponse::into_response(response).await;
    let lambda_http::Body::Binary(bytes) = lambda.body() else {
        panic!(
            "a gzipped body must leave Lambda as binary: {:?}",
            lambda.body()
        );
    };
    assert_eq!(gunzip(bytes), plain_json);
}

#[tokio::test]
async fn small_bodies_and_clients_that_refuse_gzip_get_plain_bodies() {
    let app = spawn_app().await;
    let token = app.register("reader@example.com", PASSWORD).await;

    let refused = get(&app, &token, CATALOGUE, Some("gzip;q=0, br")).await;
    assert_eq!(header_of(&refused, header::CONTENT_ENCODING), None);
    let _: Value = serde_json::from_slice(refused.body()).expect("plain JSON");

    let small = get(&app, &token, "/api/v1/default/auth/myrole", Some("gzip")).await;
    assert_eq!(small.status(), StatusCode::OK);
    assert!(small.body().len() < 1_000, "{:?}", small.body());
    assert_eq!(header_of(&small, header::CONTENT_ENCODING), None);
    assert_eq!(header_of(&small, header::VARY), None);

    // Errors too: a 404 is small and plain.
    let missing = get(&app, &token, "/api/v1/default/nothing-here", Some("gzip")).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(header_of(&missing, header::CONTENT_ENCODING), None);
}

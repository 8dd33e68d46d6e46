//! `GET /api/v1/docs` (ReDoc) and `GET /api/v1/docs/openapi.json` (the OpenAPI 3.1 document of
//! `dispatch_openapi`), public as in Dispatch. No table access: the document is built
//! once per process and served from memory.
//!
//! The page loads ReDoc's standalone script from its CDN when a browser opens it, so nothing is
//! downloaded at build time and the function's package stays small.

use axum::http::header;
use axum::response::{Html, IntoResponse};
use dispatch_openapi::{OPENAPI_PATH, document_json};

/// ReDoc's standalone bundle from the npm registry's CDN, at a fixed version: behind the
/// template's CloudFront the page shares the UI's origin (and its stored token), so it must not
/// pick up whatever a moving `latest` becomes.
pub const REDOC_SCRIPT: &str =
    "https://cdn.jsdelivr.net/npm/redoc@2.1.5/bundles/redoc.standalone.js";

/// The page: ReDoc rendering the document at [`OPENAPI_PATH`].
pub fn redoc_page() -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dispatch - ReDoc</title>
<style>body {{ margin: 0; padding: 0; }}</style>
</head>
<body>
<noscript>ReDoc requires JavaScript. The OpenAPI document is at <a href="{OPENAPI_PATH}">{OPENAPI_PATH}</a>.</noscript>
<redoc spec-url="{OPENAPI_PATH}"></redoc>
<script src="{REDOC_SCRIPT}"></script>
</body>
</html>
"#
    )
}

/// The ReDoc page.
pub async fn redoc() -> Html<String> {
    Html(redoc_page())
}

/// The OpenAPI document as JSON.
pub async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        document_json(),
    )
}

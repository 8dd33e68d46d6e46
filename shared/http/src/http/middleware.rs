//! Middleware every response goes through: the body-size limit (413 before any parsing), the
//! HSTS header Dispatch sets, gzip (`compression`), and the 404/405 fallback.

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, Uri, header};
use axum::middleware::{Next, from_fn, map_response};
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, MAX_BODY_BYTES};
use crate::routes;

/// Adds the layers to a router.
pub(super) fn wrap<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(from_fn(limit_body))
        .layer(from_fn(super::compression::gzip))
        .layer(map_response(add_hsts))
}

/// Refuses bodies over [`MAX_BODY_BYTES`] with 413, by the declared length or while reading.
async fn limit_body(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return ApiError::PayloadTooLarge.into_response();
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return ApiError::PayloadTooLarge.into_response();
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

async fn add_hsts(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000 ; includeSubDomains"),
    );
    response
}

/// 405 when the path is a known route called with another method, 404 otherwise.
pub(super) async fn fallback(method: Method, uri: Uri) -> ApiError {
    let path = uri.path();
    if routes::find(&method, path).is_none() && routes::path_is_known(path) {
        ApiError::MethodNotAllowed
    } else {
        ApiError::RouteNotFound
    }
}

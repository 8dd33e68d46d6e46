//! Middleware every response goes through: the body-size limit (413 before any parsing), the
//! HSTS header Dispatch sets, gzip (`compression`), and the 404/405 fallback.

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
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

/// 405 when the path is a known route called with another method, 404 otherwise; but a
/// browser's CORS preflight (an `OPTIONS` with `Access-Control-Request-Method`) is a 204.
///
/// Deployed, API Gateway's catch-all route (`$default`) brings preflights here, and API Gateway
/// adds the CORS headers of the template's `CorsAllowOrigins` to the answer: a preflight must
/// get a 2xx for the browser to send the request. Without an allowed origin there are no CORS
/// headers, and the browser still refuses.
pub(super) async fn fallback(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if method == Method::OPTIONS && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
        return StatusCode::NO_CONTENT.into_response();
    }
    let path = uri.path();
    if routes::find(&method, path).is_none() && routes::path_is_known(path) {
        ApiError::MethodNotAllowed.into_response()
    } else {
        ApiError::RouteNotFound.into_response()
    }
}

//! One span per request, with what an operator filters logs by: the route (its pattern, not
//! the raw path, so ids do not explode cardinality), the Lambda request id, the organization,
//! the caller's user id, and at the end the status and latency. Inside Lambda the subscriber
//! writes JSON lines ([`dispatch_domain::telemetry`]); the dev server writes the same fields as text.

use std::time::Instant;

use axum::extract::Request;
use axum::response::Response;
use lambda_http::RequestExt;

use crate::routes::Route;

/// The span a request's work runs in; `user_id`, `status` and `latency_ms` are recorded later.
pub fn request_span(route: &'static Route, request: &Request) -> tracing::Span {
    let request_id = request
        .extensions()
        .lambda_context_ref()
        .map(|context| context.request_id.clone())
        .unwrap_or_default();
    let organization = crate::permissions::path_param(route, request.uri().path(), "organization")
        .unwrap_or_default()
        .to_owned();
    tracing::info_span!(
        "request",
        route = %route,
        request_id = %request_id,
        organization = %organization,
        user_id = tracing::field::Empty,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    )
}

/// Records the outcome on the current span and logs one line for the request.
pub fn finish(response: &Response, started: Instant) {
    let span = tracing::Span::current();
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1e3;
    span.record("status", status);
    span.record("latency_ms", latency_ms);
    tracing::info!(status, latency_ms, "request finished");
}

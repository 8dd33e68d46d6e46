//! The one error type of the API and its mapping to HTTP.
//!
//! Every failure a client can see is an [`ApiError`]; [`IntoResponse`] turns it into Dispatch's
//! body, `{"detail":[{"msg":…,"loc":…,"type":…}]}`, in this one place (or `{"detail":"…"}` for
//! [`ApiError::BadRequestDetail`], the few routes where Dispatch answers a bare string). Domain failures arrive as
//! `DomainError`s and are mapped here once (`From<DomainError>`), so the domain never knows a
//! status or a `loc`. Internal errors are logged with their whole chain and answered with
//! Dispatch's opaque 500 body, never their text.

use std::borrow::Cow;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use crate::routes::Route;
use dispatch_domain::error::{DomainError, FieldError, Location, Segment};
use dispatch_domain::messages;
use dispatch_store::{IsVersionConflict, StoreError};

/// One entry of Dispatch's `detail` list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorDetail {
    pub msg: String,
    pub loc: Vec<Value>,
    #[serde(rename = "type")]
    pub kind: String,
}

impl ErrorDetail {
    /// A detail with a location (e.g. `["body", "email"]`) and a machine-readable type.
    pub fn new(msg: impl Into<String>, loc: Vec<Value>, kind: impl Into<String>) -> Self {
        Self {
            msg: msg.into(),
            loc,
            kind: kind.into(),
        }
    }
}

/// Builds a `loc` list from path segments: `loc!["body", "email"]`, `loc!["query", "page"]`.
#[macro_export]
macro_rules! loc {
    ($($segment:expr),* $(,)?) => { vec![$(::serde_json::Value::from($segment)),*] };
}

/// Every error the API answers with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 422: the request is well-formed HTTP but its content is invalid.
    #[error("unprocessable request: {0:?}")]
    Validation(Vec<ErrorDetail>),
    /// 400 with a message (Dispatch uses it for e.g. "Invalid current password").
    #[error("bad request: {0}")]
    BadRequest(Cow<'static, str>),
    /// 400 whose body is `{"detail":"<msg>"}`, a bare string: Dispatch's `HTTPException` with a
    /// string detail, on the routes whose refusals it words that way (`POST /auth/mfa`,
    /// D-MFA1). Handlers opt in with [`ApiError::string_detail`].
    #[error("bad request: {0}")]
    BadRequestDetail(Cow<'static, str>),
    /// 401: missing, malformed, expired or revoked credentials. Always the same body.
    #[error("could not validate credentials")]
    Unauthorized,
    /// 403 with the message of the rule that refused.
    #[error("forbidden: {0}")]
    Forbidden(Cow<'static, str>),
    /// 404 for a resource that does not exist (or is not visible to the caller).
    #[error("not found: {0}")]
    NotFound(Cow<'static, str>),
    /// 404 for a path no route matches.
    #[error("no route for this path")]
    RouteNotFound,
    /// 405 for a known path called with another method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: a uniqueness guard or a concurrent update refused the write.
    #[error("conflict: {0}")]
    Conflict(Cow<'static, str>),
    /// 409: a concurrent update kept winning the version race, even after retries.
    #[error("concurrent update conflict")]
    VersionConflict,
    /// 413: the body is larger than the API accepts.
    #[error("request body too large")]
    PayloadTooLarge,
    /// 429: too many attempts; the client should wait `retry_after_seconds` (`Retry-After`).
    #[error("too many requests: {message}")]
    TooManyRequests {
        message: Cow<'static, str>,
        retry_after_seconds: u64,
    },
    /// 501: the route is in the route table but its capability has not landed yet.
    #[error("not implemented: {0}")]
    NotImplemented(&'static Route),
    /// 503: DynamoDB throttled us or timed out after the SDK's retries; safe to retry.
    #[error("service unavailable")]
    Unavailable,
    /// 500: a bug or an unexpected infrastructure failure. Logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The largest request body the API accepts (1 MB, decimal as API Gateway counts).
pub const MAX_BODY_BYTES: usize = 1_000_000;

impl ApiError {
    /// A 422 with a single detail.
    pub fn validation(msg: impl Into<String>, loc: Vec<Value>, kind: impl Into<String>) -> Self {
        ApiError::Validation(vec![ErrorDetail::new(msg, loc, kind)])
    }

    /// A domain failure of a route where Dispatch answers its 400s with a bare string detail:
    /// a `BadRequest` becomes [`ApiError::BadRequestDetail`]; every other failure maps as
    /// everywhere (`From<DomainError>`).
    pub fn string_detail(error: DomainError) -> Self {
        match error {
            DomainError::BadRequest(msg) => ApiError::BadRequestDetail(msg),
            other => other.into(),
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest(_) | ApiError::BadRequestDetail(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) | ApiError::RouteNotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) | ApiError::VersionConflict => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `detail` list of the body (for [`ApiError::BadRequestDetail`], whose body holds the
    /// bare message, the list it would have: see [`ApiError::body`]).
    pub fn details(&self) -> Vec<ErrorDetail> {
        let one = |msg: &str, loc: Vec<Value>, kind: &str| vec![ErrorDetail::new(msg, loc, kind)];
        match self {
            ApiError::Validation(details) => details.clone(),
            ApiError::BadRequest(msg) | ApiError::BadRequestDetail(msg) => {
                one(msg, loc!["body"], "value_error")
            }
            ApiError::Unauthorized => one(
                messages::UNAUTHENTICATED,
                loc!["header", "Authorization"],
                "unauthorized",
            ),
            ApiError::Forbidden(msg) => one(msg, vec![], "permission_denied"),
            ApiError::NotFound(msg) => one(msg, loc!["path"], "not_found"),
            ApiError::RouteNotFound => one("Not Found", loc!["path"], "not_found"),
            ApiError::MethodNotAllowed => {
                one("Method Not Allowed", loc!["method"], "method_not_allowed")
            }
            ApiError::Conflict(msg) => one(msg, loc!["body"], "conflict"),
            ApiError::VersionConflict => one(messages::VERSION_CONFLICT, vec![], "conflict"),
            ApiError::PayloadTooLarge => one(
                "Request body is larger than 1 MB.",
                loc!["body"],
                "payload_too_large",
            ),
            ApiError::TooManyRequests { message, .. } => one(message, vec![], "too_many_requests"),
            ApiError::NotImplemented(route) => one(
                &format!("{route} is not implemented yet."),
                loc!["path"],
                "not_implemented",
            ),
            ApiError::Unavailable => one(messages::UNAVAILABLE, vec![], "service_unavailable"),
            // Dispatch's own opaque 500 body: nothing internal reaches the client.
            ApiError::Internal(_) => one("Unknown", loc!["Unknown"], "Unknown"),
        }
    }
}

impl ApiError {
    /// The response body: `{"detail": [...]}`, or `{"detail": "<msg>"}` for
    /// [`ApiError::BadRequestDetail`].
    pub fn body(&self) -> Value {
        match self {
            ApiError::BadRequestDetail(msg) => serde_json::json!({ "detail": msg }),
            other => serde_json::json!({ "detail": other.details() }),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(error) = &self {
            tracing::error!(error = format!("{error:#}"), "internal error");
        }
        let status = self.status();
        let body = self.body();
        let mut response = (status, Json(body)).into_response();
        let retry_after = match &self {
            ApiError::Unavailable => Some(1),
            ApiError::TooManyRequests {
                retry_after_seconds,
                ..
            } => Some(*retry_after_seconds),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<DomainError> for ApiError {
    /// The one mapping of domain failures to Dispatch's statuses and bodies. An invalid field's
    /// `loc` is its location (`"body"`, `"query"`, `"path"`, or nothing for Dispatch's bare
    /// field names) followed by its path.
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::NotFound(msg) => ApiError::NotFound(msg),
            DomainError::Conflict(msg) => ApiError::Conflict(msg),
            DomainError::Invalid(fields) => {
                ApiError::Validation(fields.into_iter().map(ErrorDetail::from).collect())
            }
            DomainError::BadRequest(msg) => ApiError::BadRequest(msg),
            DomainError::Unauthenticated => ApiError::Unauthorized,
            DomainError::Forbidden(msg) => ApiError::Forbidden(msg),
            DomainError::Throttled {
                msg,
                retry_after_seconds,
            } => ApiError::TooManyRequests {
                message: msg,
                retry_after_seconds,
            },
            DomainError::VersionConflict => ApiError::VersionConflict,
            DomainError::Unavailable => ApiError::Unavailable,
            DomainError::Internal(error) => ApiError::Internal(error),
        }
    }
}

impl From<FieldError> for ErrorDetail {
    fn from(field: FieldError) -> Self {
        let mut loc: Vec<Value> = match field.path.location {
            Location::Body => loc!["body"],
            Location::Query => loc!["query"],
            Location::Path => loc!["path"],
            Location::Bare => vec![],
        };
        loc.extend(
            field
                .path
                .segments
                .into_iter()
                .map(|segment| match segment {
                    Segment::Key(key) => Value::String(key),
                    Segment::Index(index) => Value::from(index),
                }),
        );
        ErrorDetail::new(field.msg, loc, field.kind)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ApiError::from(DomainError::from(error))
    }
}

impl IsVersionConflict for ApiError {
    fn is_version_conflict(&self) -> bool {
        matches!(self, ApiError::VersionConflict)
    }
}

/// Result alias for handlers.
pub type ApiResult<T, E = ApiError> = Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(error: ApiError) -> (StatusCode, Value) {
        let status = error.status();
        (status, serde_json::json!({ "detail": error.details() }))
    }

    #[test]
    fn internal_errors_never_show_their_text() {
        let (status, body) = body_of(ApiError::Internal(anyhow::anyhow!("secret table name xyz")));
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!body.to_string().contains("xyz"));
        assert_eq!(body["detail"][0]["msg"], "Unknown");
    }

    #[test]
    fn a_string_detail_is_a_bare_string_for_bad_requests_only() {
        let error = ApiError::string_detail(DomainError::BadRequest("Action mismatch".into()));
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            error.body(),
            serde_json::json!({"detail": "Action mismatch"})
        );
        let other = ApiError::string_detail(DomainError::NotFound("x".into()));
        assert_eq!(other.status(), StatusCode::NOT_FOUND);
        assert_eq!(other.body()["detail"][0]["msg"], "x");
    }

    #[test]
    fn every_error_has_msg_loc_and_type() {
        for error in [
            ApiError::BadRequest("x".into()),
            ApiError::Unauthorized,
            ApiError::Forbidden("x".into()),
            ApiError::NotFound("x".into()),
            ApiError::RouteNotFound,
            ApiError::MethodNotAllowed,
            ApiError::Conflict("x".into()),
            ApiError::PayloadTooLarge,
            ApiError::Unavailable,
        ] {
            let (_, body) = body_of(error);
            let detail = &body["detail"][0];
            assert!(
                detail["msg"].is_string() && detail["loc"].is_array() && detail["type"].is_string()
            );
        }
    }
}

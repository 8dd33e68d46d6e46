//! The id at the end of a path (`/users/{user_id}`, `/projects/{project_id}`, …), parsed once
//! for every handler, and the rule that a body's `id` may only repeat it.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use dispatch_domain::model::PrimaryKey;
use serde_json::Value;

use crate::error::ApiError;

/// The last path parameter as Dispatch's `PrimaryKey`; a value that is not one is a 422 at
/// `["path", <name>]`, as in Dispatch. Every route's id is its last parameter.
#[derive(Debug, Clone, Copy)]
pub struct PathId(pub i32);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("path parameters: {e}")))?;
        let (name, raw) = params
            .iter()
            .last()
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("route has no id parameter")))?;
        Ok(PathId(PrimaryKey::from_path(raw, name)?))
    }
}

/// A body's `id` may be absent or null (Q-P1), or the path's id; anything else is a 422 at
/// `["body", "id"]`.
pub fn ensure_body_id(sent: Option<&Value>, path_id: i32) -> Result<(), ApiError> {
    match sent {
        None | Some(Value::Null) => Ok(()),
        Some(id) if id.as_i64() == Some(i64::from(path_id)) => Ok(()),
        Some(_) => Err(ApiError::validation(
            "The id in the body does not match the path.",
            crate::loc!["body", "id"],
            "value_error",
        )),
    }
}

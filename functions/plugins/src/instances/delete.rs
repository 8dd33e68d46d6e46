//! `DELETE /api/v1/{organization}/plugins/instances/{plugin_instance_id}`: 200 with `null`
//! (Owner, Manager or Admin); an enabled instance frees its type for another.

use axum::extract::State;
use dispatch_domain::plugins::instances;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::{Json, PathId};
use dispatch_shared::{AppState, Caller};
use serde_json::Value;

pub async fn delete_instance(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    let slug = &caller.organization()?.slug;
    instances::delete(state.store(), slug, id).await?;
    Ok(Json(Value::Null))
}

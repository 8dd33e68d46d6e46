//! `DELETE /api/v1/{organization}/plugins/instances/{plugin_instance_id}`: 200 with `null`
//! (Owner, Manager or Admin); an enabled instance frees its type for another.

use axum::extract::{Path, State};
use dispatch_shared::domain::plugins::instances;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::{AppState, Caller};
use serde_json::Value;

use super::read::instance_id;

pub async fn delete_instance(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, raw_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let slug = &caller.organization()?.slug;
    instances::delete(state.store(), slug, instance_id(&raw_id)?).await?;
    Ok(Json(Value::Null))
}

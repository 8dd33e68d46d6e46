//! `GET /api/v1/{organization}/plugins/instances/{plugin_instance_id}`: one instance with its
//! configuration, secrets shown as `"**********"` (Owner, Manager or Admin).

use axum::extract::{Path, State};
use dispatch_shared::domain::plugins::{instances, reads};
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::model::PrimaryKey;
use dispatch_shared::{AppState, Caller};
use serde_json::Value;

/// Parses the `{plugin_instance_id}` path parameter.
pub fn instance_id(raw: &str) -> Result<i32, ApiError> {
    PrimaryKey::from_path(raw, "plugin_instance_id")
}

pub async fn get_instance(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, raw_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let slug = &caller.organization()?.slug;
    let instance = instances::get(state.store(), slug, instance_id(&raw_id)?).await?;
    let key = state.configuration_key()?;
    Ok(Json(
        reads::read_instance(state.store(), key, slug, &instance).await?,
    ))
}

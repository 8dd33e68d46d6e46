//! `GET /api/v1/{organization}/plugins/instances/{plugin_instance_id}`: one instance with its
//! configuration, secrets shown as `"**********"` (Owner, Manager or Admin).

use axum::extract::State;
use dispatch_domain::plugins::{instances, reads};
use dispatch_shared::error::ApiError;
use dispatch_shared::http::{Json, PathId};
use dispatch_shared::views::instance_detail;
use dispatch_shared::{AppState, Caller};
use serde_json::Value;

pub async fn get_instance(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    let slug = &caller.organization()?.slug;
    let instance = instances::get(state.store(), slug, id).await?;
    let key = state.configuration_key()?;
    let parts = reads::read_instance(state.store(), key, slug, &instance).await?;
    Ok(Json(instance_detail(&parts)))
}

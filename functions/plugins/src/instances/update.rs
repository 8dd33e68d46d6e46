//! `PUT /api/v1/{organization}/plugins/instances/{plugin_instance_id}`: an Owner, Manager or
//! Admin enables, disables or configures an instance. Only the fields sent change; a
//! configuration of `null` or `{}` leaves the stored one; masked secrets sent back keep the
//! stored secret (Q-PL2). Answers with Dispatch's `PluginInstanceCreate` shape (Q-PL3).

use axum::extract::State;
use dispatch_domain::plugins::changes::{InstanceChanges, update};
use dispatch_domain::plugins::reads;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::{Json, PathId, ensure_body_id};
use dispatch_shared::views::{instance_detail, instance_update_response};
use dispatch_shared::{AppState, Caller, loc};
use serde_json::{Map, Value};

/// Reads `PluginInstanceUpdate`: `enabled` (bool or null), `configuration` (anything), `id`.
fn changes(body: &Map<String, Value>, path_id: i32) -> Result<InstanceChanges, ApiError> {
    let enabled = match body.get("enabled") {
        None => None,
        Some(Value::Null) => Some(false),
        Some(Value::Bool(enabled)) => Some(*enabled),
        Some(_) => {
            return Err(ApiError::validation(
                "Input should be a valid boolean",
                loc!["body", "enabled"],
                "bool_type",
            ));
        }
    };
    ensure_body_id(body.get("id"), path_id)?;
    Ok(InstanceChanges {
        enabled,
        configuration: body.get("configuration").cloned().unwrap_or(Value::Null),
    })
}

pub async fn update_instance(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    Json(body): Json<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    let slug = &caller.organization()?.slug;
    let key = state.configuration_key()?;
    let instance = update(state.store(), key, slug, id, &changes(&body, id)?).await?;
    let parts = reads::read_instance(state.store(), key, slug, &instance).await?;
    Ok(Json(instance_update_response(&instance_detail(&parts))))
}

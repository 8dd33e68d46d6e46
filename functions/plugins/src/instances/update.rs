//! `PUT /api/v1/{organization}/plugins/instances/{plugin_instance_id}`: an Owner, Manager or
//! Admin enables, disables or configures an instance. Only the fields sent change; a
//! configuration of `null` or `{}` leaves the stored one; masked secrets sent back keep the
//! stored secret (Q-PL2). Answers with Dispatch's `PluginInstanceCreate` shape (Q-PL3).

use axum::extract::{Path, State};
use dispatch_shared::domain::plugins::changes::{InstanceChanges, update};
use dispatch_shared::domain::plugins::reads;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::views::instance_update_response;
use dispatch_shared::{AppState, Caller, loc};
use serde_json::{Map, Value};

use super::read::instance_id;

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
    match body.get("id") {
        None | Some(Value::Null) => {}
        Some(id) if id.as_i64() == Some(i64::from(path_id)) => {}
        Some(_) => {
            return Err(ApiError::validation(
                "The id in the body does not match the path.",
                loc!["body", "id"],
                "value_error",
            ));
        }
    }
    Ok(InstanceChanges {
        enabled,
        configuration: body.get("configuration").cloned().unwrap_or(Value::Null),
    })
}

pub async fn update_instance(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, raw_id)): Path<(String, String)>,
    Json(body): Json<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    let slug = &caller.organization()?.slug;
    let id = instance_id(&raw_id)?;
    let key = state.configuration_key()?;
    let instance = update(state.store(), key, slug, id, &changes(&body, id)?).await?;
    let read = reads::read_instance(state.store(), key, slug, &instance).await?;
    Ok(Json(instance_update_response(&read)))
}

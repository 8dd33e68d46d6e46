//! `POST /api/v1/{organization}/plugins/instances`: an Owner, Manager or Admin adds an instance
//! of a catalogue plugin to a project (found by name, as Dispatch does). Its configuration is
//! validated against the plugin's schema and stored sealed; creating it enabled disables the
//! enabled instance of its type (Q-PL1).

use axum::extract::State;
use dispatch_domain::model::{NameStr, PrimaryKey, ShortText};
use dispatch_domain::plugins::changes::{NewInstance, create};
use dispatch_domain::plugins::reads;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::views::instance_detail;
use dispatch_shared::{AppState, Caller};
use serde::Deserialize;
use serde_json::Value;

/// The `PluginRead` a client sends (Dispatch requires all of its required fields; their text is
/// bounded like any other).
#[derive(Debug, Deserialize)]
#[allow(dead_code)] // Read for validation, as Dispatch's model does; only `id` is used.
pub struct PluginReference {
    pub id: PrimaryKey,
    pub title: ShortText,
    pub slug: ShortText,
    pub author: ShortText,
    pub author_url: ShortText,
    #[serde(rename = "type")]
    pub plugin_type: ShortText,
    pub multiple: bool,
}

/// The `ProjectRead` a client sends; Dispatch looks the project up by `name` (a name, so that
/// the lookup's key is bounded).
#[derive(Debug, Deserialize)]
pub struct ProjectReference {
    pub name: NameStr,
}

/// Dispatch's `PluginInstanceCreate`.
#[derive(Debug, Deserialize)]
pub struct CreateBody {
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub configuration: Value,
    pub plugin: PluginReference,
    pub project: ProjectReference,
}

pub async fn create_instance(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CreateBody>,
) -> Result<Json<Value>, ApiError> {
    let slug = &caller.organization()?.slug;
    let key = state.configuration_key()?;
    let new = NewInstance {
        enabled: body.enabled.unwrap_or(false),
        configuration: body.configuration,
        plugin_id: body.plugin.id.get(),
        project_name: body.project.name.into_string(),
    };
    let instance = create(state.store(), key, slug, &new).await?;
    let parts = reads::read_instance(state.store(), key, slug, &instance).await?;
    Ok(Json(instance_detail(&parts)))
}

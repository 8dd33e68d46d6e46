//! `GET /api/v1/{organization}/plugins`: the plugin catalogue (any member), on the shared list
//! layer (the UI sorts by `Plugin.slug`), each plugin with its configuration schema.

use axum::extract::{RawQuery, State};
use dispatch_domain::list::{ListParams, list};
use dispatch_domain::plugins::{self, reads};
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::views::plugin_read;
use dispatch_shared::{AppState, Caller};
use serde_json::Value;

pub async fn list_plugins(
    State(state): State<AppState>,
    _caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = ListParams::parse(query.as_deref())?;
    let total = reads::catalogue_total(state.store()).await?;
    let store = state.store().clone();
    let page = list(
        state.store(),
        &state.secrets().cursor,
        &plugins::catalogue_list_spec(total),
        &params,
        |keys| {
            let store = store.clone();
            async move {
                let found = reads::load_catalogue(&store, keys).await?;
                Ok(found.iter().map(plugin_read).collect())
            }
        },
    )
    .await?;
    Ok(Json(page.into_json()))
}

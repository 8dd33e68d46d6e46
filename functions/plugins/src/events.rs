//! `GET /api/v1/{organization}/plugins/plugin_events`: every plugin's events (any member), on
//! the shared list layer.

use axum::extract::{RawQuery, State};
use dispatch_shared::domain::plugins::{self, reads};
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::list::{ListParams, list};
use dispatch_shared::store::keys::collection;
use dispatch_shared::{AppState, Caller};
use serde_json::Value;

pub async fn list_plugin_events(
    State(state): State<AppState>,
    _caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = ListParams::parse(query.as_deref())?;
    let total = reads::collection_total(state.store(), collection::PLUGIN_EVENTS).await?;
    let store = state.store().clone();
    let page = list(
        state.store(),
        &state.secrets().cursor,
        &plugins::event_list_spec(total),
        &params,
        |keys| {
            let store = store.clone();
            async move { reads::load_events(&store, keys).await }
        },
    )
    .await?;
    Ok(Json(page.to_json()))
}

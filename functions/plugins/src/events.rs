//! `GET /api/v1/{organization}/plugins/plugin_events`: every plugin's events (any member), on
//! the shared list layer.

use axum::extract::{RawQuery, State};
use dispatch_domain::list::{ListParams, list};
use dispatch_domain::plugins::{self, reads};
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::views::plugin_event_read;
use dispatch_shared::{AppState, Caller};
use serde_json::Value;

pub async fn list_plugin_events(
    State(state): State<AppState>,
    _caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = ListParams::parse(query.as_deref())?;
    let total = reads::events_total(state.store()).await?;
    let store = state.store().clone();
    let page = list(
        state.store(),
        &state.secrets().cursor,
        &plugins::event_list_spec(total),
        &params,
        |keys| {
            let store = store.clone();
            async move {
                let found = reads::load_events(&store, keys).await?;
                Ok(found
                    .iter()
                    .map(|(event, plugin)| plugin_event_read(event, plugin))
                    .collect())
            }
        },
    )
    .await?;
    Ok(Json(page.into_json()))
}

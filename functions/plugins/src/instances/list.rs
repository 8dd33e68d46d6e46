//! `GET /api/v1/{organization}/plugins/instances`: the organization's plugin instances (any
//! member), without their configuration. The UI sorts by `Plugin.slug` and filters on
//! `PluginInstance.enabled` and `Project.name`.

use axum::extract::{RawQuery, State};
use dispatch_domain::list::{ListParams, list_rows};
use dispatch_domain::plugins::{self, reads};
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::views::instance_list_item;
use dispatch_shared::{AppState, Caller};
use serde_json::Value;

pub async fn list_instances(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let org = caller.organization()?;
    let params = ListParams::parse(query.as_deref())?;
    let store = state.store().clone();
    let slug = org.slug.clone();
    let spec = plugins::instance_list_spec(&org.slug, org.instance_count, state.schema_version());
    let page = list_rows(
        state.store(),
        &state.secrets().cursor,
        &spec,
        &params,
        |rows| {
            let store = store.clone();
            let slug = slug.clone();
            async move {
                let found = reads::load_instances(&store, &slug, rows).await?;
                Ok(found.iter().map(instance_list_item).collect())
            }
        },
    )
    .await?;
    Ok(Json(page.into_json()))
}

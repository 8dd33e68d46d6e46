//! `GET /api/v1/{organization}/projects`: the organization's projects on the shared list layer
//! (the UI sorts by name or display name, searches by name, filters on `default` and `name`).

use axum::extract::{RawQuery, State};
use dispatch_shared::domain::projects;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::list::{ListParams, list};
use dispatch_shared::{AppState, Caller};
use serde_json::Value;

pub async fn list_projects(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let org = caller.organization()?;
    let params = ListParams::parse(query.as_deref())?;
    let store = state.store().clone();
    let spec = projects::list_spec(&org.slug, org.project_count);
    let page = list(
        state.store(),
        &state.secrets().cursor,
        &spec,
        &params,
        |keys| {
            let store = store.clone();
            async move { projects::load(&store, keys).await }
        },
    )
    .await?;
    Ok(Json(page.to_json()))
}

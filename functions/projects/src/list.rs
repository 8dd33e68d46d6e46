//! `GET /api/v1/{organization}/projects`: the organization's projects on the shared list layer
//! (the UI sorts by name or display name, searches by name, filters on `default` and `name`).

use axum::extract::{RawQuery, State};
use dispatch_domain::list::{ListParams, list};
use dispatch_domain::{project_reads, projects};
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::views::project_read;
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
            async move {
                let found = project_reads::load(&store, keys).await?;
                Ok(found.iter().map(project_read).collect())
            }
        },
    )
    .await?;
    Ok(Json(page.into_json()))
}

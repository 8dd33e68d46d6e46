//! `GET /api/v1/organizations`: every organization (any authenticated user, as in Dispatch),
//! on the shared list layer; the UI sorts by name and filters by slug for its banner.

use axum::extract::{RawQuery, State};
use dispatch_domain::list::{ListParams, list};
use dispatch_domain::{organization_reads, organizations};
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::views::OrganizationRead;
use dispatch_shared::{AppState, Caller};
use serde_json::Value;

pub async fn list_organizations(
    State(state): State<AppState>,
    _caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = ListParams::parse(query.as_deref())?;
    let total = organization_reads::total(state.store()).await?;
    let store = state.store().clone();
    let page = list(
        state.store(),
        &state.secrets().cursor,
        &organizations::list_spec(total),
        &params,
        |keys| {
            let store = store.clone();
            async move {
                let found = organizations::load(&store, keys).await?;
                Ok(found.iter().map(OrganizationRead::json).collect())
            }
        },
    )
    .await?;
    Ok(Json(page.into_json()))
}

//! `GET /api/v1/organizations`: every organization (any authenticated user, as in Dispatch),
//! on the shared list layer; the UI sorts by name and filters by slug for its banner.

use axum::extract::{RawQuery, State};
use dispatch_shared::domain::organizations;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::list::{ListParams, list};
use dispatch_shared::store::item::number_attribute;
use dispatch_shared::store::keys::{self, collection};
use dispatch_shared::{AppState, Caller};
use serde_json::Value;

pub async fn list_organizations(
    State(state): State<AppState>,
    _caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = ListParams::parse(query.as_deref())?;
    let total = state
        .store()
        .get_attributes(&keys::collection_count(collection::ORGANIZATIONS))
        .await?
        .and_then(|item| number_attribute(&item, "count"))
        .unwrap_or(0);
    let store = state.store().clone();
    let page = list(
        state.store(),
        &state.secrets().cursor,
        &organizations::list_spec(total),
        &params,
        |keys| {
            let store = store.clone();
            async move { organizations::load(&store, keys).await }
        },
    )
    .await?;
    Ok(Json(page.to_json()))
}

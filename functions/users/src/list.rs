//! `GET /api/v1/{organization}/users`: the organization's members on the shared list layer,
//! sorted and searched by email. A client's `filter` is replaced by membership of the path's
//! organization (Q-L4): the collection itself is that organization's members.

use axum::extract::{RawQuery, State};
use dispatch_domain::list::{ListParams, list};
use dispatch_domain::memberships;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::views::{member_list_item, user_projects};
use dispatch_shared::{AppState, Caller};
use futures_util::future::try_join_all;
use serde_json::Value;

pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let org = caller.organization()?;
    let mut params = ListParams::parse(query.as_deref())?;
    params.filter = None;
    let store = state.store().clone();
    let spec = memberships::member_list_spec(&org.slug, org.member_count);
    let mut page = list(
        state.store(),
        &state.secrets().cursor,
        &spec,
        &params,
        |keys| {
            let store = store.clone();
            async move {
                let members = memberships::load_members(&store, keys).await?;
                Ok(members.iter().map(member_list_item).collect())
            }
        },
    )
    .await?;
    // Projects only for the page's members (one query each, concurrently).
    let projects = try_join_all(page.items.iter().map(|item| {
        let id = item["id"].as_i64().unwrap_or_default() as i32;
        memberships::projects_in(state.store(), id, &org.slug)
    }))
    .await?;
    for (item, projects) in page.items.iter_mut().zip(projects) {
        item["projects"] = serde_json::to_value(user_projects(&projects)).unwrap_or_default();
    }
    Ok(Json(page.to_json()))
}

//! `GET /api/v1/{organization}/users`: the organization's members on the shared list layer,
//! sorted and searched by email. A client's `filter` is replaced by membership of the path's
//! organization (Q-L4): the collection itself is that organization's members.

use axum::extract::{RawQuery, State};
use dispatch_shared::domain::memberships;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::list::{ListParams, list};
use dispatch_shared::model::Membership;
use dispatch_shared::store::{Key, from_attributes};
use dispatch_shared::{AppState, Caller};
use futures_util::future::try_join_all;
use serde_json::{Value, json};

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
        |keys: Vec<Key>| {
            let store = store.clone();
            async move {
                let mut views = Vec::with_capacity(keys.len());
                for item in store.batch_get(&keys).await?.into_iter().flatten() {
                    let membership: Membership = from_attributes(item)?;
                    views.push(json!({
                        "id": membership.user_id,
                        "email": membership.email,
                        "projects": [],
                        "role": membership.role,
                        "organizations": [],
                        "experimental_features": null,
                        "settings": null,
                    }));
                }
                Ok(views)
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
        item["projects"] = serde_json::to_value(projects).unwrap_or_default();
    }
    Ok(Json(page.to_json()))
}

//! `GET /api/v1/{organization}/users`: the organization's members on the shared list layer,
//! sorted and searched by email. A client's `filter` is replaced by membership of the path's
//! organization (Q-L4): the collection itself is that organization's members.

use axum::extract::{RawQuery, State};
use dispatch_domain::list::{ListParams, list};
use std::sync::Arc;

use dispatch_domain::member_projects::{self, ProjectsRead};
use dispatch_domain::memberships;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::views::member_list_item;
use dispatch_shared::{AppState, Caller};
use serde_json::Value;

pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let org = caller.organization()?;
    let mut params = ListParams::parse(query.as_deref())?;
    params.filter = None;
    let spec = memberships::member_list_spec(&org.slug, org.member_count);
    // Each member with their projects, read with the page's members (member_projects).
    let read = Arc::new(ProjectsRead::default());
    let page = list(
        state.store(),
        &state.secrets().cursor,
        &spec,
        &params,
        |keys| {
            let (store, org, read) = (state.store().clone(), org.clone(), Arc::clone(&read));
            async move {
                let members = member_projects::load_page(&store, &org, keys, &read).await?;
                Ok(members
                    .iter()
                    .map(|(membership, projects)| member_list_item(membership, projects))
                    .collect())
            }
        },
    )
    .await?;
    Ok(Json(page.into_json()))
}

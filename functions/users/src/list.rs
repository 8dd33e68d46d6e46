//! `GET /api/v1/{organization}/users`: the organization's members on the shared list layer,
//! sorted and searched by email. A client's `filter` is replaced by membership of the path's
//! organization (Q-L4): the collection itself is that organization's members.

use axum::extract::{RawQuery, State};
use dispatch_domain::list::{ListParams, Rows, list_rows};
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
    let spec = memberships::member_list_spec(&org.slug, org.member_count, state.schema_version());
    // Each member with their projects (member_projects): the memberships come from the
    // members index query itself, or by key on tables before it.
    let read = Arc::new(ProjectsRead::default());
    let page = list_rows(
        state.store(),
        &state.secrets().cursor,
        &spec,
        &params,
        |rows| {
            let (store, org, read) = (state.store().clone(), org.clone(), Arc::clone(&read));
            async move {
                let members = match rows {
                    Rows::Items(items) => {
                        member_projects::from_items(&store, &org, items, &read).await?
                    }
                    Rows::Keys(keys) => {
                        member_projects::load_page(&store, &org, keys, &read).await?
                    }
                };
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

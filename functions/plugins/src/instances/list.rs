//! `GET /api/v1/{organization}/plugins/instances`: the organization's plugin instances (any
//! member), without their configuration. The UI sorts by `Plugin.slug` and filters on
//! `PluginInstance.enabled` and `Project.name`.
//!
//! The page the UI opens with (no filter or search, in an index's order) is read beside the
//! permission read ([`prefetch_page`]): nothing on it depends on the caller, and only its total
//! comes from the organization, which the permission read returns.

use axum::extract::{RawQuery, State};
use dispatch_domain::DomainError;
use dispatch_domain::list::{ListParams, ListSpec, Page, list_rows, total_from_spec};
use dispatch_domain::plugins::{self, reads};
use dispatch_shared::error::ApiError;
use dispatch_shared::http::{Json, PrefetchFuture, PrefetchRequest, Prefetched};
use dispatch_shared::views::instance_list_item;
use dispatch_shared::{AppState, Caller};
use serde_json::Value;

pub async fn list_instances(
    State(state): State<AppState>,
    caller: Caller,
    prefetched: Prefetched,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let org = caller.organization()?;
    let page = match prefetched.take::<(Page, ListParams)>() {
        Some((page, params)) => page.with_total(org.instance_count, &params),
        None => {
            let params = ListParams::parse(query.as_deref())?;
            let spec =
                plugins::instance_list_spec(&org.slug, org.instance_count, state.schema_version());
            read_page(&state, &org.slug, &spec, &params).await?
        }
    };
    Ok(Json(page.into_json()))
}

/// The prefetch of this route (`dispatch_shared::http::Prefetch`): the page, when its total
/// is all it needs from the organization ([`total_from_spec`]); it is given that total once the
/// caller is let through.
pub fn prefetch_page(state: &AppState, request: &PrefetchRequest) -> Option<PrefetchFuture> {
    let params = ListParams::parse(request.query.as_deref()).ok()?;
    let spec = plugins::instance_list_spec(&request.slug, 0, state.schema_version());
    if !total_from_spec(&spec, &params) {
        return None;
    }
    let state = state.clone();
    let slug = request.slug.clone();
    Some(Box::pin(async move {
        let page = read_page(&state, &slug, &spec, &params).await.ok()?;
        Some(Box::new((page, params)) as Box<dyn std::any::Any + Send>)
    }))
}

async fn read_page(
    state: &AppState,
    slug: &str,
    spec: &ListSpec,
    params: &ListParams,
) -> Result<Page, DomainError> {
    let store = state.store().clone();
    list_rows(
        state.store(),
        &state.secrets().cursor,
        spec,
        params,
        |rows| {
            let store = store.clone();
            let slug = slug.to_owned();
            async move {
                let found = reads::load_instances(&store, &slug, rows).await?;
                Ok(found.iter().map(instance_list_item).collect())
            }
        },
    )
    .await
}

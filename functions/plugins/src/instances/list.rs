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

/// The page the UI opens with, read ahead for organization `slug`: the page, or the error
/// reading it met (a refused request is not kept: the handler finds it again, in Dispatch's
/// order of errors).
struct PageAhead {
    slug: String,
    read: Result<(Page, ListParams), DomainError>,
}

/// The most items a page read ahead may ask for: what a refused caller can cost.
const MOST_READ_AHEAD: i64 = 100;

pub async fn list_instances(
    State(state): State<AppState>,
    caller: Caller,
    prefetched: Prefetched,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let org = caller.organization()?;
    let ahead = prefetched
        .take::<PageAhead>()
        .filter(|ahead| org.slug == ahead.slug);
    let page = match ahead {
        Some(PageAhead { read, .. }) => {
            let (page, params) = read?;
            page.with_total(org.instance_count, &params)
        }
        None => {
            let params = ListParams::parse(query.as_deref())?;
            let spec =
                plugins::instance_list_spec(&org.slug, org.instance_count, state.schema_version());
            read_page(&state, &org.slug, &spec, &params).await?
        }
    };
    Ok(Json(page.into_json()))
}

/// The prefetch of this route (`dispatch_shared::http::Prefetch`): a first page of at most
/// [`MOST_READ_AHEAD`] items whose total is all it needs from the organization
/// ([`total_from_spec`]); it is given that total once the caller is let through.
pub fn prefetch_page(state: &AppState, request: &PrefetchRequest) -> Option<PrefetchFuture> {
    let params = ListParams::parse(request.query.as_deref()).ok()?;
    // The first page only: a cursor would have this read open it with the cursor key (and
    // perhaps fetch the key's previous version) for a caller not yet known.
    let bounded = (1..=MOST_READ_AHEAD).contains(&params.requested_items_per_page)
        && params.page == 1
        && params.cursor.is_none();
    let spec = plugins::instance_list_spec(&request.slug, 0, state.schema_version());
    if !bounded || !total_from_spec(&spec, &params) {
        return None;
    }
    let state = state.clone();
    let slug = request.slug.clone();
    Some(Box::pin(async move {
        let read = match read_page(&state, &slug, &spec, &params).await {
            Ok(page) => Ok((page, params)),
            Err(DomainError::Invalid(_)) => return None,
            Err(other) => Err(other),
        };
        Some(Box::new(PageAhead { slug, read }) as Box<dyn std::any::Any + Send>)
    }))
}

async fn read_page(
    state: &AppState,
    slug: &str,
    spec: &ListSpec,
    params: &ListParams,
) -> Result<Page, DomainError> {
    let store = state.store().clone();
    let recent = state.recent_plugins().clone();
    list_rows(
        state.store(),
        &state.secrets().cursor,
        spec,
        params,
        |rows| {
            let (store, recent) = (store.clone(), recent.clone());
            let slug = slug.to_owned();
            async move {
                let found = reads::load_instances(&store, &recent, &slug, rows).await?;
                Ok(found.iter().map(instance_list_item).collect())
            }
        },
    )
    .await
}

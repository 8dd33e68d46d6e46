//! `GET /api/v1/organizations/{organization_id}`: one organization (any authenticated user).

use axum::extract::State;
use dispatch_domain::organization_reads;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::{Json, PathId};
use dispatch_shared::views::OrganizationRead;
use dispatch_shared::{AppState, Caller};

pub async fn get_organization(
    State(state): State<AppState>,
    _caller: Caller,
    PathId(id): PathId,
) -> Result<Json<OrganizationRead>, ApiError> {
    let org = organization_reads::by_id(state.store(), id).await?;
    Ok(Json(OrganizationRead::from(&org)))
}

//! `GET /api/v1/organizations/{organization_id}`: one organization (any authenticated user).

use axum::extract::{Path, State};
use dispatch_shared::domain::organizations;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::model::{Organization, PrimaryKey};
use dispatch_shared::store::item::string_attribute;
use dispatch_shared::store::{Store, keys};
use dispatch_shared::views::OrganizationRead;
use dispatch_shared::{AppState, Caller, loc};

/// Dispatch's 404 for an unknown organization id.
pub const NOT_FOUND: &str = "An organization with this id does not exist.";

/// The organization with this id (its id guard names its slug).
pub async fn by_id(store: &Store, raw: &str) -> Result<Organization, ApiError> {
    let number: i64 = raw.parse().map_err(|_| {
        ApiError::validation(
            "Input should be a valid integer, unable to parse string as an integer",
            loc!["path", "organization_id"],
            "int_parsing",
        )
    })?;
    let id =
        PrimaryKey::new(number).map_err(|invalid| invalid.at(loc!["path", "organization_id"]))?;
    let slug = store
        .get_attributes(&keys::organization_id_guard(id.get()))
        .await?
        .and_then(|guard| string_attribute(&guard, "slug"))
        .ok_or_else(|| ApiError::NotFound(NOT_FOUND.into()))?;
    match store.get_attributes(&keys::organization(&slug)).await? {
        Some(item) => organizations::visible(item)?,
        None => None,
    }
    .ok_or_else(|| ApiError::NotFound(NOT_FOUND.into()))
}

pub async fn get_organization(
    State(state): State<AppState>,
    _caller: Caller,
    Path(raw_id): Path<String>,
) -> Result<Json<OrganizationRead>, ApiError> {
    let org = by_id(state.store(), &raw_id).await?;
    Ok(Json(OrganizationRead::from(&org)))
}

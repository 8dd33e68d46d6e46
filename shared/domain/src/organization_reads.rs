//! Reading organizations by what the API's paths carry: an id (its guard names the slug), and
//! the size of the organization list.

use dispatch_store::item::{number_attribute, string_attribute};
use dispatch_store::keys::{self, collection};
use dispatch_store::{Store, StoreError};

use crate::error::DomainError;
use crate::model::Organization;

/// Dispatch's 404 for an unknown organization id.
pub const NOT_FOUND: &str = "An organization with this id does not exist.";

/// The slug of the organization with this id, if any (its id guard names it).
pub async fn slug_of_id(store: &Store, id: i32) -> Result<Option<String>, StoreError> {
    Ok(store
        .get_attributes(&keys::organization_id_guard(id))
        .await?
        .and_then(|guard| string_attribute(&guard, "slug")))
}

/// The visible organization with this id (not found when absent or being deleted).
pub async fn by_id(store: &Store, id: i32) -> Result<Organization, DomainError> {
    let not_found = || DomainError::NotFound(NOT_FOUND.into());
    let slug = slug_of_id(store, id).await?.ok_or_else(not_found)?;
    match store.get_attributes(&keys::organization(&slug)).await? {
        Some(item) => crate::organizations::visible(item)?,
        None => None,
    }
    .ok_or_else(not_found)
}

/// How many organizations exist (the count their creations and deletions keep).
pub async fn total(store: &Store) -> Result<i64, StoreError> {
    Ok(store
        .get_attributes(&keys::collection_count(collection::ORGANIZATIONS))
        .await?
        .and_then(|item| number_attribute(&item, "count"))
        .unwrap_or(0))
}

//! The user a request is about, found through their membership of the path's organization, and
//! the `UserRead` body every endpoint of the group answers with (Q-U1: a proper UserRead).

use dispatch_shared::domain::memberships;
use dispatch_shared::error::ApiError;
use dispatch_shared::loc;
use dispatch_shared::model::{Membership, Organization, PrimaryKey, User};
use dispatch_shared::store::{Store, from_attributes, keys};
use dispatch_shared::views::{OrganizationRead, UserSettingsRead};
use serde_json::{Value, json};

/// Dispatch's 404 for a user that does not exist (or is not a member here).
pub const USER_NOT_FOUND: &str = "A user with this id does not exist.";

/// Parses the `{user_id}` path parameter as Dispatch's `PrimaryKey`.
pub fn user_id(raw: &str) -> Result<i32, ApiError> {
    let number: i64 = raw.parse().map_err(|_| {
        ApiError::validation(
            "Input should be a valid integer, unable to parse string as an integer",
            loc!["path", "user_id"],
            "int_parsing",
        )
    })?;
    PrimaryKey::new(number)
        .map(PrimaryKey::get)
        .map_err(|invalid| invalid.at(loc!["path", "user_id"]))
}

/// A member of `org`, with their membership; anyone else is a 404.
pub async fn member(
    store: &Store,
    org: &Organization,
    user_id: i32,
) -> Result<(User, Membership), ApiError> {
    let found = store
        .batch_get(&[keys::membership(&org.slug, user_id), keys::user(user_id)])
        .await?;
    match (&found[0], &found[1]) {
        (Some(membership), Some(user)) => Ok((
            from_attributes(user.clone())?,
            from_attributes(membership.clone())?,
        )),
        _ => Err(ApiError::NotFound(USER_NOT_FOUND.into())),
    }
}

/// Dispatch's `UserRead` for a member, seen from `org`: their projects and role there, and
/// only this organization among their organizations (no response carries another tenant's data).
pub async fn user_read(
    store: &Store,
    org: &Organization,
    user: &User,
    membership: &Membership,
) -> Result<Value, ApiError> {
    let projects = memberships::projects_in(store, user.id, &org.slug).await?;
    Ok(json!({
        "id": user.id,
        "email": user.email,
        "projects": projects,
        "organizations": [{
            "organization": OrganizationRead::from(org),
            "default": false,
            "role": membership.role,
        }],
        "role": membership.role,
        "experimental_features": user.experimental_features,
        "settings": UserSettingsRead::from(user),
    }))
}

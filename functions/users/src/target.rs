//! The user a request is about, found through their membership of the path's organization, and
//! the `UserRead` body every endpoint of the group answers with (Q-U1: a proper UserRead).

use dispatch_domain::model::Organization;
use dispatch_domain::{member_projects, memberships};
use dispatch_shared::AppState;
use dispatch_shared::error::ApiError;
use dispatch_shared::views::UserRead;

/// The member `user_id` of `org` as `UserRead` (404 for anyone who is not a member, D-TEN5).
pub async fn user_read(
    state: &AppState,
    org: &Organization,
    user_id: i32,
) -> Result<UserRead, ApiError> {
    let store = state.store();
    let (user, membership) = memberships::member(store, &org.slug, user_id).await?;
    let projects = member_projects::of_member(store, &membership).await?;
    Ok(UserRead::member(org, &user, &membership, &projects))
}

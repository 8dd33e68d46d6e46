//! `PUT /api/v1/{organization}/users/{user_id}`: an Owner edits a member, or a member edits
//! themself (not their role).
//!
//! Dispatch's contract with its bugs fixed: an absent `role` leaves the role alone (Q-U2), the
//! organization is the path's (Q-U3), `organizations` may be absent (Q-U4); a body `id` that
//! differs from the path and a changed `email` are 422s; `password` is never applied.

use axum::extract::{Path, State};
use dispatch_shared::domain::account_authority::authority_over;
use dispatch_shared::domain::{memberships, users};
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::model::{EmailAddress, ProjectLink, Role};
use dispatch_shared::store::{Transaction, retry_on_version_conflict};
use dispatch_shared::time::Timestamp;
use dispatch_shared::{AppState, Caller, loc};
use serde::Deserialize;
use serde_json::Value;

use crate::create::parse_role;
use crate::projects::{ProjectRef, resolve};
use crate::target::{member, user_id, user_read};

/// Dispatch's `UserUpdate`; `organizations`, `password`, `loading` and other keys are ignored.
#[derive(Debug, Deserialize)]
pub struct UpdateBody {
    #[serde(default)]
    pub id: Option<i64>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub projects: Option<Vec<ProjectRef>>,
    #[serde(default)]
    pub experimental_features: Option<bool>,
}

/// Dispatch's 403 when a non-Owner changes a role (their own included).
pub const ROLE_CHANGE_DENIED: &str = "You don't have permissions to update the user's role. Please, contact the organization's owner.";

pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, raw_id)): Path<(String, String)>,
    Json(body): Json<UpdateBody>,
) -> Result<Json<Value>, ApiError> {
    let org = caller.organization()?;
    let store = state.store();
    let target_id = user_id(&raw_id)?;
    if body.id.is_some_and(|id| id != i64::from(target_id)) {
        return Err(ApiError::validation(
            "The id in the body does not match the path.",
            loc!["body", "id"],
            "value_error",
        ));
    }
    let (user, membership) = member(store, org, target_id).await?;
    if let Some(email) = body.email.as_deref() {
        let same = EmailAddress::parse(email).is_ok_and(|e| e.as_str() == user.email);
        if !same {
            return Err(ApiError::validation(
                "A user's email cannot be changed.",
                loc!["body", "email"],
                "value_error",
            ));
        }
    }
    // Only an absent or null role keeps the role; `""` is not one of the four.
    let role = body.role.as_deref().map(parse_role).transpose()?;
    if role.is_some_and(|r| r != membership.role) && caller.role() != Some(Role::Owner) {
        return Err(ApiError::Forbidden(ROLE_CHANGE_DENIED.into()));
    }
    let projects = match body.projects.as_deref() {
        Some(refs) if !refs.is_empty() => Some((resolve(store, org, refs).await?, refs.to_vec())),
        _ => None,
    };

    if let Some(role) = role {
        users::set_role(store, org, &user, role).await?;
    }
    if let Some((ids, refs)) = projects {
        switch_default_projects(&state, &org.slug, user.id, &ids, &refs).await?;
    }
    if let Some(enabled) = body
        .experimental_features
        .filter(|e| *e != user.experimental_features)
    {
        // A user's features are theirs in every organization: another user's are changed only
        // by an Owner of all of them.
        let authority = authority_over(store, &caller.user, user.id).await?;
        users::update_user(store, user.id, &authority, |u| {
            let changed = u.experimental_features != enabled;
            u.experimental_features = enabled;
            changed
        })
        .await?;
    }
    let (user, membership) = member(store, org, target_id).await?;
    Ok(Json(user_read(store, org, &user, &membership).await?))
}

/// Dispatch's default-project switch (§5.2 U4 step 5): every link of the user in the
/// organization loses its default flag, then each listed project gets a new default link or
/// its existing link takes the entry's flag. One transaction; versioned; retried on a race.
async fn switch_default_projects(
    state: &AppState,
    slug: &str,
    user_id: i32,
    ids: &[i32],
    refs: &[ProjectRef],
) -> Result<(), ApiError> {
    let store = state.store();
    retry_on_version_conflict(|| async {
        let links = memberships::links_in(store, user_id, slug).await?;
        let now = Timestamp::now();
        let mut tx = Transaction::new();
        for link in &links {
            let listed = ids.iter().position(|id| *id == link.project_id);
            let default = listed.is_some_and(|i| refs[i].default.unwrap_or(false));
            if link.default != default {
                let expected = link.version;
                let updated = ProjectLink {
                    default,
                    version: expected + 1,
                    updated_at: now,
                    ..link.clone()
                };
                tx.put_versioned(users::project_link_item(&updated)?, expected)?;
            }
        }
        for id in ids
            .iter()
            .filter(|id| !links.iter().any(|l| l.project_id == **id))
        {
            let link = ProjectLink {
                user_id,
                project_id: *id,
                organization_slug: slug.to_owned(),
                default: true,
                role: Role::Member.as_str().into(),
                created_at: now,
                updated_at: now,
                version: 1,
            };
            tx.put_new(
                users::project_link_item(&link)?,
                dispatch_shared::store::transaction::VERSION_LABEL,
            )?;
        }
        store.transact(tx).await?;
        Ok::<_, ApiError>(())
    })
    .await
}

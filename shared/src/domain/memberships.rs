//! A user's place in organizations: their memberships and project links, and an
//! organization's members as a list.

use crate::error::ApiError;
use crate::model::{Membership, Organization, ProjectLink};
use crate::store::keys::{self, collection};
use crate::store::{Store, from_attributes};

/// The user's links to projects of organization `slug`.
pub async fn links_in(
    store: &Store,
    user_id: i32,
    slug: &str,
) -> Result<Vec<ProjectLink>, ApiError> {
    Ok(store
        .query_prefix(
            crate::store::Source::Index(crate::store::schema::GSI1),
            &keys::user_inverse(user_id),
            &format!("PROJECT#{slug}#"),
        )
        .await?
        .into_iter()
        .map(from_attributes)
        .collect::<Result<_, _>>()?)
}

/// The user's project links in organization `slug`, joined with the projects (Dispatch's
/// `projects` of `/auth/me`, of the login response and of `UserRead`).
pub async fn projects_in(
    store: &Store,
    user_id: i32,
    slug: &str,
) -> Result<Vec<crate::views::UserProject>, ApiError> {
    let links = links_in(store, user_id, slug).await?;
    let project_keys: Vec<_> = links
        .iter()
        .map(|l| keys::project(slug, l.project_id))
        .collect();
    let projects: Vec<crate::model::Project> = store
        .batch_get(&project_keys)
        .await?
        .into_iter()
        .flatten()
        .map(from_attributes)
        .collect::<Result<_, _>>()?;
    Ok(crate::views::user_projects(&links, &projects))
}

/// Every organization the user belongs to, with their role there.
pub async fn memberships_of(
    store: &Store,
    user_id: i32,
) -> Result<Vec<(Organization, Membership)>, ApiError> {
    let memberships: Vec<Membership> = store
        .query_prefix(
            crate::store::Source::Index(crate::store::schema::GSI1),
            &keys::user_inverse(user_id),
            "ORG#",
        )
        .await?
        .into_iter()
        .map(from_attributes)
        .collect::<Result<_, _>>()?;
    let org_keys: Vec<_> = memberships
        .iter()
        .map(|m| keys::organization(&m.organization_slug))
        .collect();
    let organizations = store.batch_get(&org_keys).await?;
    let mut pairs = Vec::new();
    for (membership, org) in memberships.into_iter().zip(organizations) {
        if let Some(org) = org
            .map(super::organizations::visible)
            .transpose()?
            .flatten()
        {
            pairs.push((org, membership));
        }
    }
    Ok(pairs)
}

const MEMBER_SCHEMA: &[crate::list::ModelFields] = &[crate::list::ModelFields {
    model: "DispatchUser",
    path: None,
    fields: &[
        ("id", crate::list::FieldType::Int),
        ("email", crate::list::FieldType::Str),
        ("role", crate::list::FieldType::Str),
        ("experimental_features", crate::list::FieldType::Bool),
    ],
}];

const MEMBER_SORTS: &[crate::list::Sort] = &[crate::list::Sort {
    model: "DispatchUser",
    field: "email",
    index: crate::store::schema::LIST1,
}];

/// `GET /{organization}/users`: an organization's members, sorted and searched by email.
pub fn member_list_spec(slug: &str, total: i64) -> crate::list::ListSpec {
    crate::list::ListSpec {
        collection: collection::members(slug),
        schema: MEMBER_SCHEMA,
        sorts: MEMBER_SORTS,
        search_fields: &["email"],
        name_field: None,
        total,
    }
}

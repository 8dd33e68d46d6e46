//! A user's place in organizations: their memberships and project links, and an
//! organization's members as a list.

use crate::error::DomainError;
use crate::model::{LinkSummary, Membership, Organization, ProjectLink};
use dispatch_store::keys::{self, collection};
use dispatch_store::{Store, from_attributes};

/// The user's links to projects of organization `slug`.
pub async fn links_in(
    store: &Store,
    user_id: i32,
    slug: &str,
) -> Result<Vec<ProjectLink>, DomainError> {
    Ok(store
        .query_prefix(
            dispatch_store::Source::Index(dispatch_store::schema::GSI1),
            &keys::user_inverse(user_id),
            &format!("PROJECT#{slug}#"),
        )
        .await?
        .into_iter()
        .map(from_attributes)
        .collect::<Result<_, _>>()?)
}

/// The user's project links in organization `slug`, joined with the projects (Dispatch's
/// `projects` of `/auth/me`, of the login response and of `UserRead`), in link order. Reads
/// the link items (an index query, then the projects): the way for a membership without a
/// summary ([`crate::member_projects`] reads summaries).
pub async fn projects_in(
    store: &Store,
    user_id: i32,
    slug: &str,
) -> Result<Vec<(LinkSummary, crate::model::Project)>, DomainError> {
    let links = links_in(store, user_id, slug).await?;
    let summary: Vec<LinkSummary> = links.iter().map(LinkSummary::from).collect();
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
    Ok(join_projects(&summary, &projects))
}

/// Each link with its project; links whose project is gone (or being deleted) are skipped.
pub fn join_projects(
    links: &[LinkSummary],
    projects: &[crate::model::Project],
) -> Vec<(LinkSummary, crate::model::Project)> {
    links
        .iter()
        .filter_map(|link| {
            let project = projects
                .iter()
                .find(|p| p.id == link.project_id && !p.deleted)?;
            Some((link.clone(), project.clone()))
        })
        .collect()
}

/// Orders link summaries as the index lists link items (by `PROJECT#<slug>#<id>`, so by the
/// id's digits as text), so that both ways of reading a member's projects agree.
pub fn sort_like_index(links: &mut [LinkSummary]) {
    links.sort_by_key(|link| link.project_id.to_string());
}

/// Dispatch's 404 for a user who is not a member of the path's organization (D-TEN5).
pub const USER_NOT_FOUND: &str = "A user with this id does not exist.";

/// A member of organization `slug`: the user and their membership (one batch read; not found
/// for anyone who is not a member, whatever they are elsewhere).
pub async fn member(
    store: &Store,
    slug: &str,
    user_id: i32,
) -> Result<(crate::model::User, Membership), DomainError> {
    let found = store
        .batch_get(&[keys::membership(slug, user_id), keys::user(user_id)])
        .await?;
    match (&found[0], &found[1]) {
        (Some(membership), Some(user)) => Ok((
            from_attributes(user.clone())?,
            from_attributes(membership.clone())?,
        )),
        _ => Err(DomainError::NotFound(USER_NOT_FOUND.into())),
    }
}

/// What a request's caller is, read in one round trip: the user, and (for a path under
/// organization `slug`) the visible organization and the user's membership of it.
pub async fn caller(
    store: &Store,
    user_id: i32,
    slug: Option<&str>,
) -> Result<
    (
        Option<crate::model::User>,
        Option<Organization>,
        Option<Membership>,
    ),
    DomainError,
> {
    let mut wanted = vec![keys::user(user_id)];
    if let Some(slug) = slug {
        wanted.push(keys::organization(slug));
        wanted.push(keys::membership(slug, user_id));
    }
    let mut found = store.batch_get(&wanted).await?.into_iter();
    let user = found.next().flatten().map(from_attributes).transpose()?;
    let organization = match found.next().flatten() {
        Some(item) => super::organizations::visible(item)?,
        None => None,
    };
    let membership = found.next().flatten().map(from_attributes).transpose()?;
    Ok((user, organization, membership))
}

/// The user's membership of organization `slug`, if any.
pub async fn membership(
    store: &Store,
    slug: &str,
    user_id: i32,
) -> Result<Option<Membership>, DomainError> {
    Ok(store.get(&keys::membership(slug, user_id)).await?)
}

/// Memberships by key (the member list's items), in the order of `keys`.
pub async fn load_members(
    store: &Store,
    keys: Vec<dispatch_store::Key>,
) -> Result<Vec<Membership>, DomainError> {
    let mut found = Vec::with_capacity(keys.len());
    for item in store.batch_get(&keys).await?.into_iter().flatten() {
        found.push(from_attributes(item)?);
    }
    Ok(found)
}

/// Every organization the user belongs to, with their role there.
pub async fn memberships_of(
    store: &Store,
    user_id: i32,
) -> Result<Vec<(Organization, Membership)>, DomainError> {
    let memberships: Vec<Membership> = store
        .query_prefix(
            dispatch_store::Source::Index(dispatch_store::schema::GSI1),
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

/// The schema version from which the table has the members index (migration 4).
pub const MEMBERS_INDEX_SINCE: u32 = 4;

/// By email, on the members index: a page is one Query.
const MEMBER_SORTS: &[crate::list::Sort] = &[crate::list::Sort {
    model: "DispatchUser",
    field: "email",
    index: dispatch_store::schema::MEMBERS,
}];

/// By email, on the keys-only list index (tables before [`MEMBERS_INDEX_SINCE`]).
const MEMBER_SORTS_BEFORE_INDEX: &[crate::list::Sort] = &[crate::list::Sort {
    model: "DispatchUser",
    field: "email",
    index: dispatch_store::schema::LIST1,
}];

/// `GET /{organization}/users`: an organization's members, sorted and searched by email, on
/// the index a table at `schema_version` has.
pub fn member_list_spec(slug: &str, total: i64, schema_version: u32) -> crate::list::ListSpec {
    crate::list::ListSpec {
        collection: collection::members(slug),
        schema: MEMBER_SCHEMA,
        sorts: if schema_version >= MEMBERS_INDEX_SINCE {
            MEMBER_SORTS
        } else {
            MEMBER_SORTS_BEFORE_INDEX
        },
        search_fields: &["email"],
        name_field: None,
        total,
    }
}

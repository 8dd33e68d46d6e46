//! What pages show of members, read in a constant number of round trips: the projects of a
//! page of members, and the caller's own organizations and projects (`/auth/me`).
//!
//! Both rely on what the writes store beside the items they change: a membership's summary
//! of its project links ([`Membership::projects`]), an organization's project ids
//! ([`Organization::project_ids`]) and a user's organization slugs
//! ([`User::organization_slugs`]). Data written before schema version 3 and not migrated yet
//! has none of them; it is then read the slower way, with the same result.
//!
//! Cost: on the members index (schema version 4), a page is the permission read, the index
//! query (which reads the memberships) and one `BatchGetItem` for the projects their links
//! name. On the keys-only list index, the projects ride in the members' `BatchGetItem` when
//! the organization has at most [`PREFETCH_PROJECTS`] of them: the same three round trips. `/auth/me` is one
//! `BatchGetItem` after the permission read.

use std::collections::HashMap;
use std::sync::Mutex;

use futures_util::future::try_join_all;

use crate::error::DomainError;
use crate::memberships::{join_projects, memberships_of, projects_in};
use crate::model::{LinkSummary, Membership, Organization, Project, User};
use dispatch_store::keys::{self, Key};
use dispatch_store::{Attributes, Store, from_attributes};

/// Most project items a members page reads ahead, with the members, without knowing yet
/// which of them the page's links name: an organization with more projects reads the named
/// ones afterwards (one more round trip).
pub const PREFETCH_PROJECTS: usize = 100;

/// A member with the projects of their links (links to a deleted project left out).
pub type MemberWithProjects = (Membership, Vec<(LinkSummary, Project)>);

/// The projects one list request has read (`None`: absent or deleted), so that a filtered
/// list loading several batches reads each project once.
#[derive(Debug, Default)]
pub struct ProjectsRead(Mutex<HashMap<i32, Option<Project>>>);

impl ProjectsRead {
    fn unknown(&self, ids: impl IntoIterator<Item = i32>) -> Vec<i32> {
        let known = self.0.lock().expect("projects cache");
        let mut unknown: Vec<i32> = ids
            .into_iter()
            .filter(|id| !known.contains_key(id))
            .collect();
        unknown.sort_unstable();
        unknown.dedup();
        unknown
    }

    fn remember(&self, ids: &[i32], found: Vec<Option<Project>>) {
        let mut known = self.0.lock().expect("projects cache");
        for (id, project) in ids.iter().zip(found) {
            known.insert(*id, project.filter(|p| !p.deleted));
        }
    }

    fn remember_absent(&self, ids: &[i32]) {
        let mut known = self.0.lock().expect("projects cache");
        for id in ids {
            known.entry(*id).or_insert(None);
        }
    }

    fn join(&self, links: &[LinkSummary]) -> Vec<(LinkSummary, Project)> {
        let known = self.0.lock().expect("projects cache");
        links
            .iter()
            .filter_map(|link| {
                let project = known.get(&link.project_id)?.as_ref()?;
                Some((link.clone(), project.clone()))
            })
            .collect()
    }
}

fn projects_of(
    found: &[Option<dispatch_store::Attributes>],
) -> Result<Vec<Option<Project>>, DomainError> {
    found
        .iter()
        .map(|item| item.clone().map(from_attributes).transpose())
        .collect::<Result<_, _>>()
        .map_err(DomainError::from)
}

/// The memberships at `member_keys` (in order; absent ones skipped) with their projects.
/// The organization's projects not read yet by this request are read in the same batch as
/// the memberships when there are at most [`PREFETCH_PROJECTS`] of them.
pub async fn load_page(
    store: &Store,
    org: &Organization,
    member_keys: Vec<Key>,
    read: &ProjectsRead,
) -> Result<Vec<MemberWithProjects>, DomainError> {
    let ahead = if org.project_ids.len() <= PREFETCH_PROJECTS {
        read.unknown(org.project_ids.iter().copied())
    } else {
        Vec::new()
    };
    let mut wanted = member_keys;
    let members_wanted = wanted.len();
    wanted.extend(ahead.iter().map(|id| keys::project(&org.slug, *id)));
    let found = store.batch_get(&wanted).await?;
    read.remember(&ahead, projects_of(&found[members_wanted..])?);
    read.remember_absent(&org.deleted_project_ids);
    let mut members: Vec<Membership> = Vec::with_capacity(members_wanted);
    for item in found.into_iter().take(members_wanted).flatten() {
        members.push(from_attributes(item)?);
    }
    with_projects(store, org, members, read).await
}

/// The memberships a query of the members index read (in order) with their projects: the
/// projects their links name that this request has not read yet, in one `BatchGetItem`.
pub async fn from_items(
    store: &Store,
    org: &Organization,
    items: Vec<Attributes>,
    read: &ProjectsRead,
) -> Result<Vec<MemberWithProjects>, DomainError> {
    read.remember_absent(&org.deleted_project_ids);
    let members = items
        .into_iter()
        .map(from_attributes)
        .collect::<Result<Vec<Membership>, _>>()?;
    with_projects(store, org, members, read).await
}

/// `members` with the projects of their links: from `read`, plus one batch for the projects
/// named and not read yet, plus the link items of memberships without a summary.
async fn with_projects(
    store: &Store,
    org: &Organization,
    members: Vec<Membership>,
    read: &ProjectsRead,
) -> Result<Vec<MemberWithProjects>, DomainError> {
    // Links naming a project neither read nor known deleted (created by older code, or an
    // organization with more projects than are read ahead): one more batch for all of them.
    let named = read.unknown(
        members
            .iter()
            .filter_map(|m| m.projects.as_ref())
            .flatten()
            .map(|link| link.project_id),
    );
    if !named.is_empty() {
        let keys: Vec<Key> = named
            .iter()
            .map(|id| keys::project(&org.slug, *id))
            .collect();
        let found = store.batch_get(&keys).await?;
        read.remember(&named, projects_of(&found)?);
    }

    // Memberships without a summary (not migrated yet): their link items, concurrently.
    let unmigrated = try_join_all(
        members
            .iter()
            .filter(|m| m.projects.is_none())
            .map(|m| projects_in(store, m.user_id, &org.slug)),
    )
    .await?;
    let mut unmigrated = unmigrated.into_iter();
    Ok(members
        .into_iter()
        .map(|member| {
            let projects = match &member.projects {
                Some(links) => read.join(links),
                None => unmigrated.next().unwrap_or_default(),
            };
            (member, projects)
        })
        .collect())
}

/// What `/auth/me` shows beyond the user: every organization the user belongs to with their
/// membership (by slug), and their projects in the caller's organization `slug`.
pub struct Me {
    pub organizations: Vec<(Organization, Membership)>,
    pub projects: Vec<(LinkSummary, Project)>,
}

/// Reads [`Me`] in one `BatchGetItem`: the organizations and memberships the user's slugs
/// name and the projects their membership of `slug` names. Data not migrated yet is read
/// the slower way (an index query, then its items).
pub async fn me(
    store: &Store,
    user: &User,
    slug: &str,
    membership: Option<&Membership>,
) -> Result<Me, DomainError> {
    let links = membership.and_then(|m| m.projects.as_ref());
    let slugs: &[String] = if user.organizations_indexed {
        &user.organization_slugs
    } else {
        &[]
    };
    let mut wanted: Vec<Key> = Vec::new();
    for slug in slugs {
        wanted.push(keys::organization(slug));
        wanted.push(keys::membership(slug, user.id));
    }
    let organizations_end = wanted.len();
    if let Some(links) = links {
        wanted.extend(links.iter().map(|l| keys::project(slug, l.project_id)));
    }
    let found = if wanted.is_empty() {
        Vec::new()
    } else {
        store.batch_get(&wanted).await?
    };

    let organizations = if !user.organizations_indexed {
        memberships_of(store, user.id).await?
    } else {
        let mut pairs = Vec::with_capacity(slugs.len());
        for pair in found[..organizations_end].chunks(2) {
            let (Some(org), Some(membership)) = (&pair[0], &pair[1]) else {
                continue;
            };
            if let Some(org) = crate::organizations::visible(org.clone())? {
                pairs.push((org, from_attributes(membership.clone())?));
            }
        }
        pairs.sort_by(|a, b| a.0.slug.as_str().cmp(b.0.slug.as_str()));
        pairs
    };
    let projects = match links {
        Some(links) => {
            let projects: Vec<Project> = found[organizations_end..]
                .iter()
                .flatten()
                .map(|item| from_attributes(item.clone()))
                .collect::<Result<_, _>>()?;
            join_projects(links, &projects)
        }
        None => projects_in(store, user.id, slug).await?,
    };
    Ok(Me {
        organizations,
        projects,
    })
}

/// One member's projects in their organization: one `BatchGetItem` of the projects their
/// summary names (the link items, for a membership not migrated yet).
pub async fn of_member(
    store: &Store,
    membership: &Membership,
) -> Result<Vec<(LinkSummary, Project)>, DomainError> {
    let slug = &membership.organization_slug;
    let Some(links) = &membership.projects else {
        return projects_in(store, membership.user_id, slug).await;
    };
    if links.is_empty() {
        return Ok(Vec::new());
    }
    let wanted: Vec<Key> = links
        .iter()
        .map(|l| keys::project(slug, l.project_id))
        .collect();
    let projects: Vec<Project> = store
        .batch_get(&wanted)
        .await?
        .into_iter()
        .flatten()
        .map(from_attributes)
        .collect::<Result<_, _>>()?;
    Ok(join_projects(links, &projects))
}

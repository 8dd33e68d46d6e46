//! `PUT /{organization}/users/{id}` as one change: the member's role, their default projects
//! and their experimental features are validated first, then written in **one** transaction,
//! so a conflict on any part leaves every part as it was (the client sees an error and nothing
//! half-applied). A lost version race re-reads and re-applies the whole change.

use std::collections::BTreeMap;

use crate::error::{DomainError, OnCondition};
use crate::model::{LinkSummary, Membership, OrganizationSlug, ProjectLink, Role, User};
use crate::time::Timestamp;
use dispatch_store::keys;
use dispatch_store::transaction::VERSION_LABEL;
use dispatch_store::{Store, Transaction, from_attributes, retry_on_version_conflict};

use super::account_authority::{AUTHORITY_LABEL, Authority, forbidden};
use super::roles::{add_role_change, reread_when_other_owner_changed};
use super::users::{membership_item, project_link_item, user_item};

/// What a member update changes (`None`: leave as it is).
#[derive(Debug, Clone, Default)]
pub struct MemberUpdate {
    pub role: Option<Role>,
    /// Dispatch's default-project switch: each listed project with the default flag of its
    /// entry (a project listed twice keeps the flag of its last entry).
    pub projects: Option<Vec<(i32, bool)>>,
    /// The new value, with the grounds on which the caller may change this account-wide flag.
    pub experimental_features: Option<(bool, Authority)>,
}

impl MemberUpdate {
    /// One flag per project, the last entry winning, in project order.
    pub fn project_flags(entries: &[(i32, bool)]) -> Vec<(i32, bool)> {
        let flags: BTreeMap<i32, bool> = entries.iter().copied().collect();
        flags.into_iter().collect()
    }
}

/// Applies `update` to member `user_id` of organization `slug`, in one transaction.
pub async fn update_member(
    store: &Store,
    slug: &OrganizationSlug,
    user_id: i32,
    update: &MemberUpdate,
) -> Result<(), DomainError> {
    retry_on_version_conflict(|| async {
        let now = Timestamp::now();
        let mut tx = Transaction::new();
        if update.role.is_some() || update.projects.is_some() {
            let mut membership: Membership = store
                .get(&keys::membership(slug, user_id))
                .await?
                .ok_or_else(|| {
                    DomainError::NotFound("A user with this id does not exist.".into())
                })?;
            let mut projects_changed = false;
            if let Some(projects) = &update.projects {
                let links = current_links(store, &membership).await?;
                let summary =
                    switch_default_projects(&mut tx, slug, user_id, &links, projects, now)?;
                projects_changed = membership.projects.as_ref() != Some(&summary);
                membership.projects = Some(summary);
            }
            // One write of the membership carries both changes.
            match update.role {
                Some(role) if role != membership.role => {
                    add_role_change(store, &mut tx, membership, role, now).await?;
                }
                _ if projects_changed => {
                    let expected = membership.version;
                    membership.version += 1;
                    membership.updated_at = now;
                    tx.put_versioned(membership_item(&membership)?, expected)?;
                }
                _ => {}
            }
        }
        if let Some((enabled, authority)) = &update.experimental_features {
            let mut user: User = store.get(&keys::user(user_id)).await?.ok_or_else(|| {
                DomainError::NotFound("A user with this id does not exist.".into())
            })?;
            if user.experimental_features != *enabled {
                let expected = user.version;
                user.experimental_features = *enabled;
                user.version += 1;
                user.updated_at = now;
                tx.put_versioned(user_item(&user)?, expected)?;
                authority.add_checks(&mut tx)?;
            }
        }
        store
            .transact(tx)
            .await
            .map_err(reread_when_other_owner_changed)
            .on_condition(AUTHORITY_LABEL, forbidden)?;
        Ok::<_, DomainError>(())
    })
    .await
}

/// Dispatch's default-project switch (docs/contract.md §5.2): every link of the user in the
/// organization loses its default flag, then each listed project gets a new default link or
/// its existing link takes the entry's flag. Links are written under their versions.
fn switch_default_projects(
    tx: &mut Transaction,
    slug: &OrganizationSlug,
    user_id: i32,
    links: &[ProjectLink],
    projects: &[(i32, bool)],
    now: Timestamp,
) -> Result<Vec<LinkSummary>, DomainError> {
    let mut summary = Vec::with_capacity(links.len() + projects.len());
    let flag_of = |project_id: i32| projects.iter().find(|(id, _)| *id == project_id);
    for link in links {
        let default = flag_of(link.project_id).is_some_and(|(_, default)| *default);
        if link.default != default {
            let expected = link.version;
            let updated = ProjectLink {
                default,
                version: expected + 1,
                updated_at: now,
                ..link.clone()
            };
            tx.put_versioned(project_link_item(&updated)?, expected)?;
        }
        summary.push(LinkSummary {
            default,
            ..LinkSummary::from(link)
        });
    }
    for (project_id, _) in projects
        .iter()
        .filter(|(id, _)| !links.iter().any(|l| l.project_id == *id))
    {
        let link = ProjectLink {
            user_id,
            project_id: *project_id,
            organization_slug: slug.clone(),
            default: true,
            role: Role::Member.as_str().into(),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        tx.put_new(project_link_item(&link)?, VERSION_LABEL)?;
        summary.push(LinkSummary::from(&link));
    }
    super::memberships::sort_like_index(&mut summary);
    Ok(summary)
}

/// The member's links in the organization, with their versions. With a summary (read
/// consistently with the membership), the links it names are read by key, consistently: the
/// index may lag a moment behind a change that just committed. A summary entry whose link is
/// gone (its project was deleted) is dropped. Without one (data older than schema version 3),
/// the index lists them.
async fn current_links(
    store: &Store,
    membership: &Membership,
) -> Result<Vec<ProjectLink>, DomainError> {
    let (slug, user_id) = (&membership.organization_slug, membership.user_id);
    let Some(summary) = &membership.projects else {
        return super::memberships::links_in(store, user_id, slug).await;
    };
    let wanted: Vec<_> = summary
        .iter()
        .map(|entry| keys::user_project_link(slug, entry.project_id, user_id))
        .collect();
    let mut links = Vec::with_capacity(wanted.len());
    for item in store.batch_get(&wanted).await?.into_iter().flatten() {
        links.push(from_attributes(item)?);
    }
    Ok(links)
}

/// Takes project `project_id` out of member `user_id`'s summary (their link to it is being
/// removed with the project), under the membership's version, reading again on a race.
pub async fn forget_project(
    store: &Store,
    slug: &str,
    user_id: i32,
    project_id: i32,
) -> Result<(), DomainError> {
    retry_on_version_conflict(|| async {
        let Some(mut membership) = store
            .get::<Membership>(&keys::membership(slug, user_id))
            .await?
        else {
            return Ok(());
        };
        let Some(links) = &mut membership.projects else {
            return Ok(());
        };
        let before = links.len();
        links.retain(|link| link.project_id != project_id);
        if links.len() == before {
            return Ok(());
        }
        let expected = membership.version;
        membership.version += 1;
        membership.updated_at = Timestamp::now();
        let mut tx = Transaction::new();
        tx.put_versioned(membership_item(&membership)?, expected)?;
        store.transact(tx).await?;
        Ok::<_, DomainError>(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_listed_twice_keeps_the_flag_of_its_last_entry() {
        let flags = MemberUpdate::project_flags(&[(7, true), (3, false), (7, false), (3, true)]);
        assert_eq!(flags, [(3, true), (7, false)]);
    }
}

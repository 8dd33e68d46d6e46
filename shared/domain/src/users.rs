//! Creating users and adding them to organizations: registration, auto-provisioning, the admin
//! CLI and (later) `POST /users` all come through here, so every user gets the same items.

use crate::error::{DomainError, OnCondition};
use crate::model::{
    Credentials, EmailAddress, LinkSummary, Membership, Organization, ProjectLink, Role, User,
    UserSettings,
};
use crate::time::Timestamp;
use aws_sdk_dynamodb::types::AttributeValue;
use dispatch_store::keys::{self, collection, sort_value};
use dispatch_store::{Expression, IdKind, Item, Store, StoreError, Transaction};

pub use super::auto_join::organizations as auto_join_organizations;
pub use super::roles::set_role;
pub use super::user_changes::{set_password, update_user, update_user_from};

const EMAIL_TAKEN: &str = "email";

/// How credentials are stored: as the guard that makes the email unique.
pub fn credentials_item(email: &str, credentials: &Credentials) -> Result<Item, StoreError> {
    Item::new(&keys::email_guard(email), "Credentials", credentials)
}

/// How a user is stored.
pub fn user_item(user: &User) -> Result<Item, StoreError> {
    Item::new(&keys::user(user.id), "User", user)
}

/// How a membership is stored: in the organization's partition, listed by email (in the
/// keys-only list index and, with every attribute, in the members index), and under the user
/// in GSI1.
pub fn membership_item(membership: &Membership) -> Result<Item, StoreError> {
    let slug = &membership.organization_slug;
    let sort = sort_value(&membership.email, membership.user_id);
    Ok(Item::new(
        &keys::membership(slug, membership.user_id),
        "Membership",
        membership,
    )?
    .with_gsi1(
        keys::user_inverse(membership.user_id),
        keys::org_partition(slug),
    )
    .in_list(collection::members(slug), std::slice::from_ref(&sort))
    .in_members_index(collection::members(slug), sort))
}

/// How a project link is stored: in the project's partition, and under the user in GSI1.
pub fn project_link_item(link: &ProjectLink) -> Result<Item, StoreError> {
    Ok(Item::new(
        &keys::user_project_link(&link.organization_slug, link.project_id, link.user_id),
        "ProjectLink",
        link,
    )?
    .with_gsi1(
        keys::user_inverse(link.user_id),
        format!("PROJECT#{}#{}", link.organization_slug, link.project_id),
    ))
}

/// Adds to `tx` what makes `user` a member of `org` with `role`: the membership, a default link
/// to the organization's default project, and the member count (conditional on the
/// organization still existing).
pub fn add_membership(
    tx: &mut Transaction,
    org: &Organization,
    user: &User,
    role: Role,
    now: Timestamp,
) -> Result<(), StoreError> {
    add_membership_with_projects(tx, org, user, role, &[], now)
}

/// Like [`add_membership`], linking the user to `project_ids` (each as a default project, as
/// Dispatch does) instead of the organization's default project when the list is not empty.
pub fn add_membership_with_projects(
    tx: &mut Transaction,
    org: &Organization,
    user: &User,
    role: Role,
    project_ids: &[i32],
    now: Timestamp,
) -> Result<(), StoreError> {
    membership_items(tx, org, user, role, project_ids, now)?;
    tx.update(
        keys::organization(&org.slug),
        Expression::change_counters(&[("member_count", 1)]),
        Some(super::organizations::accepts_additions()),
        Some(super::organizations::ORGANIZATION_LABEL),
    )?;
    Ok(())
}

/// The membership and project-link items of [`add_membership_with_projects`], without the
/// organization's member count (for a transaction that writes the organization item itself).
pub fn membership_items(
    tx: &mut Transaction,
    org: &Organization,
    user: &User,
    role: Role,
    project_ids: &[i32],
    now: Timestamp,
) -> Result<(), StoreError> {
    let linked: Vec<i32> = if project_ids.is_empty() {
        org.default_project_id.into_iter().collect()
    } else {
        project_ids.to_vec()
    };
    let links: Vec<ProjectLink> = linked
        .into_iter()
        .map(|project_id| ProjectLink {
            user_id: user.id,
            project_id,
            organization_slug: org.slug.clone(),
            default: true,
            role: Role::Member.as_str().into(),
            created_at: now,
            updated_at: now,
            version: 1,
        })
        .collect();
    let mut summary: Vec<LinkSummary> = links.iter().map(LinkSummary::from).collect();
    super::memberships::sort_like_index(&mut summary);
    let membership = Membership {
        user_id: user.id,
        email: user.email.clone(),
        organization_id: org.id,
        organization_slug: org.slug.clone(),
        role,
        projects: Some(summary),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    tx.put_new(membership_item(&membership)?, "membership")?;
    for link in &links {
        tx.put_new(project_link_item(link)?, "project_link")?;
    }
    // A new user's item, written by the same transaction, lists the slug already.
    let user_key = keys::user(user.id);
    if !tx.holds(&user_key) {
        tx.update(
            user_key,
            remember_organization(&org.slug),
            Some(Expression::item_present()),
            None,
        )?;
    }
    Ok(())
}

/// Adds `slug` to the user's [`User::organization_slugs`], bumping their version so that a
/// read-modify-write of the user that read it before fails and reads again.
pub fn remember_organization(slug: &str) -> Expression {
    Expression::new("ADD #version :one")
        .name("#version", keys::attr::VERSION)
        .value(":one", AttributeValue::N("1".into()))
        .add_to_set(
            "organization_slugs",
            AttributeValue::Ss(vec![slug.to_owned()]),
        )
}

/// Removes `slug` from the user's [`User::organization_slugs`] (their membership is being
/// removed with its organization), bumping their version like [`remember_organization`].
pub fn forget_organization(slug: &str) -> Expression {
    Expression::new("ADD #version :one")
        .name("#version", keys::attr::VERSION)
        .value(":one", AttributeValue::N("1".into()))
        .delete_from_set(
            "organization_slugs",
            AttributeValue::Ss(vec![slug.to_owned()]),
        )
}

/// Creates a user (email guard, user item) and their memberships, in one transaction.
/// A taken email is Dispatch's 422 "A user with this email already exists.".
pub async fn create(
    store: &Store,
    email: &EmailAddress,
    password_hash: String,
    memberships: &[(Organization, Role)],
) -> Result<User, DomainError> {
    let plans = default_projects(memberships);
    insert(store, email, password_hash, &plans, None).await
}

/// Like [`create`], for a user auto-provisioned from a valid token whose `sub` named no user:
/// the user records that subject ([`User::provisioning_subject`]) in the same transaction.
pub async fn create_provisioned(
    store: &Store,
    email: &EmailAddress,
    password_hash: String,
    memberships: &[(Organization, Role)],
    subject: &str,
) -> Result<User, DomainError> {
    let plans = default_projects(memberships);
    insert(store, email, password_hash, &plans, Some(subject)).await
}

/// Each membership with no project to link: the organization's default project is linked.
fn default_projects(memberships: &[(Organization, Role)]) -> Vec<(&Organization, Role, &[i32])> {
    memberships
        .iter()
        .map(|(org, role)| (org, *role, &[][..]))
        .collect()
}

/// Like [`create`], with the projects to link in each organization (empty: its default project).
pub async fn create_with_projects(
    store: &Store,
    email: &EmailAddress,
    password_hash: String,
    memberships: &[(&Organization, Role, &[i32])],
) -> Result<User, DomainError> {
    insert(store, email, password_hash, memberships, None).await
}

async fn insert(
    store: &Store,
    email: &EmailAddress,
    password_hash: String,
    memberships: &[(&Organization, Role, &[i32])],
    provisioning_subject: Option<&str>,
) -> Result<User, DomainError> {
    let now = Timestamp::now();
    let user = User {
        id: store.next_id(IdKind::User).await?,
        email: email.clone(),
        token_version: 0,
        experimental_features: false,
        settings: UserSettings::default(),
        provisioning_subject: provisioning_subject.map(str::to_owned),
        organization_slugs: organization_slugs(memberships),
        organizations_indexed: true,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let mut tx = Transaction::new();
    let credentials = Credentials {
        user_id: user.id,
        password_hash,
        version: 1,
    };
    tx.put_new(credentials_item(&user.email, &credentials)?, EMAIL_TAKEN)?;
    tx.put_new(user_item(&user)?, "user")?;
    for (org, role, projects) in memberships {
        add_membership_with_projects(&mut tx, org, &user, *role, projects, now)?;
    }
    store
        .transact(tx)
        .await
        .on_condition(EMAIL_TAKEN, email_taken)?;
    Ok(user)
}

/// The distinct slugs of `memberships`.
fn organization_slugs(memberships: &[(&Organization, Role, &[i32])]) -> Vec<String> {
    let mut slugs: Vec<String> = memberships
        .iter()
        .map(|(org, _, _)| org.slug.to_string())
        .collect();
    slugs.sort();
    slugs.dedup();
    slugs
}

/// Dispatch's answer to a taken email (422, on `email`).
pub fn email_taken() -> DomainError {
    DomainError::invalid(
        "A user with this email already exists.",
        crate::bare!["email"],
        "value_error",
    )
}

/// The user with this email, if any (two consistent reads: the credentials, then the user).
pub async fn find_by_email(store: &Store, email: &str) -> Result<Option<User>, DomainError> {
    let Some(credentials) = store.get::<Credentials>(&keys::email_guard(email)).await? else {
        return Ok(None);
    };
    Ok(store.get(&keys::user(credentials.user_id)).await?)
}

/// Reads an organization by slug.
pub async fn organization(store: &Store, slug: &str) -> Result<Option<Organization>, DomainError> {
    Ok(store
        .get_attributes(&keys::organization(slug))
        .await?
        .map(super::organizations::visible)
        .transpose()?
        .flatten())
}

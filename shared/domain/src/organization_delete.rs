//! Deleting an organization (`DELETE /organizations/{id}`, which Dispatch's UI offers and its
//! API lacks, Q-O2).
//!
//! An organization can hold more items than one transaction can remove, so deletion is staged:
//! 1. one transaction **hides** it: the organization item is marked `deleted` and leaves the
//!    list, the organization count goes down, and a pending-deletion marker is written. From
//!    then on every read treats it as absent ([`super::organizations::visible`]) and nothing can
//!    be added to it ([`super::organizations::accepts_additions`]);
//! 2. its projects' partitions (user links, init data) and its own partition (memberships,
//!    projects, name guards, plugin instances) are removed in bounded batches, with the
//!    projects' id guards. Memberships leave in both directions: the user's side is the same
//!    items, seen through the inverse index;
//! 3. one transaction removes the organization item, its name and id guards and the marker, so
//!    the name is free again only when nothing of the old organization is left.
//!
//! If a removal is interrupted, the marker stays and the organization stays invisible: the
//! maintenance job `finish-deletions` finishes it ([`crate::maintenance::deletions`]), as does
//! `dispatch database init` ([`finish_pending`]). No request pays for another's deletion.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::error::DomainError;
use crate::maintenance::Budget;
use crate::model::Organization;
use dispatch_store::keys::{self, Key, collection};
use dispatch_store::{
    Expression, Item, Store, StoreError, Transaction, retry_on_version_conflict,
    transaction::VERSION_LABEL,
};

/// Keys removed per batch of the cleanup.
const CLEANUP_BATCH: usize = 100;

/// What a `DELETE` of the default organization answers: there must always be one (Q-O3).
pub const DEFAULT_ORGANIZATION_KEPT: &str =
    "The default organization cannot be deleted: make another organization the default first.";

/// Deletes the organization `slug` and everything in it.
pub async fn delete(store: &Store, slug: &str) -> Result<(), DomainError> {
    hide(store, slug).await?;
    remove(store, slug, &Budget::unbounded()).await?;
    Ok(())
}

/// How far a removal got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Nothing of it is left.
    Done,
    /// The budget ran out first; running it again continues.
    CutShort,
}

/// Hides the organization in one transaction (404 if it is already gone, 409 for the default
/// organization).
pub async fn hide(store: &Store, slug: &str) -> Result<(), DomainError> {
    let not_found = || DomainError::NotFound("An organization with this id does not exist.".into());
    retry_on_version_conflict(|| async {
        let org: Organization = match store.get_attributes(&keys::organization(slug)).await? {
            Some(item) => super::organizations::visible(item)?.ok_or_else(not_found)?,
            None => return Err(not_found()),
        };
        if org.default {
            return Err(DomainError::Conflict(DEFAULT_ORGANIZATION_KEPT.into()));
        }
        let mut tx = Transaction::new();
        // The version condition also covers a concurrent PUT that makes it the default.
        tx.update(
            keys::organization(slug),
            Expression::new("SET #deleted = :true ADD #version :one REMOVE #list_pk, #sk1")
                .name("#deleted", "deleted")
                .name("#version", keys::attr::VERSION)
                .name("#list_pk", keys::attr::LIST_PK)
                .name("#sk1", keys::attr::LIST_SK1)
                .value(":true", AttributeValue::Bool(true))
                .value(":one", AttributeValue::N("1".into())),
            Some(Expression::version_is(org.version)),
            Some(VERSION_LABEL),
        )?;
        tx.update(
            keys::collection_count(collection::ORGANIZATIONS),
            Expression::count_by(-1),
            None,
            None,
        )?;
        tx.put_when(
            Item::bare(
                &keys::pending_organization_deletion(slug),
                "PendingDeletion",
            )
            .with_str("slug", slug),
            None,
            None,
        )?;
        store.transact(tx).await?;
        Ok::<_, DomainError>(())
    })
    .await
}

/// Removes every item of the hidden organization `slug`, then the organization itself, batch
/// by batch until `budget` runs out. Idempotent, and safe to run twice at once: batch deletes
/// of gone items are no-ops, and only one final transaction can find the organization still
/// there.
pub async fn remove(store: &Store, slug: &str, budget: &Budget) -> Result<Removal, StoreError> {
    let partition = store.partition_keys(&keys::org_partition(slug)).await?;
    for project_key in partition.iter().filter(|k| k.sk.starts_with("PROJECT#")) {
        let Some(project_id) = project_key
            .sk
            .strip_prefix("PROJECT#")
            .and_then(|id| id.parse::<i32>().ok())
        else {
            continue;
        };
        let mut project_keys = store
            .partition_keys(&keys::project_partition(slug, project_id))
            .await?;
        project_keys.push(keys::project_id_guard(project_id));
        for batch in project_keys.chunks(CLEANUP_BATCH) {
            if budget.exhausted() {
                return Ok(Removal::CutShort);
            }
            store.delete_batch(batch).await?;
        }
    }
    let organization_key = keys::organization(slug);
    let rest: Vec<Key> = partition
        .into_iter()
        .filter(|k| *k != organization_key)
        .collect();
    for batch in rest.chunks(CLEANUP_BATCH) {
        if budget.exhausted() {
            return Ok(Removal::CutShort);
        }
        store.delete_batch(batch).await?;
    }

    let Some(item) = store.get_attributes(&organization_key).await? else {
        // A concurrent cleanup finished first; only its marker may be left.
        store
            .delete_batch(&[keys::pending_organization_deletion(slug)])
            .await?;
        return Ok(Removal::Done);
    };
    let org: Organization = dispatch_store::from_attributes(item)?;
    let mut tx = Transaction::new();
    tx.delete(
        organization_key,
        Some(
            Expression::new("#deleted = :true")
                .name("#deleted", "deleted")
                .value(":true", AttributeValue::Bool(true)),
        ),
        Some("organization"),
    )?;
    tx.delete(keys::organization_name_guard(&org.name), None, None)?;
    tx.delete(keys::organization_id_guard(org.id), None, None)?;
    tx.delete(keys::pending_organization_deletion(slug), None, None)?;
    match store.transact(tx).await {
        Err(StoreError::ConditionFailed { label }) if label == "organization" => Ok(Removal::Done),
        other => other.map(|()| Removal::Done),
    }
}

/// Finishes every deletion (of an organization or of a project) an interrupted request left
/// pending, without a time limit (`dispatch database init`; the scheduled job is
/// [`crate::maintenance::deletions`]).
pub async fn finish_pending(store: &Store) -> Result<(), DomainError> {
    for slug in pending_organizations(store).await? {
        tracing::info!(slug, "finishing an interrupted organization deletion");
        remove(store, &slug, &Budget::unbounded()).await?;
    }
    for (slug, project_id) in pending_projects(store).await? {
        tracing::info!(
            slug,
            project_id,
            "finishing an interrupted project deletion"
        );
        crate::project_delete::remove_contents(store, &slug, project_id, &Budget::unbounded())
            .await?;
    }
    Ok(())
}

/// The organizations whose deletion is pending (their slugs).
pub async fn pending_organizations(store: &Store) -> Result<Vec<String>, StoreError> {
    Ok(store
        .partition_keys(keys::PENDING_ORGANIZATION_DELETIONS)
        .await?
        .into_iter()
        .filter_map(|marker| marker.sk.strip_prefix("ORG#").map(str::to_owned))
        .collect())
}

/// The projects whose deletion is pending (organization slug, project id).
pub async fn pending_projects(store: &Store) -> Result<Vec<(String, i32)>, StoreError> {
    Ok(store
        .partition_keys(keys::PENDING_PROJECT_DELETIONS)
        .await?
        .into_iter()
        .filter_map(|marker| {
            let (slug, id) = marker.sk.strip_prefix("ORG#")?.split_once("#PROJECT#")?;
            Some((slug.to_owned(), id.parse().ok()?))
        })
        .collect())
}

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

use std::time::Duration;

use crate::deletion_claim::{Claim, REQUEST_CLAIM};
use crate::error::DomainError;
use crate::maintenance::Budget;
use crate::model::Organization;
use dispatch_store::keys::{self, Key, collection};
use dispatch_store::{
    Expression, Item, Store, StoreError, Transaction, retry_on_version_conflict,
    transaction::VERSION_LABEL,
};
use futures_util::{StreamExt, TryStreamExt};

/// Keys removed per batch of the cleanup.
const CLEANUP_BATCH: usize = 100;

/// What a `DELETE` of the default organization answers: there must always be one (Q-O3).
pub const DEFAULT_ORGANIZATION_KEPT: &str =
    "The default organization cannot be deleted: make another organization the default first.";

/// Deletes the organization `slug` and everything in it.
pub async fn delete(store: &Store, slug: &str) -> Result<(), DomainError> {
    let claim = hide(store, slug, REQUEST_CLAIM).await?;
    remove(store, slug, &claim, &Budget::unbounded()).await?;
    Ok(())
}

/// How far a removal got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// Nothing of it is left.
    Done,
    /// The budget ran out first; running it again continues.
    CutShort,
    /// The claim lapsed and another remover took over (or finished).
    Yielded,
}

/// Hides the organization in one transaction (404 if it is already gone, 409 for the default
/// organization), and claims its removal for `hold` ([`Claim`]).
pub async fn hide(store: &Store, slug: &str, hold: Duration) -> Result<Claim, DomainError> {
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
        let (claim, marker) = Claim::on_new_marker(
            Item::bare(
                &keys::pending_organization_deletion(slug),
                "PendingDeletion",
            )
            .with_str("slug", slug),
            hold,
        );
        tx.put_when(marker, None, None)?;
        store.transact(tx).await?;
        Ok::<_, DomainError>(claim)
    })
    .await
}

/// Removes every item of the hidden organization `slug`, then the organization itself, batch
/// by batch while `claim` holds and until `budget` runs out. Idempotent: batch deletes of gone
/// items are no-ops, and the final transaction requires the organization still hidden and the
/// claim still this remover's.
pub async fn remove(
    store: &Store,
    slug: &str,
    claim: &Claim,
    budget: &Budget,
) -> Result<Removal, StoreError> {
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
            if let Some(stop) = stop_before_batch(store, claim, budget).await? {
                return Ok(stop);
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
        if let Some(stop) = stop_before_batch(store, claim, budget).await? {
            return Ok(stop);
        }
        forget_organization(store, slug, batch).await?;
        store.delete_batch(batch).await?;
    }

    let mut tx = Transaction::new();
    tx.delete(
        claim.marker().clone(),
        Some(claim.still_mine()),
        Some(CLAIM_LABEL),
    )?;
    let Some(item) = store.get_attributes(&organization_key).await? else {
        // Only the marker is left (an earlier remover's last step was cut short).
        return finish(store, tx).await;
    };
    let org: Organization = dispatch_store::from_attributes(item)?;
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
    finish(store, tx).await
}

/// Removes `slug` from the organization slugs of the users whose memberships are among
/// `batch`, before the memberships go (a remover cut short does it again). Nobody can join
/// meanwhile: the organization is hidden, and its slug is not free until it is removed.
async fn forget_organization(store: &Store, slug: &str, batch: &[Key]) -> Result<(), StoreError> {
    let members: Vec<i32> = batch
        .iter()
        .filter_map(|key| key.sk.strip_prefix("MEMBER#")?.parse::<i32>().ok())
        .collect();
    futures_util::stream::iter(members)
        .map(|user_id| async move {
            match store
                .update_if(
                    &keys::user(user_id),
                    crate::users::forget_organization(slug),
                    Expression::item_present(),
                    "user",
                )
                .await
            {
                Err(StoreError::ConditionFailed { .. }) => Ok(()),
                other => other,
            }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<()>>()
        .await
        .map(|_| ())
}

/// The label of the claim condition on the marker.
const CLAIM_LABEL: &str = "claim";

/// Runs the final transaction: a lost claim means another remover has it.
async fn finish(store: &Store, tx: Transaction) -> Result<Removal, StoreError> {
    match store.transact(tx).await {
        Ok(()) => Ok(Removal::Done),
        Err(StoreError::ConditionFailed { label }) if label == CLAIM_LABEL => Ok(Removal::Yielded),
        Err(StoreError::ConditionFailed { label }) if label == "organization" => Ok(Removal::Done),
        Err(error) => Err(error),
    }
}

/// Why a remover must stop before its next batch, if it must: its budget ran out, or its claim
/// lapsed (another remover may be at work, or done: a new organization may hold the slug).
async fn stop_before_batch(
    store: &Store,
    claim: &Claim,
    budget: &Budget,
) -> Result<Option<Removal>, StoreError> {
    if budget.exhausted() {
        return Ok(Some(Removal::CutShort));
    }
    if !claim.held(store).await? {
        return Ok(Some(Removal::Yielded));
    }
    Ok(None)
}

/// How long `dispatch database init` claims a deletion it finishes.
const OPERATOR_CLAIM: Duration = Duration::from_secs(15 * 60);

/// Finishes every deletion (of an organization or of a project) an interrupted request left
/// pending, without a time limit (`dispatch database init`; the scheduled job is
/// [`crate::maintenance::deletions`]). An organization another remover is working on is left
/// to it.
pub async fn finish_pending(store: &Store) -> Result<(), DomainError> {
    for slug in pending_organizations(store).await? {
        let marker = keys::pending_organization_deletion(&slug);
        let Some(claim) = Claim::take(store, &marker, OPERATOR_CLAIM).await? else {
            tracing::info!(
                slug,
                "another remover is finishing this organization's deletion"
            );
            continue;
        };
        tracing::info!(slug, "finishing an interrupted organization deletion");
        remove(store, &slug, &claim, &Budget::unbounded()).await?;
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

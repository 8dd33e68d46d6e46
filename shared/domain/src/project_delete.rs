//! Deleting a project: one transaction hides it at once (out of every list, its name and id
//! free, the organization's count down, a pending-deletion marker written), then everything in
//! its partition (user links, init data) is removed in bounded batches, then its plugin
//! instances, and the project item with the marker last. If that is interrupted (a request cut
//! off by its time budget, a lost connection), the marker stays: the next `DELETE` of the same
//! project, the maintenance job `finish-deletions` or `dispatch database init` finishes the
//! removal.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::error::{DomainError, OnCondition};
use crate::maintenance::Budget;
use crate::model::Project;
use crate::organization_delete::Removal;
use dispatch_store::item::number_attribute;
use dispatch_store::keys::{self, attr};
use dispatch_store::{
    Expression, Source, Store, StoreError, Transaction, retry_on_version_conflict,
};

/// The 409 for deleting the organization's default project.
pub const DEFAULT_PROJECT_KEPT: &str = "This is the organization's default project, which new members are added to: it cannot be deleted.";

/// The label of the organization-item condition of [`hide`].
const DEFAULT_PROJECT_LABEL: &str = "default_project";

/// Keys removed per batch of the cleanup.
const CLEANUP_BATCH: usize = 100;

/// Deletes project `project_id` of organization `slug` (404 if there is none).
pub async fn delete(store: &Store, slug: &str, project_id: i32) -> Result<(), DomainError> {
    hide(store, slug, project_id).await?;
    remove_contents(store, slug, project_id, &Budget::unbounded()).await?;
    Ok(())
}

/// Hides the project in one transaction; a project already hidden stays as it is.
pub async fn hide(store: &Store, slug: &str, project_id: i32) -> Result<(), DomainError> {
    retry_on_version_conflict(|| async {
        let project: Project = store
            .get(&keys::project(slug, project_id))
            .await?
            .ok_or_else(|| {
                DomainError::NotFound("A project with this id does not exist.".into())
            })?;
        if project.deleted {
            return Ok(());
        }
        let mut tx = Transaction::new();
        tx.update(
            keys::project(slug, project_id),
            Expression::new("SET #deleted = :true ADD #version :one REMOVE #list_pk, #sk1, #sk2")
                .name("#deleted", "deleted")
                .name("#version", attr::VERSION)
                .name("#list_pk", attr::LIST_PK)
                .name("#sk1", attr::LIST_SK1)
                .name("#sk2", attr::LIST_SK2)
                .value(":true", AttributeValue::Bool(true))
                .value(":one", AttributeValue::N("1".into())),
            Some(Expression::version_is(project.version)),
            Some(dispatch_store::transaction::VERSION_LABEL),
        )?;
        tx.delete(keys::project_name_guard(slug, &project.name), None, None)?;
        tx.delete(keys::project_id_guard(project_id), None, None)?;
        tx.put_when(pending_marker(slug, project_id), None, None)?;
        tx.update(
            keys::organization(slug),
            Expression::change_counters(&[("project_count", -1)])
                .add_to_set(
                    "deleted_project_ids",
                    AttributeValue::Ns(vec![project_id.to_string()]),
                )
                .delete_from_set(
                    "project_ids",
                    AttributeValue::Ns(vec![project_id.to_string()]),
                ),
            // New members are linked to the default project: it must outlive every other.
            Some(
                Expression::item_present().and(
                    Expression::new(
                        "attribute_not_exists(#default_project) OR #default_project <> :project",
                    )
                    .name("#default_project", "default_project_id")
                    .value(":project", AttributeValue::N(project_id.to_string())),
                ),
            ),
            Some(DEFAULT_PROJECT_LABEL),
        )?;
        store
            .transact(tx)
            .await
            .on_condition(DEFAULT_PROJECT_LABEL, || {
                DomainError::Conflict(DEFAULT_PROJECT_KEPT.into())
            })?;
        Ok::<_, DomainError>(())
    })
    .await
}

/// The marker saying project `project_id` of `slug` is being removed (found by
/// [`crate::maintenance::deletions`]).
pub fn pending_marker(slug: &str, project_id: i32) -> dispatch_store::Item {
    dispatch_store::Item::bare(
        &keys::pending_project_deletion(slug, project_id),
        "PendingDeletion",
    )
    .with_str("slug", slug)
}

/// Removes everything in the hidden project's partition, batch by batch until `budget` runs
/// out, then the project item and its pending-deletion marker. Finding the project already
/// removed (an organization deletion took it) is success: only the marker is left to remove.
pub async fn remove_contents(
    store: &Store,
    slug: &str,
    project_id: i32,
    budget: &Budget,
) -> Result<Removal, DomainError> {
    let keys = store
        .partition_keys(&keys::project_partition(slug, project_id))
        .await?;
    for batch in keys.chunks(CLEANUP_BATCH) {
        if budget.exhausted() {
            return Ok(Removal::CutShort);
        }
        forget_links(store, slug, project_id, batch).await?;
        store.delete_batch(batch).await?;
    }
    remove_instances(store, slug, project_id).await?;
    let marker = keys::pending_project_deletion(slug, project_id);
    let mut tx = Transaction::new();
    tx.delete(
        keys::project(slug, project_id),
        Some(
            Expression::new("#deleted = :true")
                .name("#deleted", "deleted")
                .value(":true", AttributeValue::Bool(true)),
        ),
        Some(PROJECT_LABEL),
    )?;
    tx.delete(marker.clone(), None, None)?;
    match store.transact(tx).await {
        Err(StoreError::ConditionFailed { label }) if label == PROJECT_LABEL => {
            store.delete_batch(&[marker]).await?;
        }
        other => other?,
    }
    // No summary names the project any more: readers need not be told it is deleted.
    match store
        .update_if(
            &keys::organization(slug),
            Expression::new("").delete_from_set(
                "deleted_project_ids",
                AttributeValue::Ns(vec![project_id.to_string()]),
            ),
            Expression::item_present(),
            "organization",
        )
        .await
    {
        Err(StoreError::ConditionFailed { .. }) | Ok(()) => {}
        Err(error) => return Err(error.into()),
    }
    Ok(Removal::Done)
}

/// Takes the project out of the summaries of the members whose links are among `batch`,
/// before the links go (a remover cut short does it again).
async fn forget_links(
    store: &Store,
    slug: &str,
    project_id: i32,
    batch: &[dispatch_store::Key],
) -> Result<(), DomainError> {
    use futures_util::{StreamExt, TryStreamExt};
    let members: Vec<i32> = batch
        .iter()
        .filter_map(|key| key.sk.strip_prefix("USER#")?.parse::<i32>().ok())
        .collect();
    futures_util::stream::iter(members)
        .map(|user_id| crate::member_update::forget_project(store, slug, user_id, project_id))
        .buffer_unordered(16)
        .try_collect::<Vec<()>>()
        .await
        .map(|_| ())
}

/// The label of the still-hidden condition on the project item when it is finally removed.
const PROJECT_LABEL: &str = "project";

/// Removes the project's plugin instances, their active-instance guards and the plugin
/// backfill's records. Each instance is deleted on the condition that it is still there, so
/// two removers at once (a repeated `DELETE` and the maintenance job) count each out of the
/// organization's `instance_count` once; a lost race reads the rest again. An organization
/// removed meanwhile took the instances with it.
async fn remove_instances(store: &Store, slug: &str, project_id: i32) -> Result<(), DomainError> {
    let partition = keys::org_partition(slug);
    for prefix in [
        format!("ACTIVE#{project_id}#"),
        keys::plugin_given_prefix(project_id),
    ] {
        let keys: Vec<_> = store
            .query_prefix(Source::Table, &partition, &prefix)
            .await?
            .iter()
            .map(dispatch_store::item::key_of)
            .collect();
        for batch in keys.chunks(CLEANUP_BATCH) {
            store.delete_batch(batch).await?;
        }
    }
    for _ in 0..INSTANCE_ROUNDS {
        // The organization's partition, read consistently: an index could miss an instance
        // created just before the project was hidden.
        let instances: Vec<i32> = store
            .query_prefix(Source::Table, &partition, "INSTANCE#")
            .await?
            .into_iter()
            .filter(|item| number_attribute(item, "project_id") == Some(i64::from(project_id)))
            .filter_map(|item| number_attribute(&item, "id"))
            .map(|id| id as i32)
            .collect();
        let mut lost_a_race = false;
        for chunk in instances.chunks(INSTANCES_PER_TRANSACTION) {
            let mut tx = Transaction::new();
            for id in chunk {
                tx.delete(
                    keys::plugin_instance(slug, *id),
                    Some(Expression::item_present()),
                    Some(INSTANCE_LABEL),
                )?;
            }
            crate::plugins::instances::count_instances(&mut tx, slug, -(chunk.len() as i64))?;
            match store.transact(tx).await {
                Ok(()) => {}
                Err(StoreError::ConditionFailed { label }) if label == INSTANCE_LABEL => {
                    lost_a_race = true;
                }
                Err(StoreError::ConditionFailed { label })
                    if label == crate::organizations::ORGANIZATION_LABEL =>
                {
                    return Ok(());
                }
                Err(error) => return Err(error.into()),
            }
        }
        if !lost_a_race {
            return Ok(());
        }
    }
    // Another remover keeps winning: it is removing them, and counting them out.
    Ok(())
}

/// Instances removed per transaction (with the count update).
const INSTANCES_PER_TRANSACTION: usize = 40;
/// Reads of the remaining instances before leaving them to a concurrent remover.
const INSTANCE_ROUNDS: usize = 5;
/// The label of an instance's "still there" condition.
const INSTANCE_LABEL: &str = "instance";

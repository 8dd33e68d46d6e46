//! `reconcile-counters`: recounts what each counter counts and repairs drift.
//!
//! The counters: each organization's `member_count`, `project_count` (projects not being
//! deleted) and `instance_count` (the `total` of its three lists), and the collection counts
//! of all organizations, plugins and plugin events.
//!
//! A repair must never undo a change that happened while the job counted. Every counter change
//! also adds one to the item's `counter_changes` ([`Expression::change_counters`]), so the job
//! reads that number, counts, and writes the new value on the condition that the number has
//! not moved: any join, creation or deletion in between (even a join and a leave that cancel
//! out) fails the condition, and the counter is left for the next run.
//!
//! An organization's items are counted with consistent reads of its partition. The collection
//! counts are counted on their list index, which lags the table slightly: they are recounted
//! only when their last change is [`QUIET_FOR`] old, so the index has every change the count
//! says it has.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;

use super::JobContext;
use super::context::finding;
use super::organizations::page_after;
use crate::error::DomainError;
use dispatch_store::expression::{COUNTER_CHANGES, COUNTERS_CHANGED_AT};
use dispatch_store::item::number_attribute;
use dispatch_store::keys::{self, collection};
use dispatch_store::schema::LIST1;
use dispatch_store::{Attributes, Expression, Source, Store, StoreError};

/// How long a collection count must have been unchanged before it is recounted on its index.
pub const QUIET_FOR: Duration = Duration::from_secs(60);

/// The collection counts, counted on the organizations / plugins / plugin events lists.
const COLLECTIONS: [&str; 3] = [
    collection::ORGANIZATIONS,
    collection::PLUGINS,
    collection::PLUGIN_EVENTS,
];

/// Runs the job: the collection counts at the start of each pass, then every organization
/// from the checkpoint on.
pub async fn run(ctx: &mut JobContext<'_>) -> Result<(), DomainError> {
    if ctx.cursor().is_none() {
        for name in COLLECTIONS {
            reconcile_collection(ctx, name).await?;
        }
    }
    loop {
        let page = page_after(ctx.store, ctx.cursor()).await?;
        if page.is_empty() {
            return ctx.checkpoint(None).await;
        }
        for position in page {
            if ctx.out_of_time() {
                return Ok(());
            }
            match reconcile_organization(ctx, &position.slug).await {
                Ok(()) => {}
                Err(DomainError::Unavailable) => return Err(DomainError::Unavailable),
                // One unreadable item must not stop every organization after it.
                Err(error) => ctx.found(finding(
                    "organization_skipped",
                    format!("organization {}", position.slug),
                    format!("not recounted: {error}"),
                )),
            }
            ctx.checkpoint(Some(position.cursor)).await?;
        }
    }
}

/// A counter as stored and as counted.
struct Recount {
    attribute: &'static str,
    stored: i64,
    counted: i64,
}

/// Recounts one organization's members, projects and instances.
async fn reconcile_organization(ctx: &mut JobContext<'_>, slug: &str) -> Result<(), DomainError> {
    let key = keys::organization(slug);
    let Some(item) = ctx.store.get_attributes(&key).await? else {
        return Ok(());
    };
    if item.get("deleted").and_then(|v| v.as_bool().ok()) == Some(&true) {
        return Ok(());
    }
    let changes = number_attribute(&item, COUNTER_CHANGES);
    let partition = keys::org_partition(slug);
    let not_deleted = Expression::new("attribute_not_exists(#deleted) OR #deleted = :false")
        .name("#deleted", "deleted")
        .value(":false", AttributeValue::Bool(false));
    let store = ctx.store;
    let (members, projects, instances) = tokio::try_join!(
        store.count_prefix(Source::Table, &partition, "MEMBER#", None),
        store.count_prefix(Source::Table, &partition, "PROJECT#", Some(&not_deleted)),
        store.count_prefix(Source::Table, &partition, "INSTANCE#", None),
    )?;
    ctx.examined(1 + members + projects + instances);
    if changed_since(ctx.store, &key, changes).await? {
        // Counted while the counters moved: the comparison means nothing; next run.
        return Ok(());
    }
    let recounts = [
        ("member_count", members),
        ("project_count", projects),
        ("instance_count", instances),
    ]
    .map(|(attribute, counted)| Recount {
        attribute,
        stored: number_attribute(&item, attribute).unwrap_or(0),
        counted: counted as i64,
    });
    let subject = format!("organization {slug}");
    // The organization must still be there and not being deleted (an update would recreate
    // it), and be the one counted, not another created since under the same slug.
    let same_organization = match number_attribute(&item, "id") {
        Some(id) => Expression::new("#organization_id = :organization_id")
            .value(":organization_id", AttributeValue::N(id.to_string())),
        None => Expression::new("attribute_not_exists(#organization_id)"),
    }
    .name("#organization_id", "id");
    let live = Some(Expression::item_live().and(same_organization));
    repair(ctx, &subject, &key, &recounts, changes, live).await
}

/// Recounts one collection count on its list index, if it has been quiet long enough.
async fn reconcile_collection(ctx: &mut JobContext<'_>, name: &str) -> Result<(), DomainError> {
    let key = keys::collection_count(name);
    let item: Attributes = ctx.store.get_attributes(&key).await?.unwrap_or_default();
    let changed_at = number_attribute(&item, COUNTERS_CHANGED_AT).unwrap_or(0);
    if crate::time::epoch_seconds() - changed_at < QUIET_FOR.as_secs() as i64 {
        return Ok(());
    }
    let counted = ctx
        .store
        .count_prefix(Source::Index(LIST1), name, "", None)
        .await?;
    ctx.examined(1 + counted);
    if changed_since(ctx.store, &key, number_attribute(&item, COUNTER_CHANGES)).await? {
        return Ok(());
    }
    let recount = Recount {
        attribute: "count",
        stored: number_attribute(&item, "count").unwrap_or(0),
        counted: counted as i64,
    };
    let changes = number_attribute(&item, COUNTER_CHANGES);
    repair(
        ctx,
        &format!("{name} total"),
        &key,
        &[recount],
        changes,
        None,
    )
    .await
}

/// Whether the item's counters changed since `changes` was read.
async fn changed_since(
    store: &Store,
    key: &keys::Key,
    changes: Option<i64>,
) -> Result<bool, StoreError> {
    let now = store.get_attributes(key).await?.unwrap_or_default();
    Ok(number_attribute(&now, COUNTER_CHANGES) != changes)
}

/// Writes the counted values where they differ, if the item's counters have not changed
/// since they were read (`changes`) and `condition` holds; reports each drift.
async fn repair(
    ctx: &mut JobContext<'_>,
    subject: &str,
    key: &keys::Key,
    recounts: &[Recount],
    changes: Option<i64>,
    condition: Option<Expression>,
) -> Result<(), DomainError> {
    let drifted: Vec<&Recount> = recounts.iter().filter(|r| r.stored != r.counted).collect();
    if drifted.is_empty() {
        return Ok(());
    }
    let describe = |r: &Recount| format!("{} was {}, counted {}", r.attribute, r.stored, r.counted);
    if ctx.dry_run {
        for recount in drifted {
            ctx.found(finding(recount.attribute, subject, describe(recount)));
        }
        return Ok(());
    }
    let repaired = match write_counts(ctx.store, key, &drifted, changes, condition).await {
        Ok(()) => true,
        Err(StoreError::ConditionFailed { .. }) => false,
        Err(error) => return Err(error.into()),
    };
    for recount in drifted {
        let detail = if repaired {
            format!("{}: set to {}", describe(recount), recount.counted)
        } else {
            format!(
                "{}: it changed while counting, left for the next run",
                describe(recount)
            )
        };
        ctx.found(super::Finding {
            repaired,
            ..finding(recount.attribute, subject, detail)
        });
    }
    Ok(())
}

async fn write_counts(
    store: &Store,
    key: &keys::Key,
    drifted: &[&Recount],
    changes: Option<i64>,
    condition: Option<Expression>,
) -> Result<(), StoreError> {
    let mut update = Expression::new("");
    let mut sets = Vec::new();
    for (i, recount) in drifted.iter().enumerate() {
        sets.push(format!("#recount{i} = :recount{i}"));
        update = update
            .name(&format!("#recount{i}"), recount.attribute)
            .value(
                &format!(":recount{i}"),
                AttributeValue::N(recount.counted.to_string()),
            );
    }
    update.text = format!("SET {} ADD #changes :one", sets.join(", "));
    let update = update
        .name("#changes", COUNTER_CHANGES)
        .value(":one", AttributeValue::N("1".into()));
    let unchanged = match changes {
        Some(seen) => Expression::new("#seen_changes = :seen_changes")
            .value(":seen_changes", AttributeValue::N(seen.to_string())),
        None => Expression::new("attribute_not_exists(#seen_changes)"),
    }
    .name("#seen_changes", COUNTER_CHANGES);
    let condition = match condition {
        Some(condition) => condition.and(unchanged),
        None => unchanged,
    };
    store.update_if(key, update, condition, "counters").await
}

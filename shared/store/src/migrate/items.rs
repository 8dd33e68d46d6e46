//! Item passes: a data migration's transform applied to every item of the table, resumably.
//!
//! The table is scanned in parallel segments (consistent reads). After each page, the segment's
//! position (`LastEvaluatedKey`) is saved in a checkpoint item, in a transaction conditional on
//! the runner still holding the lock. A run stopped anywhere (Ctrl-C, a crash, a lost lease)
//! continues at the next run from each segment's last checkpoint: at most one page per segment
//! is read again, and since every write a transform asks for is conditional ("not applied
//! yet"), reading it again applies nothing twice.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use futures_util::{StreamExt, future, stream};

use super::{MigrationError, Run};
use crate::item::{Attributes, key_attributes};
use crate::{Expression, Item, Key, Store, StoreError, Transaction, keys};

/// One write a transform asks for. Each is conditional, so applying it twice is impossible.
#[derive(Debug, Clone)]
pub enum ItemWrite {
    /// Put an item that must not exist yet.
    PutNew(Item),
    /// Update `key` if `condition` (which says "not applied yet") holds.
    Update {
        key: Key,
        update: Expression,
        condition: Expression,
    },
    /// Delete `key` if `condition` holds.
    Delete { key: Key, condition: Expression },
}

/// A transform over every item that matches `filter`.
pub struct ItemPass<'a> {
    /// Names the pass in its checkpoints (a migration may make several).
    pub name: &'static str,
    /// A scan filter, so only candidate items cross the network.
    pub filter: Option<Expression>,
    /// Parallel scan segments.
    pub segments: u32,
    /// Items read per scan page (and per checkpoint).
    pub page_size: i32,
    /// The writes an item needs (none for most).
    pub transform: &'a (dyn Fn(&Attributes) -> Vec<ItemWrite> + Send + Sync),
}

/// What a pass did in this run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassReport {
    pub scanned: u64,
    pub written: u64,
    /// Writes whose condition said they were applied already (by an interrupted run).
    pub already_applied: u64,
    /// Segments that started from a checkpoint rather than from the beginning.
    pub resumed_segments: u32,
}

/// How many conditional writes of one page run at once.
const WRITES_IN_FLIGHT: usize = 16;

/// Runs `pass` to the end (or to the first error, leaving its checkpoints for the next run).
pub async fn run_pass(run: &Run<'_>, pass: &ItemPass<'_>) -> Result<PassReport, MigrationError> {
    let segments = (0..pass.segments).map(|segment| run_segment(run, pass, segment));
    let mut total = PassReport::default();
    for report in future::join_all(segments).await {
        let report = report?;
        total.scanned += report.scanned;
        total.written += report.written;
        total.already_applied += report.already_applied;
        total.resumed_segments += report.resumed_segments;
    }
    Ok(total)
}

async fn run_segment(
    run: &Run<'_>,
    pass: &ItemPass<'_>,
    segment: u32,
) -> Result<PassReport, MigrationError> {
    let store = run.store;
    let checkpoint =
        keys::migration_checkpoint(run.migration, run.direction.as_str(), pass.name, segment);
    let saved = store.get_attributes(&checkpoint).await?;
    if saved
        .as_ref()
        .and_then(|c| c.get("done"))
        .and_then(|v| v.as_bool().ok())
        == Some(&true)
    {
        return Ok(PassReport::default());
    }
    let mut start: Option<HashMap<String, AttributeValue>> = saved
        .as_ref()
        .and_then(|c| c.get("start_key"))
        .and_then(|v| v.as_m().ok())
        .cloned();
    let mut report = PassReport {
        resumed_segments: u32::from(start.is_some()),
        ..PassReport::default()
    };
    loop {
        run.lease.check()?;
        let mut scan = store
            .client()
            .scan()
            .table_name(store.table())
            .segment(segment as i32)
            .total_segments(pass.segments as i32)
            .consistent_read(true)
            .limit(pass.page_size)
            .set_exclusive_start_key(start.clone());
        if let Some(filter) = &pass.filter {
            scan = scan
                .filter_expression(&filter.text)
                .set_expression_attribute_names(filter.names_option())
                .set_expression_attribute_values(filter.values_option());
        }
        let page = scan.send().await.map_err(StoreError::from_sdk)?;
        let items = page.items.unwrap_or_default();
        report.scanned += page.scanned_count.max(0) as u64;
        run.add_scanned(page.scanned_count.max(0) as u64);
        let writes: Vec<ItemWrite> = items.iter().flat_map(|i| (pass.transform)(i)).collect();
        // Write only while the lease is surely ours (the scan may have taken a while).
        run.lease.check()?;
        let outcomes: Vec<Result<bool, StoreError>> = stream::iter(writes)
            .map(|write| apply(store, write))
            .buffer_unordered(WRITES_IN_FLIGHT)
            .collect()
            .await;
        for outcome in outcomes {
            if outcome? {
                report.written += 1;
                run.add_touched(1);
            } else {
                report.already_applied += 1;
            }
        }
        start = page.last_evaluated_key;
        save_checkpoint(run, pass, &checkpoint, start.as_ref()).await?;
        run.progress.line(&format!(
            "migration {} {}: pass {} segment {}/{}: {} item(s) read, {} written",
            run.migration,
            run.direction.as_str(),
            pass.name,
            segment + 1,
            pass.segments,
            report.scanned,
            report.written
        ));
        if start.is_none() {
            return Ok(report);
        }
    }
}

/// Saves how far a segment got (`None`: it is done), if the lock is still this runner's.
async fn save_checkpoint(
    run: &Run<'_>,
    pass: &ItemPass<'_>,
    checkpoint: &Key,
    start: Option<&HashMap<String, AttributeValue>>,
) -> Result<(), MigrationError> {
    let mut item = Item::bare(checkpoint, "MigrationCheckpoint")
        .with_value("done", AttributeValue::Bool(start.is_none()))
        .with_value("segments", AttributeValue::N(pass.segments.to_string()))
        .with_str("checksum", run.checksum.clone());
    if let Some(start) = start {
        item = item.with_value("start_key", AttributeValue::M(start.clone()));
    }
    let mut tx = Transaction::new();
    tx.put_when(item, None, None)?;
    run.lease.guard(&mut tx)?;
    run.store
        .transact(tx)
        .await
        .map_err(super::lock::Lease::map_error)
}

/// The outcome of one conditional write: `Ok(false)` when its condition failed.
macro_rules! conditional {
    ($sent:expr) => {
        match $sent {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(StoreError::from_sdk(e)),
        }
    };
}

/// Applies one write; `Ok(false)` when its condition says it was applied already.
async fn apply(store: &Store, write: ItemWrite) -> Result<bool, StoreError> {
    let client = store.client();
    match write {
        ItemWrite::PutNew(item) => {
            let condition = Expression::item_absent();
            conditional!(
                client
                    .put_item()
                    .table_name(store.table())
                    .set_item(Some(item.into_attributes()))
                    .condition_expression(&condition.text)
                    .set_expression_attribute_names(condition.names_option())
                    .send()
                    .await
            )
        }
        ItemWrite::Update {
            key,
            update,
            condition,
        } => {
            let mut placeholders = update.clone();
            placeholders.names.extend(condition.names.clone());
            placeholders.values.extend(condition.values.clone());
            conditional!(
                client
                    .update_item()
                    .table_name(store.table())
                    .set_key(Some(key_attributes(&key)))
                    .update_expression(&update.text)
                    .condition_expression(&condition.text)
                    .set_expression_attribute_names(placeholders.names_option())
                    .set_expression_attribute_values(placeholders.values_option())
                    .send()
                    .await
            )
        }
        ItemWrite::Delete { key, condition } => conditional!(
            client
                .delete_item()
                .table_name(store.table())
                .set_key(Some(key_attributes(&key)))
                .condition_expression(&condition.text)
                .set_expression_attribute_names(condition.names_option())
                .set_expression_attribute_values(condition.values_option())
                .send()
                .await
        ),
    }
}

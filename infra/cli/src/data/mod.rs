//! `dispatch database dump | restore | drop | backup`: whole-table data operations.
//!
//! # Dump format
//! A dump is JSON Lines: one item per line, in DynamoDB JSON, the wire format of
//! `AttributeValue` (`{"pk":{"S":"USER#1"},"sk":{"S":"USER"},"version":{"N":"2"}}`), the same
//! shape `aws dynamodb scan` prints per item. Attribute names, nested map keys and set members
//! are sorted ([`codec`]), so dumps of equal tables are byte-identical once their lines are
//! sorted (the scan order of segments is not stable). A file ending in `.gz` is gzip.
//!
//! Every function here takes a [`Store`] and its readers/writers, so tests call them directly;
//! the `run` functions only add the terminal (progress, prompts, `--output`).

pub mod backup;
pub mod codec;
pub mod drop;
pub mod dump;
pub mod progress;
pub mod restore;

use aws_sdk_dynamodb::types::Select;
use clap::ValueEnum;
use dispatch_store::{Store, StoreError};
use serde_json::Value;
use tokio::task::JoinSet;

/// How a command prints its report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned `field  value` rows, for people.
    #[default]
    Table,
    /// One JSON object, for scripts.
    Json,
}

/// Renders a report (a flat JSON object) as `format`; one string, newline-terminated.
pub fn render(report: &Value, format: OutputFormat) -> String {
    match format {
        OutputFormat::Json => format!("{report}\n"),
        OutputFormat::Table => {
            let Some(fields) = report.as_object() else {
                return format!("{report}\n");
            };
            let width = fields.keys().map(|k| k.len()).max().unwrap_or(0);
            fields
                .iter()
                .map(|(name, value)| {
                    let value = match value {
                        Value::String(s) => s.clone(),
                        Value::Null => "-".into(),
                        other => other.to_string(),
                    };
                    format!("{name:<width$}  {value}\n")
                })
                .collect()
        }
    }
}

/// The table's approximate item count (DescribeTable's, refreshed by AWS about every six
/// hours): the progress bar's length. A missing table is a one-line error.
pub async fn describe(store: &Store) -> anyhow::Result<u64> {
    match store
        .client()
        .describe_table()
        .table_name(store.table())
        .send()
        .await
    {
        Ok(output) => Ok(output
            .table
            .and_then(|t| t.item_count)
            .map_or(0, |n| n.max(0) as u64)),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            anyhow::bail!("table `{}` does not exist", store.table())
        }
        Err(e) => Err(StoreError::from_sdk(e).into()),
    }
}

/// Whether the table holds no item (one consistent read of at most one item).
pub async fn is_empty(store: &Store) -> anyhow::Result<bool> {
    let page = store
        .client()
        .scan()
        .table_name(store.table())
        .limit(1)
        .consistent_read(true)
        .select(Select::Count)
        .send()
        .await
        .map_err(StoreError::from_sdk)?;
    // A page may count nothing yet still point further on: only the end of the table is empty.
    Ok(page.count == 0 && page.last_evaluated_key.is_none())
}

/// The exact item count: a consistent parallel scan with `Select=COUNT` (reads every item's
/// capacity, returns none of them).
pub async fn count_items(store: &Store, segments: u32) -> anyhow::Result<u64> {
    let mut tasks = JoinSet::new();
    for segment in 0..segments {
        let store = store.clone();
        tasks.spawn(async move {
            let mut count = 0u64;
            let mut start = None;
            loop {
                let page = store
                    .client()
                    .scan()
                    .table_name(store.table())
                    .segment(segment as i32)
                    .total_segments(segments as i32)
                    .consistent_read(true)
                    .select(Select::Count)
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(StoreError::from_sdk)?;
                count += page.count.max(0) as u64;
                start = page.last_evaluated_key;
                if start.is_none() {
                    return Ok::<_, StoreError>(count);
                }
            }
        });
    }
    let mut total = 0;
    while let Some(joined) = tasks.join_next().await {
        total += joined??;
    }
    Ok(total)
}

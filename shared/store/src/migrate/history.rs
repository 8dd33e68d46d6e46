//! The version the table is at and what was applied to it.
//!
//! `META / SCHEMA` holds `schema_version`, the one number functions check at start-up. Each
//! change of it (`init`, `up`, `down`, `stamp`) adds a `META / HISTORY#<when>#<migration>` entry
//! in the same transaction, so the history and the version never disagree.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use crate::{Expression, Item, Source, Store, StoreError, Transaction, from_attributes, keys};

/// One applied change of the schema version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The migration (for `up`/`down`), or the version stamped or initialised.
    pub migration: u32,
    /// `init`, `up`, `down` or `stamp`.
    pub direction: String,
    pub from_version: u32,
    pub to_version: u32,
    pub description: String,
    /// The migration's checksum when it ran (empty for `stamp` and `init`).
    pub checksum: String,
    /// Who ran it (user, host, process).
    pub applied_by: String,
    /// When it finished (UTC, RFC 3339).
    pub applied_at: String,
    pub duration_ms: u64,
    pub items_touched: u64,
    /// Items its item passes read in the run that finished it (a resumed run reads only what
    /// its checkpoints do not cover).
    #[serde(default)]
    pub items_scanned: u64,
}

/// The label of the version condition: another runner changed the version meanwhile.
pub const VERSION_LABEL: &str = "schema_version";

/// The version the table is at (`None` before `database init`).
pub async fn current(store: &Store) -> Result<Option<u32>, StoreError> {
    Ok(crate::schema::recorded_version(store)
        .await?
        .map(|v| u32::try_from(v).unwrap_or(0)))
}

/// Every entry, oldest first.
pub async fn entries(store: &Store) -> Result<Vec<HistoryEntry>, StoreError> {
    store
        .query_prefix(
            Source::Table,
            &keys::schema().pk,
            keys::MIGRATION_HISTORY_PREFIX,
        )
        .await?
        .into_iter()
        .map(from_attributes)
        .collect()
}

/// The checksum each migration had when it was last applied upwards.
pub fn applied_checksums(entries: &[HistoryEntry]) -> std::collections::BTreeMap<u32, String> {
    entries
        .iter()
        .filter(|e| e.direction == "up")
        .map(|e| (e.migration, e.checksum.clone()))
        .collect()
}

/// Adds to `tx`: the version moves from `from` (`None`: no version recorded yet) to
/// `entry.to_version`, and `entry` joins the history.
pub fn record(
    tx: &mut Transaction,
    from: Option<u32>,
    entry: &HistoryEntry,
) -> Result<(), StoreError> {
    let marker = Item::bare(&keys::schema(), "Schema")
        .with_number("schema_version", i64::from(entry.to_version))
        .with_str("applied_at", entry.applied_at.clone());
    let condition = match from {
        None => Expression::item_absent(),
        Some(from) => Expression::new("#version = :from")
            .name("#version", "schema_version")
            .value(":from", AttributeValue::N(from.to_string())),
    };
    tx.put_when(marker, Some(condition), Some(VERSION_LABEL))?;
    tx.put_new(
        Item::new(
            &keys::migration_history(&entry.applied_at, entry.migration),
            "MigrationHistory",
            entry,
        )?,
        "history",
    )?;
    Ok(())
}

/// Now, as history entries write it.
pub fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Who is running this process: `$USER@$HOSTNAME pid N`.
pub fn runner_name() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{user}@{host} pid {}", std::process::id())
}

//! `dispatch database backup`: an on-demand AWS backup (`CreateBackup`) named
//! `<table>-<UTC timestamp>`, kept by AWS until deleted and restorable from the console or
//! `aws dynamodb restore-table-from-backup`. DynamoDB Local has no backups: it answers
//! `UnknownOperationException`, which becomes a one-line pointer to `dump`.

use anyhow::bail;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use clap::Args;
use dispatch_store::{Store, StoreError};
use serde_json::json;

use super::{OutputFormat, render};
use crate::target::Target;

/// The message for endpoints without backups.
pub const NOT_AVAILABLE: &str =
    "backups are not available on this endpoint (DynamoDB Local): use `dispatch database dump`";

/// `dispatch database backup` arguments.
#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// How to print the report.
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Runs `dispatch database backup`.
pub async fn run(args: BackupArgs, target: &Target) -> anyhow::Result<()> {
    let report = backup(&target.store()).await?;
    print!("{}", render(&report, args.output));
    Ok(())
}

/// The backup name for `table` at `now`: backup names allow 3–255 of `[A-Za-z0-9_.-]`, as
/// table names do, so only the length needs care.
pub fn backup_name(table: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    let stamp = now.format("%Y%m%dT%H%M%SZ").to_string();
    let room = 255 - stamp.len() - 1;
    let table: String = table.chars().take(room).collect();
    format!("{table}-{stamp}")
}

/// Creates the backup; returns its report (table, name, ARN, status).
pub async fn backup(store: &Store) -> anyhow::Result<serde_json::Value> {
    super::describe(store).await?;
    let name = backup_name(store.table(), chrono::Utc::now());
    let output = match store
        .client()
        .create_backup()
        .table_name(store.table())
        .backup_name(&name)
        .send()
        .await
    {
        Ok(output) => output,
        Err(e) if e.code() == Some("UnknownOperationException") => bail!(NOT_AVAILABLE),
        Err(e) => return Err(StoreError::from_sdk(e).into()),
    };
    let details = output.backup_details;
    Ok(json!({
        "table": store.table(),
        "backup_name": name,
        "backup_arn": details.as_ref().map(|d| d.backup_arn.clone()),
        "status": details.as_ref().map(|d| d.backup_status.as_str().to_owned()),
    }))
}

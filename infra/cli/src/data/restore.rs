//! `dispatch database restore FILE`: writes a dump into a table, then counts the table.
//!
//! The table is created with the schema when missing (`schema::ensure_table`, the same code as
//! `database init`, which is not used here because it seeds data). A table that already holds
//! items is refused unless `--force`: a restore is meant to reproduce a table, not merge into
//! one. Items are written with `Store::put_batch` (25 per request, unprocessed ones retried
//! with jittered backoff), several batches at a time; items that still could not be written
//! are reported by key, and running the restore again with `--force` writes them (puts are
//! idempotent). A migration runner's lock and checkpoints in the dump are not restored.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::{Context, bail};
use clap::Args;
use dispatch_store::schema::{self, TableOutcome};
use dispatch_store::{Item, Key, Store, StoreError};
use flate2::read::MultiGzDecoder;
use serde_json::json;
use tokio::task::JoinSet;

use super::progress::Progress;
use super::{OutputFormat, codec, render};
use crate::target::Target;

/// Items per `put_batch` call (each is sent as requests of 25).
const ITEMS_PER_TASK: usize = 100;

/// `dispatch database restore` arguments.
#[derive(Debug, Clone, Args)]
pub struct RestoreArgs {
    /// The dump to read: a file (gzip when it ends in `.gz`), or `-` for standard input.
    pub file: String,
    /// Write into a table that already holds items.
    #[arg(long)]
    pub force: bool,
    /// Batch writes in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: u32,
    /// How to print the report.
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    pub table: String,
    pub table_created: bool,
    /// Whether the table held items before (only with `--force`).
    pub had_items: bool,
    pub items_written: u64,
    /// The table's item count after the restore (a consistent `Select=COUNT` scan).
    pub items_counted: u64,
}

impl RestoreReport {
    /// Whether the count matches what was written (always, into an empty table).
    pub fn verified(&self) -> bool {
        self.items_counted == self.items_written
    }

    /// The report as a flat JSON object (`--output json`; `table` prints its rows).
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "table": self.table,
            "table_created": self.table_created,
            "had_items": self.had_items,
            "items_written": self.items_written,
            "items_counted": self.items_counted,
            "verified": self.verified(),
        })
    }
}

/// Runs `dispatch database restore`.
pub async fn run(args: RestoreArgs, target: &Target) -> anyhow::Result<()> {
    let store = target.store();
    let progress = Progress::stderr(&format!("restore {}", store.table()), None);
    let report = if args.file == "-" {
        let input = std::io::stdin().lock();
        restore(&store, input, args.force, args.concurrency, &progress).await?
    } else {
        restore_file(
            &store,
            Path::new(&args.file),
            args.force,
            args.concurrency,
            &progress,
        )
        .await?
    };
    print!("{}", render(&report.to_json(), args.output));
    Ok(())
}

/// Restores the dump in `path` (gzip when it ends in `.gz`).
pub async fn restore_file(
    store: &Store,
    path: &Path,
    force: bool,
    concurrency: u32,
    progress: &Progress,
) -> anyhow::Result<RestoreReport> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    if super::dump::is_gzip(path) {
        let input = BufReader::new(MultiGzDecoder::new(file));
        restore(store, input, force, concurrency, progress).await
    } else {
        restore(store, BufReader::new(file), force, concurrency, progress).await
    }
}

/// Restores the dump read from `input` into the store's table, creating the table if missing;
/// refuses a table with items unless `force`. Fails when the count after writing does not match
/// into a table that was empty.
/// A migration runner's lock or checkpoint, in a dump taken while a migration ran: restoring
/// the lock would block runners until its lease ends, and checkpoints describe a scan of the
/// old table (dropping them is safe: the interrupted pass runs again, its writes idempotent).
fn is_runner_state(
    item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
) -> bool {
    let text = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .map(String::as_str)
    };
    let lock = dispatch_store::keys::migration_lock();
    text("pk") == Some(lock.pk.as_str())
        && text("sk").is_some_and(|sk| sk == lock.sk || sk.starts_with("CHECKPOINT#"))
}

pub async fn restore(
    store: &Store,
    input: impl BufRead,
    force: bool,
    concurrency: u32,
    progress: &Progress,
) -> anyhow::Result<RestoreReport> {
    let table = store.table().to_owned();
    let outcome = schema::ensure_table(store.client(), &table)
        .await
        .with_context(|| format!("creating the table `{table}`"))?;
    let had_items = !super::is_empty(store).await?;
    if had_items && !force {
        bail!(
            "table `{table}` is not empty: restore writes into an empty table (pass --force to write into it anyway)"
        );
    }
    let mut writers: JoinSet<Result<u64, StoreError>> = JoinSet::new();
    let mut written = 0u64;
    let mut unwritten: Vec<Key> = Vec::new();
    let mut failure: Option<String> = None;
    let mut chunk: Vec<Item> = Vec::with_capacity(ITEMS_PER_TASK);
    let mut lines = input.lines().enumerate();
    loop {
        // Read the next chunk (stop reading once a write has failed).
        let mut done_reading = failure.is_some();
        while !done_reading && chunk.len() < ITEMS_PER_TASK {
            match lines.next() {
                None => done_reading = true,
                Some((number, line)) => {
                    let line = line.with_context(|| format!("reading line {}", number + 1))?;
                    if line.trim().is_empty() {
                        continue;
                    }
                    let item = codec::from_line(&line)
                        .with_context(|| format!("line {} of the dump", number + 1))?;
                    if is_runner_state(&item) {
                        continue;
                    }
                    chunk.push(Item::from_raw(item));
                }
            }
        }
        if !chunk.is_empty() && failure.is_none() {
            let batch = std::mem::take(&mut chunk);
            let store = store.clone();
            writers.spawn(async move {
                let n = batch.len() as u64;
                store.put_batch(batch).await.map(|()| n)
            });
        }
        // Keep at most `concurrency` batches in flight; drain all at the end.
        while writers.len() >= concurrency as usize || (done_reading && !writers.is_empty()) {
            match writers.join_next().await.expect("not empty")? {
                Ok(n) => {
                    written += n;
                    progress.set(written);
                }
                Err(StoreError::BatchIncomplete {
                    unwritten: keys,
                    cause,
                }) => {
                    unwritten.extend(keys);
                    failure.get_or_insert(cause);
                }
                Err(e) => {
                    failure.get_or_insert(e.to_string());
                }
            }
        }
        if done_reading && writers.is_empty() {
            break;
        }
    }
    progress.finish(written);
    if let Some(cause) = failure {
        // The first failure stopped the reading: the rest of the dump was not sent at all.
        let what = if unwritten.is_empty() {
            cause
        } else {
            StoreError::BatchIncomplete { unwritten, cause }.to_string()
        };
        bail!(
            "restore stopped after {written} items, the rest of the dump unread: {what}; run it again with --force to finish"
        );
    }
    let report = RestoreReport {
        table,
        table_created: outcome == TableOutcome::Created,
        had_items,
        items_written: written,
        items_counted: super::count_items(store, 4).await?,
    };
    if !had_items && !report.verified() {
        bail!(
            "verification failed: wrote {} items but `{}` holds {}",
            report.items_written,
            report.table,
            report.items_counted
        );
    }
    Ok(report)
}

//! Throughput of `dispatch database dump` and `restore` (BENCHMARKS.md): 100,000 small items
//! seeded with parallel `put_batch` into a fresh table, dumped to a file (plain and gzip) by the
//! CLI's own code, then restored into a second fresh table. Prints items per second.
//!
//! Run with the local stack up: `cargo run --release -p dispatch-tests --example data_ops`.

#[path = "local_stack.rs"]
mod local_stack;

use std::path::Path;
use std::time::Instant;

use dispatch_cli::data::{dump, progress::Progress, restore};
use dispatch_domain::aws_sdk::{CallBounds, load_sdk_config};
use dispatch_store::{Item, Key, Store, schema};
use tokio::task::JoinSet;

const ITEMS: usize = 100_000;
const ITEMS_PER_TASK: usize = 1_000;
const SEED_CONCURRENCY: usize = 8;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // The test profile's environment, then the CLI's own call bounds (scans and batches).
    local_stack::sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&load_sdk_config(CallBounds::ADMIN).await);
    let run = uuid::Uuid::new_v4().simple().to_string();
    let source = Store::new(client.clone(), format!("bench-dump-{run}"));
    let copy = Store::new(client.clone(), format!("bench-restore-{run}"));
    schema::ensure_table(source.client(), source.table()).await?;

    let started = Instant::now();
    seed(&source).await?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "seed     {ITEMS} items in {seconds:.1} s: {:.0} items/s (put_batch, {SEED_CONCURRENCY} in flight)",
        ITEMS as f64 / seconds
    );

    let dir = std::env::temp_dir().join(format!("dispatch-bench-{run}"));
    std::fs::create_dir_all(&dir)?;
    for (name, segments) in [("dump.jsonl", 1), ("dump.jsonl", 4), ("dump.jsonl.gz", 4)] {
        let path = dir.join(name);
        let started = Instant::now();
        let items = dump::dump_file(&source, &path, segments, &Progress::hidden()).await?;
        let seconds = started.elapsed().as_secs_f64();
        assert_eq!(items as usize, ITEMS);
        println!(
            "dump     {items} items in {seconds:.1} s: {:.0} items/s ({segments} segment(s), {name}, {} bytes)",
            items as f64 / seconds,
            std::fs::metadata(&path)?.len()
        );
    }

    let started = Instant::now();
    let report = restore::restore_file(
        &copy,
        &dir.join("dump.jsonl.gz"),
        false,
        8,
        &Progress::hidden(),
    )
    .await?;
    let seconds = started.elapsed().as_secs_f64();
    assert!(report.verified() && report.items_written as usize == ITEMS);
    println!(
        "restore  {} items in {seconds:.1} s: {:.0} items/s (8 batches in flight, count verified: {})",
        report.items_written,
        report.items_written as f64 / seconds,
        report.items_counted
    );

    cleanup(&client, &[source.table(), copy.table()], &dir).await;
    Ok(())
}

/// Writes ITEMS small items, `SEED_CONCURRENCY` batches of `ITEMS_PER_TASK` at a time.
async fn seed(store: &Store) -> anyhow::Result<()> {
    let mut writers = JoinSet::new();
    for start in (0..ITEMS).step_by(ITEMS_PER_TASK) {
        if writers.len() >= SEED_CONCURRENCY {
            writers.join_next().await.expect("in flight")??;
        }
        let store = store.clone();
        writers.spawn(async move {
            let items = (start..start + ITEMS_PER_TASK)
                .map(|i| {
                    Item::bare(&Key::new(format!("BENCH#{i:06}"), "ITEM"), "Bench")
                        .with_str("name", format!("item {i}"))
                        .with_number("n", i as i64)
                })
                .collect();
            store.put_batch(items).await
        });
    }
    while let Some(joined) = writers.join_next().await {
        joined??;
    }
    Ok(())
}

async fn cleanup(client: &aws_sdk_dynamodb::Client, tables: &[&str], dir: &Path) {
    for table in tables {
        let _ = client.delete_table().table_name(*table).send().await;
    }
    let _ = std::fs::remove_dir_all(dir);
}

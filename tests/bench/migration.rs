//! What a data migration costs (BENCHMARKS.md, migrations issue): migration 2's item pass over a
//! table of 100,000 items (10,000 of them hidden projects that get a marker), in items per
//! second; then the same migration killed halfway and resumed, and how much the resumed run
//! reads again. Release build, against the local stack:
//! `infra/local/stack.sh start test && cargo run --release -p dispatch-tests --example migration`.

#[path = "local_stack.rs"]
mod local_stack;

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use dispatch_domain::migrations;
use dispatch_store::migrate::Silent;
use dispatch_store::migrate::history;
use dispatch_store::migrate::runner::Runner;
use dispatch_store::{Item, Key, Store, keys};

const ITEMS: i32 = 100_000;
const HIDDEN_EVERY: i32 = 10;

async fn seeded_table(sdk: &aws_config::SdkConfig, name: &str) -> anyhow::Result<Store> {
    let store = Store::new(
        aws_sdk_dynamodb::Client::new(sdk),
        format!("bench-{name}-{}", uuid::Uuid::new_v4().simple()),
    );
    dispatch_cli::database::init(&store).await?;
    let items: Vec<Item> = (0..ITEMS)
        .map(|n| {
            if n % HIDDEN_EVERY == 0 {
                Item::bare(&keys::project("bench", 100_000 + n), "Project")
                    .with_value("deleted", AttributeValue::Bool(true))
            } else {
                Item::bare(
                    &Key::new(format!("FILLER#{}", n % 997), format!("ITEM#{n}")),
                    "Filler",
                )
                .with_str("payload", "x".repeat(64))
            }
        })
        .collect();
    let chunks: Vec<Vec<Item>> = items.chunks(2_500).map(<[Item]>::to_vec).collect();
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in chunks {
        let store = store.clone();
        tasks.spawn(async move { store.put_batch(chunk).await });
        while tasks.len() >= 8 {
            tasks.join_next().await.expect("task")??;
        }
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    let all = migrations::all();
    runner(&store, &all, "bench").stamp(1).await?;
    Ok(store)
}

fn runner<'a>(
    store: &'a Store,
    all: &'a [Box<dyn dispatch_store::migrate::Migration>],
    who: &str,
) -> Runner<'a> {
    Runner {
        store,
        migrations: all,
        holder: who.to_owned(),
        lease: Duration::from_secs(3),
        progress: &Silent,
    }
}

async fn markers(store: &Store) -> anyhow::Result<usize> {
    Ok(store
        .partition_keys(keys::PENDING_PROJECT_DELETIONS)
        .await?
        .len())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sdk = local_stack::sdk_config().await;
    let all = migrations::all();
    let hidden = (ITEMS / HIDDEN_EVERY) as usize;

    let store = seeded_table(&sdk, "migrate").await?;
    let started = Instant::now();
    let entries = runner(&store, &all, "bench").migrate(2).await?;
    let took = started.elapsed();
    let entry = &entries[0];
    let entry_scanned = entry.items_scanned;
    println!(
        "full run: {} items read, {} markers written in {:.1} s: {:.0} items read/s, {:.0} writes/s",
        entry.items_scanned,
        entry.items_touched,
        took.as_secs_f64(),
        entry.items_scanned as f64 / took.as_secs_f64(),
        entry.items_touched as f64 / took.as_secs_f64()
    );
    assert_eq!(markers(&store).await?, hidden);

    let store = seeded_table(&sdk, "resume").await?;
    let killed = {
        let store = store.clone();
        tokio::spawn(async move {
            let all = migrations::all();
            runner(&store, &all, "killed").migrate(2).await
        })
    };
    while markers(&store).await? < hidden / 2 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    killed.abort();
    let _ = killed.await;
    let done_before = markers(&store).await?;
    tokio::time::sleep(Duration::from_secs(3)).await; // the killed runner's lease ends
    let started = Instant::now();
    let entries = runner(&store, &all, "resumer").migrate(2).await?;
    let took = started.elapsed();
    // Both tables were seeded alike: the full run read the whole table once.
    let table = entry_scanned;
    println!(
        "resumed after {done_before} of {hidden} markers: read {} of the table's {table} items ({:.0}%), wrote {}, in {:.1} s",
        entries[0].items_scanned,
        100.0 * entries[0].items_scanned as f64 / table as f64,
        entries[0].items_touched,
        took.as_secs_f64()
    );
    assert_eq!(markers(&store).await?, hidden);
    assert_eq!(history::current(&store).await?, Some(2));
    Ok(())
}

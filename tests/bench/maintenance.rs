//! The maintenance jobs over 100,000 items (BENCHMARKS.md): `reconcile-counters` recounting
//! one organization of 100,000 members, then 1,000 organizations of 100 members each, both
//! with every counter drifted; and `check-guards` scanning the second table. Prints items per
//! second.
//!
//! Run with the local stack up: `cargo run --release -p dispatch-tests --example maintenance`.

#[path = "local_stack.rs"]
mod local_stack;

use std::time::Instant;

use dispatch_domain::aws_sdk::{CallBounds, load_sdk_config};
use dispatch_domain::maintenance::{self, Budget, Job, RunOptions, Summary};
use dispatch_store::keys::{self, collection, sort_value};
use dispatch_store::{Item, Store};
use tokio::task::JoinSet;

const MEMBERS: usize = 100_000;
const BATCH: usize = 1_000;
const SEED_CONCURRENCY: usize = 8;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    local_stack::sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&load_sdk_config(CallBounds::ADMIN).await);
    let run = uuid::Uuid::new_v4().simple().to_string();

    // One organization of 100,000 members.
    let one = Store::new(client.clone(), format!("bench-maint-one-{run}"));
    dispatch_cli::database::init(&one).await?;
    seed(&one, &[("default".to_owned(), MEMBERS)]).await?;
    report(
        "reconcile-counters, 1 organization x 100,000 members",
        run_job(&one, Job::ReconcileCounters).await?,
    );

    // 1,000 organizations of 100 members.
    let many = Store::new(client.clone(), format!("bench-maint-many-{run}"));
    dispatch_cli::database::init(&many).await?;
    let organizations: Vec<(String, usize)> = (0..1_000)
        .map(|i| (format!("org{i:04}"), MEMBERS / 1_000))
        .collect();
    seed(&many, &organizations).await?;
    report(
        "reconcile-counters, 1,000 organizations x 100 members",
        run_job(&many, Job::ReconcileCounters).await?,
    );
    report(
        "check-guards, the same table",
        run_job(&many, Job::CheckGuards).await?,
    );

    for table in [one.table(), many.table()] {
        let _ = client.delete_table().table_name(table).send().await;
    }
    Ok(())
}

async fn run_job(store: &Store, job: Job) -> anyhow::Result<(Summary, f64)> {
    let started = Instant::now();
    let summary = maintenance::run(
        store,
        job,
        RunOptions {
            holder: "bench".into(),
            budget: Budget::unbounded(),
            dry_run: false,
        },
    )
    .await?;
    Ok((summary, started.elapsed().as_secs_f64()))
}

fn report(what: &str, (summary, seconds): (Summary, f64)) {
    println!(
        "{what}: {} items examined in {seconds:.1} s = {:.0} items/s; found {}, repaired {} ({})",
        summary.examined,
        summary.examined as f64 / seconds,
        summary.found,
        summary.repaired,
        summary.outcome.as_str()
    );
}

/// Organizations (created as bare list entries where missing, with a drifted member count)
/// and their members, written with parallel batches.
async fn seed(store: &Store, organizations: &[(String, usize)]) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut items = Vec::new();
    for (n, (slug, members)) in organizations.iter().enumerate() {
        if slug != "default" {
            let id = 10_000 + n as i32;
            items.push(
                Item::bare(&keys::organization(slug), "Organization")
                    .with_str("slug", slug.clone())
                    .with_str("name", slug.clone())
                    .with_number("id", i64::from(id))
                    .with_number("member_count", 0)
                    .in_list(collection::ORGANIZATIONS, &[sort_value(slug, id)]),
            );
            items.push(
                Item::bare(
                    &keys::organization_name_guard(slug),
                    "OrganizationNameGuard",
                )
                .with_str("slug", slug.clone()),
            );
            items.push(
                Item::bare(&keys::organization_id_guard(id), "OrganizationIdGuard")
                    .with_str("slug", slug.clone()),
            );
        }
        for m in 0..*members {
            items.push(
                Item::bare(&keys::membership(slug, 1_000_000 + m as i32), "Membership")
                    .with_str("email", format!("member{m}@example.com"))
                    .with_str("role", "Member"),
            );
        }
    }
    let total = items.len();
    let mut writers = JoinSet::new();
    let mut chunks = items
        .chunks(BATCH)
        .map(<[Item]>::to_vec)
        .collect::<Vec<_>>()
        .into_iter();
    loop {
        while writers.len() < SEED_CONCURRENCY {
            let Some(chunk) = chunks.next() else { break };
            let store = store.clone();
            writers.spawn(async move { store.put_batch(chunk).await });
        }
        match writers.join_next().await {
            Some(joined) => joined??,
            None => break,
        }
    }
    println!(
        "seeded {total} items in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

//! `dispatch database current | history | heads | upgrade | downgrade | stamp | check`: the
//! schema migrations of `dispatch_domain::migrations`, run by `dispatch_store::migrate`.

use clap::Subcommand;
use dispatch_domain::migrations::{self, HEAD, SUPPORTED};
use dispatch_store::Store;
use dispatch_store::migrate::Migration;
use dispatch_store::migrate::history::{self, HistoryEntry};
use dispatch_store::migrate::indexes::{drift, expected_indexes};
use dispatch_store::migrate::lock::DEFAULT_LEASE;
use dispatch_store::migrate::runner::{self, Plan, Runner};
use serde_json::{Value, json};

mod progress;

use crate::data::{OutputFormat, render};
use crate::target::Target;
use progress::StepProgress;

/// The migration subcommands of `dispatch database`.
#[derive(Debug, Subcommand)]
pub enum MigrationCommand {
    /// The schema version the table is at, and this build's.
    Current {
        #[arg(long, value_enum, default_value_t)]
        output: OutputFormat,
    },
    /// Every change of the schema version: what, who, when, how long, items touched.
    History {
        #[arg(long, value_enum, default_value_t)]
        output: OutputFormat,
    },
    /// The migrations this build knows, and its head version.
    Heads {
        #[arg(long, value_enum, default_value_t)]
        output: OutputFormat,
    },
    /// Apply migrations up to --to (default: the head). Shows the plan and asks first.
    Upgrade {
        /// The version to reach.
        #[arg(long)]
        to: Option<u32>,
        /// Show the plan and stop.
        #[arg(long)]
        dry_run: bool,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Revert reversible migrations down to --to.
    Downgrade {
        #[arg(long)]
        to: u32,
        #[arg(long)]
        yes: bool,
    },
    /// Set the recorded version without running anything.
    Stamp {
        version: u32,
        #[arg(long)]
        yes: bool,
    },
    /// Compare the live table with the schema this build expects (indexes, keys, TTL) and its
    /// version with this build's; non-zero exit on any difference.
    Check {
        #[arg(long, value_enum, default_value_t)]
        output: OutputFormat,
    },
}

fn runner<'a>(
    store: &'a Store,
    all: &'a [Box<dyn Migration>],
    progress: &'a StepProgress,
) -> Runner<'a> {
    Runner {
        store,
        migrations: all,
        holder: history::runner_name(),
        lease: DEFAULT_LEASE,
        progress,
    }
}

async fn current_version(store: &Store) -> anyhow::Result<u32> {
    history::current(store).await?.ok_or_else(|| {
        anyhow::anyhow!("the table is not initialised (run `dispatch database init`)")
    })
}

fn print_target(target: &Target) {
    println!("  table:    {}", target.table);
    println!(
        "  region:   {}",
        target.region.as_deref().unwrap_or("(none)")
    );
    println!("  endpoint: {}", target.endpoint_description());
}

fn print_plan(plan: &Plan) {
    println!("Plan: version {} → {}", plan.from, plan.to);
    if plan.steps.is_empty() {
        println!("  nothing to do");
    }
    for step in &plan.steps {
        println!(
            "  {} {:>4}  {}",
            plan.direction.as_str(),
            step.id,
            step.description
        );
    }
}

fn entry_json(entry: &HistoryEntry) -> Value {
    serde_json::to_value(entry).unwrap_or(Value::Null)
}

/// Runs a migration subcommand.
pub async fn run(command: MigrationCommand, target: &Target) -> anyhow::Result<()> {
    let store = target.store();
    let all = migrations::all();
    match command {
        MigrationCommand::Current { output } => {
            let version = history::current(&store).await?;
            let report = json!({
                "table": target.table,
                "version": version,
                "head": HEAD,
                "supported": format!("{} to {}", SUPPORTED.start(), SUPPORTED.end()),
                "pending": version.map(|v| HEAD.saturating_sub(v)),
            });
            print!("{}", render(&report, output));
            Ok(())
        }
        MigrationCommand::History { output } => {
            let entries = history::entries(&store).await?;
            match output {
                OutputFormat::Json => {
                    println!("{}", Value::Array(entries.iter().map(entry_json).collect()))
                }
                OutputFormat::Table => {
                    println!(
                        "{:<24}  {:<6}  {:>4}  {:>9}  {:>9}  {:>7}  by",
                        "applied at", "kind", "id", "versions", "ms", "items"
                    );
                    for e in &entries {
                        println!(
                            "{:<24}  {:<6}  {:>4}  {:>9}  {:>9}  {:>7}  {}",
                            e.applied_at,
                            e.direction,
                            e.migration,
                            format!("{}→{}", e.from_version, e.to_version),
                            e.duration_ms,
                            e.items_touched,
                            e.applied_by
                        );
                    }
                }
            }
            Ok(())
        }
        MigrationCommand::Heads { output } => {
            let applied = history::applied_checksums(&history::entries(&store).await?);
            let listed: Vec<Value> = all
                .iter()
                .map(|m| {
                    let changed = applied.get(&m.id()).is_some_and(|c| *c != m.checksum());
                    json!({
                        "id": m.id(),
                        "description": m.description(),
                        "reversible": m.reversible(),
                        "checksum": m.checksum(),
                        "changed_since_applied": changed,
                    })
                })
                .collect();
            match output {
                OutputFormat::Json => println!("{}", json!({"head": HEAD, "migrations": listed})),
                OutputFormat::Table => {
                    for m in &listed {
                        let head = if m["id"] == HEAD { " (head)" } else { "" };
                        let changed = if m["changed_since_applied"] == true {
                            " [changed since it was applied]"
                        } else {
                            ""
                        };
                        println!(
                            "{}{head}  {}{changed}",
                            m["id"],
                            m["description"].as_str().unwrap_or_default()
                        );
                    }
                }
            }
            Ok(())
        }
        MigrationCommand::Upgrade { to, dry_run, yes } => {
            let from = current_version(&store).await?;
            let plan = runner::plan(&all, from, to.unwrap_or(HEAD))?;
            anyhow::ensure!(
                to.is_none() || plan.to >= from,
                "version {} is below the current {from}: use `dispatch database downgrade`",
                plan.to
            );
            apply(target, &store, &all, plan, dry_run, yes).await
        }
        MigrationCommand::Downgrade { to, yes } => {
            let from = current_version(&store).await?;
            anyhow::ensure!(
                to <= from,
                "version {to} is above the current {from}: use `dispatch database upgrade`"
            );
            let plan = runner::plan(&all, from, to)?;
            apply(target, &store, &all, plan, false, yes).await
        }
        MigrationCommand::Stamp { version, yes } => {
            let from = current_version(&store).await?;
            // What a confirmation asks about is shown even with --quiet.
            if !yes || !crate::output::quiet() {
                println!("Stamp version {from} → {version} without running anything on:");
                print_target(target);
            }
            if !yes && !crate::database::confirm("Stamp this table?")? {
                crate::say!("Aborted.");
                return Ok(());
            }
            let progress = StepProgress::new();
            let entry = runner(&store, &all, &progress).stamp(version).await?;
            crate::say!("Stamped version {}.", entry.to_version);
            Ok(())
        }
        MigrationCommand::Check { output } => {
            let mut problems = drift(&target.client, &target.table, expected_indexes()).await?;
            match history::current(&store).await? {
                None => problems
                    .push("no schema version recorded (run `dispatch database init`)".into()),
                Some(v) if !SUPPORTED.contains(&v) => problems.push(format!(
                    "schema version {v} is outside this build's {} to {}",
                    SUPPORTED.start(),
                    SUPPORTED.end()
                )),
                Some(v) if v < HEAD => problems.push(format!(
                    "schema version {v}: {} migration(s) pending (`dispatch database upgrade`)",
                    HEAD - v
                )),
                Some(_) => {}
            }
            let report = json!({"table": target.table, "problems": problems.len(), "details": problems.join("; ")});
            print!("{}", render(&report, output));
            anyhow::ensure!(
                problems.is_empty(),
                "the table differs from this build's schema: {} problem(s)",
                problems.len()
            );
            Ok(())
        }
    }
}

async fn apply(
    target: &Target,
    store: &Store,
    all: &[Box<dyn Migration>],
    plan: Plan,
    dry_run: bool,
    yes: bool,
) -> anyhow::Result<()> {
    // The plan is what a dry run is for, and what a confirmation asks about: `--quiet` drops
    // it only when neither applies.
    if dry_run || !yes || !crate::output::quiet() {
        println!("Migrating:");
        print_target(target);
        print_plan(&plan);
    }
    if dry_run || plan.steps.is_empty() {
        return Ok(());
    }
    if !yes && !crate::database::confirm("Run this plan?")? {
        crate::say!("Aborted.");
        return Ok(());
    }
    let progress = StepProgress::new();
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let entries = runner(store, all, &progress)
        .migrate_planned(&plan, ctrl_c)
        .await?;
    drop(progress);
    for e in &entries {
        crate::say!(
            "{} {}: version {} → {} in {} ms, {} item(s) touched",
            e.direction,
            e.migration,
            e.from_version,
            e.to_version,
            e.duration_ms,
            e.items_touched
        );
    }
    crate::say!("The table is at version {}.", plan.to);
    Ok(())
}

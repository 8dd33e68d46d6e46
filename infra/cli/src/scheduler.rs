//! `dispatch scheduler list | start | run`: the maintenance jobs from the command line. The
//! deployment runs them on EventBridge Scheduler (the maintenance function); these run the
//! same code (`dispatch_domain::maintenance`) locally, sharing the jobs' leases with it.

use std::time::Duration;

use anyhow::bail;
use clap::Subcommand;
use dispatch_domain::maintenance::{self, Budget, Job, RunOptions, Summary, state};
use dispatch_store::Store;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::data::OutputFormat;

/// The longest one run started by `scheduler start` works before continuing at its next turn.
pub const LOCAL_RUN_BUDGET: Duration = Duration::from_secs(60);

/// `dispatch scheduler` subcommands (Dispatch's `list` and `start`, and `run`).
#[derive(Debug, Subcommand)]
pub enum SchedulerCommand {
    /// The jobs, how often they run, and how their last run went (from the table).
    List {
        #[arg(long, value_enum, default_value_t)]
        output: OutputFormat,
    },
    /// Run the jobs on their schedule until Ctrl-C (SIGINT, SIGTERM or SIGHUP).
    Start {
        /// Only these jobs (default: all).
        tasks: Vec<String>,
        /// Leave these jobs out.
        #[arg(long, num_args = 1..)]
        exclude: Vec<String>,
        /// Run the named jobs once right away, then on their schedule.
        #[arg(long)]
        eager: bool,
    },
    /// Run one job once and print its summary.
    Run {
        job: String,
        /// Report what it would change; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Stop after this many seconds; the next run continues from the checkpoint.
        #[arg(long, default_value_t = 600)]
        budget_seconds: u64,
        #[arg(long, value_enum, default_value_t)]
        output: OutputFormat,
    },
}

/// Runs a `scheduler` subcommand.
pub async fn run(command: SchedulerCommand, target: &crate::target::Target) -> anyhow::Result<()> {
    let store = target.store();
    match command {
        SchedulerCommand::List { output } => {
            print!("{}", list(&store, output).await?);
            Ok(())
        }
        SchedulerCommand::Run {
            job,
            dry_run,
            budget_seconds,
            output,
        } => {
            let job = job_named(&job)?;
            let options = RunOptions {
                holder: holder(),
                budget: Budget::lasting(Duration::from_secs(budget_seconds)),
                dry_run,
            };
            let summary = maintenance::run(&store, job, options).await?;
            print!("{}", render_summary(&summary, output));
            if summary.outcome == maintenance::Outcome::Failed {
                bail!(
                    "{} failed: {}",
                    job.name(),
                    summary.note.unwrap_or_default()
                );
            }
            Ok(())
        }
        SchedulerCommand::Start {
            tasks,
            exclude,
            eager,
        } => start(store, &tasks, &exclude, eager, stop_signal()).await,
    }
}

/// The job called `name`, or Dispatch's message for an unknown one.
pub fn job_named(name: &str) -> anyhow::Result<Job> {
    match Job::from_name(name) {
        Some(job) => Ok(job),
        None => bail!(
            "A scheduled task/job named {name} does not exist (the jobs are {})",
            Job::ALL.map(Job::name).join(", ")
        ),
    }
}

/// Who holds a lease taken from here.
fn holder() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
    format!("dispatch-cli@{host}:{}", std::process::id())
}

/// `scheduler list`: Task Name / Period / Last run / Outcome / Summary.
pub async fn list(store: &Store, output: OutputFormat) -> anyhow::Result<String> {
    let mut rows = Vec::new();
    for job in Job::ALL {
        let state = state::read(store, job.name()).await?;
        let summary = state.last_summary.as_ref();
        rows.push(json!({
            "task": job.name(),
            "period": humanize(job.default_period()),
            "last_run": state.last_finished_at,
            "outcome": summary.map(|s| s.outcome.as_str()),
            "summary": summary.map(one_line),
            "running": state.lease.as_ref().map(|(holder, _)| holder),
        }));
    }
    if output == OutputFormat::Json {
        return Ok(format!("{}\n", Value::Array(rows)));
    }
    let cell = |row: &Value, name: &str| match &row[name] {
        Value::String(s) => s.clone(),
        _ => "-".into(),
    };
    let mut text = format!(
        "{:<20} {:<8} {:<28} {:<10} {}\n",
        "Task Name", "Period", "Last Run", "Outcome", "Summary"
    );
    for row in &rows {
        let mut outcome = cell(row, "outcome");
        if row["running"].is_string() {
            outcome = "running".into();
        }
        text.push_str(&format!(
            "{:<20} {:<8} {:<28} {:<10} {}\n",
            cell(row, "task"),
            cell(row, "period"),
            cell(row, "last_run"),
            outcome,
            cell(row, "summary")
        ));
    }
    Ok(text)
}

/// A summary in one line: `examined 120, found 2, repaired 2 in 340 ms`.
pub fn one_line(summary: &Summary) -> String {
    let mut line = format!(
        "examined {}, found {}, repaired {} in {} ms",
        summary.examined, summary.found, summary.repaired, summary.duration_ms
    );
    if let Some(note) = &summary.note {
        line.push_str(&format!(" ({note})"));
    }
    line
}

/// `scheduler run`'s report: the summary, then each finding.
pub fn render_summary(summary: &Summary, output: OutputFormat) -> String {
    if output == OutputFormat::Json {
        return format!("{}\n", serde_json::to_value(summary).unwrap_or_default());
    }
    let mut text = format!(
        "{} {}{}: {}\n",
        summary.job,
        summary.outcome.as_str(),
        if summary.dry_run { " (dry run)" } else { "" },
        one_line(summary)
    );
    for finding in &summary.findings {
        text.push_str(&format!(
            "  {} {}: {} — {}\n",
            if finding.repaired {
                "repaired"
            } else {
                "found"
            },
            finding.kind,
            finding.subject,
            finding.detail
        ));
    }
    if summary.found > summary.findings.len() as u64 {
        text.push_str(&format!(
            "  … and {} more (see the log)\n",
            summary.found - summary.findings.len() as u64
        ));
    }
    text
}

fn humanize(period: Duration) -> String {
    let seconds = period.as_secs();
    match seconds {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// The jobs `start` runs: `tasks` (all when empty) less `exclude`.
pub fn selected(tasks: &[String], exclude: &[String]) -> anyhow::Result<Vec<Job>> {
    let named = |names: &[String]| {
        names
            .iter()
            .map(|n| job_named(n))
            .collect::<Result<Vec<_>, _>>()
    };
    let chosen = if tasks.is_empty() {
        Job::ALL.to_vec()
    } else {
        named(tasks)?
    };
    let excluded = named(exclude)?;
    Ok(chosen
        .into_iter()
        .filter(|job| !excluded.contains(job))
        .collect())
}

/// `scheduler start`: each job on its period until `stop` (a signal) completes; leases this
/// process holds are freed on the way out.
pub async fn start(
    store: Store,
    tasks: &[String],
    exclude: &[String],
    eager: bool,
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let jobs = selected(tasks, exclude)?;
    let holder = holder();
    crate::say!("Starting scheduler...");
    let mut running = JoinSet::new();
    for job in jobs.iter().copied() {
        let eager_now = eager && !tasks.is_empty();
        if eager_now {
            crate::say!("Eagerly running: {}", job.name());
        }
        running.spawn(every(store.clone(), job, holder.clone(), eager_now));
    }
    stop.await;
    running.abort_all();
    while running.join_next().await.is_some() {}
    for job in jobs {
        state::release_held_by(&store, job.name(), &holder).await?;
    }
    crate::say!("Scheduler stopped.");
    Ok(())
}

/// Runs `job` every period (first at once if `eager`), printing each summary.
async fn every(store: Store, job: Job, holder: String, eager: bool) {
    let period = job.default_period();
    let first = if eager {
        tokio::time::Instant::now()
    } else {
        tokio::time::Instant::now() + period
    };
    let mut ticks = tokio::time::interval_at(first, period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let options = RunOptions {
            holder: holder.clone(),
            budget: Budget::lasting(LOCAL_RUN_BUDGET.min(period)),
            dry_run: false,
        };
        match maintenance::run(&store, job, options).await {
            Ok(summary) => print!("{}", render_summary(&summary, OutputFormat::Table)),
            Err(error) => eprintln!("{} failed: {error}", job.name()),
        }
    }
}

/// SIGINT, SIGTERM or SIGHUP.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).ok();
        let mut hup = signal(SignalKind::hangup()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            Some(_) = async { term.as_mut()?.recv().await } => {}
            Some(_) = async { hup.as_mut()?.recv().await } => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

//! Scheduled maintenance: work that must not run inside a user's request.
//!
//! Four jobs, each idempotent and safe to run beside the API and beside itself:
//! - [`Job::FinishDeletions`]: completes organization and project deletions a request left
//!   half done ([`deletions`]);
//! - [`Job::ReconcileCounters`]: recounts what the counters count and repairs drift with
//!   conditional writes ([`counters`]);
//! - [`Job::CheckGuards`]: finds uniqueness guards without their item and items without their
//!   guard, and repairs what is unambiguous ([`guards`]);
//! - [`Job::PluginBackfill`]: gives projects the disabled plugin instances they lack, once
//!   ([`crate::plugins::backfill`]).
//!
//! [`run`] wraps a job: it takes the job's lease, hands the job its checkpoint and a
//! [`Budget`], and records the summary. The maintenance Lambda runs jobs on EventBridge
//! Scheduler's schedule; `dispatch scheduler` runs the same code from the CLI.

pub mod budget;
pub mod context;
pub mod counters;
pub mod deletions;
pub mod guards;
pub mod organizations;
pub mod state;
pub mod summary;

use std::time::{Duration, Instant};

pub use budget::Budget;
pub use context::JobContext;
pub use summary::{Finding, Outcome, Summary};

use crate::error::DomainError;
use dispatch_store::Store;

/// The scheduled jobs, by their names in schedules, events and the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Job {
    FinishDeletions,
    ReconcileCounters,
    CheckGuards,
    PluginBackfill,
}

impl Job {
    /// Every job, in the order `dispatch scheduler list` shows them.
    pub const ALL: [Job; 4] = [
        Job::FinishDeletions,
        Job::ReconcileCounters,
        Job::CheckGuards,
        Job::PluginBackfill,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Job::FinishDeletions => "finish-deletions",
            Job::ReconcileCounters => "reconcile-counters",
            Job::CheckGuards => "check-guards",
            Job::PluginBackfill => "plugin-backfill",
        }
    }

    /// The job called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Job> {
        Job::ALL.into_iter().find(|job| job.name() == name)
    }

    /// How often it runs unless the deployment says otherwise (the template's defaults, and
    /// `dispatch scheduler start`'s periods).
    pub fn default_period(self) -> Duration {
        match self {
            Job::FinishDeletions => Duration::from_secs(5 * 60),
            Job::ReconcileCounters => Duration::from_secs(60 * 60),
            Job::CheckGuards => Duration::from_secs(24 * 60 * 60),
            Job::PluginBackfill => Duration::from_secs(60 * 60),
        }
    }

    /// What it does, in a line.
    pub fn description(self) -> &'static str {
        match self {
            Job::FinishDeletions => "completes interrupted organization and project deletions",
            Job::ReconcileCounters => {
                "recounts members, projects, plugin instances and collection totals; repairs drift"
            }
            Job::CheckGuards => {
                "finds uniqueness guards without their item and items without their guard"
            }
            Job::PluginBackfill => "gives projects the disabled plugin instances they lack",
        }
    }
}

/// How to run a job once.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Who runs it (recorded with the lease): the function's name, or `cli@host`.
    pub holder: String,
    /// When it must stop (the invocation's deadline less a reserve).
    pub budget: Budget,
    /// Report what would change; write nothing, not even the checkpoint, and start from the
    /// beginning.
    pub dry_run: bool,
}

/// Runs `job` once: takes its lease (a run already holding it makes this one
/// [`Outcome::Skipped`]), continues from its checkpoint, and records the summary and the new
/// checkpoint. A job that stops on an error is [`Outcome::Failed`], the error in the
/// summary's note (so the failure is recorded, logged and counted like any run); `Err` is only
/// for not being able to start or record the run at all.
pub async fn run(store: &Store, job: Job, options: RunOptions) -> Result<Summary, DomainError> {
    let started = Instant::now();
    let lease_time = options
        .budget
        .remaining()
        .unwrap_or(Duration::from_secs(15 * 60));
    let (lease, cursor) = if options.dry_run {
        (None, None)
    } else {
        match state::acquire(store, job.name(), &options.holder, lease_time).await? {
            Some(lease) => (Some(lease), state::read(store, job.name()).await?.cursor),
            None => {
                let holder = state::read(store, job.name()).await?.lease.map(|l| l.0);
                let mut ctx = JobContext::new(store, job, &options, None, None);
                ctx.note(format!(
                    "another run holds the lease ({})",
                    holder.as_deref().unwrap_or("unknown")
                ));
                let summary = ctx.summary(Outcome::Skipped, started);
                summary.log();
                return Ok(summary);
            }
        }
    };
    let mut ctx = JobContext::new(store, job, &options, lease.clone(), cursor);
    let result = match job {
        Job::FinishDeletions => deletions::run(&mut ctx).await,
        Job::ReconcileCounters => counters::run(&mut ctx).await,
        Job::CheckGuards => guards::run(&mut ctx).await,
        Job::PluginBackfill => crate::plugins::backfill::run(&mut ctx).await,
    };
    let outcome = match &result {
        Err(error) => {
            ctx.note(format!("{error}"));
            Outcome::Failed
        }
        Ok(()) if ctx.is_continued() => Outcome::Continued,
        Ok(()) => Outcome::Finished,
    };
    let summary = ctx.summary(outcome, started);
    if let Some(lease) = &lease
        && !state::finish(store, lease, ctx.cursor(), &summary).await?
    {
        tracing::warn!(job = job.name(), "the lease lapsed before the run ended");
    }
    summary.log();
    Ok(summary)
}

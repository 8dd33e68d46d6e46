//! The scheduled maintenance jobs, against DynamoDB Local: what each finds and repairs, that
//! they resume from their checkpoints and change nothing the second time, that they are safe
//! beside the API and beside themselves, and the Lambda handler fed the schedules' events.

mod backfill;
mod counters;
mod deletions;
mod guards;
mod handler;
mod scheduler_cli;

use dispatch_domain::maintenance::{self, Budget, Job, RunOptions, Summary};
use dispatch_store::Store;

/// Runs `job` once to the end, as the schedule would (lease, checkpoint, summary).
pub async fn run_job(store: &Store, job: Job) -> Summary {
    run_with(store, job, Budget::unbounded(), false).await
}

/// Runs `job` once with `budget`, optionally as a dry run; the run must not fail.
pub async fn run_with(store: &Store, job: Job, budget: Budget, dry_run: bool) -> Summary {
    let summary = maintenance::run(
        store,
        job,
        RunOptions {
            holder: "test".into(),
            budget,
            dry_run,
        },
    )
    .await
    .unwrap_or_else(|error| panic!("{} failed: {error}", job.name()));
    assert_ne!(
        summary.outcome,
        maintenance::Outcome::Failed,
        "{summary:#?}"
    );
    summary
}

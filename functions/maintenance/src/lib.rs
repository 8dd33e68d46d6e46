//! The maintenance function: EventBridge Scheduler invokes it with the schedule's `Input`,
//! `{"job": "<name>"}` (optionally `"dry_run": true`), and it runs that job
//! ([`dispatch_domain::maintenance`]) within the invocation's time, less a reserve for
//! recording the run.
//!
//! Each run logs one summary line and prints one CloudWatch embedded-metric line; the
//! response is the summary. A job that fails makes the invocation fail, so the schedule's
//! retries, the dead-letter queue and the error alarm see it.

use std::time::{Duration, Instant};

use dispatch_domain::aws_sdk::{CallBounds, load_sdk_config};
use dispatch_domain::maintenance::{self, Budget, Job, Outcome, RunOptions, Summary};
use dispatch_domain::migrations::SUPPORTED;
use dispatch_domain::time::epoch_ms;
use dispatch_store::Store;
use dispatch_store::schema::recorded_version;
use lambda_runtime::LambdaEvent;
use serde::Deserialize;

/// Time kept back from the invocation's deadline: the final checkpoint and summary writes
/// (each bounded to 3 s by [`CallBounds::API`]) and the response.
pub const DEADLINE_RESERVE: Duration = Duration::from_secs(4);

/// What the function keeps between invocations.
#[derive(Debug, Clone)]
pub struct Maintenance {
    store: Store,
    /// Who holds a job's lease: the function's name.
    holder: String,
}

impl Maintenance {
    pub fn new(store: Store, holder: impl Into<String>) -> Self {
        Self {
            store,
            holder: holder.into(),
        }
    }
}

/// The schedule's input.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledRun {
    pub job: String,
    #[serde(default)]
    pub dry_run: bool,
}

/// Why an invocation failed (its message is what Lambda records, and what the dead-letter
/// queue keeps).
#[derive(Debug, thiserror::Error)]
pub enum MaintenanceError {
    #[error(
        "the event is not a maintenance run ({0}); a schedule's Input must be {{\"job\": \"<name>\"}}"
    )]
    BadEvent(String),
    #[error("unknown job {0:?}; the jobs are {jobs}", jobs = job_names())]
    UnknownJob(String),
    #[error("{job} failed: {message}")]
    Failed { job: &'static str, message: String },
}

impl From<MaintenanceError> for lambda_runtime::Diagnostic {
    fn from(error: MaintenanceError) -> Self {
        let error_type = match &error {
            MaintenanceError::BadEvent(_) => "BadEvent",
            MaintenanceError::UnknownJob(_) => "UnknownJob",
            MaintenanceError::Failed { .. } => "JobFailed",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.into(),
            error_message: error.to_string(),
        }
    }
}

fn job_names() -> String {
    Job::ALL.map(Job::name).join(", ")
}

/// Runs the job an event names, within the invocation's deadline.
pub async fn handle(
    maintenance: &Maintenance,
    event: LambdaEvent<serde_json::Value>,
) -> Result<Summary, MaintenanceError> {
    let run: ScheduledRun = serde_json::from_value(event.payload)
        .map_err(|error| MaintenanceError::BadEvent(error.to_string()))?;
    let job = Job::from_name(&run.job).ok_or(MaintenanceError::UnknownJob(run.job.clone()))?;
    let options = RunOptions {
        holder: maintenance.holder.clone(),
        budget: budget_before(event.context.deadline),
        dry_run: run.dry_run,
    };
    let summary = maintenance::run(&maintenance.store, job, options)
        .await
        .map_err(|error| MaintenanceError::Failed {
            job: job.name(),
            message: error.to_string(),
        })?;
    // Printed for failed runs too: the template's alarms watch the `Failed` metric.
    println!("{}", summary.embedded_metrics(epoch_ms()));
    if summary.outcome == Outcome::Failed {
        return Err(MaintenanceError::Failed {
            job: job.name(),
            message: summary.note.unwrap_or_default(),
        });
    }
    Ok(summary)
}

/// The budget of an invocation whose deadline is `deadline_ms` (epoch milliseconds).
pub fn budget_before(deadline_ms: u64) -> Budget {
    let left =
        Duration::from_millis(deadline_ms.saturating_sub(u64::try_from(epoch_ms()).unwrap_or(0)));
    Budget::until(Instant::now() + left.saturating_sub(DEADLINE_RESERVE))
}

/// Why a cold start failed; printed as one line before exiting.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("configuration error: DISPATCH_TABLE_NAME is not set")]
    NoTable,
    #[error("startup error: table {0} is not initialised (run `dispatch database init`)")]
    NotInitialised(String),
    #[error(
        "startup error: table {table} has schema version {found}; this build works with versions {} to {} (run `dispatch database upgrade`)",
        SUPPORTED.start(),
        SUPPORTED.end()
    )]
    SchemaMismatch { table: String, found: i64 },
    #[error("startup error: table {table} could not be read: {message}")]
    Table { table: String, message: String },
}

/// Builds the store from the environment and checks the table's schema version: a function
/// must not repair a table it does not understand.
pub async fn start() -> Result<Maintenance, StartupError> {
    let table = std::env::var("DISPATCH_TABLE_NAME")
        .ok()
        .filter(|name| !name.is_empty())
        .ok_or(StartupError::NoTable)?;
    let sdk = load_sdk_config(CallBounds::API).await;
    let store = Store::new(aws_sdk_dynamodb::Client::new(&sdk), table.as_str());
    let found = recorded_version(&store)
        .await
        .map_err(|error| StartupError::Table {
            table: table.clone(),
            message: error.to_string(),
        })?
        .ok_or_else(|| StartupError::NotInitialised(table.clone()))?;
    if !SUPPORTED.contains(&u32::try_from(found).unwrap_or(0)) {
        return Err(StartupError::SchemaMismatch { table, found });
    }
    let holder = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "maintenance".into());
    Ok(Maintenance::new(store, holder))
}

/// Cold start: logging, then [`start`]; a failure prints one line and exits.
pub async fn init() -> Maintenance {
    dispatch_domain::telemetry::init();
    match start().await {
        Ok(maintenance) => maintenance,
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(1);
        }
    }
}

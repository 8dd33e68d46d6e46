//! The one item per job (`JOB#<name>` / `STATE`) that holds its lease, its checkpoint and
//! its last run.
//!
//! The lease keeps a scheduled run and an operator's `dispatch scheduler run` from doing the
//! same work at once (each job is also safe without it: every repair is conditional). It lasts
//! the run's budget plus a margin, so a run that crashed frees it by itself.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;

use super::summary::Summary;
use crate::time::{Timestamp, epoch_ms};
use dispatch_store::item::{number_attribute, string_attribute};
use dispatch_store::{Expression, Store, StoreError, keys};

/// How long a lease outlives the run's budget (the final write, clock skew).
pub const LEASE_MARGIN: Duration = Duration::from_secs(30);

/// What the table says about a job.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobState {
    /// Where the next run continues (the job's own format); `None`: from the start.
    pub cursor: Option<String>,
    /// Who holds the lease, and until when (epoch milliseconds), if anybody.
    pub lease: Option<(String, i64)>,
    /// When the last run started and ended.
    pub last_started_at: Option<String>,
    pub last_finished_at: Option<String>,
    /// The last run's summary.
    pub last_summary: Option<Summary>,
}

/// A lease this process holds on a job.
#[derive(Debug, Clone)]
pub struct Lease {
    job: String,
    token: String,
}

/// Reads a job's state (consistent read).
pub async fn read(store: &Store, job: &str) -> Result<JobState, StoreError> {
    let Some(item) = store.get_attributes(&keys::job_state(job)).await? else {
        return Ok(JobState::default());
    };
    let lease = match (
        string_attribute(&item, "lease_holder"),
        number_attribute(&item, "lease_until"),
    ) {
        (Some(holder), Some(until)) if until > epoch_ms() => Some((holder, until)),
        _ => None,
    };
    Ok(JobState {
        cursor: string_attribute(&item, "cursor"),
        lease,
        last_started_at: string_attribute(&item, "last_started_at"),
        last_finished_at: string_attribute(&item, "last_finished_at"),
        last_summary: string_attribute(&item, "last_summary")
            .and_then(|json| serde_json::from_str(&json).ok()),
    })
}

/// Takes the job's lease for `budget` (plus a margin) as `holder`; `Ok(None)` when another
/// run holds it.
pub async fn acquire(
    store: &Store,
    job: &str,
    holder: &str,
    budget: Duration,
) -> Result<Option<Lease>, StoreError> {
    let token = format!("{:032x}", rand::random::<u128>());
    let now = epoch_ms();
    let until = now + (budget + LEASE_MARGIN).as_millis() as i64;
    let update = Expression::new(
        "SET #holder = :holder, #token = :token, #until = :until, #started = :started, #entity = :entity",
    )
    .name("#holder", "lease_holder")
    .name("#token", "lease_token")
    .name("#until", "lease_until")
    .name("#started", "last_started_at")
    .name("#entity", keys::attr::ENTITY)
    .value(":holder", AttributeValue::S(holder.to_owned()))
    .value(":token", AttributeValue::S(token.clone()))
    .value(":until", AttributeValue::N(until.to_string()))
    .value(":started", AttributeValue::S(Timestamp::now().to_string()))
    .value(":entity", AttributeValue::S("JobState".into()));
    let free = Expression::new("attribute_not_exists(#until) OR #until < :now")
        .value(":now", AttributeValue::N(now.to_string()));
    match store
        .update_if(&keys::job_state(job), update, free, "lease")
        .await
    {
        Ok(()) => Ok(Some(Lease {
            job: job.to_owned(),
            token,
        })),
        Err(StoreError::ConditionFailed { .. }) => Ok(None),
        Err(error) => Err(error),
    }
}

/// The condition that `lease` is still this process's.
fn still_held(lease: &Lease) -> Expression {
    Expression::new("#token = :token")
        .name("#token", "lease_token")
        .value(":token", AttributeValue::S(lease.token.clone()))
}

/// Saves the job's checkpoint (`None`: the next run starts from the beginning). `Ok(false)`
/// when the lease was lost (it lapsed and another run took it): the caller stops.
pub async fn save_cursor(
    store: &Store,
    lease: &Lease,
    cursor: Option<&str>,
) -> Result<bool, StoreError> {
    let update = match cursor {
        Some(cursor) => Expression::new("SET #cursor = :cursor")
            .value(":cursor", AttributeValue::S(cursor.to_owned())),
        None => Expression::new("REMOVE #cursor"),
    }
    .name("#cursor", "cursor");
    held(
        store
            .update_if(
                &keys::job_state(&lease.job),
                update,
                still_held(lease),
                "lease",
            )
            .await,
    )
}

/// Records the run's summary and checkpoint and frees the lease, if it is still held.
pub async fn finish(
    store: &Store,
    lease: &Lease,
    cursor: Option<&str>,
    summary: &Summary,
) -> Result<bool, StoreError> {
    let json = serde_json::to_string(summary).unwrap_or_default();
    let mut update = Expression::new("")
        .name("#summary", "last_summary")
        .name("#finished", "last_finished_at")
        .name("#outcome", "last_outcome")
        .name("#holder", "lease_holder")
        .name("#token", "lease_token")
        .name("#until", "lease_until")
        .name("#cursor", "cursor")
        .value(":summary", AttributeValue::S(json))
        .value(":finished", AttributeValue::S(Timestamp::now().to_string()))
        .value(
            ":outcome",
            AttributeValue::S(summary.outcome.as_str().into()),
        );
    let mut set = "SET #summary = :summary, #finished = :finished, #outcome = :outcome".to_owned();
    let mut remove = "REMOVE #holder, #token, #until".to_owned();
    match cursor {
        Some(cursor) => {
            set.push_str(", #cursor = :cursor");
            update = update.value(":cursor", AttributeValue::S(cursor.to_owned()));
        }
        None => remove.push_str(", #cursor"),
    }
    update.text = format!("{set} {remove}");
    let condition = still_held(lease);
    held(
        store
            .update_if(&keys::job_state(&lease.job), update, condition, "lease")
            .await,
    )
}

fn held(result: Result<(), StoreError>) -> Result<bool, StoreError> {
    match result {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed { .. }) => Ok(false),
        Err(error) => Err(error),
    }
}

/// Frees the job's lease if `holder` holds it: a scheduler stopping mid-run (Ctrl-C) lets
/// the next run start at once instead of waiting for the lease to lapse.
pub async fn release_held_by(store: &Store, job: &str, holder: &str) -> Result<bool, StoreError> {
    let update = Expression::new("REMOVE #holder, #token, #until")
        .name("#token", "lease_token")
        .name("#until", "lease_until");
    let condition = Expression::new("#holder = :holder")
        .name("#holder", "lease_holder")
        .value(":holder", AttributeValue::S(holder.to_owned()));
    held(
        store
            .update_if(&keys::job_state(job), update, condition, "lease")
            .await,
    )
}

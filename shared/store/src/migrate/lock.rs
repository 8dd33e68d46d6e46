//! One migration runner at a time: a lock item with a lease. The holder renews the lease in
//! the background (a heartbeat every third of it); a runner that crashed stops renewing, and
//! once its lease has ended the next runner takes the lock over. Every write a runner makes
//! (checkpoints, version changes) is conditional on still holding the lock, so a runner that
//! lost it (paused past its lease, say) cannot record progress after another took over. Item
//! writes are made only while this runner's own view of its lease is valid (the last successful
//! renewal plus the lease, less a margin: [`Lease::check`], called before each page's writes);
//! they are idempotent, so a page written twice by two runners applies nothing twice.
//!
//! The holder is the runner's name (user, host, process) plus a random token, so two runners
//! with the same name (containers with the same hostname, pid 1) are still told apart.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use tokio::task::JoinHandle;

use super::MigrationError;
use crate::{Expression, Item, Store, StoreError, Transaction, keys};

/// How long a lease lasts without a heartbeat, unless the runner says otherwise.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

const LOCK_LABEL: &str = "migration_lock";

/// The lock, held. Dropping it stops the heartbeat (the lease then runs out); [`Lease::release`]
/// frees the lock at once.
pub struct Lease {
    store: Store,
    holder: String,
    lost: Arc<AtomicBool>,
    /// Until when (epoch ms, less a margin) this runner knows the lease is its own.
    valid_until: Arc<AtomicI64>,
    heartbeat: JoinHandle<()>,
}

/// Kept back from the lease's end before this runner stops writing: a renewal may be in flight.
fn margin(duration: Duration) -> i64 {
    (duration.as_millis() / 6) as i64
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn display(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| ms.to_string())
}

fn number(ms: i64) -> AttributeValue {
    AttributeValue::N(ms.to_string())
}

/// The condition "the lock is held by `holder`", for the transactions of a runner.
pub fn held_by(holder: &str) -> Expression {
    Expression::new("#holder = :holder")
        .name("#holder", "holder")
        .value(":holder", AttributeValue::S(holder.to_owned()))
}

impl Lease {
    /// Takes the lock for `holder` (e.g. `user@host pid 123`) if it is free or its lease ended;
    /// otherwise says who holds it and since when.
    pub async fn acquire(
        store: &Store,
        name: &str,
        duration: Duration,
    ) -> Result<Lease, MigrationError> {
        let holder = &format!("{name} [{:08x}]", rand::random::<u32>());
        let now = now_ms();
        let item = Item::bare(&keys::migration_lock(), "MigrationLock")
            .with_str("holder", holder)
            .with_number("acquired_at", now)
            .with_number("expires_at", now + duration.as_millis() as i64);
        let free = Expression::new("attribute_not_exists(#pk) OR #expires < :now")
            .name("#pk", keys::attr::PK)
            .name("#expires", "expires_at")
            .value(":now", number(now));
        let mut tx = Transaction::new();
        tx.put_when(item, Some(free), Some(LOCK_LABEL))?;
        match store.transact(tx).await {
            Ok(()) => {}
            Err(StoreError::ConditionFailed { .. }) => {
                let current = store.get_attributes(&keys::migration_lock()).await?;
                let field = |name: &str| {
                    current
                        .as_ref()
                        .and_then(|i| crate::item::number_attribute(i, name))
                        .map(display)
                        .unwrap_or_default()
                };
                let holder = current
                    .as_ref()
                    .and_then(|i| i.get("holder"))
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default();
                return Err(MigrationError::Locked {
                    holder,
                    since: field("acquired_at"),
                    expires: field("expires_at"),
                });
            }
            Err(e) => return Err(e.into()),
        }
        let lost = Arc::new(AtomicBool::new(false));
        let valid_until = Arc::new(AtomicI64::new(
            now + duration.as_millis() as i64 - margin(duration),
        ));
        let heartbeat = tokio::spawn(beat(
            store.clone(),
            holder.to_owned(),
            duration,
            lost.clone(),
            valid_until.clone(),
        ));
        Ok(Lease {
            store: store.clone(),
            holder: holder.to_owned(),
            lost,
            valid_until,
            heartbeat,
        })
    }

    /// Who holds it.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Fails once a heartbeat found the lock taken over or gone, or when no renewal succeeded
    /// for nearly a whole lease (another runner may take over any moment).
    pub fn check(&self) -> Result<(), MigrationError> {
        if self.lost.load(Ordering::Relaxed) || now_ms() > self.valid_until.load(Ordering::Relaxed)
        {
            Err(MigrationError::LostLock)
        } else {
            Ok(())
        }
    }

    /// Adds "the lock is still mine" to a transaction.
    pub fn guard(&self, tx: &mut Transaction) -> Result<(), StoreError> {
        tx.check(keys::migration_lock(), held_by(&self.holder), LOCK_LABEL)?;
        Ok(())
    }

    /// Maps a failed lock condition to [`MigrationError::LostLock`].
    pub fn map_error(error: StoreError) -> MigrationError {
        match error {
            StoreError::ConditionFailed { label } if label == LOCK_LABEL => {
                MigrationError::LostLock
            }
            other => other.into(),
        }
    }

    /// Frees the lock (only if it is still this runner's).
    pub async fn release(self) -> Result<(), MigrationError> {
        self.heartbeat.abort();
        let mut tx = Transaction::new();
        tx.delete(
            keys::migration_lock(),
            Some(held_by(&self.holder)),
            Some(LOCK_LABEL),
        )?;
        self.store.transact(tx).await.map_err(Lease::map_error)
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}

/// Renews the lease every third of its duration while the lock is still this holder's. Each
/// renewal is bounded (a sixth of the lease), so a stalled call cannot outlive the lease.
async fn beat(
    store: Store,
    holder: String,
    duration: Duration,
    lost: Arc<AtomicBool>,
    valid_until: Arc<AtomicI64>,
) {
    loop {
        tokio::time::sleep(duration / 3).await;
        let sent_at = now_ms();
        let update = Expression::new("SET #expires = :expires")
            .name("#expires", "expires_at")
            .value(":expires", number(sent_at + duration.as_millis() as i64));
        let lock = keys::migration_lock();
        let renewal = store.update_if(&lock, update, held_by(&holder), LOCK_LABEL);
        match tokio::time::timeout(duration / 6, renewal).await {
            Ok(Ok(())) => valid_until.store(
                sent_at + duration.as_millis() as i64 - margin(duration),
                Ordering::Relaxed,
            ),
            // Taken over (or released): stop renewing and let the runner stop.
            Ok(Err(StoreError::ConditionFailed { .. })) => {
                lost.store(true, Ordering::Relaxed);
                return;
            }
            // A transient failure or a stalled call: try again at the next beat. Meanwhile
            // `valid_until` is not extended, so the runner stops writing before the lease ends.
            Ok(Err(_)) | Err(_) => {}
        }
    }
}

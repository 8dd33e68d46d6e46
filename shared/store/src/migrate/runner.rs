//! Plans and runs migrations: `upgrade` to a version, `downgrade` to one, `stamp` one.
//!
//! A run takes the lock, reads the version, and applies each step of the plan. A step's end is
//! one transaction: the version moves one step (conditional on the version it started from and
//! on the lock), its history entry is written and its checkpoints are removed. A run stopped
//! between two steps leaves the table at the last committed version; one stopped inside a step
//! leaves that step's checkpoints, and the next run continues it.

use std::time::{Duration, Instant};

use super::history::{self, HistoryEntry};
use super::lock::Lease;
use super::{Direction, Migration, MigrationError, Progress, Run};
use crate::{Key, Source, Store, Transaction, keys};

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanStep {
    pub id: u32,
    pub description: &'static str,
    pub reversible: bool,
}

/// What a run will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub from: u32,
    pub to: u32,
    pub direction: Direction,
    pub steps: Vec<PlanStep>,
}

/// The newest version `migrations` reach (1 with none).
pub fn head(migrations: &[Box<dyn Migration>]) -> u32 {
    migrations.iter().map(|m| m.id()).max().unwrap_or(1)
}

/// The steps from version `from` to `to`: up through each migration above `from`, or down
/// through each one above `to` (each must be reversible).
pub fn plan(migrations: &[Box<dyn Migration>], from: u32, to: u32) -> Result<Plan, MigrationError> {
    let head = head(migrations);
    if to == 0 || to > head {
        return Err(MigrationError::Invalid(format!(
            "version {to} is unknown to this build (versions 1 to {head})"
        )));
    }
    let step = |m: &dyn Migration| PlanStep {
        id: m.id(),
        description: m.description(),
        reversible: m.reversible(),
    };
    let (direction, mut steps): (Direction, Vec<PlanStep>) = if to >= from {
        (
            Direction::Up,
            migrations
                .iter()
                .filter(|m| m.id() > from && m.id() <= to)
                .map(|m| step(m.as_ref()))
                .collect(),
        )
    } else {
        (
            Direction::Down,
            migrations
                .iter()
                .filter(|m| m.id() > to && m.id() <= from)
                .map(|m| step(m.as_ref()))
                .collect(),
        )
    };
    steps.sort_by_key(|s| s.id);
    if direction == Direction::Down {
        steps.reverse();
        if let Some(blocked) = steps.iter().find(|s| !s.reversible) {
            return Err(MigrationError::NotReversible(blocked.id));
        }
    }
    Ok(Plan {
        from,
        to,
        direction,
        steps,
    })
}

/// Runs migrations against one table.
pub struct Runner<'a> {
    pub store: &'a Store,
    pub migrations: &'a [Box<dyn Migration>],
    /// Who runs (recorded in the lock and the history).
    pub holder: String,
    pub lease: Duration,
    pub progress: &'a dyn Progress,
}

impl Runner<'_> {
    /// Moves the table to version `to` (up or down), step by step; the entries written.
    pub async fn migrate(&self, to: u32) -> Result<Vec<HistoryEntry>, MigrationError> {
        self.run_plan(None, to, std::future::pending()).await
    }

    /// Runs `plan` as shown to the operator: refused if the table's version moved since. When
    /// `stop` completes first (Ctrl-C), the work is dropped where it is, the lock released, and
    /// [`MigrationError::Interrupted`] returned: the next run continues from the checkpoints.
    pub async fn migrate_planned(
        &self,
        plan: &Plan,
        stop: impl std::future::Future<Output = ()>,
    ) -> Result<Vec<HistoryEntry>, MigrationError> {
        self.run_plan(Some(plan.from), plan.to, stop).await
    }

    async fn run_plan(
        &self,
        expected_from: Option<u32>,
        to: u32,
        stop: impl std::future::Future<Output = ()>,
    ) -> Result<Vec<HistoryEntry>, MigrationError> {
        let lease = Lease::acquire(self.store, &self.holder, self.lease).await?;
        let outcome = tokio::select! {
            outcome = self.migrate_holding(&lease, expected_from, to) => outcome,
            () = stop => Err(MigrationError::Interrupted),
        };
        // The lock is freed on failure too: the next run resumes from the checkpoints. Once
        // the work is done, failing to free it only delays the next run (its lease ends).
        let released = lease.release().await;
        let entries = outcome?;
        if let Err(error) = released {
            self.progress.line(&format!(
                "the lock could not be released ({error}); it frees itself when its lease ends"
            ));
        }
        Ok(entries)
    }

    async fn migrate_holding(
        &self,
        lease: &Lease,
        expected_from: Option<u32>,
        to: u32,
    ) -> Result<Vec<HistoryEntry>, MigrationError> {
        let from = history::current(self.store)
            .await?
            .ok_or(MigrationError::NotInitialised)?;
        if expected_from.is_some_and(|expected| expected != from) {
            return Err(MigrationError::Invalid(format!(
                "the table moved to version {from} since the plan was shown; nothing was run"
            )));
        }
        let plan = plan(self.migrations, from, to)?;
        let mut version = from;
        let mut entries = Vec::new();
        for step in &plan.steps {
            let migration = self
                .migrations
                .iter()
                .find(|m| m.id() == step.id)
                .expect("planned from this list");
            let run = Run::new(
                self.store,
                lease,
                self.progress,
                migration.as_ref(),
                plan.direction,
            );
            self.progress.line(&format!(
                "migration {} {}: {}",
                step.id,
                plan.direction.as_str(),
                step.description
            ));
            let started = Instant::now();
            match plan.direction {
                Direction::Up => migration.up(&run).await?,
                Direction::Down => migration.down(&run).await?,
            }
            let to_version = match plan.direction {
                Direction::Up => step.id,
                Direction::Down => step.id - 1,
            };
            let entry = HistoryEntry {
                migration: step.id,
                direction: plan.direction.as_str().into(),
                from_version: version,
                to_version,
                description: step.description.into(),
                checksum: migration.checksum(),
                applied_by: self.holder.clone(),
                applied_at: history::now(),
                duration_ms: started.elapsed().as_millis() as u64,
                items_touched: run.touched(),
                items_scanned: run.scanned(),
            };
            self.commit(lease, version, &entry, Some((step.id, plan.direction)))
                .await?;
            version = to_version;
            entries.push(entry);
        }
        Ok(entries)
    }

    /// Sets the version to `to` without running anything.
    pub async fn stamp(&self, to: u32) -> Result<HistoryEntry, MigrationError> {
        let head = head(self.migrations);
        if to == 0 || to > head {
            return Err(MigrationError::Invalid(format!(
                "version {to} is unknown to this build (versions 1 to {head})"
            )));
        }
        let lease = Lease::acquire(self.store, &self.holder, self.lease).await?;
        let outcome = async {
            let from = history::current(self.store)
                .await?
                .ok_or(MigrationError::NotInitialised)?;
            let entry = HistoryEntry {
                migration: to,
                direction: "stamp".into(),
                from_version: from,
                to_version: to,
                description: format!("stamped at version {to}"),
                checksum: String::new(),
                applied_by: self.holder.clone(),
                applied_at: history::now(),
                duration_ms: 0,
                items_touched: 0,
                items_scanned: 0,
            };
            self.commit(&lease, from, &entry, None).await?;
            Ok::<_, MigrationError>(entry)
        }
        .await;
        let released = lease.release().await;
        let entry = outcome?;
        released?;
        Ok(entry)
    }

    /// The end of a step: version, history entry, and the step's checkpoints removed, in one
    /// transaction conditional on the lock and on the version it started from.
    async fn commit(
        &self,
        lease: &Lease,
        from: u32,
        entry: &HistoryEntry,
        checkpoints_of: Option<(u32, Direction)>,
    ) -> Result<(), MigrationError> {
        // A step's checkpoints (both directions: a later run of the other direction starts
        // afresh); a stamp drops every checkpoint, since what they describe no longer applies.
        let prefix = match checkpoints_of {
            Some((id, _)) => format!("CHECKPOINT#{id:05}#"),
            None => "CHECKPOINT#".to_owned(),
        };
        let checkpoints: Vec<Key> = self
            .store
            .query_prefix(Source::Table, &keys::schema().pk, &prefix)
            .await?
            .iter()
            .map(crate::item::key_of)
            .collect();
        // The transaction holds the version, the history entry, the lock check and up to 97
        // checkpoint removals; more (many segments and passes) are removed just before it.
        let (now, before) = checkpoints.split_at(checkpoints.len().min(97));
        if !before.is_empty() {
            self.store.delete_batch(before).await?;
        }
        let mut tx = Transaction::new();
        history::record(&mut tx, Some(from), entry)?;
        lease.guard(&mut tx)?;
        for checkpoint in now {
            tx.delete(checkpoint.clone(), None, None)?;
        }
        self.store.transact(tx).await.map_err(Lease::map_error)
    }
}

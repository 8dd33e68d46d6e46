//! The machinery of schema migrations; the migrations themselves are ordered Rust code in
//! `dispatch_domain::migrations`, compiled into the admin CLI.
//!
//! - [`history`]: the version the table is at (`META / SCHEMA`) and what was applied, by whom,
//!   when, how long it took and how many items it touched (`META / HISTORY#…`).
//! - [`lock`]: one runner at a time, by a lease with a heartbeat; a crashed runner's lease
//!   expires. Every write a runner makes is conditional on still holding it.
//! - [`items`]: resumable item passes: parallel scan segments, a checkpoint per page, every
//!   item write conditional so a re-run never applies a transform twice.
//! - [`indexes`]: table-level steps (add or remove a global secondary index and wait for it)
//!   and the drift check of the live table against the schema the code expects.
//! - [`runner`]: plans and runs `upgrade`, `downgrade` and `stamp`.

pub mod history;
pub mod indexes;
pub mod items;
pub mod lock;
pub mod runner;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Store, StoreError};

/// A boxed future, so migrations can be trait objects in one ordered list.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Which way a migration runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

impl Direction {
    /// `up` / `down`, as recorded in the history and the checkpoints.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

/// One migration. Its `id` is the schema version the table has once it is applied: ids are
/// consecutive from 2 (version 1 is the table `database init` first created).
pub trait Migration: Send + Sync {
    /// The version this migration brings the table to.
    fn id(&self) -> u32;
    /// One line saying what it does, shown in plans and the history.
    fn description(&self) -> &'static str;
    /// A digest of the migration's source, recorded when it is applied: an applied migration
    /// edited afterwards is reported instead of silently differing from what ran.
    fn checksum(&self) -> String;
    /// Applies the change.
    fn up<'a>(&'a self, run: &'a Run<'a>) -> BoxFuture<'a, Result<(), MigrationError>>;
    /// Whether [`Migration::down`] can revert it.
    fn reversible(&self) -> bool {
        false
    }
    /// Reverts it (only called when [`Migration::reversible`]).
    fn down<'a>(&'a self, _run: &'a Run<'a>) -> BoxFuture<'a, Result<(), MigrationError>> {
        let id = self.id();
        Box::pin(async move { Err(MigrationError::NotReversible(id)) })
    }
}

/// Where a running migration reports progress (the CLI prints it; tests collect it).
pub trait Progress: Send + Sync {
    fn line(&self, text: &str);
}

/// Progress that goes nowhere.
#[derive(Debug, Default)]
pub struct Silent;

impl Progress for Silent {
    fn line(&self, _text: &str) {}
}

/// What a migration step runs with: the table, the runner's lease, progress, counters.
pub struct Run<'a> {
    pub store: &'a Store,
    pub lease: &'a lock::Lease,
    pub progress: &'a dyn Progress,
    pub migration: u32,
    pub direction: Direction,
    /// The migration's checksum: checkpoints saved by other code are ignored.
    pub checksum: String,
    touched: AtomicU64,
    scanned: AtomicU64,
}

impl<'a> Run<'a> {
    pub(crate) fn new(
        store: &'a Store,
        lease: &'a lock::Lease,
        progress: &'a dyn Progress,
        migration: &dyn Migration,
        direction: Direction,
    ) -> Self {
        Self {
            store,
            lease,
            progress,
            migration: migration.id(),
            direction,
            checksum: migration.checksum(),
            touched: AtomicU64::new(0),
            scanned: AtomicU64::new(0),
        }
    }

    /// Items written (or deleted) so far.
    pub fn touched(&self) -> u64 {
        self.touched.load(Ordering::Relaxed)
    }

    /// Items read by item passes so far (in this run; a resumed pass does not re-read what its
    /// checkpoints cover).
    pub fn scanned(&self) -> u64 {
        self.scanned.load(Ordering::Relaxed)
    }

    pub(crate) fn add_touched(&self, n: u64) {
        self.touched.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn add_scanned(&self, n: u64) {
        self.scanned.fetch_add(n, Ordering::Relaxed);
    }
}

/// Why a migration command stopped.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "another migration runner holds the lock: {holder}, since {since} (its lease ends at {expires})"
    )]
    Locked {
        holder: String,
        since: String,
        expires: String,
    },
    #[error("this runner lost the migration lock (its lease expired); nothing more was written")]
    LostLock,
    #[error(
        "interrupted: the lock is released; run the command again to continue from the checkpoints"
    )]
    Interrupted,
    #[error("migration {0} cannot be reverted")]
    NotReversible(u32),
    #[error("the table is not initialised (run `dispatch database init`)")]
    NotInitialised,
    #[error("{0}")]
    Invalid(String),
}

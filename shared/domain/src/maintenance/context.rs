//! What a running job works with: the store, its budget, its checkpoint, and the tally of
//! what it examined, found and repaired.

use std::time::{Duration, Instant};

use super::state::{self, Lease};
use super::summary::{FINDINGS_KEPT, Finding, Outcome, Summary};
use super::{Budget, Job, RunOptions};
use crate::error::DomainError;
use dispatch_store::Store;

/// How often a job's checkpoint is written while it runs (and always at the end).
const CHECKPOINT_EVERY: Duration = Duration::from_secs(2);

/// One run of one job.
pub struct JobContext<'a> {
    pub store: &'a Store,
    pub job: Job,
    pub budget: Budget,
    pub dry_run: bool,
    lease: Option<Lease>,
    cursor: Option<String>,
    saved_at: Instant,
    /// Checkpoints passed in this run: a run always completes one unit before its budget
    /// can stop it, so even a run started late makes progress.
    units: u64,
    continued: bool,
    examined: u64,
    repaired: u64,
    found: u64,
    findings: Vec<Finding>,
    note: Option<String>,
}

impl<'a> JobContext<'a> {
    pub(super) fn new(
        store: &'a Store,
        job: Job,
        options: &RunOptions,
        lease: Option<Lease>,
        cursor: Option<String>,
    ) -> Self {
        Self {
            store,
            job,
            budget: options.budget,
            dry_run: options.dry_run,
            lease,
            cursor,
            saved_at: Instant::now(),
            units: 0,
            continued: false,
            examined: 0,
            repaired: 0,
            found: 0,
            findings: Vec::new(),
            note: None,
        }
    }

    /// Where the previous run stopped (`None`: start from the beginning).
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    /// Records that everything before `cursor` is done (`None`: all of it). Written to the
    /// table every few seconds and at the end of the run; a lost lease stops the job.
    pub async fn checkpoint(&mut self, cursor: Option<String>) -> Result<(), DomainError> {
        self.cursor = cursor;
        self.units += 1;
        let Some(lease) = &self.lease else {
            return Ok(());
        };
        if self.saved_at.elapsed() < CHECKPOINT_EVERY {
            return Ok(());
        }
        self.saved_at = Instant::now();
        if !state::save_cursor(self.store, lease, self.cursor.as_deref()).await? {
            return Err(DomainError::Conflict(
                format!(
                    "the lease of {} lapsed and another run took it",
                    self.job.name()
                )
                .into(),
            ));
        }
        Ok(())
    }

    /// Whether the budget is spent (and at least one unit of work was checkpointed in this
    /// run); if so, the run ends as [`Outcome::Continued`] and the caller returns at once (its
    /// last checkpoint says where to go on).
    pub fn out_of_time(&mut self) -> bool {
        if self.units > 0 && self.budget.exhausted() {
            self.continued = true;
        }
        self.continued
    }

    /// Marks the run as leaving work for the next one (e.g. a deletion cut by the budget).
    pub fn continue_later(&mut self) {
        self.continued = true;
    }

    pub(super) fn is_continued(&self) -> bool {
        self.continued
    }

    /// Counts `n` items read and checked.
    pub fn examined(&mut self, n: u64) {
        self.examined += n;
    }

    /// Reports a problem (logged at once as a warning, kept in the summary).
    pub fn found(&mut self, finding: Finding) {
        tracing::warn!(
            job = self.job.name(),
            kind = %finding.kind,
            subject = %finding.subject,
            repaired = finding.repaired,
            dry_run = self.dry_run,
            "{}",
            finding.detail
        );
        self.found += 1;
        self.repaired += u64::from(finding.repaired);
        if self.findings.len() < FINDINGS_KEPT {
            self.findings.push(finding);
        }
    }

    pub(super) fn note(&mut self, note: String) {
        self.note = Some(note);
    }

    pub(super) fn summary(&self, outcome: Outcome, started: Instant) -> Summary {
        Summary {
            job: self.job.name().to_owned(),
            outcome,
            examined: self.examined,
            repaired: self.repaired,
            found: self.found,
            duration_ms: started.elapsed().as_millis() as u64,
            dry_run: self.dry_run,
            findings: self.findings.clone(),
            note: self.note.clone(),
        }
    }
}

/// A finding, briefly.
pub fn finding(kind: &str, subject: impl Into<String>, detail: impl Into<String>) -> Finding {
    Finding {
        kind: kind.to_owned(),
        subject: subject.into(),
        detail: detail.into(),
        repaired: false,
    }
}

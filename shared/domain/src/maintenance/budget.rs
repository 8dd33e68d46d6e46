//! How long a piece of background work may run before it must stop at a safe point.

use std::time::{Duration, Instant};

/// A point in time by which work stops. Jobs check it between units of work (an
/// organization, a batch of deletes), never in the middle of one, so every stop is clean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    until: Option<Instant>,
}

impl Budget {
    /// No limit: a request or a CLI command whose caller bounds it otherwise.
    pub const fn unbounded() -> Self {
        Self { until: None }
    }

    /// Work may continue until `until`.
    pub const fn until(until: Instant) -> Self {
        Self { until: Some(until) }
    }

    /// Work may continue for `duration` from now.
    pub fn lasting(duration: Duration) -> Self {
        Self::until(Instant::now() + duration)
    }

    /// Whether the time is up: the caller stops before its next unit of work.
    pub fn exhausted(&self) -> bool {
        self.until.is_some_and(|until| Instant::now() >= until)
    }

    /// Time left (`None` for unbounded).
    pub fn remaining(&self) -> Option<Duration> {
        self.until
            .map(|until| until.saturating_duration_since(Instant::now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_in_the_past_is_exhausted_and_an_unbounded_one_never_is() {
        assert!(Budget::until(Instant::now()).exhausted());
        assert!(!Budget::lasting(Duration::from_secs(60)).exhausted());
        assert!(!Budget::unbounded().exhausted());
        assert_eq!(Budget::unbounded().remaining(), None);
    }
}

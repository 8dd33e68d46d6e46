//! The load balancer's public keys: one PEM per `kid` at `<key_url>/<kid>`, fetched on first
//! use and kept for the configured time.
//!
//! - **Known kids** (a key was fetched) are kept, at most [`MAX_KEYS`]. Past the TTL the first
//!   request refreshes the key while the others go on with the previous one. A failed refresh
//!   is not retried for [`Policy::failure_backoff`], and the previous key remains usable for
//!   [`Policy::stale_grace`] past its TTL: a slow or unreachable key endpoint does not sign
//!   everybody out, and does not make every request wait.
//! - **Unknown kids** (no key yet) are fetched within a budget: at most
//!   [`Policy::new_kids_per_interval`] fetches per [`Policy::new_kid_interval`] whatever the
//!   kid (a fetch that finds a key gives its share back), plus
//!   [`Policy::repeated_kids_per_interval`] for the kid requested most often while the budget
//!   was spent (a kid rotated in is requested by every user; made-up kids are each sent
//!   a few times at most). A kid whose fetch failed is refused from memory for
//!   [`Policy::negative_ttl`] (404, not a key) or [`Policy::failure_backoff`] (anything else).
//!   Refused and waiting kids live in their own bounded maps ([`MAX_NEGATIVE`], [`MAX_PENDING`]):
//!   made-up kids never evict a known key nor take its place.
//! - A kid has at most one fetch in flight; the requests that need it meanwhile use the
//!   previous key, or wait for that fetch, never longer than its [`FETCH_TIMEOUT`]. At most
//!   [`MAX_CONCURRENT_FETCHES`] refreshes of known kids run at once (waiting for a turn counts
//!   against the same timeout); fetches of unknown kids are bounded by their budget.
//! - A fetch follows no redirect and reads at most [`MAX_PEM_BYTES`].

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use aws_lc_rs::signature::ParsedPublicKey;
use tokio::sync::{Semaphore, watch};

use super::Refused;

/// How many keys are kept (AWS uses a handful per region).
pub const MAX_KEYS: usize = 32;
/// How many refreshes of known keys may run at once.
pub const MAX_CONCURRENT_FETCHES: usize = 4;
/// The whole fetch: connection, TLS, request and body.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// The largest key document read (a P-256 public key PEM is 178 bytes).
pub const MAX_PEM_BYTES: usize = 8 * 1024;
/// How many refused kids are remembered.
pub const MAX_NEGATIVE: usize = 1024;
/// How many unknown kids waiting for the fetch budget are counted.
pub const MAX_PENDING: usize = 1024;
/// What [`KeySource::fetch`] answers when the endpoint has no key of that kid (or not a key):
/// remembered for [`Policy::negative_ttl`].
pub const NO_SUCH_KEY: Refused = "unknown kid (no such key)";

/// A key, parsed once, shared by the requests that use it.
pub type Key = Arc<ParsedPublicKey>;

/// When keys are fetched.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// How long a key is used without a refresh.
    pub ttl: Duration,
    /// A fetch, waiting for its turn included.
    pub fetch_timeout: Duration,
    /// How long past its TTL a key serves while it cannot be refreshed.
    pub stale_grace: Duration,
    /// No new fetch of a kid for this long after one failed (not found aside).
    pub failure_backoff: Duration,
    /// A kid the endpoint has no key for is refused from memory for this long.
    pub negative_ttl: Duration,
    /// The window of the unknown-kid budget.
    pub new_kid_interval: Duration,
    /// Fetches of unknown kids per window, first come first served.
    pub new_kids_per_interval: usize,
    /// Further fetches per window, for the unknown kid requested most often.
    pub repeated_kids_per_interval: usize,
}

impl Policy {
    /// Keys kept `ttl`, usable an hour past it when the endpoint cannot be reached; 10 s
    /// between failed attempts; a kid not found refused for a minute; four unknown kids per
    /// 10 s plus two for the most requested one.
    pub fn with_ttl(ttl: Duration) -> Self {
        Self {
            ttl,
            fetch_timeout: FETCH_TIMEOUT,
            stale_grace: Duration::from_secs(3600),
            failure_backoff: Duration::from_secs(10),
            negative_ttl: Duration::from_secs(60),
            new_kid_interval: Duration::from_secs(10),
            new_kids_per_interval: 4,
            repeated_kids_per_interval: 2,
        }
    }
}

/// The outcome of a fetch, as the requests waiting for it see it (`None` while under way).
type Outcome = Option<Result<Key, Refused>>;

/// A key fetched.
struct Known {
    key: Key,
    fetched: Instant,
    used: Instant,
    /// The last refresh failed then.
    failed: Option<Instant>,
}

/// A fetch under way.
struct Flight {
    id: u64,
    outcome: watch::Receiver<Outcome>,
    deadline: Instant,
}

/// An unknown kid refused for the budget, and how often.
struct Pending {
    hits: u32,
    first: Instant,
}

#[derive(Default)]
struct Budget {
    start: Option<Instant>,
    open: usize,
    repeated: usize,
}

#[derive(Default)]
struct State {
    known: HashMap<String, Known>,
    flights: HashMap<String, Flight>,
    /// Refused until then.
    negative: HashMap<String, Instant>,
    pending: HashMap<String, Pending>,
    budget: Budget,
    next_flight: u64,
}

/// What a lookup calls for.
enum Decision {
    Use(Key),
    Refuse(Refused),
    Wait(watch::Receiver<Outcome>, Instant),
    Fetch { refresh: bool, stale: Option<Key> },
}

fn since(now: Instant, then: Instant) -> Duration {
    now.saturating_duration_since(then)
}

impl State {
    fn decide(&mut self, kid: &str, now: Instant, policy: &Policy) -> Decision {
        if let Some(known) = self.known.get_mut(kid) {
            known.used = now;
            let age = since(now, known.fetched);
            if age < policy.ttl {
                return Decision::Use(Arc::clone(&known.key));
            }
            let stale = (age < policy.ttl + policy.stale_grace).then(|| Arc::clone(&known.key));
            let backing_off = known
                .failed
                .is_some_and(|failed| since(now, failed) < policy.failure_backoff);
            return match (self.flights.get(kid), stale) {
                (_, Some(key)) if backing_off || self.flights.contains_key(kid) => {
                    Decision::Use(key)
                }
                (Some(flight), None) => Decision::Wait(flight.outcome.clone(), flight.deadline),
                (None, None) if backing_off => {
                    Decision::Refuse("key expired and its refresh failed")
                }
                (_, stale) => Decision::Fetch {
                    refresh: true,
                    stale,
                },
            };
        }
        if let Some(flight) = self.flights.get(kid) {
            return Decision::Wait(flight.outcome.clone(), flight.deadline);
        }
        match self.negative.get(kid) {
            Some(until) if now < *until => {
                return Decision::Refuse("unknown kid (refused recently)");
            }
            Some(_) => {
                self.negative.remove(kid);
            }
            None => {}
        }
        self.admit(kid, now, policy)
    }

    /// Whether the unknown `kid` may be fetched now.
    fn admit(&mut self, kid: &str, now: Instant, policy: &Policy) -> Decision {
        let budget = &mut self.budget;
        if budget
            .start
            .is_none_or(|start| since(now, start) >= policy.new_kid_interval)
        {
            *budget = Budget {
                start: Some(now),
                ..Budget::default()
            };
        }
        if budget.open < policy.new_kids_per_interval {
            budget.open += 1;
            return Decision::Fetch {
                refresh: false,
                stale: None,
            };
        }
        // The budget is spent: count the kid, and let the one requested most often through.
        let hits = self.count(kid, now, policy);
        let most = self.pending.values().map(|p| p.hits).max().unwrap_or(0);
        if hits >= 2 && hits >= most && self.budget.repeated < policy.repeated_kids_per_interval {
            self.budget.repeated += 1;
            return Decision::Fetch {
                refresh: false,
                stale: None,
            };
        }
        Decision::Refuse("unknown kid (too many unknown kids, not fetched yet)")
    }

    fn count(&mut self, kid: &str, now: Instant, policy: &Policy) -> u32 {
        if let Some(pending) = self.pending.get_mut(kid) {
            pending.hits = pending.hits.saturating_add(1);
            return pending.hits;
        }
        if self.pending.len() >= MAX_PENDING {
            self.pending
                .retain(|_, p| since(now, p.first) < policy.negative_ttl);
        }
        if self.pending.len() >= MAX_PENDING {
            // The least requested, oldest first: a kid requested again stays.
            let evicted = self
                .pending
                .iter()
                .min_by_key(|(_, p)| (p.hits, p.first))
                .map(|(kid, _)| kid.clone());
            if let Some(evicted) = evicted {
                self.pending.remove(&evicted);
            }
        }
        self.pending.insert(
            kid.to_owned(),
            Pending {
                hits: 1,
                first: now,
            },
        );
        1
    }

    fn refuse(&mut self, kid: &str, until: Instant, now: Instant) {
        if self.negative.len() >= MAX_NEGATIVE {
            self.negative.retain(|_, until| now < *until);
        }
        if self.negative.len() >= MAX_NEGATIVE {
            let soonest = self
                .negative
                .iter()
                .min_by_key(|(_, until)| **until)
                .map(|(kid, _)| kid.clone());
            if let Some(soonest) = soonest {
                self.negative.remove(&soonest);
            }
        }
        self.negative.insert(kid.to_owned(), until);
    }

    fn keep(&mut self, kid: &str, key: Key, now: Instant, policy: &Policy) {
        if !self.known.contains_key(kid) && self.known.len() >= MAX_KEYS {
            let grace = policy.ttl + policy.stale_grace;
            self.known.retain(|kid, known| {
                self.flights.contains_key(kid) || since(now, known.fetched) < grace
            });
        }
        if !self.known.contains_key(kid) && self.known.len() >= MAX_KEYS {
            let flights = &self.flights;
            let least_used = self
                .known
                .iter()
                .filter(|(kid, _)| !flights.contains_key(*kid))
                .min_by_key(|(_, known)| known.used)
                .map(|(kid, _)| kid.clone());
            if let Some(kid) = least_used {
                self.known.remove(&kid);
            }
        }
        self.known.insert(
            kid.to_owned(),
            Known {
                key,
                fetched: now,
                used: now,
                failed: None,
            },
        );
    }
}

/// Keys by kid, each for the policy's TTL.
pub struct KeyCache {
    policy: Policy,
    state: Mutex<State>,
    refreshes: Semaphore,
}

/// Ends a flight however its request ends: the waiters are told (a dropped sender says the
/// fetch was abandoned), and the kid may be fetched again.
struct Landing<'a> {
    state: &'a Mutex<State>,
    kid: &'a str,
    id: u64,
    sender: watch::Sender<Outcome>,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        let mut state = lock(self.state);
        if state.flights.get(self.kid).is_some_and(|f| f.id == self.id) {
            state.flights.remove(self.kid);
        }
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl KeyCache {
    pub fn new(ttl: Duration) -> Self {
        Self::with_policy(Policy::with_ttl(ttl))
    }

    pub fn with_policy(policy: Policy) -> Self {
        Self {
            policy,
            state: Mutex::default(),
            refreshes: Semaphore::new(MAX_CONCURRENT_FETCHES),
        }
    }

    /// How many kids have a key (for `Debug`).
    pub fn kids(&self) -> usize {
        lock(&self.state).known.len()
    }

    /// The key of `kid`: kept, or fetched by `fetch` (and kept) when missing or older than
    /// the cache time, as the policy allows.
    pub async fn get<F, Fut>(&self, kid: &str, fetch: F) -> Result<Key, Refused>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Key, Refused>>,
    {
        let now = Instant::now();
        let decision = lock(&self.state).decide(kid, now, &self.policy);
        let (refresh, stale) = match decision {
            Decision::Use(key) => return Ok(key),
            Decision::Refuse(reason) => return Err(reason),
            Decision::Wait(outcome, deadline) => return wait(outcome, deadline).await,
            Decision::Fetch { refresh, stale } => (refresh, stale),
        };
        let deadline = now + self.policy.fetch_timeout;
        let (sender, outcome) = watch::channel(None);
        let landing = {
            let mut state = lock(&self.state);
            state.next_flight += 1;
            let id = state.next_flight;
            state.flights.insert(
                kid.to_owned(),
                Flight {
                    id,
                    outcome,
                    deadline,
                },
            );
            Landing {
                state: &self.state,
                kid,
                id,
                sender,
            }
        };
        let fetching = async {
            let _turn = if refresh {
                Some(
                    self.refreshes
                        .acquire()
                        .await
                        .map_err(|_| "key fetches closed")?,
                )
            } else {
                None
            };
            fetch().await
        };
        let result = tokio::time::timeout_at(deadline.into(), fetching)
            .await
            .unwrap_or(Err("key fetch timed out"));
        let now = Instant::now();
        {
            let mut state = lock(&self.state);
            let policy = &self.policy;
            match &result {
                Ok(key) => {
                    state.keep(kid, Arc::clone(key), now, policy);
                    state.negative.remove(kid);
                    state.pending.remove(kid);
                    if !refresh {
                        // A real key: its share of the unknown-kid budget is given back.
                        state.budget.open = state.budget.open.saturating_sub(1);
                    }
                }
                Err(reason) if refresh => {
                    tracing::warn!(
                        reason,
                        retry_after_s = policy.failure_backoff.as_secs(),
                        serving_previous_key = stale.is_some(),
                        "refreshing an ALB public key failed"
                    );
                    if let Some(known) = state.known.get_mut(kid) {
                        known.failed = Some(now);
                    }
                }
                Err(reason) => {
                    let wait = if *reason == NO_SUCH_KEY {
                        policy.negative_ttl
                    } else {
                        policy.failure_backoff
                    };
                    state.refuse(kid, now + wait, now);
                    state.pending.remove(kid);
                }
            }
        }
        let answer = match (result, stale) {
            (Err(_), Some(previous)) => Ok(previous),
            (result, _) => result,
        };
        landing.sender.send_replace(Some(answer.clone()));
        drop(landing);
        answer
    }
}

/// The outcome of the fetch under way, waited for until its deadline.
async fn wait(mut outcome: watch::Receiver<Outcome>, deadline: Instant) -> Result<Key, Refused> {
    let waited = tokio::time::timeout_at(deadline.into(), outcome.wait_for(Option::is_some)).await;
    match waited {
        Ok(Ok(done)) => done.clone().unwrap_or(Err("key fetch abandoned")),
        Ok(Err(_)) => Err("key fetch abandoned"),
        Err(_) => Err("key fetch timed out"),
    }
}

mod source;
pub use source::{KeySource, key_base, parse_pem};

#[cfg(test)]
mod tests;

//! The fetched keys and when to fetch them again.
//!
//! - Keys are kept for [`Policy::ttl`]; the first request after that refreshes them. While that
//!   refresh is under way, other requests go on with the previous keys.
//! - A `kid` the fresh keys do not hold triggers one refresh (the provider rotated its keys), at
//!   most once per [`Policy::unknown_kid_interval`] whatever the kid: a flood of made-up kids
//!   costs the provider one request per interval.
//! - At most one fetch is in flight. Requests waiting for it use its result and never start
//!   another. The fetch runs in a task of its own, so a request that gives up (its budget
//!   spent) does not cancel it and the next request does not start over.
//! - A failed fetch is not retried for [`Policy::failure_backoff`]. Meanwhile, and after the
//!   TTL, the last keys fetched remain usable for [`Policy::stale_grace`]: an unreachable
//!   provider does not sign everybody out at once.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::keys::{KeySet, VerifyingKey};

/// When keys are fetched.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub ttl: Duration,
    pub unknown_kid_interval: Duration,
    pub failure_backoff: Duration,
    pub stale_grace: Duration,
}

impl Policy {
    /// The policy with keys kept `ttl`: at most one refresh for unknown kids per 10 s, 10 s
    /// between failed attempts, keys usable up to an hour past their TTL when the provider
    /// cannot be reached.
    pub fn with_ttl(ttl: Duration) -> Self {
        Self {
            ttl,
            unknown_kid_interval: Duration::from_secs(10),
            failure_backoff: Duration::from_secs(10),
            stale_grace: Duration::from_secs(3600),
        }
    }
}

/// The keys, shared by every request of the process.
#[derive(Debug)]
pub struct KeyCache {
    policy: Policy,
    state: Arc<Mutex<State>>,
    /// Held by the one fetch in flight.
    refresh: Arc<tokio::sync::Mutex<()>>,
}

#[derive(Debug, Default)]
struct State {
    keys: Option<(Arc<KeySet>, Instant)>,
    /// Bumped by every completed fetch, successful or not.
    generation: u64,
    last_failure: Option<Instant>,
    last_unknown_kid_refresh: Option<Instant>,
    /// A fetch is under way.
    in_flight: bool,
}

/// What a lookup calls for.
enum Decision {
    Use(Arc<VerifyingKey>),
    Refuse(&'static str),
    /// Wait for the fetch under way, and look again.
    Wait,
    Fetch {
        unknown_kid: bool,
    },
}

fn since(now: Instant, then: Instant) -> Duration {
    now.saturating_duration_since(then)
}

impl State {
    fn decide(&self, kid: &str, now: Instant, policy: &Policy) -> Decision {
        let backing_off = self
            .last_failure
            .is_some_and(|failed| since(now, failed) < policy.failure_backoff);
        match &self.keys {
            Some((keys, fetched)) if since(now, *fetched) < policy.ttl => {
                if let Some(key) = keys.get(kid) {
                    Decision::Use(key)
                } else if self.in_flight {
                    Decision::Wait
                } else if backing_off {
                    Decision::Refuse("unknown kid (key set unreachable, not retried yet)")
                } else if self
                    .last_unknown_kid_refresh
                    .is_some_and(|last| since(now, last) < policy.unknown_kid_interval)
                {
                    Decision::Refuse("unknown kid (refreshed recently)")
                } else {
                    Decision::Fetch { unknown_kid: true }
                }
            }
            // Never fetched, or past the TTL.
            _ if backing_off => match self.usable(kid, now, policy) {
                Some(key) => Decision::Use(key),
                None => Decision::Refuse("no usable key (key set unreachable)"),
            },
            _ => Decision::Fetch { unknown_kid: false },
        }
    }

    /// The key from the last keys fetched, if they are within their TTL and grace.
    fn usable(&self, kid: &str, now: Instant, policy: &Policy) -> Option<Arc<VerifyingKey>> {
        let (keys, fetched) = self.keys.as_ref()?;
        (since(now, *fetched) < policy.ttl + policy.stale_grace)
            .then(|| keys.get(kid))
            .flatten()
    }
}

impl KeyCache {
    pub fn new(policy: Policy) -> Self {
        Self {
            policy,
            state: Arc::default(),
            refresh: Arc::default(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// The key named `kid`, fetching the key set with `fetch` when the policy calls for it.
    /// `Err` says why there is none (for the logs).
    pub async fn key<F, Fut>(&self, kid: &str, fetch: F) -> Result<Arc<VerifyingKey>, &'static str>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<KeySet, String>> + Send + 'static,
    {
        let decision = {
            let state = self.state();
            (
                state.generation,
                state.decide(kid, Instant::now(), &self.policy),
            )
        };
        let (generation, unknown_kid) = match decision {
            (_, Decision::Use(key)) => return Ok(key),
            (_, Decision::Refuse(reason)) => return Err(reason),
            (_, Decision::Wait) => {
                drop(Arc::clone(&self.refresh).lock_owned().await);
                return self
                    .state()
                    .usable(kid, Instant::now(), &self.policy)
                    .ok_or("unknown kid (after a refresh)");
            }
            (generation, Decision::Fetch { unknown_kid }) => (generation, unknown_kid),
        };
        let guard = match Arc::clone(&self.refresh).try_lock_owned() {
            Ok(guard) => guard,
            Err(_) => {
                // A refresh is under way: expired keys still serve meanwhile.
                if let Some(key) = self.state().usable(kid, Instant::now(), &self.policy) {
                    return Ok(key);
                }
                Arc::clone(&self.refresh).lock_owned().await
            }
        };
        {
            let mut state = self.state();
            if state.generation != generation {
                // Another request fetched while this one waited: its result answers.
                drop(guard);
                return state
                    .usable(kid, Instant::now(), &self.policy)
                    .ok_or("unknown kid (after a refresh)");
            }
            if unknown_kid {
                state.last_unknown_kid_refresh = Some(Instant::now());
            }
            state.in_flight = true;
        }
        let (shared, backoff) = (Arc::clone(&self.state), self.policy.failure_backoff);
        let fetching = fetch();
        // Its own task: the result is recorded even if this request is dropped meanwhile.
        let task = tokio::spawn(async move {
            let result = fetching.await;
            let mut state = lock(&shared);
            state.generation += 1;
            state.in_flight = false;
            match result {
                Ok(keys) => {
                    state.keys = Some((Arc::new(keys), Instant::now()));
                    state.last_failure = None;
                }
                Err(error) => {
                    tracing::warn!(
                        error,
                        retry_after_s = backoff.as_secs(),
                        "fetching the JWKS failed"
                    );
                    state.last_failure = Some(Instant::now());
                }
            }
            drop(guard);
        });
        if task.await.is_err() {
            return Err("key set fetch failed");
        }
        self.state()
            .usable(kid, Instant::now(), &self.policy)
            .ok_or("unknown kid (after a refresh)")
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const TEST_KEY: &str = r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;

    fn set(kids: &[&str]) -> KeySet {
        let keys: Vec<String> = kids
            .iter()
            .map(|kid| TEST_KEY.replace('{', &format!("{{\"kid\":\"{kid}\",")))
            .collect();
        KeySet::parse(format!("{{\"keys\":[{}]}}", keys.join(",")).as_bytes()).unwrap()
    }

    /// A key source that counts its fetches and serves `kids` (or fails when empty), after
    /// `delay`.
    #[derive(Clone, Default)]
    struct Source {
        fetches: Arc<AtomicUsize>,
        kids: Arc<Mutex<Vec<&'static str>>>,
        delay: Duration,
    }

    impl Source {
        fn serving(kids: &[&'static str]) -> Self {
            let source = Self::default();
            source.serve(kids);
            source
        }

        fn serve(&self, kids: &[&'static str]) {
            *self.kids.lock().unwrap() = kids.to_vec();
        }

        fn fetches(&self) -> usize {
            self.fetches.load(Ordering::SeqCst)
        }

        fn fetch(&self) -> impl Future<Output = Result<KeySet, String>> + Send + 'static {
            let source = self.clone();
            async move {
                source.fetches.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(source.delay).await;
                let kids = source.kids.lock().unwrap().clone();
                if kids.is_empty() {
                    Err("unreachable".to_owned())
                } else {
                    Ok(set(&kids))
                }
            }
        }
    }

    fn policy(ttl_ms: u64, interval_ms: u64) -> Policy {
        Policy {
            ttl: Duration::from_millis(ttl_ms),
            unknown_kid_interval: Duration::from_millis(interval_ms),
            failure_backoff: Duration::from_millis(interval_ms),
            stale_grace: Duration::from_secs(60),
        }
    }

    #[tokio::test]
    async fn keys_are_fetched_once_then_again_after_their_ttl() {
        let source = Source::serving(&["a"]);
        let cache = KeyCache::new(policy(200, 10_000));
        for _ in 0..20 {
            assert!(cache.key("a", || source.fetch()).await.is_ok());
        }
        assert_eq!(source.fetches(), 1);
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(cache.key("a", || source.fetch()).await.is_ok());
        assert_eq!(source.fetches(), 2);
    }

    #[tokio::test]
    async fn unknown_kids_refresh_at_most_once_per_interval() {
        let source = Source::serving(&["a"]);
        let cache = KeyCache::new(policy(60_000, 300));
        assert!(cache.key("a", || source.fetch()).await.is_ok());
        // Rotation: the new kid is found by one refresh.
        source.serve(&["b"]);
        assert!(cache.key("b", || source.fetch()).await.is_ok());
        assert_eq!(source.fetches(), 2);
        // A flood of made-up kids, and the rotated-out kid: no fetch within the interval.
        for kid in ["x", "y", "z", "a"] {
            assert!(cache.key(kid, || source.fetch()).await.is_err());
        }
        assert_eq!(source.fetches(), 2);
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert!(cache.key("x", || source.fetch()).await.is_err());
        assert_eq!(source.fetches(), 3);
    }

    #[tokio::test]
    async fn concurrent_requests_share_one_fetch() {
        let source = Source {
            delay: Duration::from_millis(100),
            ..Source::serving(&["a"])
        };
        let cache = Arc::new(KeyCache::new(policy(60_000, 10_000)));
        let lookups = |kid: &'static str| {
            (0..16)
                .map(|_| {
                    let (cache, source) = (Arc::clone(&cache), source.clone());
                    tokio::spawn(async move { cache.key(kid, || source.fetch()).await.is_ok() })
                })
                .collect::<Vec<_>>()
        };
        // Cold start.
        for lookup in lookups("a") {
            assert!(lookup.await.unwrap());
        }
        assert_eq!(source.fetches(), 1);
        // The same unknown kid, sixteen times at once.
        source.serve(&["a", "b"]);
        for lookup in lookups("b") {
            assert!(lookup.await.unwrap());
        }
        assert_eq!(source.fetches(), 2);
    }

    #[tokio::test]
    async fn an_unreachable_provider_is_not_hammered_and_old_keys_serve_meanwhile() {
        let source = Source::serving(&["a"]);
        let cache = KeyCache::new(policy(100, 300));
        assert!(cache.key("a", || source.fetch()).await.is_ok());
        source.serve(&[]);
        tokio::time::sleep(Duration::from_millis(150)).await;
        // Past the TTL: one failed refresh, then the old keys without another attempt.
        for _ in 0..10 {
            assert!(cache.key("a", || source.fetch()).await.is_ok());
        }
        assert_eq!(source.fetches(), 2);
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert!(cache.key("a", || source.fetch()).await.is_ok());
        assert_eq!(source.fetches(), 3);
    }

    #[tokio::test]
    async fn without_keys_an_unreachable_provider_refuses_and_is_retried_after_the_backoff() {
        let source = Source::default();
        let cache = KeyCache::new(policy(60_000, 200));
        for _ in 0..5 {
            assert!(cache.key("a", || source.fetch()).await.is_err());
        }
        assert_eq!(source.fetches(), 1);
        source.serve(&["a"]);
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(cache.key("a", || source.fetch()).await.is_ok());
        assert_eq!(source.fetches(), 2);
    }
}

//! Brute-force protection for password checks (login, and `change-password`'s current
//! password), kept in DynamoDB.
//!
//! # Design
//! Three limits, each in its own item, none of which a correct password can trip by itself:
//!
//! | Scope | Limit | When reached |
//! |---|---|---|
//! | account × source IP | [`PAIR_LIMIT`] failures per [`PAIR_WINDOW`] s | that source is refused for that account until the window ends |
//! | source IP | [`IP_LIMIT`] failures per [`IP_WINDOW`] s | that source is refused for every account until the window ends |
//! | account, every source it does not know | past [`ACCOUNT_DELAY_AFTER`] failures per [`ACCOUNT_WINDOW`] s | a progressive delay after each failure (doubling every [`ACCOUNT_DELAY_STEP`] failures, at most [`ACCOUNT_MAX_DELAY`] s) and one attempt per delay, never a lock |
//!
//! Member emails are visible to every member, so a hard per-account lock would let anyone lock
//! anyone out from afar. Here an attacker only locks their own source out of an account; from
//! many sources they only slow the account down, and only for sources the account does not
//! know: a source that logged in with the password in the last 30 days ([`KNOWN_FOR`]) skips
//! the delay, so the user's own devices are never slowed by an attacker elsewhere. While the
//! account is delayed, unknown sources take turns: one attempt per delay, claimed with one
//! conditional update, so guesses sent in parallel the moment a delay ends cannot all pass.
//!
//! # Counting under concurrency
//! The two hard limits are semaphores ([`slots::Slots`]): an attempt takes a slot in both
//! *before* its password is known, with single-item conditional updates that never lose a
//! race. A failure keeps its slots (it was counted when claimed, so an error while recording
//! can never let a guess through uncounted); a success gives them back before answering. Only
//! failures and attempts in flight hold slots, so parallel guesses cannot overshoot a limit,
//! and a correct login that finds the last slots held by attempts in flight waits for them
//! rather than being refused: correct logins never lock each other out.
//!
//! Windows are fixed (aligned on the epoch), so `Retry-After` is the real time left until the
//! window that refused ends; a source can make at most twice a limit around a boundary.
//! Expiry is decided from the window in the key; `ttl` only cleans up.

pub mod slots;

use std::borrow::Cow;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::error::DomainError;
use dispatch_store::item::number_attribute;
use dispatch_store::keys::{self, Key};
use dispatch_store::{Attributes, Expression, Store, StoreError};
use slots::{Full, Slots};

/// Failed logins one source may make against one account per window.
pub const PAIR_LIMIT: i64 = 10;
/// The account × source window (seconds).
pub const PAIR_WINDOW: i64 = 900;
/// Failed logins one source IP may make per window, whatever the accounts.
pub const IP_LIMIT: i64 = 1_000;
/// The source IP window (seconds).
pub const IP_WINDOW: i64 = 3_600;
/// Failures of an account (from every source) per window before any delay.
pub const ACCOUNT_DELAY_AFTER: i64 = 20;
/// The delay doubles every this many further failures.
pub const ACCOUNT_DELAY_STEP: i64 = 10;
/// The longest delay (seconds) after an account's last failure.
pub const ACCOUNT_MAX_DELAY: i64 = 60;
/// The account window (seconds).
pub const ACCOUNT_WINDOW: i64 = 3_600;
/// How long a source that logged in with the password stays known to the account (seconds).
pub const KNOWN_FOR: i64 = 30 * 86_400;

/// Where an attempt comes from when the source IP is unknown (never in Lambda).
const UNKNOWN_SOURCE: &str = "unknown";

/// The answer to a throttled password check: identical whether the email exists.
pub fn refused(retry_after: i64) -> DomainError {
    DomainError::Throttled {
        msg: Cow::Borrowed("Too many failed login attempts. Please try again later."),
        retry_after_seconds: retry_after.max(1) as u64,
    }
}

/// The throttle of one password check: who (email), from where (IP), when.
#[derive(Debug, Clone)]
pub struct Throttle {
    email: String,
    now: i64,
    pair: Slots,
    ip: Slots,
    account: Key,
    known: Key,
    /// The account's delay (seconds) this attempt must claim its turn for: set by
    /// [`Throttle::refusal`] when the account is delayed and the source is not known.
    gate: Option<i64>,
}

/// A claimed attempt: report its outcome with [`Claim::failed`] or [`Claim::succeeded`].
#[derive(Debug)]
#[must_use = "a claim must be reported as failed or succeeded"]
pub struct Claim(Throttle);

impl Throttle {
    /// The throttle of a password check on `email` from `ip` at `now` (Unix seconds).
    pub fn new(email: &str, ip: Option<&str>, now: i64) -> Self {
        let ip = ip.unwrap_or(UNKNOWN_SOURCE);
        let slots = |key: Key, limit: i64, window: i64| Slots {
            key,
            limit,
            window_end: (now.div_euclid(window) + 1) * window,
        };
        Self {
            email: email.to_owned(),
            now,
            pair: slots(
                keys::login_throttle_pair(email, ip, now.div_euclid(PAIR_WINDOW)),
                PAIR_LIMIT,
                PAIR_WINDOW,
            ),
            ip: slots(
                keys::login_throttle_ip(ip, now.div_euclid(IP_WINDOW)),
                IP_LIMIT,
                IP_WINDOW,
            ),
            account: keys::login_throttle_account(email, now.div_euclid(ACCOUNT_WINDOW)),
            known: keys::login_throttle_known(email, ip),
            gate: None,
        }
    }

    /// The items [`Throttle::refusal`] needs, in its order (to read with other keys in one
    /// `BatchGetItem`).
    pub fn keys(&self) -> Vec<Key> {
        vec![
            self.pair.key.clone(),
            self.ip.key.clone(),
            self.account.clone(),
            self.known.clone(),
        ]
    }

    /// The refusal the stored state already decides (before any password check), as the
    /// seconds to wait: a full window, or the account's delay (which a known source skips).
    pub fn refusal(&mut self, items: &[Option<Attributes>]) -> Option<i64> {
        let item = |i: usize| items.get(i).and_then(Option::as_ref);
        let mut wait = None;
        for (slots, stored) in [(&self.pair, item(0)), (&self.ip, item(1))] {
            if slots.exhausted(stored) {
                wait = wait.max(Some(slots.window_end - self.now));
            }
        }
        let known = item(3)
            .and_then(|known| number_attribute(known, keys::attr::TTL))
            .is_some_and(|ttl| ttl > self.now);
        if known {
            return wait;
        }
        let now_ms = unix_millis();
        if let Some((until_ms, delay)) = account_delay(item(2)) {
            if until_ms > now_ms {
                // Whole seconds, rounded up: the client never retries too early.
                wait = wait.max(Some((until_ms - now_ms + 999) / 1000));
            }
            self.gate = Some(delay);
        }
        wait
    }

    /// Reads the state and refuses at once, before any password check, if it is decided.
    pub async fn check(&mut self, store: &Store) -> Result<(), DomainError> {
        let items = store.batch_get(&self.keys()).await?;
        match self.refusal(&items) {
            Some(wait) => Err(refused(wait)),
            None => Ok(()),
        }
    }

    /// Claims the attempt: a slot for this account from this source, and one for the source.
    /// A refusal is the error to answer with.
    pub async fn claim(self, store: &Store) -> Result<Claim, DomainError> {
        if let Some(delay) = self.gate {
            self.take_turn(store, delay).await?;
        }
        let (pair, ip) = tokio::join!(self.pair.take(store), self.ip.take(store));
        let full = |taken: &Result<Result<(), Full>, StoreError>| match taken {
            Ok(Err(full)) => Some(full.window_end),
            _ => None,
        };
        let refused_until = full(&pair).max(full(&ip));
        let errored = pair.is_err() || ip.is_err();
        if refused_until.is_some() || errored {
            // Give back what this attempt did take: it is not checked.
            if matches!(pair, Ok(Ok(()))) {
                self.pair.give_back(store).await?;
            }
            if matches!(ip, Ok(Ok(()))) {
                self.ip.give_back(store).await?;
            }
            if let Err(error) = pair.and(ip) {
                return Err(error.into());
            }
        }
        match refused_until {
            Some(end) => Err(refused(end - self.now)),
            None => Ok(Claim(self)),
        }
    }
}

impl Throttle {
    /// While the account is delayed, sources it does not know take turns: one attempt per
    /// delay, claimed with one conditional update, so parallel guesses from many sources
    /// cannot all pass the moment a delay ends.
    async fn take_turn(&self, store: &Store, delay: i64) -> Result<(), DomainError> {
        let now_ms = unix_millis();
        let update = Expression::new("SET #turn = :next")
            .name("#turn", "next_turn_ms")
            .value(
                ":next",
                AttributeValue::N((now_ms + delay * 1000).to_string()),
            );
        let condition = Expression::new("attribute_not_exists(#turn) OR #turn <= :now")
            .name("#turn", "next_turn_ms")
            .value(":now", AttributeValue::N(now_ms.to_string()));
        match store
            .update_if(&self.account, update, condition, "turn")
            .await
        {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed { .. }) => {
                // Another source has this turn: wait until the next one.
                let stored = store.get_attributes(&self.account).await?;
                let next_ms = stored
                    .as_ref()
                    .and_then(|item| number_attribute(item, "next_turn_ms"))
                    .unwrap_or(now_ms + delay * 1000);
                Err(refused((next_ms - unix_millis() + 999) / 1000))
            }
            Err(other) => Err(other.into()),
        }
    }
}

impl Claim {
    /// A wrong password: the slots stay taken, and the failure is counted everywhere.
    pub async fn failed(self, store: &Store) -> Result<(), DomainError> {
        let throttle = self.0;
        let account = store.update(
            &throttle.account,
            Expression::new("ADD #failed :one SET #last = :now, #ttl = :ttl, #entity = :entity")
                .name("#failed", "failed")
                .name("#last", "last_failed_ms")
                .name("#ttl", keys::attr::TTL)
                .name("#entity", keys::attr::ENTITY)
                .value(":one", AttributeValue::N("1".into()))
                // When the failure is known, to the millisecond: the delay runs from here.
                .value(":now", AttributeValue::N(unix_millis().to_string()))
                .value(
                    ":ttl",
                    AttributeValue::N((throttle.now + ACCOUNT_WINDOW + 60).to_string()),
                )
                .value(":entity", AttributeValue::S("LoginThrottle".into())),
        );
        let (pair, ip, account) = tokio::join!(
            throttle.pair.record_failure(store),
            throttle.ip.record_failure(store),
            account
        );
        pair?;
        ip?;
        account?;
        tracing::info!(email = %throttle.email, "failed password check");
        Ok(())
    }

    /// A correct password: its slots go back before the response, so a user's next login
    /// (or a parallel worker's) finds them.
    pub async fn succeeded(self, store: &Store) -> Result<(), DomainError> {
        let throttle = self.0;
        // This source now skips the account's delay: a user's own devices are not slowed
        // down by an attacker elsewhere.
        let known = store.update(
            &throttle.known,
            Expression::new("SET #ttl = :ttl, #entity = :entity")
                .name("#ttl", keys::attr::TTL)
                .name("#entity", keys::attr::ENTITY)
                .value(
                    ":ttl",
                    AttributeValue::N((throttle.now + KNOWN_FOR).to_string()),
                )
                .value(":entity", AttributeValue::S("LoginThrottle".into())),
        );
        let (pair, ip, known) = tokio::join!(
            throttle.pair.give_back(store),
            throttle.ip.give_back(store),
            known
        );
        pair?;
        ip?;
        known?;
        Ok(())
    }
}

/// An account's progressive delay, if it has one: when (Unix milliseconds) it ends after the
/// last failure, and its length in seconds.
fn account_delay(item: Option<&Attributes>) -> Option<(i64, i64)> {
    let item = item?;
    let failed = number_attribute(item, "failed")?;
    let last_ms = number_attribute(item, "last_failed_ms")?;
    delay_after(failed).map(|delay| (last_ms + delay * 1000, delay))
}

fn unix_millis() -> i64 {
    crate::time::Timestamp::now()
        .as_datetime()
        .timestamp_millis()
}

/// The delay (seconds) an account with `failed` failures in the window imposes after its last
/// failure: none up to [`ACCOUNT_DELAY_AFTER`], then 1 s doubling every
/// [`ACCOUNT_DELAY_STEP`] failures, capped at [`ACCOUNT_MAX_DELAY`].
pub fn delay_after(failed: i64) -> Option<i64> {
    if failed < ACCOUNT_DELAY_AFTER {
        return None;
    }
    let doublings = ((failed - ACCOUNT_DELAY_AFTER) / ACCOUNT_DELAY_STEP).min(16) as u32;
    Some(2_i64.pow(doublings).min(ACCOUNT_MAX_DELAY))
}

/// A password check under the throttle, for checks that do not batch their first read with
/// other keys (`change-password`): refuses at once if the state decides it, otherwise claims
/// the attempt while `check` runs and records its outcome. `Ok(false)` is a wrong password.
pub async fn guarded(
    store: &Store,
    mut throttle: Throttle,
    check: impl Future<Output = bool>,
) -> Result<bool, DomainError> {
    throttle.check(store).await?;
    let (claim, matched) = tokio::join!(throttle.claim(store), check);
    let claim = claim?;
    if matched {
        claim.succeeded(store).await?;
    } else {
        claim.failed(store).await?;
    }
    Ok(matched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_account_delay_grows_progressively_and_is_capped() {
        assert_eq!(delay_after(ACCOUNT_DELAY_AFTER - 1), None);
        assert_eq!(delay_after(ACCOUNT_DELAY_AFTER), Some(1));
        assert_eq!(
            delay_after(ACCOUNT_DELAY_AFTER + ACCOUNT_DELAY_STEP),
            Some(2)
        );
        assert_eq!(delay_after(10_000), Some(ACCOUNT_MAX_DELAY));
    }

    #[test]
    fn a_full_window_is_refused_until_it_ends() {
        let mut throttle = Throttle::new("a@example.com", Some("192.0.2.1"), 1_000);
        let full = dispatch_store::Item::bare(&throttle.pair.key, "LoginThrottle")
            .with_number("failed", PAIR_LIMIT)
            .into_attributes();
        assert_eq!(throttle.refusal(&[Some(full), None, None]), Some(800));
        assert_eq!(throttle.refusal(&[None, None, None]), None);
    }
}

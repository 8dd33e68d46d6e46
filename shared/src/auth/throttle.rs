//! Brute-force protection for logins, kept in DynamoDB.
//!
//! - Per account: at most [`ACCOUNT_LIMIT`] failed logins in any 60 minutes. Each attempt first
//!   *claims* a slot (an in-flight entry, written under a version check), so parallel guesses
//!   cannot overshoot the limit; a failure turns its slot into a failed entry; a success gives
//!   it back (and an attempt that never finishes lapses after [`IN_FLIGHT_SECONDS`]). The claim
//!   runs concurrently with the password check.
//! - Per source IP (API Gateway's `requestContext.http.sourceIp`, never `X-Forwarded-For`): a
//!   coarse count of failures per hour, weighted with the previous hour, at most [`IP_LIMIT`].
//!
//! Expiry is decided in code from the stored times; the `ttl` attribute only cleans up.
//! A login found locked by the first read is answered 429 before any password check.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::store::item::{Attributes, number_attribute};
use crate::store::keys::{self, Key};
use crate::store::{Expression, Item, Store, StoreError, Transaction, from_attributes};

/// Failed logins an account may have in one hour.
pub const ACCOUNT_LIMIT: usize = 100;
/// Failed logins one source IP may have in one hour.
pub const IP_LIMIT: i64 = 1_000;
/// The observation window.
pub const WINDOW_SECONDS: i64 = 3_600;
/// How long an attempt holds its slot while its password is being checked.
pub const IN_FLIGHT_SECONDS: i64 = 10;
/// Claims that lose a version race are tried again this often before the login is refused.
const CLAIM_RETRIES: usize = 5;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct AccountAttempts {
    #[serde(default)]
    failed: HashMap<String, i64>,
    #[serde(default)]
    in_flight: HashMap<String, i64>,
    version: u64,
    ttl: i64,
}

/// What the login's first read found: the account's recent attempts and the IP's counters.
#[derive(Debug, Clone)]
pub struct ThrottleState {
    email: String,
    ip: Option<String>,
    now: i64,
    account: Option<AccountAttempts>,
    ip_allowed: i64,
    ip_failures: i64,
}

/// The keys the login's first `BatchGetItem` must include, in [`ThrottleState::read`]'s order.
pub fn keys_to_read(email: &str, ip: Option<&str>, now: i64) -> Vec<Key> {
    let window = now.div_euclid(WINDOW_SECONDS);
    let mut wanted = vec![keys::login_throttle_account(email)];
    if let Some(ip) = ip {
        wanted.push(keys::login_throttle_ip(ip, window));
        wanted.push(keys::login_throttle_ip(ip, window - 1));
    }
    wanted
}

impl ThrottleState {
    /// Interprets the items read for [`keys_to_read`] (same order; absent items `None`).
    pub fn read(
        email: &str,
        ip: Option<&str>,
        now: i64,
        items: &[Option<Attributes>],
    ) -> Result<Self, ApiError> {
        let account = items
            .first()
            .cloned()
            .flatten()
            .map(from_attributes)
            .transpose()?;
        let count = |i: usize| {
            items
                .get(i)
                .and_then(|item| item.as_ref())
                .and_then(|item| number_attribute(item, "count"))
                .unwrap_or(0)
        };
        // The previous hour weighs as much as it still overlaps the last 60 minutes.
        let remaining = 1.0 - (now.rem_euclid(WINDOW_SECONDS) as f64 / WINDOW_SECONDS as f64);
        Ok(Self {
            email: email.to_owned(),
            ip: ip.map(str::to_owned),
            now,
            account,
            ip_allowed: IP_LIMIT - (count(2) as f64 * remaining).ceil() as i64,
            ip_failures: count(1),
        })
    }

    fn recent(&self) -> (HashMap<String, i64>, HashMap<String, i64>) {
        let Some(account) = &self.account else {
            return Default::default();
        };
        let failed = account
            .failed
            .iter()
            .filter(|(_, at)| **at > self.now - WINDOW_SECONDS);
        let in_flight = account
            .in_flight
            .iter()
            .filter(|(_, at)| **at > self.now - IN_FLIGHT_SECONDS);
        (
            failed.map(|(k, v)| (k.clone(), *v)).collect(),
            in_flight.map(|(k, v)| (k.clone(), *v)).collect(),
        )
    }

    /// Whether the account or the IP is locked out.
    pub fn locked(&self) -> bool {
        let (failed, in_flight) = self.recent();
        failed.len() + in_flight.len() >= ACCOUNT_LIMIT
            || (self.ip.is_some() && self.ip_failures >= self.ip_allowed)
    }
}

/// A claimed attempt; report a failure with [`fail`].
#[derive(Debug, Clone)]
pub struct Claim {
    account: Key,
    attempt: String,
    ip_window: Option<Key>,
    now: i64,
}

/// Claims a slot for this attempt, or answers `None` when the account is (or just became)
/// locked out.
pub async fn claim(store: &Store, mut state: ThrottleState) -> Result<Option<Claim>, ApiError> {
    let account_key = keys::login_throttle_account(&state.email);
    let attempt = format!("{:016x}", rand::random::<u64>());
    for _ in 0..=CLAIM_RETRIES {
        if state.locked() {
            return Ok(None);
        }
        let (failed, mut in_flight) = state.recent();
        in_flight.insert(attempt.clone(), state.now);
        let expected = state.account.as_ref().map(|a| a.version);
        let record = AccountAttempts {
            failed,
            in_flight,
            version: expected.map_or(1, |v| v + 1),
            ttl: state.now + WINDOW_SECONDS,
        };
        let mut tx = Transaction::new();
        let item = Item::new(&account_key, "LoginThrottleAccount", &record)?;
        match expected {
            Some(version) => tx.put_versioned(item, version)?,
            None => tx.put_new(item, crate::store::transaction::VERSION_LABEL)?,
        };
        match store.transact(tx).await {
            Ok(()) => {
                let window = state.now.div_euclid(WINDOW_SECONDS);
                return Ok(Some(Claim {
                    account: account_key,
                    attempt,
                    ip_window: state
                        .ip
                        .as_deref()
                        .map(|ip| keys::login_throttle_ip(ip, window)),
                    now: state.now,
                }));
            }
            Err(StoreError::VersionConflict) => {
                // Another attempt on this account won the race: read again and retry.
                state.account = store.get(&account_key).await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(None)
}

/// Records the claimed attempt as a failure, for the account and for the source IP.
pub async fn fail(store: &Store, claim: Claim) -> Result<(), ApiError> {
    let mut tx = Transaction::new();
    tx.update(
        claim.account,
        // Bumping the version makes a concurrent claim that read the old state re-read it.
        Expression::new(
            "SET #failed.#attempt = :at, #ttl = :ttl REMOVE #in_flight.#attempt ADD #version :one",
        )
        .name("#failed", "failed")
        .name("#in_flight", "in_flight")
        .name("#attempt", &claim.attempt)
        .name("#ttl", keys::attr::TTL)
        .name("#version", keys::attr::VERSION)
        .value(":at", AttributeValue::N(claim.now.to_string()))
        .value(
            ":ttl",
            AttributeValue::N((claim.now + WINDOW_SECONDS).to_string()),
        )
        .value(":one", AttributeValue::N("1".into())),
        None,
        None,
    )?;
    if let Some(window) = claim.ip_window {
        tx.update(
            window,
            Expression::new("ADD #count :one SET #ttl = :ttl, #entity = :entity")
                .name("#count", "count")
                .name("#ttl", keys::attr::TTL)
                .name("#entity", keys::attr::ENTITY)
                .value(":one", AttributeValue::N("1".into()))
                .value(
                    ":ttl",
                    AttributeValue::N((claim.now + 2 * WINDOW_SECONDS).to_string()),
                )
                .value(":entity", AttributeValue::S("LoginThrottleIp".into())),
            None,
            None,
        )?;
    }
    store.transact(tx).await?;
    Ok(())
}

/// Gives a successful attempt's slot back (the limit counts failures only). It does not bump
/// the version, so it never makes a concurrent claim retry; a claim that read the slot just
/// before may write it back, and it then lapses after [`IN_FLIGHT_SECONDS`].
pub async fn release(store: &Store, claim: Claim) -> Result<(), ApiError> {
    store
        .update(
            &claim.account,
            Expression::new("REMOVE #in_flight.#attempt")
                .name("#in_flight", "in_flight")
                .name("#attempt", &claim.attempt),
        )
        .await?;
    Ok(())
}

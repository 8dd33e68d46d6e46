//! Brute-force protection for logins, kept in DynamoDB.
//!
//! - Per account: at most [`ACCOUNT_LIMIT`] failed logins in any 60 minutes. Each attempt
//!   *claims* a slot before the password is checked (a map of attempt id → time, rewritten under
//!   a version check), so parallel guesses cannot overshoot the limit; a successful login gives
//!   its slot back.
//! - Per source IP (API Gateway's `requestContext.http.sourceIp`, never `X-Forwarded-For`): a
//!   coarse counter per hour, weighted with the previous hour, at most [`IP_LIMIT`].
//!
//! Expiry is decided in code from the stored times; the `ttl` attribute only cleans up.
//! A locked login is answered before any lookup of the user and runs no argon2.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::store::keys::{self, Key};
use crate::store::{
    Expression, Item, Store, StoreError, Transaction, from_attributes, retry_on_version_conflict,
};

/// Failed logins an account may have in one hour.
pub const ACCOUNT_LIMIT: usize = 100;
/// Failed logins one source IP may have in one hour.
pub const IP_LIMIT: i64 = 1_000;
/// The observation window.
pub const WINDOW_SECONDS: i64 = 3_600;

const IP_LABEL: &str = "ip_limit";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct AccountAttempts {
    attempts: HashMap<String, i64>,
    version: u64,
    ttl: i64,
}

/// A claimed login attempt; give it back with [`release`] when the login succeeds.
#[derive(Debug, Clone)]
pub struct Claim {
    account: Key,
    attempt: String,
    ip_window: Option<Key>,
}

/// Claims an attempt for `email` from `ip`, or answers `None` when either is locked out.
pub async fn claim(
    store: &Store,
    email: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<Option<Claim>, ApiError> {
    let account_key = keys::login_throttle_account(email);
    let window = now.div_euclid(WINDOW_SECONDS);
    let ip_keys = ip.map(|ip| {
        (
            keys::login_throttle_ip(ip, window),
            keys::login_throttle_ip(ip, window - 1),
        )
    });
    let attempt = format!("{:016x}", rand::random::<u64>());

    retry_on_version_conflict(|| async {
        let mut wanted = vec![account_key.clone()];
        if let Some((current, previous)) = &ip_keys {
            wanted.push(current.clone());
            wanted.push(previous.clone());
        }
        let found = store.batch_get(&wanted).await?;
        let stored: Option<AccountAttempts> = found[0].clone().map(from_attributes).transpose()?;
        let expected_version = stored.as_ref().map(|s| s.version);
        let mut recent: HashMap<String, i64> = stored
            .map(|s| s.attempts)
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, at)| *at > now - WINDOW_SECONDS)
            .collect();
        if recent.len() >= ACCOUNT_LIMIT {
            return Ok(None);
        }

        let mut tx = Transaction::new();
        if let Some((current, _)) = &ip_keys {
            let count = |i: usize| {
                found[i]
                    .as_ref()
                    .and_then(|item| crate::store::item::number_attribute(item, "count"))
                    .unwrap_or(0)
            };
            // The previous hour weighs as much as it still overlaps the last 60 minutes.
            let remaining = 1.0 - (now.rem_euclid(WINDOW_SECONDS) as f64 / WINDOW_SECONDS as f64);
            let allowed = IP_LIMIT - (count(2) as f64 * remaining).ceil() as i64;
            if count(1) >= allowed {
                return Ok(None);
            }
            tx.update(
                current.clone(),
                Expression::new("ADD #count :one SET #ttl = :ttl, #entity = :entity")
                    .name("#count", "count")
                    .name("#ttl", keys::attr::TTL)
                    .name("#entity", keys::attr::ENTITY)
                    .value(":one", AttributeValue::N("1".into()))
                    .value(
                        ":ttl",
                        AttributeValue::N((now + 2 * WINDOW_SECONDS).to_string()),
                    )
                    .value(":entity", AttributeValue::S("LoginThrottleIp".into())),
                Some(
                    Expression::new("attribute_not_exists(#count) OR #count < :allowed")
                        .name("#count", "count")
                        .value(":allowed", AttributeValue::N(allowed.to_string())),
                ),
                Some(IP_LABEL),
            )?;
        }

        recent.insert(attempt.clone(), now);
        let record = AccountAttempts {
            attempts: recent,
            version: expected_version.map_or(1, |v| v + 1),
            ttl: now + WINDOW_SECONDS,
        };
        let item = Item::new(&account_key, "LoginThrottleAccount", &record)?;
        match expected_version {
            Some(version) => tx.put_versioned(item, version)?,
            None => tx.put_new(item, crate::store::transaction::VERSION_LABEL)?,
        };
        match store.transact(tx).await {
            Ok(()) => Ok(Some(Claim {
                account: account_key.clone(),
                attempt: attempt.clone(),
                ip_window: ip_keys.as_ref().map(|(current, _)| current.clone()),
            })),
            Err(StoreError::ConditionFailed { label }) if label == IP_LABEL => Ok(None),
            Err(e) => Err(ApiError::from(e)),
        }
    })
    .await
    .or_else(|e| match e {
        // Still losing races after the retries: many parallel attempts on one account.
        ApiError::VersionConflict => Ok(None),
        other => Err(other),
    })
}

/// Gives a successful login's slot back (the limit counts failures only).
pub async fn release(store: &Store, claim: Claim) -> Result<(), ApiError> {
    let mut tx = Transaction::new();
    tx.update(
        claim.account,
        // Bumping the version makes a concurrent claim that read the slot re-read it.
        Expression::new("REMOVE #attempts.#attempt ADD #version :one")
            .name("#attempts", "attempts")
            .name("#attempt", &claim.attempt)
            .name("#version", keys::attr::VERSION)
            .value(":one", AttributeValue::N("1".into())),
        None,
        None,
    )?;
    if let Some(window) = claim.ip_window {
        tx.update(
            window,
            Expression::new("ADD #count :minus_one")
                .name("#count", "count")
                .value(":minus_one", AttributeValue::N("-1".into())),
            None,
            None,
        )?;
    }
    store.transact(tx).await?;
    Ok(())
}

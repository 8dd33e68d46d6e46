//! MFA challenges of the built-in `dispatch-auth-mfa` plugin (Dispatch's `MfaChallenge`):
//! something asks a user to confirm an action, the user opens the challenge's link in the UI,
//! and the UI calls `POST /{organization}/auth/mfa`, which approves it ([`validate`]); whoever
//! asked waits for the approval ([`wait_for_challenge`]). Compatibility: D-MFA1.
//!
//! A challenge is one item, `MFA#<uuid>` / `MFA`, holding its organization (slug and id), the
//! project, the user (id and email), the action, its status and two times in epoch seconds:
//! `created_at` and `expires_at`. Its `ttl` attribute lets DynamoDB delete it a day after it
//! expires, but TTL deletes late (up to days), so whether a challenge is still valid is always
//! decided in code from `expires_at`, never from the item being gone.
//!
//! The status only ever moves from `pending` to a final state (`approved`, `denied`,
//! `expired`), and each move is an update conditional on `pending`: of an approval and an
//! expiry racing, exactly one lands, and the other reads the result.

mod validate;
mod wait;

pub use validate::{
    ACTION_MISMATCH, BUILT_IN_PLUGIN, INVALID_CHALLENGE, MFA_PLUGIN_TYPE, MfaPayload,
    NO_LONGER_VALID, NOT_ENABLED, check, validate,
};
pub use wait::{DEFAULT_POLL, DEFAULT_TIMEOUT, wait_for_challenge};

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::error::{DomainError, OnCondition};
use crate::model::{Organization, ShortText, User};
use crate::project_reads;
use dispatch_store::keys::{self, Key};
use dispatch_store::{Expression, Item, Store, StoreError, Transaction};

/// Where a challenge's link points: `DISPATCH_UI_URL`, read by the admin CLI.
pub const UI_URL_VARIABLE: &str = "DISPATCH_UI_URL";
/// The UI's address when `DISPATCH_UI_URL` is not set (Dispatch's default).
pub const DEFAULT_UI_URL: &str = "http://localhost:8080";
/// How long a challenge stays valid unless told otherwise: the default wait.
pub const DEFAULT_LIFETIME: Duration = DEFAULT_TIMEOUT;
/// The longest lifetime: a challenge confirms one action now, not a standing permission.
pub const MAX_LIFETIME: Duration = Duration::from_secs(86_400);
/// How long an item stays after it expired before TTL may delete it: long enough for whoever
/// waits, or an operator, to read how it ended.
pub const RETENTION: Duration = Duration::from_secs(86_400);

/// The entity type of challenge items.
const ENTITY: &str = "MfaChallenge";
/// The label of the "project is live" condition of a creation.
const PROJECT_LABEL: &str = "mfa-project";
/// The label of the new challenge (a fresh UUID: its condition never fails in practice).
const CHALLENGE_LABEL: &str = "mfa-challenge";
/// The label of the conditional status moves.
pub(crate) const PENDING_LABEL: &str = "mfa-pending";

/// Dispatch's `MfaChallengeStatus`, stored and answered in lower case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Approved,
    Denied,
    Expired,
}

impl Status {
    /// The stored and answered value (`"approved"`, …), as Dispatch's messages show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Denied => "denied",
            Status::Expired => "expired",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One challenge, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// The UUID, hyphenated and in lower case (the key's form).
    pub challenge_id: String,
    /// The organization's slug and id: a challenge is found only under that organization, and
    /// only while it is the same organization (a slug deleted and created again is another).
    pub organization: String,
    pub organization_id: i32,
    pub project_id: i32,
    /// Whose confirmation is asked: only this user may approve it.
    pub user_id: i32,
    pub email: String,
    pub action: String,
    pub status: Status,
    /// Epoch seconds.
    pub created_at: i64,
    /// Epoch seconds; the challenge is valid strictly before.
    pub expires_at: i64,
}

impl Challenge {
    /// Dispatch's `valid` flag, decided from the stored expiry (never from TTL having run).
    pub fn is_valid(&self, now: i64) -> bool {
        now < self.expires_at
    }
}

/// Now, in epoch seconds.
pub(crate) fn now_seconds() -> i64 {
    crate::time::epoch_seconds()
}

/// The key of challenge `id` (a normalised UUID, see [`parse_id`]).
fn key(id: &str) -> Key {
    keys::mfa_challenge(id)
}

/// A challenge id in the key's form, or `None` when `raw` is not a UUID. Postgres accepts a
/// UUID in any of its spellings (upper case, no hyphens, braces, `urn:uuid:`), and so do we;
/// anything else cannot name a challenge, and is refused before any read.
pub fn parse_id(raw: &str) -> Option<String> {
    uuid::Uuid::try_parse(raw.trim())
        .ok()
        .map(|id| id.hyphenated().to_string())
}

/// The stored challenge `id` (normalised), if any.
pub async fn load(store: &Store, id: &str) -> Result<Option<Challenge>, DomainError> {
    Ok(store.get(&key(id)).await?)
}

/// Creates a pending challenge asking `user` to confirm `action` in project `project_id` of
/// `org`, valid for `lifetime` (at most [`MAX_LIFETIME`]). The project must be a live project
/// of `org` (404 otherwise), checked again in the write. `action` may not be empty: the UI
/// refuses a link without one.
pub async fn create_challenge(
    store: &Store,
    org: &Organization,
    project_id: i32,
    user: &User,
    action: &ShortText,
    lifetime: Duration,
) -> Result<Challenge, DomainError> {
    if action.as_str().is_empty() {
        return Err(DomainError::invalid(
            "String should have at least 1 character",
            crate::body!["action"],
            "string_too_short",
        ));
    }
    if lifetime > MAX_LIFETIME {
        return Err(DomainError::invalid(
            format!("The lifetime is at most {} seconds", MAX_LIFETIME.as_secs()),
            crate::body!["lifetime"],
            "less_than_equal",
        ));
    }
    let slug = org.slug.as_str();
    project_reads::get(store, slug, project_id).await?;
    let now = now_seconds();
    let expires_at = now + lifetime.as_secs() as i64;
    let challenge = Challenge {
        challenge_id: uuid::Uuid::new_v4().hyphenated().to_string(),
        organization: slug.to_owned(),
        organization_id: org.id,
        project_id,
        user_id: user.id,
        email: user.email.as_str().to_owned(),
        action: action.as_str().to_owned(),
        status: Status::Pending,
        created_at: now,
        expires_at,
    };
    let item = Item::new(&key(&challenge.challenge_id), ENTITY, &challenge)?
        .with_number(keys::attr::TTL, expires_at + RETENTION.as_secs() as i64);
    let mut tx = Transaction::new();
    tx.check(
        keys::project(slug, project_id),
        Expression::item_live(),
        PROJECT_LABEL,
    )?;
    tx.put_new(item, CHALLENGE_LABEL)?;
    store.transact(tx).await.on_condition(PROJECT_LABEL, || {
        DomainError::NotFound(project_reads::NOT_FOUND.into())
    })?;
    Ok(challenge)
}

/// Moves challenge `id` from `pending` to `to` when `guard` (an extra condition, with its
/// placeholders) holds too. `ConditionFailed` when it is no longer pending (or the guard
/// fails): the caller re-reads.
pub(crate) async fn settle(
    store: &Store,
    id: &str,
    to: Status,
    guard: Option<Expression>,
) -> Result<(), StoreError> {
    let mut condition = Expression::new("#status = :pending")
        .name("#status", "status")
        .value(":pending", attribute(Status::Pending));
    if let Some(guard) = guard {
        condition = condition.and(guard);
    }
    let update = Expression::new("SET #status = :to, #settled = :now")
        .name("#status", "status")
        .name("#settled", "settled_at")
        .value(":to", attribute(to))
        .value(
            ":now",
            aws_sdk_dynamodb::types::AttributeValue::N(now_seconds().to_string()),
        );
    store
        .update_if(&key(id), update, condition, PENDING_LABEL)
        .await
}

fn attribute(status: Status) -> aws_sdk_dynamodb::types::AttributeValue {
    aws_sdk_dynamodb::types::AttributeValue::S(status.as_str().to_owned())
}

/// `DISPATCH_UI_URL` (absent or empty: [`DEFAULT_UI_URL`]): an `http(s)://` address of visible
/// ASCII characters, at most 2,048 of them; a trailing `/` is dropped.
pub fn ui_url(raw: Option<&str>) -> Result<String, ConfigError> {
    let Some(raw) = raw.map(str::trim).filter(|raw| !raw.is_empty()) else {
        return Ok(DEFAULT_UI_URL.to_owned());
    };
    let scheme = raw.starts_with("http://") || raw.starts_with("https://");
    if !scheme || raw.len() > 2_048 || !raw.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ConfigError::Malformed {
            name: UI_URL_VARIABLE,
            reason: "expected an http:// or https:// address".into(),
        });
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

/// The UI's page for the challenge, as Dispatch builds it:
/// `{ui}/{org}/mfa?project_id=…&challenge_id=…&action=…` (the action percent-encoded, which
/// Dispatch omits, so that an action with `&` or spaces survives the trip).
pub fn challenge_link(ui_url: &str, challenge: &Challenge) -> String {
    let action: String = form_urlencoded::byte_serialize(challenge.action.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    format!(
        "{ui_url}/{}/mfa?project_id={}&challenge_id={}&action={action}",
        challenge.organization, challenge.project_id, challenge.challenge_id
    )
}

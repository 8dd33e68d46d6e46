//! A login: email and password for the user and their projects in the path's organization.
//!
//! Bad credentials are Dispatch's two-item 422, the same whether the email exists or not, and
//! cost the same: exactly one argon2 verification (against a dummy hash for an unknown email)
//! and the same DynamoDB requests. Attempts are throttled per account and source IP, per
//! source IP, and per account ([`super::throttle`]).
//!
//! One `BatchGetItem` reads the organization, the credentials and the throttle state; then the
//! password check, the throttle claim and (for a known email) the user and their projects run
//! concurrently, so a successful login costs about one argon2 verification plus one round trip.

use dispatch_store::{Store, from_attributes, keys};

use super::throttle::{self, Throttle};
use super::{Password, Passwords};
use crate::error::{DomainError, FieldError};
use crate::messages::ORGANIZATION_NOT_FOUND;
use crate::model::{Credentials, LinkSummary, Project, User};
use crate::time::Timestamp;
use crate::{memberships, organizations};

/// Dispatch's answer to a wrong email or password: identical in both cases.
pub fn bad_credentials() -> DomainError {
    DomainError::Invalid(vec![
        FieldError::new("Invalid username.", crate::bare!["username"], "value_error"),
        FieldError::new("Invalid password.", crate::bare!["password"], "value_error"),
    ])
}

/// Who logged in: the user, and their projects in the organization.
#[derive(Debug, Clone)]
pub struct LoggedIn {
    pub user: User,
    pub projects: Vec<(LinkSummary, Project)>,
}

/// Checks `email` and `password` for a login under organization `slug` from `ip`.
pub async fn login(
    store: &Store,
    passwords: &Passwords,
    slug: &str,
    email: &str,
    password: &Password,
    ip: Option<&str>,
) -> Result<LoggedIn, DomainError> {
    let mut guard = Throttle::new(email, ip, Timestamp::now().unix_seconds());
    let mut wanted = vec![keys::organization(slug), keys::email_guard(email)];
    wanted.extend(guard.keys());
    let found = store.batch_get(&wanted).await?;
    if found[0]
        .clone()
        .map(organizations::visible)
        .transpose()?
        .flatten()
        .is_none()
    {
        return Err(DomainError::NotFound(ORGANIZATION_NOT_FOUND.into()));
    }
    if let Some(wait) = guard.refusal(&found[2..]) {
        return Err(throttle::refused(wait));
    }
    let credentials: Option<Credentials> = found[1].clone().map(from_attributes).transpose()?;

    // An unknown email reads a profile too (of a user that does not exist), so both failure
    // paths make the same requests while the password is checked.
    let profile = profile(store, credentials.as_ref().map_or(0, |c| c.user_id), slug);
    let (claim, matched, profile) = tokio::join!(
        guard.claim(store),
        passwords.verify(
            password,
            credentials.as_ref().map(|c| c.password_hash.as_str())
        ),
        profile,
    );
    // A refused claim hides the password check's outcome.
    let claim = claim?;
    if !matched {
        claim.failed(store).await?;
        return Err(bad_credentials());
    }
    claim.succeeded(store).await?;
    profile
}

/// The user and their projects in this organization, for the response.
async fn profile(store: &Store, user_id: i32, slug: &str) -> Result<LoggedIn, DomainError> {
    let user_key = keys::user(user_id);
    let (user, projects) = tokio::join!(
        store.get::<User>(&user_key),
        memberships::projects_in(store, user_id, slug)
    );
    let user = user?.ok_or_else(bad_credentials)?;
    Ok(LoggedIn {
        user,
        projects: projects?,
    })
}

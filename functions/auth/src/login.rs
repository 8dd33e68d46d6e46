//! `POST /api/v1/{organization}/auth/login`: email and password for a token.
//!
//! Bad credentials get Dispatch's two-item 422, the same whether the email exists or not, and
//! cost the same: exactly one argon2 verification (against a dummy hash for an unknown email)
//! and the same DynamoDB requests. Attempts are throttled per account and source IP, per
//! source IP, and per account ([`dispatch_shared::auth::throttle`]).
//!
//! One `BatchGetItem` reads the organization, the credentials and the throttle state; then the
//! password check, the throttle claim and (for a known email) the user and their projects run
//! concurrently, so a successful login costs about one argon2 verification plus one round trip.

use axum::extract::{Path, State};
use dispatch_shared::auth::throttle::{self, Throttle};
use dispatch_shared::auth::{Password, token};
use dispatch_shared::domain::{memberships, organizations};
use dispatch_shared::error::{ApiError, ErrorDetail};
use dispatch_shared::http::Json;
use dispatch_shared::model::{Credentials, EmailAddress, User};
use dispatch_shared::permissions::ORGANIZATION_NOT_FOUND;
use dispatch_shared::store::{from_attributes, keys};
use dispatch_shared::time::Timestamp;
use dispatch_shared::views::UserProject;
use dispatch_shared::{AppState, loc};
use serde::Deserialize;
use serde_json::{Value, json};

use dispatch_shared::http::SourceIp;

/// Dispatch's `UserLogin` (extra keys such as `projects` are ignored).
#[derive(Debug, Deserialize)]
pub struct LoginBody {
    pub email: EmailAddress,
    pub password: String,
}

/// Dispatch's answer to a wrong email or password: identical in both cases.
pub fn bad_credentials() -> ApiError {
    ApiError::Validation(vec![
        ErrorDetail::new("Invalid username.", loc!["username"], "value_error"),
        ErrorDetail::new("Invalid password.", loc!["password"], "value_error"),
    ])
}

/// Parses and validates the organization slug of the path.
pub(crate) fn organization_slug(raw: &str) -> Result<String, ApiError> {
    dispatch_shared::model::OrganizationSlug::parse(raw)
        .map(|slug| slug.as_str().to_owned())
        .map_err(|invalid| invalid.at(loc!["path", "organization"]))
}

pub async fn login(
    State(state): State<AppState>,
    Path(organization): Path<String>,
    SourceIp(ip): SourceIp,
    Json(body): Json<LoginBody>,
) -> Result<Json<Value>, ApiError> {
    let slug = organization_slug(&organization)?;
    let password =
        Password::parse(&body.password).map_err(|invalid| invalid.at(loc!["body", "password"]))?;
    let email = body.email.as_str();
    let store = state.store();
    let now = Timestamp::now().unix_seconds();

    let guard = Throttle::new(email, ip.as_deref(), now);
    let mut wanted = vec![keys::organization(&slug), keys::email_guard(email)];
    wanted.extend(guard.keys());
    let found = store.batch_get(&wanted).await?;
    if found[0]
        .clone()
        .map(organizations::visible)
        .transpose()?
        .flatten()
        .is_none()
    {
        return Err(ApiError::NotFound(ORGANIZATION_NOT_FOUND.into()));
    }
    if let Some(wait) = guard.refusal(&found[2..]) {
        return Err(throttle::refused(wait));
    }
    let credentials: Option<Credentials> = found[1].clone().map(from_attributes).transpose()?;

    // An unknown email reads a profile too (of a user that does not exist), so both failure
    // paths make the same requests while the password is checked.
    let profile = profile(&state, credentials.as_ref().map_or(0, |c| c.user_id), &slug);
    let (claim, matched, profile) = tokio::join!(
        guard.claim(store),
        state.passwords().verify(
            &password,
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
    let (user, projects) = profile?;
    let token = token::issue(&state.secrets().jwt, &user, state.config())?;
    Ok(Json(json!({ "projects": projects, "token": token })))
}

/// The user and their projects in this organization, for the response.
async fn profile(
    state: &AppState,
    user_id: i32,
    slug: &str,
) -> Result<(User, Vec<UserProject>), ApiError> {
    let user_key = keys::user(user_id);
    let (user, projects) = tokio::join!(
        state.store().get::<User>(&user_key),
        memberships::projects_in(state.store(), user_id, slug)
    );
    let user = user?.ok_or_else(bad_credentials)?;
    Ok((user, projects?))
}

//! `POST /api/v1/{organization}/auth/login`: email and password for a token.
//!
//! Bad credentials get Dispatch's two-item 422, the same whether the email exists or not, and
//! cost the same: exactly one argon2 verification (against a dummy hash for an unknown email).
//! Attempts are throttled per account and per source IP before anything is looked up.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path, State};
use dispatch_shared::auth::{Password, throttle, token};
use dispatch_shared::domain::users;
use dispatch_shared::error::{ApiError, ErrorDetail};
use dispatch_shared::http::Json;
use dispatch_shared::model::{EmailAddress, User};
use dispatch_shared::permissions::ORGANIZATION_NOT_FOUND;
use dispatch_shared::store::{from_attributes, item::number_attribute, keys};
use dispatch_shared::{AppState, loc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::source_ip::SourceIp;

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

/// The answer while an account or an IP is locked out: identical whether the email exists.
pub fn locked_out() -> ApiError {
    ApiError::TooManyRequests("Too many failed login attempts. Please try again later.".into())
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

    let found = store
        .batch_get(&[keys::organization(&slug), keys::email_guard(email)])
        .await?;
    if found[0].is_none() {
        return Err(ApiError::NotFound(ORGANIZATION_NOT_FOUND.into()));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let Some(claim) = throttle::claim(store, email, ip.as_deref(), now).await? else {
        return Err(locked_out());
    };

    // An unknown email still reads an item, so both paths cost the same round trips.
    let user_id = found[1]
        .as_ref()
        .and_then(|guard| number_attribute(guard, "user_id"))
        .unwrap_or(0) as i32;
    let user: Option<User> = store
        .get_attributes(&keys::user(user_id))
        .await?
        .map(from_attributes)
        .transpose()?;
    let stored_hash = user.as_ref().map(|u| u.password_hash.as_str());
    if !state.passwords().verify(&password, stored_hash).await {
        return Err(bad_credentials());
    }
    let user = user.ok_or_else(bad_credentials)?;
    throttle::release(store, claim).await?;

    let projects = users::projects_in(store, user.id, &slug).await?;
    let token = token::issue(&state.secrets().jwt, &user, state.config().jwt_lifetime)?;
    Ok(Json(json!({ "projects": projects, "token": token })))
}

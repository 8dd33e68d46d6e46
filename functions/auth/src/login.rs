//! `POST /api/v1/{organization}/auth/login`: email and password for a token.
//!
//! The rules (identical answers and costs for a wrong email or password, the throttle, one
//! round trip) are [`dispatch_domain::auth::login`]'s; this answers with the token and the
//! user's projects.

use axum::extract::{Path, State};
use dispatch_domain::auth::{Password, login, token};
use dispatch_domain::model::{EmailAddress, OrganizationSlug};
use dispatch_shared::AppState;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::{Json, SourceIp};
use dispatch_shared::views::user_projects;
use serde::Deserialize;
use serde_json::{Value, json};

/// Dispatch's `UserLogin` (extra keys such as `projects` are ignored).
#[derive(Debug, Deserialize)]
pub struct LoginBody {
    pub email: EmailAddress,
    pub password: String,
}

/// Parses and validates the organization slug of the path.
pub(crate) fn organization_slug(raw: &str) -> Result<String, ApiError> {
    let slug = OrganizationSlug::parse(raw)
        .map_err(|invalid| invalid.at(dispatch_domain::path_param!["organization"]))?;
    Ok(slug.as_str().to_owned())
}

pub async fn login(
    State(state): State<AppState>,
    Path(organization): Path<String>,
    SourceIp(ip): SourceIp,
    Json(body): Json<LoginBody>,
) -> Result<Json<Value>, ApiError> {
    let slug = organization_slug(&organization)?;
    let password = Password::parse(&body.password)
        .map_err(|invalid| invalid.at(dispatch_domain::body!["password"]))?;
    let logged_in = login::login(
        state.store(),
        state.passwords(),
        &slug,
        body.email.as_str(),
        &password,
        ip.as_deref(),
    )
    .await?;
    let token = token::issue(&state.secrets().jwt, &logged_in.user, state.config())?;
    let projects = user_projects(&logged_in.projects);
    Ok(Json(json!({ "projects": projects, "token": token })))
}

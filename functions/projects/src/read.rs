//! `GET /api/v1/{organization}/projects/{project_id}`: one project of the organization.

use axum::extract::{Path, State};
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::model::{PrimaryKey, Project};
use dispatch_shared::store::keys;
use dispatch_shared::views::project_read;
use dispatch_shared::{AppState, Caller, loc};
use serde_json::Value;

/// Dispatch's 404 for a project that does not exist (in this organization).
pub const NOT_FOUND: &str = "A project with this id does not exist.";

pub async fn get_project(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, raw_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let org = caller.organization()?;
    let number: i64 = raw_id.parse().map_err(|_| {
        ApiError::validation(
            "Input should be a valid integer, unable to parse string as an integer",
            loc!["path", "project_id"],
            "int_parsing",
        )
    })?;
    let id = PrimaryKey::new(number).map_err(|invalid| invalid.at(loc!["path", "project_id"]))?;
    let project: Project = state
        .store()
        .get(&keys::project(&org.slug, id.get()))
        .await?
        .ok_or_else(|| ApiError::NotFound(NOT_FOUND.into()))?;
    Ok(Json(project_read(&project)))
}

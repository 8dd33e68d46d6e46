//! `GET /api/v1/{organization}/projects/{project_id}`: one project of the organization.

use axum::extract::{Path, State};
use dispatch_shared::domain::projects;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::model::{PrimaryKey, Project};
use dispatch_shared::store::keys;
use dispatch_shared::views::project_read;
use dispatch_shared::{AppState, Caller, loc};
use serde_json::Value;

/// Dispatch's 404 for a project that does not exist (in this organization).
pub const NOT_FOUND: &str = "A project with this id does not exist.";

/// Parses the `{project_id}` path parameter as Dispatch's `PrimaryKey`.
pub fn project_id(raw: &str) -> Result<i32, ApiError> {
    let number: i64 = raw.parse().map_err(|_| {
        ApiError::validation(
            "Input should be a valid integer, unable to parse string as an integer",
            loc!["path", "project_id"],
            "int_parsing",
        )
    })?;
    PrimaryKey::new(number)
        .map(PrimaryKey::get)
        .map_err(|invalid| invalid.at(loc!["path", "project_id"]))
}

/// ProjectRead with its `stable_priority` object filled in.
pub async fn with_stable_priority(state: &AppState, project: &Project) -> Result<Value, ApiError> {
    let mut read = project_read(project);
    if let Some(priority) = project.stable_priority_id {
        read["stable_priority"] = projects::stable_priority(
            state.store(),
            &project.organization_slug,
            project.id,
            priority,
        )
        .await?
        .unwrap_or(Value::Null);
    }
    Ok(read)
}

pub async fn get_project(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, raw_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let org = caller.organization()?;
    let project: Project = state
        .store()
        .get(&keys::project(&org.slug, project_id(&raw_id)?))
        .await?
        .filter(|p: &Project| !p.deleted)
        .ok_or_else(|| ApiError::NotFound(NOT_FOUND.into()))?;
    Ok(Json(with_stable_priority(&state, &project).await?))
}

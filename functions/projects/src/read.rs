//! `GET /api/v1/{organization}/projects/{project_id}`: one project of the organization.

use axum::extract::State;
use dispatch_domain::model::Project;
use dispatch_domain::project_reads;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::{Json, PathId};
use dispatch_shared::views::{incident_priority_read, project_read};
use dispatch_shared::{AppState, Caller};
use serde_json::Value;

/// ProjectRead with its `stable_priority` object filled in.
pub async fn with_stable_priority(state: &AppState, project: &Project) -> Result<Value, ApiError> {
    let mut read = project_read(project);
    if let Some(priority) = project.stable_priority_id {
        read["stable_priority"] = project_reads::stable_priority(
            state.store(),
            &project.organization_slug,
            project.id,
            priority,
        )
        .await?
        .as_ref()
        .map_or(Value::Null, incident_priority_read);
    }
    Ok(read)
}

pub async fn get_project(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    let org = caller.organization()?;
    let project = project_reads::get(state.store(), &org.slug, id).await?;
    Ok(Json(with_stable_priority(&state, &project).await?))
}

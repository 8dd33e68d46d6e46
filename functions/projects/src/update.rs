//! `PUT /api/v1/{organization}/projects/{project_id}`: an Owner, Manager or Admin changes a
//! project. Every sent column changes (Dispatch's partial copy), `stable_priority_id` only to one
//! of the project's own incident priorities; the `id` key is optional (Q-P1) but must match.

use axum::extract::State;
use dispatch_domain::projects;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::{Json, PathId, ensure_body_id};
use dispatch_shared::{AppState, Caller};
use serde_json::{Map, Value};

use crate::read::with_stable_priority;

pub async fn update_project(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    Json(body): Json<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    let org = caller.organization()?;
    ensure_body_id(body.get("id"), id)?;
    let project = projects::update(state.store(), &org.slug, id, &body).await?;
    Ok(Json(with_stable_priority(&state, &project).await?))
}

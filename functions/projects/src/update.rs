//! `PUT /api/v1/{organization}/projects/{project_id}`: an Owner, Manager or Admin changes a
//! project. Every sent column changes (Dispatch's partial copy), `stable_priority_id` only to one
//! of the project's own incident priorities; the `id` key is optional (Q-P1) but must match.

use axum::extract::{Path, State};
use dispatch_shared::domain::projects;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::{AppState, Caller, loc};
use serde_json::{Map, Value};

use crate::read::{project_id, with_stable_priority};

pub async fn update_project(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, raw_id)): Path<(String, String)>,
    Json(body): Json<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    let org = caller.organization()?;
    let id = project_id(&raw_id)?;
    if body
        .get("id")
        .is_some_and(|sent| !sent.is_null() && sent.as_i64() != Some(i64::from(id)))
    {
        return Err(ApiError::validation(
            "The id in the body does not match the path.",
            loc!["body", "id"],
            "value_error",
        ));
    }
    let project = projects::update(state.store(), &org.slug, id, &body).await?;
    Ok(Json(with_stable_priority(&state, &project).await?))
}

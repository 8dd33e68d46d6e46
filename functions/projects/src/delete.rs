//! `DELETE /api/v1/{organization}/projects/{project_id}`: an Owner, Manager or Admin deletes a
//! project and everything that belongs to it; 200 with `null`, as Dispatch. The project
//! disappears at once; its items are removed in bounded batches, and a repeated `DELETE`
//! finishes a removal that was interrupted.

use axum::extract::State;
use dispatch_domain::project_delete;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::{Json, PathId};
use dispatch_shared::{AppState, Caller};
use serde_json::Value;

pub async fn delete_project(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    let org = caller.organization()?;
    project_delete::delete(state.store(), &org.slug, id).await?;
    Ok(Json(Value::Null))
}

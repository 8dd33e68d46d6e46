//! `GET /api/v1/{organization}/users/{user_id}`: one member (any role in the organization).

use axum::extract::{Path, State};
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::{AppState, Caller};
use serde_json::Value;

use crate::target::{member, user_id, user_read};

pub async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    Path((_, raw_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let org = caller.organization()?;
    let (user, membership) = member(state.store(), org, user_id(&raw_id)?).await?;
    Ok(Json(
        user_read(state.store(), org, &user, &membership).await?,
    ))
}

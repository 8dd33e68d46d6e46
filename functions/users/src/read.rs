//! `GET /api/v1/{organization}/users/{user_id}`: one member (any role in the organization).

use axum::extract::State;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::{Json, PathId};
use dispatch_shared::views::UserRead;
use dispatch_shared::{AppState, Caller};

use crate::target::user_read;

pub async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<UserRead>, ApiError> {
    let org = caller.organization()?;
    Ok(Json(user_read(&state, org, id).await?))
}

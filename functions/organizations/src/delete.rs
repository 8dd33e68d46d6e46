//! `DELETE /api/v1/organizations/{organization_id}`: the Owner of an organization deletes it
//! and everything in it; 200 with `null`, as Dispatch's other deletes. The default organization
//! stays (409). Dispatch's UI offers this call but its API lacks it (Q-O2); see
//! [`dispatch_domain::organization_delete`] for how the removal is staged.

use axum::extract::State;
use dispatch_domain::organization_delete;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::{AppState, Caller};
use serde_json::Value;

pub async fn delete_organization(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    // The permission layer resolved the organization from the path id and checked ownership.
    let org = caller.organization()?;
    organization_delete::delete(state.store(), &org.slug).await?;
    Ok(Json(Value::Null))
}

//! `POST /api/v1/{organization}/auth/mfa`: the caller approves their MFA challenge (Dispatch's
//! `mfa_check`). Any valid identity may call it, as `/auth/me`: the challenge must be the
//! caller's and the project the path organization's, which the domain checks (D-MFA1).

use axum::extract::State;
use dispatch_domain::mfa::{self, MfaPayload};
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::{AppState, Caller};
use serde::Serialize;

/// Dispatch's `MfaPayloadResponse`.
#[derive(Debug, Serialize)]
pub struct MfaPayloadResponse {
    pub status: &'static str,
}

/// Refusals are 400 `{"detail":"<message>"}` with Dispatch's messages (a bare string, as its
/// `HTTPException` answers); a malformed body is the usual 422.
pub async fn mfa_check(
    State(state): State<AppState>,
    caller: Caller,
    Json(payload): Json<MfaPayload>,
) -> Result<axum::Json<MfaPayloadResponse>, ApiError> {
    let org = caller.organization()?;
    let status = mfa::validate(state.store(), &caller.user, org, &payload)
        .await
        .map_err(ApiError::string_detail)?;
    Ok(axum::Json(MfaPayloadResponse {
        status: status.as_str(),
    }))
}

//! `GET /api/v1/healthcheck`: no auth, no table access; answers `{"status":"ok"}`.

use axum::Json;
use serde_json::{Value, json};

/// Dispatch's health check.
pub async fn healthcheck() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

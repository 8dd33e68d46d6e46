//! The auth route group (`/api/v1/{organization}/auth/…`) and the health check.
//!
//! Routes are declared in [`dispatch_shared::routes::ROUTES`]; those this crate does not
//! implement yet answer 501.

mod health;

use axum::Router;
use dispatch_shared::AppState;
use dispatch_shared::http::{RouteHandlers, RouteTableError, app};
use dispatch_shared::routes::{Function, Method};

/// The handlers of this route group.
pub fn routes() -> RouteHandlers {
    RouteHandlers::new(Function::Auth).handle(
        Method::Get,
        "/api/v1/healthcheck",
        health::healthcheck,
    )
}

/// The router the Lambda serves. Its fallback answers every path outside the route group too,
/// since API Gateway's `$default` route points at this function.
pub fn router(state: AppState) -> Result<Router, RouteTableError> {
    app(vec![routes()], state)
}

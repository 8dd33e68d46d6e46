//! The users route group.
//!
//! Routes are declared in [`dispatch_shared::routes::ROUTES`]; those this crate does not
//! implement yet answer 501 in Dispatch's error shape.

use axum::Router;
use dispatch_shared::AppState;
use dispatch_shared::http::{RouteHandlers, RouteTableError, app};
use dispatch_shared::routes::Function;

/// The handlers of this route group.
pub fn routes() -> RouteHandlers {
    RouteHandlers::new(Function::Users)
}

/// The router the Lambda serves.
pub fn router(state: AppState) -> Result<Router, RouteTableError> {
    app(vec![routes()], state)
}

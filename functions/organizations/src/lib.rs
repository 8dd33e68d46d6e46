//! The organizations route group (`/api/v1/organizations…`): Dispatch's tenants.
//!
//! | Route | Module |
//! |---|---|
//! | `GET /api/v1/organizations` | [`list`] |
//! | `POST /api/v1/organizations` | [`create`] |
//! | `GET`/`PUT /api/v1/organizations/{organization_id}` | [`read`], [`update`] |
//! | `DELETE /api/v1/organizations/{organization_id}` | [`delete`] |

pub mod create;
pub mod delete;
pub mod list;
pub mod read;
pub mod update;

use axum::Router;
use dispatch_shared::AppState;
use dispatch_shared::http::{RouteHandlers, RouteTableError, app};
use dispatch_shared::routes::{Function, Method};

/// The handlers of this route group.
pub fn routes() -> RouteHandlers {
    RouteHandlers::new(Function::Organizations)
        .handle(
            Method::Get,
            "/api/v1/organizations",
            list::list_organizations,
        )
        .handle(
            Method::Post,
            "/api/v1/organizations",
            create::create_organization,
        )
        .handle(
            Method::Get,
            "/api/v1/organizations/{organization_id}",
            read::get_organization,
        )
        .handle(
            Method::Put,
            "/api/v1/organizations/{organization_id}",
            update::update_organization,
        )
        .handle(
            Method::Delete,
            "/api/v1/organizations/{organization_id}",
            delete::delete_organization,
        )
}

/// The router the Lambda serves.
pub fn router(state: AppState) -> Result<Router, RouteTableError> {
    app(vec![routes()], state)
}

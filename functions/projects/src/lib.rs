//! The projects route group (`/api/v1/{organization}/projects…`).
//!
//! | Route | Module |
//! |---|---|
//! | `GET /api/v1/{organization}/projects` | [`list`] |
//! | `POST /api/v1/{organization}/projects` | [`create`] |
//! | `GET`/`PUT`/`DELETE /api/v1/{organization}/projects/{project_id}` | [`read`], [`update`], [`delete`] |
//!
//! Every project is read through the path's organization: another organization's project id
//! is a 404.

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
    RouteHandlers::new(Function::Projects)
        .handle(
            Method::Get,
            "/api/v1/{organization}/projects",
            list::list_projects,
        )
        .handle(
            Method::Post,
            "/api/v1/{organization}/projects",
            create::create_project,
        )
        .handle(
            Method::Get,
            "/api/v1/{organization}/projects/{project_id}",
            read::get_project,
        )
        .handle(
            Method::Put,
            "/api/v1/{organization}/projects/{project_id}",
            update::update_project,
        )
        .handle(
            Method::Delete,
            "/api/v1/{organization}/projects/{project_id}",
            delete::delete_project,
        )
}

/// The router the Lambda serves.
pub fn router(state: AppState) -> Result<Router, RouteTableError> {
    app(vec![routes()], state)
}

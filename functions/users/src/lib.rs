//! The users route group (`/api/v1/{organization}/users…`): an organization's members, their
//! roles, default projects and passwords.
//!
//! | Route | Module |
//! |---|---|
//! | `GET /api/v1/{organization}/users` | [`list`] |
//! | `POST /api/v1/{organization}/users` | [`create`] |
//! | `GET`/`PUT /api/v1/{organization}/users/{user_id}` | [`read`], [`update`] |
//! | `POST …/users/{user_id}/change-password`, `…/reset-password` | [`passwords`] |
//!
//! Every target user is looked up through their membership of `{organization}`: a user who is
//! not a member there is "A user with this id does not exist.", whatever the caller's role.

pub mod create;
pub mod list;
pub mod passwords;
pub mod read;
mod target;
pub mod update;

use axum::Router;
use dispatch_shared::AppState;
use dispatch_shared::http::{RouteHandlers, RouteTableError, app};
use dispatch_shared::routes::{Function, Method};

/// The handlers of this route group.
pub fn routes() -> RouteHandlers {
    RouteHandlers::new(Function::Users)
        .handle(
            Method::Get,
            "/api/v1/{organization}/users",
            list::list_users,
        )
        .handle(
            Method::Post,
            "/api/v1/{organization}/users",
            create::create_user,
        )
        .handle(
            Method::Get,
            "/api/v1/{organization}/users/{user_id}",
            read::get_user,
        )
        .handle(
            Method::Put,
            "/api/v1/{organization}/users/{user_id}",
            update::update_user,
        )
        .handle(
            Method::Post,
            "/api/v1/{organization}/users/{user_id}/change-password",
            passwords::change_password,
        )
        .handle(
            Method::Post,
            "/api/v1/{organization}/users/{user_id}/reset-password",
            passwords::reset_password,
        )
}

/// The router the Lambda serves.
pub fn router(state: AppState) -> Result<Router, RouteTableError> {
    app(vec![routes()], state)
}

//! The auth route group (`/api/v1/{organization}/auth/…`), the health check and the API's
//! documentation.
//!
//! | Route | Module |
//! |---|---|
//! | `GET /api/v1/healthcheck` | [`health`] |
//! | `GET /api/v1/docs`, `GET /api/v1/docs/openapi.json` | [`docs`] |
//! | `POST /api/v1/{organization}/auth/login` | [`login`] |
//! | `POST /api/v1/{organization}/auth/register` | [`register`] |
//! | `GET /api/v1/{organization}/auth/me`, `GET …/auth/myrole` | [`me`] |
//! | `GET`/`PUT /api/v1/{organization}/auth/me/settings` | [`settings`] |
//! | `POST /api/v1/{organization}/auth/mfa` | [`mfa`] |

pub mod docs;
pub mod health;
pub mod login;
pub mod me;
pub mod mfa;
pub mod register;
pub mod settings;

use axum::Router;
use dispatch_openapi::{DOCS_PATH, OPENAPI_PATH};
use dispatch_shared::AppState;
use dispatch_shared::http::{RouteHandlers, RouteTableError, app};
use dispatch_shared::routes::{Function, Method};

/// The handlers of this route group.
pub fn routes() -> RouteHandlers {
    RouteHandlers::new(Function::Auth)
        .handle(Method::Get, "/api/v1/healthcheck", health::healthcheck)
        .handle(Method::Get, DOCS_PATH, docs::redoc)
        .handle(Method::Get, OPENAPI_PATH, docs::openapi)
        .handle(
            Method::Post,
            "/api/v1/{organization}/auth/login",
            login::login,
        )
        .handle(
            Method::Post,
            "/api/v1/{organization}/auth/register",
            register::register,
        )
        .handle(Method::Get, "/api/v1/{organization}/auth/me", me::me)
        .handle(
            Method::Get,
            "/api/v1/{organization}/auth/myrole",
            me::my_role,
        )
        .handle(
            Method::Get,
            "/api/v1/{organization}/auth/me/settings",
            settings::get_settings,
        )
        .handle(
            Method::Put,
            "/api/v1/{organization}/auth/me/settings",
            settings::update_settings,
        )
        .handle(
            Method::Post,
            "/api/v1/{organization}/auth/mfa",
            mfa::mfa_check,
        )
}

/// The router the Lambda serves. Its fallback answers every path outside the route group too,
/// since API Gateway's `$default` route points at this function.
pub fn router(state: AppState) -> Result<Router, RouteTableError> {
    app(vec![routes()], state)
}

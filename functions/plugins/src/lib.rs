//! The plugins route group (`/api/v1/{organization}/plugins…`).
//!
//! | Route | Module |
//! |---|---|
//! | `GET /api/v1/{organization}/plugins` | [`catalogue`] |
//! | `GET`/`POST /api/v1/{organization}/plugins/instances` | [`instances::list`], [`instances::create`] |
//! | `GET`/`PUT`/`DELETE /api/v1/{organization}/plugins/instances/{plugin_instance_id}` | [`instances::read`], [`instances::update`], [`instances::delete`] |
//! | `GET /api/v1/{organization}/plugins/plugin_events` | [`events`] |
//!
//! Instances are read through the path's organization: another organization's instance id is
//! a 404.

pub mod catalogue;
pub mod events;
pub mod instances;

use axum::Router;
use dispatch_shared::AppState;
use dispatch_shared::http::{RouteHandlers, RouteTableError, app};
use dispatch_shared::routes::{Function, Method};

const INSTANCE: &str = "/api/v1/{organization}/plugins/instances/{plugin_instance_id}";

/// The handlers of this route group.
pub fn routes() -> RouteHandlers {
    RouteHandlers::new(Function::Plugins)
        .handle(
            Method::Get,
            "/api/v1/{organization}/plugins",
            catalogue::list_plugins,
        )
        .handle_prefetched(
            Method::Get,
            "/api/v1/{organization}/plugins/instances",
            instances::list::list_instances,
            instances::list::prefetch_page,
        )
        .handle(
            Method::Post,
            "/api/v1/{organization}/plugins/instances",
            instances::create::create_instance,
        )
        .handle(Method::Get, INSTANCE, instances::read::get_instance)
        .handle(Method::Put, INSTANCE, instances::update::update_instance)
        .handle(Method::Delete, INSTANCE, instances::delete::delete_instance)
        .handle(
            Method::Get,
            "/api/v1/{organization}/plugins/plugin_events",
            events::list_plugin_events,
        )
}

/// The router the Lambda serves.
pub fn router(state: AppState) -> Result<Router, RouteTableError> {
    app(vec![routes()], state)
}

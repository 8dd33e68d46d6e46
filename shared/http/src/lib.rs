//! The web layer every Dispatch Serverless function and the dev server use.
//!
//! The rules live in `dispatch_domain` and the table in `dispatch_store`; this crate turns
//! requests into domain calls and results into Dispatch's bodies.
//!
//! - [`routes`]: the route table, the single source of truth for routers, dev server, CLI and
//!   `template.yaml`.
//! - [`permissions`]: who may call each route, decided once per request ([`Caller`]).
//! - [`http`]: routers built from the route table, extractors (JSON body, path ids), middleware.
//! - [`error`]: [`ApiError`], and the one mapping of `DomainError` to Dispatch's error bodies.
//! - [`views`]: response bodies in Dispatch's shapes, field by field.
//! - [`state`]: what handlers share, built once per cold start.

pub mod error;
pub mod http;
pub mod permissions;
pub mod routes;
pub mod state;
pub mod views;

pub use error::{ApiError, ApiResult};
pub use permissions::Caller;
pub use state::AppState;

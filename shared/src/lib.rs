//! The domain crate every Dispatch Serverless function shares.
//!
//! - [`routes`]: the route table, the single source of truth for routers, dev server, CLI and
//!   `template.yaml`.
//! - [`http`]: routers built from the route table, the JSON extractor, shared middleware.
//! - [`error`]: the one API error type and its mapping to Dispatch's error bodies.
//! - [`store`]: the DynamoDB single-table store (key design, transactions, ids, versions).
//! - [`model`], [`domain`]: validated types, stored records and operations shared by callers.
//! - [`auth`], [`permissions`]: passwords, tokens, login throttling; who may call each route.
//! - [`list`]: search, filter, sort and pagination for every list endpoint.
//! - [`views`]: response bodies in Dispatch's shapes.
//! - [`config`], [`secrets`], [`state`], [`telemetry`]: cold-start plumbing.

pub mod auth;
pub mod catalogue;
pub mod config;
pub mod domain;
pub mod error;
pub mod http;
pub mod list;
pub mod model;
pub mod permissions;
pub mod plugin_config;
pub mod routes;
pub mod secrets;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod time;
pub mod views;

pub use error::{ApiError, ApiResult};
pub use permissions::Caller;
pub use state::AppState;

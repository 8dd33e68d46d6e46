//! The rules of Dispatch Serverless, shared by the API's web layer and the admin CLI.
//!
//! Nothing here knows about HTTP: failures are [`DomainError`]s, which the web layer maps to
//! Dispatch's bodies in one place, and the table is reached only through `dispatch_store`.
//!
//! - [`model`]: validated value types (kept after parsing) and stored records.
//! - Operations the API and the CLI share: [`users`], [`memberships`], [`roles`],
//!   [`member_update`], [`account_authority`], [`auto_join`], [`organizations`],
//!   [`organization_reads`], [`organization_update`], [`organization_delete`], [`projects`], [`project_init`], [`project_reads`],
//!   [`project_delete`], [`project_refs`], [`plugins`].
//! - [`auth`]: passwords, tokens, login throttling. [`mfa`]: MFA challenges. [`list`]: the list
//!   layer.
//! - [`catalogue`], [`plugin_config`]: the plugin catalogue as data; configuration validation,
//!   masking and sealing.
//! - [`config`], [`aws_sdk`], [`secrets`], [`time`], [`telemetry`]: configuration, bounded AWS
//!   calls, secrets, timestamps,
//!   logging.

pub mod error;

pub mod account_authority;
pub mod auth;
pub mod auto_join;
pub mod aws_sdk;
pub mod catalogue;
pub mod config;
pub mod deletion_claim;
pub mod list;
pub mod maintenance;
pub mod member_projects;
pub mod member_update;
pub mod memberships;
pub mod messages;
pub mod mfa;
pub mod migrations;
pub mod model;
pub mod organization_delete;
pub mod organization_reads;
pub mod organization_update;
pub mod organizations;
pub mod plugin_config;
pub mod plugins;
pub mod project_delete;
pub mod project_init;
pub mod project_reads;
pub mod project_refs;
pub mod projects;
pub mod roles;
pub mod secrets;
pub mod telemetry;
pub mod time;
pub mod trusted_edge;
pub mod user_changes;
pub mod users;

pub use error::{DomainError, DomainResult, FieldError, FieldPath, Location, OnCondition, Segment};

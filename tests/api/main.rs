//! The workspace's integration tests: one binary, run against the local AWS stack
//! (`infra/local/stack.sh start test`), a fresh table per test.

mod helpers;

mod account_authority;
mod auth;
mod auth_alb;
mod auth_header;
mod auth_pkce;
mod auth_tokens;
mod cli;
mod compression;
mod counters;
mod data_ops;
mod deletion_races;
mod docs;
mod errors;
mod fault_proxy;
mod input_bounds;
mod lambda_events;
mod list;
mod list_ui_calls;
mod login_throttle;
mod maintenance;
mod mfa;
mod migrations;
mod openapi;
mod organization_delete;
mod organization_invariants;
mod organizations;
mod organizations_api;
mod permissions;
mod plugin_instances_api;
mod plugin_secret_redirect;
mod plugins_api;
mod plugins_cli;
mod projects_api;
mod resilience;
mod round_trips;
mod route_table;
mod secrets;
mod store;
mod ui;
mod ui_publish;
mod users;

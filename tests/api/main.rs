//! The workspace's integration tests: one binary, run against the local AWS stack
//! (`infra/local/stack.sh start test`), a fresh table per test.

mod helpers;

mod account_authority;
mod auth;
mod cli;
mod counters;
mod errors;
mod lambda_events;
mod list;
mod list_ui_calls;
mod login_throttle;
mod organization_delete;
mod organizations;
mod organizations_api;
mod permissions;
mod plugin_instances_api;
mod plugins_api;
mod plugins_cli;
mod projects_api;
mod route_table;
mod secrets;
mod store;
mod users;

//! The workspace's integration tests: one binary, run against the local AWS stack
//! (`infra/local/stack.sh start test`), a fresh table per test.

mod helpers;

mod auth;
mod cli;
mod errors;
mod lambda_events;
mod organizations;
mod route_table;
mod secrets;
mod store;

//! `/api/v1/{organization}/plugins/instances…`: per-project plugin instances.

pub mod create;
pub mod delete;
pub mod list;
pub mod read;
pub mod update;

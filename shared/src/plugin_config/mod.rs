//! Plugin instance configurations: checked against the plugin's JSON Schema, normalised as
//! pydantic would (defaults filled in, unknown keys dropped), sealed with AES-256-GCM before
//! they are stored, and shown with their secret fields masked.

pub mod schema;
pub mod seal;

pub use schema::{ConfigurationSchema, MASK};
pub use seal::ConfigurationKey;

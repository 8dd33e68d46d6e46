//! Plugin instance configurations: checked against the plugin's JSON Schema, normalised as
//! pydantic would (defaults filled in, unknown keys dropped), sealed with AES-256-GCM before
//! they are stored, and shown with their secret fields masked. A masked secret written back
//! keeps its stored value only while the configuration's addresses stay as they were.
//!
//! | Module | What |
//! |---|---|
//! | [`schema`] | validation, normalisation, masking |
//! | [`fields`] | which fields are secrets and which are addresses, and the redirect rule |
//! | [`seal`] | sealing and opening stored configurations |
//! | `validator`, `formats` | the JSON Schema keywords and formats the catalogue's schemas use |

#[cfg(test)]
mod crosscheck;
pub mod fields;
mod formats;
mod messages;
pub mod schema;
pub mod seal;
pub(crate) mod validator;

pub use fields::SchemaFields;
pub use schema::{ConfigurationSchema, MASK};
pub use seal::ConfigurationKey;

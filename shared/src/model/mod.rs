//! The domain model: validated value types and the records stored in the table.

pub mod organization;
pub mod project;
pub mod types;

pub use organization::{Organization, OrganizationSlug, slugify};
pub use project::Project;
pub use types::{Invalid, NameStr, PrimaryKey};

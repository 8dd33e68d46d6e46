//! Response bodies in Dispatch's shapes (its `*Read` models), built from stored records.

mod organization;
mod project;
mod user;

pub use organization::OrganizationRead;
pub use project::project_read;
pub use user::{UserProject, UserSettingsRead, user_projects};

//! Response bodies in Dispatch's shapes (its `*Read` models), built from stored records.

mod organization;
mod plugin;
mod project;
mod user;

pub use organization::OrganizationRead;
pub use plugin::{
    instance_plugin, instance_read, instance_update_response, plugin_event_read, plugin_read,
};
pub use project::project_read;
pub use user::{UserProject, UserSettingsRead, user_projects};

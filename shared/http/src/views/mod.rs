//! Response bodies in Dispatch's shapes (its `*Read` models), built from stored records.

mod organization;
mod plugin;
mod project;
mod user;

pub use organization::OrganizationRead;
pub use plugin::{
    instance_detail, instance_list_item, instance_plugin, instance_read, instance_update_response,
    plugin_event_read, plugin_read,
};
pub use project::{incident_priority_read, project_read};
pub use user::{
    UserOrganization, UserProject, UserRead, UserSettingsRead, member_list_item, user_projects,
};

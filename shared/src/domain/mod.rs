//! Domain operations that more than one caller runs (the API and the admin CLI).

pub mod account_authority;
pub mod auto_join;
pub mod member_update;
pub mod memberships;
pub mod organization_delete;
pub mod organization_update;
pub mod organizations;
pub mod plugins;
pub mod project_delete;
pub mod project_init;
pub mod projects;
pub mod roles;
pub mod users;

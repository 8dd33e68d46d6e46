//! The domain model: validated value types and the records stored in the table.

pub mod email;
pub mod organization;
pub mod plugin;
pub mod project;
pub mod stored;
pub mod text;
pub mod types;
pub mod user;

pub use email::EmailAddress;
pub use organization::{Organization, OrganizationSlug, slugify};
pub use plugin::{Plugin, PluginEvent, PluginInstance};
pub use project::Project;
pub use text::{BannerText, Description, DisplayName, NameStr, ShortText};
pub use types::{Invalid, PrimaryKey};
pub use user::{Credentials, LinkSummary, Membership, ProjectLink, Role, User, UserSettings};

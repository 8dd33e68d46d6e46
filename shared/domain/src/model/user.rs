//! Users, their organization memberships (with a role) and their project links.

use serde::{Deserialize, Serialize};

use super::{EmailAddress, OrganizationSlug};
use crate::time::Timestamp;

/// Organization roles, highest first. Any other string is no role at all (default deny).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    Owner,
    Manager,
    Admin,
    Member,
}

impl Role {
    /// Every role, highest first.
    pub const ALL: [Role; 4] = [Role::Owner, Role::Manager, Role::Admin, Role::Member];

    /// Dispatch's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Manager => "Manager",
            Role::Admin => "Admin",
            Role::Member => "Member",
        }
    }

    /// Parses Dispatch's spelling (case-sensitive, as Dispatch).
    pub fn parse(raw: &str) -> Option<Self> {
        Role::ALL.into_iter().find(|r| r.as_str() == raw)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Per-user settings (global, not per organization), embedded in the user item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSettings {
    pub auto_add_to_incident_bridges: bool,
}

impl Default for UserSettings {
    fn default() -> Self {
        Self {
            auto_add_to_incident_bridges: true,
        }
    }
}

/// A user's credentials, stored in the item that makes their email unique, so that a login
/// finds them with its first read. They never leave the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credentials {
    pub user_id: i32,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub version: u64,
}

/// A user as stored. `token_version` never leaves the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: i32,
    #[serde(deserialize_with = "super::stored::email")]
    pub email: EmailAddress,
    /// Tokens carry the version they were issued under; changing or resetting the password
    /// bumps it, which revokes every older token.
    pub token_version: u64,
    #[serde(default)]
    pub experimental_features: bool,
    #[serde(default)]
    pub settings: UserSettings,
    /// For a user auto-provisioned from a valid token whose `sub` named no user: that `sub`.
    /// A user found by email authenticates a token only when the token's `sub` is their id or
    /// this subject, so a token of a deleted account never becomes a later owner of its email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_subject: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: u64,
}

/// A user's membership of an organization, stored in the organization's partition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Membership {
    pub user_id: i32,
    #[serde(deserialize_with = "super::stored::email")]
    pub email: EmailAddress,
    pub organization_id: i32,
    #[serde(deserialize_with = "super::stored::slug")]
    pub organization_slug: OrganizationSlug,
    pub role: Role,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: u64,
}

/// A user's link to a project: Dispatch's `dispatch_user_project` (default flag, project role).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectLink {
    pub user_id: i32,
    pub project_id: i32,
    #[serde(deserialize_with = "super::stored::slug")]
    pub organization_slug: OrganizationSlug,
    pub default: bool,
    pub role: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: u64,
}

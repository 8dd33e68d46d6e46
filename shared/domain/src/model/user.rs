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
    /// The slugs of the organizations the user was made a member of (a string set, grown with
    /// `ADD` by [`crate::users::membership_items`]), so that `/auth/me` reads the user's
    /// organizations and memberships in one batch instead of querying an index first. A slug
    /// may outlive its membership (a deleted organization): readers keep only slugs whose
    /// membership they find. Trusted only with [`User::organizations_indexed`].
    #[serde(
        default,
        with = "serde_dynamo::string_set",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub organization_slugs: Vec<String>,
    /// `organization_slugs` names every membership: set for a new user, and by schema
    /// version 3's migration once it has added the slugs of every older membership. Until
    /// then (or after version-2 code rewrote the user) readers query the memberships.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub organizations_indexed: bool,
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
    /// The member's project links in this organization, written in every transaction that
    /// writes a link, so that a page of members shows their projects without a query per
    /// member. Entries of a deleted project stay until the next change (readers skip projects
    /// they do not find). `None`: written before schema version 3 and not migrated yet, so
    /// readers fall back to the link items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projects: Option<Vec<LinkSummary>>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: u64,
}

/// What a members page shows of a project link ([`ProjectLink`] without its bookkeeping).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkSummary {
    pub project_id: i32,
    pub default: bool,
    pub role: String,
}

impl From<&ProjectLink> for LinkSummary {
    fn from(link: &ProjectLink) -> Self {
        Self {
            project_id: link.project_id,
            default: link.default,
            role: link.role.clone(),
        }
    }
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

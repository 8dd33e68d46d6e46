//! The guards of the key design and the items they stand for, as one [`Link`] each, whether it
//! was read from the guard or from the item: both sides then check the same thing, and the
//! repairs are built from one description of where each side keeps what.
//!
//! What each guard names (its "pointer") and which attribute of the item holds the guarded
//! value (its "claim") are taken from the code that writes them: `users::credentials_item`,
//! `organizations::create_with`, `projects::add_new`, `plugins::catalogue` and
//! `plugins::instances::take_guard`. Values are stored as typed (emails normalised once when
//! parsed, names as given), so they are compared exactly.

use aws_sdk_dynamodb::types::AttributeValue;
use dispatch_store::keys::{self, Key};
use dispatch_store::{Item, StoreError};

use crate::model::Credentials;

/// One uniqueness guard and the item it makes unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Link {
    Email {
        email: String,
        user_id: i32,
    },
    OrganizationName {
        name: String,
        slug: String,
    },
    OrganizationId {
        id: i32,
        slug: String,
    },
    DefaultOrganization {
        slug: String,
    },
    ProjectName {
        slug: String,
        name: String,
        project_id: i32,
    },
    ProjectId {
        project_id: i32,
        slug: String,
    },
    PluginSlug {
        slug: String,
        plugin_id: i32,
    },
    PluginEventSlug {
        slug: String,
        plugin_id: i32,
        event_id: i32,
    },
    ActiveInstance {
        slug: String,
        project_id: i32,
        plugin_type: String,
        instance_id: i32,
    },
}

/// An attribute and the value it must hold.
pub(super) type Expect = (&'static str, AttributeValue);

fn n(value: i32) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

impl Link {
    /// What the guard makes unique, for findings.
    pub fn name(&self) -> &'static str {
        match self {
            Link::Email { .. } => "email",
            Link::OrganizationName { .. } => "organization name",
            Link::OrganizationId { .. } => "organization id",
            Link::DefaultOrganization { .. } => "default organization",
            Link::ProjectName { .. } => "project name",
            Link::ProjectId { .. } => "project id",
            Link::PluginSlug { .. } => "plugin slug",
            Link::PluginEventSlug { .. } => "plugin event slug",
            Link::ActiveInstance { .. } => "enabled plugin instance",
        }
    }

    pub fn guard_key(&self) -> Key {
        match self {
            Link::Email { email, .. } => keys::email_guard(email),
            Link::OrganizationName { name, .. } => keys::organization_name_guard(name),
            Link::OrganizationId { id, .. } => keys::organization_id_guard(*id),
            Link::DefaultOrganization { .. } => keys::default_organization(),
            Link::ProjectName { slug, name, .. } => keys::project_name_guard(slug, name),
            Link::ProjectId { project_id, .. } => keys::project_id_guard(*project_id),
            Link::PluginSlug { slug, .. } => keys::plugin_slug_guard(slug),
            Link::PluginEventSlug { slug, .. } => keys::plugin_event_slug_guard(slug),
            Link::ActiveInstance {
                slug,
                project_id,
                plugin_type,
                ..
            } => keys::active_instance_guard(slug, *project_id, plugin_type),
        }
    }

    pub fn item_key(&self) -> Key {
        match self {
            Link::Email { user_id, .. } => keys::user(*user_id),
            Link::OrganizationName { slug, .. }
            | Link::OrganizationId { slug, .. }
            | Link::DefaultOrganization { slug } => keys::organization(slug),
            Link::ProjectName {
                slug, project_id, ..
            }
            | Link::ProjectId { project_id, slug } => keys::project(slug, *project_id),
            Link::PluginSlug { plugin_id, .. } => keys::plugin(*plugin_id),
            Link::PluginEventSlug {
                plugin_id,
                event_id,
                ..
            } => keys::plugin_event(*plugin_id, *event_id),
            Link::ActiveInstance {
                slug, instance_id, ..
            } => keys::plugin_instance(slug, *instance_id),
        }
    }

    /// The guard's attributes that name its item.
    pub fn pointer(&self) -> Vec<Expect> {
        match self {
            Link::Email { user_id, .. } => vec![("user_id", n(*user_id))],
            Link::OrganizationName { slug, .. }
            | Link::OrganizationId { slug, .. }
            | Link::DefaultOrganization { slug }
            | Link::ProjectId { slug, .. } => vec![("slug", s(slug))],
            Link::ProjectName { project_id, .. } => vec![("project_id", n(*project_id))],
            Link::PluginSlug { plugin_id, .. } => vec![("plugin_id", n(*plugin_id))],
            Link::PluginEventSlug {
                plugin_id,
                event_id,
                ..
            } => vec![("plugin_id", n(*plugin_id)), ("event_id", n(*event_id))],
            Link::ActiveInstance { instance_id, .. } => vec![("instance_id", n(*instance_id))],
        }
    }

    /// The item's attributes that hold the guarded value: the item must still hold them for
    /// the guard to be its.
    pub fn claim(&self) -> Vec<Expect> {
        match self {
            Link::Email { email, .. } => vec![("email", s(email))],
            Link::OrganizationName { name, .. } | Link::ProjectName { name, .. } => {
                vec![("name", s(name))]
            }
            Link::OrganizationId { id, .. } => vec![("id", n(*id))],
            Link::DefaultOrganization { .. } => vec![("default", AttributeValue::Bool(true))],
            Link::ProjectId { project_id, .. } => vec![("id", n(*project_id))],
            Link::PluginSlug { slug, .. } | Link::PluginEventSlug { slug, .. } => {
                vec![("slug", s(slug))]
            }
            Link::ActiveInstance {
                project_id,
                plugin_type,
                ..
            } => vec![
                ("enabled", AttributeValue::Bool(true)),
                ("project_id", n(*project_id)),
                ("plugin_type", s(plugin_type)),
            ],
        }
    }

    /// The organization (and project) the guarded item belongs to: a deletion removing them
    /// takes guards and items away in stages, which is no finding.
    pub fn scope(&self) -> (Option<&str>, Option<i32>) {
        match self {
            Link::OrganizationName { slug, .. }
            | Link::OrganizationId { slug, .. }
            | Link::DefaultOrganization { slug } => (Some(slug), None),
            Link::ProjectName {
                slug, project_id, ..
            }
            | Link::ProjectId { project_id, slug }
            | Link::ActiveInstance {
                slug, project_id, ..
            } => (Some(slug), Some(*project_id)),
            Link::Email { .. } | Link::PluginSlug { .. } | Link::PluginEventSlug { .. } => {
                (None, None)
            }
        }
    }

    /// A plugin's slug guard stays after `plugins uninstall`, so that a reinstalled plugin
    /// gets its id (and its instances) back: without its plugin it is no finding.
    pub fn guard_outlives_item(&self) -> bool {
        matches!(self, Link::PluginSlug { .. })
    }

    /// The guard as its writer puts it, for an item that lost it.
    pub fn guard_item(&self) -> Result<Item, StoreError> {
        let key = self.guard_key();
        let bare = |entity: &str| {
            self.pointer()
                .into_iter()
                .fold(Item::bare(&key, entity), |item, (name, value)| {
                    item.with_value(name, value)
                })
        };
        Ok(match self {
            // The email guard holds the credentials; the password hash went with it, so the
            // account gets one that no password matches: an Owner's reset (or the user's token
            // login) brings it back, and the email is unique again at once.
            Link::Email { email, user_id } => crate::users::credentials_item(
                email,
                &Credentials {
                    user_id: *user_id,
                    password_hash: unusable_password_hash(),
                    version: 1,
                },
            )?,
            Link::OrganizationName { .. } => bare("OrganizationNameGuard"),
            Link::OrganizationId { .. } => bare("OrganizationIdGuard"),
            Link::DefaultOrganization { .. } => bare("DefaultOrganization"),
            Link::ProjectName {
                slug,
                name,
                project_id,
            } => crate::projects::name_guard_item(slug, name, *project_id),
            Link::ProjectId { .. } => bare("ProjectIdGuard"),
            Link::PluginSlug { .. } => bare("PluginSlugGuard"),
            Link::PluginEventSlug { .. } => bare("PluginEventSlugGuard"),
            Link::ActiveInstance { .. } => bare("ActiveInstanceGuard"),
        })
    }
}

/// An argon2id hash, with the default parameters, of no known password: random salt and
/// output. Verifying a login against it costs what a real one costs (no timing tells that the
/// account has no usable password) and never matches.
fn unusable_password_hash() -> String {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD_NO_PAD;
    let params = argon2::Params::default();
    let salt: [u8; 16] = rand::random();
    let output: [u8; 32] = rand::random();
    format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(output)
    )
}

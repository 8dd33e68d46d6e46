//! Key builders: the only place that knows how items are addressed. See the design table in
//! [`crate`].

use std::fmt;

/// Attribute names of the table's keys and indexes.
pub mod attr {
    pub const PK: &str = "pk";
    pub const SK: &str = "sk";
    pub const GSI1PK: &str = "gsi1pk";
    pub const GSI1SK: &str = "gsi1sk";
    pub const LIST_PK: &str = "list_pk";
    pub const LIST_SK1: &str = "list_sk1";
    pub const LIST_SK2: &str = "list_sk2";
    pub const LIST_SK3: &str = "list_sk3";
    /// A membership's email order in the members index (only memberships have it).
    pub const MEMBERS_SK: &str = "members_sk";
    /// A plugin instance's plugin-slug order in the instances index (only instances have it).
    pub const INSTANCES_SK: &str = "instances_sk";
    pub const ENTITY: &str = "entity";
    pub const VERSION: &str = "version";
    pub const TTL: &str = "ttl";
}

/// The primary key of one item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {}", self.pk, self.sk)
    }
}

/// Schema version and migration records.
pub fn schema() -> Key {
    Key::new("META", "SCHEMA")
}

/// One entry of the migration history (sorted by when it was applied).
pub fn migration_history(applied_at: &str, migration: u32) -> Key {
    Key::new("META", format!("HISTORY#{applied_at}#{migration:05}"))
}

/// The prefix of the history entries in the `META` partition.
pub const MIGRATION_HISTORY_PREFIX: &str = "HISTORY#";

/// The lock one migration runner holds at a time (a lease).
pub fn migration_lock() -> Key {
    Key::new("META", "MIGRATION_LOCK")
}

/// Where a segment of a migration's item pass records how far it got.
pub fn migration_checkpoint(migration: u32, direction: &str, pass: &str, segment: u32) -> Key {
    Key::new(
        "META",
        format!("CHECKPOINT#{migration:05}#{direction}#{pass}#{segment:03}"),
    )
}

/// The state of one scheduled maintenance job: its lease, its checkpoint and its last run.
pub fn job_state(job: &str) -> Key {
    Key::new(format!("JOB#{job}"), "STATE")
}

/// The id counter of one entity kind.
pub fn id_counter(kind: &str) -> Key {
    Key::new(format!("COUNTER#{kind}"), "COUNTER")
}

/// Item count of a global collection (organizations, plugins, plugin events).
pub fn collection_count(collection: &str) -> Key {
    Key::new(format!("COUNT#{collection}"), "COUNT")
}

/// A user, by id.
pub fn user(user_id: i32) -> Key {
    Key::new(format!("USER#{user_id}"), "USER")
}

/// The guard that makes an email unique and maps it to the user id.
pub fn email_guard(email: &str) -> Key {
    Key::new(format!("EMAIL#{email}"), "EMAIL")
}

/// An organization, by slug (slugs are immutable, so the key never moves).
pub fn organization(slug: &str) -> Key {
    Key::new(org_partition(slug), "ORG")
}

/// The partition holding an organization and its members, projects and plugin instances.
pub fn org_partition(slug: &str) -> String {
    format!("ORG#{slug}")
}

/// The guard that makes an organization name unique.
pub fn organization_name_guard(name: &str) -> Key {
    Key::new(format!("ORGNAME#{name}"), "ORGNAME")
}

/// The guard that makes an organization id unique and maps it to the slug.
pub fn organization_id_guard(id: i32) -> Key {
    Key::new(format!("ORGID#{id}"), "ORGID")
}

/// The singleton that names the one default organization.
pub fn default_organization() -> Key {
    Key::new("DEFAULT_ORG", "DEFAULT_ORG")
}

/// The partition of pending organization deletions (see `domain::organization_delete`).
pub const PENDING_ORGANIZATION_DELETIONS: &str = "PENDING_DELETIONS";

/// The marker of an organization whose items are being removed.
pub fn pending_organization_deletion(slug: &str) -> Key {
    Key::new(PENDING_ORGANIZATION_DELETIONS, org_partition(slug))
}

/// The partition of pending project deletions: apart from the organizations', whose readers
/// in older builds take every sort key there for an organization slug.
pub const PENDING_PROJECT_DELETIONS: &str = "PENDING_PROJECT_DELETIONS";

/// The marker of a project whose items are being removed (sort key: the project's partition).
pub fn pending_project_deletion(slug: &str, project_id: i32) -> Key {
    Key::new(
        PENDING_PROJECT_DELETIONS,
        project_partition(slug, project_id),
    )
}

/// A user's membership of an organization (role), in the organization's partition.
pub fn membership(slug: &str, user_id: i32) -> Key {
    Key::new(org_partition(slug), format!("MEMBER#{user_id}"))
}

/// A project, in its organization's partition.
pub fn project(slug: &str, project_id: i32) -> Key {
    Key::new(org_partition(slug), format!("PROJECT#{project_id}"))
}

/// The guard that makes a project name unique within its organization.
pub fn project_name_guard(slug: &str, name: &str) -> Key {
    Key::new(org_partition(slug), format!("PROJECTNAME#{name}"))
}

/// The guard that makes a project id unique across the table.
pub fn project_id_guard(project_id: i32) -> Key {
    Key::new(format!("PROJECTID#{project_id}"), "PROJECTID")
}

/// The partition holding everything that belongs to one project (links, init data).
pub fn project_partition(slug: &str, project_id: i32) -> String {
    format!("ORG#{slug}#PROJECT#{project_id}")
}

/// A user's link to a project (default flag, project role), in the project's partition.
pub fn user_project_link(slug: &str, project_id: i32, user_id: i32) -> Key {
    Key::new(
        project_partition(slug, project_id),
        format!("USER#{user_id}"),
    )
}

/// One item of a project's init data (incident types, priorities, …), in the project's partition.
pub fn project_data(slug: &str, project_id: i32, kind: &str, id: i32) -> Key {
    Key::new(project_partition(slug, project_id), format!("{kind}#{id}"))
}

/// The record that project `project_id` has been given an instance of `plugin_id` by the
/// plugin backfill (or had one already): the backfill never gives it again, so an instance a
/// user deleted stays deleted. In the organization's partition, so that one query reads an
/// organization's records; a project's leave with its instances.
pub fn plugin_given(slug: &str, project_id: i32, plugin_id: i32) -> Key {
    Key::new(
        org_partition(slug),
        format!("{}{plugin_id}", plugin_given_prefix(project_id)),
    )
}

/// The sort-key prefix of project `project_id`'s [`plugin_given`] records.
pub fn plugin_given_prefix(project_id: i32) -> String {
    format!("PLUGINGIVEN#{project_id}#")
}

/// A plugin of the catalogue, by id.
pub fn plugin(plugin_id: i32) -> Key {
    Key::new(format!("PLUGIN#{plugin_id}"), "PLUGIN")
}

/// The guard that makes a plugin slug unique and maps it to the plugin id.
pub fn plugin_slug_guard(slug: &str) -> Key {
    Key::new(format!("PLUGINSLUG#{slug}"), "PLUGINSLUG")
}

/// A plugin event, in its plugin's partition.
pub fn plugin_event(plugin_id: i32, event_id: i32) -> Key {
    Key::new(format!("PLUGIN#{plugin_id}"), format!("EVENT#{event_id}"))
}

/// The guard that makes a plugin event slug unique and maps it to its ids.
pub fn plugin_event_slug_guard(slug: &str) -> Key {
    Key::new(format!("PLUGINEVENTSLUG#{slug}"), "PLUGINEVENTSLUG")
}

/// A plugin instance, in its organization's partition (instances are addressed by id under
/// `/{org}/plugins/instances/{id}`, without the project).
pub fn plugin_instance(slug: &str, instance_id: i32) -> Key {
    Key::new(org_partition(slug), format!("INSTANCE#{instance_id}"))
}

/// The guard naming the single enabled instance of a plugin type in a project.
pub fn active_instance_guard(slug: &str, project_id: i32, plugin_type: &str) -> Key {
    Key::new(
        org_partition(slug),
        format!("ACTIVE#{project_id}#{plugin_type}"),
    )
}

/// The id of an auto-join organization, recorded by `database init`.
pub fn auto_join_record(slug: &str) -> Key {
    Key::new(format!("AUTOJOIN#{slug}"), "AUTOJOIN")
}

/// An MFA challenge, by its UUID.
pub fn mfa_challenge(challenge_id: &str) -> Key {
    Key::new(format!("MFA#{challenge_id}"), "MFA")
}

/// The login slots and failures of one account from one source IP in one window.
pub fn login_throttle_pair(email: &str, ip: &str, window: i64) -> Key {
    Key::new(
        format!("THROTTLE#EMAIL#{email}"),
        format!("IP#{ip}#W{window}"),
    )
}

/// A source that logged in to an account with its password lately (`ttl`: 30 days): the
/// account's delay does not apply to it.
pub fn login_throttle_known(email: &str, ip: &str) -> Key {
    Key::new(format!("THROTTLE#EMAIL#{email}"), format!("KNOWN#{ip}"))
}

/// The failed logins of one account, from every source, in one window.
pub fn login_throttle_account(email: &str, window: i64) -> Key {
    Key::new(
        format!("THROTTLE#EMAIL#{email}"),
        format!("ACCOUNT#W{window}"),
    )
}

/// The login slots and failures of one source IP, for every account, in one window.
pub fn login_throttle_ip(ip: &str, window: i64) -> Key {
    Key::new(format!("THROTTLE#IP#{ip}"), format!("WINDOW#{window}"))
}

/// GSI1 partition of a user: their memberships (`ORG#<slug>`) and project links
/// (`PROJECT#<slug>#<project id>`).
pub fn user_inverse(user_id: i32) -> String {
    format!("USER#{user_id}")
}

/// GSI1 partition of a project's plugin instances, sorted by `<plugin type>#<plugin slug>`.
pub fn project_instances(slug: &str, project_id: i32) -> String {
    format!("ORG#{slug}#PROJECT#{project_id}#INSTANCES")
}

/// `list_pk` values: the sortable collections the list layer pages through.
pub mod collection {
    /// All organizations (sorted by name).
    pub const ORGANIZATIONS: &str = "ORGS";
    /// The plugin catalogue (sorted by slug / title / type).
    pub const PLUGINS: &str = "PLUGINS";
    /// All plugin events (sorted by slug).
    pub const PLUGIN_EVENTS: &str = "PLUGIN_EVENTS";

    /// An organization's members (sorted by email).
    pub fn members(slug: &str) -> String {
        format!("ORG#{slug}#MEMBERS")
    }

    /// An organization's projects (sorted by name / display name).
    pub fn projects(slug: &str) -> String {
        format!("ORG#{slug}#PROJECTS")
    }

    /// An organization's plugin instances (sorted by plugin slug).
    pub fn plugin_instances(slug: &str) -> String {
        format!("ORG#{slug}#INSTANCES")
    }
}

/// A sort key for a list index: the value folded to lower case (so that `Zeta` sorts after
/// `alpha`, as Postgres' collation does) and the id, zero-padded, to keep keys unique and ties
/// stable.
pub fn sort_value(value: &str, id: i32) -> String {
    format!("{}#{id:010}", value.to_lowercase())
}

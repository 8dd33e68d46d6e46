//! The DynamoDB single-table store.
//!
//! One table holds every entity. Items are addressed by `pk` / `sk`; one projected-everything
//! index (`gsi1`) serves alternate lookups; three keys-only indexes (`list1`..`list3`, partition
//! `list_pk`) give every list collection up to three sort orders, so the list layer reads only
//! the keys it skips and the items of the page it returns. All key strings are built in
//! [`keys`].
//!
//! # Key design
//!
//! `<slug>` is an organization slug (immutable), `<uid>`/`<pid>`/… are ids, `<email>` the
//! normalised email (immutable). The last column names the lookups each row serves (the list
//! of lookups the API needs is docs/contract.md §10).
//!
//! | Item | `pk` | `sk` | `gsi1pk` / `gsi1sk` | `list_pk` / sort keys | Serves |
//! |---|---|---|---|---|---|
//! | Id counter | `COUNTER#<KIND>` | `COUNTER` | | | ids unique per entity type, reserved in blocks |
//! | Collection count | `COUNT#<collection>` | `COUNT` | | | exact `total` of global lists (orgs, plugins, plugin events); `counter_changes`/`counters_changed_at` record each change for `reconcile-counters` |
//! | User | `USER#<uid>` | `USER` | | | user by id; user settings (embedded, `id` = user id); token version |
//! | Email guard | `EMAIL#<email>` | `EMAIL` | | | user by email (→ uid); email unique |
//! | Organization | `ORG#<slug>` | `ORG` | | `ORGS` / name | org by slug; all orgs by name (list1); its default project (`default_project_id`, exactly one); member / project / instance counts for `total` |
//! | Org name guard | `ORGNAME#<name>` | `ORGNAME` | | | org by name (→ slug); name unique |
//! | Org id guard | `ORGID#<id>` | `ORGID` | | | org by id (→ slug); id unique |
//! | Default org | `DEFAULT_ORG` | `DEFAULT_ORG` | | | the default org; exactly one |
//! | Membership | `ORG#<slug>` | `MEMBER#<uid>` | `USER#<uid>` / `ORG#<slug>` | `ORG#<slug>#MEMBERS` / email | a user's memberships with roles (gsi1); an org's members with roles, by email, email-prefix search (list1, and from version 4 the members index, `members_sk`); the authorization read |
//! | Project | `ORG#<slug>` | `PROJECT#<pid>` | | `ORG#<slug>#PROJECTS` / name, display name | project by id within its org; all projects by name / display name (list1 / list2) |
//! | Project name guard | `ORG#<slug>` | `PROJECTNAME#<name>` | | | project by name (→ pid); name unique per org |
//! | Project id guard | `PROJECTID#<pid>` | `PROJECTID` | | | project id unique across the table |
//! | User–project link | `ORG#<slug>#PROJECT#<pid>` | `USER#<uid>` | `USER#<uid>` / `PROJECT#<slug>#<pid>` | | a user's project links in one org (gsi1, `begins_with PROJECT#<slug>#`): default flag, project role |
//! | Project init data | `ORG#<slug>#PROJECT#<pid>` | `<KIND>#<id>` | | | incident / case types, priorities, severities, cost types; the project's item collection (cascading delete) |
//! | Plugin | `PLUGIN#<id>` | `PLUGIN` | | `PLUGINS` / slug, title, type | plugin by id; catalogue by slug / title / type; plugins of a type (list3 `begins_with <type>`) |
//! | Plugin slug guard | `PLUGINSLUG#<slug>` | `PLUGINSLUG` | | | plugin by slug (→ id); slug unique; outlives `uninstall`, so a reinstalled plugin keeps its id |
//! | Plugin event | `PLUGIN#<plugin id>` | `EVENT#<id>` | | `PLUGIN_EVENTS` / slug | events of a plugin (partition); all events by slug |
//! | Plugin event slug guard | `PLUGINEVENTSLUG#<slug>` | `PLUGINEVENTSLUG` | | | plugin event by slug; slug unique |
//! | Plugin instance | `ORG#<slug>` | `INSTANCE#<id>` | `ORG#<slug>#PROJECT#<pid>#INSTANCES` / `<type>#<plugin slug>#<id>` | `ORG#<slug>#INSTANCES` / plugin slug | instance by id within its org; a project's instances (gsi1), with plugin type and slug copied in; instances by `Plugin.slug` (list1, and from version 5 the instances index, `instances_sk`); the configuration sealed (AES-256-GCM, the item's key as associated data) |
//! | Active instance guard | `ORG#<slug>` | `ACTIVE#<pid>#<type>` | | | the single enabled instance of a type in a project, enforced in the enabling transaction |
//! | Auto-join record | `AUTOJOIN#<slug>` | `AUTOJOIN` | | | the id of an organization new users join, recorded by `database init`, so a deleted and re-created slug is not joined |
//! | Pending org deletion | `PENDING_DELETIONS` | `ORG#<slug>` | | | organizations a `DELETE` hid and has not finished removing; `claim_token`/`claim_until` name the one remover at work (the request, then the maintenance job `finish-deletions` or `database init`) |
//! | Pending project deletion | `PENDING_PROJECT_DELETIONS` | `ORG#<slug>#PROJECT#<pid>` | | | projects a `DELETE` hid and has not finished removing (a repeated `DELETE`, `finish-deletions` or `database init` finishes them) |
//! | Plugin given | `ORG#<slug>` | `PLUGINGIVEN#<pid>#<plugin id>` | | | the project has had an instance of the plugin (given by the backfill, or deleted by a user): the backfill gives each plugin once |
//! | Job state | `JOB#<job>` | `STATE` | | | a maintenance job's lease (holder, token, until), checkpoint and last run summary |
//! | Schema version | `META` | `SCHEMA` | | | the version functions check at start-up ([`migrate`]) |
//! | Migration history | `META` | `HISTORY#<when>#<id>` | | | every change of the version: who, when, how long, items touched |
//! | Migration lock | `META` | `MIGRATION_LOCK` | | | the one migration runner (holder, token, lease end) |
//! | Migration checkpoint | `META` | `CHECKPOINT#<id>#<up/down>#<pass>#<segment>` | | | how far a segment of an item pass got (removed when its step commits) |
//! | MFA challenge | `MFA#<uuid>` | `MFA` | | | challenge by UUID: organization, project, user, action, status (pending → approved / denied / expired), `expires_at` (validity is decided from it; `ttl` removes the item a day later) |
//! | Login throttle, account × IP | `THROTTLE#EMAIL#<email>` | `IP#<ip>#W<window>` | | | login slots left and failures of one account from one source in a 15-minute window ([`crate::auth::throttle`]; `ttl` cleans up) |
//! | Login throttle, account | `THROTTLE#EMAIL#<email>` | `ACCOUNT#W<window>` | | | failures of one account from every source in an hour, the last one's time (the progressive delay) and the next turn of unknown sources |
//! | Login throttle, known source | `THROTTLE#EMAIL#<email>` | `KNOWN#<ip>` | | | a source that logged in to the account with its password (`ttl`: 30 days, checked in code): it skips the account's delay |
//! | Login throttle, IP | `THROTTLE#IP#<ip>` | `WINDOW#<window>` | | | login slots left and failures of one source IP in an hour |
//!
//! The authorization check of a `/{org}/…` request is one `BatchGetItem` of `ORG#<slug>/ORG`,
//! `ORG#<slug>/MEMBER#<uid>` and `USER#<uid>/USER`: slugs and emails never change, and the
//! token names the user id.
//!
//! # Writes
//! - Every multi-item change is one [`Transaction`]; uniqueness comes from guard items put with
//!   `attribute_not_exists` in that transaction.
//! - Every mutable item carries `version`; read-modify-write updates are conditional on it and
//!   [`retry_on_version_conflict`] retries a lost race up to 3 times before it becomes a 409.
//! - Timestamps are Dispatch's `%Y-%m-%dT%H:%M:%S.%fZ` ([`crate::time`]).

pub mod batch;
pub mod error;
pub mod expression;
pub mod ids;
pub mod item;
pub mod keys;
pub mod migrate;
pub mod query;
pub mod scan;
pub mod schema;
pub mod transaction;

use std::future::Future;
use std::sync::Arc;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::KeysAndAttributes;
use serde::de::DeserializeOwned;

pub use error::StoreError;
pub use expression::Expression;
pub use ids::{IdAllocator, IdKind};
pub use item::{Attributes, Item, from_attributes, key_attributes};
pub use keys::Key;
pub use query::Source;
pub use transaction::Transaction;

/// How many ids a process reserves per counter update.
pub const ID_BLOCK_SIZE: u32 = 8;

/// Handle on the table: one SDK client (built once per cold start) and the table name.
#[derive(Debug, Clone)]
pub struct Store {
    client: Client,
    table: Arc<str>,
    ids: Arc<IdAllocator>,
}

impl Store {
    /// A store over `table`, using `client` for every request.
    pub fn new(client: Client, table: impl Into<Arc<str>>) -> Self {
        Self {
            client,
            table: table.into(),
            ids: Arc::new(IdAllocator::new(ID_BLOCK_SIZE)),
        }
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    pub(crate) fn ids(&self) -> &IdAllocator {
        &self.ids
    }

    /// Reads one item (strongly consistent).
    pub async fn get_attributes(&self, key: &Key) -> Result<Option<Attributes>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(self.table())
            .set_key(Some(key_attributes(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        Ok(output.item)
    }

    /// Reads one item as a record.
    pub async fn get<T: DeserializeOwned>(&self, key: &Key) -> Result<Option<T>, StoreError> {
        self.get_attributes(key)
            .await?
            .map(from_attributes)
            .transpose()
    }

    /// Reads items (strongly consistent), in the order of `keys`; absent items are `None`.
    /// One round trip for up to 800 keys; unprocessed keys are fetched again.
    pub async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Option<Attributes>>, StoreError> {
        let mut unique: Vec<Key> = keys.to_vec();
        unique.sort();
        unique.dedup();
        // BatchGetItem takes at most 100 keys per request; up to BATCH_GETS_IN_FLIGHT of them
        // run at once, so up to 800 keys cost one round trip (plus retries of unprocessed keys).
        use futures_util::{StreamExt, TryStreamExt};
        // Owned chunks: a stream of borrowed ones makes callers' futures lose `Send`.
        let owned: Vec<Vec<Key>> = unique.chunks(100).map(<[Key]>::to_vec).collect();
        let chunks: Vec<Vec<Attributes>> = futures_util::stream::iter(owned)
            .map(|chunk| async move { self.batch_get_chunk(&chunk).await })
            .buffer_unordered(BATCH_GETS_IN_FLIGHT)
            .try_collect()
            .await?;
        let mut found: std::collections::HashMap<Key, Attributes> = chunks
            .into_iter()
            .flatten()
            .map(|item| (item::key_of(&item), item))
            .collect();
        if unique.len() == keys.len() {
            // No key asked twice: each item moves to its place.
            return Ok(keys.iter().map(|key| found.remove(key)).collect());
        }
        Ok(keys.iter().map(|key| found.get(key).cloned()).collect())
    }

    async fn batch_get_chunk(&self, keys: &[Key]) -> Result<Vec<Attributes>, StoreError> {
        let mut found: Vec<Attributes> = Vec::with_capacity(keys.len());
        let mut pending: Vec<Key> = keys.to_vec();
        let mut rounds = 0;
        while !pending.is_empty() {
            rounds += 1;
            let request = KeysAndAttributes::builder()
                .set_keys(Some(pending.iter().map(key_attributes).collect()))
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError::Sdk(e.to_string()))?;
            let output = self
                .client
                .batch_get_item()
                .request_items(self.table(), request)
                .send()
                .await
                .map_err(StoreError::from_sdk)?;
            if let Some(mut responses) = output.responses {
                found.extend(responses.remove(self.table()).unwrap_or_default());
            }
            pending = output
                .unprocessed_keys
                .and_then(|mut u| u.remove(self.table()))
                .map(|k| k.keys.iter().map(item::key_of).collect())
                .unwrap_or_default();
            if !pending.is_empty() {
                if rounds > 5 {
                    return Err(StoreError::Unavailable(
                        "BatchGetItem left keys unprocessed".into(),
                    ));
                }
                tokio::time::sleep(std::time::Duration::from_millis(20 * rounds)).await;
            }
        }
        Ok(found)
    }
}

/// Most `BatchGetItem` requests one [`Store::batch_get`] has in flight.
const BATCH_GETS_IN_FLIGHT: usize = 8;

/// How often a read-modify-write that lost a version race is run again before it is a 409.
pub const VERSION_RETRIES: usize = 3;

/// Runs a read-modify-write `attempt`, and runs it again (up to [`VERSION_RETRIES`] more times)
/// while it fails with [`StoreError::VersionConflict`]. Clients send no version: the server
/// re-reads and re-applies their change.
pub async fn retry_on_version_conflict<T, E, F, Fut>(mut attempt: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: IsVersionConflict,
{
    let mut retries = 0;
    loop {
        match attempt().await {
            Err(e) if e.is_version_conflict() && retries < VERSION_RETRIES => retries += 1,
            other => return other,
        }
    }
}

/// Errors that can say "a concurrent update won".
pub trait IsVersionConflict {
    fn is_version_conflict(&self) -> bool;
}

impl IsVersionConflict for StoreError {
    fn is_version_conflict(&self) -> bool {
        matches!(self, StoreError::VersionConflict)
    }
}

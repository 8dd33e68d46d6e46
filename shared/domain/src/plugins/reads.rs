//! Reading plugins as clients see them: the catalogue, plugin events and instances as list
//! pages, and one instance with its (masked) configuration. Each page costs one batch read of
//! its items (none for instances read from the instances index) and one of what they point at
//! (plugins, projects).

use std::collections::HashMap;

use serde_json::Value;

use super::recent::RecentPlugins;
use crate::error::DomainError;
use crate::list::Rows;
use crate::model::{Plugin, PluginEvent, PluginInstance, Project};
use crate::plugin_config::{ConfigurationKey, ConfigurationSchema};
use dispatch_store::keys::{self, Key};
use dispatch_store::{Attributes, Store, StoreError, from_attributes};

/// The size of a global collection (the catalogue, plugin events), kept by its writers.
pub async fn collection_total(store: &Store, collection: &str) -> Result<i64, StoreError> {
    Ok(store
        .get_attributes(&keys::collection_count(collection))
        .await?
        .and_then(|item| dispatch_store::item::number_attribute(&item, "count"))
        .unwrap_or(0))
}

/// How many plugins the catalogue holds.
pub async fn catalogue_total(store: &Store) -> Result<i64, StoreError> {
    collection_total(store, keys::collection::PLUGINS).await
}

/// How many plugin events the catalogue holds.
pub async fn events_total(store: &Store) -> Result<i64, StoreError> {
    collection_total(store, keys::collection::PLUGIN_EVENTS).await
}

fn records<T: serde::de::DeserializeOwned>(
    found: Vec<Option<Attributes>>,
) -> Result<Vec<T>, StoreError> {
    found.into_iter().flatten().map(from_attributes).collect()
}

/// Catalogue rows by key.
pub async fn load_catalogue(store: &Store, keys: Vec<Key>) -> Result<Vec<Plugin>, DomainError> {
    Ok(records(store.batch_get(&keys).await?)?)
}

/// Plugins by id (rows that are gone are absent).
async fn plugins_by_id(
    store: &Store,
    ids: impl Iterator<Item = i32>,
) -> Result<HashMap<i32, Plugin>, StoreError> {
    let mut keys: Vec<Key> = ids.map(keys::plugin).collect();
    keys.sort();
    keys.dedup();
    let plugins: Vec<Plugin> = records(store.batch_get(&keys).await?)?;
    Ok(plugins.into_iter().map(|p| (p.id, p)).collect())
}

/// Plugin events by key, each with its plugin (events of a plugin gone meanwhile are absent).
pub async fn load_events(
    store: &Store,
    keys: Vec<Key>,
) -> Result<Vec<(PluginEvent, Plugin)>, DomainError> {
    let events: Vec<PluginEvent> = records(store.batch_get(&keys).await?)?;
    let plugins = plugins_by_id(store, events.iter().map(|e| e.plugin_id)).await?;
    Ok(events
        .into_iter()
        .filter_map(|event| {
            let plugin = plugins.get(&event.plugin_id)?.clone();
            Some((event, plugin))
        })
        .collect())
}

/// An instance with what its views show: its plugin (absent once uninstalled), its project,
/// and (for one instance) its configuration as clients see it.
#[derive(Debug, Clone)]
pub struct InstanceParts {
    pub instance: PluginInstance,
    pub plugin: Option<Plugin>,
    pub project: Project,
    pub configuration: Option<Value>,
}

/// The instances of organization `slug` a list page found, without configuration (lists show
/// none): read by key from a keys-only index, or as the instances index's Query returned them.
/// Either way their projects, and the plugins `recent` has not read lately, come in one batch.
/// Instances of a project being deleted are left out.
pub async fn load_instances(
    store: &Store,
    recent: &RecentPlugins,
    slug: &str,
    rows: Rows,
) -> Result<Vec<InstanceParts>, DomainError> {
    let instances: Vec<PluginInstance> = match rows {
        Rows::Keys(keys) => records(store.batch_get(&keys).await?)?,
        Rows::Items(items) => items
            .into_iter()
            .map(from_attributes)
            .collect::<Result<_, _>>()?,
    };
    let mut plugin_ids: Vec<i32> = instances.iter().map(|i| i.plugin_id).collect();
    plugin_ids.sort_unstable();
    plugin_ids.dedup();
    let project_keys: Vec<Key> = instances
        .iter()
        .map(|i| keys::project(slug, i.project_id))
        .collect();
    // The projects, with the plugins not read lately, in one batch (two while the start-up
    // read of the plugins is under way: `RecentPlugins::read_with`).
    let (plugins, found) = recent.read_with(store, &plugin_ids, &project_keys).await?;
    let projects: HashMap<i32, Project> = records::<Project>(found)?
        .into_iter()
        .filter(|p| !p.deleted)
        .map(|p| (p.id, p))
        .collect();
    Ok(instances
        .into_iter()
        .filter_map(|instance| {
            let project = projects.get(&instance.project_id)?.clone();
            let plugin = plugins.get(&instance.plugin_id).cloned();
            Some(InstanceParts {
                instance,
                plugin,
                project,
                configuration: None,
            })
        })
        .collect())
}

/// The configuration of `instance` as clients see it: opened, secrets masked; null when there
/// is none or it cannot be opened (as Dispatch). A 503 when it needs the secret's previous
/// version and that cannot be read now.
pub async fn shown_configuration(
    key: &ConfigurationKey,
    slug: &str,
    instance: &PluginInstance,
) -> Result<Option<Value>, DomainError> {
    let Some(sealed) = instance.sealed_configuration.as_deref() else {
        return Ok(None);
    };
    let context = super::instances::seal_context(slug, instance.id);
    let Some(opened) = key.open(sealed, &context).await? else {
        tracing::warn!(
            instance = instance.id,
            "plugin configuration could not be opened"
        );
        return Ok(None);
    };
    Ok(ConfigurationSchema::of_plugin(&instance.plugin_slug).map(|schema| schema.masked(&opened)))
}

/// One instance with its masked configuration (not found if the instance or its project is
/// gone).
pub async fn read_instance(
    store: &Store,
    key: &ConfigurationKey,
    slug: &str,
    instance: &PluginInstance,
) -> Result<InstanceParts, DomainError> {
    let found = store
        .batch_get(&[
            keys::plugin(instance.plugin_id),
            keys::project(slug, instance.project_id),
        ])
        .await?;
    let mut found = found.into_iter();
    let plugin: Option<Plugin> = found.next().flatten().map(from_attributes).transpose()?;
    let project: Option<Project> = found.next().flatten().map(from_attributes).transpose()?;
    let project = project
        .filter(|p| !p.deleted)
        .ok_or_else(|| DomainError::NotFound(super::instances::NOT_FOUND.into()))?;
    Ok(InstanceParts {
        instance: instance.clone(),
        plugin,
        project,
        configuration: shown_configuration(key, slug, instance).await?,
    })
}

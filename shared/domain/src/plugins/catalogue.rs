//! The plugin catalogue in the table: `dispatch plugins install` writes the shipped catalogue
//! ([`crate::catalogue`]) as rows, `uninstall` removes rows, and every project gets a disabled
//! instance of every installed plugin.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::catalogue::{self, CataloguePlugin};
use crate::error::DomainError;
use crate::model::{Plugin, PluginEvent};
use dispatch_store::item::{Attributes, key_of};

pub use super::catalogue_index::every_row;
use dispatch_store::keys::{self, collection, sort_value};
use dispatch_store::schema::LIST1;
use dispatch_store::{
    Expression, IdKind, Item, Source, Store, StoreError, Transaction, from_attributes,
};

/// How a catalogue row is stored: listed by slug, title and type, and in GSI1 (which projects
/// every attribute) under [`collection::PLUGINS`], so that the whole catalogue is one Query
/// ([`super::catalogue_index`]).
pub fn plugin_item(plugin: &Plugin) -> Result<Item, StoreError> {
    let (gsi1pk, gsi1sk) = super::catalogue_index::place(plugin.id, &plugin.slug);
    Ok(Item::new(&keys::plugin(plugin.id), "Plugin", plugin)?
        .in_list(
            collection::PLUGINS,
            &[
                sort_value(&plugin.slug, plugin.id),
                sort_value(&plugin.title, plugin.id),
                sort_value(&plugin.plugin_type, plugin.id),
            ],
        )
        .with_gsi1(gsi1pk, gsi1sk))
}

/// How a plugin event is stored: in its plugin's partition, listed by slug.
pub fn event_item(event: &PluginEvent) -> Result<Item, StoreError> {
    Ok(Item::new(
        &keys::plugin_event(event.plugin_id, event.id),
        "PluginEvent",
        event,
    )?
    .in_list(
        collection::PLUGIN_EVENTS,
        &[sort_value(&event.slug, event.id)],
    ))
}

/// Every installed catalogue row (the list index, then the rows).
pub async fn installed(store: &Store) -> Result<Vec<Plugin>, StoreError> {
    let listed = store
        .query_prefix(Source::Index(LIST1), collection::PLUGINS, "")
        .await?;
    let keys: Vec<_> = listed.iter().map(key_of).collect();
    store
        .batch_get(&keys)
        .await?
        .into_iter()
        .flatten()
        .map(from_attributes)
        .collect()
}

/// The catalogue row of `slug`, if installed.
pub async fn find(store: &Store, slug: &str) -> Result<Option<Plugin>, StoreError> {
    let Some(guard) = store.get_attributes(&keys::plugin_slug_guard(slug)).await? else {
        return Ok(None);
    };
    let id = dispatch_store::item::number_attribute(&guard, "plugin_id").unwrap_or_default();
    store.get(&keys::plugin(id as i32)).await
}

fn count_change(collection: &str, by: i64) -> (keys::Key, Expression) {
    (keys::collection_count(collection), Expression::count_by(by))
}

fn row_of(id: i32, shipped: &CataloguePlugin) -> Plugin {
    Plugin {
        id,
        title: shipped.title.clone(),
        slug: shipped.slug.clone(),
        description: shipped.description.clone(),
        plugin_version: shipped.version.clone(),
        author: shipped.author.clone(),
        author_url: shipped.author_url.clone(),
        plugin_type: shipped.plugin_type.clone(),
        multiple: shipped.multiple,
    }
}

/// Plugins inserted per transaction (two actions each, plus the count).
const INSERT_CHUNK: usize = 45;

/// The id each shipped plugin has had in this table, from the slug guards. Guards outlive
/// `uninstall`, so a plugin installed again gets its old id back and its instances are no
/// longer broken.
async fn registered_ids(store: &Store) -> Result<HashMap<String, i32>, StoreError> {
    let keys: Vec<_> = catalogue::plugins()
        .iter()
        .map(|p| keys::plugin_slug_guard(&p.slug))
        .collect();
    let found = store.batch_get(&keys).await?;
    Ok(catalogue::plugins()
        .iter()
        .zip(found)
        .filter_map(|(p, guard)| {
            let id = dispatch_store::item::number_attribute(&guard?, "plugin_id")?;
            Some((p.slug.clone(), id as i32))
        })
        .collect())
}

/// Writes the shipped catalogue: missing rows are inserted (a few transactions for the whole
/// catalogue), installed ones are updated only with `force`; events are upserted by slug.
/// Returns Dispatch's progress lines. Safe to run concurrently: a row another run inserted
/// first is left to it.
pub async fn install(store: &Store, force: bool) -> Result<Vec<String>, DomainError> {
    let mut report = Vec::new();
    let mut ids = registered_ids(store).await?;
    let unregistered = catalogue::plugins()
        .iter()
        .filter(|p| !ids.contains_key(&p.slug))
        .count();
    let mut fresh = store
        .next_ids(IdKind::Plugin, unregistered)
        .await?
        .into_iter();
    for shipped in catalogue::plugins() {
        if !ids.contains_key(&shipped.slug) {
            ids.insert(shipped.slug.clone(), fresh.next().unwrap_or_default());
        }
    }
    let installed_rows: Vec<Attributes> = store
        .batch_get(&ids.values().map(|id| keys::plugin(*id)).collect::<Vec<_>>())
        .await?
        .into_iter()
        .flatten()
        .collect();
    super::catalogue_index::place_unplaced(store, &installed_rows).await?;
    let present: Vec<i32> = installed_rows
        .iter()
        .filter_map(|row| dispatch_store::item::number_attribute(row, "id").map(|id| id as i32))
        .collect();
    let missing: Vec<Plugin> = catalogue::plugins()
        .iter()
        .map(|shipped| row_of(ids[&shipped.slug], shipped))
        .filter(|row| !present.contains(&row.id))
        .collect();
    for chunk in missing.chunks(INSERT_CHUNK) {
        let inserted: Vec<&Plugin> = match insert(store, chunk).await {
            Ok(()) => chunk.iter().collect(),
            // A concurrent run inserted some of them: one at a time, leaving those to it.
            Err(StoreError::ConditionFailed { .. }) => {
                let mut inserted = Vec::new();
                for row in chunk {
                    match insert(store, std::slice::from_ref(row)).await {
                        Ok(()) => inserted.push(row),
                        Err(StoreError::ConditionFailed { .. }) => {
                            // Its id is the one the other run registered.
                            if let Some(winner) = find(store, &row.slug).await? {
                                ids.insert(row.slug.clone(), winner.id);
                            }
                        }
                        Err(other) => return Err(other.into()),
                    }
                }
                inserted
            }
            Err(other) => return Err(other.into()),
        };
        for row in inserted {
            report.push(format!(
                "Installing plugin... Slug: {} Version: {}",
                row.slug, row.plugin_version
            ));
        }
    }
    for shipped in catalogue::plugins() {
        let plugin_id = ids[&shipped.slug];
        if force && present.contains(&plugin_id) {
            let mut tx = Transaction::new();
            tx.put_when(plugin_item(&row_of(plugin_id, shipped))?, None, None)?;
            store.transact(tx).await?;
            report.push(format!(
                "Updating plugin... Slug: {} Version: {}",
                shipped.slug, shipped.version
            ));
        }
        for event in &shipped.events {
            upsert_event(store, plugin_id, event).await?;
            report.push(format!(
                "  Registering plugin event... Slug: {}",
                event.slug
            ));
        }
    }
    Ok(report)
}

/// Inserts catalogue rows with their slug guards and count, in one transaction. A guard may
/// already name the same id (a plugin installed again); a row must not exist yet.
async fn insert(store: &Store, rows: &[Plugin]) -> Result<(), StoreError> {
    let mut tx = Transaction::new();
    for row in rows {
        tx.put_when(
            Item::bare(&keys::plugin_slug_guard(&row.slug), "PluginSlugGuard")
                .with_number("plugin_id", i64::from(row.id)),
            Some(
                Expression::new("attribute_not_exists(#pk) OR #id = :id")
                    .name("#pk", keys::attr::PK)
                    .name("#id", "plugin_id")
                    .value(":id", AttributeValue::N(row.id.to_string())),
            ),
            Some("plugin_slug"),
        )?;
        tx.put_new(plugin_item(row)?, "plugin")?;
    }
    let (key, update) = count_change(collection::PLUGINS, rows.len() as i64);
    tx.update(key, update, None, None)?;
    store.transact(tx).await
}

async fn upsert_event(
    store: &Store,
    plugin_id: i32,
    shipped: &catalogue::CatalogueEvent,
) -> Result<(), DomainError> {
    let guard = store
        .get_attributes(&keys::plugin_event_slug_guard(&shipped.slug))
        .await?;
    let existing_id = guard
        .as_ref()
        .and_then(|g| dispatch_store::item::number_attribute(g, "event_id"));
    let id = match existing_id {
        Some(id) => id as i32,
        None => store.next_id(IdKind::PluginEvent).await?,
    };
    let event = PluginEvent {
        id,
        name: shipped.name.clone(),
        slug: shipped.slug.clone(),
        description: shipped.description.clone(),
        plugin_id,
    };
    let mut tx = Transaction::new();
    if existing_id.is_none() {
        tx.put_new(
            Item::bare(
                &keys::plugin_event_slug_guard(&event.slug),
                "PluginEventSlugGuard",
            )
            .with_number("plugin_id", i64::from(plugin_id))
            .with_number("event_id", i64::from(id)),
            "plugin_event_slug",
        )?;
        let (key, update) = count_change(collection::PLUGIN_EVENTS, 1);
        tx.update(key, update, None, None)?;
    }
    tx.put_when(event_item(&event)?, None, None)?;
    match store.transact(tx).await {
        // A concurrent install registered it first.
        Err(StoreError::ConditionFailed { label }) if label == "plugin_event_slug" => Ok(()),
        other => Ok(other?),
    }
}

/// What `uninstall` says of a slug that is not installed (Dispatch's message).
pub fn unknown_slug(slug: &str) -> String {
    format!("Plugin slug {slug} does not exist. Make sure you're passing the plugin's slug.")
}

/// Removes the catalogue rows (and events) of `slugs`; every slug must be known, or nothing is
/// removed. Instances stay, and read as `broken`.
///
/// Each plugin leaves in its own transaction, conditional on its row still being there. A run
/// cut off halfway is finished by running it again: a slug whose row is gone but whose slug
/// guard remains (it outlives `uninstall`) is reported as already uninstalled, and a concurrent
/// run cannot take a plugin out of the count twice.
pub async fn uninstall(store: &Store, slugs: &[String]) -> Result<Vec<String>, DomainError> {
    let mut rows = Vec::new();
    let mut report = Vec::new();
    for slug in slugs {
        match find(store, slug).await? {
            Some(row) => rows.push(row),
            None if store
                .get_attributes(&keys::plugin_slug_guard(slug))
                .await?
                .is_some() =>
            {
                report.push(already_uninstalled(slug));
            }
            None => return Err(DomainError::BadRequest(unknown_slug(slug).into())),
        }
    }
    for row in rows {
        let events = store
            .query_prefix(Source::Table, &keys::plugin(row.id).pk, "EVENT#")
            .await?;
        let mut tx = Transaction::new();
        // The slug guard stays: installed again, the plugin gets its id (and instances) back.
        tx.delete(
            keys::plugin(row.id),
            Some(Expression::item_present()),
            Some(PLUGIN_ROW_LABEL),
        )?;
        let (key, update) = count_change(collection::PLUGINS, -1);
        tx.update(key, update, None, None)?;
        for event in &events {
            let event: PluginEvent = from_attributes(event.clone())?;
            tx.delete(keys::plugin_event(row.id, event.id), None, None)?;
            tx.delete(keys::plugin_event_slug_guard(&event.slug), None, None)?;
        }
        if !events.is_empty() {
            let (key, update) = count_change(collection::PLUGIN_EVENTS, -(events.len() as i64));
            tx.update(key, update, None, None)?;
        }
        match store.transact(tx).await {
            Ok(()) => report.push(format!("Uninstalled plugin... Slug: {}", row.slug)),
            Err(StoreError::ConditionFailed { label }) if label == PLUGIN_ROW_LABEL => {
                report.push(already_uninstalled(&row.slug));
            }
            Err(other) => return Err(other.into()),
        }
    }
    Ok(report)
}

/// The label of the row-still-there condition of [`uninstall`].
pub(super) const PLUGIN_ROW_LABEL: &str = "plugin_row";

fn already_uninstalled(slug: &str) -> String {
    format!("Plugin slug {slug} is already uninstalled.")
}

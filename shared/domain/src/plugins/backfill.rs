//! `dispatch plugins install` and `dispatch database init` give every existing project a
//! disabled instance of each installed plugin it lacks (new projects get theirs from the init
//! flow, in their creating transaction).

use std::collections::{HashMap, HashSet};

use crate::error::DomainError;
use crate::model::{Plugin, PluginInstance};
use crate::time::Timestamp;
use dispatch_store::item::string_attribute;
use dispatch_store::keys::{self, collection};
use dispatch_store::schema::LIST1;
use dispatch_store::{Source, Store, Transaction, from_attributes};

/// Instances per transaction (with the count update, well under 100).
const CHUNK: usize = 80;

/// Adds the missing instances to every project of every organization; returns how many.
pub async fn add_missing_instances(
    store: &Store,
    plugins: &[Plugin],
) -> Result<usize, DomainError> {
    let mut added = 0;
    for org in store
        .query_prefix(Source::Index(LIST1), collection::ORGANIZATIONS, "")
        .await?
    {
        let Some(slug) = string_attribute(&org, keys::attr::PK)
            .and_then(|pk| pk.strip_prefix("ORG#").map(str::to_owned))
        else {
            continue;
        };
        // What each project has, read consistently from the organization's partition: an index
        // could still miss the instances of a project created a moment ago, and they would be
        // added twice.
        let mut present: HashMap<i32, HashSet<i32>> = HashMap::new();
        for item in store
            .query_prefix(Source::Table, &keys::org_partition(&slug), "INSTANCE#")
            .await?
        {
            let instance: PluginInstance = from_attributes(item)?;
            present
                .entry(instance.project_id)
                .or_default()
                .insert(instance.plugin_id);
        }
        for project in store
            .query_prefix(Source::Index(LIST1), &collection::projects(&slug), "")
            .await?
        {
            let Some(project_id) = string_attribute(&project, keys::attr::SK)
                .and_then(|sk| sk.strip_prefix("PROJECT#").and_then(|id| id.parse().ok()))
            else {
                continue;
            };
            let has = present.remove(&project_id).unwrap_or_default();
            let missing: Vec<Plugin> = plugins
                .iter()
                .filter(|plugin| !has.contains(&plugin.id))
                .cloned()
                .collect();
            added += add_to_project(store, &slug, project_id, &missing).await?;
        }
    }
    Ok(added)
}

async fn add_to_project(
    store: &Store,
    slug: &str,
    project_id: i32,
    missing: &[Plugin],
) -> Result<usize, DomainError> {
    for chunk in missing.chunks(CHUNK) {
        let items =
            super::instances::disabled_instances(store, slug, project_id, chunk, Timestamp::now())
                .await?;
        let mut tx = Transaction::new();
        for item in items {
            tx.put_new(item, "plugin_instance")?;
        }
        super::instances::count_instances(&mut tx, slug, chunk.len() as i64)?;
        store.transact(tx).await?;
    }
    Ok(missing.len())
}

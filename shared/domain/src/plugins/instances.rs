//! Plugin instances: one project's copy of a catalogue plugin, which an admin enables and
//! configures.
//!
//! At most one instance of a plugin type is enabled per project (for plugins that are not
//! `multiple`, Q-PL1). The rule is held by a guard item per (project, type) naming the enabled
//! instance: enabling an instance moves the guard and disables the instance it named, in one
//! transaction conditioned on the guard being as read, so of two concurrent enables one
//! commits and the other retries and then takes over.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::error::DomainError;
use crate::model::{Plugin, PluginInstance};
use crate::time::Timestamp;
use dispatch_store::item::number_attribute;
use dispatch_store::keys::{self, collection, sort_value};
use dispatch_store::transaction::VERSION_LABEL;
use dispatch_store::{Expression, IdKind, Item, Source, Store, StoreError, Transaction};

/// Dispatch's 404 for an unknown instance.
pub const NOT_FOUND: &str = "A plugin instance with this id does not exist.";

/// How an instance is stored: in its organization's partition; in GSI1 under its project,
/// sorted by plugin type and slug; listed by plugin slug, in the keys-only list index and in the
/// instances index (schema version 5).
pub fn instance_item(slug: &str, instance: &PluginInstance) -> Result<Item, StoreError> {
    let order = sort_value(&instance.plugin_slug, instance.id);
    Ok(Item::new(
        &keys::plugin_instance(slug, instance.id),
        "PluginInstance",
        instance,
    )?
    .with_gsi1(
        keys::project_instances(slug, instance.project_id),
        format!(
            "{}#{}#{:010}",
            instance.plugin_type, instance.plugin_slug, instance.id
        ),
    )
    .in_list(
        collection::plugin_instances(slug),
        std::slice::from_ref(&order),
    )
    .in_instances_index(collection::plugin_instances(slug), order))
}

/// The sealed configuration's associated data: the item it belongs to.
pub fn seal_context(slug: &str, instance_id: i32) -> String {
    keys::plugin_instance(slug, instance_id).to_string()
}

/// Disabled, unconfigured instances of `plugins` for project `project_id` (the init flow's
/// first step, and `dispatch plugins install` for projects that lack some).
pub async fn disabled_instances(
    store: &Store,
    slug: &str,
    project_id: i32,
    plugins: &[Plugin],
    now: Timestamp,
) -> Result<Vec<Item>, StoreError> {
    let ids = store
        .next_ids(IdKind::PluginInstance, plugins.len())
        .await?;
    plugins
        .iter()
        .zip(ids)
        .map(|(plugin, id)| {
            instance_item(
                slug,
                &PluginInstance {
                    id,
                    enabled: false,
                    plugin_id: plugin.id,
                    plugin_slug: plugin.slug.clone(),
                    plugin_type: plugin.plugin_type.clone(),
                    project_id,
                    sealed_configuration: None,
                    created_at: now,
                    updated_at: now,
                    version: 1,
                },
            )
        })
        .collect()
}

/// The instance `instance_id` of organization `slug` (404 if there is none).
pub async fn get(
    store: &Store,
    slug: &str,
    instance_id: i32,
) -> Result<PluginInstance, DomainError> {
    store
        .get(&keys::plugin_instance(slug, instance_id))
        .await?
        .ok_or_else(|| DomainError::NotFound(NOT_FOUND.into()))
}

/// The instance the active guard of (`project_id`, `plugin_type`) names, if any.
async fn guard_holder(
    store: &Store,
    slug: &str,
    project_id: i32,
    plugin_type: &str,
) -> Result<Option<i32>, StoreError> {
    Ok(store
        .get_attributes(&keys::active_instance_guard(slug, project_id, plugin_type))
        .await?
        .and_then(|guard| number_attribute(&guard, "instance_id"))
        .map(|id| id as i32))
}

/// Adds to `tx` what makes `instance` the enabled one of its type: the guard names it, and the
/// instance it named before is disabled. Conditional on the guard being as read now.
pub(crate) async fn take_guard(
    store: &Store,
    tx: &mut Transaction,
    slug: &str,
    instance: &PluginInstance,
) -> Result<(), DomainError> {
    let guard = keys::active_instance_guard(slug, instance.project_id, &instance.plugin_type);
    let holder = guard_holder(store, slug, instance.project_id, &instance.plugin_type).await?;
    if holder == Some(instance.id) {
        tx.check(guard, holds(instance.id), VERSION_LABEL)?;
        return Ok(());
    }
    let marker = Item::bare(&guard, "ActiveInstanceGuard")
        .with_number("instance_id", i64::from(instance.id));
    match holder {
        None => tx.put_when(marker, Some(Expression::item_absent()), Some(VERSION_LABEL))?,
        Some(previous) => {
            tx.put_when(marker, Some(holds(previous)), Some(VERSION_LABEL))?;
            tx.update(
                keys::plugin_instance(slug, previous),
                Expression::new("SET #enabled = :false, #updated = :now ADD #version :one")
                    .name("#enabled", "enabled")
                    .name("#updated", "updated_at")
                    .name("#version", keys::attr::VERSION)
                    .value(":false", AttributeValue::Bool(false))
                    .value(":now", AttributeValue::S(Timestamp::now().to_string()))
                    .value(":one", AttributeValue::N("1".into())),
                Some(Expression::item_present()),
                Some(VERSION_LABEL),
            )?
        }
    };
    Ok(())
}

/// Adds to `tx` the release of the guard, if it names `instance`.
pub(crate) async fn release_guard(
    store: &Store,
    tx: &mut Transaction,
    slug: &str,
    instance: &PluginInstance,
) -> Result<(), DomainError> {
    let holder = guard_holder(store, slug, instance.project_id, &instance.plugin_type).await?;
    if holder == Some(instance.id) {
        tx.delete(
            keys::active_instance_guard(slug, instance.project_id, &instance.plugin_type),
            Some(holds(instance.id)),
            Some(VERSION_LABEL),
        )?;
    }
    Ok(())
}

fn holds(instance_id: i32) -> Expression {
    Expression::new("#instance = :instance")
        .name("#instance", "instance_id")
        .value(":instance", AttributeValue::N(instance_id.to_string()))
}

/// The single enabled instance of `plugin_type` in the project, or none (Dispatch's
/// `get_active_instance`). Two or more enabled instances (possible only for `multiple`
/// plugins) is an error, as in Dispatch.
pub async fn get_active_instance(
    store: &Store,
    slug: &str,
    project_id: i32,
    plugin_type: &str,
) -> Result<Option<PluginInstance>, DomainError> {
    if let Some(id) = guard_holder(store, slug, project_id, plugin_type).await? {
        let instance = get(store, slug, id).await?;
        return Ok(instance.enabled.then_some(instance));
    }
    let mut enabled: Vec<PluginInstance> = store
        .query_prefix(
            Source::Index(dispatch_store::schema::GSI1),
            &keys::project_instances(slug, project_id),
            &format!("{plugin_type}#"),
        )
        .await?
        .into_iter()
        .map(dispatch_store::from_attributes::<PluginInstance>)
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|instance| instance.enabled)
        .collect();
    match enabled.len() {
        0 | 1 => Ok(enabled.pop()),
        n => Err(DomainError::Internal(anyhow::anyhow!(
            "{n} enabled instances of plugin type {plugin_type} in project {project_id}"
        ))),
    }
}

/// The change of an organization's instance count, conditioned on the organization still
/// taking additions (a `DELETE` may have hidden it).
pub(crate) fn count_instances(tx: &mut Transaction, slug: &str, by: i64) -> Result<(), StoreError> {
    // Taking away needs the organization item still there: an update would recreate it.
    let condition = if by > 0 {
        crate::organizations::accepts_additions()
    } else {
        Expression::item_present()
    };
    tx.update(
        keys::organization(slug),
        Expression::change_counters(&[("instance_count", by)]),
        Some(condition),
        Some(crate::organizations::ORGANIZATION_LABEL),
    )?;
    Ok(())
}

/// Deletes an instance (releasing its guard), 404 if there is none.
pub async fn delete(store: &Store, slug: &str, instance_id: i32) -> Result<(), DomainError> {
    dispatch_store::retry_on_version_conflict(|| async {
        let instance = get(store, slug, instance_id).await?;
        let mut tx = Transaction::new();
        tx.delete(
            keys::plugin_instance(slug, instance_id),
            Some(Expression::version_is(instance.version)),
            Some(VERSION_LABEL),
        )?;
        release_guard(store, &mut tx, slug, &instance).await?;
        count_instances(&mut tx, slug, -1)?;
        // Remembered, so that the plugin backfill does not give the project this plugin again.
        tx.put_when(
            super::backfill::given_record(slug, instance.project_id, instance.plugin_id),
            None,
            None,
        )?;
        store.transact(tx).await?;
        Ok::<_, DomainError>(())
    })
    .await
}

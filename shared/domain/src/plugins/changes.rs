//! Creating and updating plugin instances (`POST`/`PUT /{org}/plugins/instances`): the
//! configuration is validated against the plugin's schema and sealed, and enabling an instance
//! disables the enabled one of its type in the same transaction (Q-PL1, on create and update).

use serde_json::Value;

use super::instances::{count_instances, get, instance_item, release_guard, take_guard};
use crate::error::{DomainError, OnCondition};
use crate::model::{Plugin, PluginInstance};
use crate::plugin_config::{ConfigurationKey, ConfigurationSchema};
use crate::time::Timestamp;
use dispatch_store::item::number_attribute;
use dispatch_store::keys;
use dispatch_store::transaction::VERSION_LABEL;
use dispatch_store::{Expression, IdKind, Store, Transaction, retry_on_version_conflict};

/// The largest configuration accepted, as JSON: sealed (base64), it keeps an instance item far
/// below DynamoDB's 400 KB.
pub const MAX_CONFIGURATION_BYTES: usize = 65_536;

/// A new instance, as `PluginInstanceCreate` describes it.
#[derive(Debug, Clone)]
pub struct NewInstance {
    pub enabled: bool,
    pub configuration: Value,
    pub plugin_id: i32,
    /// Dispatch finds the project by name.
    pub project_name: String,
}

/// The fields of `PluginInstanceUpdate` a client sent.
#[derive(Debug, Clone, Default)]
pub struct InstanceChanges {
    /// `None`: not sent; `Some(false)` for `false` and `null`.
    pub enabled: Option<bool>,
    pub configuration: Value,
}

/// Python's truthiness, which decides whether Dispatch stores a configuration at all: `null`
/// and `{}` leave the stored one as it is.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Validates `sent` for `plugin_slug` (at most [`MAX_CONFIGURATION_BYTES`]) and seals it for
/// the instance, keeping the secrets the client sent back masked (Q-PL2).
async fn sealed_configuration(
    key: &ConfigurationKey,
    slug: &str,
    instance_id: i32,
    plugin_slug: &str,
    sent: &Value,
    stored: Option<&str>,
) -> Result<String, DomainError> {
    let size = serde_json::to_vec(sent).map_or(usize::MAX, |json| json.len());
    if size > MAX_CONFIGURATION_BYTES {
        return Err(DomainError::invalid(
            format!("A configuration should have at most {MAX_CONFIGURATION_BYTES} bytes of JSON"),
            crate::body!["configuration"],
            "too_long",
        ));
    }
    let schema = ConfigurationSchema::of_plugin(plugin_slug).ok_or_else(|| {
        DomainError::invalid(
            "This plugin takes no configuration.",
            crate::body!["configuration"],
            "value_error",
        )
    })?;
    let context = super::instances::seal_context(slug, instance_id);
    let stored = match stored {
        Some(sealed) => key.open(sealed, &context).await?,
        None => None,
    };
    let accepted = schema.accept(sent, stored.as_ref())?;
    Ok(key.seal(&accepted, &context))
}

/// The project named `name` in organization `slug`: its id (422 when there is none).
async fn project_named(store: &Store, slug: &str, name: &str) -> Result<i32, DomainError> {
    store
        .get_attributes(&keys::project_name_guard(slug, name))
        .await?
        .and_then(|guard| number_attribute(&guard, "project_id"))
        .map(|id| id as i32)
        .ok_or_else(|| {
            DomainError::invalid(
                "A project with this name does not exist.",
                crate::body!["project", "name"],
                "value_error",
            )
        })
}

/// Creates an instance in organization `slug`.
pub async fn create(
    store: &Store,
    key: &ConfigurationKey,
    slug: &str,
    new: &NewInstance,
) -> Result<PluginInstance, DomainError> {
    let project_id = project_named(store, slug, &new.project_name).await?;
    let plugin: Plugin = store
        .get(&keys::plugin(new.plugin_id))
        .await?
        .ok_or_else(|| {
            DomainError::invalid(
                "A plugin with this id does not exist.",
                crate::body!["plugin", "id"],
                "value_error",
            )
        })?;
    let id = store.next_id(IdKind::PluginInstance).await?;
    let sealed = if truthy(&new.configuration) {
        Some(sealed_configuration(key, slug, id, &plugin.slug, &new.configuration, None).await?)
    } else {
        None
    };
    let now = Timestamp::now();
    let instance = PluginInstance {
        id,
        enabled: new.enabled,
        plugin_id: plugin.id,
        plugin_slug: plugin.slug.clone(),
        plugin_type: plugin.plugin_type.clone(),
        project_id,
        sealed_configuration: sealed,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    retry_on_version_conflict(|| async {
        let mut tx = Transaction::new();
        tx.put_new(instance_item(slug, &instance)?, "plugin_instance")?;
        tx.check(
            keys::project(slug, project_id),
            Expression::item_live(),
            "project",
        )?;
        count_instances(&mut tx, slug, 1)?;
        if instance.enabled && !plugin.multiple {
            take_guard(store, &mut tx, slug, &instance).await?;
        }
        store.transact(tx).await.on_condition("project", || {
            DomainError::invalid(
                "A project with this name does not exist.",
                crate::body!["project", "name"],
                "value_error",
            )
        })
    })
    .await?;
    Ok(instance)
}

/// Applies `changes` to instance `instance_id` of organization `slug` (404 if there is none).
pub async fn update(
    store: &Store,
    key: &ConfigurationKey,
    slug: &str,
    instance_id: i32,
    changes: &InstanceChanges,
) -> Result<PluginInstance, DomainError> {
    retry_on_version_conflict(|| async {
        let mut instance = get(store, slug, instance_id).await?;
        let expected = instance.version;
        if truthy(&changes.configuration) {
            instance.sealed_configuration = Some(
                sealed_configuration(
                    key,
                    slug,
                    instance.id,
                    &instance.plugin_slug,
                    &changes.configuration,
                    instance.sealed_configuration.as_deref(),
                )
                .await?,
            );
        }
        let was_enabled = instance.enabled;
        if let Some(enabled) = changes.enabled {
            instance.enabled = enabled;
        }
        instance.version += 1;
        instance.updated_at = Timestamp::now();

        let mut tx = Transaction::new();
        tx.put_when(
            instance_item(slug, &instance)?,
            Some(Expression::version_is(expected)),
            Some(VERSION_LABEL),
        )?;
        if instance.enabled {
            let multiple = store
                .get::<Plugin>(&keys::plugin(instance.plugin_id))
                .await?
                .is_some_and(|plugin| plugin.multiple);
            if !multiple {
                take_guard(store, &mut tx, slug, &instance).await?;
            }
        } else if was_enabled {
            release_guard(store, &mut tx, slug, &instance).await?;
        }
        store.transact(tx).await?;
        Ok::<_, DomainError>(instance)
    })
    .await
}

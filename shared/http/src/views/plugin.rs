//! Dispatch's plugin views: `PluginRead`, `PluginEventRead`, `PluginInstanceRead` (and its
//! minimal and `PluginInstanceCreate` shapes).

use serde_json::{Map, Value, json};

use dispatch_domain::catalogue;
use dispatch_domain::model::{Plugin, PluginEvent, PluginInstance, Project};
use dispatch_domain::plugins::reads::InstanceParts;

/// `PluginRead`: the catalogue row, with the configuration schema of the plugin as this build
/// ships it (null for a plugin this build does not know, as Dispatch's for one not installed).
/// It also carries `version`, which Dispatch's model leaves out although its UI's instance table
/// has a Version column (`plugin.version`).
pub fn plugin_read(plugin: &Plugin) -> Value {
    // Built field by field: `json!` serialises every value it is given, so it would copy the
    // configuration schema (most of a view) once more.
    let schema = catalogue::find(&plugin.slug).and_then(|p| p.configuration_schema.clone());
    let mut view = Map::new();
    view.insert("id".into(), plugin.id.into());
    view.insert("title".into(), plugin.title.clone().into());
    view.insert("slug".into(), plugin.slug.clone().into());
    view.insert("version".into(), plugin.plugin_version.clone().into());
    view.insert("author".into(), plugin.author.clone().into());
    view.insert("author_url".into(), plugin.author_url.clone().into());
    view.insert("type".into(), plugin.plugin_type.clone().into());
    view.insert("multiple".into(), plugin.multiple.into());
    view.insert("configuration_schema".into(), schema.into());
    view.insert("description".into(), plugin.description.clone().into());
    Value::Object(view)
}

/// `PluginEventRead`.
pub fn plugin_event_read(event: &PluginEvent, plugin: &Plugin) -> Value {
    json!({
        "id": event.id,
        "name": event.name,
        "slug": event.slug,
        "plugin": plugin_read(plugin),
        "description": event.description,
    })
}

/// The plugin of an instance: its catalogue row, or (after `dispatch plugins uninstall`) what
/// the instance remembers of it, from the shipped catalogue when this build still has it.
pub fn instance_plugin(instance: &PluginInstance, row: Option<&Plugin>) -> Plugin {
    if let Some(row) = row {
        return row.clone();
    }
    let shipped = catalogue::find(&instance.plugin_slug);
    Plugin {
        id: instance.plugin_id,
        title: shipped.map_or_else(|| instance.plugin_slug.clone(), |p| p.title.clone()),
        slug: instance.plugin_slug.clone(),
        description: shipped.and_then(|p| p.description.clone()),
        plugin_version: shipped.map_or_else(String::new, |p| p.version.clone()),
        author: shipped.and_then(|p| p.author.clone()),
        author_url: shipped.and_then(|p| p.author_url.clone()),
        plugin_type: instance.plugin_type.clone(),
        multiple: shipped.is_some_and(|p| p.multiple),
    }
}

/// An instance as clients see it. `configuration` is the masked configuration for the detail
/// view (`PluginInstanceRead`), and absent for lists (`PluginInstanceReadMinimal`).
pub fn instance_read(
    instance: &PluginInstance,
    row: Option<&Plugin>,
    project: Option<&Project>,
    configuration: Option<Option<Value>>,
) -> Value {
    let plugin = instance_plugin(instance, row);
    let broken = row.is_none() || catalogue::find(&instance.plugin_slug).is_none();
    let plugin_view = plugin_read(&plugin);
    let mut view = Map::new();
    view.insert("id".into(), json!(instance.id));
    view.insert("enabled".into(), json!(instance.enabled));
    if let Some(configuration) = configuration {
        view.insert("configuration".into(), configuration.unwrap_or(Value::Null));
    }
    view.insert(
        "configuration_schema".into(),
        plugin_view["configuration_schema"].clone(),
    );
    view.insert("plugin".into(), plugin_view);
    view.insert(
        "project".into(),
        project.map_or(Value::Null, super::project_read),
    );
    view.insert("broken".into(), json!(broken));
    Value::Object(view)
}

/// `PluginInstanceReadMinimal`, a list's item (no configuration).
pub fn instance_list_item(parts: &InstanceParts) -> Value {
    instance_read(
        &parts.instance,
        parts.plugin.as_ref(),
        Some(&parts.project),
        None,
    )
}

/// `PluginInstanceRead` of one instance, with its masked configuration (null when it has none
/// or it cannot be opened).
pub fn instance_detail(parts: &InstanceParts) -> Value {
    instance_read(
        &parts.instance,
        parts.plugin.as_ref(),
        Some(&parts.project),
        Some(parts.configuration.clone()),
    )
}

/// `PluginInstanceCreate`, the shape Dispatch's `PUT` answers with (Q-PL3: no `id`).
pub fn instance_update_response(read: &Value) -> Value {
    json!({
        "enabled": read["enabled"],
        "configuration": read["configuration"],
        "plugin": read["plugin"],
        "project": read["project"],
    })
}

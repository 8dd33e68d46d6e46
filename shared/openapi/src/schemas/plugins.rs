//! Plugins: `dispatch_shared::views::plugin` and the bodies of `functions/plugins`.

use serde_json::{Map, Value, json};

use super::{boolean, closed, id, integer, nullable, open, reference, string, text};

/// A plugin's configuration schema: a JSON Schema document, or null when this build does not
/// ship the plugin.
fn configuration_schema() -> Value {
    json!({
        "type": ["object", "null"],
        "description": "The JSON Schema the plugin's configuration follows; null for a plugin this build does not know.",
    })
}

/// An instance's configuration, secrets masked as `"**********"`.
fn configuration() -> Value {
    json!({
        "description": "The configuration (secrets shown as `\"**********\"`); null when there is none or it cannot be opened.",
    })
}

/// The fields every view of an instance has, in the views' order (`configuration` after
/// `enabled` when shown).
fn instance(description: &str, with_configuration: bool) -> Value {
    let mut properties = Map::new();
    properties.insert("id".into(), integer());
    properties.insert("enabled".into(), boolean());
    if with_configuration {
        properties.insert("configuration".into(), configuration());
    }
    properties.insert("configuration_schema".into(), configuration_schema());
    properties.insert("plugin".into(), reference("PluginRead"));
    properties.insert("project".into(), nullable(reference("ProjectRead")));
    properties.insert(
        "broken".into(),
        json!({
            "type": "boolean",
            "description": "The plugin was uninstalled or this build does not ship it: the instance cannot work.",
        }),
    );
    closed(description, Value::Object(properties))
}

pub fn schemas() -> Map<String, Value> {
    let mut schemas = Map::new();
    schemas.insert(
        "PluginRead".into(),
        closed(
            "A plugin of the catalogue, with its configuration schema and its version.",
            json!({
                "id": integer(),
                "title": string(),
                "slug": string(),
                "version": string(),
                "author": nullable(string()),
                "author_url": nullable(string()),
                "type": string(),
                "multiple": boolean(),
                "configuration_schema": configuration_schema(),
                "description": nullable(string()),
            }),
        ),
    );
    schemas.insert(
        "PluginEventRead".into(),
        closed(
            "An event a plugin emits.",
            json!({
                "id": integer(),
                "name": string(),
                "slug": string(),
                "plugin": reference("PluginRead"),
                "description": nullable(string()),
            }),
        ),
    );
    schemas.insert(
        "PluginInstanceReadMinimal".into(),
        instance(
            "A plugin instance of a project, as lists show it (no configuration).",
            false,
        ),
    );
    schemas.insert(
        "PluginInstanceRead".into(),
        instance(
            "A plugin instance of a project with its masked configuration.",
            true,
        ),
    );
    schemas.insert(
        "PluginInstanceUpdated".into(),
        closed(
            "What an update answers: Dispatch's `PluginInstanceCreate` shape, without `id`.",
            json!({
                "enabled": boolean(),
                "configuration": configuration(),
                "plugin": reference("PluginRead"),
                "project": nullable(reference("ProjectRead")),
            }),
        ),
    );
    requests(&mut schemas);
    schemas
}

fn requests(schemas: &mut Map<String, Value>) {
    let short = text(0, 255);
    schemas.insert(
        "PluginInstanceCreate".into(),
        open(
            "A new instance of a catalogue plugin in a project (found by name). The configuration is validated against the plugin's schema; an enabled instance disables the enabled instance of its type.",
            &["plugin", "project"],
            json!({
                "enabled": nullable(boolean()),
                "configuration": { "description": "The plugin's configuration, following its `configuration_schema`." },
                "plugin": open(
                    "The catalogue plugin (`PluginRead`); only its id is used.",
                    &["id", "title", "slug", "author", "author_url", "type", "multiple"],
                    json!({
                        "id": id(),
                        "title": short,
                        "slug": short,
                        "author": short,
                        "author_url": short,
                        "type": short,
                        "multiple": boolean(),
                    }),
                ),
                "project": open("The project (`ProjectRead`), found by name.", &["name"], json!({ "name": text(3, 250) })),
            }),
        ),
    );
    schemas.insert(
        "PluginInstanceUpdate".into(),
        open(
            "Only the fields sent change (`enabled: null` disables the instance); a configuration of null or `{}` keeps the stored one, and masked secrets sent back keep the stored secrets.",
            &[],
            json!({
                "id": nullable(id()),
                "enabled": nullable(boolean()),
                "configuration": { "description": "The new configuration, following the plugin's `configuration_schema`." },
            }),
        ),
    );
}

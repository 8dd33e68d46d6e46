//! The plugin catalogue, plugin instances and plugin events as lists (docs/contract.md §9): their
//! filterable models, sort orders and search fields (the views are built in [`super::reads`]).

use crate::list::{FieldType, ListSpec, ModelFields, Sort};
use dispatch_store::keys::collection;
use dispatch_store::schema::{INSTANCES, LIST1, LIST2, LIST3};

const PLUGIN_FIELDS: &[(&str, FieldType)] = &[
    ("id", FieldType::Int),
    ("title", FieldType::Str),
    ("slug", FieldType::Str),
    ("description", FieldType::Str),
    ("version", FieldType::Str),
    ("author", FieldType::Str),
    ("author_url", FieldType::Str),
    ("type", FieldType::Str),
    ("multiple", FieldType::Bool),
];

const CATALOGUE_SCHEMA: &[ModelFields] = &[ModelFields {
    model: "Plugin",
    path: None,
    fields: PLUGIN_FIELDS,
}];

const CATALOGUE_SORTS: &[Sort] = &[
    Sort {
        model: "Plugin",
        field: "slug",
        index: LIST1,
    },
    Sort {
        model: "Plugin",
        field: "title",
        index: LIST2,
    },
    Sort {
        model: "Plugin",
        field: "type",
        index: LIST3,
    },
];

/// `GET /{organization}/plugins`: the global catalogue.
pub fn catalogue_list_spec(total: i64) -> ListSpec {
    ListSpec {
        collection: collection::PLUGINS.to_owned(),
        schema: CATALOGUE_SCHEMA,
        sorts: CATALOGUE_SORTS,
        search_fields: &["title", "slug", "type", "description"],
        name_field: None,
        total,
    }
}

const INSTANCE_SCHEMA: &[ModelFields] = &[
    ModelFields {
        model: "PluginInstance",
        path: None,
        fields: &[
            ("id", FieldType::Int),
            ("enabled", FieldType::Bool),
            ("broken", FieldType::Bool),
        ],
    },
    ModelFields {
        model: "Plugin",
        path: Some("plugin"),
        fields: PLUGIN_FIELDS,
    },
    ModelFields {
        model: "Project",
        path: Some("project"),
        fields: &[
            ("id", FieldType::Int),
            ("name", FieldType::Str),
            ("display_name", FieldType::Str),
        ],
    },
];

/// The schema version from which the table has the instances index (migration 5).
pub const INSTANCES_INDEX_SINCE: u32 = 5;

/// By plugin slug, on the instances index: the page's instances come with the Query.
const INSTANCE_SORTS: &[Sort] = &[Sort {
    model: "Plugin",
    field: "slug",
    index: INSTANCES,
}];

/// By plugin slug, on the keys-only list index (tables before [`INSTANCES_INDEX_SINCE`]).
const INSTANCE_SORTS_BEFORE_INDEX: &[Sort] = &[Sort {
    model: "Plugin",
    field: "slug",
    index: LIST1,
}];

/// `GET /{organization}/plugins/instances`: an organization's instances, joined with their
/// plugin and project (the UI sorts by `Plugin.slug` and filters on `enabled` and
/// `Project.name`), on the index a table at `schema_version` has.
pub fn instance_list_spec(slug: &str, total: i64, schema_version: u32) -> ListSpec {
    ListSpec {
        collection: collection::plugin_instances(slug),
        schema: INSTANCE_SCHEMA,
        sorts: if schema_version >= INSTANCES_INDEX_SINCE {
            INSTANCE_SORTS
        } else {
            INSTANCE_SORTS_BEFORE_INDEX
        },
        search_fields: &[
            "plugin.title",
            "plugin.slug",
            "plugin.type",
            "plugin.description",
        ],
        name_field: None,
        total,
    }
}

const EVENT_SCHEMA: &[ModelFields] = &[
    ModelFields {
        model: "PluginEvent",
        path: None,
        fields: &[
            ("id", FieldType::Int),
            ("name", FieldType::Str),
            ("slug", FieldType::Str),
            ("description", FieldType::Str),
        ],
    },
    ModelFields {
        model: "Plugin",
        path: Some("plugin"),
        fields: PLUGIN_FIELDS,
    },
];

const EVENT_SORTS: &[Sort] = &[Sort {
    model: "PluginEvent",
    field: "slug",
    index: LIST1,
}];

/// `GET /{organization}/plugins/plugin_events`: every plugin's events.
pub fn event_list_spec(total: i64) -> ListSpec {
    ListSpec {
        collection: collection::PLUGIN_EVENTS.to_owned(),
        schema: EVENT_SCHEMA,
        sorts: EVENT_SORTS,
        search_fields: &["name", "slug", "description"],
        name_field: Some("name"),
        total,
    }
}

//! Projects: `dispatch_shared::views::project_read`, `incident_priority_read`, and the bodies of
//! `functions/projects` (`dispatch_domain::projects::PROJECT_FIELDS` on update).

use serde_json::{Map, Value, json};

use super::{boolean, closed, id, integer, nullable, open, reference, string, text};

/// The type of a project column.
#[derive(Clone, Copy)]
enum Column {
    Int,
    Bool,
    /// Text of at most this many characters.
    Text(usize),
    Email,
}

/// The writable columns, in `ProjectRead`'s order; `name`, `display_name` and `default` are
/// never null and are listed apart.
const NULLABLE_COLUMNS: &[(&str, Column)] = &[
    ("description", Column::Text(10_000)),
    ("color", Column::Text(255)),
    ("owner_email", Column::Email),
    ("owner_conversation", Column::Text(255)),
    ("annual_employee_cost", Column::Int),
    ("business_year_hours", Column::Int),
    ("enabled", Column::Bool),
    ("allow_self_join", Column::Bool),
    ("send_daily_reports", Column::Bool),
    ("send_weekly_reports", Column::Bool),
    ("weekly_report_notification_id", Column::Int),
    ("select_commander_visibility", Column::Bool),
    ("stable_priority_id", Column::Int),
    ("storage_folder_one", Column::Text(255)),
    ("storage_folder_two", Column::Text(255)),
    ("storage_use_folder_one_as_primary", Column::Bool),
    ("storage_use_title", Column::Bool),
    ("report_incident_instructions", Column::Text(10_000)),
    ("report_incident_title_hint", Column::Text(255)),
    ("report_incident_description_hint", Column::Text(10_000)),
    ("suggest_security_event_over_incident", Column::Bool),
    ("snooze_extension_oncall_service_id", Column::Int),
];

/// The column's type as a response carries it (`bounded: false`) or a request sends it.
fn column(kind: Column, bounded: bool) -> Value {
    match kind {
        Column::Int => integer(),
        Column::Bool => boolean(),
        Column::Text(max) if bounded => text(0, max),
        Column::Email if bounded => json!({ "type": "string", "format": "email" }),
        Column::Text(_) | Column::Email => string(),
    }
}

fn project_read() -> Value {
    let mut properties = Map::new();
    properties.insert("id".into(), integer());
    properties.insert("name".into(), string());
    properties.insert("display_name".into(), string());
    for (name, kind) in NULLABLE_COLUMNS {
        properties.insert((*name).into(), nullable(column(*kind, false)));
        if *name == "description" {
            properties.insert("default".into(), boolean());
        }
    }
    properties.insert(
        "stable_priority".into(),
        nullable(reference("IncidentPriorityRead")),
    );
    properties.insert(
        "snooze_extension_oncall_service".into(),
        json!({ "type": "null", "description": "Services are not part of this API." }),
    );
    closed("A project of the organization.", Value::Object(properties))
}

/// The writable fields of a request; `except` lists those the request does not take.
fn writable(except: &[&str]) -> Map<String, Value> {
    let mut properties = Map::new();
    properties.insert("id".into(), nullable(id()));
    properties.insert("name".into(), text(3, 250));
    properties.insert("display_name".into(), text(0, 250));
    properties.insert("default".into(), boolean());
    for (name, kind) in NULLABLE_COLUMNS {
        properties.insert((*name).into(), nullable(column(*kind, true)));
    }
    properties.retain(|name, _| !except.contains(&name.as_str()));
    properties
}

/// `ProjectCreate`'s fields: no priority or service yet; `display_name` and `default` may be null
/// (the defaults).
fn create_fields() -> Map<String, Value> {
    let mut properties = writable(&[
        "weekly_report_notification_id",
        "stable_priority_id",
        "snooze_extension_oncall_service_id",
    ]);
    for name in ["display_name", "default"] {
        if let Some(schema) = properties.get_mut(name) {
            *schema = nullable(schema.take());
        }
    }
    properties
}

pub fn schemas() -> Map<String, Value> {
    let mut schemas = Map::new();
    schemas.insert("ProjectRead".into(), project_read());
    schemas.insert(
        "IncidentPriorityRead".into(),
        closed(
            "The project's stable incident priority (one of its own priorities, from its init data).",
            json!({
                "name": nullable(string()),
                "description": nullable(string()),
                "view_order": nullable(integer()),
                "tactical_report_reminder": nullable(integer()),
                "executive_report_reminder": nullable(integer()),
                "color": nullable(string()),
                "page_commander": nullable(boolean()),
                "default": nullable(boolean()),
                "enabled": nullable(boolean()),
                "disable_delayed_message_warning": nullable(boolean()),
                "id": nullable(integer()),
                "project_id": nullable(integer()),
            }),
        ),
    );
    schemas.insert(
        "ProjectCreate".into(),
        open(
            "A new project of the path's organization (its `organization` key and other keys are ignored); created with its init data.",
            &["name"],
            Value::Object(create_fields()),
        ),
    );
    schemas.insert(
        "ProjectUpdate".into(),
        open(
            "Every column sent changes; `id` may only repeat the path's, `stable_priority_id` must be one of the project's own incident priorities.",
            &[],
            Value::Object(writable(&[])),
        ),
    );
    schemas
}

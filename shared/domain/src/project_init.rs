//! Dispatch's project init flow (docs/contract.md §7.4): the taxonomy every new project starts
//! with, as items of the project's partition. They are written in the same transaction as the
//! project, so a project never exists without them.

use serde_json::{Value, json};

use crate::error::DomainError;
use crate::time::Timestamp;
use dispatch_store::keys;
use dispatch_store::{IdKind, Item, Store, StoreError};

/// One row of the init data: its kind (the item's sort-key prefix) and its fields.
struct Row {
    kind: &'static str,
    fields: Value,
}

/// Incident priorities: name, view order, tactical / executive report reminders (hours),
/// colour, default.
const INCIDENT_PRIORITIES: [(&str, i64, i64, i64, &str, bool); 3] = [
    ("Low", 1, 12, 9999, "#8bc34a", true),
    ("Medium", 2, 6, 12, "#ff9800", false),
    ("High", 3, 2, 6, "#e53935", false),
];

/// Severities (incidents and cases alike): name, view order, colour, description, default.
const SEVERITIES: [(&str, i64, &str, &str, bool); 5] = [
    (
        "Undetermined",
        1,
        "#9e9e9e",
        "The severity of this incident has not yet been determined.",
        true,
    ),
    ("Low", 2, "#8bc34a", "Low severity.", false),
    ("Medium", 3, "#ffeb3b", "Medium severity.", false),
    ("High", 4, "#ff9800", "High severity.", false),
    ("Critical", 5, "#e53935", "Critical severity.", false),
];

/// Case priorities: name, view order, colour, page assignee, disable delayed message warning,
/// default.
const CASE_PRIORITIES: [(&str, i64, &str, bool, bool, bool); 5] = [
    ("Low", 1, "#8bc34a", false, false, true),
    ("Medium", 2, "#ffeb3b", false, false, false),
    ("High", 3, "#ff9800", false, false, false),
    ("Critical", 4, "#e53935", true, true, false),
    ("Optional", 5, "#9e9e9e", false, false, false),
];

fn rows() -> Vec<Row> {
    let mut rows = vec![Row {
        kind: "INCIDENT_TYPE",
        fields: json!({"name": "Default", "description": "This is the default incident type.", "visibility": "Open",
                       "exclude_from_metrics": false, "default": true, "enabled": true}),
    }];
    for (name, order, tactical, executive, color, default) in INCIDENT_PRIORITIES {
        rows.push(Row {
            kind: "INCIDENT_PRIORITY",
            fields: json!({"name": name, "description": format!("{name} priority: report reminders every {tactical} hours (tactical) and {executive} hours (executive)."),
                           "view_order": order, "tactical_report_reminder": tactical, "executive_report_reminder": executive,
                           "color": color, "page_commander": false, "default": default, "enabled": true,
                           "disable_delayed_message_warning": false}),
        });
    }
    for (name, order, color, description, default) in SEVERITIES {
        rows.push(Row {
            kind: "INCIDENT_SEVERITY",
            fields: json!({"name": name, "view_order": order, "color": color, "description": description, "default": default, "enabled": true}),
        });
    }
    rows.push(Row {
        kind: "INCIDENT_COST_TYPE",
        fields: json!({"name": "Response Cost", "description": "Cost associated with handling an incident.", "category": "Primary",
                       "details": {}, "default": true, "editable": false}),
    });
    for model_type in ["Classic", "New"] {
        rows.push(Row {
            kind: "CASE_COST_TYPE",
            fields: json!({"name": "Response Cost", "description": format!("Cost associated with handling a case. ({model_type} Cost Model)"),
                           "category": "Primary", "details": {}, "default": false, "editable": false, "model_type": model_type}),
        });
    }
    for (name, order, color, page_assignee, disable_warning, default) in CASE_PRIORITIES {
        rows.push(Row {
            kind: "CASE_PRIORITY",
            fields: json!({"name": name, "view_order": order, "color": color, "page_assignee": page_assignee,
                           "disable_delayed_message_warning": disable_warning, "default": default, "enabled": true}),
        });
    }
    for (name, order, color, description, default) in SEVERITIES {
        let description = description.replace("incident", "case");
        rows.push(Row {
            kind: "CASE_SEVERITY",
            fields: json!({"name": name, "view_order": order, "color": color, "description": description, "default": default, "enabled": true}),
        });
    }
    rows
}

/// How many items the init flow writes per project.
pub fn item_count() -> usize {
    rows().len() + 1
}

/// The init items of a new project, with fresh ids. The case type is linked to the incident
/// type, as Dispatch's flow links them.
pub async fn items(
    store: &Store,
    slug: &str,
    project_id: i32,
    now: Timestamp,
) -> Result<Vec<Item>, DomainError> {
    let rows = rows();
    // One counter update for every id of the flow.
    let mut ids = store
        .next_ids(IdKind::ProjectData, rows.len() + 1)
        .await?
        .into_iter();
    let mut items = Vec::new();
    let mut incident_type_id = None;
    for (row, id) in rows.into_iter().zip(ids.by_ref()) {
        if row.kind == "INCIDENT_TYPE" {
            incident_type_id = Some(id);
        }
        items.push(item(slug, project_id, row.kind, id, row.fields, now)?);
    }
    let id = ids.next().unwrap_or_default();
    let case_type = json!({"name": "Default", "description": "This is the default case type.", "visibility": "Open",
                           "default": true, "enabled": true, "incident_type_id": incident_type_id});
    items.push(item(slug, project_id, "CASE_TYPE", id, case_type, now)?);
    Ok(items)
}

fn item(
    slug: &str,
    project_id: i32,
    kind: &str,
    id: i32,
    mut fields: Value,
    now: Timestamp,
) -> Result<Item, StoreError> {
    if let Some(map) = fields.as_object_mut() {
        map.insert("id".into(), json!(id));
        map.insert("project_id".into(), json!(project_id));
        map.insert("created_at".into(), json!(now.to_string()));
        map.insert("version".into(), json!(1));
    }
    Item::new(
        &keys::project_data(slug, project_id, kind, id),
        kind,
        &fields,
    )
}

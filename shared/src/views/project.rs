use serde_json::{Value, json};

use crate::model::Project;

/// Stored attributes that are not part of Dispatch's `ProjectRead`.
const INTERNAL: &[&str] = &[
    "organization_id",
    "organization_slug",
    "deleted",
    "version",
    "created_at",
    "updated_at",
];

/// Dispatch's `ProjectRead`: the project's fields, plus its `stable_priority` and
/// `snooze_extension_oncall_service` objects (null until the project init data lands).
pub fn project_read(project: &Project) -> Value {
    let mut value = serde_json::to_value(project).unwrap_or_else(|_| json!({}));
    if let Some(map) = value.as_object_mut() {
        for key in INTERNAL {
            map.remove(*key);
        }
        map.insert("stable_priority".into(), Value::Null);
        map.insert("snooze_extension_oncall_service".into(), Value::Null);
    }
    value
}

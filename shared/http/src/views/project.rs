use serde_json::{Value, json};

use dispatch_domain::model::Project;

/// Dispatch's `ProjectRead`, field by field (the stored organization, version, timestamps and
/// deletion flag are not part of it), plus its `stable_priority` and
/// `snooze_extension_oncall_service` objects: null here, filled in by the read that has them.
pub fn project_read(project: &Project) -> Value {
    json!({
        "id": project.id,
        "name": project.name,
        "display_name": project.display_name,
        "description": project.description,
        "default": project.default,
        "color": project.color,
        "owner_email": project.owner_email,
        "owner_conversation": project.owner_conversation,
        "annual_employee_cost": project.annual_employee_cost,
        "business_year_hours": project.business_year_hours,
        "enabled": project.enabled,
        "allow_self_join": project.allow_self_join,
        "send_daily_reports": project.send_daily_reports,
        "send_weekly_reports": project.send_weekly_reports,
        "weekly_report_notification_id": project.weekly_report_notification_id,
        "select_commander_visibility": project.select_commander_visibility,
        "stable_priority_id": project.stable_priority_id,
        "storage_folder_one": project.storage_folder_one,
        "storage_folder_two": project.storage_folder_two,
        "storage_use_folder_one_as_primary": project.storage_use_folder_one_as_primary,
        "storage_use_title": project.storage_use_title,
        "report_incident_instructions": project.report_incident_instructions,
        "report_incident_title_hint": project.report_incident_title_hint,
        "report_incident_description_hint": project.report_incident_description_hint,
        "suggest_security_event_over_incident": project.suggest_security_event_over_incident,
        "snooze_extension_oncall_service_id": project.snooze_extension_oncall_service_id,
        "stable_priority": null,
        "snooze_extension_oncall_service": null,
    })
}

/// Dispatch's `IncidentPriorityRead` (a project's `stable_priority`), field by field from the
/// stored init data item (docs/contract.md §7.4).
pub fn incident_priority_read(stored: &Value) -> Value {
    const FIELDS: &[&str] = &[
        "name",
        "description",
        "view_order",
        "tactical_report_reminder",
        "executive_report_reminder",
        "color",
        "page_commander",
        "default",
        "enabled",
        "disable_delayed_message_warning",
        "id",
        "project_id",
    ];
    Value::Object(
        FIELDS
            .iter()
            .map(|field| {
                (
                    field.to_string(),
                    stored.get(*field).cloned().unwrap_or(Value::Null),
                )
            })
            .collect(),
    )
}

//! Projects: the unit everything else in an organization hangs on.

use serde::{Deserialize, Serialize};

use super::text::{Description, DisplayName, NameStr, ShortText};
use super::{EmailAddress, Invalid, OrganizationSlug};
use crate::time::Timestamp;

/// Parses a value sent for the project's text field `field` with the type `POST` gives that
/// field (`None`: not a text field), so that `PUT` bounds every field as creation does.
pub fn parse_text(field: &str, raw: &str) -> Option<Result<String, Invalid>> {
    Some(match field {
        "name" => NameStr::parse(raw).map(NameStr::into_string),
        "display_name" => DisplayName::parse(raw).map(DisplayName::into_string),
        "description" | "report_incident_instructions" | "report_incident_description_hint" => {
            Description::parse(raw).map(Description::into_string)
        }
        "color"
        | "owner_conversation"
        | "storage_folder_one"
        | "storage_folder_two"
        | "report_incident_title_hint" => ShortText::parse(raw).map(ShortText::into_string),
        "owner_email" => EmailAddress::parse(raw).map(|email| email.as_str().to_owned()),
        _ => return None,
    })
}

/// A project as stored, with Dispatch's API field set (docs/contract.md §4.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Project {
    pub id: i32,
    pub organization_id: i32,
    #[serde(deserialize_with = "super::stored::slug")]
    pub organization_slug: OrganizationSlug,
    #[serde(deserialize_with = "super::stored::text")]
    pub name: NameStr,
    pub display_name: String,
    pub description: Option<String>,
    pub default: bool,
    pub color: Option<String>,
    pub owner_email: Option<String>,
    pub owner_conversation: Option<String>,
    pub annual_employee_cost: Option<i64>,
    pub business_year_hours: Option<i64>,
    pub enabled: Option<bool>,
    pub allow_self_join: Option<bool>,
    pub send_daily_reports: Option<bool>,
    pub send_weekly_reports: Option<bool>,
    pub weekly_report_notification_id: Option<i64>,
    pub select_commander_visibility: Option<bool>,
    pub stable_priority_id: Option<i32>,
    pub storage_folder_one: Option<String>,
    pub storage_folder_two: Option<String>,
    pub storage_use_folder_one_as_primary: Option<bool>,
    pub storage_use_title: Option<bool>,
    pub report_incident_instructions: Option<String>,
    pub report_incident_title_hint: Option<String>,
    pub report_incident_description_hint: Option<String>,
    pub suggest_security_event_over_incident: Option<bool>,
    pub snooze_extension_oncall_service_id: Option<i32>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: u64,
    /// Set when a deletion has hidden the project and is removing what belongs to it.
    #[serde(default)]
    pub deleted: bool,
}

impl Project {
    /// A project with the column defaults of Dispatch's model, which its own `database init`
    /// gives the installation's first project (the API's `ProjectCreate` differs on four flags,
    /// e.g. it suggests a security event over an incident, which puts a "Report security event"
    /// button on every page of the UI).
    pub fn with_model_defaults(self) -> Self {
        Self {
            send_daily_reports: None,
            send_weekly_reports: None,
            storage_use_folder_one_as_primary: Some(false),
            suggest_security_event_over_incident: Some(false),
            ..self
        }
    }

    /// A project with Dispatch's API defaults (which differ from its DB defaults for two flags).
    pub fn new(
        id: i32,
        organization_id: i32,
        organization_slug: &OrganizationSlug,
        name: &NameStr,
        description: Option<&str>,
        default: bool,
        now: Timestamp,
    ) -> Self {
        Self {
            id,
            organization_id,
            organization_slug: organization_slug.clone(),
            name: name.clone(),
            display_name: String::new(),
            description: description.map(str::to_owned),
            default,
            color: None,
            owner_email: None,
            owner_conversation: None,
            annual_employee_cost: Some(50_000),
            business_year_hours: Some(2_080),
            enabled: Some(true),
            allow_self_join: Some(true),
            send_daily_reports: Some(true),
            send_weekly_reports: Some(false),
            weekly_report_notification_id: None,
            select_commander_visibility: Some(true),
            stable_priority_id: None,
            storage_folder_one: None,
            storage_folder_two: None,
            storage_use_folder_one_as_primary: Some(true),
            storage_use_title: Some(false),
            report_incident_instructions: None,
            report_incident_title_hint: None,
            report_incident_description_hint: None,
            suggest_security_event_over_incident: Some(true),
            snooze_extension_oncall_service_id: None,
            created_at: now,
            updated_at: now,
            version: 1,
            deleted: false,
        }
    }
}

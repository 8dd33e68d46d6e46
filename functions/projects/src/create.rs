//! `POST /api/v1/{organization}/projects`: an Owner or Manager creates a project, with its init
//! data, synchronously (Q-P2) and in one transaction. The `id` key is optional (Q-P1); the
//! organization is the path's, whatever the body's `organization` says.

use axum::extract::State;
use dispatch_domain::model::{
    Description, DisplayName, EmailAddress, NameStr, PrimaryKey, Project, ShortText,
};
use dispatch_domain::projects;
use dispatch_domain::time::Timestamp;
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::views::project_read;
use dispatch_shared::{AppState, Caller};
use serde::Deserialize;
use serde_json::Value;

/// Dispatch's `ProjectCreate`: the writable fields of a project, with its API defaults; text
/// bounded as `dispatch_domain::model::project::parse_text` bounds it on update.
#[derive(Debug, Deserialize)]
pub struct CreateBody {
    #[serde(default)]
    pub id: Option<PrimaryKey>,
    pub name: NameStr,
    #[serde(default)]
    pub display_name: Option<DisplayName>,
    #[serde(default)]
    pub description: Option<Description>,
    #[serde(default)]
    pub default: Option<bool>,
    #[serde(default)]
    pub color: Option<ShortText>,
    #[serde(default)]
    pub owner_email: Option<EmailAddress>,
    #[serde(default)]
    pub owner_conversation: Option<ShortText>,
    #[serde(default)]
    pub annual_employee_cost: Option<i64>,
    #[serde(default)]
    pub business_year_hours: Option<i64>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub allow_self_join: Option<bool>,
    #[serde(default)]
    pub send_daily_reports: Option<bool>,
    #[serde(default)]
    pub send_weekly_reports: Option<bool>,
    #[serde(default)]
    pub select_commander_visibility: Option<bool>,
    #[serde(default)]
    pub storage_folder_one: Option<ShortText>,
    #[serde(default)]
    pub storage_folder_two: Option<ShortText>,
    #[serde(default)]
    pub storage_use_folder_one_as_primary: Option<bool>,
    #[serde(default)]
    pub storage_use_title: Option<bool>,
    #[serde(default)]
    pub report_incident_instructions: Option<Description>,
    #[serde(default)]
    pub report_incident_title_hint: Option<ShortText>,
    #[serde(default)]
    pub report_incident_description_hint: Option<Description>,
    #[serde(default)]
    pub suggest_security_event_over_incident: Option<bool>,
}

pub async fn create_project(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CreateBody>,
) -> Result<Json<Value>, ApiError> {
    let org = caller.organization()?;
    let defaults = Project::new(
        0,
        org.id,
        &org.slug,
        &body.name,
        None,
        false,
        Timestamp::now(),
    );
    let text = |value: Option<ShortText>| value.map(ShortText::into_string);
    let long = |value: Option<Description>| value.map(Description::into_string);
    let project = Project {
        id: 0,
        display_name: body
            .display_name
            .map(DisplayName::into_string)
            .unwrap_or_default(),
        description: long(body.description),
        default: body.default.unwrap_or(false),
        color: text(body.color),
        owner_email: body.owner_email.map(|e| e.as_str().to_owned()),
        owner_conversation: text(body.owner_conversation),
        annual_employee_cost: body.annual_employee_cost.or(defaults.annual_employee_cost),
        business_year_hours: body.business_year_hours.or(defaults.business_year_hours),
        enabled: body.enabled.or(defaults.enabled),
        allow_self_join: body.allow_self_join.or(defaults.allow_self_join),
        send_daily_reports: body.send_daily_reports.or(defaults.send_daily_reports),
        send_weekly_reports: body.send_weekly_reports.or(defaults.send_weekly_reports),
        select_commander_visibility: body
            .select_commander_visibility
            .or(defaults.select_commander_visibility),
        storage_folder_one: text(body.storage_folder_one),
        storage_folder_two: text(body.storage_folder_two),
        storage_use_folder_one_as_primary: body
            .storage_use_folder_one_as_primary
            .or(defaults.storage_use_folder_one_as_primary),
        storage_use_title: body.storage_use_title.or(defaults.storage_use_title),
        report_incident_instructions: long(body.report_incident_instructions),
        report_incident_title_hint: text(body.report_incident_title_hint),
        report_incident_description_hint: long(body.report_incident_description_hint),
        suggest_security_event_over_incident: body
            .suggest_security_event_over_incident
            .or(defaults.suggest_security_event_over_incident),
        ..defaults
    };
    let project = projects::create(state.store(), org, project).await?;
    Ok(Json(project_read(&project)))
}

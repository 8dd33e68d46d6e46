//! `PUT /api/v1/organizations/{organization_id}`: the Owner of that organization changes its
//! description, default flag and banner. Only the fields sent change; `name` (and so the slug)
//! never does; a body `id` other than the path's is a 422.

use axum::extract::{Path, State};
use dispatch_shared::domain::organization_update::{OrganizationChanges, update};
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::model::NameStr;
use dispatch_shared::views::OrganizationRead;
use dispatch_shared::{AppState, Caller, loc};
use serde_json::{Map, Value};

fn string_or_null(
    body: &Map<String, Value>,
    field: &str,
) -> Result<Option<Option<String>>, ApiError> {
    match body.get(field) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(text)) => Ok(Some(Some(text.trim().to_owned()))),
        Some(_) => Err(ApiError::validation(
            "Input should be a valid string",
            loc!["body", field],
            "string_type",
        )),
    }
}

fn boolean(body: &Map<String, Value>, field: &str) -> Result<Option<bool>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(value)) => Ok(Some(*value)),
        Some(_) => Err(ApiError::validation(
            "Input should be a valid boolean",
            loc!["body", field],
            "bool_type",
        )),
    }
}

/// Reads the fields Dispatch's `OrganizationUpdate` allows, noting which were sent.
pub fn changes(body: &Map<String, Value>) -> Result<OrganizationChanges, ApiError> {
    let banner_text = match string_or_null(body, "banner_text")? {
        Some(Some(text)) => Some(Some(
            NameStr::parse(&text)
                .map_err(|invalid| invalid.at(loc!["body", "banner_text"]))?
                .as_str()
                .to_owned(),
        )),
        other => other,
    };
    Ok(OrganizationChanges {
        description: string_or_null(body, "description")?,
        default: boolean(body, "default")?,
        banner_enabled: boolean(body, "banner_enabled")?,
        banner_color: string_or_null(body, "banner_color")?.flatten(),
        banner_text,
    })
}

pub async fn update_organization(
    State(state): State<AppState>,
    caller: Caller,
    Path(raw_id): Path<String>,
    Json(body): Json<Map<String, Value>>,
) -> Result<Json<OrganizationRead>, ApiError> {
    // The permission layer resolved the organization from the path and checked ownership.
    let org = caller.organization()?;
    if body
        .get("id")
        .is_some_and(|id| !id.is_null() && id.as_i64() != Some(i64::from(org.id)))
        || raw_id.parse::<i64>().ok() != Some(i64::from(org.id))
    {
        return Err(ApiError::validation(
            "The id in the body does not match the path.",
            loc!["body", "id"],
            "value_error",
        ));
    }
    let updated = update(state.store(), &org.slug, &changes(&body)?).await?;
    Ok(Json(OrganizationRead::from(&updated)))
}

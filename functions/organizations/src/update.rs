//! `PUT /api/v1/organizations/{organization_id}`: the Owner of that organization changes its
//! description and banner (the default flag is the operator's: a change is a 403). Only the fields sent change; `name` (and so the slug)
//! never does; a body `id` other than the path's is a 422.

use axum::extract::State;
use dispatch_domain::model::{BannerText, Description, Invalid, ShortText};
use dispatch_domain::organization_update::{OrganizationChanges, refuse_default_change, update};
use dispatch_shared::error::ApiError;
use dispatch_shared::http::{Json, PathId, ensure_body_id};
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

/// A string field parsed by `parse` (a 422 naming the field), `null`, or absent.
fn text_or_null<T: std::fmt::Display>(
    body: &Map<String, Value>,
    field: &str,
    parse: impl Fn(&str) -> Result<T, Invalid>,
) -> Result<Option<Option<String>>, ApiError> {
    Ok(match string_or_null(body, field)? {
        Some(Some(text)) => Some(Some(
            parse(&text)
                .map_err(|invalid| invalid.at(dispatch_domain::body![field]))?
                .to_string(),
        )),
        other => other,
    })
}

/// Reads the fields Dispatch's `OrganizationUpdate` allows, noting which were sent; their text
/// bounded as on creation.
pub fn changes(body: &Map<String, Value>) -> Result<OrganizationChanges, ApiError> {
    Ok(OrganizationChanges {
        description: text_or_null(body, "description", Description::parse)?,
        banner_enabled: boolean(body, "banner_enabled")?,
        banner_color: text_or_null(body, "banner_color", ShortText::parse)?.flatten(),
        banner_text: text_or_null(body, "banner_text", BannerText::parse)?,
    })
}

pub async fn update_organization(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    Json(body): Json<Map<String, Value>>,
) -> Result<Json<OrganizationRead>, ApiError> {
    // The permission layer resolved the organization from the path and checked ownership.
    let org = caller.organization()?;
    // The path's id found this organization through its id guard; an organization re-created
    // since under that slug has another id, and the old id must not update it.
    ensure_body_id(Some(&Value::from(id)), org.id)?;
    ensure_body_id(body.get("id"), org.id)?;
    refuse_default_change(boolean(&body, "default")?, org.default)?;
    let updated = update(state.store(), &org.slug, &changes(&body)?).await?;
    Ok(Json(OrganizationRead::from(&updated)))
}

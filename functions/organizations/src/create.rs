//! `POST /api/v1/organizations`: any authenticated user creates an organization and becomes its
//! Owner (Dispatch's rule). The organization, its guards, the Owner's membership and the default
//! project are written in one transaction; a taken name, id or slug is a 409 with Dispatch's
//! messages, a slug shorter than 3 characters or equal to a fixed path segment a 422.

use axum::extract::State;
use dispatch_domain::model::{BannerText, Description, NameStr, PrimaryKey, ShortText};
use dispatch_domain::organization_update::refuse_default_change;
use dispatch_domain::organizations::{self, NewOrganization};
use dispatch_shared::error::ApiError;
use dispatch_shared::http::Json;
use dispatch_shared::views::OrganizationRead;
use dispatch_shared::{AppState, Caller};
use serde::Deserialize;

/// Dispatch's `OrganizationCreate` (`id`, `slug` and other keys are ignored: ids are allocated), its text bounded
/// (`dispatch_domain::model::text`).
#[derive(Debug, Deserialize)]
pub struct CreateBody {
    #[serde(default)]
    pub id: Option<PrimaryKey>,
    pub name: NameStr,
    #[serde(default)]
    pub description: Option<Description>,
    #[serde(default)]
    pub default: Option<bool>,
    #[serde(default)]
    pub banner_enabled: Option<bool>,
    #[serde(default)]
    pub banner_color: Option<ShortText>,
    #[serde(default)]
    pub banner_text: Option<BannerText>,
}

pub async fn create_organization(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CreateBody>,
) -> Result<Json<OrganizationRead>, ApiError> {
    // A new organization is never the default: that is the operator's choice.
    refuse_default_change(body.default, false)?;
    let new = NewOrganization {
        name: body.name,
        description: body.description.map(Description::into_string),
        default: false,
        banner_enabled: body.banner_enabled.unwrap_or(false),
        banner_color: body.banner_color.map(ShortText::into_string),
        banner_text: body.banner_text.map(BannerText::into_string),
    };
    let org = organizations::create(state.store(), new, Some(&caller.user)).await?;
    Ok(Json(OrganizationRead::from(&org)))
}

use serde::Serialize;

use dispatch_domain::model::Organization;

/// Dispatch's `OrganizationRead`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrganizationRead {
    pub id: i32,
    pub name: String,
    pub description: Option<String>,
    pub default: bool,
    pub banner_enabled: bool,
    pub banner_color: Option<String>,
    pub banner_text: Option<String>,
    pub slug: String,
}

impl From<&Organization> for OrganizationRead {
    fn from(org: &Organization) -> Self {
        Self {
            id: org.id,
            name: org.name.as_str().to_owned(),
            description: org.description.clone(),
            default: org.default,
            banner_enabled: org.banner_enabled,
            banner_color: org.banner_color.clone(),
            banner_text: org.banner_text.clone(),
            slug: org.slug.as_str().to_owned(),
        }
    }
}

impl OrganizationRead {
    /// The view as JSON, for the list layer (which filters and sorts views).
    pub fn json(org: &Organization) -> serde_json::Value {
        serde_json::to_value(Self::from(org)).unwrap_or_default()
    }
}

//! Changing an organization (`PUT /organizations/{id}`): only the fields sent, name and slug
//! never; one versioned write, retried on a race. Making it the default takes the flag from the
//! previous default in the same transaction (Q-O3: exactly one default organization).

use crate::error::ApiError;
use crate::loc;
use crate::model::Organization;
use crate::store::{Store, Transaction, keys, retry_on_version_conflict};
use crate::time::Timestamp;

use super::organizations::{organization_item, take_default_flag};

/// The fields a client sent (`None`: not sent; `Some(None)`: sent as null).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrganizationChanges {
    pub description: Option<Option<String>>,
    pub default: Option<bool>,
    pub banner_enabled: Option<bool>,
    pub banner_color: Option<String>,
    pub banner_text: Option<Option<String>>,
}

/// Applies `changes` to the organization `slug`.
pub async fn update(
    store: &Store,
    slug: &str,
    changes: &OrganizationChanges,
) -> Result<Organization, ApiError> {
    retry_on_version_conflict(|| async {
        let mut org: Organization = match store.get_attributes(&keys::organization(slug)).await? {
            Some(item) => super::organizations::visible(item)?,
            None => None,
        }
        .ok_or_else(|| ApiError::NotFound("An organization with this id does not exist.".into()))?;
        let expected = org.version;
        let becomes_default = changes.default == Some(true) && !org.default;
        if changes.default == Some(false) && org.default {
            return Err(ApiError::validation(
                "There must be a default organization: make another organization the default instead.",
                loc!["body", "default"],
                "value_error",
            ));
        }
        if let Some(description) = &changes.description {
            org.description = description.clone();
        }
        if let Some(enabled) = changes.banner_enabled {
            org.banner_enabled = enabled;
        }
        // Dispatch copies the colour only when it is not empty.
        if let Some(color) = changes.banner_color.as_ref().filter(|c| !c.is_empty()) {
            org.banner_color = Some(color.clone());
        }
        if let Some(text) = &changes.banner_text {
            org.banner_text = text.clone();
        }
        org.default = org.default || becomes_default;
        org.version += 1;
        org.updated_at = Timestamp::now();
        let mut tx = Transaction::new();
        tx.put_versioned(organization_item(&org)?, expected)?;
        if becomes_default {
            take_default_flag(store, &mut tx, &org.slug).await?;
        }
        store.transact(tx).await?;
        Ok(org)
    })
    .await
}

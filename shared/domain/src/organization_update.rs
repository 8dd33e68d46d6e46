//! Changing an organization (`PUT /organizations/{id}`): only the fields sent, name and slug
//! never; one versioned write, retried on a race.
//!
//! The default flag is not among the fields a client changes: the default organization is
//! where every registrant lands, so only the operator moves it ([`make_default`], behind
//! `dispatch organization set-default`). Moving it takes the flag from the previous default in
//! the same transaction (Q-O3: exactly one default organization).

use crate::error::DomainError;
use crate::model::Organization;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::time::Timestamp;
use dispatch_store::item::attribute_value;
use dispatch_store::transaction::VERSION_LABEL;
use dispatch_store::{Expression, Store, Transaction, keys, retry_on_version_conflict};

use super::organizations::take_default_flag;

/// The 403 for a request that would move the default flag.
pub const DEFAULT_IS_THE_OPERATORS: &str =
    "Only the operator chooses the default organization (`dispatch organization set-default`).";

/// Refuses (403) a client's `default` that differs from the organization's flag: sending the
/// current value back is fine (Dispatch's UI sends the whole organization).
pub fn refuse_default_change(sent: Option<bool>, current: bool) -> Result<(), DomainError> {
    match sent {
        Some(flag) if flag != current => {
            Err(DomainError::Forbidden(DEFAULT_IS_THE_OPERATORS.into()))
        }
        _ => Ok(()),
    }
}

/// The fields a client sent (`None`: not sent; `Some(None)`: sent as null).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrganizationChanges {
    pub description: Option<Option<String>>,
    pub banner_enabled: Option<bool>,
    pub banner_color: Option<String>,
    pub banner_text: Option<Option<String>>,
}

/// Applies `changes` to the organization `slug`.
pub async fn update(
    store: &Store,
    slug: &str,
    changes: &OrganizationChanges,
) -> Result<Organization, DomainError> {
    retry_on_version_conflict(|| async {
        let mut org = visible_organization(store, slug).await?;
        let expected = org.version;
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
        org.version += 1;
        org.updated_at = Timestamp::now();
        write_fields(
            store,
            &org,
            expected,
            &[
                ("description", attribute_value(&org.description)?),
                ("banner_enabled", attribute_value(org.banner_enabled)?),
                ("banner_color", attribute_value(&org.banner_color)?),
                ("banner_text", attribute_value(&org.banner_text)?),
            ],
            None,
        )
        .await?;
        Ok(org)
    })
    .await
}

/// Writes `fields` (and `updated_at`) of `org` under its version check, leaving the rest of
/// the item alone: member, project and instance counts are updated with `ADD` by other
/// requests, and a rewrite of the whole item would lose theirs.
async fn write_fields(
    store: &Store,
    org: &Organization,
    expected: u64,
    fields: &[(&str, AttributeValue)],
    extra: Option<Transaction>,
) -> Result<(), DomainError> {
    let mut fields = fields.to_vec();
    fields.push(("updated_at", attribute_value(org.updated_at)?));
    let mut tx = extra.unwrap_or_default();
    tx.update(
        keys::organization(&org.slug),
        Expression::set_and_bump_version(&fields),
        Some(Expression::version_is(expected)),
        Some(VERSION_LABEL),
    )?;
    store.transact(tx).await?;
    Ok(())
}

/// Makes `slug` the installation's default organization (the operator's command); the
/// previous default loses the flag in the same transaction. Already the default: no change.
pub async fn make_default(store: &Store, slug: &str) -> Result<Organization, DomainError> {
    retry_on_version_conflict(|| async {
        let mut org = visible_organization(store, slug).await?;
        if org.default {
            return Ok(org);
        }
        let expected = org.version;
        org.default = true;
        org.version += 1;
        org.updated_at = Timestamp::now();
        let mut tx = Transaction::new();
        take_default_flag(store, &mut tx, &org.slug).await?;
        let flag = [("default", AttributeValue::Bool(true))];
        write_fields(store, &org, expected, &flag, Some(tx)).await?;
        Ok(org)
    })
    .await
}

async fn visible_organization(store: &Store, slug: &str) -> Result<Organization, DomainError> {
    match store.get_attributes(&keys::organization(slug)).await? {
        Some(item) => super::organizations::visible(item)?,
        None => None,
    }
    .ok_or_else(|| DomainError::NotFound("An organization with this id does not exist.".into()))
}

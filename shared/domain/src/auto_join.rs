//! The organizations a self-registered or auto-provisioned user joins
//! (`DISPATCH_AUTO_JOIN_ORGANIZATIONS`).
//!
//! A listed slug names an organization only through the id `database init` recorded for it:
//! an organization deleted and created again under the same slug is another organization, and
//! must not silently receive every new registrant. Recording never re-points a slug. With `*`
//! (Dispatch's behaviour) the organization in the URL is joined, whatever it is.

use crate::config::AutoJoin;
use crate::error::DomainError;
use crate::model::{Organization, Role};
use dispatch_store::item::number_attribute;
use dispatch_store::{Expression, Item, Store, StoreError, Transaction, keys};

/// The organizations (with role Member) a new user joins for a request under `url_slug`;
/// organizations that do not exist, or are not the one recorded for their slug, are skipped.
pub async fn organizations(
    store: &Store,
    auto_join: &AutoJoin,
    url_slug: &str,
) -> Result<Vec<(Organization, Role)>, DomainError> {
    let slugs = auto_join.slugs(url_slug);
    let recorded = matches!(auto_join, AutoJoin::Listed(_));
    let mut wanted = Vec::new();
    for slug in &slugs {
        wanted.push(keys::organization(slug));
        wanted.push(keys::auto_join_record(slug));
    }
    let found = store.batch_get(&wanted).await?;
    let mut organizations = Vec::new();
    for (slug, pair) in slugs.iter().zip(found.chunks(2)) {
        let org = pair[0]
            .clone()
            .map(super::organizations::visible)
            .transpose()?
            .flatten();
        let recorded_id = pair[1]
            .as_ref()
            .and_then(|r| number_attribute(r, "organization_id"));
        match org {
            Some(org) if !recorded || recorded_id == Some(i64::from(org.id)) => {
                organizations.push((org, Role::Member));
            }
            Some(_) => tracing::warn!(
                slug = *slug,
                "auto-join organization is not the one recorded by `database init`; skipped"
            ),
            None => tracing::warn!(
                slug = *slug,
                "auto-join organization does not exist; skipped"
            ),
        }
    }
    Ok(organizations)
}

/// Records the id of each listed organization that exists and has no record yet; returns the
/// slugs recorded now. `*` records nothing.
pub async fn record(store: &Store, auto_join: &AutoJoin) -> Result<Vec<String>, DomainError> {
    let AutoJoin::Listed(slugs) = auto_join else {
        return Ok(Vec::new());
    };
    let mut recorded = Vec::new();
    for slug in slugs {
        let Some(org) = super::users::organization(store, slug).await? else {
            continue;
        };
        let mut tx = Transaction::new();
        tx.put_when(
            Item::bare(&keys::auto_join_record(slug), "AutoJoinRecord")
                .with_number("organization_id", i64::from(org.id)),
            Some(Expression::item_absent()),
            Some("auto_join"),
        )?;
        match store.transact(tx).await {
            Ok(()) => recorded.push(slug.clone()),
            Err(StoreError::ConditionFailed { .. }) => {}
            Err(other) => return Err(other.into()),
        }
    }
    Ok(recorded)
}

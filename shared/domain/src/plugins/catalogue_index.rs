//! The catalogue rows in GSI1, under [`collection::PLUGINS`]: GSI1 projects every attribute,
//! so the whole catalogue is one Query, which the plugins function sends at start-up
//! ([`super::RecentPlugins::preload`]) instead of a list-index Query and a `BatchGetItem`.
//! Rows written by a build from before they had this place get it from `dispatch plugins
//! install` (and `database init`, which runs it); until then readers read them by key.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::model::Plugin;
use dispatch_store::item::Attributes;
use dispatch_store::keys::{self, collection, sort_value};
use dispatch_store::{Expression, Source, Store, StoreError, from_attributes};

/// A catalogue row's place in GSI1.
pub(super) fn place(id: i32, slug: &str) -> (String, String) {
    (collection::PLUGINS.to_owned(), sort_value(slug, id))
}

/// Every catalogue row GSI1 holds, in one Query (a page per megabyte): what the plugins
/// function reads at start-up ([`super::RecentPlugins::preload`]). GSI1 trails writes by a
/// moment, and rows written before it held them are absent until `dispatch plugins install`
/// (or `database init`) runs: readers read what they miss by key.
pub async fn every_row(store: &Store) -> Result<Vec<Plugin>, StoreError> {
    store
        .query_prefix(
            Source::Index(dispatch_store::schema::GSI1),
            collection::PLUGINS,
            "",
        )
        .await?
        .into_iter()
        .map(from_attributes)
        .collect()
}

/// Gives installed rows written before they had a place in GSI1 that place. Each write is
/// conditional on the row still being there without one, so a row uninstalled or rewritten
/// meanwhile is left as it is.
pub(super) async fn place_unplaced(store: &Store, rows: &[Attributes]) -> Result<(), StoreError> {
    let unplaced = rows
        .iter()
        .filter(|row| !row.contains_key(keys::attr::GSI1PK))
        .filter_map(|row| {
            let id = dispatch_store::item::number_attribute(row, "id")?;
            let slug = dispatch_store::item::string_attribute(row, "slug")?;
            Some((id as i32, slug))
        });
    for (id, slug) in unplaced {
        let (pk, sk) = place(id, &slug);
        let placed = store
            .update_if(
                &keys::plugin(id),
                Expression::new("SET #gpk = :gpk, #gsk = :gsk")
                    .name("#gpk", keys::attr::GSI1PK)
                    .name("#gsk", keys::attr::GSI1SK)
                    .value(":gpk", AttributeValue::S(pk))
                    .value(":gsk", AttributeValue::S(sk)),
                Expression::new("attribute_exists(#pk) AND attribute_not_exists(#gpk)")
                    .name("#pk", keys::attr::PK)
                    .name("#gpk", keys::attr::GSI1PK),
                super::catalogue::PLUGIN_ROW_LABEL,
            )
            .await;
        match placed {
            Ok(()) | Err(StoreError::ConditionFailed { .. }) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(())
}

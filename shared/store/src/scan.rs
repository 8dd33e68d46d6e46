//! Paging through the whole table: for background jobs that must look at every item (the
//! guard check), one bounded page at a time, so a job can stop between pages (or between the
//! items of a page) and continue later from the key where it stopped.

use aws_sdk_dynamodb::types::AttributeValue;

use super::item::Attributes;
use super::keys::{Key, attr};
use super::{Store, StoreError};

/// One page of a table scan.
#[derive(Debug, Clone, Default)]
pub struct ScanPage {
    /// The items, in scan order (only the projected attributes, if a projection was given).
    pub items: Vec<Attributes>,
    /// Where DynamoDB stopped; `None` at the end of the table.
    pub last_evaluated: Option<Key>,
}

impl Store {
    /// Reads up to `limit` items of the table after `start` (exclusive; `None`: from the
    /// beginning), with strongly consistent reads: a job that checks items against each other
    /// must not see an item older than the ones it reads next.
    ///
    /// `start` may be the key of any item a previous page returned, not only its
    /// `LastEvaluatedKey`: scan order is fixed, so a caller that stopped in the middle of a page
    /// continues right after the last item it dealt with. `projection` names the attributes to
    /// return (the keys are always added): items can be large, and a job that looks at a few
    /// attributes need not move whole projects across the network.
    pub async fn scan_page(
        &self,
        start: Option<&Key>,
        limit: usize,
        projection: Option<&[&str]>,
    ) -> Result<ScanPage, StoreError> {
        let mut request = self
            .client()
            .scan()
            .table_name(self.table())
            .consistent_read(true)
            .limit(limit.clamp(1, 1_000) as i32)
            .set_exclusive_start_key(start.map(super::key_attributes));
        if let Some(names) = projection {
            let mut placeholders = vec!["#pk".to_owned(), "#sk".to_owned()];
            request = request
                .expression_attribute_names("#pk", attr::PK)
                .expression_attribute_names("#sk", attr::SK);
            for (i, name) in names
                .iter()
                .filter(|n| **n != attr::PK && **n != attr::SK)
                .enumerate()
            {
                let placeholder = format!("#p{i}");
                request = request.expression_attribute_names(&placeholder, *name);
                placeholders.push(placeholder);
            }
            request = request.projection_expression(placeholders.join(", "));
        }
        let output = request.send().await.map_err(StoreError::from_sdk)?;
        Ok(ScanPage {
            items: output.items.unwrap_or_default(),
            last_evaluated: output.last_evaluated_key.map(|key| {
                let part = |name: &str| match key.get(name) {
                    Some(AttributeValue::S(s)) => s.clone(),
                    _ => String::new(),
                };
                Key::new(part(attr::PK), part(attr::SK))
            }),
        })
    }
}

//! Queries of one partition (of the table or of an index), following `LastEvaluatedKey`.

use aws_sdk_dynamodb::types::AttributeValue;

use super::item::{Attributes, key_of};
use super::keys::{Key, attr};
use super::schema::IndexSpec;
use super::{Store, StoreError};

/// Where to look: the table's own partition key, or an index.
#[derive(Debug, Clone, Copy)]
pub enum Source {
    Table,
    Index(IndexSpec),
}

impl Source {
    fn keys(self) -> (&'static str, &'static str, Option<&'static str>) {
        match self {
            Source::Table => (attr::PK, attr::SK, None),
            Source::Index(index) => (index.partition_key, index.sort_key, Some(index.name)),
        }
    }
}

impl Store {
    /// Every item of partition `pk` in `source` whose sort key starts with `prefix` (all of the
    /// partition for an empty prefix), in sort-key order. Meant for small collections (a
    /// user's memberships, a project's items); lists use the list layer instead.
    pub async fn query_prefix(
        &self,
        source: Source,
        pk: &str,
        prefix: &str,
    ) -> Result<Vec<Attributes>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .prefix_query(source, pk, prefix)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(StoreError::from_sdk)?;
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    /// A query of partition `pk` of `source` for sort keys starting with `prefix` (all of the
    /// partition when empty); consistent when it reads the table.
    fn prefix_query(
        &self,
        source: Source,
        pk: &str,
        prefix: &str,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let (pk_name, sk_name, index) = source.keys();
        let request = self
            .client()
            .query()
            .table_name(self.table())
            .set_index_name(index.map(str::to_owned))
            .consistent_read(index.is_none())
            .expression_attribute_names("#pk", pk_name)
            .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()));
        if prefix.is_empty() {
            request.key_condition_expression("#pk = :pk")
        } else {
            request
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#sk", sk_name)
                .expression_attribute_values(":prefix", AttributeValue::S(prefix.to_owned()))
        }
    }

    /// The primary keys of every item of table partition `pk` (only the keys are read), for
    /// removing a partition that a transaction already hid.
    pub async fn partition_keys(&self, pk: &str) -> Result<Vec<Key>, StoreError> {
        let mut keys = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client()
                .query()
                .table_name(self.table())
                .key_condition_expression("#pk = :pk")
                .projection_expression("#pk, #sk")
                .expression_attribute_names("#pk", attr::PK)
                .expression_attribute_names("#sk", attr::SK)
                .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(StoreError::from_sdk)?;
            keys.extend(page.items().iter().map(key_of));
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(keys);
            }
        }
    }
}

/// One page of keys from a keys-only list index, with what it cost.
#[derive(Debug, Clone, Default)]
pub struct KeyPage {
    /// Keys in index order: `pk`, `sk`, and the index's own key attributes.
    pub keys: Vec<Attributes>,
    /// Where DynamoDB stopped, if it did.
    pub last_evaluated: Option<Attributes>,
    /// Items DynamoDB read (`ScannedCount`).
    pub scanned: i64,
    /// Read capacity consumed.
    pub capacity: f64,
}

impl Store {
    /// Reads up to `limit` keys of partition `pk` of a list index, after `start` (exclusive),
    /// ascending or descending.
    pub async fn query_keys(
        &self,
        index: IndexSpec,
        pk: &str,
        start: Option<Attributes>,
        limit: usize,
        ascending: bool,
    ) -> Result<KeyPage, StoreError> {
        let output = self
            .client()
            .query()
            .table_name(self.table())
            .index_name(index.name)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", index.partition_key)
            .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
            .set_exclusive_start_key(start)
            .limit(limit.clamp(1, 1_000) as i32)
            .scan_index_forward(ascending)
            .return_consumed_capacity(aws_sdk_dynamodb::types::ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        Ok(KeyPage {
            scanned: i64::from(output.scanned_count),
            capacity: output
                .consumed_capacity()
                .and_then(|c| c.capacity_units())
                .unwrap_or(0.0),
            last_evaluated: output.last_evaluated_key,
            keys: output.items.unwrap_or_default(),
        })
    }
}

impl Store {
    /// One unconditional `UpdateItem` (cheaper than a one-action transaction).
    pub async fn update(
        &self,
        key: &super::Key,
        update: super::Expression,
    ) -> Result<(), StoreError> {
        self.client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(super::key_attributes(key)))
            .update_expression(&update.text)
            .set_expression_attribute_names(update.names_option())
            .set_expression_attribute_values(update.values_option())
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        Ok(())
    }

    /// One `UpdateItem` under `condition`; a condition that does not hold is
    /// [`StoreError::ConditionFailed`] with `label`, and nothing changes. Single-item updates
    /// never conflict with each other (DynamoDB applies them one after the other), which is
    /// what counters and semaphores need.
    pub async fn update_if(
        &self,
        key: &super::Key,
        update: super::Expression,
        condition: super::Expression,
        label: &str,
    ) -> Result<(), StoreError> {
        let mut placeholders = update.clone();
        placeholders.names.extend(condition.names.clone());
        placeholders.values.extend(condition.values.clone());
        let sent = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(super::key_attributes(key)))
            .update_expression(&update.text)
            .condition_expression(&condition.text)
            .set_expression_attribute_names(placeholders.names_option())
            .set_expression_attribute_values(placeholders.values_option())
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::ConditionFailed {
                    label: label.to_owned(),
                })
            }
            Err(error) => Err(StoreError::from_sdk(error)),
        }
    }
}

impl Store {
    /// How many items of partition `pk` (table, consistent read; or an index) have a sort key
    /// starting with `prefix` and pass `filter`. Only the count crosses the network, one
    /// 1 MB page of items read at a time.
    pub async fn count_prefix(
        &self,
        source: Source,
        pk: &str,
        prefix: &str,
        filter: Option<&super::Expression>,
    ) -> Result<u64, StoreError> {
        let mut count = 0_u64;
        let mut start = None;
        loop {
            let mut request = self
                .prefix_query(source, pk, prefix)
                .select(aws_sdk_dynamodb::types::Select::Count)
                .set_exclusive_start_key(start);
            if let Some(filter) = filter {
                request = request.filter_expression(&filter.text);
                for (placeholder, name) in &filter.names {
                    request = request.expression_attribute_names(placeholder, name);
                }
                for (placeholder, value) in &filter.values {
                    request = request.expression_attribute_values(placeholder, value.clone());
                }
            }
            let page = request.send().await.map_err(StoreError::from_sdk)?;
            count += u64::try_from(page.count).unwrap_or(0);
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(count);
            }
        }
    }
}

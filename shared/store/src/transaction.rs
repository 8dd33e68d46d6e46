//! All-or-nothing writes: a builder for `TransactWriteItems` whose every conditional action
//! carries a label, so that a failed condition can be turned into the right client error.

use std::collections::HashSet;
use std::time::Duration;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem, Update};

use super::expression::Expression;
use super::item::{Item, key_attributes};
use super::keys::Key;
use super::{Store, StoreError};

/// Label of the condition `version = :expected`: its failure is a [`StoreError::VersionConflict`].
pub const VERSION_LABEL: &str = "version";

/// DynamoDB's limit of actions in one transaction.
pub const MAX_ACTIONS: usize = 100;

/// A transaction under construction. It refuses two actions on one key (AWS rejects that with a
/// ValidationException; DynamoDB Local silently behaves differently, so we check first).
#[derive(Debug, Default)]
pub struct Transaction {
    actions: Vec<TransactWriteItem>,
    labels: Vec<Option<String>>,
    keys: HashSet<Key>,
}

fn build_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::Sdk(format!("invalid transaction action: {e}"))
}

impl Transaction {
    /// An empty transaction.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of actions so far.
    pub fn len(&self) -> usize {
        self.actions.len()
    }

    /// Whether an action on `key` is already in the transaction (a second one would be refused).
    pub fn holds(&self, key: &Key) -> bool {
        self.keys.contains(key)
    }

    /// Whether no action was added.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    fn claim(&mut self, key: Key) -> Result<(), StoreError> {
        if self.actions.len() >= MAX_ACTIONS {
            return Err(StoreError::Sdk(format!(
                "a transaction holds at most {MAX_ACTIONS} actions"
            )));
        }
        if !self.keys.insert(key.clone()) {
            return Err(StoreError::DuplicateKeyInTransaction {
                pk: key.pk,
                sk: key.sk,
            });
        }
        Ok(())
    }

    fn push(&mut self, action: TransactWriteItem, label: Option<&str>) {
        self.actions.push(action);
        self.labels.push(label.map(str::to_owned));
    }

    /// Puts an item that must not exist yet; if it does, the transaction fails with `label`
    /// (uniqueness guards and new entities).
    pub fn put_new(&mut self, item: Item, label: &str) -> Result<&mut Self, StoreError> {
        self.put_when(item, Some(Expression::item_absent()), Some(label))
    }

    /// Replaces an item whose stored `version` must still be `expected` (the item carries the
    /// next version). A mismatch is a [`StoreError::VersionConflict`].
    pub fn put_versioned(&mut self, item: Item, expected: u64) -> Result<&mut Self, StoreError> {
        self.put_when(
            item,
            Some(Expression::version_is(expected)),
            Some(VERSION_LABEL),
        )
    }

    /// Puts an item, optionally under a condition labelled `label`.
    pub fn put_when(
        &mut self,
        item: Item,
        condition: Option<Expression>,
        label: Option<&str>,
    ) -> Result<&mut Self, StoreError> {
        self.claim(item.key())?;
        let mut put = Put::builder()
            .table_name("")
            .set_item(Some(item.into_attributes()));
        if let Some(condition) = &condition {
            put = put
                .condition_expression(&condition.text)
                .set_expression_attribute_names(condition.names_option())
                .set_expression_attribute_values(condition.values_option());
        }
        let action = TransactWriteItem::builder()
            .put(put.build().map_err(build_error)?)
            .build();
        self.push(action, label);
        Ok(self)
    }

    /// Updates an item with `update`, optionally under a condition labelled `label`.
    pub fn update(
        &mut self,
        key: Key,
        update: Expression,
        condition: Option<Expression>,
        label: Option<&str>,
    ) -> Result<&mut Self, StoreError> {
        self.claim(key.clone())?;
        let mut placeholders = update.clone();
        let mut builder = Update::builder()
            .table_name("")
            .set_key(Some(key_attributes(&key)))
            .update_expression(&update.text);
        if let Some(condition) = &condition {
            builder = builder.condition_expression(&condition.text);
            placeholders.names.extend(condition.names.clone());
            placeholders.values.extend(condition.values.clone());
        }
        let action = TransactWriteItem::builder()
            .update(
                builder
                    .set_expression_attribute_names(placeholders.names_option())
                    .set_expression_attribute_values(placeholders.values_option())
                    .build()
                    .map_err(build_error)?,
            )
            .build();
        self.push(action, label);
        Ok(self)
    }

    /// Deletes an item, optionally under a condition labelled `label`.
    pub fn delete(
        &mut self,
        key: Key,
        condition: Option<Expression>,
        label: Option<&str>,
    ) -> Result<&mut Self, StoreError> {
        self.claim(key.clone())?;
        let mut builder = Delete::builder()
            .table_name("")
            .set_key(Some(key_attributes(&key)));
        if let Some(condition) = &condition {
            builder = builder
                .condition_expression(&condition.text)
                .set_expression_attribute_names(condition.names_option())
                .set_expression_attribute_values(condition.values_option());
        }
        let action = TransactWriteItem::builder()
            .delete(builder.build().map_err(build_error)?)
            .build();
        self.push(action, label);
        Ok(self)
    }

    /// Requires a condition on an item the transaction does not write.
    pub fn check(
        &mut self,
        key: Key,
        condition: Expression,
        label: &str,
    ) -> Result<&mut Self, StoreError> {
        self.claim(key.clone())?;
        let check = ConditionCheck::builder()
            .table_name("")
            .set_key(Some(key_attributes(&key)))
            .condition_expression(&condition.text)
            .set_expression_attribute_names(condition.names_option())
            .set_expression_attribute_values(condition.values_option())
            .build()
            .map_err(build_error)?;
        let action = TransactWriteItem::builder().condition_check(check).build();
        self.push(action, Some(label));
        Ok(self)
    }
}

/// Fills in the table name (actions are built before the store is known).
fn with_table(action: TransactWriteItem, table: &str) -> TransactWriteItem {
    let mut action = action;
    if let Some(put) = action.put.as_mut() {
        put.table_name = table.to_owned();
    }
    if let Some(update) = action.update.as_mut() {
        update.table_name = table.to_owned();
    }
    if let Some(delete) = action.delete.as_mut() {
        delete.table_name = table.to_owned();
    }
    if let Some(check) = action.condition_check.as_mut() {
        check.table_name = table.to_owned();
    }
    action
}

/// A new idempotency token (32 hex digits; DynamoDB accepts 1 to 36 characters).
fn request_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// How often a transaction that lost to a concurrent one (`TransactionConflict`) is retried.
/// Counters (an organization's member or project count) make concurrent creations in one
/// organization collide; full-jitter backoff spreads them out so that they all land.
const CONFLICT_RETRIES: u32 = 10;
/// Backoff cap between conflict retries.
const CONFLICT_BACKOFF_CAP_MS: u64 = 200;

impl Store {
    /// Runs a transaction: every action happens, or none.
    ///
    /// Each send carries a fresh `ClientRequestToken`. The SDK re-sends the same request (same
    /// token) after a timeout or a dropped connection, and DynamoDB treats a token it already
    /// applied as done: a transaction whose response was lost is not applied twice, and its
    /// `attribute_not_exists` guards do not fail against its own first application.
    ///
    /// A failed condition comes back as [`StoreError::ConditionFailed`] with the action's label
    /// (or [`StoreError::VersionConflict`] for a version check). A conflict with a concurrent
    /// transaction is retried with a short backoff before it is reported.
    pub async fn transact(&self, transaction: Transaction) -> Result<(), StoreError> {
        if transaction.is_empty() {
            return Ok(());
        }
        let items: Vec<TransactWriteItem> = transaction
            .actions
            .into_iter()
            .map(|a| with_table(a, self.table()))
            .collect();
        let mut attempt = 0;
        loop {
            let result = self
                .client()
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .client_request_token(request_token())
                .send()
                .await;
            let error = match result {
                Ok(_) => return Ok(()),
                Err(error) => error,
            };
            let Some(cancelled) = error.as_service_error().and_then(|e| match e {
                TransactWriteItemsError::TransactionCanceledException(c) => Some(c),
                _ => None,
            }) else {
                return Err(StoreError::from_sdk(error));
            };
            let codes: Vec<&str> = cancelled
                .cancellation_reasons()
                .iter()
                .map(|r| r.code().unwrap_or("None"))
                .collect();
            if let Some(index) = codes.iter().position(|c| *c == "ConditionalCheckFailed") {
                return Err(match transaction.labels.get(index).cloned().flatten() {
                    Some(label) if label == VERSION_LABEL => StoreError::VersionConflict,
                    Some(label) => StoreError::ConditionFailed { label },
                    None => StoreError::ConditionFailed {
                        label: format!("action {index}"),
                    },
                });
            }
            if codes.contains(&"TransactionConflict") && attempt < CONFLICT_RETRIES {
                attempt += 1;
                let ceiling = (5 * 2u64.pow(attempt)).min(CONFLICT_BACKOFF_CAP_MS);
                tokio::time::sleep(Duration::from_millis(rand::random_range(1..=ceiling))).await;
                continue;
            }
            if codes.contains(&"TransactionConflict") {
                return Err(StoreError::VersionConflict);
            }
            if codes
                .iter()
                .any(|c| matches!(*c, "ThrottlingError" | "ProvisionedThroughputExceeded"))
            {
                return Err(StoreError::Unavailable("transaction throttled".into()));
            }
            return Err(StoreError::Sdk(format!("transaction cancelled: {codes:?}")));
        }
    }
}

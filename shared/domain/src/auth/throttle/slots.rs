//! A counting semaphore in one DynamoDB item: `free` slots left in a fixed window, and the
//! `failed` attempts of that window.
//!
//! Taking a slot is one conditional `UpdateItem` (`free > 0`, the item created on first use).
//! Single-item updates are applied one after the other, so concurrent attempts never lose a
//! race to each other and never overshoot: at any moment, confirmed failures plus attempts in
//! flight are at most the limit. A failure keeps its slot; a success gives it back; an attempt
//! that dies in between keeps its slot too, so it counts as a failure until the window ends.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;

use dispatch_store::item::number_attribute;
use dispatch_store::{Attributes, Expression, Key, Store, StoreError};

/// How long an attempt waits for slots held by attempts in flight (a password check takes
/// well under a second) before it counts them as lost and refuses.
const WAIT_FOR_IN_FLIGHT: Duration = Duration::from_secs(3);

/// One semaphore: its item and its policy.
#[derive(Debug, Clone)]
pub struct Slots {
    pub key: Key,
    pub limit: i64,
    /// When the window ends (Unix seconds): a refusal's wait, and the item's `ttl`.
    pub window_end: i64,
}

/// Why a slot was not taken: the window is full until `window_end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full {
    pub window_end: i64,
}

impl Slots {
    /// Confirmed failures in a stored item (absent: none).
    pub fn failed(item: Option<&Attributes>) -> i64 {
        item.and_then(|item| number_attribute(item, "failed"))
            .unwrap_or(0)
    }

    /// Whether the confirmed failures alone fill the window.
    pub fn exhausted(&self, item: Option<&Attributes>) -> bool {
        Self::failed(item) >= self.limit
    }

    /// Takes a slot, waiting while attempts in flight hold the last ones. Correct passwords
    /// give their slots back within one password check, so they never lock each other out.
    pub async fn take(&self, store: &Store) -> Result<Result<(), Full>, StoreError> {
        let started = Instant::now();
        loop {
            let update = Expression::new(
                "SET #free = if_not_exists(#free, :limit) - :one, #ttl = :ttl, #entity = :entity",
            )
            .name("#free", "free")
            .name("#ttl", dispatch_store::keys::attr::TTL)
            .name("#entity", dispatch_store::keys::attr::ENTITY)
            .value(":limit", number(self.limit))
            .value(":one", number(1))
            .value(":ttl", number(self.window_end + 60))
            .value(":entity", AttributeValue::S("LoginThrottle".into()));
            let condition = Expression::new("attribute_not_exists(#free) OR #free > :zero")
                .name("#free", "free")
                .value(":zero", number(0));
            match store.update_if(&self.key, update, condition, "slots").await {
                Ok(()) => return Ok(Ok(())),
                Err(StoreError::ConditionFailed { .. }) => {}
                Err(other) => return Err(other),
            }
            let item = store.get_attributes(&self.key).await?;
            if self.exhausted(item.as_ref()) || started.elapsed() >= WAIT_FOR_IN_FLIGHT {
                return Ok(Err(Full {
                    window_end: self.window_end,
                }));
            }
            let pause = 20 + rand::random::<u64>() % 40;
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
    }

    /// Gives a slot back (a correct password, or an attempt refused elsewhere).
    pub async fn give_back(&self, store: &Store) -> Result<(), StoreError> {
        store
            .update(
                &self.key,
                Expression::new("ADD #free :one")
                    .name("#free", "free")
                    .value(":one", number(1)),
            )
            .await
    }

    /// Records a failure; its slot stays taken.
    pub async fn record_failure(&self, store: &Store) -> Result<(), StoreError> {
        store
            .update(
                &self.key,
                Expression::new("ADD #failed :one")
                    .name("#failed", "failed")
                    .value(":one", number(1)),
            )
            .await
    }
}

fn number(n: i64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

//! Entity ids: positive 31-bit integers (Dispatch clients parse ids as ints), unique across the
//! whole table per entity type, reserved from a counter item in blocks so that most creations
//! cost no extra round trip.

use std::collections::HashMap;
use std::ops::RangeInclusive;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use tokio::sync::Mutex;

use super::item::key_attributes;
use super::keys::{self};
use super::{Store, StoreError};

/// Entity types that get ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdKind {
    User,
    Organization,
    Project,
    Plugin,
    PluginEvent,
    PluginInstance,
    /// Project init data (incident types, priorities, severities, cost types, case types…).
    ProjectData,
}

impl IdKind {
    /// Name used in the counter's key.
    pub fn as_str(self) -> &'static str {
        match self {
            IdKind::User => "USER",
            IdKind::Organization => "ORGANIZATION",
            IdKind::Project => "PROJECT",
            IdKind::Plugin => "PLUGIN",
            IdKind::PluginEvent => "PLUGIN_EVENT",
            IdKind::PluginInstance => "PLUGIN_INSTANCE",
            IdKind::ProjectData => "PROJECT_DATA",
        }
    }
}

/// The largest id Dispatch accepts (`PrimaryKey` is `0 < id < 2147483647`).
pub const MAX_ID: i64 = i32::MAX as i64 - 1;

/// The ids `next..=last` of a reserved block that are still free (none when `next > last`).
#[derive(Debug, Clone, Copy, Default)]
struct Block {
    next: i64,
    last: i64,
}

/// Ids reserved by this process and not handed out yet, per kind.
#[derive(Debug)]
pub struct IdAllocator {
    block_size: i64,
    reserved: Mutex<HashMap<IdKind, Block>>,
}

impl IdAllocator {
    /// An allocator that reserves `block_size` ids per counter update.
    pub fn new(block_size: u32) -> Self {
        Self {
            block_size: i64::from(block_size.max(1)),
            reserved: Mutex::new(HashMap::new()),
        }
    }
}

impl Store {
    /// The next unused id of `kind`. Ids a process reserved but did not use are skipped for
    /// good: gaps are harmless, reuse is not.
    pub async fn next_id(&self, kind: IdKind) -> Result<i32, StoreError> {
        let mut reserved = self.ids().reserved.lock().await;
        let block = reserved.entry(kind).or_default();
        if block.next == 0 || block.next > block.last {
            let range = self.reserve_block(kind, self.ids().block_size).await?;
            *block = Block {
                next: *range.start(),
                last: *range.end(),
            };
        }
        let id = block.next;
        block.next += 1;
        i32::try_from(id).map_err(|_| StoreError::IdsExhausted(kind.as_str()))
    }

    /// `count` fresh ids of `kind` in one counter update (for items created together, such as
    /// a project's init data and plugin instances).
    pub async fn next_ids(&self, kind: IdKind, count: usize) -> Result<Vec<i32>, StoreError> {
        if count == 0 {
            return Ok(Vec::new());
        }
        self.reserve_block(kind, count as i64)
            .await?
            .map(|id| i32::try_from(id).map_err(|_| StoreError::IdsExhausted(kind.as_str())))
            .collect()
    }

    async fn reserve_block(
        &self,
        kind: IdKind,
        size: i64,
    ) -> Result<RangeInclusive<i64>, StoreError> {
        let output = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_attributes(&keys::id_counter(kind.as_str()))))
            .update_expression("ADD #last :size SET #entity = :entity")
            .expression_attribute_names("#last", "last_id")
            .expression_attribute_names("#entity", keys::attr::ENTITY)
            .expression_attribute_values(":size", AttributeValue::N(size.to_string()))
            .expression_attribute_values(":entity", AttributeValue::S("IdCounter".into()))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        let last = output
            .attributes()
            .and_then(|a| a.get("last_id"))
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok())
            .ok_or_else(|| StoreError::Sdk("id counter update returned no value".into()))?;
        if last > MAX_ID {
            return Err(StoreError::IdsExhausted(kind.as_str()));
        }
        Ok((last - size + 1)..=last)
    }
}

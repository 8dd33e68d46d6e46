//! Bulk writes that need no atomicity (seeding, backfills, removing what a deletion already hid):
//! `BatchWriteItem` in chunks of 25, retrying unprocessed requests with backoff.

use std::time::Duration;

use aws_sdk_dynamodb::types::{DeleteRequest, PutRequest, WriteRequest};

use super::{Item, Key, Store, StoreError, key_attributes};

/// DynamoDB's limit of requests per `BatchWriteItem`.
const BATCH_WRITE_LIMIT: usize = 25;

impl Store {
    /// Puts every item. Not atomic: use a [`super::Transaction`] when the items must exist
    /// together.
    pub async fn put_batch(&self, items: Vec<Item>) -> Result<(), StoreError> {
        let requests = items
            .into_iter()
            .map(|item| {
                PutRequest::builder()
                    .set_item(Some(item.into_attributes()))
                    .build()
                    .map(|put| WriteRequest::builder().put_request(put).build())
                    .map_err(|e| StoreError::Sdk(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        self.write_batch(requests).await
    }

    /// Deletes every key. Not atomic: for removing items a transaction already hid.
    pub async fn delete_batch(&self, keys: &[Key]) -> Result<(), StoreError> {
        let requests = keys
            .iter()
            .map(|key| {
                DeleteRequest::builder()
                    .set_key(Some(key_attributes(key)))
                    .build()
                    .map(|delete| WriteRequest::builder().delete_request(delete).build())
                    .map_err(|e| StoreError::Sdk(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        self.write_batch(requests).await
    }

    /// Sends the requests 25 at a time, retrying what DynamoDB leaves unprocessed.
    async fn write_batch(&self, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        for chunk in requests.chunks(BATCH_WRITE_LIMIT) {
            let mut pending = chunk.to_vec();
            for attempt in 0u32.. {
                let output = self
                    .client()
                    .batch_write_item()
                    .request_items(self.table(), pending)
                    .send()
                    .await
                    .map_err(StoreError::from_sdk)?;
                pending = output
                    .unprocessed_items
                    .and_then(|mut unprocessed| unprocessed.remove(self.table()))
                    .unwrap_or_default();
                if pending.is_empty() {
                    break;
                }
                if attempt >= 8 {
                    return Err(StoreError::Unavailable(
                        "BatchWriteItem left requests unprocessed".into(),
                    ));
                }
                tokio::time::sleep(Duration::from_millis(20 << attempt.min(5))).await;
            }
        }
        Ok(())
    }
}

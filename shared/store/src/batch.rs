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

    /// Sends the requests 25 at a time, retrying what DynamoDB leaves unprocessed with
    /// full-jitter exponential backoff. If some stay unprocessed after [`UNPROCESSED_RETRIES`]
    /// rounds, or a chunk fails outright, the error lists every request not written (that chunk's
    /// and all later ones), so the caller can report them and run the idempotent job again.
    async fn write_batch(&self, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        let chunks: Vec<&[WriteRequest]> = requests.chunks(BATCH_WRITE_LIMIT).collect();
        for (index, chunk) in chunks.iter().enumerate() {
            let (unwritten, cause) = match self.write_chunk(chunk.to_vec()).await {
                Ok(()) => continue,
                Err(ChunkFailure::Left(pending)) => (pending, "left unprocessed".to_owned()),
                // A failed call wrote none of its requests, or some before a lost response:
                // report the whole chunk (writing it again is harmless).
                Err(ChunkFailure::Failed(error)) => (chunk.to_vec(), error.to_string()),
            };
            let mut keys: Vec<Key> = unwritten.iter().filter_map(request_key).collect();
            keys.extend(
                chunks[index + 1..]
                    .iter()
                    .flat_map(|c| c.iter().filter_map(request_key)),
            );
            return Err(StoreError::BatchIncomplete {
                unwritten: keys,
                cause,
            });
        }
        Ok(())
    }

    /// Writes one chunk, retrying unprocessed requests.
    async fn write_chunk(&self, mut pending: Vec<WriteRequest>) -> Result<(), ChunkFailure> {
        for round in 0..=UNPROCESSED_RETRIES {
            if round > 0 {
                let ceiling = (BACKOFF_BASE_MS << round.min(6)).min(BACKOFF_CAP_MS);
                tokio::time::sleep(Duration::from_millis(rand::random_range(1..=ceiling))).await;
            }
            let output = self
                .client()
                .batch_write_item()
                .request_items(self.table(), pending.clone())
                .send()
                .await
                .map_err(|e| ChunkFailure::Failed(StoreError::from_sdk(e)))?;
            pending = output
                .unprocessed_items
                .and_then(|mut unprocessed| unprocessed.remove(self.table()))
                .unwrap_or_default();
            if pending.is_empty() {
                return Ok(());
            }
        }
        Err(ChunkFailure::Left(pending))
    }
}

/// How many times unprocessed requests of one chunk are sent again.
pub const UNPROCESSED_RETRIES: u32 = 8;
const BACKOFF_BASE_MS: u64 = 25;
const BACKOFF_CAP_MS: u64 = 2_000;

enum ChunkFailure {
    /// DynamoDB kept leaving these requests unprocessed.
    Left(Vec<WriteRequest>),
    /// The call itself failed.
    Failed(StoreError),
}

/// The key a put or delete request writes.
fn request_key(request: &WriteRequest) -> Option<Key> {
    let attributes = match (&request.put_request, &request.delete_request) {
        (Some(put), _) => &put.item,
        (None, Some(delete)) => &delete.key,
        (None, None) => return None,
    };
    Some(super::item::key_of(attributes))
}

//! The S3 side of a publish: uploads with their headers, the listing `--prune` compares with
//! the build, and batched deletion.

use anyhow::Context;
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use tokio::task::JoinSet;

use super::files::{Build, BuildFile};
use super::sdk_error;
use crate::data::progress::Progress;

/// Keys per DeleteObjects request (S3's limit).
pub const DELETE_BATCH: usize = 1000;

/// Fails unless the bucket exists and is reachable with these credentials.
pub async fn check(s3: &Client, bucket: &str) -> anyhow::Result<()> {
    s3.head_bucket().bucket(bucket).send().await.map_err(|e| {
        let hint = if e.as_service_error().is_some_and(|s| s.is_not_found()) {
            " (no such bucket: give the stack's UiBucketName output)"
        } else {
            ""
        };
        anyhow::anyhow!(
            "S3 bucket {bucket}{hint}: {}; nothing was uploaded",
            sdk_error(e)
        )
    })?;
    Ok(())
}

/// Uploads one file with its `Content-Type` and `Cache-Control`, streamed from disk (S3
/// retries re-read it).
pub async fn upload(s3: &Client, bucket: &str, file: &BuildFile) -> anyhow::Result<()> {
    let body = ByteStream::from_path(&file.path)
        .await
        .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.path.display()))?;
    s3.put_object()
        .bucket(bucket)
        .key(&file.key)
        .content_type(file.content_type)
        .cache_control(file.cache_control)
        .body(body)
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "uploading {} to s3://{bucket}/{}: {}",
                file.path.display(),
                file.key,
                sdk_error(e)
            )
        })?;
    Ok(())
}

/// Uploads `files`, at most `concurrency` at once; returns their keys in the order they
/// finished. The first failure stops the rest (those in flight are cancelled).
pub async fn upload_all(
    s3: &Client,
    bucket: &str,
    files: &[BuildFile],
    concurrency: usize,
    progress: &Progress,
) -> anyhow::Result<Vec<String>> {
    let mut done = Vec::with_capacity(files.len());
    let mut pending = files.iter();
    let mut tasks = JoinSet::new();
    loop {
        while tasks.len() < concurrency.max(1) {
            let Some(file) = pending.next() else { break };
            let (s3, bucket, file) = (s3.clone(), bucket.to_owned(), file.clone());
            tasks.spawn(async move { upload(&s3, &bucket, &file).await.map(|()| file.key) });
        }
        let Some(finished) = tasks.join_next().await else {
            return Ok(done);
        };
        let key = finished.context("an upload task failed")?.context(
            "index.html was not replaced, so the site still serves the previous build; run again",
        )?;
        done.push(key);
        progress.set(done.len() as u64);
    }
}

/// The bucket's keys that `build` does not have, in S3's (key) order: every page of the
/// listing.
pub async fn stale_keys(s3: &Client, bucket: &str, build: &Build) -> anyhow::Result<Vec<String>> {
    let keep = build.keys();
    let mut stale = Vec::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(bucket)
            .set_continuation_token(token)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("listing s3://{bucket}: {}", sdk_error(e)))?;
        stale.extend(
            page.contents()
                .iter()
                .filter_map(|object| object.key())
                .filter(|key| !keep.contains(key))
                .map(str::to_owned),
        );
        token = page.next_continuation_token().map(str::to_owned);
        if !page.is_truncated().unwrap_or(false) || token.is_none() {
            return Ok(stale);
        }
    }
}

/// Deletes `keys`, [`DELETE_BATCH`] per request; fails listing the keys S3 did not delete.
pub async fn delete(s3: &Client, bucket: &str, keys: &[String]) -> anyhow::Result<()> {
    for batch in keys.chunks(DELETE_BATCH) {
        let objects = batch
            .iter()
            .map(|key| ObjectIdentifier::builder().key(key).build())
            .collect::<Result<Vec<_>, _>>()?;
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()?;
        let output = s3
            .delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "pruning s3://{bucket} (the new build is published): {}",
                    sdk_error(e)
                )
            })?;
        let errors = output.errors();
        if !errors.is_empty() {
            let failed: Vec<String> = errors
                .iter()
                .take(5)
                .map(|e| {
                    format!(
                        "{} ({})",
                        e.key().unwrap_or("?"),
                        e.message().or(e.code()).unwrap_or("error")
                    )
                })
                .collect();
            anyhow::bail!(
                "pruning s3://{bucket} (the new build is published): {} object(s) not deleted, e.g. {}",
                errors.len(),
                failed.join(", ")
            );
        }
    }
    Ok(())
}

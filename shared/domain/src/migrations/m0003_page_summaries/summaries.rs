//! Pass 4 of migration 3: a summary of its project links for every membership without one.

use aws_sdk_dynamodb::types::AttributeValue;
use futures_util::{TryStreamExt, stream};

use dispatch_store::item::Attributes;
use dispatch_store::keys::{self, attr};
use dispatch_store::migrate::{MigrationError, Run};
use dispatch_store::{Expression, StoreError, from_attributes};

use super::{PAGE, memberships_filter};
use crate::model::{LinkSummary, Membership};

/// Memberships summarised at once (one index query and one write each).
const SUMMARIES_IN_FLIGHT: usize = 16;
/// Tries per membership: a change between the read and the write (a role change, say) makes
/// the write fail, and the membership is read again.
const ATTEMPTS: usize = 5;

/// One membership's summary, read from its link items and written if nothing changed the
/// membership meanwhile (read again otherwise).
async fn summarise(run: &Run<'_>, item: Attributes) -> Result<(), MigrationError> {
    let mut membership: Membership = from_attributes(item).map_err(MigrationError::from)?;
    for _ in 0..ATTEMPTS {
        if membership.projects.is_some() {
            return Ok(());
        }
        if write_summary(run, &membership).await? {
            return Ok(());
        }
        let key = keys::membership(&membership.organization_slug, membership.user_id);
        match run.store.get::<Membership>(&key).await? {
            Some(again) => membership = again,
            None => return Ok(()),
        }
    }
    // Still changing: left without a summary, read the slower way (a later run retries).
    Ok(())
}

/// Writes `membership`'s summary if it is still at the version read and has none; `false`
/// when it changed meanwhile.
async fn write_summary(run: &Run<'_>, membership: &Membership) -> Result<bool, MigrationError> {
    let (slug, user_id) = (&membership.organization_slug, membership.user_id);
    let links = crate::memberships::links_in(run.store, user_id, slug)
        .await
        .map_err(|e| MigrationError::Invalid(e.to_string()))?;
    let mut summary: Vec<LinkSummary> = links.iter().map(LinkSummary::from).collect();
    crate::memberships::sort_like_index(&mut summary);
    let value = serde_dynamo::to_attribute_value(&summary)
        .map_err(|e| MigrationError::Invalid(e.to_string()))?;
    run.lease.check()?;
    let written = run
        .store
        .client()
        .update_item()
        .table_name(run.store.table())
        .set_key(Some(dispatch_store::key_attributes(&keys::membership(
            slug, user_id,
        ))))
        .update_expression("SET #projects = :projects ADD #version :one")
        .condition_expression("#version = :expected AND attribute_not_exists(#projects)")
        .expression_attribute_names("#projects", "projects")
        .expression_attribute_names("#version", attr::VERSION)
        .expression_attribute_values(":projects", value)
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .expression_attribute_values(
            ":expected",
            AttributeValue::N(membership.version.to_string()),
        )
        .send()
        .await;
    match written {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
        {
            Ok(false)
        }
        Err(e) => Err(StoreError::from_sdk(e).into()),
    }
}

/// Pass 4: scans memberships without a summary (a re-run after an interruption finds only
/// those left) and summarises each.
pub(super) async fn summarise_all(run: &Run<'_>) -> Result<(), MigrationError> {
    let filter = memberships_filter()
        .and(Expression::new("attribute_not_exists(#projects)").name("#projects", "projects"));
    let mut start = None;
    let mut done = 0u64;
    loop {
        run.lease.check()?;
        let page = run
            .store
            .client()
            .scan()
            .table_name(run.store.table())
            .consistent_read(true)
            .limit(PAGE)
            .filter_expression(&filter.text)
            .set_expression_attribute_names(Some(filter.names.clone()))
            .set_expression_attribute_values(Some(filter.values.clone()))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        let items = page.items.unwrap_or_default();
        done += items.len() as u64;
        stream::iter(items.into_iter().map(Ok::<_, MigrationError>))
            .map_ok(|item| summarise(run, item))
            .try_buffer_unordered(SUMMARIES_IN_FLIGHT)
            .try_collect::<Vec<()>>()
            .await?;
        run.progress.line(&format!(
            "migration 3 up: pass summaries: {done} membership(s) summarised"
        ));
        start = page.last_evaluated_key;
        if start.is_none() {
            return Ok(());
        }
    }
}

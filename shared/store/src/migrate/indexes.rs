//! Table-level steps: adding or removing a global secondary index on a live table (DynamoDB
//! builds it in the background while the table keeps serving; we wait until it is active,
//! reporting its status), table settings (time to live, deletion protection), and the drift
//! check of `dispatch database check`.

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, CreateGlobalSecondaryIndexAction, DeleteGlobalSecondaryIndexAction,
    GlobalSecondaryIndexUpdate, IndexStatus, KeyType, ScalarAttributeType, TableDescription,
    TimeToLiveStatus,
};

use super::{MigrationError, Run};
use crate::schema::{INDEXES, IndexSpec, key_schema, projection};
use crate::{StoreError, keys::attr};

/// How often an index being built is looked at.
const POLL: Duration = Duration::from_millis(500);
/// How long one run waits for an index (a large table's backfill can take hours: the run stops
/// with a clear message and the next one keeps waiting, the index being built meanwhile).
const MAX_WAIT: Duration = Duration::from_secs(3_600);

async fn describe(run: &Run<'_>) -> Result<TableDescription, StoreError> {
    run.store
        .client()
        .describe_table()
        .table_name(run.store.table())
        .send()
        .await
        .map_err(StoreError::from_sdk)?
        .table
        .ok_or_else(|| StoreError::Sdk("DescribeTable returned no table".into()))
}

fn index_status(table: &TableDescription, name: &str) -> Option<IndexStatus> {
    table
        .global_secondary_indexes()
        .iter()
        .find(|i| i.index_name() == Some(name))
        .map(|i| i.index_status().cloned().unwrap_or(IndexStatus::Creating))
}

fn string_attribute(name: &str) -> Result<AttributeDefinition, StoreError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(|e| StoreError::Sdk(e.to_string()))
}

/// Adds `index` (string keys) unless it exists, then waits until it is active.
pub async fn add_index(run: &Run<'_>, index: IndexSpec) -> Result<(), MigrationError> {
    if index_status(&describe(run).await?, index.name).is_none() {
        let create = CreateGlobalSecondaryIndexAction::builder()
            .index_name(index.name)
            .set_key_schema(Some(key_schema(index.partition_key, index.sort_key)?))
            .projection(projection(index))
            .build()
            .map_err(|e| StoreError::Sdk(e.to_string()))?;
        run.store
            .client()
            .update_table()
            .table_name(run.store.table())
            .attribute_definitions(string_attribute(index.partition_key)?)
            .attribute_definitions(string_attribute(index.sort_key)?)
            .global_secondary_index_updates(
                GlobalSecondaryIndexUpdate::builder().create(create).build(),
            )
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        run.progress
            .line(&format!("index {}: creation requested", index.name));
    }
    wait(run, index.name, Some(IndexStatus::Active)).await
}

/// Turns time to live on (on the `ttl` attribute the schema uses), if it is off.
pub async fn enable_ttl(run: &Run<'_>) -> Result<(), MigrationError> {
    run.lease.check()?;
    crate::schema::ensure_ttl(run.store.client(), run.store.table()).await?;
    run.progress
        .line(&format!("time to live: on (`{}`)", attr::TTL));
    Ok(())
}

/// Turns deletion protection on or off (a table that holds production data should refuse
/// `DeleteTable` until an operator turns it off on purpose).
pub async fn set_deletion_protection(run: &Run<'_>, enabled: bool) -> Result<(), MigrationError> {
    run.lease.check()?;
    run.store
        .client()
        .update_table()
        .table_name(run.store.table())
        .deletion_protection_enabled(enabled)
        .send()
        .await
        .map_err(StoreError::from_sdk)?;
    run.progress.line(&format!(
        "deletion protection: {}",
        if enabled { "on" } else { "off" }
    ));
    Ok(())
}

/// Removes the index `name` if it exists, and waits until it is gone.
pub async fn remove_index(run: &Run<'_>, name: &str) -> Result<(), MigrationError> {
    if index_status(&describe(run).await?, name).is_some() {
        let delete = DeleteGlobalSecondaryIndexAction::builder()
            .index_name(name)
            .build()
            .map_err(|e| StoreError::Sdk(e.to_string()))?;
        run.store
            .client()
            .update_table()
            .table_name(run.store.table())
            .global_secondary_index_updates(
                GlobalSecondaryIndexUpdate::builder().delete(delete).build(),
            )
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        run.progress
            .line(&format!("index {name}: removal requested"));
    }
    wait(run, name, None).await
}

/// Polls until the index has status `until` (`None`: it is gone), reporting each change.
async fn wait(run: &Run<'_>, name: &str, until: Option<IndexStatus>) -> Result<(), MigrationError> {
    let mut last = None;
    let started = std::time::Instant::now();
    loop {
        run.lease.check()?;
        if started.elapsed() > MAX_WAIT {
            return Err(MigrationError::Invalid(format!(
                "index {name} did not reach {} within {} minutes; run the upgrade again to keep waiting",
                until.as_ref().map_or("removal", |s| s.as_str()),
                MAX_WAIT.as_secs() / 60
            )));
        }
        let described = describe(run).await?;
        let mut status = index_status(&described, name);
        let settled = matches!(
            (&status, &until),
            (Some(IndexStatus::Creating), Some(IndexStatus::Active))
                | (Some(IndexStatus::Deleting), None)
        );
        if settled && is_dynamodb_local(&described) {
            // DynamoDB Local (1.25) never finishes an index change on a live table: it reports
            // CREATING (or DELETING) forever, and fails queries on a new index. Waiting would
            // never end; AWS finishes them.
            run.progress.line(&format!(
                "index {name}: DynamoDB Local never finishes index changes on a live table; not waiting"
            ));
            status = until.clone();
        }
        if status == until {
            run.progress.line(&format!(
                "index {name}: {}",
                status.as_ref().map_or("removed", |s| s.as_str())
            ));
            return Ok(());
        }
        // Being built, the index vanished (its creation failed, or someone removed it).
        if until.is_some() && status.is_none() {
            return Err(MigrationError::Invalid(format!(
                "index {name} disappeared while it was being created"
            )));
        }
        if status != last {
            run.progress.line(&format!(
                "index {name}: {}",
                status.as_ref().map_or("absent", |s| s.as_str())
            ));
            last = status;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// DynamoDB Local's table ARNs are in the pseudo-region `ddblocal`.
fn is_dynamodb_local(table: &TableDescription) -> bool {
    table
        .table_arn()
        .is_some_and(|arn| arn.contains(":ddblocal:"))
}

/// How the live table differs from the schema this build expects (`expected`, normally
/// [`INDEXES`]): missing or extra indexes, wrong key schemas or projections, TTL off. Empty
/// when it matches.
pub async fn drift(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    expected: &[IndexSpec],
) -> Result<Vec<String>, StoreError> {
    let described = client
        .describe_table()
        .table_name(table)
        .send()
        .await
        .map_err(StoreError::from_sdk)?;
    let Some(live) = described.table else {
        return Ok(vec![format!("table {table} does not exist")]);
    };
    let mut problems = Vec::new();
    let keys_of = |schema: &[aws_sdk_dynamodb::types::KeySchemaElement]| {
        let find = |kind: KeyType| {
            schema
                .iter()
                .find(|k| *k.key_type() == kind)
                .map(|k| k.attribute_name().to_owned())
        };
        (find(KeyType::Hash), find(KeyType::Range))
    };
    if keys_of(live.key_schema()) != (Some(attr::PK.into()), Some(attr::SK.into())) {
        problems.push(format!(
            "table key schema is {:?}, expected ({}, {})",
            keys_of(live.key_schema()),
            attr::PK,
            attr::SK
        ));
    }
    // An index being deleted is as good as gone.
    let live_indexes: Vec<_> = live
        .global_secondary_indexes()
        .iter()
        .filter(|i| i.index_status() != Some(&IndexStatus::Deleting))
        .collect();
    for index in expected {
        let Some(found) = live_indexes
            .iter()
            .find(|i| i.index_name() == Some(index.name))
        else {
            problems.push(format!("index {} is missing", index.name));
            continue;
        };
        let wanted = (
            Some(index.partition_key.to_owned()),
            Some(index.sort_key.to_owned()),
        );
        if keys_of(found.key_schema()) != wanted {
            problems.push(format!(
                "index {} has keys {:?}, expected {wanted:?}",
                index.name,
                keys_of(found.key_schema())
            ));
        }
        let projected = found
            .projection()
            .and_then(|p| p.projection_type().cloned());
        if projected != projection(*index).projection_type().cloned() {
            problems.push(format!(
                "index {} projects {:?}, expected {:?}",
                index.name,
                projected,
                projection(*index).projection_type()
            ));
        }
    }
    for found in &live_indexes {
        let name = found.index_name().unwrap_or_default();
        if !expected.iter().any(|i| i.name == name) {
            problems.push(format!("index {name} is not in this build's schema"));
        }
    }
    let ttl = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(StoreError::from_sdk)?;
    let ttl = ttl.time_to_live_description();
    let ttl_on = ttl
        .and_then(|d| d.time_to_live_status())
        .is_some_and(|s| matches!(s, TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling));
    if !ttl_on || ttl.and_then(|d| d.attribute_name()) != Some(attr::TTL) {
        problems.push(format!("time to live is not enabled on `{}`", attr::TTL));
    }
    Ok(problems)
}

/// The indexes this build expects.
pub fn expected_indexes() -> &'static [IndexSpec] {
    &INDEXES
}

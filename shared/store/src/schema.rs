//! The table's physical schema (keys, indexes, TTL) and the code that creates it.
//!
//! `template.yaml` declares the same table for deployments; a test compares the two.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
};

use super::StoreError;
use super::keys::attr;

/// The schema version this code writes and expects; recorded in the table by `database init`.
pub const SCHEMA_VERSION: u32 = 1;

/// One global secondary index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexSpec {
    pub name: &'static str,
    pub partition_key: &'static str,
    pub sort_key: &'static str,
    /// `true`: the index projects every attribute; `false`: keys only (the list layer reads
    /// keys to skip and to page, then fetches the page's items).
    pub projects_all: bool,
}

/// GSI1: alternate lookups (a user's memberships and project links, a project's instances, the
/// whole plugin catalogue under `PLUGINS`).
pub const GSI1: IndexSpec = IndexSpec {
    name: "gsi1",
    partition_key: attr::GSI1PK,
    sort_key: attr::GSI1SK,
    projects_all: true,
};
/// First sort order of every list collection (name, email, slug).
pub const LIST1: IndexSpec = IndexSpec {
    name: "list1",
    partition_key: attr::LIST_PK,
    sort_key: attr::LIST_SK1,
    projects_all: false,
};
/// Second sort order (display name, title).
pub const LIST2: IndexSpec = IndexSpec {
    name: "list2",
    partition_key: attr::LIST_PK,
    sort_key: attr::LIST_SK2,
    projects_all: false,
};
/// Third sort order (plugin type).
pub const LIST3: IndexSpec = IndexSpec {
    name: "list3",
    partition_key: attr::LIST_PK,
    sort_key: attr::LIST_SK3,
    projects_all: false,
};

/// An organization's members by email, with every attribute: a members page is one Query,
/// without the `BatchGetItem` of a keys-only list index (schema version 4). Sparse: only
/// memberships have [`attr::MEMBERS_SK`], so it holds nothing else; memberships stay in
/// [`LIST1`] too, for builds before version 4.
pub const MEMBERS: IndexSpec = IndexSpec {
    name: "members",
    partition_key: attr::LIST_PK,
    sort_key: attr::MEMBERS_SK,
    projects_all: true,
};

/// An organization's plugin instances by plugin slug, with every attribute: an instances page
/// is one Query and one `BatchGetItem` of the plugins and projects it shows, without the
/// `BatchGetItem` of the instances themselves (schema version 5). Sparse like [`MEMBERS`]:
/// only instances have [`attr::INSTANCES_SK`]; they stay in [`LIST1`] too.
pub const INSTANCES: IndexSpec = IndexSpec {
    name: "instances",
    partition_key: attr::LIST_PK,
    sort_key: attr::INSTANCES_SK,
    projects_all: true,
};

/// Every index of the table.
pub const INDEXES: [IndexSpec; 6] = [GSI1, LIST1, LIST2, LIST3, MEMBERS, INSTANCES];

/// String key attributes (every key attribute of the table and its indexes is a string).
pub fn key_attributes() -> Vec<&'static str> {
    let mut names = vec![attr::PK, attr::SK];
    for index in INDEXES {
        for name in [index.partition_key, index.sort_key] {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

pub(crate) fn key_schema(partition: &str, sort: &str) -> Result<Vec<KeySchemaElement>, StoreError> {
    let element = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .map_err(|e| StoreError::Sdk(e.to_string()))
    };
    Ok(vec![
        element(partition, KeyType::Hash)?,
        element(sort, KeyType::Range)?,
    ])
}

/// What an index projects: every attribute, or its keys only.
pub(crate) fn projection(index: IndexSpec) -> Projection {
    Projection::builder()
        .projection_type(if index.projects_all {
            ProjectionType::All
        } else {
            ProjectionType::KeysOnly
        })
        .build()
}

/// What [`ensure_table`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableOutcome {
    Created,
    AlreadyExisted,
}

/// Creates the table (on-demand, with its indexes and TTL) unless it exists, and waits until it
/// is active. Idempotent.
pub async fn ensure_table(client: &Client, table: &str) -> Result<TableOutcome, StoreError> {
    let exists = match client.describe_table().table_name(table).send().await {
        Ok(_) => true,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            false
        }
        Err(e) => return Err(StoreError::from_sdk(e)),
    };
    let outcome = if exists {
        TableOutcome::AlreadyExisted
    } else {
        create_table(client, table).await?;
        TableOutcome::Created
    };
    wait_until_active(client, table).await?;
    ensure_ttl(client, table).await?;
    Ok(outcome)
}

async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
    let mut request = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_schema(attr::PK, attr::SK)?));
    for name in key_attributes() {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| StoreError::Sdk(e.to_string()))?,
        );
    }
    for index in INDEXES {
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(index.name)
                .set_key_schema(Some(key_schema(index.partition_key, index.sort_key)?))
                .projection(projection(index))
                .build()
                .map_err(|e| StoreError::Sdk(e.to_string()))?,
        );
    }
    match request.send().await {
        Ok(_) => Ok(()),
        // Someone else created it meanwhile: fine, we only wanted it to exist.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(StoreError::from_sdk(e)),
    }
}

async fn wait_until_active(client: &Client, table: &str) -> Result<(), StoreError> {
    for _ in 0..600 {
        let described = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        let status = described.table().and_then(|t| t.table_status().cloned());
        if status == Some(TableStatus::Active) {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Err(StoreError::Sdk(format!(
        "table {table} did not become active"
    )))
}

/// Turns time to live on for the `ttl` attribute unless it is on (idempotent; also a table
/// setting a migration may need, see `migrate::indexes::enable_ttl`).
pub async fn ensure_ttl(client: &Client, table: &str) -> Result<(), StoreError> {
    let current = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(StoreError::from_sdk)?;
    let enabled = current
        .time_to_live_description()
        .and_then(|d| d.time_to_live_status())
        .is_some_and(|s| matches!(s, TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling));
    if enabled {
        return Ok(());
    }
    let spec = TimeToLiveSpecification::builder()
        .attribute_name(attr::TTL)
        .enabled(true)
        .build()
        .map_err(|e| StoreError::Sdk(e.to_string()))?;
    match client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(spec)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        // A concurrent `database init` enabled it between our check and our update.
        Err(e)
            if e.message()
                .is_some_and(|m| m.contains("TimeToLive is already")) =>
        {
            Ok(())
        }
        Err(e) => Err(StoreError::from_sdk(e)),
    }
}

/// The schema version `database init` recorded in the table: `None` before it has run (a
/// marker without a readable version reads as 0, which no build expects).
pub async fn recorded_version(store: &crate::Store) -> Result<Option<i64>, StoreError> {
    Ok(store
        .get_attributes(&crate::keys::schema())
        .await?
        .map(|item| crate::item::number_attribute(&item, "schema_version").unwrap_or(0)))
}

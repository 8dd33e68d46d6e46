//! Migration 5: the instances index, which makes an instances page one Query and one
//! `BatchGetItem` of the plugins and projects it shows, instead of a keys Query, a
//! `BatchGetItem` of the page's instances and then that one.
//!
//! `up` gives every plugin instance its place in the index (`instances_sk`, the plugin-slug
//! order it already has as `list_sk1`), then adds the index (`dispatch_store::schema::INSTANCES`,
//! every attribute projected), which DynamoDB fills from those attributes; it waits until the
//! index is active, so readers that see version 5 can query it. This build writes
//! `instances_sk` on every instance it stores, so deploy it before upgrading (a build before
//! version 5 rewrites an instance without it: enabling, configuring).
//!
//! The item write copies `list_sk1` inside DynamoDB (`SET instances_sk = list_sk1`), on
//! condition that the instance still exists and has no `instances_sk` yet: an instance changed
//! or deleted meanwhile is never given a stale order or brought back.
//!
//! `down` keeps the index and the attributes, for the reasons migration 4 gives: builds before
//! version 5 neither read nor need them, and a function of this build still warm after the
//! downgrade keeps reading the index it started with instead of failing. An instance that an
//! older build rewrites meanwhile leaves the index until `up` runs again and puts it back.

use aws_sdk_dynamodb::types::AttributeValue;
use dispatch_store::item::Attributes;
use dispatch_store::keys::attr;
use dispatch_store::migrate::indexes::add_index;
use dispatch_store::migrate::items::{ItemPass, ItemWrite, run_pass};
use dispatch_store::migrate::{BoxFuture, Migration, MigrationError, Run};
use dispatch_store::schema::INSTANCES;
use dispatch_store::{Expression, item::key_of};

/// See the module documentation.
pub struct InstancesIndex;

const SEGMENTS: u32 = 4;
/// Items per scan page: a checkpoint per page, so a resumed run reads at most this many again
/// per segment.
const PAGE: i32 = 100;

/// Plugin instances listed by plugin slug and not in the instances index yet.
fn candidates() -> Expression {
    Expression::new(
        "#entity = :instance AND attribute_exists(#sk1) AND attribute_not_exists(#instances_sk)",
    )
    .name("#entity", attr::ENTITY)
    .name("#sk1", attr::LIST_SK1)
    .name("#instances_sk", attr::INSTANCES_SK)
    .value(":instance", AttributeValue::S("PluginInstance".into()))
}

/// The write that puts one instance into the instances index.
fn place_in_index(item: &Attributes) -> Vec<ItemWrite> {
    vec![ItemWrite::Update {
        key: key_of(item),
        update: Expression::new("SET #instances_sk = #sk1")
            .name("#instances_sk", attr::INSTANCES_SK)
            .name("#sk1", attr::LIST_SK1),
        condition: Expression::new(
            "attribute_exists(#sk1) AND attribute_not_exists(#instances_sk)",
        )
        .name("#sk1", attr::LIST_SK1)
        .name("#instances_sk", attr::INSTANCES_SK),
    }]
}

impl Migration for InstancesIndex {
    fn id(&self) -> u32 {
        5
    }

    fn description(&self) -> &'static str {
        "add the instances index, which reads an instances page's instances in its Query"
    }

    fn checksum(&self) -> String {
        super::checksum(include_str!("m0005_instances_index.rs"))
    }

    fn up<'a>(&'a self, run: &'a Run<'a>) -> BoxFuture<'a, Result<(), MigrationError>> {
        Box::pin(async move {
            let pass = ItemPass {
                name: "instances_sk",
                filter: Some(candidates()),
                segments: SEGMENTS,
                page_size: PAGE,
                transform: &place_in_index,
            };
            run_pass(run, &pass).await?;
            add_index(run, INSTANCES).await
        })
    }

    fn reversible(&self) -> bool {
        true
    }

    fn down<'a>(&'a self, _run: &'a Run<'a>) -> BoxFuture<'a, Result<(), MigrationError>> {
        // Nothing to undo: see the module documentation.
        Box::pin(async { Ok(()) })
    }
}

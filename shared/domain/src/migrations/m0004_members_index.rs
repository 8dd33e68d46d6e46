//! Migration 4: the members index, which makes a members page one Query instead of a keys
//! Query and a `BatchGetItem` of the page's memberships.
//!
//! `up` gives every membership its place in the index (`members_sk`, the email order it
//! already has as `list_sk1`), then adds the index (`dispatch_store::schema::MEMBERS`,
//! every attribute projected), which DynamoDB fills from those attributes; it waits until the
//! index is active, so readers that see version 4 can query it. This build writes
//! `members_sk` on every membership it stores, so deploy it before upgrading (a build before
//! version 4 rewrites a membership without it).
//!
//! The item write copies `list_sk1` inside DynamoDB (`SET members_sk = list_sk1`), on
//! condition that the membership still exists and has no `members_sk` yet: a membership
//! changed or removed meanwhile is never given a stale order or brought back.
//!
//! `down` keeps the index and the attributes: builds before version 4 neither read nor need
//! them (`dispatch database check` of such a build reports the index as not in its schema),
//! and a function of this build still warm after the downgrade keeps reading the index it
//! started with instead of failing. A membership that an older build rewrites meanwhile
//! leaves the index until `up` runs again and puts it back.

use aws_sdk_dynamodb::types::AttributeValue;
use dispatch_store::item::Attributes;
use dispatch_store::keys::attr;
use dispatch_store::migrate::indexes::add_index;
use dispatch_store::migrate::items::{ItemPass, ItemWrite, run_pass};
use dispatch_store::migrate::{BoxFuture, Migration, MigrationError, Run};
use dispatch_store::schema::MEMBERS;
use dispatch_store::{Expression, item::key_of};

/// See the module documentation.
pub struct MembersIndex;

const SEGMENTS: u32 = 4;
/// Items per scan page: a checkpoint per page, so a resumed run reads at most this many again
/// per segment.
const PAGE: i32 = 100;

/// Memberships listed by email and not in the members index yet.
fn candidates() -> Expression {
    Expression::new(
        "#entity = :membership AND attribute_exists(#sk1) AND attribute_not_exists(#members_sk)",
    )
    .name("#entity", attr::ENTITY)
    .name("#sk1", attr::LIST_SK1)
    .name("#members_sk", attr::MEMBERS_SK)
    .value(":membership", AttributeValue::S("Membership".into()))
}

/// The write that puts one membership into the members index.
fn place_in_index(item: &Attributes) -> Vec<ItemWrite> {
    vec![ItemWrite::Update {
        key: key_of(item),
        update: Expression::new("SET #members_sk = #sk1")
            .name("#members_sk", attr::MEMBERS_SK)
            .name("#sk1", attr::LIST_SK1),
        condition: Expression::new("attribute_exists(#sk1) AND attribute_not_exists(#members_sk)")
            .name("#sk1", attr::LIST_SK1)
            .name("#members_sk", attr::MEMBERS_SK),
    }]
}

impl Migration for MembersIndex {
    fn id(&self) -> u32 {
        4
    }

    fn description(&self) -> &'static str {
        "add the members index, which reads a members page in one Query"
    }

    fn checksum(&self) -> String {
        super::checksum(include_str!("m0004_members_index.rs"))
    }

    fn up<'a>(&'a self, run: &'a Run<'a>) -> BoxFuture<'a, Result<(), MigrationError>> {
        Box::pin(async move {
            let pass = ItemPass {
                name: "members_sk",
                filter: Some(candidates()),
                segments: SEGMENTS,
                page_size: PAGE,
                transform: &place_in_index,
            };
            run_pass(run, &pass).await?;
            add_index(run, MEMBERS).await
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

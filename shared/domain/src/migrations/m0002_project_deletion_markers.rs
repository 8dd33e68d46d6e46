//! Migration 2: projects hidden by a deletion that was interrupted before this version get
//! the pending-deletion marker that lets it be finished.
//!
//! This build's project `DELETE` writes a marker (`PENDING_PROJECT_DELETIONS /
//! ORG#<slug>#PROJECT#<id>`) in the transaction that hides the project, and whatever finishes
//! pending deletions removes the rest. A project hidden by an older build and never finished
//! has no marker, so nothing would ever remove its items. `up` writes the missing markers
//! (put only if absent). `down` removes every project marker, those this build's own deletions
//! wrote included: a deletion interrupted after that is finished only by a repeated `DELETE`
//! of the project (the projects stay hidden either way).

use aws_sdk_dynamodb::types::AttributeValue;
use dispatch_store::item::Attributes;
use dispatch_store::keys::{self, attr};
use dispatch_store::migrate::items::{ItemPass, ItemWrite, run_pass};
use dispatch_store::migrate::{BoxFuture, Migration, MigrationError, Run};
use dispatch_store::{Expression, Key};

/// See the module documentation.
pub struct ProjectDeletionMarkers;

const SEGMENTS: u32 = 4;
/// Items per scan page: a checkpoint per page, so a resumed run reads at most this many again
/// per segment.
const PAGE: i32 = 100;

fn string<'a>(item: &'a Attributes, name: &str) -> Option<&'a str> {
    item.get(name)?.as_s().ok().map(String::as_str)
}

/// The marker a hidden project item needs.
fn marker_for(item: &Attributes) -> Vec<ItemWrite> {
    let slug = string(item, attr::PK).and_then(|pk| pk.strip_prefix("ORG#"));
    let id = string(item, attr::SK)
        .and_then(|sk| sk.strip_prefix("PROJECT#"))
        .and_then(|id| id.parse::<i32>().ok());
    match (slug, id) {
        (Some(slug), Some(id)) if !slug.contains('#') => {
            vec![ItemWrite::PutNew(crate::project_delete::pending_marker(
                slug, id,
            ))]
        }
        _ => vec![],
    }
}

/// Removes a project's marker (version 1 had none).
fn remove_marker(item: &Attributes) -> Vec<ItemWrite> {
    match (string(item, attr::PK), string(item, attr::SK)) {
        (Some(pk), Some(sk)) => vec![ItemWrite::Delete {
            key: Key::new(pk, sk),
            condition: Expression::item_present(),
        }],
        _ => vec![],
    }
}

impl Migration for ProjectDeletionMarkers {
    fn id(&self) -> u32 {
        2
    }

    fn description(&self) -> &'static str {
        "give projects hidden by an interrupted deletion their pending-deletion marker"
    }

    fn checksum(&self) -> String {
        super::checksum(include_str!("m0002_project_deletion_markers.rs"))
    }

    fn up<'a>(&'a self, run: &'a Run<'a>) -> BoxFuture<'a, Result<(), MigrationError>> {
        Box::pin(async move {
            let filter = Expression::new("begins_with(#sk, :project) AND #deleted = :true")
                .name("#sk", attr::SK)
                .name("#deleted", "deleted")
                .value(":project", AttributeValue::S("PROJECT#".into()))
                .value(":true", AttributeValue::Bool(true));
            let pass = ItemPass {
                name: "markers",
                filter: Some(filter),
                segments: SEGMENTS,
                page_size: PAGE,
                transform: &marker_for,
            };
            run_pass(run, &pass).await.map(|_| ())
        })
    }

    fn reversible(&self) -> bool {
        true
    }

    fn down<'a>(&'a self, run: &'a Run<'a>) -> BoxFuture<'a, Result<(), MigrationError>> {
        Box::pin(async move {
            let filter = Expression::new("#pk = :pending")
                .name("#pk", attr::PK)
                .value(
                    ":pending",
                    AttributeValue::S(keys::PENDING_PROJECT_DELETIONS.into()),
                );
            let pass = ItemPass {
                name: "markers",
                filter: Some(filter),
                segments: SEGMENTS,
                page_size: PAGE,
                transform: &remove_marker,
            };
            run_pass(run, &pass).await.map(|_| ())
        })
    }
}

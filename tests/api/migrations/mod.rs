//! Schema migrations against DynamoDB Local: a table at the previous version upgraded and
//! checked item by item, a run killed halfway resumed from its checkpoints, down and up again
//! (`runs`); concurrent runners, lost leases, Ctrl-C and the operator's commands (`lock`);
//! table-level steps and the versions functions start with (`index_step`); the members
//! index of version 4 as the members page sees it, before, during and after its migration
//! (`members_index`); the instances index of version 5 as the instances page sees it
//! (`instances_index`).

mod index_step;
pub(crate) mod instances_index;
mod interleave;
mod lock;
mod members_index;
mod runs;

use std::time::Duration;

use dispatch_domain::migrations;
use dispatch_shared::AppState;
use dispatch_store::migrate::lock::Lease;
use dispatch_store::migrate::runner::Runner;
use dispatch_store::migrate::{Migration, Silent};
use dispatch_store::{Store, keys};
use http::StatusCode;

use crate::helpers::{TestApp, authed, spawn_app};

pub const PASSWORD: &str = "correct horse battery staple";

/// Every item index `index` holds in partition `list_pk = pk`, in the index's order.
pub async fn index_partition(
    store: &Store,
    index: &str,
    pk: String,
) -> Vec<dispatch_store::Attributes> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = store
            .client()
            .query()
            .table_name(store.table())
            .index_name(index)
            .key_condition_expression("list_pk = :pk")
            .expression_attribute_values(
                ":pk",
                aws_sdk_dynamodb::types::AttributeValue::S(pk.clone()),
            )
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        start = page.last_evaluated_key;
        items.extend(page.items.unwrap_or_default());
        if start.is_none() {
            return items;
        }
    }
}

/// Removes attribute `name` from each of `items` (what a build before it wrote), then stamps
/// the table at `version`.
pub async fn as_written_before(
    store: &Store,
    items: &[dispatch_store::Attributes],
    name: &str,
    version: u32,
) {
    for item in items {
        store
            .client()
            .update_item()
            .table_name(store.table())
            .key("pk", item["pk"].clone())
            .key("sk", item["sk"].clone())
            .update_expression("REMOVE #name")
            .expression_attribute_names("#name", name)
            .send()
            .await
            .unwrap();
    }
    runner(store, &migrations::all(), "test")
        .stamp(version)
        .await
        .unwrap();
}

/// A runner over `migrations` with a short lease (so a "crashed" runner's lease ends quickly).
pub fn runner<'a>(
    store: &'a Store,
    migrations: &'a [Box<dyn Migration>],
    holder: &str,
) -> Runner<'a> {
    Runner {
        store,
        migrations,
        holder: holder.to_owned(),
        lease: Duration::from_secs(2),
        progress: &Silent,
    }
}

/// A runner whose lease outlasts table-level steps: DynamoDB Local on a loaded machine can
/// take longer than [`runner`]'s short lease to answer an `UpdateTable`, which would make the
/// runner give up as if it had lost the lock.
pub fn patient_runner<'a>(
    store: &'a Store,
    migrations: &'a [Box<dyn Migration>],
    holder: &str,
) -> Runner<'a> {
    Runner {
        lease: Duration::from_secs(60),
        ..runner(store, migrations, holder)
    }
}

/// The state a function of this build builds when it starts on `app`'s table at schema
/// `version`: its readers depend on that version, so a test can serve the same table as a
/// function started before an upgrade and as one started after it.
pub fn state_at(app: &TestApp, version: u32) -> AppState {
    AppState::at_version(
        app.state.config().clone(),
        app.store.clone(),
        app.state.secrets().clone(),
        version,
    )
}

/// A table as version 1 left it: initialised, an Owner, `live` projects and `hidden`
/// projects whose deletion an older build interrupted (hidden, no marker), stamped at 1.
pub async fn table_at_version_1(live: usize, hidden: usize) -> (TestApp, Vec<i32>, Vec<i32>) {
    let app = spawn_app().await;
    let owner = app
        .registered_with_role(
            "owner@example.com",
            PASSWORD,
            dispatch_domain::model::Role::Owner,
        )
        .await;
    let mut live_ids = Vec::new();
    let mut hidden_ids = Vec::new();
    for n in 0..live + hidden {
        let project = app
            .post_project(&owner, "default", &format!("proj{n}"))
            .await;
        let id = project["id"].as_i64().unwrap() as i32;
        if n < live {
            live_ids.push(id);
            continue;
        }
        dispatch_domain::project_delete::hide(&app.store, "default", id)
            .await
            .unwrap();
        // What a version-1 build left: the project hidden, no marker.
        app.store
            .delete_batch(&[keys::pending_project_deletion("default", id)])
            .await
            .unwrap();
        hidden_ids.push(id);
        let gone = app
            .send(authed(
                "GET",
                &format!("/api/v1/default/projects/{id}"),
                &owner,
            ))
            .await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND);
    }
    runner(&app.store, &migrations::all(), "test")
        .stamp(1)
        .await
        .unwrap();
    (app, live_ids, hidden_ids)
}

/// The project ids that have a pending-deletion marker.
pub async fn marked(store: &Store) -> Vec<i32> {
    let mut ids: Vec<i32> = store
        .partition_keys(keys::PENDING_PROJECT_DELETIONS)
        .await
        .unwrap()
        .iter()
        .filter_map(|k| {
            k.sk.rsplit_once("#PROJECT#")
                .and_then(|(_, id)| id.parse().ok())
        })
        .collect();
    ids.sort();
    ids
}

/// Holds the lock as `holder` until dropped.
pub async fn hold_lock(store: &Store, holder: &str) -> Lease {
    Lease::acquire(store, holder, Duration::from_secs(30))
        .await
        .unwrap()
}

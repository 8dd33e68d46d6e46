//! Migration 5, the instances index, as the instances page shows it: an organization whose
//! instances a version-4 build wrote (none of them in the index) is listed whole by a function
//! started at version 4 and, after `upgrade`, page for page the same by one started at
//! version 5, searches and filters included; what a page costs on either index; the pass's
//! writes meeting an instance deleted or rewritten after its scan.
//!
//! Every table here is created at the head version, so the index exists (see `members_index`).

use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use dispatch_domain::migrations;
use dispatch_domain::model::Role;
use dispatch_domain::plugins::changes::{InstanceChanges, update};
use dispatch_store::keys::collection;
use dispatch_store::schema::INSTANCES;
use dispatch_store::{Attributes, Key, Store, item::key_of};
use http::StatusCode;
use serde_json::Value;

use super::interleave::{Meanwhile, store_with};
use super::members_index::{get, text};
use super::{PASSWORD, index_partition, runner, state_at};
use crate::helpers::{TestApp, scan_all, spawn_app};
use crate::round_trips::{counted_state_at, get_counted, same_requests};

/// The default organization's instances by plugin slug, 25 a page (two projects of 28: three
/// pages).
const PAGE: &str =
    "/api/v1/default/plugins/instances?itemsPerPage=25&sortBy[]=Plugin.slug&descending[]=false";

/// A query string value, percent-encoded.
fn encoded(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The pages a user walks: every instance by plugin slug, the second project's (the UI's
/// project filter) and a search, each followed by cursor to its end.
fn firsts() -> Vec<String> {
    let alpha =
        encoded(r#"[{"and":[{"model":"Project","field":"name","op":"==","value":"alpha"}]}]"#);
    vec![
        PAGE.to_owned(),
        format!("{PAGE}&filter={alpha}"),
        format!("{PAGE}&q=slack"),
    ]
}

/// The default organization with an Owner and a second project, `alpha`: each project has a
/// disabled instance of every catalogue plugin, written by this build.
pub(crate) async fn populated() -> (TestApp, String) {
    let app = spawn_app().await;
    let owner = app
        .registered_with_role("owner@example.com", PASSWORD, Role::Owner)
        .await;
    app.post_project(&owner, "default", "alpha").await;
    (app, owner)
}

/// Every plugin instance item of the table.
async fn instances(store: &Store) -> Vec<Attributes> {
    scan_all(store)
        .await
        .into_iter()
        .filter(|item| text(item, "entity") == Some("PluginInstance"))
        .collect()
}

/// [`populated`] as a version-4 build left it: no instance has `instances_sk`, and the table
/// is stamped at 4.
async fn unmigrated() -> (TestApp, String, usize) {
    let (app, owner) = populated().await;
    let all = instances(&app.store).await;
    super::as_written_before(&app.store, &all, "instances_sk", 4).await;
    (app, owner, all.len())
}

/// The instance ids the instances index holds for the default organization, in its order.
async fn in_index(store: &Store) -> Vec<i64> {
    index_partition(
        store,
        INSTANCES.name,
        collection::plugin_instances("default"),
    )
    .await
    .iter()
    .filter_map(|item| item.get("id")?.as_n().ok()?.parse::<i64>().ok())
    .collect()
}

/// The ids a page lists, in order.
fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a page: {page}"))
        .iter()
        .map(|item| item["id"].as_i64().unwrap())
        .collect()
}

/// Each walk's pages, from its first to the one without a cursor, with cursors (which carry
/// an expiry time) replaced by whether there is one.
async fn walk(state: &dispatch_shared::AppState, token: &str) -> Vec<Vec<Value>> {
    let mut walks = Vec::new();
    for first in firsts() {
        let mut pages = Vec::new();
        let mut page = get(state, &first, token).await;
        loop {
            let next = page["next"].as_str().map(str::to_owned);
            page["next"] = Value::Bool(next.is_some());
            pages.push(page);
            let Some(next) = next else { break };
            page = get(state, &format!("{first}&cursor={next}"), token).await;
        }
        walks.push(pages);
    }
    walks
}

/// A version-4 function lists instances a version-4 build wrote, which the index alone would
/// miss; `upgrade` places each under its plugin-slug order, and a version-5 function then
/// serves the same pages, continuing a version-4 function's cursor.
#[tokio::test]
async fn instances_written_before_the_index_are_served_the_same_before_and_after_the_upgrade() {
    let (app, owner, count) = unmigrated().await;
    assert_eq!(count, 56, "two projects, 28 plugins");
    let before = walk(&state_at(&app, 4), &owner).await;
    let listed: Vec<i64> = before[0].iter().flat_map(ids).collect();
    assert_eq!(listed.len(), count, "three pages, every instance once");
    let mut unique = listed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), count);
    assert_eq!(before[0][0]["total"], count);
    let alpha: Vec<&Value> = before[1]
        .iter()
        .flat_map(|p| p["items"].as_array().unwrap())
        .collect();
    assert_eq!(alpha.len(), 28);
    assert!(alpha.iter().all(|i| i["project"]["name"] == "alpha"));
    let slack: Vec<i64> = before[2].iter().flat_map(ids).collect();
    assert!(!slack.is_empty() && slack.len() < count, "{slack:?}");

    // Read from the index, these instances do not exist: what version 5 would show unmigrated.
    assert_eq!(in_index(&app.store).await, Vec::<i64>::new());
    let early = get(&state_at(&app, 5), PAGE, &owner).await;
    assert_eq!(ids(&early), Vec::<i64>::new(), "{early}");

    let all = migrations::all();
    let entries = runner(&app.store, &all, "op").migrate(5).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0].from_version, entries[0].to_version), (4, 5));
    assert_eq!(
        entries[0].items_touched, count as u64,
        "one write per instance"
    );
    for instance in instances(&app.store).await {
        assert_eq!(text(&instance, "instances_sk"), text(&instance, "list_sk1"));
    }
    assert_eq!(in_index(&app.store).await, listed);

    assert_eq!(walk(&state_at(&app, 5), &owner).await, before);
    let first = get(&state_at(&app, 4), PAGE, &owner).await;
    let cursor = first["next"].as_str().unwrap();
    let continued = get(
        &state_at(&app, 5),
        &format!("{PAGE}&cursor={cursor}"),
        &owner,
    )
    .await;
    assert_eq!(ids(&continued), ids(&before[0][1]));

    assert!(
        runner(&app.store, &all, "op")
            .migrate(5)
            .await
            .unwrap()
            .is_empty()
    );
    let down = runner(&app.store, &all, "op").migrate(4).await.unwrap();
    assert_eq!(
        (down[0].direction.as_str(), down[0].items_touched),
        ("down", 0)
    );
    assert_eq!(in_index(&app.store).await, listed, "down keeps the index");
}

/// A page costs the permission read, the index query and one `BatchGetItem` of its plugins
/// and projects on the instances index, one `BatchGetItem` more (its instances) on the
/// keys-only index; both show the same items, a page of 25 or every instance.
#[tokio::test]
async fn an_instances_page_costs_three_requests_on_the_instances_index_and_four_before_it() {
    let (app, owner) = populated().await;
    let (v4, log4) = counted_state_at(&app, 4).await;
    let (v5, log5) = counted_state_at(&app, 5).await;
    let every = PAGE.replace("itemsPerPage=25", "itemsPerPage=-1");
    for path in [PAGE, every.as_str()] {
        let (old, sent) = get_counted(&v4, &log4, path, &owner).await;
        assert_eq!(old.status, StatusCode::OK, "{}", old.body);
        assert!(
            same_requests(
                &sent,
                &["BatchGetItem", "Query", "BatchGetItem", "BatchGetItem"]
            ),
            "version 4: {path}: {sent:?}"
        );
        let (new, sent) = get_counted(&v5, &log5, path, &owner).await;
        assert!(
            same_requests(&sent, &["BatchGetItem", "Query", "BatchGetItem"]),
            "version 5: {path}: {sent:?}"
        );
        assert_eq!(new.body["items"], old.body["items"]);
        assert!(!ids(&new.body).is_empty());
    }
}

/// Scanned without `instances_sk`, then before the pass's write: one instance deleted (the
/// write must not bring it back, even as a fragment), another enabled by this build, which
/// rewrites it in the index (the write must not touch it, nor undo the change).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_deleted_or_rewritten_after_the_scan_is_not_overwritten() {
    let (app, owner, count) = unmigrated().await;
    let scanned = instances(&app.store).await;
    let id_of = |item: &Attributes| -> i32 { item["id"].as_n().unwrap().parse().unwrap() };
    let (gone, enabled) = (&scanned[0], &scanned[1]);
    let (gone_key, enabled_key): (Key, Key) = (key_of(gone), key_of(enabled));
    let (gone_id, enabled_id) = (id_of(gone), id_of(enabled));

    let meanwhile = Meanwhile::new("instances_sk");
    let store = app.store.clone();
    meanwhile.before(
        gone_key.clone(),
        Box::pin(async move {
            dispatch_domain::plugins::instances::delete(&store, "default", gone_id)
                .await
                .unwrap()
        }),
    );
    let (store, key) = (
        app.store.clone(),
        Arc::clone(app.state.secrets().configuration.as_ref().unwrap()),
    );
    meanwhile.before(
        enabled_key.clone(),
        Box::pin(async move {
            let changes = InstanceChanges {
                enabled: Some(true),
                configuration: Value::Null,
            };
            update(&store, &key, "default", enabled_id, &changes)
                .await
                .unwrap();
        }),
    );

    let runner_store = store_with(&app, meanwhile.clone()).await;
    let entries = runner(&runner_store, &migrations::all(), "op")
        .migrate(5)
        .await
        .unwrap();
    assert!(meanwhile.all_ran(), "every change ran");
    assert_eq!(
        entries[0].items_touched,
        count as u64 - 2,
        "neither the deleted nor the rewritten instance written"
    );
    assert_eq!(app.store.get_attributes(&gone_key).await.unwrap(), None);
    let rewritten = app
        .store
        .get_attributes(&enabled_key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rewritten["enabled"], AttributeValue::Bool(true));
    assert_eq!(
        text(&rewritten, "instances_sk"),
        text(&rewritten, "list_sk1")
    );

    let indexed = in_index(&app.store).await;
    assert_eq!(indexed.len(), count - 1);
    assert!(!indexed.contains(&i64::from(gone_id)));
    let every = PAGE.replace("itemsPerPage=25", "itemsPerPage=-1");
    let page = get(&state_at(&app, 5), &every, &owner).await;
    assert_eq!(ids(&page), indexed);
    let shown = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == enabled_id)
        .unwrap();
    assert_eq!(shown["enabled"], true);
}

/// The index holds every organization's instances, each under its own partition: one
/// organization's page never shows another's, on either index.
#[tokio::test]
async fn an_organizations_instances_page_shows_its_own_instances_only() {
    let (app, owner) = populated().await;
    let acme = app.post_organization(&owner, "Acme Corp").await;
    let acme_slug = acme["slug"].as_str().unwrap().to_owned();
    let every = |slug: &str| {
        format!(
            "/api/v1/{slug}/plugins/instances?itemsPerPage=-1&sortBy[]=Plugin.slug&descending[]=false"
        )
    };
    for version in [4, 5] {
        let state = state_at(&app, version);
        let ours = get(&state, &every("default"), &owner).await;
        let theirs = get(&state, &every(&acme_slug), &owner).await;
        let (ours, theirs) = (ids(&ours), ids(&theirs));
        assert_eq!(
            ours.len(),
            56,
            "version {version}: the default organization's two projects"
        );
        assert!(
            !theirs.is_empty(),
            "version {version}: Acme's default project has instances"
        );
        assert!(
            ours.iter().all(|id| !theirs.contains(id)),
            "version {version}: {ours:?} / {theirs:?}"
        );
    }
}

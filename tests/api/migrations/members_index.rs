//! Migration 4, the members index, as the members page shows it: an organization whose
//! memberships a version-3 build wrote (none of them in the index) is listed whole by a
//! function started at version 3 and, after `upgrade`, page for page the same by one started
//! at version 4; upgrading again, down and up again. The pass's writes meeting other writers,
//! and a run cut short: `races`; what a page costs on either index: `cost`.
//!
//! Every table here is created at the head version, so the index exists and `add_index` finds
//! it: DynamoDB Local never finishes an index added to a live table (docs/migrations.md,
//! "DynamoDB Local").

mod cost;
mod races;

use aws_sdk_dynamodb::types::AttributeValue;
use dispatch_domain::migrations;
use dispatch_domain::model::{EmailAddress, Role};
use dispatch_domain::users;
use dispatch_shared::AppState;
use dispatch_store::keys::collection;
use dispatch_store::schema::MEMBERS;
use dispatch_store::{Attributes, Store};
use http::StatusCode;
use serde_json::Value;

use super::{PASSWORD, index_partition, runner, state_at};
use crate::helpers::{TestApp, authed, call, scan_all, spawn_app};

/// The default organization's members by email, 20 a page (31 members: two pages).
pub(super) const PAGE: &str =
    "/api/v1/default/users?itemsPerPage=20&sortBy[]=email&descending[]=false";
/// The members whose email contains `m1` (m10 to m19), 5 a page.
const SEARCH: &str = "/api/v1/default/users?itemsPerPage=5&q=m1&sortBy[]=email&descending[]=false";

/// The default organization with an Owner and `members` members `m00@…`, `m01@…` (every
/// other one linked to a project as well), as this build writes them.
pub(super) async fn populated(members: usize) -> (TestApp, String) {
    let app = spawn_app().await;
    let owner = app
        .registered_with_role("owner@example.com", PASSWORD, Role::Owner)
        .await;
    let alpha = app.post_project(&owner, "default", "alpha").await["id"]
        .as_i64()
        .unwrap() as i32;
    let org = users::organization(&app.store, "default")
        .await
        .unwrap()
        .unwrap();
    for i in 0..members {
        let email = EmailAddress::parse(&format!("m{i:02}@example.com")).unwrap();
        let linked: &[i32] = if i % 2 == 0 { &[] } else { &[alpha] };
        users::create_with_projects(
            &app.store,
            &email,
            "unused".into(),
            &[(&org, Role::Member, linked)],
        )
        .await
        .unwrap();
    }
    (app, owner)
}

/// [`populated`] as a version-3 build left it: no membership has `members_sk` (a build before
/// the index never writes it), and the table is stamped at 3.
pub(super) async fn unmigrated(members: usize) -> (TestApp, String) {
    let (app, owner) = populated(members).await;
    let all = memberships(&app.store).await;
    super::as_written_before(&app.store, &all, "members_sk", 3).await;
    (app, owner)
}

/// Every membership item of the table, by key.
pub(super) async fn memberships(store: &Store) -> Vec<Attributes> {
    scan_all(store)
        .await
        .into_iter()
        .filter(|item| text(item, "entity") == Some("Membership"))
        .collect()
}

/// A string attribute of an item.
pub(super) fn text<'a>(item: &'a Attributes, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

/// Fails unless every membership is in the members index under its email order.
pub(super) fn assert_all_placed(memberships: &[Attributes]) {
    for m in memberships {
        let order = text(m, "list_sk1");
        assert!(order.is_some(), "{m:?}");
        assert_eq!(text(m, "members_sk"), order, "{m:?}");
    }
}

/// The emails the members index holds for the default organization, in its order: all that a
/// version-4 reader can list.
pub(super) async fn in_index(store: &Store) -> Vec<String> {
    index_partition(store, MEMBERS.name, collection::members("default"))
        .await
        .iter()
        .filter_map(|item| text(item, "email").map(str::to_owned))
        .collect()
}

/// `GET path` as `token` through the dev server's app on `state`, which must answer 200.
pub(super) async fn get(state: &AppState, path: &str, token: &str) -> Value {
    let router = dispatch_cli::server::local_app(state.clone()).expect("route table");
    let response = call(&router, authed("GET", path, token)).await;
    assert_eq!(response.status, StatusCode::OK, "{path}: {}", response.body);
    response.body
}

/// The emails a page lists, in order.
pub(super) fn emails(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a page: {page}"))
        .iter()
        .map(|item| item["email"].as_str().unwrap().to_owned())
        .collect()
}

/// `m00@example.com` … and the Owner: the default organization's members by email.
pub(super) fn everyone(members: usize) -> Vec<String> {
    let mut all: Vec<String> = (0..members)
        .map(|i| format!("m{i:02}@example.com"))
        .collect();
    all.push("owner@example.com".into());
    all
}

/// A page with its cursor (which carries an expiry time) replaced by whether there is one.
fn comparable(page: &Value) -> Value {
    let mut page = page.clone();
    page["next"] = Value::Bool(!page["next"].is_null());
    page
}

/// What a user pages through: the members by email and a search by email, each its first
/// page and then the page its cursor leads to.
async fn walk(state: &AppState, token: &str) -> Vec<Value> {
    let mut pages = Vec::new();
    for first in [PAGE, SEARCH] {
        let page = get(state, first, token).await;
        let next = page["next"].as_str().expect("a second page").to_owned();
        let second = get(state, &format!("{first}&cursor={next}"), token).await;
        assert!(second["next"].is_null(), "two pages: {second}");
        pages.extend([comparable(&page), comparable(&second)]);
    }
    pages
}

/// A version-3 function lists members a version-3 build wrote, which the index alone would
/// miss; `upgrade` places each under its email order, and a version-4 function then serves
/// the same pages, continuing a version-3 function's cursor (a user paging while functions
/// are replaced).
#[tokio::test]
async fn members_written_before_the_index_are_served_the_same_before_and_after_the_upgrade() {
    let (app, owner) = unmigrated(30).await;
    let before = walk(&state_at(&app, 3), &owner).await;
    let listed: Vec<String> = before[..2].iter().flat_map(emails).collect();
    assert_eq!(listed, everyone(30), "every member once, by email");
    assert_eq!(before[0]["total"], 31);
    let found: Vec<String> = before[2..].iter().flat_map(emails).collect();
    let m1x: Vec<String> = (10..20).map(|i| format!("m{i}@example.com")).collect();
    assert_eq!(found, m1x);

    // Read from the index, these members do not exist: what version 4 would show unmigrated.
    assert_eq!(in_index(&app.store).await, Vec::<String>::new());
    let early = get(&state_at(&app, 4), PAGE, &owner).await;
    assert_eq!(emails(&early), Vec::<String>::new(), "{early}");

    let all = migrations::all();
    let entries = runner(&app.store, &all, "op").migrate(4).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0].from_version, entries[0].to_version), (3, 4));
    assert_eq!(entries[0].items_touched, 31, "one write per membership");
    let migrated = memberships(&app.store).await;
    assert_eq!(migrated.len(), 31);
    assert_all_placed(&migrated);
    assert_eq!(in_index(&app.store).await, everyone(30));

    let after = walk(&state_at(&app, 4), &owner).await;
    assert_eq!(after, before);
    let first = get(&state_at(&app, 3), PAGE, &owner).await;
    let cursor = first["next"].as_str().unwrap();
    let continued = get(
        &state_at(&app, 4),
        &format!("{PAGE}&cursor={cursor}"),
        &owner,
    )
    .await;
    assert_eq!(comparable(&continued), before[1]);
}

/// Once applied, `upgrade` has nothing to do; `down` keeps the index and the attributes (a
/// version-3 build ignores them); a membership the older build rewrites meanwhile leaves the
/// index, which a function started at version 4 shows until `up` runs again and puts it back.
#[tokio::test]
async fn upgrading_again_changes_nothing_and_down_then_up_restores_what_an_older_build_rewrote() {
    let (app, owner) = unmigrated(5).await;
    let all = migrations::all();
    runner(&app.store, &all, "op").migrate(4).await.unwrap();
    let migrated = memberships(&app.store).await;
    assert_all_placed(&migrated);
    assert!(
        runner(&app.store, &all, "op")
            .migrate(4)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(memberships(&app.store).await, migrated);

    let down = runner(&app.store, &all, "op").migrate(3).await.unwrap();
    assert_eq!(
        (down[0].direction.as_str(), down[0].to_version),
        ("down", 3)
    );
    assert_eq!(down[0].items_touched, 0);
    assert_eq!(memberships(&app.store).await, migrated, "attributes kept");
    assert_eq!(in_index(&app.store).await, everyone(5), "index kept");

    // The version-3 build changes m02's membership: its item, without `members_sk`.
    let mut rewritten = migrated
        .iter()
        .find(|m| text(m, "email") == Some("m02@example.com"))
        .unwrap()
        .clone();
    rewritten.remove("members_sk");
    let version: u64 = rewritten["version"].as_n().unwrap().parse().unwrap();
    rewritten.insert(
        "version".into(),
        AttributeValue::N((version + 1).to_string()),
    );
    app.store
        .client()
        .put_item()
        .table_name(app.store.table())
        .set_item(Some(rewritten))
        .send()
        .await
        .unwrap();
    let without_m02: Vec<String> = everyone(5)
        .into_iter()
        .filter(|e| e != "m02@example.com")
        .collect();
    let warm = get(&state_at(&app, 4), PAGE, &owner).await;
    assert_eq!(
        emails(&warm),
        without_m02,
        "a function started before the downgrade"
    );
    let cold = get(&state_at(&app, 3), PAGE, &owner).await;
    assert_eq!(emails(&cold), everyone(5), "a function started after it");

    let up = runner(&app.store, &all, "op").migrate(4).await.unwrap();
    assert_eq!(up[0].items_touched, 1, "m02 only");
    assert_all_placed(&memberships(&app.store).await);
    let warm = get(&state_at(&app, 4), PAGE, &owner).await;
    assert_eq!(emails(&warm), everyone(5));
}

//! The members page and `/auth/me` on stored summaries: exact request counts, the same body
//! as the slower reads of data not migrated yet, and schema version 3's migration restoring
//! the fast reads.

use dispatch_domain::migrations;
use dispatch_domain::model::{Organization, Role};
use dispatch_domain::users;
use http::StatusCode;
use serde_json::{Value, json};

use super::{counted_state, get_counted};
use crate::helpers::{TestApp, json_request, spawn_app};

const PASSWORD: &str = "Correct horse battery 1";
const PAGE: &str = "/api/v1/default/users?itemsPerPage=25&page=1&sortBy[]=email&descending[]=false";
const ALL: &str = "/api/v1/default/users?itemsPerPage=-1&sortBy[]=email&descending[]=true";
const ME: &str = "/api/v1/default/auth/me";

async fn default_org(app: &TestApp) -> Organization {
    users::organization(&app.store, "default")
        .await
        .unwrap()
        .unwrap()
}

/// A project of the default organization, created through the API; its id.
async fn project(app: &TestApp, owner: &str, name: &str) -> i32 {
    let created = app
        .send(json_request(
            "POST",
            "/api/v1/default/projects",
            &json!({ "name": name }),
            Some(owner),
        ))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    created.body["id"].as_i64().unwrap() as i32
}

/// An Owner, a second organization the Owner belongs to, three projects (one deleted after
/// members were linked to it) and 40 members linked to different projects.
async fn populated() -> (TestApp, String, i32, i32) {
    let app = spawn_app().await;
    let owner = app
        .registered_with_role("owner@example.com", PASSWORD, Role::Owner)
        .await;
    app.post_organization(&owner, "Second Org").await;
    let (alpha, beta, doomed) = (
        project(&app, &owner, "alpha").await,
        project(&app, &owner, "beta").await,
        project(&app, &owner, "doomed").await,
    );
    let org = default_org(&app).await;
    for i in 0..40 {
        let email =
            dispatch_domain::model::EmailAddress::parse(&format!("m{i:02}@example.com")).unwrap();
        let linked: Vec<i32> = match i % 4 {
            0 => vec![],
            1 => vec![alpha],
            2 => vec![beta, alpha],
            _ => vec![doomed, beta],
        };
        users::create_with_projects(
            &app.store,
            &email,
            "unused".into(),
            &[(&org, Role::Member, &linked)],
        )
        .await
        .unwrap();
    }
    let deleted = app
        .send(crate::helpers::authed(
            "DELETE",
            &format!("/api/v1/default/projects/{doomed}"),
            &owner,
        ))
        .await;
    assert!(deleted.status.is_success(), "{}", deleted.body);
    (app, owner, alpha, beta)
}

/// Removes what schema version 3 added, as a table written by version-2 code has it.
async fn as_written_before_version_3(app: &TestApp) {
    for item in app.scan_all().await {
        let entity = item.get("entity").and_then(|v| v.as_s().ok()).cloned();
        let remove = match entity.as_deref() {
            Some("Membership") => "REMOVE projects",
            Some("User") => "REMOVE organization_slugs, organizations_indexed",
            Some("Organization") => "REMOVE project_ids, deleted_project_ids",
            _ => continue,
        };
        app.store
            .client()
            .update_item()
            .table_name(app.store.table())
            .key("pk", item["pk"].clone())
            .key("sk", item["sk"].clone())
            .update_expression(remove)
            .send()
            .await
            .unwrap();
    }
}

/// A page without its cursor (which carries an expiry time).
fn items(page: &Value) -> (&Value, &Value) {
    (&page["items"], &page["total"])
}

fn projects_of(page: &Value, email: &str) -> Vec<String> {
    let item = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["email"] == email)
        .unwrap_or_else(|| panic!("{email} listed"));
    item["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["project"]["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_members_page_and_auth_me_cost_constant_requests_before_during_and_after_the_migration() {
    let (app, owner, _, _) = populated().await;
    let (state, log) = counted_state(&app).await;

    // Stored summaries: permission read, keys query, one batch (members and projects).
    let (page, sent) = get_counted(&state, &log, PAGE, &owner).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(
        sent,
        ["BatchGetItem", "Query", "BatchGetItem"],
        "a page of 25"
    );
    assert_eq!(page.body["items"].as_array().unwrap().len(), 25);
    let (all, sent) = get_counted(&state, &log, ALL, &owner).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert_eq!(all.body["total"], 41);
    assert_eq!(
        sent,
        ["BatchGetItem", "Query", "BatchGetItem"],
        "every member"
    );
    // The deleted project is not shown; links keep their order.
    assert_eq!(projects_of(&all.body, "m01@example.com"), ["alpha"]);
    assert_eq!(projects_of(&all.body, "m02@example.com"), ["alpha", "beta"]);
    assert_eq!(projects_of(&all.body, "m03@example.com"), ["beta"]);
    assert_eq!(projects_of(&all.body, "m00@example.com"), ["default"]);
    // The deleted project's removal took it out of every summary, then out of the deleted ids.
    let m03 = users::find_by_email(&app.store, "m03@example.com")
        .await
        .unwrap()
        .unwrap();
    let (_, membership) = dispatch_domain::memberships::member(&app.store, "default", m03.id)
        .await
        .unwrap();
    assert_eq!(membership.projects.unwrap().len(), 1, "beta only");
    assert!(default_org(&app).await.deleted_project_ids.is_empty());

    let (me, sent) = get_counted(&state, &log, ME, &owner).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(
        sent,
        ["BatchGetItem", "BatchGetItem"],
        "/auth/me: one read after the permission read"
    );
    let slugs: Vec<&str> = me.body["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["organization"]["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["default", "second_org"]);

    let member = users::find_by_email(&app.store, "m02@example.com")
        .await
        .unwrap()
        .unwrap();
    let one = format!("/api/v1/default/users/{}", member.id);
    let (read, sent) = get_counted(&state, &log, &one, &owner).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(
        sent,
        ["BatchGetItem", "BatchGetItem", "BatchGetItem"],
        "caller, member, projects"
    );
    assert_eq!(read.body["projects"].as_array().unwrap().len(), 2);

    // Data written before version 3: the same answers, read the slower way.
    as_written_before_version_3(&app).await;
    let (slow_read, _) = get_counted(&state, &log, &one, &owner).await;
    assert_eq!(slow_read.body, read.body);
    let (slow_page, sent_slow) = get_counted(&state, &log, PAGE, &owner).await;
    assert_eq!(items(&slow_page.body), items(&page.body));
    assert!(sent_slow.len() > 3, "{sent_slow:?}");
    let (slow_all, _) = get_counted(&state, &log, ALL, &owner).await;
    assert_eq!(items(&slow_all.body), items(&all.body));
    let (slow_me, sent_slow) = get_counted(&state, &log, ME, &owner).await;
    assert_eq!(slow_me.body, me.body);
    assert!(sent_slow.len() > 2, "{sent_slow:?}");

    // The migration restores the summaries: the same answers, at the constant cost again.
    let all_migrations = migrations::all();
    let runner = crate::migrations::runner(&app.store, &all_migrations, "op");
    runner.stamp(2).await.unwrap();
    runner.migrate(3).await.unwrap();
    let (migrated_page, sent) = get_counted(&state, &log, PAGE, &owner).await;
    assert_eq!(items(&migrated_page.body), items(&page.body));
    assert_eq!(sent, ["BatchGetItem", "Query", "BatchGetItem"]);
    let (migrated_all, _) = get_counted(&state, &log, ALL, &owner).await;
    assert_eq!(items(&migrated_all.body), items(&all.body));
    let (migrated_me, sent) = get_counted(&state, &log, ME, &owner).await;
    assert_eq!(migrated_me.body, me.body);
    assert_eq!(sent, ["BatchGetItem", "BatchGetItem"]);
}

#[tokio::test]
async fn a_member_update_is_what_the_page_shows_and_concurrent_updates_leave_summaries_equal_to_the_links()
 {
    let (app, owner, alpha, beta) = populated().await;
    let alpha_beta = |a: bool, b: bool| {
        json!({"projects": [
            {"project": {"name": "alpha", "id": alpha}, "default": a},
            {"project": {"name": "beta", "id": beta}, "default": b},
        ]})
    };
    let target = users::find_by_email(&app.store, "m00@example.com")
        .await
        .unwrap()
        .unwrap();
    let path = format!("/api/v1/default/users/{}", target.id);
    let mut body = app
        .send(crate::helpers::authed("GET", &path, &owner))
        .await
        .body;
    // Two owners' edits at once: whichever wins, the page shows exactly the link items.
    let (mut first, mut second) = (body.clone(), body.clone());
    first["projects"] = alpha_beta(true, false)["projects"].clone();
    second["projects"] = alpha_beta(false, true)["projects"].clone();
    let (a, b) = tokio::join!(
        app.send(json_request("PUT", &path, &first, Some(&owner))),
        app.send(json_request("PUT", &path, &second, Some(&owner))),
    );
    for r in [&a, &b] {
        assert!(
            r.status == StatusCode::OK || r.status == StatusCode::CONFLICT,
            "{} {}",
            r.status,
            r.body
        );
    }
    let links = dispatch_domain::memberships::links_in(&app.store, target.id, "default")
        .await
        .unwrap();
    let page = app
        .send(crate::helpers::authed("GET", ALL, &owner))
        .await
        .body;
    let listed = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == target.id)
        .unwrap()["projects"]
        .clone();
    let from_links: Vec<(i64, bool)> = links
        .iter()
        .map(|l| (i64::from(l.project_id), l.default))
        .collect();
    let from_page: Vec<(i64, bool)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["project"]["id"].as_i64().unwrap(),
                p["default"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(from_page, from_links);
    assert_eq!(
        from_page.len(),
        3,
        "the default project, alpha and beta: {listed}"
    );

    // A later single edit is what the page shows.
    body["projects"] = alpha_beta(true, true)["projects"].clone();
    let edited = app
        .send(json_request("PUT", &path, &body, Some(&owner)))
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    let page = app
        .send(crate::helpers::authed("GET", ALL, &owner))
        .await
        .body;
    let defaults: Vec<bool> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == target.id)
        .unwrap()["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["default"].as_bool().unwrap())
        .collect();
    assert_eq!(
        defaults,
        [false, true, true],
        "default (unlisted), alpha, beta"
    );
}

#[tokio::test]
async fn joining_organizations_while_the_account_changes_keeps_every_organization_in_auth_me() {
    let app = spawn_app().await;
    let owner = app
        .registered_with_role("owner@example.com", PASSWORD, Role::Owner)
        .await;
    let joiner = app.register("joiner@example.com", PASSWORD).await;
    let mut orgs = Vec::new();
    for name in ["One Org", "Two Org", "Three Org"] {
        let created = app.post_organization(&owner, name).await;
        let slug = created["slug"].as_str().unwrap().to_owned();
        orgs.push(
            users::organization(&app.store, &slug)
                .await
                .unwrap()
                .unwrap(),
        );
    }
    let user = users::find_by_email(&app.store, "joiner@example.com")
        .await
        .unwrap()
        .unwrap();
    // Three memberships and a settings change, all at once.
    let settings = app.send(json_request(
        "PUT",
        "/api/v1/default/auth/me/settings",
        &json!({"auto_add_to_incident_bridges": false}),
        Some(&joiner),
    ));
    let joins = futures_util::future::join_all(
        orgs.iter()
            .map(|org| users::set_role(&app.store, org, &user, Role::Member)),
    );
    let (settings, joins) = tokio::join!(settings, joins);
    assert!(settings.status.is_success(), "{}", settings.body);
    for joined in joins {
        joined.unwrap();
    }
    let me = app.send(crate::helpers::authed("GET", ME, &joiner)).await;
    let mut slugs: Vec<&str> = me.body["organizations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["organization"]["slug"].as_str().unwrap())
        .collect();
    slugs.sort_unstable();
    assert_eq!(slugs, ["default", "one_org", "three_org", "two_org"]);
}

#[tokio::test]
async fn auth_me_settings_cost_nothing_to_read_and_one_write_to_change() {
    let app = spawn_app().await;
    let token = app.register("settings@example.com", PASSWORD).await;
    let (state, log) = counted_state(&app).await;
    let path = "/api/v1/default/auth/me/settings";
    let (read, sent) = get_counted(&state, &log, path, &token).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(sent, ["BatchGetItem"], "the permission read only");

    let router = dispatch_cli::server::local_app(state.clone()).expect("route table");
    // The default is true: each value changes it.
    for value in [false, true] {
        log.take();
        let changed = crate::helpers::call(
            &router,
            json_request(
                "PUT",
                path,
                &json!({"auto_add_to_incident_bridges": value}),
                Some(&token),
            ),
        )
        .await;
        assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
        assert_eq!(changed.body["auto_add_to_incident_bridges"], value);
        assert_eq!(log.take(), ["BatchGetItem", "TransactWriteItems"]);
    }
    let (read, _) = get_counted(&state, &log, path, &token).await;
    assert_eq!(read.body["auto_add_to_incident_bridges"], true);
}

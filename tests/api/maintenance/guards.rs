//! `check-guards`: guards without their item and items without their guard are found, reported
//! and repaired so that what a user noticed works again; two items claiming one value are
//! reported and left alone; a dry run writes nothing; a run cut by its budget resumes from its
//! checkpoint; and a table used normally (deletions half done included) has nothing to report.

use std::time::Instant;

use aws_sdk_dynamodb::types::AttributeValue;
use dispatch_domain::maintenance::{Budget, Job, Outcome, Summary, guards, state};
use dispatch_domain::model::Role;
use dispatch_domain::plugins::catalogue;
use dispatch_domain::{organization_delete, organization_update, project_delete, users};
use dispatch_store::item::number_attribute;
use dispatch_store::keys::{self, Key};
use dispatch_store::{Expression, Item};
use http::StatusCode;
use serde_json::json;

use super::{run_job, run_with};
use crate::helpers::{TestApp, authed, json_request, spawn_app};
use crate::plugins_api::instance_of;

const PASSWORD: &str = "correct horse battery";

/// `(kind, subject, repaired)` of each finding.
fn findings(summary: &Summary) -> Vec<(String, String, bool)> {
    summary
        .findings
        .iter()
        .map(|f| (f.kind.clone(), f.subject.clone(), f.repaired))
        .collect()
}

fn finding(kind: &str, subject: &Key, repaired: bool) -> (String, String, bool) {
    (kind.to_owned(), subject.to_string(), repaired)
}

/// Every item but the jobs' own state, for before/after comparisons.
async fn snapshot(app: &TestApp) -> Vec<std::collections::HashMap<String, AttributeValue>> {
    app.scan_all()
        .await
        .into_iter()
        .filter(
            |item| !matches!(item.get("pk"), Some(AttributeValue::S(pk)) if pk.starts_with("JOB#")),
        )
        .collect()
}

async fn user_id(app: &TestApp, email: &str) -> i32 {
    users::find_by_email(&app.store, email)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// A guard with no item behind it, as a hand edit or a bad restore leaves one.
async fn stray_organization_name_guard(app: &TestApp, name: &str, slug: &str) -> Key {
    let key = keys::organization_name_guard(name);
    app.store
        .put_batch(vec![
            Item::bare(&key, "OrganizationNameGuard").with_str("slug", slug),
        ])
        .await
        .unwrap();
    key
}

async fn post_organization(app: &TestApp, token: &str, name: &str) -> StatusCode {
    app.send(json_request(
        "POST",
        "/api/v1/organizations",
        &json!({ "name": name }),
        Some(token),
    ))
    .await
    .status
}

#[tokio::test]
async fn a_lost_email_guard_is_put_back_and_the_account_works_again() {
    let app = spawn_app().await;
    let owner = app
        .registered_with_role("owner@example.com", PASSWORD, Role::Owner)
        .await;
    app.register("victim@example.com", PASSWORD).await;
    let victim = user_id(&app, "victim@example.com").await;
    let guard = keys::email_guard("victim@example.com");
    app.store
        .delete_batch(std::slice::from_ref(&guard))
        .await
        .unwrap();
    assert_eq!(
        app.login("victim@example.com", PASSWORD).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let run = run_job(&app.store, Job::CheckGuards).await;
    assert_eq!(run.outcome, Outcome::Finished, "{run:?}");
    assert_eq!(
        findings(&run),
        [finding("item_without_guard", &keys::user(victim), true)]
    );

    // The email is unique again, and the account is found by it…
    let again = app
        .send(json_request(
            "POST",
            "/api/v1/default/auth/register",
            &json!({"email": "victim@example.com", "password": PASSWORD}),
            None,
        ))
        .await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.body
    );
    assert_eq!(user_id(&app, "victim@example.com").await, victim);
    // …but the password hash was lost with the guard: no password opens it until an Owner
    // resets it, after which the user logs in again.
    assert_eq!(
        app.login("victim@example.com", PASSWORD).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let reset = app
        .send(json_request(
            "POST",
            &format!("/api/v1/default/users/{victim}/reset-password"),
            &json!({"new_password": "Back In 2 The Game"}),
            Some(&owner),
        ))
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
    let login = app.login("victim@example.com", "Back In 2 The Game").await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);

    let next = run_job(&app.store, Job::CheckGuards).await;
    assert_eq!((next.found, next.repaired), (0, 0), "{next:?}");
}

#[tokio::test]
async fn a_stray_name_guard_is_removed_and_the_name_can_be_taken_again() {
    let app = spawn_app().await;
    let owner = app.register("owner@example.com", PASSWORD).await;
    let guard = stray_organization_name_guard(&app, "Ghost Corp", "ghost_corp").await;
    assert_eq!(
        post_organization(&app, &owner, "Ghost Corp").await,
        StatusCode::CONFLICT
    );
    let project_guard = keys::project_name_guard("default", "Phantom");
    app.store
        .put_batch(vec![
            Item::bare(&project_guard, "ProjectNameGuard").with_number("project_id", 999),
        ])
        .await
        .unwrap();

    let run = run_job(&app.store, Job::CheckGuards).await;
    let mut found = findings(&run);
    found.sort();
    assert_eq!(
        found,
        [
            finding("guard_without_item", &project_guard, true),
            finding("guard_without_item", &guard, true),
        ],
        "{run:?}"
    );
    assert_eq!(
        post_organization(&app, &owner, "Ghost Corp").await,
        StatusCode::OK
    );
    let default_owner = app
        .registered_with_role("boss@example.com", PASSWORD, Role::Owner)
        .await;
    app.post_project(&default_owner, "default", "Phantom").await;

    let next = run_job(&app.store, Job::CheckGuards).await;
    assert_eq!((next.found, next.repaired), (0, 0), "{next:?}");
}

#[tokio::test]
async fn two_items_claiming_one_value_are_reported_and_left_alone() {
    let app = spawn_app().await;
    app.register("alice@example.com", PASSWORD).await;
    app.register("bob@example.com", PASSWORD).await;
    let (alice, bob) = (
        user_id(&app, "alice@example.com").await,
        user_id(&app, "bob@example.com").await,
    );
    // Bob's item now says Alice's email, whose guard names Alice; Bob's own guard names Bob,
    // who no longer holds its email.
    app.store
        .update(
            &keys::user(bob),
            Expression::new("SET #email = :email")
                .name("#email", "email")
                .value(":email", AttributeValue::S("alice@example.com".into())),
        )
        .await
        .unwrap();
    let before = snapshot(&app).await;

    let run = run_job(&app.store, Job::CheckGuards).await;
    let mut found = findings(&run);
    found.sort();
    assert_eq!(
        found,
        [
            finding("guard_conflict", &keys::user(bob), false),
            finding(
                "guard_mismatch",
                &keys::email_guard("bob@example.com"),
                false
            ),
        ],
        "{run:?}"
    );
    let conflict = run
        .findings
        .iter()
        .find(|f| f.kind == "guard_conflict")
        .unwrap();
    assert!(
        conflict.detail.contains(&keys::user(alice).to_string()),
        "{conflict:?}"
    );
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn a_dry_run_reports_what_it_would_repair_and_writes_nothing() {
    let app = spawn_app().await;
    app.register("victim@example.com", PASSWORD).await;
    let victim = user_id(&app, "victim@example.com").await;
    app.store
        .delete_batch(&[keys::email_guard("victim@example.com")])
        .await
        .unwrap();
    let guard = stray_organization_name_guard(&app, "Ghost Corp", "ghost_corp").await;
    let before = app.scan_all().await;

    let dry = run_with(&app.store, Job::CheckGuards, Budget::unbounded(), true).await;
    let mut found = findings(&dry);
    found.sort();
    assert_eq!(
        found,
        [
            finding("guard_without_item", &guard, false),
            finding("item_without_guard", &keys::user(victim), false),
        ],
        "{dry:?}"
    );
    assert!(dry.findings.iter().all(|f| f.detail.contains("dry run")));
    assert_eq!(app.scan_all().await, before);

    let real = run_job(&app.store, Job::CheckGuards).await;
    assert_eq!((real.found, real.repaired), (2, 2), "{real:?}");
}

#[tokio::test]
async fn a_run_cut_by_its_budget_resumes_from_its_checkpoint_and_then_finds_nothing() {
    let app = spawn_app().await;
    let guard = stray_organization_name_guard(&app, "Ghost Corp", "ghost_corp").await;
    let whole = run_with(&app.store, Job::CheckGuards, Budget::unbounded(), true).await;
    assert!(whole.examined > 100, "{whole:?}");

    // A spent budget still deals with one item, and leaves the checkpoint after it.
    let cut = run_with(
        &app.store,
        Job::CheckGuards,
        Budget::until(Instant::now()),
        false,
    )
    .await;
    assert_eq!(
        (cut.outcome, cut.examined),
        (Outcome::Continued, 1),
        "{cut:?}"
    );
    let saved = state::read(&app.store, "check-guards").await.unwrap();
    assert!(saved.cursor.is_some(), "{saved:?}");

    // The next run goes on from there to the end of the table.
    let rest = run_job(&app.store, Job::CheckGuards).await;
    assert_eq!(rest.outcome, Outcome::Finished, "{rest:?}");
    assert_eq!(cut.found + rest.found, 1);
    assert_eq!(
        [findings(&cut), findings(&rest)].concat(),
        [finding("guard_without_item", &guard, true)]
    );
    let saved = state::read(&app.store, "check-guards").await.unwrap();
    assert_eq!(saved.cursor, None);

    let next = run_job(&app.store, Job::CheckGuards).await;
    assert_eq!(next.outcome, Outcome::Finished);
    assert_eq!((next.found, next.repaired), (0, 0), "{next:?}");
    // A whole pass again, from the beginning: the two runs before covered it exactly once,
    // with the stray guard they deleted.
    assert_eq!(cut.examined + rest.examined, next.examined + 1, "{next:?}");
}

#[tokio::test]
async fn an_id_counter_behind_the_ids_in_use_is_raised() {
    let app = spawn_app().await;
    for i in 0..3 {
        app.register(&format!("u{i}@example.com"), PASSWORD).await;
    }
    let largest = user_id(&app, "u2@example.com").await;
    let counter = keys::id_counter("USER");
    app.store
        .update(
            &counter,
            Expression::new("SET #last = :one")
                .name("#last", "last_id")
                .value(":one", AttributeValue::N("1".into())),
        )
        .await
        .unwrap();

    let run = run_job(&app.store, Job::CheckGuards).await;
    assert_eq!(
        findings(&run),
        [finding("id_counter_behind", &counter, true)],
        "{run:?}"
    );
    let stored = app.store.get_attributes(&counter).await.unwrap().unwrap();
    assert_eq!(
        number_attribute(&stored, "last_id"),
        Some(i64::from(largest))
    );
}

#[tokio::test]
async fn plugin_instance_guards_are_checked_against_the_enabled_instance() {
    let app = spawn_app().await;
    let admin = app
        .registered_with_role("admin@example.com", PASSWORD, Role::Admin)
        .await;
    let jira = instance_of(&app, &admin, "default", "default", "jira-ticket").await;
    let enable = json_request(
        "PUT",
        &format!("/api/v1/default/plugins/instances/{jira}"),
        &json!({"enabled": true}),
        Some(&admin),
    );
    assert_eq!(app.send(enable).await.status, StatusCode::OK);
    let project = users::organization(&app.store, "default")
        .await
        .unwrap()
        .unwrap()
        .default_project_id
        .unwrap();
    let active = keys::active_instance_guard("default", project, "ticket");
    app.store
        .delete_batch(std::slice::from_ref(&active))
        .await
        .unwrap();
    // A guard of another type naming an instance that does not exist.
    let stray = keys::active_instance_guard("default", project, "oncall");
    app.store
        .put_batch(vec![
            Item::bare(&stray, "ActiveInstanceGuard").with_number("instance_id", 99_999),
        ])
        .await
        .unwrap();

    let run = run_job(&app.store, Job::CheckGuards).await;
    let mut found = findings(&run);
    found.sort();
    assert_eq!(
        found,
        [
            finding("guard_without_item", &stray, true),
            finding(
                "item_without_guard",
                &keys::plugin_instance("default", jira as i32),
                true
            ),
        ],
        "{run:?}"
    );
    let guard = app.store.get_attributes(&active).await.unwrap().unwrap();
    assert_eq!(number_attribute(&guard, "instance_id"), Some(jira));
    assert!(app.store.get_attributes(&stray).await.unwrap().is_none());
}

#[tokio::test]
async fn a_table_used_normally_has_nothing_to_report() {
    let app = spawn_app().await;
    let owner = app
        .registered_with_role("owner@example.com", PASSWORD, Role::Owner)
        .await;
    for i in 0..3 {
        app.register(&format!("member{i}@example.com"), PASSWORD)
            .await;
    }
    app.post_organization(&owner, "Acme Corp").await;
    app.post_organization(&owner, "Big Corp").await;
    let payments = app.post_project(&owner, "acme_corp", "Payments").await;
    app.post_project(&owner, "acme_corp", "Billing").await;
    app.post_project(&owner, "acme_corp", "Reporting").await;
    app.post_project(&owner, "big_corp", "Search").await;

    // A renamed project, enabled and re-enabled instances, a deleted instance.
    let path = format!("/api/v1/acme_corp/projects/{}", payments["id"]);
    let mut form = app.send(authed("GET", &path, &owner)).await.body;
    form["name"] = json!("Payments Platform");
    let renamed = app
        .send(json_request("PUT", &path, &form, Some(&owner)))
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    let instance = |slug: &'static str| instance_of(&app, &owner, "default", "default", slug);
    let (pagerduty, opsgenie, jira) = (
        instance("pagerduty-oncall").await,
        instance("opsgenie-oncall").await,
        instance("jira-ticket").await,
    );
    for (id, enabled) in [
        (pagerduty, true),
        (opsgenie, true),
        (jira, true),
        (jira, false),
    ] {
        let put = json_request(
            "PUT",
            &format!("/api/v1/default/plugins/instances/{id}"),
            &json!({"enabled": enabled}),
            Some(&owner),
        );
        assert_eq!(app.send(put).await.status, StatusCode::OK);
    }
    let opsgenie_path = format!("/api/v1/default/plugins/instances/{opsgenie}");
    let deleted = app.send(authed("DELETE", &opsgenie_path, &owner)).await;
    assert_eq!(deleted.status, StatusCode::OK);

    // Deletions: one done, one project hidden and one organization half removed (their
    // guards go first, their items after), and an uninstalled plugin (its slug guard stays).
    let search = app.post_project(&owner, "acme_corp", "Search").await;
    let search_id = search["id"].as_i64().unwrap() as i32;
    project_delete::delete(&app.store, "acme_corp", search_id)
        .await
        .unwrap();
    let hidden = app.post_project(&owner, "acme_corp", "Hidden").await;
    project_delete::hide(
        &app.store,
        "acme_corp",
        hidden["id"].as_i64().unwrap() as i32,
    )
    .await
    .unwrap();
    organization_delete::hide(&app.store, "big_corp", crate::helpers::LAPSED_CLAIM)
        .await
        .unwrap();
    let big_corp = app
        .store
        .partition_keys(&keys::org_partition("big_corp"))
        .await
        .unwrap();
    let removed: Vec<Key> = big_corp
        .iter()
        .filter(|key| key.sk.starts_with("PROJECTNAME#"))
        .cloned()
        .chain(big_corp.iter().filter_map(|key| {
            let id = key.sk.strip_prefix("PROJECT#")?.parse().ok()?;
            Some(keys::project_id_guard(id))
        }))
        .collect();
    assert_eq!(removed.len(), 4, "{removed:?}");
    app.store.delete_batch(&removed).await.unwrap();
    // The operator moved the default flag.
    organization_update::make_default(&app.store, "acme_corp")
        .await
        .unwrap();
    catalogue::uninstall(&app.store, &["slack-conversation".to_owned()])
        .await
        .unwrap();

    let run = run_job(&app.store, Job::CheckGuards).await;
    assert_eq!(run.outcome, Outcome::Finished, "{run:?}");
    assert_eq!(run.found, 0, "{:#?}", run.findings);
    // More than one scan page.
    assert!(run.examined > guards::PAGE as u64, "{run:?}");
}

#[tokio::test]
async fn beside_busy_requests_the_job_repairs_nothing_and_a_later_run_finds_nothing() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let app = spawn_app().await;
    let owner = app
        .registered_with_role("owner@example.com", PASSWORD, Role::Owner)
        .await;
    let project = app.post_project(&owner, "default", "Busy").await;
    let path = format!("/api/v1/default/projects/{}", project["id"]);
    let pagerduty = instance_of(&app, &owner, "default", "Busy", "pagerduty-oncall").await;
    let opsgenie = instance_of(&app, &owner, "default", "Busy", "opsgenie-oncall").await;
    let done = AtomicBool::new(false);

    // Renames move a name guard, enables move an instance guard, registrations add users and
    // their guards: each a transaction the job may read halfway through its page.
    let requests = async {
        for round in 0..12 {
            let mut form = app.send(authed("GET", &path, &owner)).await.body;
            form["name"] = json!(format!("Busy {round}"));
            let renamed = app
                .send(json_request("PUT", &path, &form, Some(&owner)))
                .await;
            assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
            let id = if round % 2 == 0 { pagerduty } else { opsgenie };
            let enable = json_request(
                "PUT",
                &format!("/api/v1/default/plugins/instances/{id}"),
                &json!({"enabled": true}),
                Some(&owner),
            );
            assert_eq!(app.send(enable).await.status, StatusCode::OK);
            app.register(&format!("busy{round}@example.com"), PASSWORD)
                .await;
        }
        done.store(true, Ordering::SeqCst);
    };
    let jobs = async {
        let mut runs = Vec::new();
        while !done.load(Ordering::SeqCst) {
            // A scheduled run and an operator's dry run at once.
            let (run, dry) = tokio::join!(
                run_job(&app.store, Job::CheckGuards),
                run_with(&app.store, Job::CheckGuards, Budget::unbounded(), true)
            );
            runs.extend([run, dry]);
        }
        runs
    };
    let ((), runs) = tokio::join!(requests, jobs);
    assert!(runs.len() >= 2);
    let repaired: Vec<_> = runs
        .iter()
        .flat_map(|run| run.findings.iter().filter(|f| f.repaired))
        .collect();
    assert!(repaired.is_empty(), "{repaired:#?}");
    let reported: Vec<_> = runs.iter().flat_map(|run| &run.findings).collect();
    assert!(reported.is_empty(), "{reported:#?}");

    let after = run_job(&app.store, Job::CheckGuards).await;
    assert_eq!(
        (after.outcome, after.found),
        (Outcome::Finished, 0),
        "{after:?}"
    );
}

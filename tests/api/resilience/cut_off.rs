//! Writes of several steps cut off halfway: what the user sees is the whole change or none of
//! it, and what is left behind is finished later.

use std::time::Duration;

use http::StatusCode;
use serde_json::json;

use super::{ProxiedApp, STALL_ANSWER_BOUND, assert_unavailable, bounded_client, data_keys};
use crate::fault_proxy::{Fault, Rule};
use crate::helpers::{authed, json_request};
use dispatch_domain::aws_sdk::CallBounds;
use dispatch_store::{Store, keys};

/// A `DELETE` of a project hides it in one transaction and then removes its items. Cut off
/// after the hide (the removal's batch write stalls), the client gets a 503, the project is
/// gone for every reader, and what finishes pending deletions (`dispatch database init`, a
/// repeated `DELETE`) finishes the removal.
#[tokio::test]
async fn an_interrupted_project_deletion_is_hidden_at_once_and_finished_later() {
    let app = ProxiedApp::spawn(Duration::from_secs(8)).await;
    let project = app
        .direct
        .post_project(&app.owner, "default", "doomed")
        .await;
    let id = project["id"].as_i64().unwrap() as i32;
    let partition = keys::project_partition("default", id);
    let leftovers = || async {
        data_keys(&app.direct.store)
            .await
            .into_iter()
            .filter(|(pk, sk)| {
                *pk == partition
                    || sk.contains(&partition)
                    || sk.ends_with(&format!("PROJECT#{id}"))
            })
            .count()
    };
    assert!(leftovers().await > 1, "the project has init data");

    app.proxy.inject(Rule::on("BatchWriteItem", Fault::Stall));
    let path = format!("/api/v1/default/projects/{id}");
    let (deleted, took) = app.timed(authed("DELETE", &path, &app.owner)).await;
    assert_unavailable(&deleted, took, STALL_ANSWER_BOUND, "project delete");
    app.proxy.heal();

    let read = app.direct.send(authed("GET", &path, &app.owner)).await;
    assert_eq!(
        read.status,
        StatusCode::NOT_FOUND,
        "hidden at once: {}",
        read.body
    );
    let marker = keys::pending_project_deletion("default", id);
    assert!(
        app.direct
            .store
            .get_attributes(&marker)
            .await
            .unwrap()
            .is_some()
    );

    dispatch_domain::organization_delete::finish_pending(&app.direct.store)
        .await
        .unwrap();
    assert_eq!(leftovers().await, 0, "the removal was finished");
    assert!(
        app.direct
            .store
            .get_attributes(&marker)
            .await
            .unwrap()
            .is_none()
    );
    // The name is free again.
    app.direct
        .post_project(&app.owner, "default", "doomed")
        .await;
}

/// `dispatch plugins uninstall a b` cut off after `a` (the store stalls on the second
/// transaction) fails with the store's error; run again, it finishes: `a` is reported as
/// already uninstalled, `b` is removed, and the catalogue count went down by exactly two.
#[tokio::test]
async fn an_interrupted_plugins_uninstall_finishes_when_run_again() {
    use dispatch_domain::plugins::catalogue;
    let app = ProxiedApp::spawn(Duration::from_secs(8)).await;
    let total = || async {
        app.direct
            .send(authed("GET", "/api/v1/default/plugins", &app.owner))
            .await
            .body["total"]
            .as_i64()
            .unwrap()
    };
    let before = total().await;
    let slugs = vec!["opsgenie-oncall".to_owned(), "pagerduty-oncall".to_owned()];

    let cli_store = Store::new(
        bounded_client(&app.proxy.endpoint(), CallBounds::API).await,
        app.direct.store.table(),
    );
    app.proxy
        .inject(Rule::on("TransactWriteItems", Fault::Delay(Duration::ZERO)).times(1));
    app.proxy
        .inject(Rule::on("TransactWriteItems", Fault::Stall));
    let cut = catalogue::uninstall(&cli_store, &slugs).await;
    assert!(cut.is_err(), "cut off: {cut:?}");
    app.proxy.heal();
    assert_eq!(total().await, before - 1, "the first plugin left, alone");

    let report = catalogue::uninstall(&app.direct.store, &slugs)
        .await
        .expect("the second run finishes");
    assert_eq!(
        report,
        vec![
            "Plugin slug opsgenie-oncall is already uninstalled.".to_owned(),
            "Uninstalled plugin... Slug: pagerduty-oncall".to_owned()
        ]
    );
    assert_eq!(total().await, before - 2);
}

/// A slow store (every call delayed) makes `POST /organizations`, which makes several calls,
/// outlast a 1 s request budget: 503 at the budget, and the organization is either wholly
/// there or not at all. The client's retry then leaves exactly one organization.
#[tokio::test]
async fn the_request_budget_cuts_a_slow_request_and_leaves_all_or_nothing() {
    let app = ProxiedApp::spawn(Duration::from_secs(1)).await;
    let before = app.data_keys().await;
    app.proxy
        .inject(Rule::always(Fault::Delay(Duration::from_millis(400))));
    let body = json!({"name": "Slow Org"});
    let request = || json_request("POST", "/api/v1/organizations", &body, Some(&app.owner));
    let (cut, took) = app.timed(request()).await;
    assert_unavailable(&cut, took, Duration::from_millis(1_800), "budget");
    app.proxy.heal();
    // Anything already sent lands (or not) within the delay.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let after_cut = app.data_keys().await;

    let (retry, _) = app.timed(request()).await;
    let after_retry = app.data_keys().await;
    if after_cut == before {
        assert_eq!(retry.status, StatusCode::OK, "{}", retry.body);
    } else {
        assert_eq!(retry.status, StatusCode::CONFLICT, "{}", retry.body);
        assert_eq!(
            after_retry, after_cut,
            "the cut request had made the whole organization"
        );
    }
    let orgs = app
        .direct
        .send(authed("GET", "/api/v1/organizations", &app.owner))
        .await;
    let named: Vec<_> = orgs.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["name"] == "Slow Org")
        .collect();
    assert_eq!(named.len(), 1, "{}", orgs.body);
    // Its default project came with it.
    let projects = app
        .direct
        .send(authed(
            "GET",
            &format!("/api/v1/{}/projects", named[0]["slug"].as_str().unwrap()),
            &app.owner,
        ))
        .await;
    assert_eq!(projects.body["total"], 1, "{}", projects.body);
}

/// Inside Lambda the budget is also capped by the invocation's deadline: an invocation with
/// 1.5 s left on a slow store answers 503 about half a second before its deadline, with
/// Dispatch's body, rather than being killed by the platform.
#[tokio::test]
async fn an_invocation_near_its_deadline_answers_503_before_it() {
    use lambda_http::RequestExt;
    let app = ProxiedApp::spawn(Duration::from_secs(8)).await;
    app.proxy
        .inject(Rule::always(Fault::Delay(Duration::from_millis(700))));
    let left = Duration::from_millis(1_500);
    let deadline = std::time::SystemTime::now() + left;
    let mut context = lambda_http::Context::default();
    context.deadline = deadline
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let request = json_request(
        "POST",
        "/api/v1/organizations",
        &json!({"name": "Late Org"}),
        Some(&app.owner),
    )
    .with_lambda_context(context);
    let (response, took) = app.timed(request).await;
    assert_unavailable(&response, took, left, "near the deadline");
    assert!(
        took >= left - dispatch_shared::http::DEADLINE_MARGIN - Duration::from_millis(100),
        "the whole remaining budget was used: {took:?}"
    );
}

//! `finish-deletions`: interrupted organization and project deletions are finished by the job,
//! within its budget, resuming where it stopped.

use std::time::{Duration, Instant};

use dispatch_domain::maintenance::{Budget, Job, Outcome};
use dispatch_domain::model::Role;
use dispatch_domain::{organization_delete, project_delete};
use dispatch_store::keys;
use http::StatusCode;

use super::{run_job, run_with};
use crate::helpers::{TestApp, authed, spawn_app};

const PASSWORD: &str = "correct horse battery";

/// How many items still belong to organization `slug` (its partitions and guards).
async fn items_of(app: &TestApp, slug: &str) -> usize {
    app.scan_all()
        .await
        .iter()
        .filter(|item| format!("{item:?}").contains(&format!("ORG#{slug}")))
        .count()
}

/// An organization with `members` members and two projects, then hidden as an interrupted
/// `DELETE` leaves it.
async fn hidden_organization(app: &TestApp, owner: &str, members: usize) {
    app.post_organization(owner, "Big Corp").await;
    app.post_project(owner, "big_corp", "Payments").await;
    let org = dispatch_domain::users::organization(&app.store, "big_corp")
        .await
        .unwrap()
        .unwrap();
    for i in 0..members {
        app.member_only_of(&org, &format!("m{i}@example.com"), PASSWORD, Role::Member)
            .await;
    }
    organization_delete::hide(&app.store, "big_corp", crate::helpers::LAPSED_CLAIM)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_deletion_cut_by_the_budget_continues_at_the_next_run_and_then_nothing_is_left() {
    let app = spawn_app().await;
    let owner = app.register("owner@example.com", PASSWORD).await;
    hidden_organization(&app, &owner, 3).await;
    assert!(items_of(&app, "big_corp").await > 10);

    // A run whose budget is already spent stops before removing anything, and says so.
    let cut = run_with(
        &app.store,
        Job::FinishDeletions,
        Budget::until(Instant::now()),
        false,
    )
    .await;
    assert_eq!(cut.outcome, Outcome::Continued, "{cut:?}");
    assert!(items_of(&app, "big_corp").await > 10);

    let done = run_with(
        &app.store,
        Job::FinishDeletions,
        Budget::lasting(Duration::from_secs(60)),
        false,
    )
    .await;
    assert_eq!(done.outcome, Outcome::Finished, "{done:?}");
    assert_eq!((done.found, done.repaired), (1, 1));
    assert_eq!(items_of(&app, "big_corp").await, 0);

    let again = run_job(&app.store, Job::FinishDeletions).await;
    assert_eq!((again.examined, again.found, again.repaired), (0, 0, 0));
}

#[tokio::test]
async fn a_dry_run_reports_pending_deletions_and_removes_nothing() {
    let app = spawn_app().await;
    let owner = app.register("owner@example.com", PASSWORD).await;
    hidden_organization(&app, &owner, 1).await;
    let before = items_of(&app, "big_corp").await;

    let dry = run_with(&app.store, Job::FinishDeletions, Budget::unbounded(), true).await;
    assert_eq!((dry.found, dry.repaired), (1, 0), "{dry:?}");
    assert_eq!(dry.findings[0].subject, "organization big_corp");
    assert_eq!(items_of(&app, "big_corp").await, before);
}

#[tokio::test]
async fn an_interrupted_project_deletion_is_finished_by_the_job() {
    let app = spawn_app().await;
    let owner = app
        .registered_with_role("owner@example.com", PASSWORD, Role::Owner)
        .await;
    let project = app.post_project(&owner, "default", "Payments").await;
    let id = project["id"].as_i64().unwrap() as i32;
    project_delete::hide(&app.store, "default", id)
        .await
        .unwrap();
    let marker = keys::pending_project_deletion("default", id);
    assert!(app.store.get_attributes(&marker).await.unwrap().is_some());

    let summary = run_job(&app.store, Job::FinishDeletions).await;
    assert_eq!((summary.found, summary.repaired), (1, 1), "{summary:?}");
    assert!(app.store.get_attributes(&marker).await.unwrap().is_none());
    let gone = app
        .store
        .get_attributes(&keys::project("default", id))
        .await
        .unwrap();
    assert!(gone.is_none());
    let listed = app
        .send(authed("GET", "/api/v1/default/projects", &owner))
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(!listed.body.to_string().contains("Payments"));
}

#[tokio::test]
async fn two_runs_at_once_finish_a_deletion_once_and_the_second_waits_for_the_lease() {
    let app = spawn_app().await;
    let owner = app.register("owner@example.com", PASSWORD).await;
    hidden_organization(&app, &owner, 2).await;

    let (a, b) = tokio::join!(
        run_job(&app.store, Job::FinishDeletions),
        run_job(&app.store, Job::FinishDeletions)
    );
    let outcomes = [a.outcome, b.outcome];
    assert!(outcomes.contains(&Outcome::Finished), "{outcomes:?}");
    assert_eq!(a.repaired + b.repaired, 1, "{a:?} {b:?}");
    assert_eq!(items_of(&app, "big_corp").await, 0);
}

/// A `DELETE` still at work holds a claim on its marker: the job leaves that organization to
/// it instead of removing it in parallel.
#[tokio::test]
async fn the_job_leaves_a_deletion_a_request_is_still_working_on() {
    let app = spawn_app().await;
    let owner = app.register("owner@example.com", PASSWORD).await;
    app.post_organization(&owner, "Big Corp").await;
    let claim = organization_delete::hide(&app.store, "big_corp", Duration::from_secs(60))
        .await
        .unwrap();
    let before = items_of(&app, "big_corp").await;

    let summary = run_job(&app.store, Job::FinishDeletions).await;
    assert_eq!((summary.examined, summary.repaired), (1, 0), "{summary:#?}");
    assert_eq!(
        items_of(&app, "big_corp").await,
        before,
        "left to the request"
    );

    let removal = organization_delete::remove(&app.store, "big_corp", &claim, &Budget::unbounded())
        .await
        .unwrap();
    assert_eq!(removal, organization_delete::Removal::Done);
    assert_eq!(items_of(&app, "big_corp").await, 0);
}

/// A remover whose claim lapsed (the job finished the deletion meanwhile, and the name was
/// taken again) must not touch the new organization under the same slug.
#[tokio::test]
async fn a_remover_that_lost_its_claim_leaves_a_recreated_organization_alone() {
    let app = spawn_app().await;
    let owner = app.register("owner@example.com", PASSWORD).await;
    app.post_organization(&owner, "Big Corp").await;
    let stale = organization_delete::hide(&app.store, "big_corp", crate::helpers::LAPSED_CLAIM)
        .await
        .unwrap();
    run_job(&app.store, Job::FinishDeletions).await;
    app.post_organization(&owner, "Big Corp").await;
    let recreated = items_of(&app, "big_corp").await;
    assert!(recreated > 0);

    let removal = organization_delete::remove(&app.store, "big_corp", &stale, &Budget::unbounded())
        .await
        .unwrap();
    assert_eq!(removal, organization_delete::Removal::Yielded);
    assert_eq!(
        items_of(&app, "big_corp").await,
        recreated,
        "nothing of the new one removed"
    );
    let projects = app
        .send(authed("GET", "/api/v1/big_corp/projects", &owner))
        .await;
    assert_eq!(projects.status, StatusCode::OK, "{}", projects.body);
    assert_eq!(projects.body["total"], 1);
}

/// A repeated `DELETE` of a project and the job removing it at the same time count each of its
/// plugin instances out of the organization's total once.
#[tokio::test]
async fn two_removals_of_one_project_at_once_count_its_instances_out_once() {
    let app = spawn_app().await;
    let owner = app
        .registered_with_role("owner@example.com", PASSWORD, Role::Owner)
        .await;
    let project = app.post_project(&owner, "default", "Payments").await;
    let id = project["id"].as_i64().unwrap() as i32;
    project_delete::hide(&app.store, "default", id)
        .await
        .unwrap();

    let unbounded = Budget::unbounded();
    let (a, b) = tokio::join!(
        project_delete::remove_contents(&app.store, "default", id, &unbounded),
        run_job(&app.store, Job::FinishDeletions),
    );
    a.unwrap();
    assert_ne!(b.outcome, Outcome::Failed);
    let org = dispatch_domain::users::organization(&app.store, "default")
        .await
        .unwrap()
        .unwrap();
    let counted = app
        .store
        .count_prefix(
            dispatch_store::Source::Table,
            &keys::org_partition("default"),
            "INSTANCE#",
            None,
        )
        .await
        .unwrap();
    assert_eq!(org.instance_count, counted as i64);
}

//! `reconcile-counters`: drift is found, repaired and reported; a repair never undoes a change
//! made while the job counted; a run cut by its budget resumes from its checkpoint.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;
use dispatch_domain::maintenance::{Budget, Job, Outcome};
use dispatch_domain::model::{EmailAddress, Organization, Role};
use dispatch_store::item::number_attribute;
use dispatch_store::keys::{self, collection};
use dispatch_store::{Expression, Source, Store};

use super::{run_job, run_with};
use crate::helpers::{TestApp, spawn_app};

const PASSWORD: &str = "correct horse battery";

/// Overwrites counters of `key` by hand, as a bug or a half-applied change would leave them.
async fn inject(store: &Store, key: &keys::Key, values: &[(&str, i64)], long_ago: bool) {
    let mut update = Expression::new("");
    let mut sets = Vec::new();
    for (i, (name, value)) in values.iter().enumerate() {
        sets.push(format!("#n{i} = :v{i}"));
        update = update
            .name(&format!("#n{i}"), name)
            .value(&format!(":v{i}"), AttributeValue::N(value.to_string()));
    }
    if long_ago {
        let hour_ago = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            - 3_600;
        sets.push("#changed_at = :changed_at".into());
        update = update
            .name("#changed_at", "counters_changed_at")
            .value(":changed_at", AttributeValue::N(hour_ago.to_string()));
    }
    update.text = format!("SET {}", sets.join(", "));
    store.update(key, update).await.unwrap();
}

async fn organization(app: &TestApp, slug: &str) -> Organization {
    dispatch_domain::users::organization(&app.store, slug)
        .await
        .unwrap()
        .unwrap()
}

async fn members_in_table(store: &Store, slug: &str) -> i64 {
    store
        .count_prefix(Source::Table, &keys::org_partition(slug), "MEMBER#", None)
        .await
        .unwrap() as i64
}

#[tokio::test]
async fn drifted_counters_are_repaired_reported_and_the_list_totals_are_right_again() {
    let app = spawn_app().await;
    let owner = app.register("owner@example.com", PASSWORD).await;
    app.post_organization(&owner, "Acme").await;
    app.post_project(&owner, "acme", "Payments").await;
    let truth = organization(&app, "acme").await;
    inject(
        &app.store,
        &keys::organization("acme"),
        &[
            ("member_count", 40),
            ("project_count", 0),
            ("instance_count", 3),
        ],
        false,
    )
    .await;
    inject(
        &app.store,
        &keys::collection_count(collection::ORGANIZATIONS),
        &[("count", 9)],
        true,
    )
    .await;

    let summary = run_job(&app.store, Job::ReconcileCounters).await;
    assert_eq!(summary.outcome, Outcome::Finished);
    assert_eq!((summary.found, summary.repaired), (4, 4), "{summary:#?}");
    let reported: Vec<_> = summary.findings.iter().map(|f| f.kind.as_str()).collect();
    for kind in ["member_count", "project_count", "instance_count", "count"] {
        assert!(reported.contains(&kind), "{kind} not in {reported:?}");
    }
    let repaired = organization(&app, "acme").await;
    assert_eq!(
        (
            repaired.member_count,
            repaired.project_count,
            repaired.instance_count
        ),
        (
            truth.member_count,
            truth.project_count,
            truth.instance_count
        )
    );
    // Users see the right totals again.
    let projects = app
        .send(crate::helpers::authed(
            "GET",
            "/api/v1/acme/projects",
            &owner,
        ))
        .await;
    assert_eq!(projects.body["total"], truth.project_count);
    let orgs = app
        .send(crate::helpers::authed(
            "GET",
            "/api/v1/organizations",
            &owner,
        ))
        .await;
    assert_eq!(orgs.body["total"], 2, "default and acme");

    let again = run_job(&app.store, Job::ReconcileCounters).await;
    assert_eq!((again.found, again.repaired), (0, 0), "{again:#?}");
    assert!(again.examined > 0);
}

#[tokio::test]
async fn a_dry_run_reports_drift_and_changes_nothing() {
    let app = spawn_app().await;
    inject(
        &app.store,
        &keys::organization("default"),
        &[("member_count", 7)],
        false,
    )
    .await;
    let dry = run_with(
        &app.store,
        Job::ReconcileCounters,
        Budget::unbounded(),
        true,
    )
    .await;
    assert_eq!((dry.found, dry.repaired), (1, 0), "{dry:#?}");
    assert_eq!(organization(&app, "default").await.member_count, 7);
}

/// A collection count changed a moment ago is not recounted on its (lagging) index.
#[tokio::test]
async fn a_collection_count_that_just_changed_is_left_for_a_later_run() {
    let app = spawn_app().await;
    inject(
        &app.store,
        &keys::collection_count(collection::ORGANIZATIONS),
        &[("count", 5)],
        false,
    )
    .await;
    let summary = run_job(&app.store, Job::ReconcileCounters).await;
    assert_eq!(summary.found, 0, "{summary:#?}");
    inject(
        &app.store,
        &keys::collection_count(collection::ORGANIZATIONS),
        &[("count", 5)],
        true,
    )
    .await;
    let summary = run_job(&app.store, Job::ReconcileCounters).await;
    assert_eq!(summary.repaired, 1, "{summary:#?}");
}

/// Members join while the job runs again and again: the job never writes a stale count, so
/// the counter is exact when the joins end, without a further run.
#[tokio::test]
async fn joins_racing_the_job_are_all_counted_and_nothing_is_repaired() {
    let app = spawn_app().await;
    let org = organization(&app, "default").await;
    let hash = app
        .state
        .passwords()
        .hash(&dispatch_domain::auth::Password::parse(PASSWORD).unwrap())
        .await
        .unwrap();
    let joins = async {
        let joining = futures_util::stream::FuturesUnordered::new();
        for i in 0..30 {
            let (store, org, hash) = (app.store.clone(), org.clone(), hash.clone());
            joining.push(async move {
                let email = EmailAddress::parse(&format!("j{i}@example.com")).unwrap();
                dispatch_domain::users::create(&store, &email, hash, &[(org, Role::Member)])
                    .await
                    .unwrap();
            });
        }
        futures_util::StreamExt::collect::<Vec<()>>(joining).await;
    };
    let runs = async {
        let mut repaired = 0;
        for _ in 0..8 {
            repaired += run_job(&app.store, Job::ReconcileCounters).await.repaired;
        }
        repaired
    };
    let ((), repaired) = tokio::join!(joins, runs);
    assert_eq!(repaired, 0, "there was no drift to repair");
    assert_eq!(
        organization(&app, "default").await.member_count,
        members_in_table(&app.store, "default").await
    );
    assert_eq!(members_in_table(&app.store, "default").await, 30);
}

/// With its budget spent, a run still finishes one organization, checkpoints, and stops; the
/// next runs continue after it; a run from the start then finds nothing.
#[tokio::test]
async fn a_run_out_of_time_resumes_from_its_checkpoint_and_a_later_pass_changes_nothing() {
    let app = spawn_app().await;
    let owner = app.register("owner@example.com", PASSWORD).await;
    for name in ["Alpha", "Beta"] {
        app.post_organization(&owner, name).await;
    }
    // Three organizations in name order: alpha, beta, default.
    for slug in ["alpha", "beta", "default"] {
        inject(
            &app.store,
            &keys::organization(slug),
            &[("project_count", 50)],
            false,
        )
        .await;
    }
    let spent = || Budget::until(Instant::now());
    let count = |slug: &'static str| {
        let app = &app;
        async move { organization(app, slug).await.project_count }
    };

    let first = run_with(&app.store, Job::ReconcileCounters, spent(), false).await;
    assert_eq!(first.outcome, Outcome::Continued, "{first:#?}");
    assert_eq!((count("alpha").await, count("beta").await), (1, 50));
    let second = run_with(&app.store, Job::ReconcileCounters, spent(), false).await;
    assert_eq!(second.outcome, Outcome::Continued);
    assert_eq!((count("beta").await, count("default").await), (1, 50));
    let third = run_with(
        &app.store,
        Job::ReconcileCounters,
        Budget::lasting(Duration::from_secs(60)),
        false,
    )
    .await;
    assert_eq!(third.outcome, Outcome::Finished, "{third:#?}");
    assert_eq!(count("default").await, 1);
    assert_eq!(first.repaired + second.repaired + third.repaired, 3);

    let pass = run_job(&app.store, Job::ReconcileCounters).await;
    assert_eq!(
        (pass.outcome, pass.found),
        (Outcome::Finished, 0),
        "{pass:#?}"
    );
    let state = dispatch_domain::maintenance::state::read(&app.store, "reconcile-counters")
        .await
        .unwrap();
    assert_eq!(
        state.cursor, None,
        "a finished pass starts the next from the beginning"
    );
    assert!(
        number_attribute(
            &app.store
                .get_attributes(&keys::organization("alpha"))
                .await
                .unwrap()
                .unwrap(),
            "counter_changes"
        )
        .is_some()
    );
}

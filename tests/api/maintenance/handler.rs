//! The maintenance Lambda's handler fed the events EventBridge Scheduler sends
//! (`events/maintenance-*.json`, the template's schedule inputs).

use std::time::{SystemTime, UNIX_EPOCH};

use dispatch_domain::maintenance::{Job, Outcome};
use dispatch_domain::organization_delete;
use dispatch_maintenance::{Maintenance, MaintenanceError, handle};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;

use crate::helpers::spawn_app;

/// The fixture `events/<name>.json`.
fn fixture(name: &str) -> Value {
    let path = format!("{}/../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// An invocation of `payload` whose deadline is `seconds` away.
fn invocation(payload: Value, seconds: u64) -> LambdaEvent<Value> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let mut context = Context::default();
    context.deadline = now + seconds * 1_000;
    context.request_id = "test-request".into();
    LambdaEvent::new(payload, context)
}

#[tokio::test]
async fn each_schedules_event_runs_its_job() {
    let app = spawn_app().await;
    let maintenance = Maintenance::new(app.store.clone(), "dispatch-maintenance-test");
    for job in Job::ALL {
        let event = fixture(&format!("maintenance-{}", job.name()));
        let summary = handle(&maintenance, invocation(event, 120))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", job.name()));
        assert_eq!(summary.job, job.name());
        assert_eq!(summary.outcome, Outcome::Finished, "{summary:#?}");
        let state = dispatch_domain::maintenance::state::read(&app.store, job.name())
            .await
            .unwrap();
        assert_eq!(
            state.last_summary.as_ref(),
            Some(&summary),
            "the run is recorded"
        );
        assert!(state.lease.is_none(), "the lease is freed");
    }
}

#[tokio::test]
async fn the_finish_deletions_event_finishes_an_interrupted_organization_deletion() {
    let app = spawn_app().await;
    let owner = app
        .register("owner@example.com", "correct horse battery")
        .await;
    app.post_organization(&owner, "Gone Corp").await;
    organization_delete::hide(&app.store, "gone_corp", crate::helpers::LAPSED_CLAIM)
        .await
        .unwrap();
    let maintenance = Maintenance::new(app.store.clone(), "dispatch-maintenance-test");

    let summary = handle(
        &maintenance,
        invocation(fixture("maintenance-finish-deletions"), 60),
    )
    .await
    .unwrap();
    assert_eq!((summary.found, summary.repaired), (1, 1), "{summary:#?}");
    let left = app
        .store
        .get_attributes(&dispatch_store::keys::organization("gone_corp"))
        .await
        .unwrap();
    assert!(left.is_none());
}

#[tokio::test]
async fn an_event_near_its_deadline_checkpoints_and_continues() {
    let app = spawn_app().await;
    let maintenance = Maintenance::new(app.store.clone(), "dispatch-maintenance-test");
    // Less time left than the reserve: one organization, then stop.
    let owner = app
        .register("owner@example.com", "correct horse battery")
        .await;
    app.post_organization(&owner, "Acme").await;
    let summary = handle(
        &maintenance,
        invocation(fixture("maintenance-reconcile-counters"), 1),
    )
    .await
    .unwrap();
    assert_eq!(summary.outcome, Outcome::Continued, "{summary:#?}");
    let state = dispatch_domain::maintenance::state::read(&app.store, "reconcile-counters")
        .await
        .unwrap();
    assert!(state.cursor.is_some(), "where the next run goes on");
}

#[tokio::test]
async fn an_unknown_job_or_a_foreign_event_fails_the_invocation_with_a_clear_message() {
    let app = spawn_app().await;
    let maintenance = Maintenance::new(app.store.clone(), "dispatch-maintenance-test");
    let unknown = handle(
        &maintenance,
        invocation(fixture("maintenance-unknown-job"), 60),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(unknown, MaintenanceError::UnknownJob(_)),
        "{unknown}"
    );
    assert!(
        unknown.to_string().contains("finish-deletions"),
        "{unknown}"
    );
    // Scheduler's default notification when a schedule has no Input.
    let foreign = serde_json::json!({"version": "0", "detail-type": "Scheduled Event"});
    let error = handle(&maintenance, invocation(foreign, 60))
        .await
        .unwrap_err();
    assert!(matches!(error, MaintenanceError::BadEvent(_)), "{error}");
    let diagnostic = lambda_runtime::Diagnostic::from(error);
    assert_eq!(diagnostic.error_type, "BadEvent");
}

#[test]
fn a_summary_becomes_one_embedded_metric_line_cloudwatch_can_read() {
    let summary = dispatch_domain::maintenance::Summary {
        job: "reconcile-counters".into(),
        outcome: Outcome::Continued,
        examined: 120,
        repaired: 2,
        found: 3,
        duration_ms: 450,
        dry_run: false,
        findings: vec![],
        note: None,
    };
    let line = summary.embedded_metrics(1_700_000_000_000);
    let directive = &line["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Dimensions"], serde_json::json!([["Job"]]));
    for metric in directive["Metrics"].as_array().unwrap() {
        let name = metric["Name"].as_str().unwrap();
        assert!(line[name].is_number(), "{name} has a value");
    }
    assert_eq!(line["Job"], "reconcile-counters");
    assert_eq!(
        (line["ItemsExamined"].as_u64(), line["Continued"].as_u64()),
        (Some(120), Some(1))
    );
    assert!(
        !serde_json::to_string(&line).unwrap().contains('\n'),
        "one line"
    );
}

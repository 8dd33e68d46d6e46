//! `dispatch scheduler list | run | start` against a table.

use dispatch_cli::data::OutputFormat;
use dispatch_cli::scheduler::{self, SchedulerCommand};
use dispatch_cli::target::{GlobalArgs, Target};
use dispatch_domain::maintenance::{Job, state};
use dispatch_domain::organization_delete;
use dispatch_store::keys;

use crate::helpers::{TestApp, spawn_app};

async fn target(app: &TestApp) -> Target {
    Target::load(&GlobalArgs {
        table: Some(app.store.table().to_owned()),
        endpoint_url: Some(crate::resilience::dynamodb_endpoint().await),
        ..Default::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn list_shows_every_job_and_how_its_last_run_went() {
    let app = spawn_app().await;
    let before = scheduler::list(&app.store, OutputFormat::Table)
        .await
        .unwrap();
    assert!(before.starts_with("Task Name"), "{before}");
    for job in Job::ALL {
        assert!(before.contains(job.name()), "{before}");
    }
    let run = SchedulerCommand::Run {
        job: "reconcile-counters".into(),
        dry_run: false,
        budget_seconds: 60,
        output: OutputFormat::Table,
    };
    scheduler::run(run, &target(&app).await).await.unwrap();

    let listed: serde_json::Value = serde_json::from_str(
        &scheduler::list(&app.store, OutputFormat::Json)
            .await
            .unwrap(),
    )
    .unwrap();
    let row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["task"] == "reconcile-counters")
        .unwrap();
    assert_eq!(row["outcome"], "finished");
    assert_eq!(row["period"], "1h");
    assert!(row["last_run"].is_string());
    assert!(
        row["summary"].as_str().unwrap().starts_with("examined "),
        "{row}"
    );
    let never = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["task"] == "check-guards")
        .unwrap();
    assert!(never["last_run"].is_null());
}

#[tokio::test]
async fn an_unknown_job_name_is_refused_with_dispatchs_message() {
    let app = spawn_app().await;
    let run = SchedulerCommand::Run {
        job: "sync-incident-tasks-daily".into(),
        dry_run: false,
        budget_seconds: 60,
        output: OutputFormat::Table,
    };
    let error = scheduler::run(run, &target(&app).await).await.unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("A scheduled task/job named sync-incident-tasks-daily does not exist"),
        "{error}"
    );
    assert!(scheduler::selected(&[], &["nope".into()]).is_err());
    let chosen = scheduler::selected(&[], &["check-guards".into()]).unwrap();
    assert_eq!(chosen.len(), 3);
    assert!(!chosen.contains(&Job::CheckGuards));
}

/// `start TASK --eager` runs the task at once; stopping frees the lease it holds.
#[tokio::test]
async fn start_eagerly_runs_the_named_task_and_stops_cleanly() {
    let app = spawn_app().await;
    let owner = app
        .register("owner@example.com", "correct horse battery")
        .await;
    app.post_organization(&owner, "Gone Corp").await;
    organization_delete::hide(&app.store, "gone_corp", crate::helpers::LAPSED_CLAIM)
        .await
        .unwrap();
    let store = app.store.clone();
    let finished = async {
        for _ in 0..300 {
            let state = state::read(&store, "finish-deletions").await.unwrap();
            if state.last_summary.is_some() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the eager run did not happen");
    };
    scheduler::start(
        app.store.clone(),
        &["finish-deletions".into()],
        &[],
        true,
        finished,
    )
    .await
    .unwrap();
    assert!(
        app.store
            .get_attributes(&keys::organization("gone_corp"))
            .await
            .unwrap()
            .is_none()
    );
    let state = state::read(&app.store, "finish-deletions").await.unwrap();
    assert!(state.lease.is_none());
    let other = state::read(&app.store, "reconcile-counters").await.unwrap();
    assert!(other.last_summary.is_none(), "only the named task ran");
}

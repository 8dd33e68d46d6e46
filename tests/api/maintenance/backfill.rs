//! `plugin-backfill`: a project lacking an installed plugin is given a disabled instance of it,
//! once; an instance a user deleted afterwards is not given again; two backfills at once, or
//! a backfill beside project creations, never give a project two instances of one plugin.

use std::collections::HashMap;

use dispatch_domain::maintenance::{Budget, Job};
use dispatch_domain::model::PluginInstance;
use dispatch_store::keys;
use dispatch_store::{Source, Store, from_attributes};
use http::StatusCode;

use super::{run_job, run_with};
use crate::helpers::{authed, spawn_app};

const PASSWORD: &str = "correct horse battery";

async fn instances(store: &Store, slug: &str) -> Vec<PluginInstance> {
    store
        .query_prefix(Source::Table, &keys::org_partition(slug), "INSTANCE#")
        .await
        .unwrap()
        .into_iter()
        .map(|item| from_attributes(item).unwrap())
        .collect()
}

/// Instances per (project, plugin) in organization `slug`.
async fn per_project_plugin(store: &Store, slug: &str) -> HashMap<(i32, i32), usize> {
    let mut counts = HashMap::new();
    for instance in instances(store, slug).await {
        *counts
            .entry((instance.project_id, instance.plugin_id))
            .or_default() += 1;
    }
    counts
}

/// A project created while plugin `slug` was not installed, which was installed again since
/// without a backfill (as `dispatch plugins install` of an older build left it): the project
/// lacks it. Returns the project id and the plugin id.
async fn project_missing(
    app: &crate::helpers::TestApp,
    owner: &str,
    name: &str,
    slug: &str,
) -> (i32, i32) {
    use dispatch_domain::plugins::catalogue;
    catalogue::uninstall(&app.store, &[slug.to_owned()])
        .await
        .unwrap();
    let project = app.post_project(owner, "default", name).await;
    catalogue::install(&app.store, false).await.unwrap();
    let plugin = catalogue::find(&app.store, slug).await.unwrap().unwrap();
    (project["id"].as_i64().unwrap() as i32, plugin.id)
}

#[tokio::test]
async fn a_project_lacking_a_plugin_is_given_it_once_with_the_count_kept_exact() {
    let app = spawn_app().await;
    let owner = app
        .registered_with_role(
            "owner@example.com",
            PASSWORD,
            dispatch_domain::model::Role::Owner,
        )
        .await;
    let (project, plugin) = project_missing(&app, &owner, "Payments", "slack-conversation").await;
    assert!(
        !per_project_plugin(&app.store, "default")
            .await
            .contains_key(&(project, plugin))
    );

    let dry = run_with(&app.store, Job::PluginBackfill, Budget::unbounded(), true).await;
    assert_eq!((dry.found, dry.repaired), (1, 0), "{dry:#?}");
    assert!(
        !per_project_plugin(&app.store, "default")
            .await
            .contains_key(&(project, plugin))
    );

    let summary = run_job(&app.store, Job::PluginBackfill).await;
    assert_eq!(summary.repaired, 1, "{summary:#?}");
    let counts = per_project_plugin(&app.store, "default").await;
    assert_eq!(counts.get(&(project, plugin)), Some(&1));
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    let counters = run_job(&app.store, Job::ReconcileCounters).await;
    assert_eq!(counters.found, 0, "instance_count exact: {counters:#?}");

    let again = run_job(&app.store, Job::PluginBackfill).await;
    assert_eq!((again.found, again.repaired), (0, 0), "{again:#?}");
}

/// Deleted before any backfill looked at the project (the common case: the backfill runs
/// hourly) or after: either way the deletion is remembered and the instance stays deleted.
#[tokio::test]
async fn an_instance_a_user_deleted_is_not_given_again() {
    let app = spawn_app().await;
    let owner = app
        .registered_with_role(
            "owner@example.com",
            PASSWORD,
            dispatch_domain::model::Role::Owner,
        )
        .await;
    let project = app.post_project(&owner, "default", "Payments").await;
    let project_id = project["id"].as_i64().unwrap() as i32;
    let mine: Vec<_> = instances(&app.store, "default")
        .await
        .into_iter()
        .filter(|i| i.project_id == project_id)
        .collect();
    let delete = |instance: &PluginInstance| {
        authed(
            "DELETE",
            &format!("/api/v1/default/plugins/instances/{}", instance.id),
            &owner,
        )
    };
    let before = app.send(delete(&mine[0])).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.body);
    run_job(&app.store, Job::PluginBackfill).await;
    let after = app.send(delete(&mine[1])).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.body);

    let summary = run_job(&app.store, Job::PluginBackfill).await;
    assert_eq!(summary.repaired, 0, "{summary:#?}");
    let counts = per_project_plugin(&app.store, "default").await;
    for victim in &mine[..2] {
        assert!(
            !counts.contains_key(&(project_id, victim.plugin_id)),
            "given again"
        );
    }
}

/// A run out of time still gives one project what it lacks, stops there without moving past
/// the organization, and the next run gives the rest.
#[tokio::test]
async fn a_backfill_out_of_time_gives_one_project_and_the_next_run_the_rest() {
    let app = spawn_app().await;
    let owner = app
        .registered_with_role(
            "owner@example.com",
            PASSWORD,
            dispatch_domain::model::Role::Owner,
        )
        .await;
    use dispatch_domain::plugins::catalogue;
    catalogue::uninstall(&app.store, &["zoom-conference".to_owned()])
        .await
        .unwrap();
    for name in ["Payments", "Billing", "Support"] {
        app.post_project(&owner, "default", name).await;
    }
    catalogue::install(&app.store, false).await.unwrap();
    let zoom = catalogue::find(&app.store, "zoom-conference")
        .await
        .unwrap()
        .unwrap()
        .id;
    let have_zoom = || async {
        per_project_plugin(&app.store, "default")
            .await
            .keys()
            .filter(|(_, plugin)| *plugin == zoom)
            .count()
    };
    assert_eq!(have_zoom().await, 1, "only the default project");

    let spent = Budget::until(std::time::Instant::now());
    let first = run_with(&app.store, Job::PluginBackfill, spent, false).await;
    assert_eq!(
        first.outcome,
        dispatch_domain::maintenance::Outcome::Continued,
        "{first:#?}"
    );
    assert_eq!(have_zoom().await, 2);
    let rest = run_job(&app.store, Job::PluginBackfill).await;
    assert_eq!(
        rest.outcome,
        dispatch_domain::maintenance::Outcome::Finished
    );
    assert_eq!(have_zoom().await, 4);
}

#[tokio::test]
async fn backfills_racing_each_other_and_project_creations_give_each_plugin_once() {
    let app = spawn_app().await;
    let owner = app
        .registered_with_role(
            "owner@example.com",
            PASSWORD,
            dispatch_domain::model::Role::Owner,
        )
        .await;
    project_missing(&app, &owner, "Payments", "slack-conversation").await;
    project_missing(&app, &owner, "Billing", "jira-ticket").await;

    // Two backfills without the lease between them (one as the CLI runs it), and projects
    // being created meanwhile.
    let plugins = dispatch_domain::plugins::catalogue::installed(&app.store)
        .await
        .unwrap();
    let creations = async {
        for name in ["Proj1", "Proj2", "Proj3"] {
            app.post_project(&owner, "default", name).await;
        }
    };
    let ((), a, b, c) = tokio::join!(
        creations,
        run_job(&app.store, Job::PluginBackfill),
        dispatch_domain::plugins::backfill::add_missing_instances(&app.store, &plugins),
        dispatch_domain::plugins::backfill::add_missing_instances(&app.store, &plugins),
    );
    let given = a.repaired as usize + usize::from(b.unwrap() > 0) + usize::from(c.unwrap() > 0);
    assert!(given >= 1, "somebody gave the missing instances");

    let counts = per_project_plugin(&app.store, "default").await;
    assert!(counts.values().all(|n| *n == 1), "a duplicate: {counts:?}");
    assert_eq!(
        counts.len(),
        6 * plugins.len(),
        "every project has every plugin"
    );
    let counters = run_job(&app.store, Job::ReconcileCounters).await;
    assert_eq!(counters.found, 0, "instance_count exact: {counters:#?}");
}

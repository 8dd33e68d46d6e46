//! `dispatch plugins install | list | uninstall` (docs/contract.md §8.2, Q-PL4): rows in and out of
//! the catalogue, old projects given the instances they lack, uninstalled plugins' instances
//! reading as broken until the plugin is installed again.

use dispatch_cli::plugins::{PluginsCommand, execute};
use dispatch_domain::model::Role;

use crate::helpers::{authed, spawn_app};
use crate::plugins_api::instances;

const PASSWORD: &str = "correct horse battery";

async fn uninstall_zoom(app: &crate::helpers::TestApp) {
    execute(
        &app.store,
        PluginsCommand::Uninstall {
            plugins: vec!["zoom-conference".into()],
        },
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn uninstall_breaks_instances_and_install_backfills_every_project() {
    let app = spawn_app().await;
    let admin = app
        .registered_with_role("manager@example.com", PASSWORD, Role::Manager)
        .await;

    let listed = execute(
        &app.store,
        PluginsCommand::List {
            output: Default::default(),
        },
    )
    .await
    .unwrap();
    assert!(listed[0].starts_with("Title") && listed[0].contains("Description"));
    assert_eq!(listed.len(), 29, "a header and 28 plugins");
    assert!(
        listed
            .iter()
            .any(|l| l.contains("zoom-conference") && l.contains("conference"))
    );

    let unknown = execute(
        &app.store,
        PluginsCommand::Uninstall {
            plugins: vec!["zoom-conference".into(), "no-such-plugin".into()],
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        unknown.to_string(),
        "Plugin slug no-such-plugin does not exist. Make sure you're passing the plugin's slug."
    );
    let catalogue = |token: String| {
        let app = &app;
        async move {
            app.send(authed("GET", "/api/v1/default/plugins", &token))
                .await
                .body["total"]
                .clone()
        }
    };
    assert_eq!(catalogue(admin.clone()).await, 28, "nothing removed");

    uninstall_zoom(&app).await;
    assert_eq!(catalogue(admin.clone()).await, 27);
    let zoom = instances(&app, &admin, "default", "default")
        .await
        .into_iter()
        .find(|i| i["plugin"]["slug"] == "zoom-conference")
        .unwrap();
    assert_eq!(zoom["broken"], true);

    // A project created now has no instance of the uninstalled plugin...
    app.post_project(&admin, "default", "Security").await;
    assert_eq!(
        instances(&app, &admin, "default", "Security").await.len(),
        27
    );

    // ...until install puts the plugin back and gives it one.
    let report = execute(&app.store, PluginsCommand::Install { force: false })
        .await
        .unwrap();
    assert!(
        report.contains(&"Installing plugin... Slug: zoom-conference Version: 0.1.0".to_owned())
    );
    assert!(
        report.contains(&"Added 1 plugin instance(s) to existing projects.".to_owned()),
        "{report:?}"
    );
    assert_eq!(catalogue(admin.clone()).await, 28);
    for project in ["default", "Security"] {
        let all = instances(&app, &admin, "default", project).await;
        assert_eq!(all.len(), 28, "{project}");
        assert!(all.iter().all(|i| i["broken"] == false), "{project}");
    }

    // Installing again changes nothing; --force updates every row.
    let again = execute(&app.store, PluginsCommand::Install { force: false })
        .await
        .unwrap();
    assert!(
        !again
            .iter()
            .any(|l| l.starts_with("Installing") || l.starts_with("Updating"))
    );
    let forced = execute(&app.store, PluginsCommand::Install { force: true })
        .await
        .unwrap();
    assert_eq!(
        forced
            .iter()
            .filter(|l| l.starts_with("Updating plugin..."))
            .count(),
        28
    );
    assert_eq!(catalogue(admin).await, 28);
}

#[tokio::test]
async fn database_init_gives_old_projects_the_instances_they_lack() {
    let app = spawn_app().await;
    let manager = app
        .registered_with_role("manager@example.com", PASSWORD, Role::Manager)
        .await;
    uninstall_zoom(&app).await;
    app.post_project(&manager, "default", "Security").await;
    assert_eq!(
        instances(&app, &manager, "default", "Security").await.len(),
        27
    );

    let report = dispatch_cli::database::init(&app.store).await.unwrap();
    assert_eq!(report.instances_added, 1, "{:?}", report.lines());
    for project in ["default", "Security"] {
        assert_eq!(
            instances(&app, &manager, "default", project).await.len(),
            28,
            "{project}"
        );
    }
    let again = dispatch_cli::database::init(&app.store).await.unwrap();
    assert_eq!(again.instances_added, 0);
}

//! The staged deletions this build changed (a project `DELETE` with its pending-deletion
//! marker, `dispatch plugins uninstall`) against a caller from another organization and
//! against themselves running twice at once.

use http::StatusCode;

use crate::helpers::{authed, create_organization, spawn_app};
use dispatch_domain::model::Role;
use dispatch_store::keys;

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn an_owner_of_another_organization_cannot_delete_a_project_here() {
    let app = spawn_app().await;
    let owner = app
        .registered_with_role("owner@example.com", PASSWORD, Role::Owner)
        .await;
    let project = app.post_project(&owner, "default", "kept").await;
    let other = create_organization(&app.store, "Other Org").await;
    let stranger = app
        .member_only_of(&other, "stranger@example.com", PASSWORD, Role::Owner)
        .await;
    let before = app.scan_all().await;

    let path = format!("/api/v1/default/projects/{}", project["id"]);
    let refused = app.send(authed("DELETE", &path, &stranger)).await;
    assert!(
        refused.status.is_client_error(),
        "{} {}",
        refused.status,
        refused.body
    );
    assert_eq!(app.scan_all().await, before, "nothing hidden, no marker");
    let read = app.send(authed("GET", &path, &owner)).await;
    assert_eq!(read.status, StatusCode::OK);
}

#[tokio::test]
async fn two_deletes_of_one_project_at_once_count_it_out_once_and_leave_nothing() {
    let app = spawn_app().await;
    let owner = app
        .registered_with_role("owner@example.com", PASSWORD, Role::Owner)
        .await;
    let project = app.post_project(&owner, "default", "doomed").await;
    let id = project["id"].as_i64().unwrap() as i32;
    let total = || async {
        app.send(authed("GET", "/api/v1/default/projects", &owner))
            .await
            .body["total"]
            .as_i64()
            .unwrap()
    };
    let before = total().await;

    let path = format!("/api/v1/default/projects/{id}");
    let (a, b) = tokio::join!(
        app.send(authed("DELETE", &path, &owner)),
        app.send(authed("DELETE", &path, &owner))
    );
    for r in [&a, &b] {
        assert!(
            r.status == StatusCode::OK || r.status == StatusCode::NOT_FOUND,
            "{} {}",
            r.status,
            r.body
        );
    }
    assert!(a.status == StatusCode::OK || b.status == StatusCode::OK);
    assert_eq!(total().await, before - 1, "counted out once");
    let left = app
        .store
        .partition_keys(&keys::project_partition("default", id))
        .await
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
    let marker = keys::pending_project_deletion("default", id);
    assert!(app.store.get_attributes(&marker).await.unwrap().is_none());
    assert!(
        app.store
            .get_attributes(&keys::project("default", id))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn two_uninstalls_of_one_plugin_at_once_take_it_out_of_the_count_once() {
    use dispatch_domain::plugins::catalogue;
    let app = spawn_app().await;
    let owner = app
        .registered_with_role("owner@example.com", PASSWORD, Role::Owner)
        .await;
    let total = || async {
        app.send(authed("GET", "/api/v1/default/plugins", &owner))
            .await
            .body["total"]
            .as_i64()
            .unwrap()
    };
    let before = total().await;
    let slugs = vec!["opsgenie-oncall".to_owned()];
    let (a, b) = tokio::join!(
        catalogue::uninstall(&app.store, &slugs),
        catalogue::uninstall(&app.store, &slugs)
    );
    let reports = [a.unwrap(), b.unwrap()].concat();
    assert_eq!(
        reports
            .iter()
            .filter(|l| l.starts_with("Uninstalled plugin"))
            .count(),
        1,
        "{reports:?}"
    );
    assert_eq!(total().await, before - 1);
}

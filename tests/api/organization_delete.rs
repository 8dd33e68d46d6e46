//! `DELETE /organizations/{id}`: only its Owner, never the default organization; the
//! organization is gone at once for every client, every item of it is removed (memberships in
//! both directions included), and an interrupted deletion stays invisible until the
//! maintenance job `finish-deletions` finishes it (no other tenant's request does).

use std::collections::BTreeSet;

use dispatch_domain::maintenance::Job;
use dispatch_domain::model::{Project, Role};
use dispatch_domain::{organization_delete, projects};
use dispatch_store::keys;
use http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, authed, json_request, spawn_app};

const PASSWORD: &str = "correct horse battery";

/// The keys of every item, but those of users and login throttling (which an organization's
/// deletion leaves alone), the counters whose values change and the maintenance jobs' state.
async fn organization_keys(app: &TestApp) -> BTreeSet<(String, String)> {
    app.scan_all()
        .await
        .iter()
        .map(|item| {
            let s = |n: &str| item[n].as_s().unwrap().clone();
            (s("pk"), s("sk"))
        })
        .filter(|(pk, _)| {
            !["USER#", "EMAIL#", "THROTTLE#", "COUNTER#", "COUNT#", "JOB#"]
                .iter()
                .any(|prefix| pk.starts_with(prefix))
        })
        .collect()
}

/// Items that still mention the organization anywhere (a key, an index key, an attribute).
async fn traces_of(app: &TestApp, slug: &str, name: &str) -> Vec<String> {
    app.scan_all()
        .await
        .iter()
        .map(|item| format!("{item:?}"))
        .filter(|text| text.contains(slug) || text.contains(name))
        .collect()
}

/// An organization with an Owner (the caller), a Manager, a second project and a linked user.
async fn populated_organization(app: &TestApp, owner: &str) -> (i64, String) {
    let created = app.post_organization(owner, "Acme Corp").await;
    app.post_project(owner, "acme_corp", "Payments").await;
    let org = dispatch_domain::users::organization(&app.store, "acme_corp")
        .await
        .unwrap()
        .unwrap();
    let manager = app
        .member_only_of(&org, "manager@example.com", PASSWORD, Role::Manager)
        .await;
    (created["id"].as_i64().unwrap(), manager)
}

#[tokio::test]
async fn the_owner_deletes_an_organization_and_nothing_of_it_is_left() {
    let app = spawn_app().await;
    let owner = app.register("owner@example.com", PASSWORD).await;
    let stranger = app.register("stranger@example.com", PASSWORD).await;
    let before = organization_keys(&app).await;
    let (id, manager) = populated_organization(&app, &owner).await;
    let path = format!("/api/v1/organizations/{id}");

    // Only its Owner: a Manager of it, a stranger, nobody.
    assert_eq!(
        app.send(authed("DELETE", &path, &manager)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.send(authed("DELETE", &path, &stranger)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.send(authed("DELETE", "/api/v1/organizations/999999", &owner))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let deleted = app.send(authed("DELETE", &path, &owner)).await;
    assert_eq!(
        (deleted.status, deleted.body.clone()),
        (StatusCode::OK, Value::Null)
    );

    assert_eq!(organization_keys(&app).await, before, "every item removed");
    assert_eq!(traces_of(&app, "acme_corp", "Acme Corp").await, [""; 0]);
    for (method, path, token) in [
        ("GET", path.as_str(), &owner),
        ("DELETE", path.as_str(), &owner),
        ("GET", "/api/v1/acme_corp/projects", &owner),
        ("GET", "/api/v1/acme_corp/auth/me", &manager),
    ] {
        let response = app.send(authed(method, path, token)).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    let listed = app
        .send(authed("GET", "/api/v1/organizations", &owner))
        .await;
    assert_eq!(listed.body["total"], 1, "{}", listed.body);
    let me = app
        .send(authed("GET", "/api/v1/default/auth/me", &owner))
        .await;
    assert_eq!(
        me.status,
        StatusCode::OK,
        "the owner's other memberships stay"
    );
    assert!(!me.body.to_string().contains("acme"));

    // The name is free again, for a brand-new organization.
    let again = app
        .send(json_request(
            "POST",
            "/api/v1/organizations",
            &json!({"name": "Acme Corp"}),
            Some(&stranger),
        ))
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let projects = app
        .send(authed("GET", "/api/v1/acme_corp/projects", &stranger))
        .await;
    assert_eq!(projects.body["total"], 1, "only its own default project");
}

#[tokio::test]
async fn the_default_organization_is_never_deleted() {
    let app = spawn_app().await;
    let token = app.register("owner@example.com", PASSWORD).await;
    let default = dispatch_domain::users::organization(&app.store, "default")
        .await
        .unwrap()
        .unwrap();
    let owner = app
        .member_only_of(&default, "boss@example.com", PASSWORD, Role::Owner)
        .await;
    // Login throttling settles in the background; everything else must stay as it is.
    let snapshot = || async {
        let mut items = app.scan_all().await;
        items.retain(|item| !item["pk"].as_s().unwrap().starts_with("THROTTLE#"));
        items
    };
    let before = snapshot().await;
    let response = app
        .send(authed(
            "DELETE",
            &format!("/api/v1/organizations/{}", default.id),
            &owner,
        ))
        .await;
    assert_eq!(response.status, StatusCode::CONFLICT, "{}", response.body);
    assert_eq!(
        response.body["detail"][0]["msg"],
        organization_delete::DEFAULT_ORGANIZATION_KEPT
    );
    assert_eq!(snapshot().await, before, "nothing changed");
    assert_eq!(
        app.send(authed("GET", "/api/v1/default/auth/me", &token))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_interrupted_deletion_is_invisible_and_only_the_maintenance_job_finishes_it() {
    let app = spawn_app().await;
    let owner = app.register("owner@example.com", PASSWORD).await;
    let before = organization_keys(&app).await;
    let (id, manager) = populated_organization(&app, &owner).await;
    let org = dispatch_domain::users::organization(&app.store, "acme_corp")
        .await
        .unwrap()
        .unwrap();

    // Hidden, and then the Lambda stopped: every item is still in the table.
    organization_delete::hide(&app.store, "acme_corp", crate::helpers::LAPSED_CLAIM)
        .await
        .unwrap();
    assert!(!traces_of(&app, "acme_corp", "Acme Corp").await.is_empty());

    let path = format!("/api/v1/organizations/{id}");
    for (method, path, token) in [
        ("GET", path.as_str(), &owner),
        ("PUT", path.as_str(), &owner),
        ("GET", "/api/v1/acme_corp/projects", &owner),
        ("GET", "/api/v1/acme_corp/users", &manager),
        ("GET", "/api/v1/acme_corp/auth/me", &manager),
    ] {
        let request = if method == "PUT" {
            json_request(method, path, &json!({"description": "x"}), Some(token))
        } else {
            authed(method, path, token)
        };
        let response = app.send(request).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    let login = app
        .send(json_request(
            "POST",
            "/api/v1/acme_corp/auth/login",
            &json!({"email": "manager@example.com", "password": PASSWORD}),
            None,
        ))
        .await;
    assert_eq!(login.status, StatusCode::NOT_FOUND);
    let listed = app
        .send(authed("GET", "/api/v1/organizations", &owner))
        .await;
    assert!(!listed.body.to_string().contains("acme"), "{}", listed.body);
    let users = app
        .send(authed(
            "GET",
            "/api/v1/default/users?itemsPerPage=-1",
            &owner,
        ))
        .await;
    assert!(!users.body.to_string().contains("Acme Corp"));

    // A request that passed its permission check just before the hide adds nothing.
    let late = projects::create(
        &app.store,
        &org,
        Project::new(
            0,
            org.id,
            &org.slug,
            &dispatch_domain::model::NameStr::parse("Late").unwrap(),
            None,
            false,
            org.created_at,
        ),
    )
    .await;
    assert!(
        matches!(late, Err(dispatch_domain::DomainError::NotFound(_))),
        "{late:?}"
    );

    // No request finishes it: not another tenant's creation (the name stays taken), not a
    // deletion of another organization.
    let traces = traces_of(&app, "acme_corp", "Acme Corp").await.len();
    let taken = app
        .send(json_request(
            "POST",
            "/api/v1/organizations",
            &json!({"name": "Acme Corp"}),
            Some(&owner),
        ))
        .await;
    assert!(taken.status.is_client_error(), "{}", taken.body);
    let other = app.post_organization(&owner, "Other Corp").await;
    let deleted = app
        .send(authed(
            "DELETE",
            &format!("/api/v1/organizations/{}", other["id"]),
            &owner,
        ))
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    assert_eq!(
        traces_of(&app, "acme_corp", "Acme Corp").await.len(),
        traces
    );

    // The maintenance job does, and reports it.
    let summary = crate::maintenance::run_job(&app.store, Job::FinishDeletions).await;
    assert_eq!((summary.found, summary.repaired), (1, 1), "{summary:?}");
    assert_eq!(organization_keys(&app).await, before, "every item removed");
    assert!(
        app.store
            .get_attributes(&keys::pending_organization_deletion("acme_corp"))
            .await
            .unwrap()
            .is_none()
    );
    // The name is free again, and a second run has nothing to do.
    let again = app
        .send(json_request(
            "POST",
            "/api/v1/organizations",
            &json!({"name": "Acme Corp"}),
            Some(&owner),
        ))
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_ne!(again.body["id"].as_i64(), Some(id));
    let second = crate::maintenance::run_job(&app.store, Job::FinishDeletions).await;
    assert_eq!((second.examined, second.found), (0, 0), "{second:?}");
}

//! The plugins route group as Dispatch's UI calls it (docs/contract.md §9): the catalogue with its
//! schemas, an instance of every plugin in every project, role rules, tenant isolation,
//! configuration validation, sealed secrets and the one-enabled-per-type rule.

use dispatch_domain::model::Role;
use dispatch_store::keys;
use http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, authed, json_request, spawn_app};

const PASSWORD: &str = "correct horse battery";

/// `GET /{org}/plugins/instances` with the UI's enabled/project filter shape, all pages.
pub async fn instances(app: &TestApp, token: &str, org: &str, project: &str) -> Vec<Value> {
    let filter =
        json!({"and": [{"model": "Project", "field": "name", "op": "==", "value": project}]});
    let path = format!(
        "/api/v1/{org}/plugins/instances?itemsPerPage=-1&filter={}",
        form_urlencoded::byte_serialize(filter.to_string().as_bytes()).collect::<String>()
    );
    let response = app.send(authed("GET", &path, token)).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    response.body["items"].as_array().unwrap().clone()
}

/// The id of `project`'s instance of `plugin_slug`.
pub async fn instance_of(
    app: &TestApp,
    token: &str,
    org: &str,
    project: &str,
    plugin_slug: &str,
) -> i64 {
    instances(app, token, org, project)
        .await
        .iter()
        .find(|i| i["plugin"]["slug"] == plugin_slug)
        .unwrap_or_else(|| panic!("no {plugin_slug} instance in {project}"))["id"]
        .as_i64()
        .unwrap()
}

fn path(id: i64) -> String {
    format!("/api/v1/default/plugins/instances/{id}")
}

#[tokio::test]
async fn the_catalogue_is_installed_and_every_project_has_a_disabled_instance_of_each_plugin() {
    let app = spawn_app().await;
    let manager = app
        .registered_with_role("manager@example.com", PASSWORD, Role::Manager)
        .await;

    let catalogue = app
        .send(authed(
            "GET",
            "/api/v1/default/plugins?itemsPerPage=-1&sortBy[]=slug&descending[]=false",
            &manager,
        ))
        .await;
    assert_eq!(catalogue.status, StatusCode::OK, "{}", catalogue.body);
    assert_eq!(catalogue.body["total"], 28);
    let pagerduty = catalogue.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["slug"] == "pagerduty-oncall")
        .unwrap();
    assert_eq!(
        (pagerduty["type"].clone(), pagerduty["version"].clone()),
        (json!("oncall"), json!("0.1.0"))
    );
    assert_eq!(
        pagerduty["configuration_schema"]["properties"]["api_key"]["format"],
        "password"
    );
    let events = app
        .send(authed(
            "GET",
            "/api/v1/default/plugins/plugin_events",
            &manager,
        ))
        .await;
    assert_eq!(events.body["total"], 2, "{}", events.body);
    assert_eq!(
        events.body["items"][0]["plugin"]["slug"],
        "slack-conversation"
    );

    app.post_project(&manager, "default", "Security").await;
    for project in ["default", "Security"] {
        let all = instances(&app, &manager, "default", project).await;
        assert_eq!(all.len(), 28, "{project}");
        assert!(
            all.iter()
                .all(|i| i["enabled"] == false && i["broken"] == false)
        );
        assert!(
            all.iter().all(|i| i.get("configuration").is_none()),
            "lists carry no configuration"
        );
    }
    app.post_organization(&manager, "Acme Corp").await;
    assert_eq!(
        instances(&app, &manager, "acme_corp", "default")
            .await
            .len(),
        28
    );

    // The UI's table call: sorted by plugin slug, newest first.
    let table = app
        .send(authed(
            "GET",
            "/api/v1/default/plugins/instances?itemsPerPage=25&sortBy[]=Plugin.slug&descending[]=true",
            &manager,
        ))
        .await;
    assert_eq!(table.body["total"], 56);
    assert_eq!(table.body["items"].as_array().unwrap().len(), 25);
    assert_eq!(table.body["items"][0]["plugin"]["slug"], "zoom-conference");
}

#[tokio::test]
async fn only_owners_managers_and_admins_touch_single_instances() {
    let app = spawn_app().await;
    let admin = app
        .registered_with_role("admin@example.com", PASSWORD, Role::Admin)
        .await;
    let member = app.register("member@example.com", PASSWORD).await;
    let id = instance_of(&app, &member, "default", "default", "zoom-conference").await;

    let update = json!({"enabled": false});
    for (method, token, allowed) in [("GET", &member, false), ("GET", &admin, true)] {
        let status = app.send(authed(method, &path(id), token)).await.status;
        assert_eq!(status == StatusCode::OK, allowed, "{method}");
    }
    let denied = app
        .send(json_request("PUT", &path(id), &update, Some(&member)))
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.send(authed("DELETE", &path(id), &member)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.send(crate::helpers::request("GET", &path(id)))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    let deleted = app.send(authed("DELETE", &path(id), &admin)).await;
    assert_eq!(
        (deleted.status, deleted.body),
        (StatusCode::OK, Value::Null)
    );
    let gone = app.send(authed("GET", &path(id), &admin)).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(
        gone.body["detail"][0]["msg"],
        "A plugin instance with this id does not exist."
    );
    assert_eq!(
        instances(&app, &admin, "default", "default").await.len(),
        27
    );
}

#[tokio::test]
async fn another_organizations_instance_is_a_404() {
    let app = spawn_app().await;
    let owner = app.register("owner@example.com", PASSWORD).await;
    let admin = app
        .registered_with_role("admin@example.com", PASSWORD, Role::Admin)
        .await;
    app.post_organization(&owner, "Acme Corp").await;
    let foreign = instance_of(&app, &owner, "acme_corp", "default", "jira-ticket").await;
    let before = app
        .store
        .get_attributes(&keys::plugin_instance("acme_corp", foreign as i32))
        .await
        .unwrap();
    for request in [
        authed("GET", &path(foreign), &admin),
        json_request(
            "PUT",
            &path(foreign),
            &json!({"enabled": true}),
            Some(&admin),
        ),
        authed("DELETE", &path(foreign), &admin),
    ] {
        let response = app.send(request).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{}", response.body);
    }
    let after = app
        .store
        .get_attributes(&keys::plugin_instance("acme_corp", foreign as i32))
        .await
        .unwrap();
    assert_eq!(before, after, "untouched");
    let listed = instances(&app, &admin, "default", "default").await;
    assert!(listed.iter().all(|i| i["id"] != foreign));
}

#[tokio::test]
async fn deleting_a_project_removes_its_instances_and_frees_their_types() {
    let app = spawn_app().await;
    let manager = app
        .registered_with_role("manager@example.com", PASSWORD, Role::Manager)
        .await;
    let project = app.post_project(&manager, "default", "Security").await;
    let project_id = project["id"].as_i64().unwrap() as i32;
    let jira = instance_of(&app, &manager, "default", "Security", "jira-ticket").await;
    let enabled = app
        .send(json_request(
            "PUT",
            &path(jira),
            &json!({"enabled": true}),
            Some(&manager),
        ))
        .await;
    assert_eq!(enabled.status, StatusCode::OK, "{}", enabled.body);

    let deleted = app
        .send(authed(
            "DELETE",
            &format!("/api/v1/default/projects/{project_id}"),
            &manager,
        ))
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    let left: Vec<String> = app
        .store
        .partition_keys(&keys::org_partition("default"))
        .await
        .unwrap()
        .into_iter()
        .map(|key| key.sk)
        .filter(|sk| sk.starts_with("ACTIVE#") || sk.starts_with("INSTANCE#"))
        .collect();
    assert_eq!(
        left.len(),
        28,
        "only the default project's instances: {left:?}"
    );
    assert!(
        dispatch_domain::plugins::instances::get_active_instance(
            &app.store, "default", project_id, "ticket"
        )
        .await
        .unwrap()
        .is_none()
    );
    let listed = app
        .send(authed(
            "GET",
            "/api/v1/default/plugins/instances?itemsPerPage=1",
            &manager,
        ))
        .await;
    assert_eq!(
        listed.body["total"], 28,
        "the organization's instance count is exact"
    );
}

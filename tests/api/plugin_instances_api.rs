//! Plugin instances changed through the API: configurations validated and sealed (the raw item
//! holds no plaintext secret; the mask written back keeps the secret), and at most one enabled
//! instance per type and project, concurrent enables included (Q-PL1, Q-PL2, Q-PL3).

use dispatch_domain::model::{PluginInstance, Role};
use dispatch_domain::plugins::instances::{get_active_instance, seal_context};
use dispatch_store::keys;
use http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, authed, json_request, spawn_app};
use crate::plugins_api::instance_of;

const PASSWORD: &str = "correct horse battery";
const SECRET: &str = "pd-secret-0123456789";

fn path(id: i64) -> String {
    format!("/api/v1/default/plugins/instances/{id}")
}

async fn stored(app: &TestApp, id: i64) -> PluginInstance {
    app.store
        .get(&keys::plugin_instance("default", id as i32))
        .await
        .unwrap()
        .unwrap()
}

/// The enabled instances of the `oncall` type in the default project.
async fn enabled_oncall(app: &TestApp, ids: &[i64]) -> Vec<i64> {
    let mut enabled = Vec::new();
    for id in ids {
        if stored(app, *id).await.enabled {
            enabled.push(*id);
        }
    }
    enabled
}

#[tokio::test]
async fn a_configuration_is_validated_sealed_and_shown_masked() {
    let app = spawn_app().await;
    let admin = app
        .registered_with_role("admin@example.com", PASSWORD, Role::Admin)
        .await;
    let id = instance_of(&app, &admin, "default", "default", "pagerduty-oncall").await;

    let invalid = app
        .send(json_request(
            "PUT",
            &path(id),
            &json!({"id": id, "enabled": true, "configuration": {"from_email": 5}}),
            Some(&admin),
        ))
        .await;
    assert_eq!(
        invalid.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        invalid.body
    );
    let locs: Vec<Value> = invalid.body["detail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["loc"].clone())
        .collect();
    assert_eq!(
        locs,
        [
            json!(["body", "configuration", "api_key"]),
            json!(["body", "configuration", "from_email"])
        ]
    );
    assert_eq!(stored(&app, id).await.version, 1, "nothing changed");

    let configuration = json!({"api_key": SECRET, "from_email": "oncall@example.com"});
    let updated = app
        .send(json_request(
            "PUT",
            &path(id),
            &json!({"id": id, "enabled": true, "configuration": configuration}),
            Some(&admin),
        ))
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    // Dispatch answers a PUT with PluginInstanceCreate: no id (Q-PL3).
    let keys_sent: Vec<&str> = updated
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys_sent, ["enabled", "configuration", "plugin", "project"]);
    assert_eq!(updated.body["configuration"]["api_key"], "**********");

    let read = app.send(authed("GET", &path(id), &admin)).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(
        read.body["configuration"],
        json!({"api_key": "**********", "from_email": "oncall@example.com",
               "pagerduty_api_url": "https://api.pagerduty.com"})
    );
    assert_eq!(read.body["enabled"], true);

    // At rest: no plaintext secret anywhere in the table.
    let raw = format!("{:?}", app.scan_all().await);
    assert!(!raw.contains(SECRET), "plaintext secret stored");
    assert!(
        !raw.contains("oncall@example.com"),
        "the whole configuration is sealed"
    );

    // Writing back what the UI showed keeps the secret (Q-PL2).
    let mut shown = read.body["configuration"].clone();
    shown["from_email"] = json!("pager@example.com");
    let again = app
        .send(json_request(
            "PUT",
            &path(id),
            &json!({"id": id, "enabled": true, "configuration": shown}),
            Some(&admin),
        ))
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let instance = stored(&app, id).await;
    let opened = app
        .state
        .configuration_key()
        .unwrap()
        .open(
            instance.sealed_configuration.as_deref().unwrap(),
            &seal_context("default", id as i32),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(opened["api_key"], SECRET);
    assert_eq!(opened["from_email"], "pager@example.com");

    // An empty configuration leaves the stored one (Dispatch's rule for falsy values).
    let toggled = app
        .send(json_request(
            "PUT",
            &path(id),
            &json!({"configuration": {}}),
            Some(&admin),
        ))
        .await;
    assert_eq!(toggled.status, StatusCode::OK);
    assert_eq!(
        stored(&app, id).await.sealed_configuration,
        instance.sealed_configuration
    );
}

#[tokio::test]
async fn creating_an_instance_checks_its_project_plugin_and_configuration() {
    let app = spawn_app().await;
    let admin = app
        .registered_with_role("admin@example.com", PASSWORD, Role::Admin)
        .await;
    let catalogue = app
        .send(authed(
            "GET",
            "/api/v1/default/plugins?itemsPerPage=-1",
            &admin,
        ))
        .await;
    let plugin = |slug: &str| {
        catalogue.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["slug"] == slug)
            .unwrap()
            .clone()
    };
    let project = json!({"id": 1, "name": "default"});
    let create = |body: Value| {
        json_request(
            "POST",
            "/api/v1/default/plugins/instances",
            &body,
            Some(&admin),
        )
    };
    let before = app.scan_all().await.len();

    for (body, loc) in [
        (
            json!({"plugin": plugin("opsgenie-oncall"), "project": {"name": "Nope"}}),
            json!(["body", "project", "name"]),
        ),
        (
            json!({"plugin": {"id": 99999, "title": "x", "slug": "x", "author": "x", "author_url": "x", "type": "x", "multiple": false}, "project": project}),
            json!(["body", "plugin", "id"]),
        ),
        (json!({"project": project}), json!(["body", "plugin"])),
        (
            json!({"plugin": plugin("opsgenie-oncall"), "project": project, "configuration": {"api_key": 3}}),
            json!(["body", "configuration", "api_key"]),
        ),
        (
            json!({"plugin": plugin("dispatch-contact"), "project": project, "configuration": {"a": 1}}),
            json!(["body", "configuration"]),
        ),
    ] {
        let response = app.send(create(body)).await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            response.body
        );
        assert_eq!(response.body["detail"][0]["loc"], loc, "{}", response.body);
    }
    assert_eq!(app.scan_all().await.len(), before, "nothing written");

    let created = app
        .send(create(json!({"enabled": true, "configuration": {"api_key": SECRET}, "plugin": plugin("opsgenie-oncall"), "project": project})))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(created.body["configuration"]["api_key"], "**********");
    assert_eq!(created.body["project"]["name"], "default");
    let active = get_active_instance(&app.store, "default", 1, "oncall")
        .await
        .unwrap();
    assert_eq!(active.map(|i| i64::from(i.id)), created.body["id"].as_i64());
}

#[tokio::test]
async fn enabling_an_instance_disables_the_enabled_one_of_its_type() {
    let app = spawn_app().await;
    let admin = app
        .registered_with_role("admin@example.com", PASSWORD, Role::Admin)
        .await;
    let pagerduty = instance_of(&app, &admin, "default", "default", "pagerduty-oncall").await;
    let opsgenie = instance_of(&app, &admin, "default", "default", "opsgenie-oncall").await;
    let oncall = [pagerduty, opsgenie];
    let enable =
        |id: i64, on: bool| json_request("PUT", &path(id), &json!({"enabled": on}), Some(&admin));

    assert_eq!(
        app.send(enable(pagerduty, true)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.send(enable(opsgenie, true)).await.status,
        StatusCode::OK
    );
    assert_eq!(enabled_oncall(&app, &oncall).await, [opsgenie]);
    let active = get_active_instance(&app.store, "default", 1, "oncall")
        .await
        .unwrap();
    assert_eq!(active.map(|i| i64::from(i.id)), Some(opsgenie));

    // Two concurrent enables, many times over: exactly one is enabled each time.
    for round in 0..6 {
        for id in oncall {
            app.send(enable(id, false)).await;
        }
        assert!(enabled_oncall(&app, &oncall).await.is_empty());
        let (a, b) = tokio::join!(
            app.send(enable(pagerduty, true)),
            app.send(enable(opsgenie, true))
        );
        assert_eq!(
            (a.status, b.status),
            (StatusCode::OK, StatusCode::OK),
            "round {round}"
        );
        let enabled = enabled_oncall(&app, &oncall).await;
        assert_eq!(enabled.len(), 1, "round {round}: {enabled:?}");
        let active = get_active_instance(&app.store, "default", 1, "oncall")
            .await
            .unwrap();
        assert_eq!(active.map(|i| i64::from(i.id)), enabled.first().copied());
    }

    // The UI's "enabled instances of this project" call finds exactly that one.
    let filter = r#"{"and":[{"model":"PluginInstance","field":"enabled","op":"==","value":"true"},{"model":"Project","field":"name","op":"==","value":"default"}]}"#;
    let listed = app
        .send(authed(
            "GET",
            &format!(
                "/api/v1/default/plugins/instances?itemsPerPage=50&filter={}",
                form_urlencoded::byte_serialize(filter.as_bytes()).collect::<String>()
            ),
            &admin,
        ))
        .await;
    let ids: Vec<i64> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, enabled_oncall(&app, &oncall).await);

    // Another type is independent; deleting the enabled instance frees its type.
    let jira = instance_of(&app, &admin, "default", "default", "jira-ticket").await;
    app.send(json_request(
        "PUT",
        &path(jira),
        &json!({"enabled": true}),
        Some(&admin),
    ))
    .await;
    assert_eq!(enabled_oncall(&app, &oncall).await.len(), 1);
    let enabled = enabled_oncall(&app, &oncall).await[0];
    assert_eq!(
        app.send(authed("DELETE", &path(enabled), &admin))
            .await
            .status,
        StatusCode::OK
    );
    assert!(
        get_active_instance(&app.store, "default", 1, "oncall")
            .await
            .unwrap()
            .is_none()
    );
    let ticket = get_active_instance(&app.store, "default", 1, "ticket")
        .await
        .unwrap();
    assert_eq!(ticket.map(|i| i64::from(i.id)), Some(jira));
}

//! A stored plugin secret cannot be sent to another host: writing back the `"**********"` mask
//! while changing an address of the same configuration (a URL, host, endpoint… field) is a 422
//! on the secret, and nothing is stored; sending the secret again, or keeping the addresses,
//! works.

use dispatch_domain::model::{PluginInstance, Role};
use dispatch_domain::plugin_config::MASK;
use dispatch_domain::plugins::instances::seal_context;
use dispatch_store::keys;
use http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, json_request, spawn_app};
use crate::plugins_api::instance_of;

const PASSWORD: &str = "correct horse battery";

async fn put(app: &TestApp, token: &str, id: i64, configuration: Value) -> (StatusCode, Value) {
    let response = app
        .send(json_request(
            "PUT",
            &format!("/api/v1/default/plugins/instances/{id}"),
            &json!({"id": id, "enabled": false, "configuration": configuration}),
            Some(token),
        ))
        .await;
    (response.status, response.body)
}

async fn opened(app: &TestApp, id: i64) -> Value {
    let instance: PluginInstance = app
        .store
        .get(&keys::plugin_instance("default", id as i32))
        .await
        .unwrap()
        .unwrap();
    app.state
        .configuration_key()
        .unwrap()
        .open(
            instance.sealed_configuration.as_deref().unwrap(),
            &seal_context("default", id as i32),
        )
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn the_mask_written_back_with_a_new_address_asks_for_the_secret_again() {
    let app = spawn_app().await;
    let admin = app
        .registered_with_role("admin@example.com", PASSWORD, Role::Admin)
        .await;
    // Jira's `api_url` is a `"format": "uri"` field; PagerDuty's `pagerduty_api_url` is one
    // by name only.
    let jira = instance_of(&app, &admin, "default", "default", "jira-ticket").await;
    let original = json!({"default_project_id": "OPS", "default_issue_type_name": "Task",
        "hosting_type": "cloud", "username": "bot", "password": "jira-secret-0123",
        "api_url": "https://acme.atlassian.net", "browser_url": "https://acme.atlassian.net"});
    assert_eq!(
        put(&app, &admin, jira, original.clone()).await.0,
        StatusCode::OK
    );

    let mut redirected = original.clone();
    redirected["password"] = json!(MASK);
    redirected["api_url"] = json!("https://collector.attacker.example");
    let (status, body) = put(&app, &admin, jira, redirected.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let detail = &body["detail"];
    assert_eq!(detail.as_array().unwrap().len(), 1, "{body}");
    assert_eq!(
        detail[0]["loc"],
        json!(["body", "configuration", "password"])
    );
    assert_eq!(detail[0]["type"], "value_error");
    assert_eq!(
        detail[0]["msg"],
        "Enter this secret again: a stored secret is not kept when api_url changes."
    );
    assert!(!body.to_string().contains("jira-secret"), "{body}");
    assert_eq!(
        opened(&app, jira).await["api_url"],
        "https://acme.atlassian.net"
    );

    // The same by name: PagerDuty's API URL.
    let pagerduty = instance_of(&app, &admin, "default", "default", "pagerduty-oncall").await;
    let configuration = json!({"api_key": "pd-secret-0123", "from_email": "oncall@example.com"});
    assert_eq!(
        put(&app, &admin, pagerduty, configuration).await.0,
        StatusCode::OK
    );
    let moved = json!({"api_key": MASK, "from_email": "oncall@example.com",
        "pagerduty_api_url": "https://collector.attacker.example"});
    let (status, body) = put(&app, &admin, pagerduty, moved).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["detail"][0]["loc"],
        json!(["body", "configuration", "api_key"])
    );

    // The mask with the addresses unchanged keeps the secret.
    let mut kept = original.clone();
    kept["password"] = json!(MASK);
    kept["username"] = json!("another-bot");
    assert_eq!(put(&app, &admin, jira, kept).await.0, StatusCode::OK);
    assert_eq!(opened(&app, jira).await["password"], "jira-secret-0123");

    // A new address with the secret sent again is fine.
    redirected["password"] = json!("jira-secret-for-the-new-host");
    assert_eq!(put(&app, &admin, jira, redirected).await.0, StatusCode::OK);
    let stored = opened(&app, jira).await;
    assert_eq!(stored["api_url"], "https://collector.attacker.example");
    assert_eq!(stored["password"], "jira-secret-for-the-new-host");
}

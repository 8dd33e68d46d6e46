//! An email identity (header, ALB and PKCE providers) costs the email's guard read only the
//! first time a function sees it; a remembered id whose account is gone is read afresh.

use dispatch_domain::auth::email_ids;
use dispatch_domain::auth::provider::Provider;
use dispatch_domain::auth::provider::settings::HeaderSettings;
use dispatch_domain::model::{EmailAddress, Role};
use dispatch_domain::users;
use dispatch_store::keys;
use http::StatusCode;

use super::{RequestLog, counted_state};
use crate::helpers::{TestResponse, call, request, spawn_app_with};

async fn me(
    state: &dispatch_shared::AppState,
    log: &RequestLog,
    email: &str,
) -> (TestResponse, Vec<String>) {
    let app = dispatch_cli::server::local_app(state.clone()).expect("route table");
    let mut me = request("GET", "/api/v1/default/auth/me");
    me.headers_mut()
        .insert("remote-user", email.parse().unwrap());
    log.take();
    let response = call(&app, me).await;
    (response, log.take())
}

#[tokio::test]
async fn a_known_email_costs_one_guard_read_per_process_and_a_replaced_account_is_found_again() {
    let app = spawn_app_with(|config| {
        config.authentication = Provider::Header(HeaderSettings {
            header_name: "remote-user".into(),
            trusted_proxy: true,
        })
    })
    .await;
    let org = users::organization(&app.store, "default")
        .await
        .unwrap()
        .unwrap();
    let email = EmailAddress::parse("alice@example.com").unwrap();
    let first = users::create(
        &app.store,
        &email,
        "unused".into(),
        &[(org.clone(), Role::Member)],
    )
    .await
    .unwrap();
    let (state, log) = counted_state(&app).await;

    let (response, sent) = me(&state, &log, "alice@example.com").await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["id"], first.id);
    assert_eq!(
        sent,
        ["GetItem", "BatchGetItem", "BatchGetItem"],
        "guard, caller, me"
    );
    assert!(email_ids::remembered(&app.store, "alice@example.com"));
    let (response, sent) = me(&state, &log, "alice@example.com").await;
    assert_eq!(response.body["id"], first.id);
    assert_eq!(sent, ["BatchGetItem", "BatchGetItem"], "caller, me");

    // The account is removed and the email taken by a new one: the remembered id is not used.
    for key in [keys::user(first.id), keys::email_guard("alice@example.com")] {
        app.store
            .client()
            .delete_item()
            .table_name(app.store.table())
            .set_key(Some(dispatch_store::key_attributes(&key)))
            .send()
            .await
            .unwrap();
    }
    let second = users::create(&app.store, &email, "unused".into(), &[(org, Role::Member)])
        .await
        .unwrap();
    assert_ne!(second.id, first.id);
    let (response, _) = me(&state, &log, "alice@example.com").await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(
        response.body["id"], second.id,
        "the email's new owner, not a provisioned copy"
    );
    let (response, sent) = me(&state, &log, "alice@example.com").await;
    assert_eq!(response.body["id"], second.id);
    assert_eq!(sent, ["BatchGetItem", "BatchGetItem"]);
}

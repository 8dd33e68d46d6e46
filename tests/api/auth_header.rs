//! The header provider and authentication off: a client-sent identity header changes nothing
//! unless a trusted proxy is declared; an authorizer's context is honoured; with the slug
//! empty every caller is the default user.

use dispatch_domain::auth::provider::Provider;
use dispatch_domain::auth::provider::settings::HeaderSettings;
use http::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, call_event, request, spawn_app_with};

async fn header_app(trusted_proxy: bool) -> TestApp {
    spawn_app_with(|config| {
        config.authentication = Provider::Header(HeaderSettings {
            header_name: "remote-user".into(),
            trusted_proxy,
        })
    })
    .await
}

fn me_with_header(email: &str) -> http::Request<axum::body::Body> {
    let mut me = request("GET", "/api/v1/default/auth/me");
    me.headers_mut()
        .insert("remote-user", email.parse().unwrap());
    me
}

/// `GET /default/auth/me` as API Gateway delivers it, with `authorizer` in its request context
/// and a `remote-user` header a client added.
fn me_event(authorizer: Option<Value>) -> String {
    let path = format!("{}/../events/auth-me.json", env!("CARGO_MANIFEST_DIR"));
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["headers"]["remote-user"] = "mallory@example.com".into();
    if let Some(authorizer) = authorizer {
        event["requestContext"]["authorizer"] = authorizer;
    }
    event.to_string()
}

#[tokio::test]
async fn a_client_sent_identity_header_is_refused_without_a_trusted_proxy() {
    let app = header_app(false).await;
    let response = app.send(me_with_header("mallory@example.com")).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.body["detail"][0]["msg"],
        "Could not validate credentials"
    );
    let event = call_event(
        &dispatch_auth::router(app.state.clone()).unwrap(),
        &me_event(None),
    )
    .await;
    assert_eq!(event.status, StatusCode::UNAUTHORIZED);
    let nobody = dispatch_domain::users::find_by_email(&app.store, "mallory@example.com")
        .await
        .unwrap();
    assert!(nobody.is_none(), "no account was provisioned");
}

#[tokio::test]
async fn a_lambda_authorizers_context_names_the_caller_whatever_header_the_client_sent() {
    let app = header_app(false).await;
    let authorizer = serde_json::json!({"lambda": {"remote-user": "alice@example.com"}});
    let router = dispatch_auth::router(app.state.clone()).unwrap();
    let response = call_event(&router, &me_event(Some(authorizer))).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["email"], "alice@example.com");
    // First sign-in: provisioned as a Member of the auto-join organization.
    let role = call_event(
        &router,
        &me_event(Some(
            serde_json::json!({"lambda": {"email": "alice@example.com"}}),
        ))
        .replace("/auth/me", "/auth/myrole"),
    )
    .await;
    assert_eq!(role.body, "Member");
}

#[tokio::test]
async fn behind_a_declared_trusted_proxy_the_header_is_the_identity() {
    let app = header_app(true).await;
    let response = app.send(me_with_header("proxy-user@example.com")).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["email"], "proxy-user@example.com");
    let empty = app.send(me_with_header("  ")).await;
    assert_eq!(empty.status, StatusCode::UNAUTHORIZED);
    let malformed = app.send(me_with_header("not an email")).await;
    assert_eq!(malformed.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn with_authentication_off_every_caller_is_the_default_user() {
    let app = spawn_app_with(|config| {
        config.authentication = Provider::Disabled {
            default_user: "dispatch@example.com".into(),
        }
    })
    .await;
    let response = app.send(request("GET", "/api/v1/default/auth/me")).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["email"], "dispatch@example.com");
    let again = app.send(me_with_header("someone@example.com")).await;
    assert_eq!(again.body["email"], "dispatch@example.com");
}

/// An identity that is not exactly an address (a look-alike Unicode character the parser
/// would fold, `K` for `k`), or one the identity provider says is unverified, signs nobody in.
#[tokio::test]
async fn a_look_alike_or_unverified_email_signs_nobody_in() {
    let app = header_app(false).await;
    let router = dispatch_auth::router(app.state.clone()).unwrap();
    let owner = app
        .register("alice@korp.com", "correct horse battery")
        .await;
    assert!(!owner.is_empty());
    let look_alike = serde_json::json!({"lambda": {"email": "alice@\u{212A}orp.com"}});
    let response = call_event(&router, &me_event(Some(look_alike))).await;
    assert_eq!(
        response.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        response.body
    );
    let unverified = serde_json::json!({"jwt": {"claims": {
        "email": "alice@korp.com", "email_verified": "false"
    }, "scopes": null}});
    let response = call_event(&router, &me_event(Some(unverified))).await;
    assert_eq!(
        response.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        response.body
    );
    let verified = serde_json::json!({"jwt": {"claims": {
        "email": "alice@korp.com", "email_verified": "true"
    }, "scopes": null}});
    let response = call_event(&router, &me_event(Some(verified))).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
}

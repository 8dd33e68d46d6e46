//! Start-up and secrets: a cold start that cannot reach Secrets Manager stops within its bound
//! with one line that names the secret (never its value); a warm function does not need
//! Secrets Manager, unless something asks for a secret's previous version, and then a
//! Secrets Manager that does not answer is a 503 within the request's bound.

use std::time::{Duration, Instant};

use http::StatusCode;

use super::{PASSWORD, ProxiedApp};
use crate::fault_proxy::{Fault, FaultProxy, Rule};
use crate::helpers::{authed, call, json_request, sdk_config};
use dispatch_domain::aws_sdk::CallBounds;
use dispatch_shared::AppState;
use dispatch_shared::state::Preload;

/// A Secrets Manager client through `proxy`, with the functions' call bounds.
async fn secrets_client(proxy: &FaultProxy) -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::config::Builder::from(sdk_config().await)
        .endpoint_url(proxy.endpoint())
        .timeout_config(CallBounds::API.timeout_config())
        .retry_config(CallBounds::API.retry_config())
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

async fn secrets_proxy() -> FaultProxy {
    sdk_config().await;
    let upstream = std::env::var("AWS_ENDPOINT_URL_SECRETS_MANAGER").expect("set by helpers");
    FaultProxy::start(&upstream).await
}

#[tokio::test]
async fn a_cold_start_without_secrets_manager_fails_in_one_line_within_its_bound() {
    let app = ProxiedApp::spawn(Duration::from_secs(8)).await;
    let proxy = secrets_proxy().await;
    proxy.inject(Rule::always(Fault::Stall));
    let config = app.direct.state.config().clone();
    let started = Instant::now();
    let outcome = AppState::start(
        config.clone(),
        app.direct.store.clone(),
        &secrets_client(&proxy).await,
        Preload::Nothing,
    )
    .await;
    let took = started.elapsed();
    let error = outcome.expect_err("no secrets, no start").to_string();
    assert!(took < Duration::from_secs(6), "failed after {took:?}");
    assert!(!error.contains('\n'), "one line: {error}");
    assert!(error.starts_with("startup error: secret "), "{error}");
    assert!(
        error.contains(&config.jwt_secret_id) || error.contains(&config.cursor_secret_id),
        "names the secret: {error}"
    );
    assert!(
        proxy.seen("BatchGetSecretValue") >= 2,
        "it did try, and retried"
    );
    assert_eq!(
        proxy.seen("GetSecretValue"),
        0,
        "a batch with no answer is not followed by one request per secret"
    );
}

#[tokio::test]
async fn a_warm_function_keeps_serving_with_its_keys_when_secrets_manager_is_down() {
    let app = ProxiedApp::spawn(Duration::from_secs(8)).await;
    let proxy = secrets_proxy().await;
    let state = AppState::start(
        app.direct.state.config().clone(),
        app.direct.store.clone(),
        &secrets_client(&proxy).await,
        Preload::Nothing,
    )
    .await
    .expect("starts");
    let requests =
        |proxy: &FaultProxy| proxy.seen("BatchGetSecretValue") + proxy.seen("GetSecretValue");
    let fetched = requests(&proxy);
    assert_eq!(
        (
            proxy.seen("BatchGetSecretValue"),
            proxy.seen("GetSecretValue")
        ),
        (1, 0),
        "start-up reads the current versions in one request and no previous version"
    );
    proxy.inject(Rule::always(Fault::Stall));

    let router = dispatch_cli::server::local_app(state).expect("route table");
    let login = call(
        &router,
        json_request(
            "POST",
            "/api/v1/default/auth/login",
            &serde_json::json!({"email": "owner@example.com", "password": PASSWORD}),
            None,
        ),
    )
    .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let token = login.body["token"].as_str().unwrap();
    let me = call(&router, authed("GET", "/api/v1/default/auth/me", token)).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(requests(&proxy), fetched, "no secret fetched while warm");

    // A token the current key did not sign may be one the previous key did: that version is
    // read now, and while Secrets Manager does not answer the caller is told to retry (503),
    // within the request's bound, rather than signed out (401).
    let foreign = authed(
        "GET",
        "/api/v1/default/auth/me",
        &token_of_another_key(token),
    );
    let started = Instant::now();
    let unsure = call(&router, foreign).await;
    assert_eq!(
        unsure.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        unsure.body
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    let tried = requests(&proxy);
    assert!(tried > fetched, "the previous version was asked for");
    // Right after, another such token waits for nothing and asks nothing.
    let again = call(
        &router,
        authed(
            "GET",
            "/api/v1/default/auth/me",
            &token_of_another_key(token),
        ),
    )
    .await;
    assert_eq!(
        again.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        again.body
    );
    assert_eq!(requests(&proxy), tried);
    let me = call(&router, authed("GET", "/api/v1/default/auth/me", token)).await;
    assert_eq!(
        me.status,
        StatusCode::OK,
        "the current key still serves: {}",
        me.body
    );
}

/// `token` with its signature replaced by one of another key.
fn token_of_another_key(token: &str) -> String {
    let (signed, _) = token.rsplit_once('.').unwrap();
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &[9; 32]);
    let tag = aws_lc_rs::hmac::sign(&key, signed.as_bytes());
    use base64::Engine;
    let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref());
    format!("{signed}.{tag}")
}

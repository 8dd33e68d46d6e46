//! Resilience (docs/resilience.md): the functions' own call bounds and request budget, with a
//! [`FaultProxy`] between them and DynamoDB Local. Each test gets its own table and proxy.
//!
//! - `route_groups`: per route group, a read and a write under a stalled store, throttling, and
//!   connections cut before or after DynamoDB applied a transaction.
//! - `cut_off`: multi-step writes (project and organization deletion, the CLI's uninstall)
//!   interrupted halfway, then finished; the request budget cutting a slow request.
//! - `cold_start`: start-up with Secrets Manager unreachable, and a warm function without it.
//! - `time_chain`: the template's timeouts, the request budget and API Gateway's limit agree.

mod cold_start;
mod cut_off;
mod route_groups;
mod time_chain;

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use axum::Router;
use dispatch_domain::aws_sdk::CallBounds;
use dispatch_domain::model::Role;
use dispatch_shared::AppState;
use dispatch_store::Store;
use http::StatusCode;

use crate::fault_proxy::FaultProxy;
use crate::helpers::{TestApp, TestResponse, sdk_config, spawn_app};

pub const PASSWORD: &str = "correct horse battery staple";

/// How long a request may take to answer 503 under a stalled store: the API's operation
/// timeout, plus room for a loaded test machine.
pub const STALL_ANSWER_BOUND: Duration = Duration::from_secs(6);

/// An app whose every DynamoDB call goes through a fault proxy, with the functions' own call
/// bounds ([`CallBounds::API`]). Set-up (table, users) goes straight to DynamoDB Local.
pub struct ProxiedApp {
    /// The same table, reached directly: for set-up and for looking at the state.
    pub direct: TestApp,
    pub proxy: FaultProxy,
    pub router: Router,
    /// An Owner of `default`.
    pub owner: String,
}

/// A DynamoDB client for `endpoint` with `bounds`, as the functions build theirs.
pub async fn bounded_client(endpoint: &str, bounds: CallBounds) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::config::Builder::from(sdk_config().await)
        .endpoint_url(endpoint)
        .timeout_config(bounds.timeout_config())
        .retry_config(bounds.retry_config())
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// The DynamoDB Local endpoint of the test stack.
pub async fn dynamodb_endpoint() -> String {
    sdk_config().await;
    std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("set by helpers::sdk_config")
}

impl ProxiedApp {
    /// A fresh table, an Owner of `default`, and the app behind a proxy with `budget`.
    pub async fn spawn(budget: Duration) -> Self {
        let direct = spawn_app().await;
        let owner = direct
            .registered_with_role("owner@example.com", PASSWORD, Role::Owner)
            .await;
        let proxy = FaultProxy::start(&dynamodb_endpoint().await).await;
        let client = bounded_client(&proxy.endpoint(), CallBounds::API).await;
        let store = Store::new(client, direct.store.table());
        let mut config = direct.state.config().clone();
        config.request_budget = budget;
        let state = AppState::new(config, store, direct.state.secrets().clone());
        let router = dispatch_cli::server::local_app(state).expect("route table");
        Self {
            direct,
            proxy,
            router,
            owner,
        }
    }

    /// Sends `request` through the proxied app; the response and how long it took.
    pub async fn timed(
        &self,
        request: http::Request<axum::body::Body>,
    ) -> (TestResponse, Duration) {
        let started = std::time::Instant::now();
        let response = crate::helpers::call(&self.router, request).await;
        (response, started.elapsed())
    }

    /// The keys of every item that is part of the data (not id counters or login-throttle
    /// records, which requests update on their own by design), read directly.
    pub async fn data_keys(&self) -> BTreeSet<(String, String)> {
        data_keys(&self.direct.store).await
    }
}

/// See [`ProxiedApp::data_keys`].
pub async fn data_keys(store: &Store) -> BTreeSet<(String, String)> {
    let s = |item: &std::collections::HashMap<String, AttributeValue>, name: &str| {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default()
    };
    crate::helpers::scan_all(store)
        .await
        .iter()
        .map(|item| (s(item, "pk"), s(item, "sk")))
        .filter(|(pk, _)| !pk.starts_with("COUNTER#") && !pk.starts_with("THROTTLE#"))
        .collect()
}

/// Asserts Dispatch's 503: its error shape, a `Retry-After`, and an answer within `bound`.
pub fn assert_unavailable(response: &TestResponse, took: Duration, bound: Duration, what: &str) {
    assert_eq!(
        response.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what}: {}",
        response.body
    );
    assert_eq!(
        response.body["detail"][0]["type"], "service_unavailable",
        "{what}: {}",
        response.body
    );
    let retry_after = response
        .headers
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    assert!(retry_after.is_some_and(|s| s >= 1), "{what}: Retry-After");
    assert!(
        took < bound,
        "{what}: answered after {took:?}, bound {bound:?}"
    );
}

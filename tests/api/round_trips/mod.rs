//! What a read costs in DynamoDB requests, counted exactly by an SDK interceptor on the
//! state's client: a members page and `/auth/me` stay constant whatever the page size, and
//! answer the same before schema version 3's migration (the slower reads), after it, and
//! while summaries are missing.

mod email_identity;
mod lists;
mod prefetch;
mod prefetch_races;
mod recent_plugins;
mod review;
mod summaries;

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use dispatch_shared::AppState;
use dispatch_store::Store;

use crate::helpers::{TestApp, TestResponse, call, sdk_config};

/// The DynamoDB operations a client sent, in order.
#[derive(Debug, Clone, Default)]
pub struct RequestLog(Arc<Mutex<Vec<String>>>);

impl RequestLog {
    /// The operations since the last call, and forgets them.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl Intercept for RequestLog {
    fn name(&self) -> &'static str {
        "RequestLog"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0
            .lock()
            .unwrap()
            .push(operation_of(context).to_owned());
        Ok(())
    }
}

/// The DynamoDB operation a request is for (`Query`, `BatchGetItem`, …).
pub fn operation_of<'a>(context: &'a BeforeTransmitInterceptorContextRef<'_>) -> &'a str {
    let target = context
        .request()
        .headers()
        .get("x-amz-target")
        .unwrap_or("?");
    target.rsplit('.').next().unwrap_or(target)
}

/// `sent` holds the requests of `expected`, in any order: a page whose first read goes out
/// beside the permission read (the instances page, [`prefetch`]) sends its first two in
/// either order.
pub fn same_requests(sent: &[String], expected: &[&str]) -> bool {
    let mut sent: Vec<&str> = sent.iter().map(String::as_str).collect();
    let mut expected = expected.to_vec();
    sent.sort_unstable();
    expected.sort_unstable();
    sent == expected
}

/// The app's state on a client that logs every request it sends.
pub async fn counted_state(app: &TestApp) -> (AppState, RequestLog) {
    counted_state_at(app, dispatch_domain::migrations::HEAD).await
}

/// [`counted_state`] of a function that started on `app`'s table at schema `version` (its
/// readers depend on it).
pub async fn counted_state_at(app: &TestApp, version: u32) -> (AppState, RequestLog) {
    let log = RequestLog::default();
    (observed_state(app, version, log.clone()).await, log)
}

/// The app's state at schema `version` on a client that runs `interceptor` on every request.
pub async fn observed_state(
    app: &TestApp,
    version: u32,
    interceptor: impl Intercept + 'static,
) -> AppState {
    let config = aws_sdk_dynamodb::config::Builder::from(sdk_config().await)
        .interceptor(interceptor)
        .build();
    let store = Store::new(
        aws_sdk_dynamodb::Client::from_conf(config),
        app.store.table().to_owned(),
    );
    AppState::at_version(
        app.state.config().clone(),
        store,
        app.state.secrets().clone(),
        version,
    )
}

/// Sends `GET path` through the dev server's app on `state`; the response and the requests
/// it cost.
pub async fn get_counted(
    state: &AppState,
    log: &RequestLog,
    path: &str,
    token: &str,
) -> (TestResponse, Vec<String>) {
    let app = dispatch_cli::server::local_app(state.clone()).expect("route table");
    log.take();
    let response = call(&app, crate::helpers::authed("GET", path, token)).await;
    (response, log.take())
}

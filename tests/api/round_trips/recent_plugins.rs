//! The catalogue rows a process read lately (`dispatch_domain::plugins::RecentPlugins`): the
//! plugins function reads them beside its secrets, so its first instances page reads only the
//! projects it shows, and the page is the same as one that read its plugins itself. A plugin
//! uninstalled since shows as it was in that process only (for at most `MAX_AGE`).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::types::AttributeValue;
use dispatch_domain::model::Role;
use dispatch_domain::plugins::catalogue;
use dispatch_shared::AppState;
use dispatch_shared::state::Preload;
use dispatch_store::Store;
use http::StatusCode;

use super::operation_of;
use crate::fault_proxy::{Fault, FaultProxy, Rule};
use crate::helpers::{TestApp, authed, call, sdk_config, spawn_app};
use crate::migrations::PASSWORD;
use crate::resilience::dynamodb_endpoint;

const PAGE: &str = "/api/v1/default/plugins/instances?itemsPerPage=50&page=1";

/// Every request sent: its operation and its body.
#[derive(Debug, Clone, Default)]
struct Sent(Arc<Mutex<Vec<(String, String)>>>);

impl Sent {
    fn take(&self) -> Vec<(String, String)> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }

    /// The bodies of the `BatchGetItem`s sent since the last take, and forgets every request.
    fn batches(&self) -> Vec<String> {
        self.take()
            .into_iter()
            .filter(|(operation, _)| operation == "BatchGetItem")
            .map(|(_, body)| body)
            .collect()
    }

    /// Whether a `BatchGetItem` since the last take read a plugin row by key.
    fn read_plugin_rows(&self) -> bool {
        self.batches().iter().any(|body| body.contains("\"PLUGIN#"))
    }

    fn operations(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(o, _)| o.clone())
            .collect()
    }
}

impl Intercept for Sent {
    fn name(&self) -> &'static str {
        "Sent"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let body = context.request().body().bytes().unwrap_or_default();
        self.0.lock().unwrap().push((
            operation_of(context).to_owned(),
            String::from_utf8_lossy(body).into_owned(),
        ));
        Ok(())
    }
}

/// A plugins function's start-up on `app`'s table (its secrets from the test stack), with
/// every DynamoDB request it sends recorded.
async fn started(app: &TestApp, preload: Preload) -> (AppState, Sent) {
    started_through(app, preload, None).await
}

/// [`started`], its DynamoDB requests sent through `proxy` when given.
async fn started_through(
    app: &TestApp,
    preload: Preload,
    proxy: Option<&FaultProxy>,
) -> (AppState, Sent) {
    let sent = Sent::default();
    let mut config = aws_sdk_dynamodb::config::Builder::from(sdk_config().await);
    if let Some(proxy) = proxy {
        config.set_endpoint_url(Some(proxy.endpoint()));
    }
    let config = config.interceptor(sent.clone()).build();
    let store = Store::new(
        aws_sdk_dynamodb::Client::from_conf(config),
        app.store.table().to_owned(),
    );
    let secrets = aws_sdk_secretsmanager::Client::new(sdk_config().await);
    let state = AppState::start(app.state.config().clone(), store, &secrets, preload)
        .await
        .expect("starts");
    (state, sent)
}

/// Waits (at most 10 s) until the start-up read of the catalogue rows has been sent and
/// answered: it runs on a task start-up does not wait for.
async fn preloaded(state: &AppState, sent: &Sent) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let (found, _) = state.recent_plugins().fresh(&[1], Instant::now());
        if !found.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "the catalogue rows were never read: {:?}",
        sent.operations()
    );
}

#[tokio::test]
async fn the_first_instances_page_after_start_up_reads_its_projects_only_and_is_the_same() {
    let app = spawn_app().await;
    let owner = app
        .registered_with_role("owner@example.com", PASSWORD, Role::Owner)
        .await;
    app.post_project(&owner, "default", "Security").await;

    let (state, sent) = started(&app, Preload::PluginRows).await;
    preloaded(&state, &sent).await;
    let start_up = sent.take();
    assert!(
        start_up
            .iter()
            .any(|(operation, body)| operation == "Query" && body.contains("PLUGINS")),
        "the catalogue's list index was read at start-up: {start_up:?}"
    );

    let router = dispatch_cli::server::local_app(state).expect("route table");
    let page = call(&router, authed("GET", PAGE, &owner)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let batches = sent.batches();
    assert!(
        batches.iter().any(|body| body.contains("PROJECT#")),
        "the projects are read: {batches:?}"
    );
    assert!(
        batches.iter().all(|body| !body.contains("\"PLUGIN#")),
        "no plugin row is read again: {batches:?}"
    );

    // The same page from a process that read its plugins with the page.
    let read_with_page = app.send(authed("GET", PAGE, &owner)).await;
    assert_eq!(
        first_difference(&page.body, &read_with_page.body),
        None,
        "the page differs from one read with its plugins"
    );
    assert_eq!(page.body["items"].as_array().map(Vec::len), Some(50));
}

#[tokio::test]
async fn a_plugin_uninstalled_after_start_up_shows_as_it_was_only_where_its_row_is_recent() {
    let app = spawn_app().await;
    let owner = app
        .registered_with_role("owner@example.com", PASSWORD, Role::Owner)
        .await;
    let (state, sent) = started(&app, Preload::PluginRows).await;
    preloaded(&state, &sent).await;
    let router = dispatch_cli::server::local_app(state.clone()).expect("route table");
    let zoom = |page: &serde_json::Value| {
        page["items"]
            .as_array()
            .and_then(|items| {
                items
                    .iter()
                    .find(|i| i["plugin"]["slug"] == "zoom-conference")
                    .cloned()
            })
            .expect("zoom's instance stays")
    };
    catalogue::uninstall(&app.store, &["zoom-conference".to_owned()])
        .await
        .unwrap();

    // A warm process shows the row it read at start-up for at most `MAX_AGE` (the ageing
    // itself is `RecentPlugins`' unit tests')...
    let page = call(&router, authed("GET", PAGE, &owner)).await;
    assert_eq!(zoom(&page.body)["broken"], false);
    // ...while a process that had not read it lately reads it, and finds it gone.
    let fresh = app.send(authed("GET", PAGE, &owner)).await;
    assert_eq!(zoom(&fresh.body)["broken"], true);
}

#[tokio::test]
async fn a_page_that_starts_while_the_rows_are_read_waits_for_them_and_is_the_same() {
    let app = spawn_app().await;
    let owner = app
        .registered_with_role("owner@example.com", PASSWORD, Role::Owner)
        .await;
    // The start-up read's first request (the catalogue's list index) answers 40 ms late, so
    // the page starts while it is under way.
    let proxy = FaultProxy::start(&dynamodb_endpoint().await).await;
    proxy.inject(Rule::on("Query", Fault::Delay(Duration::from_millis(40))).times(1));
    let (state, sent) = started_through(&app, Preload::PluginRows, Some(&proxy)).await;
    let router = dispatch_cli::server::local_app(state).expect("route table");
    let page = call(&router, authed("GET", PAGE, &owner)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let batches = sent.batches();
    // The start-up read is a Query: any batch naming a plugin row would be the page's own.
    assert!(
        batches.iter().all(|body| !body.contains("\"PLUGIN#")),
        "the page does not read the rows the start-up read is bringing: {batches:?}"
    );
    let read_with_page = app.send(authed("GET", PAGE, &owner)).await;
    assert_eq!(first_difference(&page.body, &read_with_page.body), None);
}

#[tokio::test]
async fn a_start_up_read_that_hangs_holds_the_first_page_a_moment_only() {
    let app = spawn_app().await;
    let owner = app
        .registered_with_role("owner@example.com", PASSWORD, Role::Owner)
        .await;
    let proxy = FaultProxy::start(&dynamodb_endpoint().await).await;
    proxy.inject(Rule::on("Query", Fault::Stall).times(1));
    let (state, sent) = started_through(&app, Preload::PluginRows, Some(&proxy)).await;
    let router = dispatch_cli::server::local_app(state).expect("route table");
    let started_at = Instant::now();
    let page = call(&router, authed("GET", PAGE, &owner)).await;
    let took = started_at.elapsed();
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    // It waits `PRELOAD_WAIT` (100 ms) for the read, not until the read gives up (never here).
    assert!(took < Duration::from_secs(2), "the page took {took:?}");
    assert!(sent.read_plugin_rows(), "the page read its plugins itself");
    let read_with_page = app.send(authed("GET", PAGE, &owner)).await;
    assert_eq!(first_difference(&page.body, &read_with_page.body), None);
    proxy.heal();
}

/// Where two pages first differ (a path and both values), if they do. A cursor (`next`)
/// carries its expiry time, so of cursors only their presence is compared.
fn first_difference(left: &serde_json::Value, right: &serde_json::Value) -> Option<String> {
    let comparable = |page: &serde_json::Value| {
        let mut page = page.clone();
        if let Some(next) = page.get_mut("next") {
            *next = serde_json::Value::Bool(!next.is_null());
        }
        page
    };
    difference(&comparable(left), &comparable(right))
}

fn difference(left: &serde_json::Value, right: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match (left, right) {
        (Value::Object(l), Value::Object(r)) => {
            l.keys()
                .chain(r.keys())
                .find_map(|key| match (l.get(key), r.get(key)) {
                    (Some(a), Some(b)) => difference(a, b).map(|d| format!(".{key}{d}")),
                    (a, b) => Some(format!(".{key}: {a:?} against {b:?}")),
                })
        }
        (Value::Array(l), Value::Array(r)) if l.len() == r.len() => l
            .iter()
            .zip(r)
            .enumerate()
            .find_map(|(i, (a, b))| difference(a, b).map(|d| format!("[{i}]{d}"))),
        (a, b) if a == b => None,
        (a, b) => Some(format!(": {a} against {b}")),
    }
}

#[tokio::test]
async fn rows_written_before_they_were_in_gsi1_are_read_by_the_page_until_install_places_them() {
    let app = spawn_app().await;
    let owner = app
        .registered_with_role("owner@example.com", PASSWORD, Role::Owner)
        .await;
    // The catalogue as an earlier build wrote it: no row in GSI1.
    for row in catalogue::installed(&app.store).await.unwrap() {
        app.store
            .client()
            .update_item()
            .table_name(app.store.table())
            .key("pk", AttributeValue::S(format!("PLUGIN#{}", row.id)))
            .key("sk", AttributeValue::S("PLUGIN".into()))
            .update_expression("REMOVE gsi1pk, gsi1sk")
            .send()
            .await
            .unwrap();
    }
    assert!(catalogue::every_row(&app.store).await.unwrap().is_empty());
    let expected = app.send(authed("GET", PAGE, &owner)).await;

    // The start-up read finds nothing: the page reads its plugins itself, and is the same.
    let (state, sent) = started(&app, Preload::PluginRows).await;
    let router = dispatch_cli::server::local_app(state).expect("route table");
    let page = call(&router, authed("GET", PAGE, &owner)).await;
    assert_eq!(first_difference(&page.body, &expected.body), None);
    assert!(sent.read_plugin_rows(), "the page read its plugins");

    // `dispatch plugins install` (and `database init`) gives every installed row its place.
    catalogue::install(&app.store, false).await.unwrap();
    assert_eq!(catalogue::every_row(&app.store).await.unwrap().len(), 28);
    let (state, sent) = started(&app, Preload::PluginRows).await;
    preloaded(&state, &sent).await;
    let router = dispatch_cli::server::local_app(state).expect("route table");
    let page = call(&router, authed("GET", PAGE, &owner)).await;
    assert_eq!(first_difference(&page.body, &expected.body), None);
    assert!(!sent.read_plugin_rows(), "no plugin row read by key");
}

//! The plugin instances page reads its instances beside the permission read
//! (`dispatch_shared::http::Prefetch`): the page is the same as read after it, the two reads
//! overlap, and a caller the permission layer refuses gets nothing of it, in the usual order
//! of errors.

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use axum::Router;
use dispatch_domain::migrations::HEAD;
use dispatch_domain::model::Role;
use dispatch_shared::AppState;
use dispatch_shared::http::{RouteHandlers, app};
use dispatch_shared::routes::{Function, Method};
use http::StatusCode;

use super::{counted_state, get_counted, observed_state, operation_of, same_requests};
use crate::helpers::{authed, call, request};
use crate::migrations::PASSWORD;
use crate::migrations::instances_index::populated;

const ROUTE: &str = "/api/v1/{organization}/plugins/instances";
const PAGE: &str = "/api/v1/default/plugins/instances?itemsPerPage=25&page=1";

/// Every request sent (`send <operation>`) and every response received (`answer`), in order.
#[derive(Debug, Clone, Default)]
struct Timeline(Arc<Mutex<Vec<String>>>);

impl Timeline {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl Intercept for Timeline {
    fn name(&self) -> &'static str {
        "Timeline"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = operation_of(context);
        self.0.lock().unwrap().push(format!("send {operation}"));
        Ok(())
    }

    fn read_after_transmit(
        &self,
        _: &BeforeDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.lock().unwrap().push("answer".to_owned());
        Ok(())
    }
}

/// The same handler registered without its prefetch: it reads after the permission layer.
fn without_prefetch(state: AppState) -> Router {
    let routes = RouteHandlers::new(Function::Plugins).handle(
        Method::Get,
        ROUTE,
        dispatch_plugins::instances::list::list_instances,
    );
    app(vec![routes], state).expect("route table")
}

#[tokio::test]
async fn the_instances_page_is_read_while_the_caller_is_checked_and_is_the_same_page() {
    let (app, owner) = populated().await;
    let timeline = Timeline::default();
    let state = observed_state(&app, HEAD, timeline.clone()).await;
    let with = dispatch_cli::server::local_app(state.clone()).expect("route table");
    let after = without_prefetch(state);

    timeline.take();
    let response = call(&with, authed("GET", PAGE, &owner)).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let overlapped = timeline.take();
    assert!(
        same_requests(&overlapped[..2], &["send BatchGetItem", "send Query"])
            && overlapped[2] == "answer",
        "the index query goes out before the permission read is answered: {overlapped:?}"
    );
    let read_after = call(&after, authed("GET", PAGE, &owner)).await;
    assert_eq!(
        timeline.take()[..3],
        ["send BatchGetItem", "answer", "send Query"].map(String::from)
    );
    assert_eq!(response.body, read_after.body);
    assert!(response.body["total"].as_i64().unwrap() > 1);

    // The totals and echoes that depend on the organization's count, the next page by cursor,
    // and the queries that are not read ahead (filter, search, a sort outside the indexes).
    let every = PAGE.replace("itemsPerPage=25", "itemsPerPage=-1");
    let more = PAGE.replace("itemsPerPage=25", "itemsPerPage=1000");
    let two = PAGE.replace("itemsPerPage=25", "itemsPerPage=2");
    let next = response_next(&with, &two, &owner).await;
    let filtered = format!(
        "{PAGE}&filter={}",
        urlencode(
            r#"{"and":[{"model":"PluginInstance","field":"enabled","op":"==","value":false}]}"#
        )
    );
    let searched = format!("{PAGE}&q=slack");
    let in_memory = format!("{PAGE}&sortBy[]=Project.name");
    for path in [&every, &more, &two, &next, &filtered, &searched, &in_memory] {
        let read_ahead = call(&with, authed("GET", path, &owner)).await;
        let read_after = call(&after, authed("GET", path, &owner)).await;
        assert_eq!(
            read_ahead.status,
            StatusCode::OK,
            "{path}: {}",
            read_ahead.body
        );
        assert_eq!(read_ahead.body, read_after.body, "{path}");
    }
    let every = call(&with, authed("GET", &every, &owner)).await.body;
    assert_eq!(every["itemsPerPage"], every["total"]);
    assert_eq!(
        every["items"].as_array().unwrap().len() as i64,
        every["total"].as_i64().unwrap()
    );
}

async fn response_next(router: &Router, path: &str, token: &str) -> String {
    let first = call(router, authed("GET", path, token)).await;
    let cursor = first.body["next"].as_str().expect("a next page");
    format!("{path}&cursor={}", urlencode(cursor))
}

fn urlencode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[tokio::test]
async fn a_caller_the_permission_layer_refuses_gets_nothing_and_errors_keep_their_order() {
    let (app, _owner) = populated().await;
    let (state, log) = counted_state(&app).await;
    let router = dispatch_cli::server::local_app(state).expect("route table");

    // No identity: refused before any read, so nothing is read ahead either.
    log.take();
    let anonymous = call(&router, request("GET", PAGE)).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let forged = call(&router, authed("GET", PAGE, "not.a.token")).await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    assert!(
        log.take().is_empty(),
        "no DynamoDB request without an identity"
    );

    // A member of another organization only: 403 with no item of `default`, also when its
    // query string is invalid (the permission's answer comes first).
    let owner_elsewhere = app
        .registered_with_role("elsewhere@example.com", PASSWORD, Role::Owner)
        .await;
    let second = app.post_organization(&owner_elsewhere, "Second Org").await;
    let second = dispatch_domain::users::organization(&app.store, second["slug"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    let outsider = app
        .member_only_of(&second, "outsider@example.com", PASSWORD, Role::Owner)
        .await;
    for path in [PAGE.to_owned(), format!("{PAGE}&itemsPerPage=many")] {
        let refused = call(&router, authed("GET", &path, &outsider)).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{path}: {}",
            refused.body
        );
        assert!(refused.body.get("items").is_none(), "{}", refused.body);
        assert!(
            !refused.body.to_string().contains("slack"),
            "{}",
            refused.body
        );
    }
    // An organization that does not exist: 404, as without the prefetch.
    let (counted, sent) = get_counted(
        &observed_state(&app, HEAD, log.clone()).await,
        &log,
        "/api/v1/nowhere/plugins/instances?itemsPerPage=25&page=1",
        &outsider,
    )
    .await;
    assert_eq!(counted.status, StatusCode::NOT_FOUND, "{}", counted.body);
    assert_eq!(
        sent.len(),
        2,
        "the permission read and the prefetch's query: {sent:?}"
    );
}

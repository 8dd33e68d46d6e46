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
use dispatch_shared::http::{RouteHandlers, RouteTableError, app};
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
    assert_same_page(&response.body, &read_after.body, PAGE);
    assert!(response.body["total"].as_i64().unwrap() > 25);

    // Read ahead: the echo of more than there is, which depends on the organization's count,
    // and a small page with a next one. Not read ahead (the handler reads after the
    // permission layer, as the other routes): all items, over 100, a cursor, a later page,
    // a filter, a search, a sort outside the indexes.
    let hundred = PAGE.replace("itemsPerPage=25", "itemsPerPage=100");
    let two = PAGE.replace("itemsPerPage=25", "itemsPerPage=2");
    let every = PAGE.replace("itemsPerPage=25", "itemsPerPage=-1");
    let more = PAGE.replace("itemsPerPage=25", "itemsPerPage=1000");
    let next = response_next(&with, &two, &owner).await;
    let later = PAGE.replace("page=1", "page=2");
    let filtered = format!(
        "{PAGE}&filter={}",
        urlencode(
            r#"{"and":[{"model":"PluginInstance","field":"enabled","op":"==","value":false}]}"#
        )
    );
    let searched = format!("{PAGE}&q=slack");
    let in_memory = format!("{PAGE}&sortBy[]=Project.name&descending[]=false");
    for (path, ahead) in [
        (&hundred, true),
        (&two, true),
        (&every, false),
        (&more, false),
        (&next, false),
        (&later, false),
        (&filtered, false),
        (&searched, false),
        (&in_memory, false),
    ] {
        timeline.take();
        let read_ahead = call(&with, authed("GET", path, &owner)).await;
        assert_eq!(
            read_ahead.status,
            StatusCode::OK,
            "{path}: {}",
            read_ahead.body
        );
        let sent = timeline.take();
        assert_eq!(sent[1] == "send Query", ahead, "{path}: {sent:?}");
        let read_after = call(&after, authed("GET", path, &owner)).await;
        assert_same_page(&read_ahead.body, &read_after.body, path);
    }
    let hundred = call(&with, authed("GET", &hundred, &owner)).await.body;
    assert_eq!(hundred["itemsPerPage"], hundred["total"]);
    assert_eq!(
        hundred["items"].as_array().unwrap().len() as i64,
        hundred["total"].as_i64().unwrap()
    );
}

/// The same page; `next` compared by presence only, as a cursor carries its expiry time.
fn assert_same_page(ahead: &serde_json::Value, after: &serde_json::Value, path: &str) {
    let without_next = |body: &serde_json::Value| {
        let mut body = body.clone();
        body.as_object_mut().unwrap().remove("next");
        body
    };
    assert_eq!(without_next(ahead), without_next(after), "{path}");
    assert_eq!(
        ahead["next"].is_string(),
        after["next"].is_string(),
        "{path}"
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
    let (missing, _) = get_counted(
        &observed_state(&app, HEAD, log.clone()).await,
        &log,
        "/api/v1/nowhere/plugins/instances?itemsPerPage=25&page=1",
        &outsider,
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
}

/// A prefetch reads before the caller is known, so only routes that admit members of the
/// path's organization alone may have one.
#[tokio::test]
async fn a_prefetch_on_a_route_open_beyond_the_organizations_members_is_refused() {
    let (app, _owner) = populated().await;
    for (function, method, path) in [
        (
            Function::Auth,
            Method::Get,
            "/api/v1/{organization}/auth/me",
        ),
        (
            Function::Organizations,
            Method::Get,
            "/api/v1/organizations/{organization_id}",
        ),
        (
            Function::Organizations,
            Method::Put,
            "/api/v1/organizations/{organization_id}",
        ),
        (
            Function::Users,
            Method::Put,
            "/api/v1/{organization}/users/{user_id}",
        ),
    ] {
        let routes = RouteHandlers::new(function).handle_prefetched(
            method,
            path,
            || async { "" },
            dispatch_plugins::instances::list::prefetch_page,
        );
        assert!(
            matches!(
                app_result(routes, app.state.clone()),
                Err(RouteTableError::PrefetchBeyondMembers { .. })
            ),
            "{path}"
        );
    }
    let member_route = RouteHandlers::new(Function::Plugins).handle_prefetched(
        Method::Get,
        ROUTE,
        dispatch_plugins::instances::list::list_instances,
        dispatch_plugins::instances::list::prefetch_page,
    );
    assert!(app_result(member_route, app.state.clone()).is_ok());
}

fn app_result(routes: RouteHandlers, state: AppState) -> Result<Router, RouteTableError> {
    app(vec![routes], state)
}

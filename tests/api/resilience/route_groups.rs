//! Every route group's reads and writes when DynamoDB stalls, throttles, or drops connections:
//! a clear 503 within the bound and nothing half-written, then normal service once it recovers.

use std::time::Duration;

use axum::body::Body;
use http::{Request, StatusCode};
use serde_json::{Value, json};

use super::{PASSWORD, ProxiedApp, STALL_ANSWER_BOUND, assert_unavailable};
use crate::fault_proxy::{Fault, Rule};
use crate::helpers::{authed, json_request};

/// One route group: a read and a write (which adds one entity) through its routes.
#[derive(Debug, Clone, Copy)]
enum Group {
    Auth,
    Users,
    Organizations,
    Projects,
    Plugins,
}

impl Group {
    fn read(self, app: &ProxiedApp) -> Request<Body> {
        let path = match self {
            Group::Auth => "/api/v1/default/auth/me",
            Group::Users => "/api/v1/default/users",
            Group::Organizations => "/api/v1/organizations",
            Group::Projects => "/api/v1/default/projects",
            Group::Plugins => "/api/v1/default/plugins/instances",
        };
        authed("GET", path, &app.owner)
    }

    /// A write whose `n` makes it new (a name or email not taken yet).
    async fn write(self, app: &ProxiedApp, n: u32) -> Request<Body> {
        let token = Some(app.owner.as_str());
        match self {
            Group::Auth => json_request(
                "POST",
                "/api/v1/default/auth/register",
                &json!({"email": format!("new{n}@example.com"), "password": PASSWORD}),
                None,
            ),
            Group::Users => json_request(
                "POST",
                "/api/v1/default/users",
                &json!({"email": format!("made{n}@example.com"), "password": PASSWORD, "role": "Member"}),
                token,
            ),
            Group::Organizations => json_request(
                "POST",
                "/api/v1/organizations",
                &json!({"name": format!("Org {n}")}),
                token,
            ),
            Group::Projects => json_request(
                "POST",
                "/api/v1/default/projects",
                &json!({"name": format!("project-{n}")}),
                token,
            ),
            Group::Plugins => json_request(
                "POST",
                "/api/v1/default/plugins/instances",
                &json!({"plugin": plugin(app, "opsgenie-oncall").await, "project": {"id": 1, "name": "default"}}),
                token,
            ),
        }
    }
}

/// A catalogue entry as the UI sends it, read directly.
async fn plugin(app: &ProxiedApp, slug: &str) -> Value {
    let catalogue = app
        .direct
        .send(authed(
            "GET",
            "/api/v1/default/plugins?itemsPerPage=-1",
            &app.owner,
        ))
        .await;
    catalogue.body["items"]
        .as_array()
        .expect("catalogue")
        .iter()
        .find(|p| p["slug"] == slug)
        .expect("shipped plugin")
        .clone()
}

/// How many data items a clean write of `group` adds (measured, so the tests do not hard-code
/// what each entity is made of).
async fn clean_write_adds(app: &ProxiedApp, group: Group) -> usize {
    let before = app.data_keys().await.len();
    let (response, _) = app.timed(group.write(app, 900).await).await;
    assert_eq!(
        response.status,
        StatusCode::OK,
        "{group:?}: {}",
        response.body
    );
    app.data_keys().await.len() - before
}

/// A stalled store: the read and the write answer 503 within the bound, the write changed
/// nothing; once the stall ends both work again.
async fn stall_then_recovery(group: Group) {
    let app = ProxiedApp::spawn(Duration::from_secs(8)).await;
    let before = app.data_keys().await;
    app.proxy.inject(Rule::always(Fault::Stall));

    let (read, took) = app.timed(group.read(&app)).await;
    assert_unavailable(&read, took, STALL_ANSWER_BOUND, &format!("{group:?} read"));
    let (write, took) = app.timed(group.write(&app, 1).await).await;
    assert_unavailable(
        &write,
        took,
        STALL_ANSWER_BOUND,
        &format!("{group:?} write"),
    );
    assert_eq!(app.data_keys().await, before, "{group:?}: nothing written");

    app.proxy.heal();
    let (read, _) = app.timed(group.read(&app)).await;
    assert_eq!(
        read.status,
        StatusCode::OK,
        "{group:?} read after: {}",
        read.body
    );
    let (write, _) = app.timed(group.write(&app, 1).await).await;
    assert_eq!(
        write.status,
        StatusCode::OK,
        "{group:?} write after: {}",
        write.body
    );
    assert!(
        app.data_keys().await.len() > before.len(),
        "{group:?}: written"
    );
}

/// Throttling: a passing burst is retried by the SDK and the client never sees it; a lasting
/// one is a 503 with `Retry-After` after the retries, and writes nothing.
async fn throttling_is_retried_then_503(group: Group) {
    let app = ProxiedApp::spawn(Duration::from_secs(8)).await;
    app.proxy
        .inject(Rule::always(Fault::Throttle("ProvisionedThroughputExceededException")).times(1));
    let (read, _) = app.timed(group.read(&app)).await;
    assert_eq!(read.status, StatusCode::OK, "{group:?}: {}", read.body);
    app.proxy
        .inject(Rule::on("TransactWriteItems", Fault::Throttle("ThrottlingException")).times(1));
    let (write, _) = app.timed(group.write(&app, 1).await).await;
    assert_eq!(write.status, StatusCode::OK, "{group:?}: {}", write.body);
    assert_eq!(
        app.proxy.seen("TransactWriteItems"),
        2,
        "{group:?}: retried once"
    );

    let before = app.data_keys().await;
    let calls_before = app.proxy.seen("TransactWriteItems");
    app.proxy
        .inject(Rule::always(Fault::Throttle("RequestLimitExceeded")));
    let (read, took) = app.timed(group.read(&app)).await;
    assert_unavailable(&read, took, STALL_ANSWER_BOUND, &format!("{group:?} read"));
    app.proxy.heal();
    app.proxy.inject(Rule::on(
        "TransactWriteItems",
        Fault::Throttle("ThrottlingException"),
    ));
    let (write, took) = app.timed(group.write(&app, 2).await).await;
    assert_unavailable(
        &write,
        took,
        STALL_ANSWER_BOUND,
        &format!("{group:?} write"),
    );
    assert_eq!(
        app.proxy.seen("TransactWriteItems") - calls_before,
        dispatch_domain::aws_sdk::CallBounds::API.max_attempts as usize,
        "{group:?}: every attempt the SDK allows"
    );
    assert_eq!(app.data_keys().await, before, "{group:?}: nothing written");
    app.proxy.heal();
    let (write, _) = app.timed(group.write(&app, 2).await).await;
    assert_eq!(write.status, StatusCode::OK, "{group:?}: {}", write.body);
}

/// A connection cut around the write's transaction. Cut after DynamoDB applied it, once: the
/// SDK's retry carries the same request token, so the client gets its 200 and the change is
/// there once (without the token the retry's uniqueness guards would fail: a 409 for a write
/// that succeeded). Cut every time before it is applied: 503, nothing written, and the client's
/// retry works. Cut every time after: 503, the whole change is there, and the client's retry
/// adds nothing half-made.
async fn reset_mid_transaction_is_all_or_nothing(group: Group) {
    let app = ProxiedApp::spawn(Duration::from_secs(8)).await;
    let adds = clean_write_adds(&app, group).await;
    assert!(adds > 0);

    let before = app.data_keys().await.len();
    app.proxy
        .inject(Rule::on("TransactWriteItems", Fault::ResetAfterForwarding).times(1));
    let (write, _) = app.timed(group.write(&app, 1).await).await;
    assert_eq!(write.status, StatusCode::OK, "{group:?}: {}", write.body);
    assert_eq!(
        app.data_keys().await.len(),
        before + adds,
        "{group:?}: applied once"
    );

    let before = app.data_keys().await;
    app.proxy
        .inject(Rule::on("TransactWriteItems", Fault::ResetBeforeForwarding));
    let (write, took) = app.timed(group.write(&app, 2).await).await;
    assert_unavailable(
        &write,
        took,
        STALL_ANSWER_BOUND,
        &format!("{group:?} reset before"),
    );
    assert_eq!(app.data_keys().await, before, "{group:?}: nothing applied");
    app.proxy.heal();
    let (retry, _) = app.timed(group.write(&app, 2).await).await;
    assert_eq!(retry.status, StatusCode::OK, "{group:?}: {}", retry.body);

    let before = app.data_keys().await.len();
    app.proxy
        .inject(Rule::on("TransactWriteItems", Fault::ResetAfterForwarding));
    let (write, took) = app.timed(group.write(&app, 3).await).await;
    assert_unavailable(
        &write,
        took,
        STALL_ANSWER_BOUND,
        &format!("{group:?} reset after"),
    );
    assert_eq!(
        app.data_keys().await.len(),
        before + adds,
        "{group:?}: the whole change"
    );
    app.proxy.heal();
    let (retry, _) = app.timed(group.write(&app, 3).await).await;
    assert!(
        retry.status.is_client_error() || retry.status == StatusCode::OK,
        "{group:?}: {} {}",
        retry.status,
        retry.body
    );
    let after = app.data_keys().await.len();
    assert!(
        after == before + adds || after == before + 2 * adds,
        "{group:?}: whole entities only ({before} + {adds} → {after})"
    );
}

macro_rules! route_group_tests {
    ($($name:ident => $group:expr),* $(,)?) => {$(
        mod $name {
            use super::*;

            #[tokio::test]
            async fn a_stalled_store_is_a_503_within_the_bound_then_service_resumes() {
                stall_then_recovery($group).await;
            }

            #[tokio::test]
            async fn throttling_is_retried_then_a_503_with_retry_after() {
                throttling_is_retried_then_503($group).await;
            }

            #[tokio::test]
            async fn a_connection_reset_mid_transaction_leaves_all_or_nothing() {
                reset_mid_transaction_is_all_or_nothing($group).await;
            }
        }
    )*};
}

route_group_tests! {
    auth => Group::Auth,
    users => Group::Users,
    organizations => Group::Organizations,
    projects => Group::Projects,
    plugins => Group::Plugins,
}

//! What a stalled DynamoDB costs a client (BENCHMARKS.md, resilience issue): how long a request
//! takes to be answered 503 while every call to the store hangs, and how long after the store
//! comes back the first request succeeds. The API's own call bounds and request budget, the
//! app in process (release build), a fault-injecting proxy in front of the local stack:
//! `infra/local/stack.sh start test && cargo run --release -p dispatch-tests --example store_outage`.

#[path = "local_stack.rs"]
mod local_stack;

#[allow(dead_code)]
#[path = "../api/fault_proxy/mod.rs"]
mod fault_proxy;

use std::time::{Duration, Instant};

use axum::body::Body;
use dispatch_domain::aws_sdk::CallBounds;
use dispatch_shared::AppState;
use dispatch_store::Store;
use fault_proxy::{Fault, FaultProxy, Rule};
use http::{Request, StatusCode};
use tower::ServiceExt;

const RUNS: usize = 10;
const PASSWORD: &str = "correct horse battery";

fn request(
    method: &str,
    path: &str,
    token: &str,
    body: Option<serde_json::Value>,
) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap()
}

async fn send(router: &axum::Router, request: Request<Body>) -> (StatusCode, Duration) {
    let started = Instant::now();
    let response = router.clone().oneshot(request).await.unwrap();
    (response.status(), started.elapsed())
}

fn summary(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    format!(
        "median {:.0} ms, max {:.0} ms (n = {})",
        ms(samples[samples.len() / 2]),
        ms(*samples.last().unwrap()),
        samples.len()
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sdk = local_stack::sdk_config().await;
    let direct = Store::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        format!("bench-outage-{}", uuid::Uuid::new_v4().simple()),
    );
    dispatch_cli::database::init(&direct).await?;
    let direct_state = local_stack::app_state(&sdk, &direct).await?;
    let direct_router = dispatch_cli::server::local_app(direct_state.clone())?;
    let register = serde_json::json!({ "email": "ops@example.com", "password": PASSWORD });
    let registered = direct_router
        .clone()
        .oneshot(
            Request::builder()
                .method("POST")
                .uri("/api/v1/default/auth/register")
                .header("content-type", "application/json")
                .body(Body::from(register.to_string()))?,
        )
        .await?;
    let body = http_body_util::BodyExt::collect(registered.into_body())
        .await?
        .to_bytes();
    let token: serde_json::Value = serde_json::from_slice(&body)?;
    let token = token["token"].as_str().expect("token").to_owned();

    let upstream = std::env::var("AWS_ENDPOINT_URL_DYNAMODB")?;
    let proxy = FaultProxy::start(&upstream).await;
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .endpoint_url(proxy.endpoint())
            .timeout_config(CallBounds::API.timeout_config())
            .retry_config(CallBounds::API.retry_config())
            .build(),
    );
    let state = AppState::new(
        direct_state.config().clone(),
        Store::new(client, direct.table()),
        direct_state.secrets().clone(),
    );
    let router = dispatch_cli::server::local_app(state)?;
    println!(
        "call bounds: attempt {:?}, operation {:?}, {} attempts; request budget {:?}",
        CallBounds::API.attempt,
        CallBounds::API.operation,
        CallBounds::API.max_attempts,
        direct_state.config().request_budget
    );

    // Time to the 503 while every store call hangs.
    proxy.inject(Rule::always(Fault::Stall));
    let (mut reads, mut writes) = (Vec::new(), Vec::new());
    for run in 0..RUNS {
        let (status, took) = send(
            &router,
            request("GET", "/api/v1/default/auth/me", &token, None),
        )
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        reads.push(took);
        let org = serde_json::json!({ "name": format!("Outage {run}") });
        let (status, took) = send(
            &router,
            request("POST", "/api/v1/organizations", &token, Some(org)),
        )
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        writes.push(took);
    }
    println!("stalled store, GET /auth/me → 503: {}", summary(reads));
    println!(
        "stalled store, POST /organizations → 503: {}",
        summary(writes)
    );
    proxy.heal();

    // Recovery: the store stalls for a window while a client keeps calling; the time from the
    // window's end to the first 200.
    let mut recoveries = Vec::new();
    for _ in 0..RUNS {
        let window = Duration::from_secs(2);
        let ends = Instant::now() + window;
        proxy.inject(Rule::always(Fault::Stall).for_window(window));
        loop {
            let (status, _) = send(
                &router,
                request("GET", "/api/v1/default/auth/me", &token, None),
            )
            .await;
            if status == StatusCode::OK && Instant::now() >= ends {
                recoveries.push(Instant::now() - ends);
                break;
            }
            assert!(status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::OK);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        proxy.heal();
    }
    println!(
        "store back after a 2 s stall → first 200 (client polling every 50 ms): {}",
        summary(recoveries)
    );
    Ok(())
}

//! Login throughput of one account with parallel clients (BENCHMARKS.md, security issue): a
//! service account used by parallel workers must never be refused because of its own correct
//! logins. Runs the auth router in process (release build) against the local stack:
//! `infra/local/stack.sh start test && cargo run --release -p dispatch-tests --example login_throughput`.

#[path = "local_stack.rs"]
mod local_stack;

use std::time::{Duration, Instant};

use dispatch_store::Store;
use http::{Request, StatusCode};
use tower::ServiceExt;

const LOGINS_PER_CLIENT: usize = 40;
const EMAIL: &str = "worker@example.com";
const PASSWORD: &str = "correct horse battery";

fn login_request() -> Request<axum::body::Body> {
    let body = serde_json::json!({ "email": EMAIL, "password": PASSWORD }).to_string();
    Request::builder()
        .method("POST")
        .uri("/api/v1/default/auth/login")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body))
        .unwrap()
}

/// `clients` tasks each logging in `LOGINS_PER_CLIENT` times, back to back; returns the
/// latencies and the statuses other than 200.
async fn run(router: &axum::Router, clients: usize) -> (Duration, Vec<Duration>, Vec<StatusCode>) {
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let router = router.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut refused = Vec::new();
                for _ in 0..LOGINS_PER_CLIENT {
                    let sent = Instant::now();
                    let response = router.clone().oneshot(login_request()).await.unwrap();
                    latencies.push(sent.elapsed());
                    if response.status() != StatusCode::OK {
                        refused.push(response.status());
                    }
                }
                (latencies, refused)
            })
        })
        .collect();
    let (mut latencies, mut refused) = (Vec::new(), Vec::new());
    for task in tasks {
        let (l, r) = task.await.unwrap();
        latencies.extend(l);
        refused.extend(r);
    }
    latencies.sort();
    (started.elapsed(), latencies, refused)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sdk = local_stack::sdk_config().await;
    let store = Store::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        format!("bench-login-{}", uuid::Uuid::new_v4().simple()),
    );
    dispatch_cli::database::init(&store).await?;
    let state = local_stack::app_state(&sdk, &store).await?;
    let router = dispatch_auth::router(state)?;
    let register = serde_json::json!({ "email": EMAIL, "password": PASSWORD }).to_string();
    let registered = router
        .clone()
        .oneshot(
            Request::builder()
                .method("POST")
                .uri("/api/v1/default/auth/register")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(register))?,
        )
        .await?;
    anyhow::ensure!(registered.status() == StatusCode::OK, "registration failed");

    println!("| clients | logins | wall time | logins/s | median | p95 | not 200 |");
    println!("|---|---|---|---|---|---|---|");
    for clients in [1, 8] {
        let (wall, latencies, refused) = run(&router, clients).await;
        let n = latencies.len();
        println!(
            "| {clients} | {n} | {:.2} s | {:.1} | {:.1} ms | {:.1} ms | {} |",
            wall.as_secs_f64(),
            n as f64 / wall.as_secs_f64(),
            latencies[n / 2].as_secs_f64() * 1e3,
            latencies[n * 95 / 100].as_secs_f64() * 1e3,
            refused.len()
        );
    }
    Ok(())
}

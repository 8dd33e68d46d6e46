//! What the authentication provider costs a request (BENCHMARKS.md): `GET /default/auth/me`
//! with the basic provider (an HS256 session token) and with the PKCE provider (an ES256 or
//! RS256 token of an identity provider, its JWKS served on loopback and cached after the first
//! request), sequentially, after a warm-up. Runs the auth router in process against the local
//! stack: `infra/local/stack.sh start test && cargo run --release -p dispatch-tests --example
//! auth_providers`.

#[path = "local_stack.rs"]
mod local_stack;

#[path = "../api/auth_pkce/idp.rs"]
#[allow(dead_code)]
mod idp;

use std::time::{Duration, Instant};

use dispatch_domain::auth::provider::Provider;
use dispatch_domain::auth::provider::settings::PkceSettings;
use dispatch_shared::AppState;
use dispatch_store::Store;
use http::{Request, StatusCode};
use tower::ServiceExt;

const WARM_UP: usize = 20;
const REQUESTS: usize = 300;
const EMAIL: &str = "bench@example.com";
const ISSUER: &str = "https://idp.example.com/oauth2/default";
const AUDIENCE: &str = "dispatch-ui";

fn me(token: &str) -> Request<axum::body::Body> {
    Request::builder()
        .uri("/api/v1/default/auth/me")
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap()
}

/// `REQUESTS` sequential `/auth/me` after the warm-up; the sorted latencies.
async fn measure(router: &axum::Router, token: &str) -> anyhow::Result<Vec<Duration>> {
    let mut latencies = Vec::with_capacity(REQUESTS);
    for i in 0..WARM_UP + REQUESTS {
        let sent = Instant::now();
        let response = router.clone().oneshot(me(token)).await?;
        let elapsed = sent.elapsed();
        anyhow::ensure!(
            response.status() == StatusCode::OK,
            "/auth/me answered {}",
            response.status()
        );
        if i >= WARM_UP {
            latencies.push(elapsed);
        }
    }
    latencies.sort();
    Ok(latencies)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sdk = local_stack::sdk_config().await;
    let store = Store::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        format!("bench-auth-{}", uuid::Uuid::new_v4().simple()),
    );
    dispatch_cli::database::init(&store).await?;
    let basic = local_stack::app_state(&sdk, &store).await?;
    let basic_router = dispatch_auth::router(basic.clone())?;
    let register = serde_json::json!({ "email": EMAIL, "password": "correct horse battery" });
    let registered = basic_router
        .clone()
        .oneshot(
            Request::builder()
                .method("POST")
                .uri("/api/v1/default/auth/register")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(register.to_string()))?,
        )
        .await?;
    anyhow::ensure!(registered.status() == StatusCode::OK, "registration failed");
    let body = http_body_util::BodyExt::collect(registered.into_body())
        .await?
        .to_bytes();
    let session: serde_json::Value = serde_json::from_slice(&body)?;
    let session = session["token"].as_str().unwrap_or_default().to_owned();

    let (ec, rsa) = (
        idp::SigningKey::es256("ec-1"),
        idp::SigningKey::rs256("rsa-1"),
    );
    let provider = idp::IdentityProvider::start(&[&ec, &rsa]).await;
    let mut config = basic.config().clone();
    config.authentication = Provider::Pkce(PkceSettings {
        jwks_url: Some(provider.jwks_url()),
        trust_jwt_authorizer: false,
        audience: Some(AUDIENCE.into()),
        issuer: Some(ISSUER.into()),
        email_claim: "email".into(),
        key_cache: Duration::from_secs(300),
    });
    let pkce_router = dispatch_auth::router(AppState::new(
        config,
        store.clone(),
        basic.secrets().clone(),
    ))?;
    let claims = serde_json::json!({"iss": ISSUER, "aud": AUDIENCE, "email": EMAIL,
        "sub": "00u-bench", "iat": idp::now(), "exp": idp::now() + 3600});

    println!("| provider | requests | median | p95 | JWKS fetches |");
    println!("|---|---|---|---|---|");
    let runs = [
        ("basic (HS256 session)", &basic_router, session),
        ("pkce (ES256, JWKS cached)", &pkce_router, ec.sign(&claims)),
        ("pkce (RS256, JWKS cached)", &pkce_router, rsa.sign(&claims)),
    ];
    for (name, router, token) in runs {
        let latencies = measure(router, &token).await?;
        let n = latencies.len();
        println!(
            "| {name} | {n} | {:.2} ms | {:.2} ms | {} |",
            ms(latencies[n / 2]),
            ms(latencies[n * 95 / 100]),
            provider.fetches()
        );
    }
    Ok(())
}

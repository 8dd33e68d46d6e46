//! The ALB provider through the API: tokens made as an Application Load Balancer makes them
//! (ES256 over padded base64url segments, `kid` and `signer` in the header), its public key
//! served as a PEM on a loopback port that counts the fetches. A token is believed only with
//! the configured signer, a signature over the segments as sent, and an `exp` not passed; a
//! forged header never makes the verifier fetch a key, and a key is fetched once per cache time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use dispatch_domain::auth::provider::Provider;
use dispatch_domain::auth::provider::settings::AlbSettings;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::helpers::{TestApp, TestResponse, call_event, request, spawn_app_with};
use crate::lambda_events::fixture;

const ARN: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/dispatch/50dc6c495c0c9188";

/// The public keys of a region, as `public-keys.auth.elb.<region>.amazonaws.com` serves them:
/// `GET /<kid>` answers the PEM. Every request's path is recorded.
struct KeyServer {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    task: JoinHandle<()>,
}

impl Drop for KeyServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct Keys {
    pems: Arc<HashMap<String, String>>,
    requests: Arc<Mutex<Vec<String>>>,
}

async fn serve_key(State(keys): State<Keys>, uri: Uri) -> (StatusCode, String) {
    let path = uri.path().to_owned();
    keys.requests.lock().unwrap().push(path.clone());
    match keys.pems.get(path.trim_start_matches('/')) {
        Some(pem) => (StatusCode::OK, pem.clone()),
        None => (StatusCode::NOT_FOUND, "not found".into()),
    }
}

impl KeyServer {
    async fn start(pems: HashMap<String, String>) -> KeyServer {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let keys = Keys {
            pems: Arc::new(pems),
            requests: Arc::clone(&requests),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let app = Router::new().fallback(serve_key).with_state(keys);
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        KeyServer {
            port,
            requests,
            task,
        }
    }

    fn fetches(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// A load balancer: its signing key, its id, and the server publishing the public key.
struct Alb {
    pair: EcdsaKeyPair,
    kid: String,
    keys: KeyServer,
}

/// The PEM of a key pair's public key, as AWS publishes it.
fn public_pem(pair: &EcdsaKeyPair) -> String {
    let der = pair.public_key().as_der().unwrap();
    let base64 = STANDARD.encode(der.as_ref());
    let lines: Vec<&str> = base64
        .as_bytes()
        .chunks(64)
        .map(|line| std::str::from_utf8(line).unwrap())
        .collect();
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        lines.join("\n")
    )
}

/// What the signature covers: the segments as sent (what the ALB does), or their unpadded form
/// (what a verifier that strips the padding would check).
#[derive(Clone, Copy, PartialEq)]
enum Signed {
    AsSent,
    Unpadded,
}

/// JSON whose base64 needs padding (most of AWS's segments do): spaces after `{` until its
/// length is one more than a multiple of 3 (two `=`).
fn padded_segment(value: &Value) -> String {
    let mut text = value.to_string();
    while text.len() % 3 != 1 {
        text.insert(1, ' ');
    }
    let segment = URL_SAFE.encode(text);
    assert!(segment.ends_with('='), "{segment}");
    segment
}

impl Alb {
    async fn start() -> Alb {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let kid = uuid::Uuid::new_v4().to_string();
        let keys = KeyServer::start([(kid.clone(), public_pem(&pair))].into()).await;
        Alb { pair, kid, keys }
    }

    fn settings(&self) -> AlbSettings {
        AlbSettings {
            alb_arn: ARN.into(),
            email_claim: "email".into(),
            key_cache: Duration::from_secs(300),
            key_url: format!("http://127.0.0.1:{}", self.keys.port),
        }
    }

    /// The protected header the ALB sends, valid for two more minutes.
    fn header(&self) -> Value {
        json!({
            "typ": "JWT",
            "kid": self.kid,
            "alg": "ES256",
            "iss": "https://idp.example.com",
            "client": "dispatch-client",
            "signer": ARN,
            "exp": chrono::Utc::now().timestamp() + 120,
        })
    }

    fn sign(&self, header: &Value, claims: &Value, signed: Signed) -> String {
        let input = format!("{}.{}", padded_segment(header), padded_segment(claims));
        let message = match signed {
            Signed::AsSent => input.clone(),
            Signed::Unpadded => input.replace('=', ""),
        };
        let signature = self
            .pair
            .sign(&SystemRandom::new(), message.as_bytes())
            .unwrap();
        format!("{input}.{}", URL_SAFE.encode(signature.as_ref()))
    }

    /// A valid token for `email`.
    fn token(&self, email: &str) -> String {
        self.sign(&self.header(), &claims(email), Signed::AsSent)
    }

    /// A token with its header changed by `change`.
    fn token_with(&self, email: &str, change: impl FnOnce(&mut Value)) -> String {
        let mut header = self.header();
        change(&mut header);
        self.sign(&header, &claims(email), Signed::AsSent)
    }
}

/// The claims of an OIDC provider's userinfo endpoint, as the ALB passes them on.
fn claims(email: &str) -> Value {
    json!({
        "sub": "00u1a2b3c4d5e6f7g8h9",
        "email": email,
        "email_verified": "true",
        "exp": chrono::Utc::now().timestamp() + 3600,
        "iss": "https://idp.example.com",
    })
}

async fn app_with(settings: AlbSettings) -> TestApp {
    spawn_app_with(|config| config.authentication = Provider::AwsAlb(settings)).await
}

/// `GET /default/auth/me` with the ALB's header.
async fn me(app: &TestApp, token: &str) -> TestResponse {
    let mut me = request("GET", "/api/v1/default/auth/me");
    me.headers_mut()
        .insert("x-amzn-oidc-data", token.parse().unwrap());
    app.send(me).await
}

fn assert_refused(response: &TestResponse, what: &str) {
    assert_eq!(
        response.status,
        StatusCode::UNAUTHORIZED,
        "{what}: {}",
        response.body
    );
    assert_eq!(
        response.body["detail"][0]["msg"], "Could not validate credentials",
        "{what}"
    );
}

#[tokio::test]
async fn a_load_balancer_s_token_signs_in_and_provisions_the_user() {
    let alb = Alb::start().await;
    let app = app_with(alb.settings()).await;
    let token = alb.token("alice@example.com");
    assert!(token.split('.').all(|segment| segment.ends_with('=')));

    let response = me(&app, &token).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["email"], "alice@example.com");
    let user = dispatch_domain::users::find_by_email(&app.store, "alice@example.com")
        .await
        .unwrap()
        .expect("provisioned");
    assert_eq!(
        me(&app, &token).await.body["id"],
        json!(user.id),
        "the same user the next time"
    );
    assert_eq!(alb.keys.fetches(), [format!("/{}", alb.kid)]);

    // No header, or an empty one: refused.
    assert_refused(
        &app.send(request("GET", "/api/v1/default/auth/me")).await,
        "no header",
    );
    assert_refused(&me(&app, "").await, "empty header");
}

#[tokio::test]
async fn a_token_of_another_load_balancer_is_refused_without_fetching_a_key() {
    let alb = Alb::start().await;
    let app = app_with(alb.settings()).await;
    let other = ARN.replace("50dc6c495c0c9188", "0123456789abcdef");
    let token = alb.token_with("alice@example.com", |h| h["signer"] = json!(other));
    assert_refused(&me(&app, &token).await, "another signer");
    let unsigned = alb.token_with("alice@example.com", |h| {
        h.as_object_mut().unwrap().remove("signer");
    });
    assert_refused(&me(&app, &unsigned).await, "no signer");
    let hs256 = alb.token_with("alice@example.com", |h| h["alg"] = json!("HS256"));
    assert_refused(&me(&app, &hs256).await, "HS256");
    assert!(alb.keys.fetches().is_empty(), "{:?}", alb.keys.fetches());
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let alb = Alb::start().await;
    let app = app_with(alb.settings()).await;
    let expired = alb.token_with("alice@example.com", |h| {
        h["exp"] = json!(chrono::Utc::now().timestamp() - 120)
    });
    assert_refused(&me(&app, &expired).await, "expired");
    assert!(alb.keys.fetches().is_empty());
}

#[tokio::test]
async fn a_tampered_or_foreign_token_is_refused() {
    let alb = Alb::start().await;
    let app = app_with(alb.settings()).await;
    let token = alb.token("alice@example.com");
    let segments: Vec<&str> = token.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        segments[0],
        padded_segment(&claims("mallory@example.com")),
        segments[2]
    );
    assert_refused(&me(&app, &tampered).await, "tampered payload");

    // Same kid and signer, another key (as if someone else signed).
    let impostor = Alb {
        pair: EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap(),
        kid: alb.kid.clone(),
        keys: KeyServer::start(HashMap::new()).await,
    };
    assert_refused(
        &me(&app, &impostor.token("mallory@example.com")).await,
        "foreign key",
    );

    let mut bad_signature = token.clone();
    bad_signature.truncate(token.rfind('.').unwrap() + 1);
    bad_signature.push_str(&URL_SAFE.encode([7u8; 64]));
    assert_refused(&me(&app, &bad_signature).await, "bad signature");
    assert!(
        dispatch_domain::users::find_by_email(&app.store, "mallory@example.com")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(me(&app, &token).await.status, StatusCode::OK);
}

/// AWS signs the padded segments as it sends them: a signature over the unpadded form (what a
/// JWT library that strips the padding would check) does not hold.
#[tokio::test]
async fn a_signature_over_the_unpadded_segments_is_refused() {
    let alb = Alb::start().await;
    let app = app_with(alb.settings()).await;
    let over_unpadded = alb.sign(
        &alb.header(),
        &claims("alice@example.com"),
        Signed::Unpadded,
    );
    assert_refused(
        &me(&app, &over_unpadded).await,
        "signed unpadded, sent padded",
    );
    let as_sent = alb.sign(&alb.header(), &claims("alice@example.com"), Signed::AsSent);
    assert_eq!(me(&app, &as_sent).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_key_is_fetched_once_and_again_after_its_cache_time() {
    let alb = Alb::start().await;
    let app = app_with(AlbSettings {
        key_cache: Duration::from_secs(1),
        ..alb.settings()
    })
    .await;
    let token = alb.token("alice@example.com");
    // Provisioned once, so that the parallel requests below only read.
    assert_eq!(me(&app, &token).await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1_100)).await;

    // Many requests at once after the key went stale: one fetch, the others wait for it.
    let parallel = futures_util::future::join_all((0..10).map(|_| me(&app, &token))).await;
    for response in parallel {
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    }
    assert_eq!(alb.keys.fetches().len(), 2, "{:?}", alb.keys.fetches());

    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(me(&app, &token).await.status, StatusCode::OK);
    assert_eq!(alb.keys.fetches().len(), 3, "{:?}", alb.keys.fetches());
}

#[tokio::test]
async fn the_email_comes_from_the_configured_claim() {
    let alb = Alb::start().await;
    let app = app_with(AlbSettings {
        email_claim: "upn".into(),
        ..alb.settings()
    })
    .await;
    let mut with_upn = claims("someone-else@example.com");
    with_upn["upn"] = json!("bob@example.com");
    let token = alb.sign(&alb.header(), &with_upn, Signed::AsSent);
    let response = me(&app, &token).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["email"], "bob@example.com");

    // Without the claim, or with one that is not an email: refused.
    assert_refused(&me(&app, &alb.token("bob@example.com")).await, "no upn");
    let mut not_an_email = claims("bob@example.com");
    not_an_email["upn"] = json!("bob");
    let token = alb.sign(&alb.header(), &not_an_email, Signed::AsSent);
    assert_refused(&me(&app, &token).await, "upn not an email");
}

#[tokio::test]
async fn a_kid_that_would_leave_the_key_directory_is_refused_without_a_fetch() {
    let alb = Alb::start().await;
    let app = app_with(alb.settings()).await;
    for kid in [
        format!("../{}", alb.kid),
        "../../etc/passwd".to_owned(),
        format!("{}/..", alb.kid),
        format!("{}?x=1", alb.kid),
        "%2e%2e".to_owned(),
        "x".repeat(65),
    ] {
        let token = alb.token_with("alice@example.com", |h| h["kid"] = json!(kid));
        assert_refused(&me(&app, &token).await, &kid);
    }
    // A well-formed kid the region does not know: fetched (404), refused.
    let unknown = alb.token_with("alice@example.com", |h| h["kid"] = json!("0000-unknown"));
    assert_refused(&me(&app, &unknown).await, "unknown kid");
    assert_eq!(alb.keys.fetches(), ["/0000-unknown"]);
}

/// An ALB target-group event (the function behind the load balancer directly), with the token
/// made now in place of the fixture's.
#[tokio::test]
async fn an_alb_target_group_event_signs_in() {
    let alb = Alb::start().await;
    let app = app_with(alb.settings()).await;
    let router = dispatch_auth::router(app.state.clone()).unwrap();

    // The fixture's own token expired long ago (and its signature is zeros).
    let response = call_event(&router, &fixture("alb-auth-me")).await;
    assert_refused(&response, "the fixture's token");

    let mut event: Value = serde_json::from_str(&fixture("alb-auth-me")).unwrap();
    event["headers"]["x-amzn-oidc-data"] = json!(alb.token("member@example.com"));
    let response = call_event(&router, &event.to_string()).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["email"], "member@example.com");
    assert_eq!(alb.keys.fetches().len(), 1);
}

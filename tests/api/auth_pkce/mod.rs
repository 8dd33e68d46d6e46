//! The PKCE provider through the API: bearer tokens of an identity provider (keys generated
//! here, its JWKS served on loopback by [`idp`]) sign the caller in, auto-provisioned as a
//! Member of `default`; every token that is expired, meant for someone else, or forged is the
//! one 401; the JWKS is fetched once, again on a rotation, once for any number of concurrent
//! requests, and not for made-up key ids. Behind the HTTP API's JWT authorizer, only the claims
//! in the request context count.

pub mod idp;

use std::time::Duration;

use dispatch_domain::auth::provider::Provider;
use dispatch_domain::auth::provider::settings::PkceSettings;
use http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestResponse, authed, call_event, spawn_app_with};
use idp::{IdentityProvider, SigningKey, b64, now};

const ISSUER: &str = "https://idp.example.com/oauth2/default";
const AUDIENCE: &str = "dispatch-ui";
const UNAUTHENTICATED: &str = "Could not validate credentials";

fn settings(jwks_url: Option<String>) -> PkceSettings {
    PkceSettings {
        trust_jwt_authorizer: jwks_url.is_none(),
        jwks_url,
        audience: Some(AUDIENCE.into()),
        issuer: Some(ISSUER.into()),
        email_claim: "email".into(),
        key_cache: Duration::from_secs(300),
    }
}

async fn pkce_app(idp: &IdentityProvider) -> TestApp {
    let settings = settings(Some(idp.jwks_url()));
    spawn_app_with(|config| config.authentication = Provider::Pkce(settings)).await
}

/// What the provider puts in an ID token for `email`, with `changes` applied (`null` removes).
fn claims(email: &str, changes: Value) -> Value {
    let mut claims = json!({"iss": ISSUER, "aud": AUDIENCE, "sub": format!("00u-{email}"),
        "email": email, "email_verified": true, "iat": now(), "exp": now() + 3600});
    for (name, value) in changes.as_object().unwrap() {
        match value {
            Value::Null => claims.as_object_mut().unwrap().remove(name),
            _ => claims
                .as_object_mut()
                .unwrap()
                .insert(name.clone(), value.clone()),
        };
    }
    claims
}

async fn me(app: &TestApp, token: &str) -> TestResponse {
    app.send(authed("GET", "/api/v1/default/auth/me", token))
        .await
}

fn assert_refused(response: &TestResponse, case: &str) {
    assert_eq!(
        response.status,
        StatusCode::UNAUTHORIZED,
        "{case}: {}",
        response.body
    );
    assert_eq!(response.body["detail"][0]["msg"], UNAUTHENTICATED, "{case}");
}

#[tokio::test]
async fn a_valid_token_signs_in_and_provisions_a_member_of_default() {
    let (ec, rsa) = (SigningKey::es256("ec-1"), SigningKey::rs256("rsa-1"));
    let idp = IdentityProvider::start(&[&ec, &rsa]).await;
    let app = pkce_app(&idp).await;

    let token = ec.sign(&claims("alice@example.com", json!({})));
    let response = me(&app, &token).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["email"], "alice@example.com");
    let role = app
        .send(authed("GET", "/api/v1/default/auth/myrole", &token))
        .await;
    assert_eq!(role.body, "Member");
    let user = dispatch_domain::users::find_by_email(&app.store, "alice@example.com")
        .await
        .unwrap()
        .expect("provisioned on first sign-in");
    // The same account on every later request, with either of the provider's keys.
    for _ in 0..5 {
        assert_eq!(me(&app, &token).await.body["id"], user.id);
    }
    let by_rsa = me(&app, &rsa.sign(&claims("alice@example.com", json!({})))).await;
    assert_eq!(by_rsa.body["id"], user.id, "{}", by_rsa.body);
    assert_eq!(idp.fetches(), 1, "the JWKS is fetched once, then cached");
}

#[tokio::test]
async fn expired_misaddressed_or_forged_tokens_are_refused() {
    let key = SigningKey::es256("ec-1");
    let idp = IdentityProvider::start(&[&key]).await;
    let app = pkce_app(&idp).await;
    let email = "mallory@example.com";
    let good = claims(email, json!({}));

    let mut cases: Vec<(String, String)> = [
        ("expired", json!({"exp": now() - 120})),
        ("not valid yet", json!({"nbf": now() + 600})),
        ("no expiry", json!({"exp": null})),
        ("another audience", json!({"aud": "another-app"})),
        ("no audience", json!({"aud": null})),
        ("another issuer", json!({"iss": "https://evil.example.com"})),
        ("no issuer", json!({"iss": null})),
        ("unverified email", json!({"email_verified": false})),
        ("no email", json!({"email": null})),
    ]
    .into_iter()
    .map(|(case, changes)| (case.to_owned(), key.sign(&claims(email, changes))))
    .collect();

    let payload = b64(good.to_string());
    // HS256 keyed with the published public key: the classic key-confusion forgery.
    let hs256 = b64(json!({"alg": "HS256", "kid": key.kid, "typ": "JWT"}).to_string());
    let secret = aws_lc_rs::hmac::Key::new(
        aws_lc_rs::hmac::HMAC_SHA256,
        key.jwk().to_string().as_bytes(),
    );
    let tag = aws_lc_rs::hmac::sign(&secret, format!("{hs256}.{payload}").as_bytes());
    cases.push((
        "HS256 with the public key".into(),
        format!("{hs256}.{payload}.{}", b64(tag.as_ref())),
    ));
    // The header lies about the algorithm of the EC key.
    let rs256 = json!({"alg": "RS256", "kid": key.kid, "typ": "JWT"});
    cases.push(("RS256 header".into(), key.sign_with_header(&rs256, &good)));
    let none = b64(json!({"alg": "none", "kid": key.kid}).to_string());
    cases.push(("alg none".into(), format!("{none}.{payload}.")));
    // Another payload under a genuine signature; another key under the same kid.
    let genuine = key.sign(&good);
    let signature = genuine.rsplit('.').next().unwrap();
    let other = b64(claims("admin@example.com", json!({})).to_string());
    let header = genuine.split('.').next().unwrap();
    cases.push((
        "tampered payload".into(),
        format!("{header}.{other}.{signature}"),
    ));
    cases.push((
        "another key, same kid".into(),
        SigningKey::es256(&key.kid).sign(&good),
    ));
    let unknown = json!({"alg": "ES256", "kid": "not-published", "typ": "JWT"});
    cases.push(("unknown kid".into(), key.sign_with_header(&unknown, &good)));
    cases.push(("not a JWT".into(), "abc.def".into()));

    for (case, token) in &cases {
        assert_refused(&me(&app, token).await, case);
    }
    for email in [email, "admin@example.com"] {
        let user = dispatch_domain::users::find_by_email(&app.store, email)
            .await
            .unwrap();
        assert!(user.is_none(), "no account for {email}");
    }
    // The first fetch, and one refresh for the unknown kid.
    assert_eq!(idp.fetches(), 2);
    // The key itself works.
    assert_eq!(me(&app, &genuine).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_rotation_is_picked_up_by_one_refresh_and_the_old_key_is_refused() {
    let (old, new) = (SigningKey::es256("2026-01"), SigningKey::es256("2026-02"));
    let idp = IdentityProvider::start(&[&old]).await;
    let app = pkce_app(&idp).await;
    let by_old = old.sign(&claims("carol@example.com", json!({})));
    for _ in 0..10 {
        assert_eq!(me(&app, &by_old).await.status, StatusCode::OK);
    }
    assert_eq!(idp.fetches(), 1);

    idp.publish(&[&new]);
    let by_new = new.sign(&claims("carol@example.com", json!({})));
    for _ in 0..10 {
        let response = me(&app, &by_new).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    }
    assert_eq!(idp.fetches(), 2, "one refresh for the new kid");
    // The old key is gone from the refreshed set; made-up kids do not make us fetch again.
    assert_refused(&me(&app, &by_old).await, "rotated-out key");
    for kid in ["random-1", "random-2", "random-3"] {
        let header = json!({"alg": "ES256", "kid": kid});
        let token = new.sign_with_header(&header, &claims("carol@example.com", json!({})));
        assert_refused(&me(&app, &token).await, kid);
    }
    assert_eq!(idp.fetches(), 2, "unknown kids are rate-limited");
}

/// Twelve concurrent `/auth/me` of dave with a token of `key` naming `kid`; their statuses.
async fn burst(app: &TestApp, key: &SigningKey, kid: &str) -> Vec<StatusCode> {
    let header = json!({"alg": "ES256", "kid": kid});
    let token = key.sign_with_header(&header, &claims("dave@example.com", json!({})));
    let requests = (0..12).map(|_| me(app, &token));
    futures_util::future::join_all(requests)
        .await
        .into_iter()
        .map(|response| response.status)
        .collect()
}

#[tokio::test]
async fn concurrent_requests_share_one_fetch() {
    let (first, second) = (SigningKey::es256("first"), SigningKey::es256("second"));
    let idp = IdentityProvider::start(&[&first]).await;
    idp.slow_down(Duration::from_millis(300));
    let app = pkce_app(&idp).await;
    // The user exists, so only the keys are contended.
    app.register("dave@example.com", "correct horse battery")
        .await;
    // Cold start: twelve requests at once, one fetch.
    let statuses = burst(&app, &first, "first").await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(idp.fetches(), 1);
    // The same unknown kid twelve times at once: one refresh, which finds it.
    idp.publish(&[&first, &second]);
    let statuses = burst(&app, &second, "second").await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(idp.fetches(), 2);
    // A made-up kid twelve times at once: refused, no fetch (refreshed moments ago).
    let statuses = burst(&app, &second, "made-up").await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert_eq!(idp.fetches(), 2);
}

/// `GET /default/auth/me` as API Gateway delivers it, with a bearer header, and the JWT
/// authorizer's claims in its request context when given.
fn me_event(bearer: &str, claims: Option<Value>) -> String {
    let path = format!("{}/../events/auth-me.json", env!("CARGO_MANIFEST_DIR"));
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["headers"]["authorization"] = format!("Bearer {bearer}").into();
    if let Some(claims) = claims {
        event["requestContext"]["authorizer"] = json!({"jwt": {"claims": claims, "scopes": null}});
    }
    event.to_string()
}

#[tokio::test]
async fn behind_the_jwt_authorizer_only_the_request_context_counts() {
    let app = spawn_app_with(|config| config.authentication = Provider::Pkce(settings(None))).await;
    let router = dispatch_auth::router(app.state.clone()).unwrap();
    // API Gateway hands over the verified claims as strings.
    let verified = json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "00u-erin",
        "email": "erin@example.com", "email_verified": "true",
        "exp": (now() + 3600).to_string(), "iat": now().to_string()});
    let response = call_event(&router, &me_event("opaque", Some(verified.clone()))).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["email"], "erin@example.com");

    // Without the authorizer's claims, even a well-formed signed token is not looked at.
    let key = SigningKey::es256("ec-1");
    let token = key.sign(&claims("erin@example.com", json!({})));
    assert_refused(
        &call_event(&router, &me_event(&token, None)).await,
        "no claims",
    );
    assert_refused(&me(&app, &token).await, "no request context");
    // The claims are still checked: the issuer when set, a verified email.
    let mut other_issuer = verified.clone();
    other_issuer["iss"] = "https://evil.example.com".into();
    let mut unverified = verified;
    unverified["email_verified"] = "false".into();
    for (case, claims) in [("issuer", other_issuer), ("unverified", unverified)] {
        let response = call_event(&router, &me_event("opaque", Some(claims))).await;
        assert_refused(&response, case);
    }
}

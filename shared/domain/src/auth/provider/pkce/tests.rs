use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use super::*;

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// An ES256 key of the identity provider.
struct Signer {
    pair: EcdsaKeyPair,
    kid: &'static str,
}

impl Signer {
    fn new(kid: &'static str) -> Self {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        Self { pair, kid }
    }

    fn jwk(&self) -> Value {
        let point = self.pair.public_key().as_ref();
        json!({"kty": "EC", "crv": "P-256", "kid": self.kid, "use": "sig", "alg": "ES256",
            "x": b64(&point[1..33]), "y": b64(&point[33..65])})
    }

    fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let message = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
        let signature = self
            .pair
            .sign(&SystemRandom::new(), message.as_bytes())
            .unwrap();
        format!("{message}.{}", b64(signature.as_ref()))
    }

    fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(&json!({"alg": "ES256", "kid": self.kid}), claims)
    }
}

/// Good claims for the settings below, with `changes` applied (`null` removes a claim).
fn claims(changes: Value) -> Value {
    let mut claims = json!({"iss": "https://idp.example.com/", "aud": "dispatch",
        "email": "alice@example.com", "exp": now() + 300, "iat": now()});
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

/// A JWKS on a loopback port, served by a plain thread; counts its fetches.
struct JwksServer {
    url: String,
    fetches: Arc<AtomicUsize>,
    body: Arc<Mutex<String>>,
}

impl JwksServer {
    fn start(body: String) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        let fetches = Arc::new(AtomicUsize::new(0));
        let body = Arc::new(Mutex::new(body));
        let (count, served) = (Arc::clone(&fetches), Arc::clone(&body));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut request = Vec::new();
                let mut buffer = [0; 1024];
                while !request.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut buffer) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                count.fetch_add(1, Ordering::SeqCst);
                let body = served.lock().unwrap().clone();
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Self { url, fetches, body }
    }

    fn serving(signers: &[&Signer]) -> Self {
        Self::start(jwks(signers))
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

fn jwks(signers: &[&Signer]) -> String {
    json!({ "keys": signers.iter().map(|s| s.jwk()).collect::<Vec<_>>() }).to_string()
}

fn settings(jwks_url: Option<&str>) -> PkceSettings {
    PkceSettings {
        jwks_url: jwks_url.map(str::to_owned),
        trust_jwt_authorizer: jwks_url.is_none(),
        audience: Some("dispatch".into()),
        issuer: Some("https://idp.example.com/".into()),
        email_claim: "email".into(),
        key_cache: Duration::from_secs(300),
    }
}

fn bearer(token: &str) -> Credentials {
    Credentials {
        authorization: Some(format!("Bearer {token}")),
        ..Credentials::default()
    }
}

#[tokio::test]
async fn a_valid_token_names_its_email_and_the_keys_are_fetched_once() {
    let signer = Signer::new("k1");
    let server = JwksServer::serving(&[&signer]);
    let verifier = PkceVerifier::new(settings(Some(&server.url)));
    for _ in 0..5 {
        let credentials = bearer(&signer.sign(&claims(json!({}))));
        assert_eq!(
            verifier.email(&credentials).await.unwrap(),
            "alice@example.com"
        );
    }
    assert_eq!(server.fetches(), 1);
    // Within the leeway, an array audience holding ours.
    for changes in [
        json!({"exp": now() - 10}),
        json!({"nbf": now() + 10}),
        json!({"aud": ["other", "dispatch"]}),
    ] {
        let token = signer.sign(&claims(changes.clone()));
        assert!(verifier.email(&bearer(&token)).await.is_ok(), "{changes}");
    }
}

#[tokio::test]
async fn forged_or_invalid_tokens_are_refused() {
    let signer = Signer::new("k1");
    let server = JwksServer::serving(&[&signer]);
    let verifier = PkceVerifier::new(settings(Some(&server.url)));
    let refused = async |token: String| verifier.email(&bearer(&token)).await.is_err();
    for changes in [
        json!({"exp": now() - 60}),
        json!({"exp": null}),
        json!({"exp": "tomorrow"}),
        json!({"nbf": now() + 120}),
        json!({"aud": "another-service"}),
        json!({"aud": null}),
        json!({"iss": "https://evil.example.com/"}),
        json!({"iss": null}),
        json!({"iss": ["https://idp.example.com/"]}),
        json!({"email": null}),
        json!({"email": 42}),
        json!({"email": "  "}),
        json!({"email_verified": false}),
    ] {
        assert!(
            refused(signer.sign(&claims(changes.clone()))).await,
            "{changes}"
        );
    }
    let good = claims(json!({}));
    // alg none, unsigned; HS256 keyed with the public key (key confusion); RS256 against an EC
    // key; no kid.
    let payload = b64(good.to_string());
    let none = format!("{}.{payload}.", b64(r#"{"alg":"none","kid":"k1"}"#));
    assert!(refused(none).await);
    let header = b64(r#"{"alg":"HS256","kid":"k1"}"#);
    let secret = aws_lc_rs::hmac::Key::new(
        aws_lc_rs::hmac::HMAC_SHA256,
        signer.jwk().to_string().as_bytes(),
    );
    let tag = aws_lc_rs::hmac::sign(&secret, format!("{header}.{payload}").as_bytes());
    assert!(refused(format!("{header}.{payload}.{}", b64(tag.as_ref()))).await);
    let rs256 = signer.sign_with_header(&json!({"alg": "RS256", "kid": "k1"}), &good);
    assert!(refused(rs256).await);
    assert!(refused(signer.sign_with_header(&json!({"alg": "ES256"}), &good)).await);
    // Another key under the same kid; a tampered payload; garbage; too long.
    assert!(refused(Signer::new("k1").sign(&good)).await);
    let token = signer.sign(&good);
    let mut parts: Vec<&str> = token.split('.').collect();
    let tampered = b64(claims(json!({"email": "mallory@example.com"})).to_string());
    parts[1] = &tampered;
    assert!(refused(parts.join(".")).await);
    assert!(refused("not-a-token".into()).await);
    let long = signer.sign(&claims(json!({"pad": "x".repeat(MAX_TOKEN_BYTES)})));
    assert!(refused(long).await);
    assert!(verifier.email(&Credentials::default()).await.is_err());
    // Still the one fetch: a known kid never refetches.
    assert_eq!(server.fetches(), 1);
    assert!(!refused(signer.sign(&good)).await);
}

#[tokio::test]
async fn an_unknown_kid_refreshes_once_then_waits() {
    let (old, new) = (Signer::new("old"), Signer::new("new"));
    let server = JwksServer::serving(&[&old]);
    let verifier = PkceVerifier::new(settings(Some(&server.url)));
    assert!(
        verifier
            .email(&bearer(&old.sign(&claims(json!({})))))
            .await
            .is_ok()
    );
    *server.body.lock().unwrap() = jwks(&[&new]);
    assert!(
        verifier
            .email(&bearer(&new.sign(&claims(json!({})))))
            .await
            .is_ok()
    );
    assert_eq!(server.fetches(), 2);
    for kid in ["old", "random-1", "random-2"] {
        let token = old.sign_with_header(&json!({"alg": "ES256", "kid": kid}), &claims(json!({})));
        assert!(verifier.email(&bearer(&token)).await.is_err(), "{kid}");
    }
    assert_eq!(server.fetches(), 2);
}

#[tokio::test]
async fn an_oversized_or_unreachable_key_set_refuses() {
    let signer = Signer::new("k1");
    let server = JwksServer::start(format!(
        "{{\"keys\":[{}],\"pad\":\"{}\"}}",
        signer.jwk(),
        "x".repeat(MAX_JWKS_BYTES)
    ));
    let verifier = PkceVerifier::new(settings(Some(&server.url)));
    let token = signer.sign(&claims(json!({})));
    assert!(verifier.email(&bearer(&token)).await.is_err());
    // Nothing listens on port 9 of loopback (discard), and plain http elsewhere is refused.
    for url in ["http://127.0.0.1:9/jwks", "http://idp.example.com/jwks"] {
        let verifier = PkceVerifier::new(settings(Some(url)));
        assert!(verifier.email(&bearer(&token)).await.is_err(), "{url}");
    }
}

#[tokio::test]
async fn behind_the_jwt_authorizer_only_its_claims_count() {
    let verifier = PkceVerifier::new(settings(None));
    let signer = Signer::new("k1");
    // A token alone, however good, is not read in this mode.
    let token = signer.sign(&claims(json!({})));
    assert!(verifier.email(&bearer(&token)).await.is_err());
    let with_claims = |pairs: &[(&str, &str)]| Credentials {
        jwt_authorizer_claims: Some(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        ),
        ..bearer(&token)
    };
    let iss = ("iss", "https://idp.example.com/");
    let good = with_claims(&[iss, ("email", "bob@example.com")]);
    assert_eq!(verifier.email(&good).await.unwrap(), "bob@example.com");
    for refused in [
        with_claims(&[
            ("iss", "https://evil.example.com/"),
            ("email", "bob@example.com"),
        ]),
        with_claims(&[iss]),
        with_claims(&[
            iss,
            ("email", "bob@example.com"),
            ("email_verified", "false"),
        ]),
    ] {
        assert!(verifier.email(&refused).await.is_err());
    }
}

#[test]
fn a_jwks_url_that_is_not_https_stops_start_up() {
    let provider = |url: &str| {
        super::super::Provider::from_lookup(|name| match name {
            "DISPATCH_AUTHENTICATION_PROVIDER_SLUG" => Some(super::super::settings::PKCE.into()),
            "DISPATCH_AUTHENTICATION_PROVIDER_PKCE_JWKS" => Some(url.into()),
            "DISPATCH_JWT_AUDIENCE" => Some("dispatch-ui".into()),
            _ => None,
        })
    };
    assert!(provider("https://idp.example.com/.well-known/jwks.json").is_ok());
    assert!(provider("http://127.0.0.1:8080/jwks").is_ok());
    let error = provider("http://idp.example.com/jwks").unwrap_err();
    assert!(error.to_string().contains("PKCE_JWKS"), "{error}");
}

#[test]
fn verifying_tokens_itself_the_provider_needs_the_audience_they_are_for() {
    let error = super::super::Provider::from_lookup(|name| match name {
        "DISPATCH_AUTHENTICATION_PROVIDER_SLUG" => Some(super::super::settings::PKCE.into()),
        "DISPATCH_AUTHENTICATION_PROVIDER_PKCE_JWKS" => {
            Some("https://idp.example.com/.well-known/jwks.json".into())
        }
        _ => None,
    })
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "configuration error: DISPATCH_JWT_AUDIENCE is not set"
    );
}

#[test]
fn an_unverified_email_is_refused_in_every_form_a_claim_takes() {
    use serde_json::json;
    for unverified in [
        json!(false),
        json!("false"),
        json!("False"),
        json!("0"),
        json!(0),
    ] {
        assert!(
            super::super::says_unverified(Some(&unverified)),
            "{unverified}"
        );
    }
    for verified in [json!(true), json!("true"), json!(1)] {
        assert!(
            !super::super::says_unverified(Some(&verified)),
            "{verified}"
        );
    }
    assert!(!super::super::says_unverified(None));
}

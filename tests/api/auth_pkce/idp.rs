//! A fake OIDC identity provider for the PKCE provider's tests and benchmark: signing keys
//! generated in process (ES256 and RS256), tokens signed as a provider signs them, and its JWKS
//! served over HTTP on a loopback port, with the fetches counted.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{Response, StatusCode};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// One of the provider's signing keys.
pub struct SigningKey {
    pub kid: String,
    pair: Pair,
}

enum Pair {
    Es256(EcdsaKeyPair),
    Rs256(RsaKeyPair),
}

impl SigningKey {
    pub fn es256(kid: &str) -> Self {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("EC key");
        Self {
            kid: kid.to_owned(),
            pair: Pair::Es256(pair),
        }
    }

    pub fn rs256(kid: &str) -> Self {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA key");
        Self {
            kid: kid.to_owned(),
            pair: Pair::Rs256(pair),
        }
    }

    /// The algorithm the key signs with.
    pub fn alg(&self) -> &'static str {
        match self.pair {
            Pair::Es256(_) => "ES256",
            Pair::Rs256(_) => "RS256",
        }
    }

    /// The public key as the provider publishes it.
    pub fn jwk(&self) -> Value {
        match &self.pair {
            Pair::Es256(pair) => {
                let point = pair.public_key().as_ref();
                json!({"kty": "EC", "crv": "P-256", "kid": self.kid, "use": "sig",
                    "alg": "ES256", "x": b64(&point[1..33]), "y": b64(&point[33..65])})
            }
            Pair::Rs256(pair) => {
                let public = pair.public_key();
                json!({"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
                    "n": b64(public.modulus().big_endian_without_leading_zero()),
                    "e": b64(public.exponent().big_endian_without_leading_zero())})
            }
        }
    }

    /// A token with the usual header (`alg`, `kid`, `typ`).
    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({"alg": self.alg(), "kid": self.kid, "typ": "JWT"});
        self.sign_with_header(&header, claims)
    }

    /// A token with any header, signed with this key's own algorithm whatever it says.
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let message = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
        let signature = match &self.pair {
            Pair::Es256(pair) => pair
                .sign(&SystemRandom::new(), message.as_bytes())
                .expect("ES256 signature")
                .as_ref()
                .to_vec(),
            Pair::Rs256(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(
                    &RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    message.as_bytes(),
                    &mut signature,
                )
                .expect("RS256 signature");
                signature
            }
        };
        format!("{message}.{}", b64(signature))
    }
}

/// A JWKS document of `keys`.
pub fn jwks(keys: &[&SigningKey]) -> String {
    json!({ "keys": keys.iter().map(|key| key.jwk()).collect::<Vec<_>>() }).to_string()
}

/// The provider's JWKS endpoint on 127.0.0.1; dropping it stops serving.
pub struct IdentityProvider {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

struct Shared {
    jwks: Mutex<String>,
    fetches: AtomicUsize,
    /// How long each answer takes (a slow provider makes concurrent requests overlap).
    delay: Mutex<Duration>,
}

impl IdentityProvider {
    /// Serves a JWKS of `keys` on a port of its own.
    pub async fn start(keys: &[&SigningKey]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let shared = Arc::new(Shared {
            jwks: Mutex::new(jwks(keys)),
            fetches: AtomicUsize::new(0),
            delay: Mutex::new(Duration::ZERO),
        });
        let accept = tokio::spawn(serve(listener, Arc::clone(&shared)));
        Self {
            addr,
            shared,
            accept,
        }
    }

    /// `DISPATCH_AUTHENTICATION_PROVIDER_PKCE_JWKS`.
    pub fn jwks_url(&self) -> String {
        format!("http://{}/.well-known/jwks.json", self.addr)
    }

    /// Publishes another key set (a rotation).
    pub fn publish(&self, keys: &[&SigningKey]) {
        *self.shared.jwks.lock().unwrap() = jwks(keys);
    }

    /// Makes every answer wait `delay`.
    pub fn slow_down(&self, delay: Duration) {
        *self.shared.delay.lock().unwrap() = delay;
    }

    /// How many times the JWKS was requested.
    pub fn fetches(&self) -> usize {
        self.shared.fetches.load(Ordering::SeqCst)
    }
}

impl Drop for IdentityProvider {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    while let Ok((stream, _)) = listener.accept().await {
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: http::Request<_>| {
                let shared = Arc::clone(&shared);
                async move {
                    shared.fetches.fetch_add(1, Ordering::SeqCst);
                    let delay = *shared.delay.lock().unwrap();
                    tokio::time::sleep(delay).await;
                    let body = shared.jwks.lock().unwrap().clone();
                    let status = if request.uri().path() == "/.well-known/jwks.json" {
                        StatusCode::OK
                    } else {
                        StatusCode::NOT_FOUND
                    };
                    Response::builder()
                        .status(status)
                        .header("content-type", "application/json")
                        .body(Full::new(Bytes::from(body)))
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

//! The load balancer's public keys: one PEM per `kid` at `<key_url>/<kid>`, fetched on first
//! use and kept for the configured time.
//!
//! The cache holds at most [`MAX_KEYS`] keys; a kid has at most one fetch in flight (the
//! requests that need it meanwhile wait for that fetch), and at most
//! [`MAX_CONCURRENT_FETCHES`] fetches run at once whatever their kids. A fetch has
//! [`FETCH_TIMEOUT`] in all, follows no redirect, and reads at most [`MAX_PEM_BYTES`].

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, ParsedPublicKey};
use reqwest::{StatusCode, Url};
use tokio::sync::Semaphore;

use super::Refused;

/// How many keys are kept (AWS uses a handful per region).
pub const MAX_KEYS: usize = 32;
/// How many key fetches may run at once.
pub const MAX_CONCURRENT_FETCHES: usize = 4;
/// The whole fetch: connection, TLS, request and body.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// The largest key document read (a P-256 public key PEM is 178 bytes).
pub const MAX_PEM_BYTES: usize = 8 * 1024;

/// A key, parsed once, shared by the requests that use it.
pub type Key = Arc<ParsedPublicKey>;

/// A kid's place in the cache: its key and when it was fetched, or nothing yet. Its lock is
/// held during a fetch, so a kid has one fetch at a time.
type Slot = tokio::sync::Mutex<Option<(Key, Instant)>>;

/// Keys by kid, each for `ttl`.
pub struct KeyCache {
    ttl: Duration,
    slots: Mutex<HashMap<String, Arc<Slot>>>,
    fetches: Semaphore,
}

impl KeyCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            slots: Mutex::new(HashMap::new()),
            fetches: Semaphore::new(MAX_CONCURRENT_FETCHES),
        }
    }

    /// How many kids have a place (for `Debug`).
    pub fn kids(&self) -> usize {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// The key of `kid`: kept, or fetched by `fetch` (and kept) when missing or older than
    /// the cache time.
    pub async fn get<F, Fut>(&self, kid: &str, fetch: F) -> Result<Key, Refused>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Key, Refused>>,
    {
        let slot = self.slot(kid)?;
        let mut held = slot.lock().await;
        if let Some((key, fetched)) = held.as_ref()
            && fetched.elapsed() < self.ttl
        {
            return Ok(Arc::clone(key));
        }
        let _permit = self
            .fetches
            .acquire()
            .await
            .map_err(|_| "key fetches closed")?;
        let key = fetch().await?;
        *held = Some((Arc::clone(&key), Instant::now()));
        Ok(key)
    }

    fn slot(&self, kid: &str) -> Result<Arc<Slot>, Refused> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = slots.get(kid) {
            return Ok(Arc::clone(slot));
        }
        if slots.len() >= MAX_KEYS {
            self.evict(&mut slots);
        }
        if slots.len() >= MAX_KEYS {
            return Err("key cache full of fetches in flight");
        }
        let slot = Arc::new(Slot::new(None));
        slots.insert(kid.to_owned(), Arc::clone(&slot));
        Ok(slot)
    }

    /// Makes room: drops the places without a fresh key that no request holds, then, if none
    /// was, the oldest key no request holds.
    fn evict(&self, slots: &mut HashMap<String, Arc<Slot>>) {
        let fetched_at = |slot: &Slot| match slot.try_lock() {
            Ok(held) => Some(held.as_ref().map(|(_, fetched)| *fetched)),
            Err(_) => None,
        };
        slots.retain(|_, slot| match fetched_at(slot) {
            // Being fetched or used: kept.
            None => true,
            Some(fetched) => fetched.is_some_and(|at| at.elapsed() < self.ttl),
        });
        if slots.len() < MAX_KEYS {
            return;
        }
        let oldest = slots
            .iter()
            .filter_map(|(kid, slot)| Some((fetched_at(slot)??, kid)))
            .min()
            .map(|(_, kid)| kid.clone());
        if let Some(kid) = oldest {
            slots.remove(&kid);
        }
    }
}

/// Where the keys are, and the client that fetches them.
pub struct KeySource {
    base: Result<Url, String>,
    client: Result<reqwest::Client, String>,
}

impl KeySource {
    /// A source for `key_url`, which must be https (or http to a loopback address, for tests).
    /// A bad URL (configuration loading refuses it first: [`key_base`]), or a client that cannot
    /// be built, is logged here and refuses every fetch.
    pub fn new(key_url: &str) -> Self {
        let base = key_base(key_url);
        if let Err(error) = &base {
            tracing::error!(%error, "the ALB public key URL is unusable: every request will be refused");
        }
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| error.to_string());
        if let Err(error) = &client {
            tracing::error!(%error, "no HTTP client for the ALB public keys: every request will be refused");
        }
        Self { base, client }
    }

    /// The key of `kid` (already checked by [`super::token::valid_kid`]).
    pub async fn fetch(&self, kid: &str) -> Result<Key, Refused> {
        let (Ok(base), Ok(client)) = (&self.base, &self.client) else {
            return Err("no usable key source");
        };
        let url = key_url(base, kid)?;
        let body = match read(client, url.clone()).await {
            Ok(body) => body,
            Err(error) => {
                tracing::warn!(%url, %error, "could not fetch the ALB public key");
                return Err("key fetch failed");
            }
        };
        let key = parse_pem(&body);
        if key.is_err() {
            tracing::warn!(%url, "the ALB public key is not a P-256 public key PEM");
        }
        key
    }
}

async fn read(client: &reqwest::Client, url: Url) -> Result<Vec<u8>, String> {
    let mut response = client.get(url).send().await.map_err(|e| e.to_string())?;
    if response.status() != StatusCode::OK {
        return Err(format!("status {}", response.status()));
    }
    if response
        .content_length()
        .is_some_and(|length| length > MAX_PEM_BYTES as u64)
    {
        return Err("too large".into());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > MAX_PEM_BYTES {
            return Err("too large".into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `raw` as the keys' base URL: https, or http to a loopback address; no credentials, query or
/// fragment.
pub fn key_base(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim_end_matches('/')).map_err(|e| format!("{raw:?}: {e}"))?;
    let loopback = url.host_str().is_some_and(|host| {
        host.eq_ignore_ascii_case("localhost")
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    match url.scheme() {
        "https" if url.host().is_some() => {}
        "http" if loopback => {}
        _ => {
            return Err(format!(
                "{raw:?}: must be https (http only to a loopback address)"
            ));
        }
    }
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(format!("{raw:?}: no credentials, query or fragment"));
    }
    Ok(url)
}

/// `<base>/<kid>`, on `base`'s scheme, host and port.
fn key_url(base: &Url, kid: &str) -> Result<Url, Refused> {
    let url = Url::parse(&format!("{}/{kid}", base.as_str().trim_end_matches('/')))
        .map_err(|_| "bad key URL")?;
    if url.scheme() != base.scheme()
        || url.host() != base.host()
        || url.port_or_known_default() != base.port_or_known_default()
    {
        return Err("bad key URL");
    }
    Ok(url)
}

/// A `PUBLIC KEY` PEM holding a P-256 SubjectPublicKeyInfo (aws-lc checks the algorithm and
/// the curve).
pub fn parse_pem(body: &[u8]) -> Result<Key, Refused> {
    let pem = pem::parse(body).map_err(|_| "not PEM")?;
    if pem.tag() != "PUBLIC KEY" {
        return Err("not a PUBLIC KEY PEM");
    }
    ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, pem.contents())
        .map(Arc::new)
        .map_err(|_| "not a P-256 public key")
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    };
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn pem_of(alg: &'static aws_lc_rs::signature::EcdsaSigningAlgorithm, tag: &str) -> String {
        let pair = EcdsaKeyPair::generate(alg).unwrap();
        let der = pair.public_key().as_der().unwrap();
        pem::encode(&pem::Pem::new(tag, der.as_ref()))
    }

    fn a_key() -> Key {
        parse_pem(pem_of(&ECDSA_P256_SHA256_FIXED_SIGNING, "PUBLIC KEY").as_bytes()).unwrap()
    }

    #[test]
    fn only_a_p256_public_key_pem_is_a_key() {
        let good = pem_of(&ECDSA_P256_SHA256_FIXED_SIGNING, "PUBLIC KEY");
        assert!(parse_pem(good.as_bytes()).is_ok());
        assert!(parse_pem(good.replace('\n', "\r\n").as_bytes()).is_ok());
        let p384 = pem_of(&ECDSA_P384_SHA384_FIXED_SIGNING, "PUBLIC KEY");
        assert_eq!(
            parse_pem(p384.as_bytes()).err(),
            Some("not a P-256 public key")
        );
        let cert = pem_of(&ECDSA_P256_SHA256_FIXED_SIGNING, "CERTIFICATE");
        assert_eq!(
            parse_pem(cert.as_bytes()).err(),
            Some("not a PUBLIC KEY PEM")
        );
        assert_eq!(parse_pem(b"<html>").err(), Some("not PEM"));
        let junk = pem::encode(&pem::Pem::new("PUBLIC KEY", vec![0x30, 0x03, 1, 2, 3]));
        assert!(parse_pem(junk.as_bytes()).is_err());
    }

    #[test]
    fn the_key_url_is_https_or_loopback_http_and_the_kid_stays_a_path_segment() {
        let aws = key_base("https://public-keys.auth.elb.eu-west-1.amazonaws.com").unwrap();
        assert_eq!(
            key_url(&aws, "0f1e-2d").unwrap().as_str(),
            "https://public-keys.auth.elb.eu-west-1.amazonaws.com/0f1e-2d"
        );
        let local = key_base("http://127.0.0.1:8080/keys/").unwrap();
        assert_eq!(
            key_url(&local, "k").unwrap().as_str(),
            "http://127.0.0.1:8080/keys/k"
        );
        assert!(key_base("http://localhost:1").is_ok());
        assert!(key_base("http://[::1]:1").is_ok());
        for bad in [
            "http://public-keys.auth.elb.eu-west-1.amazonaws.com",
            "http://10.0.0.1",
            "ftp://127.0.0.1",
            "file:///etc",
            "https://user:pw@example.com",
            "https://example.com/?q=1",
            "https://example.com/#f",
            "not a url",
        ] {
            assert!(key_base(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_kid_is_fetched_once_while_fresh_and_once_at_a_time() {
        let cache = Arc::new(KeyCache::new(Duration::from_secs(60)));
        let fetches = Arc::new(AtomicUsize::new(0));
        let key = a_key();
        let get = |cache: Arc<KeyCache>| {
            let fetches = Arc::clone(&fetches);
            let key = Arc::clone(&key);
            async move {
                cache
                    .get("k", || async move {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok(key)
                    })
                    .await
            }
        };
        let all: Vec<_> = (0..8)
            .map(|_| tokio::spawn(get(Arc::clone(&cache))))
            .collect();
        for task in all {
            assert!(task.await.unwrap().is_ok());
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        assert!(get(Arc::clone(&cache)).await.is_ok());
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_fetch_is_not_kept_and_a_stale_key_is_fetched_again() {
        let cache = KeyCache::new(Duration::from_millis(50));
        assert_eq!(
            cache.get("k", || async { Err("down") }).await.err(),
            Some("down")
        );
        let key = a_key();
        assert!(
            cache
                .get("k", || async { Ok(Arc::clone(&key)) })
                .await
                .is_ok()
        );
        assert!(cache.get("k", || async { Err("not called") }).await.is_ok());
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(
            cache.get("k", || async { Err("again") }).await.err(),
            Some("again")
        );
    }

    #[tokio::test]
    async fn the_cache_is_bounded() {
        let cache = KeyCache::new(Duration::from_secs(60));
        let key = a_key();
        for i in 0..MAX_KEYS * 3 {
            let key = Arc::clone(&key);
            assert!(
                cache
                    .get(&format!("k{i}"), || async { Ok(key) })
                    .await
                    .is_ok()
            );
            assert!(cache.kids() <= MAX_KEYS);
        }
        // Failures leave places that make room first.
        for i in 0..MAX_KEYS * 3 {
            let _ = cache.get(&format!("x{i}"), || async { Err("down") }).await;
            assert!(cache.kids() <= MAX_KEYS);
        }
    }
}

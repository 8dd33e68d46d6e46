//! Where the keys come from: the key URL's rules and the PEM they must hold.

use std::net::IpAddr;

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, ParsedPublicKey};
use reqwest::{StatusCode, Url};

use super::super::Refused;
use super::*;

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
            Err(Unread::NotFound) => {
                tracing::info!(%url, "no ALB public key of that kid");
                return Err(NO_SUCH_KEY);
            }
            Err(Unread::Failed(error)) => {
                tracing::warn!(%url, %error, "could not fetch the ALB public key");
                return Err("key fetch failed");
            }
        };
        parse_pem(&body).map_err(|reason| {
            tracing::warn!(%url, reason, "the ALB public key is not a P-256 public key PEM");
            NO_SUCH_KEY
        })
    }
}

/// Why no key document was read.
enum Unread {
    /// 404: the region has no key of that kid.
    NotFound,
    Failed(String),
}

impl From<reqwest::Error> for Unread {
    fn from(error: reqwest::Error) -> Self {
        Self::Failed(error.to_string())
    }
}

async fn read(client: &reqwest::Client, url: Url) -> Result<Vec<u8>, Unread> {
    let mut response = client.get(url).send().await?;
    match response.status() {
        StatusCode::OK => {}
        StatusCode::NOT_FOUND => return Err(Unread::NotFound),
        status => return Err(Unread::Failed(format!("status {status}"))),
    }
    if response
        .content_length()
        .is_some_and(|length| length > MAX_PEM_BYTES as u64)
    {
        return Err(Unread::Failed("too large".into()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_PEM_BYTES {
            return Err(Unread::Failed("too large".into()));
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
pub(super) fn key_url(base: &Url, kid: &str) -> Result<Url, Refused> {
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

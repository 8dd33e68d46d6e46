//! Fetching the JWKS document: one client built at start-up, HTTPS only (plain HTTP to the
//! loopback interface for tests and local development), a bounded time and a bounded size.

use std::time::Duration;

use reqwest::{Client, Url, redirect};

use super::keys::KeySet;

/// The longest a fetch may take, connecting included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// The largest JWKS document read.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;
/// Redirects followed (each to HTTPS, or loopback to loopback).
const MAX_REDIRECTS: usize = 3;

/// Checks a JWKS URL: `https://…`, or `http://` to `127.0.0.1`, `localhost` or `[::1]`.
pub fn check_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw).map_err(|e| format!("not a URL ({e})"))?;
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => {
            Err("plain http is only accepted to 127.0.0.1, localhost or [::1]; use https".into())
        }
        _ => Err("expected an https URL".into()),
    }
}

fn is_loopback(url: &Url) -> bool {
    matches!(
        url.host_str(),
        Some("127.0.0.1") | Some("localhost") | Some("[::1]")
    )
}

/// The client of one JWKS URL.
#[derive(Debug, Clone)]
pub struct JwksFetcher {
    client: Client,
    url: Url,
}

impl JwksFetcher {
    /// Builds the client once (TLS roots, timeouts, redirect rule).
    pub fn new(raw_url: &str) -> Result<Self, String> {
        let url = check_url(raw_url)?;
        let loopback = url.scheme() == "http";
        let policy = redirect::Policy::custom(move |attempt| {
            let allowed = match attempt.url().scheme() {
                "https" => true,
                "http" => loopback && is_loopback(attempt.url()),
                _ => false,
            };
            if attempt.previous().len() > MAX_REDIRECTS {
                attempt.error("too many redirects")
            } else if allowed {
                attempt.follow()
            } else {
                attempt.error("redirect to a URL that is not https")
            }
        });
        let mut builder = Client::builder()
            .connect_timeout(FETCH_TIMEOUT)
            .timeout(FETCH_TIMEOUT)
            .redirect(policy)
            .user_agent(concat!("dispatch-serverless/", env!("CARGO_PKG_VERSION")))
            .http1_only();
        if loopback {
            // Never send a loopback request to a proxy from the environment.
            builder = builder.no_proxy();
        }
        let client = builder.build().map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Self { client, url })
    }

    /// The host keys are fetched from (for logs; the path and query are not logged).
    pub fn host(&self) -> &str {
        self.url.host_str().unwrap_or_default()
    }

    /// Fetches and reads the JWKS document.
    pub async fn fetch(&self) -> Result<KeySet, String> {
        // The client's own timeout covers connecting, the headers and the body; this one also
        // covers anything else (DNS, a body trickling in below the client's radar).
        tokio::time::timeout(
            FETCH_TIMEOUT + Duration::from_millis(100),
            self.fetch_body(),
        )
        .await
        .map_err(|_| format!("no answer within {} s", FETCH_TIMEOUT.as_secs()))?
        .and_then(|body| KeySet::parse(&body))
    }

    async fn fetch_body(&self) -> Result<Vec<u8>, String> {
        let mut response = self
            .client
            .get(self.url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("HTTP status {status}"));
        }
        if response
            .content_length()
            .is_some_and(|length| length > MAX_JWKS_BYTES as u64)
        {
            return Err(format!("document larger than {MAX_JWKS_BYTES} bytes"));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| e.without_url().to_string())?
        {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(format!("document larger than {MAX_JWKS_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_is_accepted() {
        for good in [
            "https://idp.example.com/.well-known/jwks.json",
            "http://127.0.0.1:8080/jwks",
            "http://localhost/jwks",
            "http://[::1]:9/jwks",
        ] {
            assert!(check_url(good).is_ok(), "{good}");
        }
        for bad in [
            "http://idp.example.com/jwks",
            "http://127.0.0.2/jwks",
            "http://localhost.example.com/jwks",
            "ftp://idp.example.com/jwks",
            "file:///etc/jwks.json",
            "idp.example.com/jwks",
            "",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}

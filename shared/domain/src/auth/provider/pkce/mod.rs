//! `dispatch-auth-provider-pkce`: bearer tokens of an OIDC provider (the UI signs in with PKCE
//! and sends the provider's token).
//!
//! Two ways to trust a token:
//!
//! - **JWKS** (`DISPATCH_AUTHENTICATION_PROVIDER_PKCE_JWKS`): the token is verified here, with
//!   the provider's public key named by its `kid` ([`cache`] says when keys are fetched,
//!   [`keys`] which keys are used and with which algorithm, [`fetch`] how). The token header's
//!   `alg` must be the key's: never `none`, never HMAC with a public key. `exp` is required and
//!   `exp`/`nbf` are checked with a [`LEEWAY_SECONDS`] leeway; `aud` and `iss` are required and
//!   checked when `DISPATCH_JWT_AUDIENCE` / `DISPATCH_JWT_ISSUER` are set.
//! - **The HTTP API's JWT authorizer** (`DISPATCH_AUTHENTICATION_PROVIDER_PKCE_JWT_AUTHORIZER`):
//!   API Gateway verified the token before invoking the function, and its claims are in the
//!   request context. A request without them is refused: the `Authorization` header is never
//!   read in this mode.
//!
//! Either way the email is the claim `DISPATCH_JWT_EMAIL_OVERRIDE` (default `email`); a token
//! whose provider says the email is not verified (`email_verified: false`) is refused, since an
//! email is all that identifies the user here. Every refusal is the same 401; why is logged at
//! debug level, never the token.

mod cache;
mod fetch;
mod keys;

use std::collections::HashMap;

use jsonwebtoken::Validation;
use jsonwebtoken::errors::ErrorKind;
use serde_json::{Map, Value};

use super::Credentials;
use super::settings::PkceSettings;
use crate::auth::token;
use crate::error::DomainError;

pub use fetch::{FETCH_TIMEOUT, MAX_JWKS_BYTES, check_url as check_jwks_url};
pub use keys::MAX_KEYS;

/// The longest token read.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECONDS: u64 = 30;

/// The PKCE provider, with the keys it fetched.
#[derive(Debug)]
pub struct PkceVerifier {
    settings: PkceSettings,
    source: Source,
}

/// Where the verified claims come from.
#[derive(Debug)]
enum Source {
    /// The request context, filled by the HTTP API's JWT authorizer.
    Authorizer,
    /// The token, verified with the provider's keys.
    Jwks {
        fetcher: fetch::JwksFetcher,
        cache: cache::KeyCache,
    },
    /// No usable JWKS URL (logged when built): every request is refused.
    Unusable,
}

/// Why a request was refused, for the logs.
type Refusal = &'static str;

impl PkceVerifier {
    /// Builds the HTTP client once; an unusable JWKS URL is logged and refuses every request
    /// (configuration loading refuses it first: [`check_jwks_url`]).
    pub fn new(settings: PkceSettings) -> Self {
        let source = if settings.trust_jwt_authorizer {
            Source::Authorizer
        } else {
            match settings.jwks_url.as_deref().map(fetch::JwksFetcher::new) {
                Some(Ok(fetcher)) => Source::Jwks {
                    fetcher,
                    cache: cache::KeyCache::new(cache::Policy::with_ttl(settings.key_cache)),
                },
                Some(Err(error)) => {
                    tracing::error!(
                        error,
                        "PKCE provider: the JWKS URL is unusable; every request will be refused"
                    );
                    Source::Unusable
                }
                None => {
                    tracing::error!(
                        "PKCE provider: no JWKS URL and no JWT authorizer; every request will be refused"
                    );
                    Source::Unusable
                }
            }
        };
        Self { settings, source }
    }

    /// The caller's email, from a verified token or the authorizer's claims.
    pub async fn email(&self, credentials: &Credentials) -> Result<String, DomainError> {
        let email = match &self.source {
            Source::Authorizer => self.email_from_authorizer(credentials),
            Source::Jwks { fetcher, cache } => {
                self.email_from_token(credentials, fetcher, cache).await
            }
            Source::Unusable => Err("the provider is misconfigured"),
        };
        email.map_err(|reason| {
            tracing::debug!(reason, "PKCE provider refused the request");
            DomainError::Unauthenticated
        })
    }

    fn email_from_authorizer(&self, credentials: &Credentials) -> Result<String, Refusal> {
        let claims: &HashMap<String, String> = credentials
            .jwt_authorizer_claims
            .as_ref()
            .ok_or("no JWT authorizer claims in the request context")?;
        let claim = |name: &str| claims.get(name).map(|v| Value::String(v.clone()));
        self.checked_email(claim)
    }

    async fn email_from_token(
        &self,
        credentials: &Credentials,
        fetcher: &fetch::JwksFetcher,
        cache: &cache::KeyCache,
    ) -> Result<String, Refusal> {
        let token = token::bearer(credentials.authorization.as_deref()).ok_or("no bearer token")?;
        if token.len() > MAX_TOKEN_BYTES {
            return Err("token too long");
        }
        // `none` is not an algorithm this library parses: such a header is refused here.
        let header = jsonwebtoken::decode_header(token).map_err(|_| "malformed token header")?;
        let kid = header.kid.as_deref().ok_or("no kid in the token header")?;
        if kid.is_empty() || kid.len() > keys::MAX_KID_BYTES {
            return Err("kid empty or too long");
        }
        let key = cache
            .key(kid, || {
                let fetcher = fetcher.clone();
                async move {
                    let keys = fetcher.fetch().await?;
                    if keys.is_empty() {
                        tracing::warn!(host = fetcher.host(), "the JWKS holds no usable key");
                    } else {
                        tracing::info!(
                            host = fetcher.host(),
                            keys = keys.len(),
                            "fetched the JWKS"
                        );
                    }
                    Ok(keys)
                }
            })
            .await?;
        if header.alg != key.algorithm {
            return Err("the token's alg is not its key's");
        }
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        let mut required = vec!["exp"];
        if let Some(issuer) = &self.settings.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        match &self.settings.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key.decoding, &validation)
            .map_err(|e| refusal(e.kind()))?
            .claims;
        self.checked_email(|name| claims.get(name).cloned())
    }

    /// The email of verified claims, after the issuer (a single string, when set) and the
    /// email's verification.
    fn checked_email(&self, claim: impl Fn(&str) -> Option<Value>) -> Result<String, Refusal> {
        if let Some(issuer) = &self.settings.issuer
            && claim("iss").as_ref().and_then(Value::as_str) != Some(issuer.as_str())
        {
            return Err("wrong issuer");
        }
        if super::says_unverified(claim("email_verified").as_ref()) {
            return Err("the provider says the email is not verified");
        }
        let email = claim(&self.settings.email_claim).ok_or("no email claim")?;
        let email = email.as_str().map(str::trim).unwrap_or_default();
        if email.is_empty() {
            return Err("the email claim is not a non-empty string");
        }
        Ok(email.to_owned())
    }
}

/// Why the library refused a token, without any of the token's content.
fn refusal(kind: &ErrorKind) -> Refusal {
    match kind {
        ErrorKind::ExpiredSignature => "expired",
        ErrorKind::ImmatureSignature => "not valid yet (nbf)",
        ErrorKind::InvalidAudience => "wrong audience",
        ErrorKind::InvalidIssuer => "wrong issuer",
        ErrorKind::InvalidSignature => "bad signature",
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => "algorithm not allowed",
        ErrorKind::MissingRequiredClaim(_) => "a required claim is missing (exp, iss, aud)",
        ErrorKind::InvalidClaimFormat(_) => "a claim is malformed",
        _ => "malformed token",
    }
}

#[cfg(test)]
mod tests;

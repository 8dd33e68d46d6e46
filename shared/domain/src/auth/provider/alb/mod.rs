//! `dispatch-auth-provider-aws-alb`: an Application Load Balancer authenticated the user (its
//! OIDC action) and vouches for the claims in `x-amzn-oidc-data`, an ES256 token it signed.
//!
//! The token is accepted only when its header says `alg` ES256, its `signer` is the configured
//! load balancer (`DISPATCH_AUTHENTICATION_PROVIDER_AWS_ALB_ARN`), its `exp` has not passed and
//! its `kid` is a plain id ([`token`]); only then is the region's public key of that `kid`
//! looked up, fetched at most once per cache time ([`keys`]), and the signature verified over
//! the segments exactly as received. The email is the payload's claim
//! `DISPATCH_AUTHENTICATION_PROVIDER_AWS_ALB_EMAIL_CLAIM` (default `email`).
//!
//! The functions accept ALB target-group events as well as HTTP API events (`lambda_http`'s
//! `alb` feature), so they can sit behind the load balancer directly.

pub mod keys;
pub mod token;

use std::fmt;

use super::Credentials;
use super::settings::AlbSettings;
use crate::error::DomainError;

/// The header the load balancer puts the signed claims in.
pub const HEADER: &str = "x-amzn-oidc-data";

/// Why a token was refused (logged at debug level; the caller only ever sees
/// [`DomainError::Unauthenticated`]).
pub type Refused = &'static str;

/// Verifies `x-amzn-oidc-data`, keeping the keys it fetched.
pub struct AlbVerifier {
    settings: AlbSettings,
    source: keys::KeySource,
    cache: keys::KeyCache,
}

impl fmt::Debug for AlbVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlbVerifier")
            .field("settings", &self.settings)
            .field("cached_kids", &self.cache.kids())
            .finish_non_exhaustive()
    }
}

impl AlbVerifier {
    /// A verifier for `settings`; builds its HTTP client once.
    pub fn new(settings: AlbSettings) -> Self {
        Self {
            source: keys::KeySource::new(&settings.key_url),
            cache: keys::KeyCache::new(settings.key_cache),
            settings,
        }
    }

    /// The email the load balancer vouches for.
    pub async fn email(&self, credentials: &Credentials) -> Result<String, DomainError> {
        let now = chrono::Utc::now().timestamp();
        self.verify(credentials, now).await.map_err(|reason| {
            tracing::debug!(reason, "x-amzn-oidc-data refused");
            DomainError::Unauthenticated
        })
    }

    async fn verify(&self, credentials: &Credentials, now: i64) -> Result<String, Refused> {
        let raw = credentials.header(HEADER).ok_or("no x-amzn-oidc-data")?;
        let token = token::parse(raw, &self.settings.alb_arn, now)?;
        let key = self
            .cache
            .get(&token.kid, || self.source.fetch(&token.kid))
            .await?;
        token.email(&key, &self.settings.email_claim)
    }
}

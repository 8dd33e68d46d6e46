//! Who is calling: Dispatch's authentication providers, chosen by
//! `DISPATCH_AUTHENTICATION_PROVIDER_SLUG` ([`settings`]).
//!
//! The web layer gathers what a provider may look at ([`Credentials`]: the `Authorization`
//! header, the other headers, and what an API Gateway authorizer put in the request context),
//! and [`Authenticator::identify`] turns it into an [`Identity`]: this installation's own
//! session claims (basic), or an email vouched for by something else (an OIDC provider's
//! token, a trusted header, a load balancer's signature, or nothing when authentication is
//! off). Every failure is the same [`DomainError::Unauthenticated`] ("Could not validate
//! credentials"), whatever the provider, so a client learns nothing from it.

pub mod alb;
pub mod header;
pub mod pkce;
pub mod settings;

use std::collections::HashMap;

pub use settings::Provider;

use super::token::{self, Claims};
use crate::config::Config;
use crate::error::DomainError;
use crate::model::EmailAddress;
use crate::secrets::KeyRing;

/// What a request offers as proof of identity.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// The `Authorization` header.
    pub authorization: Option<String>,
    /// Every other header, by lower-case name (a client can set any of them).
    pub headers: HashMap<String, String>,
    /// The claims an HTTP API JWT authorizer verified (`requestContext.authorizer.jwt.claims`).
    pub jwt_authorizer_claims: Option<HashMap<String, String>>,
    /// A Lambda authorizer's context (`requestContext.authorizer.lambda`).
    pub lambda_authorizer: Option<HashMap<String, serde_json::Value>>,
}

impl Credentials {
    /// A header's value (names are lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// Whether an identity provider says the email is not verified (`email_verified` false, as a
/// boolean, a string or a number: claims arrive in each form, and an API Gateway authorizer
/// turns them all into strings). An email is all that identifies a user here, so such a token
/// would let whoever registered an address at the provider sign in as its owner.
pub fn says_unverified(email_verified: Option<&serde_json::Value>) -> bool {
    match email_verified {
        Some(serde_json::Value::Bool(verified)) => !verified,
        Some(serde_json::Value::String(verified)) => {
            matches!(
                verified.trim().to_ascii_lowercase().as_str(),
                "false" | "0" | "no"
            )
        }
        Some(serde_json::Value::Number(verified)) => verified.as_f64() == Some(0.0),
        _ => false,
    }
}

/// Who the caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// A session token this installation signed (the basic provider).
    Token(Claims),
    /// An email something trusted vouched for: found or auto-provisioned by email.
    Email(EmailAddress),
}

/// The configured provider, with what it keeps between requests (fetched keys).
#[derive(Debug)]
pub struct Authenticator {
    provider: Provider,
    pkce: Option<pkce::PkceVerifier>,
    alb: Option<alb::AlbVerifier>,
}

impl Authenticator {
    pub fn new(provider: Provider) -> Self {
        let pkce = match &provider {
            Provider::Pkce(settings) => Some(pkce::PkceVerifier::new(settings.clone())),
            _ => None,
        };
        let alb = match &provider {
            Provider::AwsAlb(settings) => Some(alb::AlbVerifier::new(settings.clone())),
            _ => None,
        };
        Self {
            provider,
            pkce,
            alb,
        }
    }

    /// The provider in use.
    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    /// Finds the caller of a request.
    pub async fn identify(
        &self,
        credentials: &Credentials,
        keys: &KeyRing,
        config: &Config,
    ) -> Result<Identity, DomainError> {
        let email = match (&self.provider, &self.pkce, &self.alb) {
            (Provider::Basic, _, _) => {
                let bearer = token::bearer(credentials.authorization.as_deref())
                    .ok_or(DomainError::Unauthenticated)?;
                return Ok(Identity::Token(token::verify(keys, config, bearer).await?));
            }
            (Provider::Disabled { default_user }, _, _) => default_user.clone(),
            (Provider::Header(settings), _, _) => header::email(settings, credentials)?,
            (Provider::Pkce(_), Some(verifier), _) => verifier.email(credentials).await?,
            (Provider::AwsAlb(_), _, Some(verifier)) => verifier.email(credentials).await?,
            _ => return Err(DomainError::Unauthenticated),
        };
        let address = EmailAddress::parse(&email).map_err(|_| DomainError::Unauthenticated)?;
        // The address as the provider sent it, but for the case of its domain: parsing folds
        // Unicode look-alikes (a Kelvin sign for `k`) that the provider treats as another
        // address, and two of its users must not become one account here.
        if !address.as_str().eq_ignore_ascii_case(email.trim()) {
            return Err(DomainError::Unauthenticated);
        }
        Ok(Identity::Email(address))
    }
}

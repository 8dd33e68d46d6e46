//! `dispatch-auth-provider-header`: the identity is set by something in front of the API.
//!
//! Behind API Gateway any client can send any header, `remote-user` included, so a raw header
//! proves nothing. The identity is taken from an authorizer's output instead: a Lambda
//! authorizer's context (the key named like the header, or `email`), or a JWT authorizer's
//! `email` claim. Only when the operator declares a trusted proxy in front
//! (`DISPATCH_AUTHENTICATION_PROVIDER_HEADER_TRUSTED_PROXY=true`: a proxy that sets the header
//! and removes it from what clients send) is the raw header believed.

use super::Credentials;
use super::settings::HeaderSettings;
use crate::error::DomainError;

/// The caller's email, from the authorizer context or (trusted proxy only) the header.
pub fn email(settings: &HeaderSettings, credentials: &Credentials) -> Result<String, DomainError> {
    let from_lambda = credentials.lambda_authorizer.as_ref().and_then(|context| {
        [settings.header_name.as_str(), "email"]
            .iter()
            .find_map(|key| context.get(*key)?.as_str().map(str::to_owned))
    });
    let from_jwt = || {
        let claims = credentials.jwt_authorizer_claims.as_ref()?;
        let verified = claims
            .get("email_verified")
            .cloned()
            .map(serde_json::Value::String);
        if super::says_unverified(verified.as_ref()) {
            return None;
        }
        claims.get("email").cloned()
    };
    let from_header = || {
        settings
            .trusted_proxy
            .then(|| credentials.header(&settings.header_name).map(str::to_owned))
            .flatten()
    };
    from_lambda
        .or_else(from_jwt)
        .or_else(from_header)
        .map(|email| email.trim().to_owned())
        .filter(|email| !email.is_empty())
        .ok_or(DomainError::Unauthenticated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(trusted_proxy: bool) -> HeaderSettings {
        HeaderSettings {
            header_name: "remote-user".into(),
            trusted_proxy,
        }
    }

    fn with_header() -> Credentials {
        let mut credentials = Credentials::default();
        credentials
            .headers
            .insert("remote-user".into(), "mallory@example.com".into());
        credentials
    }

    #[test]
    fn a_client_sent_header_counts_only_behind_a_declared_trusted_proxy() {
        assert!(email(&settings(false), &with_header()).is_err());
        assert_eq!(
            email(&settings(true), &with_header()).unwrap(),
            "mallory@example.com"
        );
    }

    #[test]
    fn the_authorizer_context_wins_over_any_header() {
        let mut credentials = with_header();
        credentials.lambda_authorizer = Some(
            [(
                "remote-user".to_owned(),
                serde_json::json!("alice@example.com"),
            )]
            .into_iter()
            .collect(),
        );
        assert_eq!(
            email(&settings(true), &credentials).unwrap(),
            "alice@example.com"
        );
        let mut jwt = with_header();
        jwt.jwt_authorizer_claims = Some(
            [("email".to_owned(), "bob@example.com".to_owned())]
                .into_iter()
                .collect(),
        );
        assert_eq!(email(&settings(false), &jwt).unwrap(), "bob@example.com");
    }
}

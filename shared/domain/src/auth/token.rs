//! Session tokens: HS256 JWTs (Dispatch's basic provider), with the algorithm pinned, an integer
//! `exp` and an `iat` required, a 5-second leeway, and a token-version claim that a password
//! change bumps. Verification accepts the current signing key and the previous one (rotation).
//!
//! Tokens name their issuer (`iss`) and audience (`aud`) from the configuration, and both are
//! verified: a token signed with the same key for another installation or another audience
//! (a staging stack sharing a key, another service) is not a session here.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::DomainError;
use crate::model::User;
use crate::secrets::KeyRing;

/// Clock skew tolerated on `exp` and `iat`.
pub const LEEWAY_SECONDS: u64 = 5;

/// The claims of a session token. `email` and `exp` are what Dispatch's UI decodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id (immutable), as a string per RFC 7519.
    pub sub: String,
    /// Who signed the token: `DISPATCH_JWT_ISSUER`.
    pub iss: String,
    /// Whom the token is for: `DISPATCH_JWT_AUDIENCE`.
    pub aud: String,
    pub email: String,
    /// Expiry, integer seconds since the epoch (UTC).
    pub exp: i64,
    /// Issue time, integer seconds since the epoch (UTC).
    pub iat: i64,
    /// The user's token version when the token was issued.
    pub tv: u64,
}

impl Claims {
    /// The user id the token names.
    pub fn user_id(&self) -> Option<i32> {
        self.sub.parse().ok().filter(|id| *id > 0)
    }
}

fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Signs a token for `user`, with the issuer, audience and lifetime of `config`.
pub fn issue(keys: &KeyRing, user: &User, config: &Config) -> Result<String, DomainError> {
    let now = now_seconds();
    let claims = Claims {
        sub: user.id.to_string(),
        iss: config.jwt_issuer.clone(),
        aud: config.jwt_audience.clone(),
        email: user.email.as_str().to_owned(),
        exp: now + config.jwt_lifetime.as_secs() as i64,
        iat: now,
        tv: user.token_version,
    };
    let key = EncodingKey::from_secret(keys.current().expose())
        .map_err(|e| DomainError::Internal(anyhow::anyhow!("signing key unusable: {e}")))?;
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key)
        .map_err(|e| DomainError::Internal(anyhow::anyhow!("signing a token failed: {e}")))
}

/// Verifies a token: HS256 only, a valid signature by the current or the previous key, `exp`,
/// `iat`, `sub`, `iss` and `aud` present, `iss` and `aud` those of `config`, not expired, not
/// issued in the future. Every failure is the same 401, whatever went wrong (no detail ever
/// reaches the client or the logs). Only a signature the current key does not match asks for
/// the previous key (read once per process, [`KeyRing`]); a 503 if it cannot be read.
pub async fn verify(keys: &KeyRing, config: &Config, token: &str) -> Result<Claims, DomainError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_exp = true;
    validation.set_issuer(&[&config.jwt_issuer]);
    validation.set_audience(&[&config.jwt_audience]);
    validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
    let decoded = keys
        .first_match(|key| {
            let decoding = DecodingKey::from_secret(key.expose()).ok()?;
            match jsonwebtoken::decode::<Claims>(token, &decoding, &validation) {
                Ok(data) => Some(Ok(data.claims)),
                // Another key may have signed it.
                Err(e) if *e.kind() == ErrorKind::InvalidSignature => None,
                Err(_) => Some(Err(DomainError::Unauthenticated)),
            }
        })
        .await?;
    let claims = decoded.ok_or(DomainError::Unauthenticated)??;
    let issued_in_future = claims.iat > now_seconds() + LEEWAY_SECONDS as i64;
    if issued_in_future || claims.user_id().is_none() {
        return Err(DomainError::Unauthenticated);
    }
    Ok(claims)
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), if any.
pub fn bearer(header: Option<&str>) -> Option<&str> {
    let mut parts = header?.split_whitespace();
    let scheme = parts.next()?;
    let token = parts.next()?;
    (scheme.eq_ignore_ascii_case("bearer") && parts.next().is_none()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::SecretKey;
    use crate::time::Timestamp;

    fn ring(current: &[u8], previous: Option<&[u8]>) -> KeyRing {
        KeyRing::new(
            SecretKey::new(current.to_vec()).unwrap(),
            previous.map(|p| SecretKey::new(p.to_vec()).unwrap()),
        )
    }

    /// [`verify`] on a ring whose previous key is known (nothing to wait for).
    fn verify_now(keys: &KeyRing, config: &Config, token: &str) -> Result<Claims, DomainError> {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(verify(keys, config, token))
    }

    fn user() -> User {
        User {
            id: 7,
            email: crate::model::EmailAddress::parse("alice@example.com").unwrap(),
            token_version: 3,
            experimental_features: false,
            settings: Default::default(),
            provisioning_subject: None,
            organization_slugs: Vec::new(),
            organizations_indexed: false,
            created_at: Timestamp::now(),
            updated_at: Timestamp::now(),
            version: 1,
        }
    }

    /// The default issuer and audience; tokens live 60 seconds.
    fn config() -> Config {
        Config::from_lookup(|name| match name {
            "DISPATCH_JWT_EXP" => Some("60".into()),
            _ => Some("x".into()).filter(|_| name.ends_with("_ID") || name.ends_with("_NAME")),
        })
        .unwrap()
    }

    fn sign(claims: &serde_json::Value, key: &[u8], alg: Algorithm) -> String {
        jsonwebtoken::encode(
            &Header::new(alg),
            claims,
            &EncodingKey::from_secret(key).unwrap(),
        )
        .unwrap()
    }

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const OTHER: &[u8] = b"fedcba9876543210fedcba9876543210";

    #[test]
    fn a_token_round_trips_with_integer_times() {
        let token = issue(&ring(KEY, None), &user(), &config()).unwrap();
        let claims = verify_now(&ring(KEY, None), &config(), &token).unwrap();
        assert_eq!((claims.sub.as_str(), claims.tv), ("7", 3));
        assert_eq!(claims.exp - claims.iat, 60);
        let payload = token.split('.').nth(1).unwrap();
        assert!(!payload.is_empty());
    }

    #[test]
    fn the_previous_key_still_verifies_but_no_other_key_does() {
        let old = issue(&ring(OTHER, None), &user(), &config()).unwrap();
        assert!(verify_now(&ring(KEY, Some(OTHER)), &config(), &old).is_ok());
        assert!(verify_now(&ring(KEY, None), &config(), &old).is_err());
    }

    /// Claims of a good token for user 7, with `changes` applied (`null` removes a claim).
    fn claims(changes: serde_json::Value) -> serde_json::Value {
        let now = now_seconds();
        let mut claims = serde_json::json!({"sub": "7", "iss": "dispatch-serverless",
            "aud": "dispatch", "email": "a@b.co", "exp": now + 60, "iat": now, "tv": 0});
        for (name, value) in changes.as_object().unwrap() {
            match value {
                serde_json::Value::Null => claims.as_object_mut().unwrap().remove(name),
                _ => claims
                    .as_object_mut()
                    .unwrap()
                    .insert(name.clone(), value.clone()),
            };
        }
        claims
    }

    #[test]
    fn forged_tokens_are_refused() {
        let now = now_seconds();
        let good = claims(serde_json::json!({}));
        let keys = ring(KEY, None);
        let refused = |claims: &serde_json::Value| {
            verify_now(&keys, &config(), &sign(claims, KEY, Algorithm::HS256)).is_err()
        };
        assert!(!refused(&good));
        // Another HMAC algorithm with the right key.
        assert!(verify_now(&keys, &config(), &sign(&good, KEY, Algorithm::HS512)).is_err());
        for changes in [
            // Expired beyond the leeway; issued in the future.
            serde_json::json!({"exp": now - 10, "iat": now - 100}),
            serde_json::json!({"exp": now + 600, "iat": now + 300}),
            // Missing claims, a float or string exp, a bad subject.
            serde_json::json!({"exp": null}),
            serde_json::json!({"iat": null}),
            serde_json::json!({"sub": null}),
            serde_json::json!({"tv": null}),
            serde_json::json!({"exp": (now + 60) as f64 + 0.5}),
            serde_json::json!({"exp": (now + 60).to_string()}),
            serde_json::json!({"sub": "0"}),
            // Another issuer or audience, or none.
            serde_json::json!({"iss": null}),
            serde_json::json!({"aud": null}),
            serde_json::json!({"iss": "staging"}),
            serde_json::json!({"aud": "another-service"}),
            serde_json::json!({"aud": ["dispatch", "another-service"]}),
        ] {
            assert!(refused(&claims(changes.clone())), "{changes}");
        }
        // alg: none, and garbage.
        let header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"; // {"alg":"none","typ":"JWT"}
        let body = sign(&good, KEY, Algorithm::HS256)
            .split('.')
            .nth(1)
            .unwrap()
            .to_owned();
        assert!(verify_now(&keys, &config(), &format!("{header}.{body}.")).is_err());
        assert!(verify_now(&keys, &config(), "not-a-token").is_err());
    }

    #[test]
    fn issuer_and_audience_come_from_the_configuration() {
        let mut other = config();
        other.jwt_issuer = "https://dispatch.example.com".into();
        other.jwt_audience = "dispatch-ui".into();
        let token = issue(&ring(KEY, None), &user(), &other).unwrap();
        let claims = verify_now(&ring(KEY, None), &other, &token).unwrap();
        assert_eq!(
            (claims.iss.as_str(), claims.aud.as_str()),
            ("https://dispatch.example.com", "dispatch-ui")
        );
        assert!(verify_now(&ring(KEY, None), &config(), &token).is_err());
    }

    #[test]
    fn bearer_needs_the_scheme_and_one_token() {
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("Basic abc")), None);
        assert_eq!(bearer(Some("Bearer")), None);
        assert_eq!(bearer(Some("Bearer a b")), None);
        assert_eq!(bearer(None), None);
    }
}

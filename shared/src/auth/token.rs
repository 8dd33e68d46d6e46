//! Session tokens: HS256 JWTs (Dispatch's basic provider), with the algorithm pinned, an integer
//! `exp` and an `iat` required, a 5-second leeway, and a token-version claim that a password
//! change bumps. Verification accepts the current signing key and the previous one (rotation).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::model::User;
use crate::secrets::KeyRing;

/// Clock skew tolerated on `exp` and `iat`.
pub const LEEWAY_SECONDS: u64 = 5;

/// The claims of a session token. `email` and `exp` are what Dispatch's UI decodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id (immutable), as a string per RFC 7519.
    pub sub: String,
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

/// Signs a token for `user`, valid for `lifetime`.
pub fn issue(keys: &KeyRing, user: &User, lifetime: Duration) -> Result<String, ApiError> {
    let now = now_seconds();
    let claims = Claims {
        sub: user.id.to_string(),
        email: user.email.clone(),
        exp: now + lifetime.as_secs() as i64,
        iat: now,
        tv: user.token_version,
    };
    let key = EncodingKey::from_secret(keys.current.expose())
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("signing key unusable: {e}")))?;
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("signing a token failed: {e}")))
}

/// Verifies a token: HS256 only, a valid signature by the current or the previous key, `exp`,
/// `iat` and `sub` present, not expired, not issued in the future. Every failure is the same
/// 401, whatever went wrong (no detail ever reaches the client or the logs).
pub fn verify(keys: &KeyRing, token: &str) -> Result<Claims, ApiError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_exp = true;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "iat", "sub"]);
    for key in keys.verification_keys() {
        let Ok(decoding) = DecodingKey::from_secret(key.expose()) else {
            continue;
        };
        if let Ok(data) = jsonwebtoken::decode::<Claims>(token, &decoding, &validation) {
            let claims = data.claims;
            let issued_in_future = claims.iat > now_seconds() + LEEWAY_SECONDS as i64;
            if issued_in_future || claims.user_id().is_none() {
                return Err(ApiError::Unauthorized);
            }
            return Ok(claims);
        }
    }
    Err(ApiError::Unauthorized)
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
        KeyRing {
            current: SecretKey::new(current.to_vec()).unwrap(),
            previous: previous.map(|p| SecretKey::new(p.to_vec()).unwrap()),
        }
    }

    fn user() -> User {
        User {
            id: 7,
            email: "alice@example.com".into(),
            token_version: 3,
            experimental_features: false,
            settings: Default::default(),
            created_at: Timestamp::now(),
            updated_at: Timestamp::now(),
            version: 1,
        }
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
        let token = issue(&ring(KEY, None), &user(), Duration::from_secs(60)).unwrap();
        let claims = verify(&ring(KEY, None), &token).unwrap();
        assert_eq!((claims.sub.as_str(), claims.tv), ("7", 3));
        assert_eq!(claims.exp - claims.iat, 60);
        let payload = token.split('.').nth(1).unwrap();
        assert!(!payload.is_empty());
    }

    #[test]
    fn the_previous_key_still_verifies_but_no_other_key_does() {
        let old = issue(&ring(OTHER, None), &user(), Duration::from_secs(60)).unwrap();
        assert!(verify(&ring(KEY, Some(OTHER)), &old).is_ok());
        assert!(verify(&ring(KEY, None), &old).is_err());
    }

    #[test]
    fn forged_tokens_are_refused() {
        let now = now_seconds();
        let good = serde_json::json!({"sub":"7","email":"a@b.co","exp":now+60,"iat":now,"tv":0});
        let keys = ring(KEY, None);
        assert!(verify(&keys, &sign(&good, KEY, Algorithm::HS256)).is_ok());
        // Another HMAC algorithm with the right key.
        assert!(verify(&keys, &sign(&good, KEY, Algorithm::HS512)).is_err());
        // Expired beyond the leeway; issued in the future.
        let expired =
            serde_json::json!({"sub":"7","email":"a@b.co","exp":now-10,"iat":now-100,"tv":0});
        assert!(verify(&keys, &sign(&expired, KEY, Algorithm::HS256)).is_err());
        let future =
            serde_json::json!({"sub":"7","email":"a@b.co","exp":now+600,"iat":now+300,"tv":0});
        assert!(verify(&keys, &sign(&future, KEY, Algorithm::HS256)).is_err());
        // Missing claims, a float or string exp, a bad subject.
        for claims in [
            serde_json::json!({"sub":"7","email":"a@b.co","iat":now,"tv":0}),
            serde_json::json!({"sub":"7","email":"a@b.co","exp":now+60,"tv":0}),
            serde_json::json!({"email":"a@b.co","exp":now+60,"iat":now,"tv":0}),
            serde_json::json!({"sub":"7","email":"a@b.co","exp":now+60,"iat":now}),
            serde_json::json!({"sub":"7","email":"a@b.co","exp":(now+60) as f64 + 0.5,"iat":now,"tv":0}),
            serde_json::json!({"sub":"7","email":"a@b.co","exp":(now+60).to_string(),"iat":now,"tv":0}),
            serde_json::json!({"sub":"0","email":"a@b.co","exp":now+60,"iat":now,"tv":0}),
        ] {
            assert!(
                verify(&keys, &sign(&claims, KEY, Algorithm::HS256)).is_err(),
                "{claims}"
            );
        }
        // alg: none, and garbage.
        let header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"; // {"alg":"none","typ":"JWT"}
        let body = sign(&good, KEY, Algorithm::HS256)
            .split('.')
            .nth(1)
            .unwrap()
            .to_owned();
        assert!(verify(&keys, &format!("{header}.{body}.")).is_err());
        assert!(verify(&keys, "not-a-token").is_err());
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

//! Passwords: the length policy (checked before any hashing), argon2id hashing and
//! verification off the async executor, and a dummy hash that makes a login for an unknown
//! email cost exactly one verification, like a wrong password.

use std::sync::atomic::{AtomicU64, Ordering};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use secrecy::{ExposeSecret, SecretString};

use crate::error::ApiError;
use crate::model::Invalid;

/// Fewest characters a password may have (Dispatch's rule).
pub const MIN_CHARS: usize = 8;
/// Most characters a password may have (ASVS 4.0.3 2.1.2).
pub const MAX_CHARS: usize = 128;
/// Most UTF-8 bytes a password may have, whatever its character count.
pub const MAX_BYTES: usize = 512;

/// A password that passed the length policy. Surrounding whitespace is stripped everywhere
/// (registration included, unlike Dispatch: Q-U10). `Debug` never shows it.
#[derive(Clone)]
pub struct Password(SecretString);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([REDACTED])")
    }
}

impl Password {
    /// Applies the policy: 8 to 128 characters and at most 512 bytes, after stripping.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let password = raw.trim();
        if password.len() > MAX_BYTES {
            return Err(Invalid::new(
                format!("Value error, Password must be at most {MAX_BYTES} bytes long"),
                "value_error",
            ));
        }
        let chars = password.chars().count();
        if chars < MIN_CHARS {
            return Err(Invalid::new(
                format!("Value error, Password must be at least {MIN_CHARS} characters long"),
                "value_error",
            ));
        }
        if chars > MAX_CHARS {
            return Err(Invalid::new(
                format!("Value error, Password must be at most {MAX_CHARS} characters long"),
                "value_error",
            ));
        }
        Ok(Self(SecretString::from(password.to_owned())))
    }

    /// A random password nobody knows (auto-provisioned accounts).
    pub fn random() -> Self {
        use rand::Rng;
        let password: String = rand::rng()
            .sample_iter(rand::distr::Alphanumeric)
            .take(32)
            .map(char::from)
            .collect();
        Self(SecretString::from(password))
    }

    fn bytes(&self) -> &[u8] {
        self.0.expose_secret().as_bytes()
    }
}

/// An argon2id hash (PHC string) of a password nobody knows, with the crate's default
/// parameters: verifying against it costs what verifying a real password costs. A unit test
/// keeps its parameters equal to the defaults.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$2aHRjV1lkB0E8FvLzXnZbQ$gAa7EnNn2r0oLV6dS3O5nhJmYx4Wq+5i0J9GmX0m2yI";

/// Hashing and verification, with a count of verifications (tests use it to prove that a login
/// for an unknown email runs exactly one, like a wrong password).
#[derive(Debug, Default)]
pub struct Passwords {
    verifications: AtomicU64,
}

impl Passwords {
    /// Argon2id with the OWASP parameters (the crate defaults), on a blocking thread.
    pub async fn hash(&self, password: &Password) -> Result<String, ApiError> {
        let password = password.clone();
        tokio::task::spawn_blocking(move || {
            Argon2::default()
                .hash_password(password.bytes())
                .map(|hash| hash.to_string())
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("hashing a password failed: {e}")))
        })
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("hashing task failed: {e}")))?
    }

    /// Verifies `password` against `stored`, or against the dummy hash when there is no stored
    /// hash (unknown email): either way exactly one argon2 verification runs.
    pub async fn verify(&self, password: &Password, stored: Option<&str>) -> bool {
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let password = password.clone();
        let (hash, real) = match stored {
            Some(hash) => (hash.to_owned(), true),
            None => (DUMMY_HASH.to_owned(), false),
        };
        let matched = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        matched && real
    }

    /// How many verifications ran so far.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_counts_characters_after_stripping_and_caps_bytes() {
        assert!(Password::parse("  short  ").is_err());
        assert!(Password::parse("  exactly8  ").is_ok());
        assert!(Password::parse(&"x".repeat(128)).is_ok());
        assert!(
            Password::parse(&"x".repeat(129))
                .unwrap_err()
                .msg
                .contains("at most 128 characters")
        );
        // The byte cap is checked first, before counting characters of a huge input.
        assert!(Password::parse(&"𝄞".repeat(128)).is_ok());
        assert!(
            Password::parse(&"𝄞".repeat(129))
                .unwrap_err()
                .msg
                .contains("512 bytes")
        );
        assert!(Password::parse("").unwrap_err().msg.contains("at least 8"));
    }

    #[test]
    fn the_dummy_hash_uses_the_default_parameters() {
        let parsed = PasswordHash::new(DUMMY_HASH).expect("valid PHC string");
        let params = argon2::Params::try_from(&parsed).expect("argon2 parameters");
        let defaults = argon2::Params::default();
        assert_eq!(
            (params.m_cost(), params.t_cost(), params.p_cost()),
            (defaults.m_cost(), defaults.t_cost(), defaults.p_cost())
        );
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
    }

    #[tokio::test]
    async fn hash_then_verify_round_trips_and_counts() {
        let passwords = Passwords::default();
        let password = Password::parse("correct horse battery").unwrap();
        let hash = passwords.hash(&password).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(passwords.verify(&password, Some(&hash)).await);
        let wrong = Password::parse("incorrect horse").unwrap();
        assert!(!passwords.verify(&wrong, Some(&hash)).await);
        assert!(
            !passwords.verify(&password, None).await,
            "the dummy never matches"
        );
        assert_eq!(passwords.verifications(), 3);
    }
}

//! Passwords: the length policy (checked before any hashing), argon2id hashing and
//! verification off the async executor, and a dummy hash that makes a login for an unknown
//! email cost exactly one verification, like a wrong password.

use std::sync::atomic::{AtomicU64, Ordering};

use std::sync::{Arc, Mutex};

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use secrecy::{ExposeSecret, SecretString};

use crate::error::DomainError;
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

    /// The policy plus Dispatch's complexity rules of its change-password and admin-reset
    /// bodies, with its messages and in its order: 8 characters, a digit, upper and lower case.
    pub fn parse_new(raw: &str) -> Result<Self, Invalid> {
        let password = Self::parse(raw)?;
        let text = raw.trim();
        let rule = |ok: bool, message: &str| {
            if ok {
                Ok(())
            } else {
                Err(Invalid::new(
                    format!("Value error, {message}"),
                    "value_error",
                ))
            }
        };
        rule(
            text.chars().any(|c| c.is_ascii_digit()),
            "Password must contain at least one number",
        )?;
        rule(
            text.chars().any(char::is_uppercase) && text.chars().any(char::is_lowercase),
            "Password must contain both uppercase and lowercase characters",
        )?;
        Ok(password)
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

/// Refuse stored hashes that would make a login allocate more than this (256 MiB): a corrupted
/// or injected item must not be able to exhaust the function's memory.
const MAX_STORED_M_COST: u32 = 256 * 1024;

/// Hashing and verification, with a count of verifications (tests use it to prove that a login
/// for an unknown email runs exactly one, like a wrong password).
///
/// argon2 needs 19 MiB of working memory per hash. It is allocated once and reused: allocating
/// it per call costs page faults on every login (about half of an argon2 run) and, with glibc's
/// per-thread arenas, left up to 129 MB resident.
#[derive(Default)]
pub struct Passwords {
    verifications: AtomicU64,
    memory: Arc<Mutex<Vec<Block>>>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords")
            .field("verifications", &self.verifications)
            .finish_non_exhaustive()
    }
}

/// Runs argon2id with `params`, in the shared working memory (or a temporary one while another
/// call holds it).
fn with_argon2<R>(
    memory: &Mutex<Vec<Block>>,
    params: Params,
    run: impl FnOnce(&Argon2, &mut [Block]) -> R,
) -> R {
    let blocks = params.block_count();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    match memory.try_lock() {
        Ok(mut shared) => {
            if shared.len() < blocks {
                shared.resize(blocks, Block::default());
            }
            run(&argon2, &mut shared[..blocks])
        }
        Err(_) => run(&argon2, &mut vec![Block::default(); blocks]),
    }
}

fn hash_blocking(memory: &Mutex<Vec<Block>>, password: &[u8]) -> Result<String, argon2::Error> {
    let params = Params::default();
    let salt: [u8; 16] = rand::random();
    let mut output = [0u8; 32];
    let (m, t, p) = (params.m_cost(), params.t_cost(), params.p_cost());
    with_argon2(memory, params, |argon2, blocks| {
        argon2.hash_password_into_with_memory(password, &salt, &mut output, blocks)
    })?;
    // The PHC string format, with its unpadded standard Base64.
    Ok(format!(
        "$argon2id$v=19$m={m},t={t},p={p}${}${}",
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(output)
    ))
}

fn verify_blocking(memory: &Mutex<Vec<Block>>, password: &[u8], stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    if parsed.algorithm.as_str() != "argon2id"
        || parsed.version != Some(19)
        || params.m_cost() > MAX_STORED_M_COST
    {
        return false;
    }
    let mut output = vec![0u8; expected.len()];
    let computed = with_argon2(memory, params, |argon2, blocks| {
        argon2.hash_password_into_with_memory(password, salt, &mut output, blocks)
    });
    computed.is_ok()
        && aws_lc_rs::constant_time::verify_slices_are_equal(&output, expected.as_bytes()).is_ok()
}

impl Passwords {
    /// Argon2id with the OWASP parameters (the crate defaults), on a blocking thread.
    pub async fn hash(&self, password: &Password) -> Result<String, DomainError> {
        let password = password.clone();
        let memory = Arc::clone(&self.memory);
        tokio::task::spawn_blocking(move || hash_blocking(&memory, password.bytes()))
            .await
            .map_err(|e| DomainError::Internal(anyhow::anyhow!("hashing task failed: {e}")))?
            .map_err(|e| DomainError::Internal(anyhow::anyhow!("hashing a password failed: {e}")))
    }

    /// Verifies `password` against `stored`, or against the dummy hash when there is no stored
    /// hash (unknown email): either way exactly one argon2 verification runs.
    pub async fn verify(&self, password: &Password, stored: Option<&str>) -> bool {
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let password = password.clone();
        let memory = Arc::clone(&self.memory);
        let (hash, real) = match stored {
            Some(hash) => (hash.to_owned(), true),
            None => (DUMMY_HASH.to_owned(), false),
        };
        let matched =
            tokio::task::spawn_blocking(move || verify_blocking(&memory, password.bytes(), &hash))
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
    fn new_passwords_follow_dispatchs_complexity_rules_in_order() {
        let msg = |raw: &str| Password::parse_new(raw).unwrap_err().msg;
        assert_eq!(
            msg("short"),
            "Value error, Password must be at least 8 characters long"
        );
        assert_eq!(
            msg("no digits here"),
            "Value error, Password must contain at least one number"
        );
        assert_eq!(
            msg("lower case 1"),
            "Value error, Password must contain both uppercase and lowercase characters"
        );
        assert!(Password::parse_new("Mixed case 1").is_ok());
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

    #[test]
    fn hashes_interoperate_with_the_argon2_crates_phc_strings() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let memory = Mutex::new(Vec::new());
        let ours = hash_blocking(&memory, b"correct horse battery").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        let theirs = Argon2::default()
            .hash_password(b"correct horse battery")
            .unwrap()
            .to_string();
        assert!(verify_blocking(&memory, b"correct horse battery", &theirs));
        assert!(!verify_blocking(&memory, b"wrong horse battery", &theirs));
        let greedy = theirs.replace("m=19456", "m=4194304");
        assert!(
            !verify_blocking(&memory, b"correct horse battery", &greedy),
            "huge stored costs are refused"
        );
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

//! Passwords: the length policy (checked before any hashing), argon2id hashing and
//! verification off the async executor in a bounded pool ([`pool`]: one run per core at a
//! time, each in a reused working memory), and a dummy hash that makes a login for an unknown
//! email cost exactly one verification, like a wrong password.

mod pool;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use secrecy::{ExposeSecret, SecretString};

use self::pool::{Memory, Pool};
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
/// Every run goes through the process's argon2 [`pool`]: at most one per core at a time, each
/// in its slot's reused 19 MiB working memory, the others waiting in arrival order.
pub struct Passwords {
    verifications: AtomicU64,
    pool: Arc<Pool>,
}

impl Default for Passwords {
    fn default() -> Self {
        Self::with_pool(Pool::shared())
    }
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords")
            .field("verifications", &self.verifications)
            .field("pool", &self.pool)
            .finish()
    }
}

/// argon2id with `params`, run in the slot's working memory.
fn argon2id<R>(
    memory: &mut Memory<'_>,
    params: Params,
    run: impl FnOnce(&Argon2, &mut [Block]) -> R,
) -> R {
    let blocks = params.block_count();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    memory.with_blocks(blocks, |blocks| run(&argon2, blocks))
}

fn hash_blocking(memory: &mut Memory<'_>, password: &[u8]) -> Result<String, argon2::Error> {
    let params = Params::default();
    let salt: [u8; 16] = rand::random();
    let mut output = [0u8; 32];
    let (m, t, p) = (params.m_cost(), params.t_cost(), params.p_cost());
    argon2id(memory, params, |argon2, blocks| {
        argon2.hash_password_into_with_memory(password, &salt, &mut output, blocks)
    })?;
    // The PHC string format, with its unpadded standard Base64.
    Ok(format!(
        "$argon2id$v=19$m={m},t={t},p={p}${}${}",
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(output)
    ))
}

fn verify_blocking(memory: &mut Memory<'_>, password: &[u8], stored: &str) -> bool {
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
    let computed = argon2id(memory, params, |argon2, blocks| {
        argon2.hash_password_into_with_memory(password, salt, &mut output, blocks)
    });
    computed.is_ok()
        && aws_lc_rs::constant_time::verify_slices_are_equal(&output, expected.as_bytes()).is_ok()
}

impl Passwords {
    fn with_pool(pool: Arc<Pool>) -> Self {
        Self {
            verifications: AtomicU64::new(0),
            pool,
        }
    }

    /// Argon2id with the OWASP parameters (the crate defaults), in the pool.
    pub async fn hash(&self, password: &Password) -> Result<String, DomainError> {
        let password = password.clone();
        self.pool
            .run(move |memory| hash_blocking(memory, password.bytes()))
            .await
            .map_err(|e| DomainError::Internal(anyhow::anyhow!("hashing task failed: {e}")))?
            .map_err(|e| DomainError::Internal(anyhow::anyhow!("hashing a password failed: {e}")))
    }

    /// Verifies `password` against `stored`, or against the dummy hash when there is no stored
    /// hash (unknown email): either way exactly one argon2 verification runs, in the pool.
    pub async fn verify(&self, password: &Password, stored: Option<&str>) -> bool {
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let password = password.clone();
        let (hash, real) = match stored {
            Some(hash) => (hash.to_owned(), true),
            None => (DUMMY_HASH.to_owned(), false),
        };
        let matched = self
            .pool
            .run(move |memory| verify_blocking(memory, password.bytes(), &hash))
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
mod pool_tests;
#[cfg(test)]
mod tests;

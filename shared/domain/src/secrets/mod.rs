//! Secrets from AWS Secrets Manager, fetched once per cold start.
//!
//! Key material never appears in `Debug` output, logs or errors: [`SecretKey`] wraps it in
//! `secrecy`, and errors name the secret id only.

use aws_sdk_secretsmanager::Client;
use secrecy::{ExposeSecret, SecretSlice};

mod key_ring;
mod versions;

pub use key_ring::{KeyRing, RETRY_AFTER};

/// The shortest signing key accepted (256 bits, for HS256 and the cursor HMAC).
pub const MIN_KEY_BYTES: usize = 32;

/// One key's material. `Debug` prints `[REDACTED]`.
#[derive(Clone)]
pub struct SecretKey(SecretSlice<u8>);

impl SecretKey {
    /// Wraps key material, refusing keys shorter than [`MIN_KEY_BYTES`].
    pub fn new(bytes: Vec<u8>) -> Option<Self> {
        (bytes.len() >= MIN_KEY_BYTES).then(|| Self(bytes.into()))
    }

    /// The raw bytes, for the signing code only.
    pub fn expose(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey([REDACTED])")
    }
}

/// Every secret a function needs.
#[derive(Debug, Clone)]
pub struct Secrets {
    /// Signs and verifies JWTs.
    pub jwt: KeyRing,
    /// Signs and verifies list cursors.
    pub cursor: KeyRing,
    /// Seals and opens plugin configurations (only where `DISPATCH_ENCRYPTION_SECRET_ID` is
    /// set: the plugins function).
    pub configuration: Option<std::sync::Arc<crate::plugin_config::ConfigurationKey>>,
}

/// Why a secret could not be loaded. Names the secret id, never its value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret {id} could not be read: {reason}")]
    Unreadable {
        id: String,
        reason: String,
        /// No answer, throttled, or Secrets Manager's own failure: trying later may work.
        /// Otherwise (access denied, a key that cannot decrypt, …) it will not by itself.
        transient: bool,
    },
    #[error("secret {id} has no string value")]
    Empty { id: String },
    #[error("secret {id} is shorter than {MIN_KEY_BYTES} bytes")]
    TooShort { id: String },
}

impl SecretError {
    /// Whether trying again later may succeed (see [`SecretError::Unreadable`]).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            SecretError::Unreadable {
                transient: true,
                ..
            }
        )
    }
}

impl Secrets {
    /// Fetches both key rings (see [`Secrets::load_all`]).
    pub async fn load(client: &Client, jwt_id: &str, cursor_id: &str) -> Result<Self, SecretError> {
        Self::load_all(client, jwt_id, cursor_id, None).await
    }

    /// Adds the plugin-configuration key, from secret `id`.
    pub async fn with_configuration_key(
        mut self,
        client: &Client,
        id: &str,
    ) -> Result<Self, SecretError> {
        self.configuration = Some(load_configuration_key(client, id).await?);
        Ok(self)
    }
}

/// The plugin-configuration key, derived from secret `id` (its previous version on demand).
pub async fn load_configuration_key(
    client: &Client,
    id: &str,
) -> Result<std::sync::Arc<crate::plugin_config::ConfigurationKey>, SecretError> {
    let current = versions::load_version(client, id, "AWSCURRENT")
        .await?
        .ok_or_else(|| SecretError::Empty { id: id.into() })?;
    Ok(configuration_key(&KeyRing::previous_on_demand(
        current, client, id,
    )))
}

fn configuration_key(ring: &KeyRing) -> std::sync::Arc<crate::plugin_config::ConfigurationKey> {
    std::sync::Arc::new(crate::plugin_config::ConfigurationKey::from_ring(ring))
}

impl Secrets {
    /// The signing keys, and the configuration key when `configuration_id` is given: the
    /// current versions of every secret in one `BatchGetSecretValue`, one request whatever
    /// their number. Previous versions (only a rotated secret has one) are read when first
    /// needed ([`KeyRing`]), not here.
    ///
    /// A secret the batch does not return (the batch refused by Secrets Manager as a whole,
    /// for instance without the `secretsmanager:BatchGetSecretValue` permission, or one secret
    /// unreadable) is fetched again on its own with `GetSecretValue`, whose error is the one
    /// reported: the outcome, and every error message, are those of fetching each secret by
    /// itself. A batch that gets no answer at all (timeouts, no connection) fails at once.
    pub async fn load_all(
        client: &Client,
        jwt_id: &str,
        cursor_id: &str,
        configuration_id: Option<&str>,
    ) -> Result<Self, SecretError> {
        // Each secret once, in this order (one secret may serve two purposes, in tests).
        let mut ids = vec![jwt_id];
        for id in std::iter::once(cursor_id).chain(configuration_id) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        let mut current = versions::current_versions(client, &ids).await?;
        let missing: Vec<&str> = ids
            .iter()
            .copied()
            .filter(|id| !current.contains_key(id))
            .collect();
        let fetched = versions::each(&missing, |id| {
            versions::load_version(client, id, "AWSCURRENT")
        })
        .await;
        for (id, fetched) in missing.into_iter().zip(fetched) {
            current.insert(id, fetched?);
        }
        let mut rings = Vec::with_capacity(ids.len());
        for &id in &ids {
            let current = current
                .remove(id)
                .flatten()
                .ok_or_else(|| SecretError::Empty { id: id.into() })?;
            rings.push((id, KeyRing::previous_on_demand(current, client, id)));
        }
        let ring = |id: &str| {
            rings
                .iter()
                .find(|(of, _)| *of == id)
                .map(|(_, ring)| ring.clone())
                .expect("every id was fetched")
        };
        Ok(Self {
            jwt: ring(jwt_id),
            cursor: ring(cursor_id),
            configuration: configuration_id.map(|id| configuration_key(&ring(id))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_key_material() {
        let key = SecretKey::new(b"0123456789abcdef0123456789abcdef-very-secret".to_vec()).unwrap();
        assert!(!format!("{key:?}").contains("very-secret"));
        let ring = KeyRing::new(key.clone(), Some(key));
        assert!(!format!("{ring:?}").contains("very-secret"));
    }

    #[test]
    fn a_batch_entry_answers_for_its_name_its_arn_and_its_partial_arn() {
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench/jwt-AbCdEf";
        let entry = aws_sdk_secretsmanager::types::SecretValueEntry::builder()
            .name("bench/jwt")
            .arn(arn)
            .build();
        assert!(versions::answers(&entry, "bench/jwt"));
        assert!(versions::answers(&entry, arn));
        assert!(versions::answers(
            &entry,
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench/jwt"
        ));
        assert!(!versions::answers(&entry, "bench/jw"));
        assert!(!versions::answers(
            &entry,
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench/jw"
        ));
        assert!(!versions::answers(&entry, "bench/cursor"));
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(SecretKey::new(vec![7; MIN_KEY_BYTES - 1]).is_none());
        assert!(SecretKey::new(vec![7; MIN_KEY_BYTES]).is_some());
    }
}

#[cfg(test)]
mod fallback_tests;

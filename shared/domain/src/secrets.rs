//! Secrets from AWS Secrets Manager, fetched once per cold start.
//!
//! Key material never appears in `Debug` output, logs or errors: [`SecretKey`] wraps it in
//! `secrecy`, and errors name the secret id only.

use aws_sdk_secretsmanager::Client;
use secrecy::{ExposeSecret, SecretSlice};

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

/// The current key, and the previous one during a rotation (tokens signed with it still verify).
#[derive(Debug, Clone)]
pub struct KeyRing {
    pub current: SecretKey,
    pub previous: Option<SecretKey>,
}

impl KeyRing {
    /// Every key that may verify a signature, current first.
    pub fn verification_keys(&self) -> impl Iterator<Item = &SecretKey> {
        std::iter::once(&self.current).chain(self.previous.iter())
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
    Unreadable { id: String, reason: String },
    #[error("secret {id} has no string value")]
    Empty { id: String },
    #[error("secret {id} is shorter than {MIN_KEY_BYTES} bytes")]
    TooShort { id: String },
}

impl Secrets {
    /// Fetches both key rings concurrently.
    pub async fn load(client: &Client, jwt_id: &str, cursor_id: &str) -> Result<Self, SecretError> {
        let (jwt, cursor) =
            tokio::try_join!(load_ring(client, jwt_id), load_ring(client, cursor_id))?;
        Ok(Self {
            jwt,
            cursor,
            configuration: None,
        })
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

/// The plugin-configuration key, derived from secret `id` (current and previous versions).
pub async fn load_configuration_key(
    client: &Client,
    id: &str,
) -> Result<std::sync::Arc<crate::plugin_config::ConfigurationKey>, SecretError> {
    let ring = load_ring(client, id).await?;
    Ok(std::sync::Arc::new(
        crate::plugin_config::ConfigurationKey::from_ring(&ring),
    ))
}

impl Secrets {
    /// The signing keys, and the configuration key when `configuration_id` is given, fetched
    /// concurrently.
    pub async fn load_all(
        client: &Client,
        jwt_id: &str,
        cursor_id: &str,
        configuration_id: Option<&str>,
    ) -> Result<Self, SecretError> {
        let configuration = async {
            match configuration_id {
                Some(id) => load_configuration_key(client, id).await.map(Some),
                None => Ok(None),
            }
        };
        let (secrets, configuration) =
            tokio::try_join!(Self::load(client, jwt_id, cursor_id), configuration)?;
        Ok(Self {
            configuration,
            ..secrets
        })
    }
}

async fn load_ring(client: &Client, id: &str) -> Result<KeyRing, SecretError> {
    let (current, previous) = tokio::join!(
        load_version(client, id, "AWSCURRENT"),
        load_version(client, id, "AWSPREVIOUS")
    );
    let current = current?.ok_or_else(|| SecretError::Empty { id: id.into() })?;
    // A previous version exists only after a rotation; one that cannot be read is not fatal.
    let previous = previous.ok().flatten();
    Ok(KeyRing { current, previous })
}

async fn load_version(
    client: &Client,
    id: &str,
    stage: &str,
) -> Result<Option<SecretKey>, SecretError> {
    let output = match client
        .get_secret_value()
        .secret_id(id)
        .version_stage(stage)
        .send()
        .await
    {
        Ok(output) => output,
        Err(e)
            if stage != "AWSCURRENT"
                && e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            return Ok(None);
        }
        Err(e) => {
            return Err(SecretError::Unreadable {
                id: id.into(),
                reason: one_line(&aws_sdk_secretsmanager::error::DisplayErrorContext(&e)),
            });
        }
    };
    let Some(value) = output.secret_string() else {
        return Ok(None);
    };
    SecretKey::new(value.as_bytes().to_vec())
        .map(Some)
        .ok_or_else(|| SecretError::TooShort { id: id.into() })
}

/// An SDK error's chain on one line (start-up failures are printed as exactly one line).
fn one_line(error: &impl std::fmt::Display) -> String {
    error
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_key_material() {
        let key = SecretKey::new(b"0123456789abcdef0123456789abcdef-very-secret".to_vec()).unwrap();
        assert!(!format!("{key:?}").contains("very-secret"));
        let ring = KeyRing {
            current: key.clone(),
            previous: Some(key),
        };
        assert!(!format!("{ring:?}").contains("very-secret"));
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(SecretKey::new(vec![7; MIN_KEY_BYTES - 1]).is_none());
        assert!(SecretKey::new(vec![7; MIN_KEY_BYTES]).is_some());
    }
}

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

/// The plugin-configuration key, derived from secret `id` (current and previous versions).
pub async fn load_configuration_key(
    client: &Client,
    id: &str,
) -> Result<std::sync::Arc<crate::plugin_config::ConfigurationKey>, SecretError> {
    let ring = load_ring(client, id).await?;
    Ok(configuration_key(&ring))
}

fn configuration_key(ring: &KeyRing) -> std::sync::Arc<crate::plugin_config::ConfigurationKey> {
    std::sync::Arc::new(crate::plugin_config::ConfigurationKey::from_ring(ring))
}

impl Secrets {
    /// The signing keys, and the configuration key when `configuration_id` is given: the
    /// current versions of every secret in one `BatchGetSecretValue`, and beside it, at the
    /// same time, the previous version of each (`GetSecretValue` with `AWSPREVIOUS`; only a
    /// rotated secret has one). That is n + 1 requests instead of 2n.
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
        let (current, previous) = tokio::join!(
            current_versions(client, &ids),
            each(&ids, |id| load_version(client, id, "AWSPREVIOUS"))
        );
        let mut current = current?;
        let missing: Vec<&str> = ids
            .iter()
            .copied()
            .filter(|id| !current.contains_key(id))
            .collect();
        let fetched = each(&missing, |id| load_version(client, id, "AWSCURRENT")).await;
        for (id, fetched) in missing.into_iter().zip(fetched) {
            current.insert(id, fetched?);
        }
        let mut rings = Vec::with_capacity(ids.len());
        for (&id, previous) in ids.iter().zip(previous) {
            let current = current
                .remove(id)
                .flatten()
                .ok_or_else(|| SecretError::Empty { id: id.into() })?;
            // A previous version exists only after a rotation; one that cannot be read is not
            // fatal.
            let previous = previous.ok().flatten();
            rings.push((id, KeyRing { current, previous }));
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

/// `fetch` of each of `ids` (three at most: a function's secrets), concurrently, in order.
async fn each<'a, F, T>(ids: &[&'a str], fetch: impl Fn(&'a str) -> F) -> Vec<T>
where
    F: std::future::Future<Output = T>,
{
    debug_assert!(ids.len() <= 3, "a function has three secrets at most");
    let slot = |index: usize| {
        let fetching = ids.get(index).map(|id| fetch(id));
        async move {
            match fetching {
                Some(fetching) => Some(fetching.await),
                None => None,
            }
        }
    };
    let (first, second, third) = tokio::join!(slot(0), slot(1), slot(2));
    [first, second, third].into_iter().flatten().collect()
}

/// The current version of each of `ids` that one `BatchGetSecretValue` returns (`None`: the
/// secret has no string value); the ids it does not answer for are missing. An error only
/// when the batch got no answer (timeouts, no connection): fetching the secrets one by one
/// would fail the same way.
async fn current_versions<'a>(
    client: &Client,
    ids: &[&'a str],
) -> Result<std::collections::HashMap<&'a str, Option<SecretKey>>, SecretError> {
    let began = std::time::Instant::now();
    let output = client
        .batch_get_secret_value()
        .set_secret_id_list(Some(ids.iter().map(|id| (*id).to_owned()).collect()))
        .send()
        .await;
    tracing::debug!(
        target: "dispatch::cold_start",
        secrets = ids.len(),
        ms = began.elapsed().as_secs_f64() * 1000.0,
        "BatchGetSecretValue"
    );
    let output = match output {
        Ok(output) => output,
        Err(e) if e.as_service_error().is_some() => {
            tracing::warn!(
                error = %one_line(&aws_sdk_secretsmanager::error::DisplayErrorContext(&e)),
                "BatchGetSecretValue refused; fetching each secret with GetSecretValue (allow \
                 secretsmanager:BatchGetSecretValue to save the requests)"
            );
            return Ok(Default::default());
        }
        Err(e) => {
            return Err(SecretError::Unreadable {
                id: ids.join(", "),
                reason: one_line(&aws_sdk_secretsmanager::error::DisplayErrorContext(&e)),
            });
        }
    };
    let mut values = std::collections::HashMap::new();
    for entry in output.secret_values() {
        if let Some(&id) = ids.iter().find(|id| answers(entry, id)) {
            values.insert(id, key_from(id, entry.secret_string().map(str::to_owned))?);
        }
    }
    Ok(values)
}

/// Whether a batch entry is the secret named by `id`: its name, its ARN, or its ARN without
/// the six random characters Secrets Manager appends (a partial ARN).
fn answers(entry: &aws_sdk_secretsmanager::types::SecretValueEntry, id: &str) -> bool {
    entry.name() == Some(id)
        || entry.arn().is_some_and(|arn| {
            arn == id
                || arn
                    .strip_prefix(id)
                    .is_some_and(|rest| rest.len() == 7 && rest.starts_with('-'))
        })
}

/// A key from a secret's string value (`None`: the secret has no string value).
fn key_from(id: &str, value: Option<String>) -> Result<Option<SecretKey>, SecretError> {
    let Some(value) = value else {
        return Ok(None);
    };
    SecretKey::new(value.into_bytes())
        .map(Some)
        .ok_or_else(|| SecretError::TooShort { id: id.into() })
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
    let began = std::time::Instant::now();
    let output = client
        .get_secret_value()
        .secret_id(id)
        .version_stage(stage)
        .send()
        .await;
    tracing::debug!(
        target: "dispatch::cold_start",
        secret = id,
        stage,
        ms = began.elapsed().as_secs_f64() * 1000.0,
        "GetSecretValue"
    );
    let output = match output {
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
    key_from(id, output.secret_string().map(str::to_owned))
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
    fn a_batch_entry_answers_for_its_name_its_arn_and_its_partial_arn() {
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench/jwt-AbCdEf";
        let entry = aws_sdk_secretsmanager::types::SecretValueEntry::builder()
            .name("bench/jwt")
            .arn(arn)
            .build();
        assert!(answers(&entry, "bench/jwt"));
        assert!(answers(&entry, arn));
        assert!(answers(
            &entry,
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench/jwt"
        ));
        assert!(!answers(&entry, "bench/jw"));
        assert!(!answers(
            &entry,
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench/jw"
        ));
        assert!(!answers(&entry, "bench/cursor"));
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(SecretKey::new(vec![7; MIN_KEY_BYTES - 1]).is_none());
        assert!(SecretKey::new(vec![7; MIN_KEY_BYTES]).is_some());
    }
}

#[cfg(test)]
#[path = "secrets_fallback_tests.rs"]
mod fallback_tests;

//! Sealing configurations at rest: AES-256-GCM with a key derived (HKDF-SHA256) from the
//! Secrets Manager secret, a fresh random nonce per write, and the instance's key as associated
//! data, so a sealed value copied onto another instance does not open. During a rotation the
//! previous secret still opens what it sealed.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hkdf::{HKDF_SHA256, Salt};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::secrets::{KeyRing, SecretError, SecretKey};

/// Marks the format of a sealed value (nonce, then ciphertext and tag, base64).
const PREFIX: &str = "v1:";

/// The keys that seal and open configurations: the current one, and the previous one derived
/// when something does not open with the current key (read once per process, [`KeyRing`]).
pub struct ConfigurationKey {
    current: LessSafeKey,
    ring: KeyRing,
    previous: tokio::sync::OnceCell<Option<LessSafeKey>>,
}

impl std::fmt::Debug for ConfigurationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConfigurationKey([REDACTED])")
    }
}

fn derive(secret: &SecretKey) -> LessSafeKey {
    let prk = Salt::new(HKDF_SHA256, b"dispatch-serverless").extract(secret.expose());
    let okm = prk
        .expand(&[b"plugin-configuration"], &AES_256_GCM)
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    LessSafeKey::new(UnboundKey::from(okm))
}

impl ConfigurationKey {
    /// Derives the sealing key from the secret's current version (the previous one on
    /// demand).
    pub fn from_ring(ring: &KeyRing) -> Self {
        Self {
            current: derive(ring.current()),
            ring: ring.clone(),
            previous: tokio::sync::OnceCell::new(),
        }
    }

    /// Seals `configuration` for the item named by `context`.
    pub fn seal(&self, configuration: &Value, context: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).expect("the system random source works");
        let mut data = serde_json::to_vec(configuration).unwrap_or_default();
        self.current
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut data,
            )
            .expect("AES-GCM sealing of an in-memory buffer cannot fail");
        let mut sealed = nonce.to_vec();
        sealed.extend(data);
        format!("{PREFIX}{}", STANDARD.encode(sealed))
    }

    /// Opens a sealed configuration; `None` if no key opens it (Dispatch reads an unreadable
    /// configuration as null). An error only when the previous version of the secret was needed
    /// and could not be read.
    pub async fn open(&self, sealed: &str, context: &str) -> Result<Option<Value>, SecretError> {
        let Some(bytes) = sealed
            .strip_prefix(PREFIX)
            .and_then(|b| STANDARD.decode(b).ok())
        else {
            return Ok(None);
        };
        if bytes.len() < NONCE_LEN {
            return Ok(None);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        if let Some(opened) = open_with(&self.current, nonce, ciphertext, context) {
            return Ok(Some(opened));
        }
        let previous = self
            .previous
            .get_or_try_init(|| async { Ok(self.ring.previous().await?.map(derive)) })
            .await?;
        Ok(previous
            .as_ref()
            .and_then(|key| open_with(key, nonce, ciphertext, context)))
    }
}

fn open_with(key: &LessSafeKey, nonce: &[u8], ciphertext: &[u8], context: &str) -> Option<Value> {
    let mut data = ciphertext.to_vec();
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let plain = key
        .open_in_place(nonce, Aad::from(context.as_bytes()), &mut data)
        .ok()?;
    serde_json::from_slice(plain).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ring(current: &str, previous: Option<&str>) -> KeyRing {
        KeyRing::new(
            SecretKey::new(current.as_bytes().to_vec()).unwrap(),
            previous.map(|p| SecretKey::new(p.as_bytes().to_vec()).unwrap()),
        )
    }

    const A: &str = "a-very-long-secret-for-plugin-configs-000000";
    const B: &str = "b-very-long-secret-for-plugin-configs-111111";

    #[tokio::test]
    async fn sealed_values_open_only_for_their_item_and_hide_the_plaintext() {
        let key = ConfigurationKey::from_ring(&ring(A, None));
        let config = json!({"api_key": "pd-secret-123"});
        let sealed = key.seal(&config, "ORG#x/INSTANCE#1");
        assert!(!sealed.contains("pd-secret-123"));
        assert_ne!(sealed, key.seal(&config, "ORG#x/INSTANCE#1"), "fresh nonce");
        assert_eq!(
            key.open(&sealed, "ORG#x/INSTANCE#1").await.unwrap(),
            Some(config)
        );
        assert_eq!(key.open(&sealed, "ORG#x/INSTANCE#2").await.unwrap(), None);
    }

    #[tokio::test]
    async fn the_previous_secret_still_opens_after_a_rotation() {
        let old = ConfigurationKey::from_ring(&ring(A, None));
        let sealed = old.seal(&json!({"k": 1}), "c");
        let rotated = ConfigurationKey::from_ring(&ring(B, Some(A)));
        assert_eq!(
            rotated.open(&sealed, "c").await.unwrap(),
            Some(json!({"k": 1}))
        );
        let other = ConfigurationKey::from_ring(&ring(B, None));
        assert_eq!(other.open(&sealed, "c").await.unwrap(), None);
    }
}

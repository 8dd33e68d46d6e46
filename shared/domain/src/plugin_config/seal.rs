//! Sealing configurations at rest: AES-256-GCM with a key derived (HKDF-SHA256) from the
//! Secrets Manager secret, a fresh random nonce per write, and the instance's key as associated
//! data, so a sealed value copied onto another instance does not open. During a rotation the
//! previous secret still opens what it sealed.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hkdf::{HKDF_SHA256, Salt};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::secrets::{KeyRing, SecretKey};

/// Marks the format of a sealed value (nonce, then ciphertext and tag, base64).
const PREFIX: &str = "v1:";

/// The keys that seal and open configurations: the current one first.
pub struct ConfigurationKey {
    keys: Vec<LessSafeKey>,
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
    /// Derives the sealing keys from the secret's current (and previous) version.
    pub fn from_ring(ring: &KeyRing) -> Self {
        Self {
            keys: ring.verification_keys().map(derive).collect(),
        }
    }

    /// Seals `configuration` for the item named by `context`.
    pub fn seal(&self, configuration: &Value, context: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).expect("the system random source works");
        let mut data = serde_json::to_vec(configuration).unwrap_or_default();
        self.keys[0]
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
    /// configuration as null).
    pub fn open(&self, sealed: &str, context: &str) -> Option<Value> {
        let bytes = STANDARD.decode(sealed.strip_prefix(PREFIX)?).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        self.keys.iter().find_map(|key| {
            let mut data = ciphertext.to_vec();
            let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
            let plain = key
                .open_in_place(nonce, Aad::from(context.as_bytes()), &mut data)
                .ok()?;
            serde_json::from_slice(plain).ok()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ring(current: &str, previous: Option<&str>) -> KeyRing {
        KeyRing {
            current: SecretKey::new(current.as_bytes().to_vec()).unwrap(),
            previous: previous.map(|p| SecretKey::new(p.as_bytes().to_vec()).unwrap()),
        }
    }

    const A: &str = "a-very-long-secret-for-plugin-configs-000000";
    const B: &str = "b-very-long-secret-for-plugin-configs-111111";

    #[test]
    fn sealed_values_open_only_for_their_item_and_hide_the_plaintext() {
        let key = ConfigurationKey::from_ring(&ring(A, None));
        let config = json!({"api_key": "pd-secret-123"});
        let sealed = key.seal(&config, "ORG#x/INSTANCE#1");
        assert!(!sealed.contains("pd-secret-123"));
        assert_ne!(sealed, key.seal(&config, "ORG#x/INSTANCE#1"), "fresh nonce");
        assert_eq!(key.open(&sealed, "ORG#x/INSTANCE#1"), Some(config));
        assert_eq!(key.open(&sealed, "ORG#x/INSTANCE#2"), None);
    }

    #[test]
    fn the_previous_secret_still_opens_after_a_rotation() {
        let old = ConfigurationKey::from_ring(&ring(A, None));
        let sealed = old.seal(&json!({"k": 1}), "c");
        let rotated = ConfigurationKey::from_ring(&ring(B, Some(A)));
        assert_eq!(rotated.open(&sealed, "c"), Some(json!({"k": 1})));
        let other = ConfigurationKey::from_ring(&ring(B, None));
        assert_eq!(other.open(&sealed, "c"), None);
    }
}

//! The identity provider's signing keys, from its JWKS document.
//!
//! Each usable key is kept with the one algorithm it verifies: the JWK's `alg`, or when absent
//! the algorithm its type implies (`RSA` → RS256, `EC` P-256 → ES256, P-384 → ES384, `OKP`
//! Ed25519 → EdDSA). A declared `alg` must agree with the key's type and curve. Symmetric
//! (`oct`) keys, encryption keys and keys without a `kid` are skipped: a token is only ever
//! checked with an asymmetric public key, with the algorithm pinned to that key's.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

/// The most keys a JWKS may list (identity providers publish a handful).
pub const MAX_KEYS: usize = 64;
/// The longest `kid` kept or looked up.
pub const MAX_KID_BYTES: usize = 256;

/// A public key and the one algorithm it verifies.
pub struct VerifyingKey {
    pub algorithm: Algorithm,
    pub decoding: DecodingKey,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// The usable keys of one JWKS document, by `kid`.
#[derive(Default)]
pub struct KeySet {
    keys: HashMap<String, Arc<VerifyingKey>>,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut kids: Vec<&String> = self.keys.keys().collect();
        kids.sort();
        f.debug_struct("KeySet").field("kids", &kids).finish()
    }
}

impl KeySet {
    pub fn get(&self, kid: &str) -> Option<Arc<VerifyingKey>> {
        self.keys.get(kid).cloned()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Reads a JWKS document. A document that is not one, or lists more than [`MAX_KEYS`]
    /// keys, is an error; a key this verifier cannot use is skipped (and logged).
    pub fn parse(body: &[u8]) -> Result<KeySet, String> {
        #[derive(Deserialize)]
        struct Document {
            keys: Vec<serde_json::Value>,
        }
        let document: Document = serde_json::from_slice(body)
            .map_err(|e| format!("not a JWKS document: {}", json_error_kind(&e)))?;
        if document.keys.len() > MAX_KEYS {
            return Err(format!(
                "{} keys listed, at most {MAX_KEYS} accepted",
                document.keys.len()
            ));
        }
        let mut keys = HashMap::new();
        for (index, value) in document.keys.into_iter().enumerate() {
            match usable(value) {
                Ok((kid, key)) => {
                    if keys.contains_key(&kid) {
                        tracing::warn!(index, "JWKS lists a kid twice; the first key is used");
                        continue;
                    }
                    keys.insert(kid, Arc::new(key));
                }
                Err(reason) => tracing::debug!(index, reason, "JWKS key skipped"),
            }
        }
        Ok(KeySet { keys })
    }
}

/// What kind of JSON error, without the text it may quote.
fn json_error_kind(error: &serde_json::Error) -> &'static str {
    match error.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "invalid JSON",
        serde_json::error::Category::Data => "unexpected shape",
        serde_json::error::Category::Eof => "truncated JSON",
    }
}

/// A key's `kid` and what verifies with it, or why it cannot be used.
fn usable(value: serde_json::Value) -> Result<(String, VerifyingKey), &'static str> {
    let jwk: Jwk = serde_json::from_value(value).map_err(|_| "not a JWK this verifier reads")?;
    let kid = jwk.common.key_id.clone().ok_or("no kid")?;
    if kid.is_empty() || kid.len() > MAX_KID_BYTES {
        return Err("kid empty or too long");
    }
    match &jwk.common.public_key_use {
        None | Some(PublicKeyUse::Signature) => {}
        Some(_) => return Err("not a signing key (use)"),
    }
    if let Some(operations) = &jwk.common.key_operations
        && !operations.contains(&KeyOperations::Verify)
    {
        return Err("not a verification key (key_ops)");
    }
    let algorithm = algorithm(&jwk).ok_or("unsupported or inconsistent key type and alg")?;
    let decoding = DecodingKey::from_jwk(&jwk).map_err(|_| "malformed key material")?;
    Ok((
        kid,
        VerifyingKey {
            algorithm,
            decoding,
        },
    ))
}

/// The one algorithm a JWK verifies: its `alg` when it agrees with the key, else the one its
/// type implies. Never an HMAC algorithm, never for a symmetric key.
pub fn algorithm(jwk: &Jwk) -> Option<Algorithm> {
    use KeyAlgorithm as K;
    let declared = jwk.common.key_algorithm;
    match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => match declared {
            None => Some(Algorithm::RS256),
            Some(K::RS256) => Some(Algorithm::RS256),
            Some(K::RS384) => Some(Algorithm::RS384),
            Some(K::RS512) => Some(Algorithm::RS512),
            Some(K::PS256) => Some(Algorithm::PS256),
            Some(K::PS384) => Some(Algorithm::PS384),
            Some(K::PS512) => Some(Algorithm::PS512),
            Some(_) => None,
        },
        AlgorithmParameters::EllipticCurve(params) => match (&params.curve, declared) {
            (EllipticCurve::P256, None | Some(K::ES256)) => Some(Algorithm::ES256),
            (EllipticCurve::P384, None | Some(K::ES384)) => Some(Algorithm::ES384),
            _ => None,
        },
        AlgorithmParameters::OctetKeyPair(params) => match (&params.curve, declared) {
            (EllipticCurve::Ed25519, None | Some(K::EdDSA)) => Some(Algorithm::EdDSA),
            _ => None,
        },
        // Symmetric keys (a public document holding a shared secret) and unknown key types.
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A real P-256 public point (RFC 7515 A.3).
    fn ec(extra: serde_json::Value) -> serde_json::Value {
        let mut key = json!({"kty": "EC", "crv": "P-256",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"});
        for (name, value) in extra.as_object().unwrap() {
            key[name] = value.clone();
        }
        key
    }

    fn parse(keys: serde_json::Value) -> KeySet {
        KeySet::parse(json!({ "keys": keys }).to_string().as_bytes()).unwrap()
    }

    #[test]
    fn the_algorithm_is_pinned_to_the_key() {
        let set = parse(json!([
            ec(json!({"kid": "implied"})),
            ec(json!({"kid": "declared", "alg": "ES256", "use": "sig"})),
            {"kty": "RSA", "kid": "rsa", "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw", "e": "AQAB", "alg": "PS256"},
        ]));
        assert_eq!(set.len(), 3);
        assert_eq!(set.get("implied").unwrap().algorithm, Algorithm::ES256);
        assert_eq!(set.get("declared").unwrap().algorithm, Algorithm::ES256);
        assert_eq!(set.get("rsa").unwrap().algorithm, Algorithm::PS256);
    }

    #[test]
    fn unusable_keys_are_skipped_and_the_rest_kept() {
        let set = parse(json!([
            // A shared secret in a public document, HMAC declared on an EC key, a curve/alg
            // disagreement, an encryption key, no kid, a verification-less key_ops, garbage.
            {"kty": "oct", "kid": "oct", "k": "c2VjcmV0"},
            ec(json!({"kid": "hs", "alg": "HS256"})),
            ec(json!({"kid": "es384", "alg": "ES384"})),
            ec(json!({"kid": "enc", "use": "enc"})),
            ec(json!({})),
            ec(json!({"kid": "ops", "key_ops": ["encrypt"]})),
            {"kty": "XYZ", "kid": "weird"},
            "not an object",
            ec(json!({"kid": "good", "key_ops": ["verify"]})),
            ec(json!({"kid": "good", "alg": "ES384"})),
        ]));
        assert_eq!(set.len(), 1, "{set:?}");
        assert_eq!(set.get("good").unwrap().algorithm, Algorithm::ES256);
    }

    #[test]
    fn a_document_too_large_or_malformed_is_refused() {
        let many: Vec<_> = (0..=MAX_KEYS)
            .map(|i| ec(json!({ "kid": i.to_string() })))
            .collect();
        assert!(KeySet::parse(json!({ "keys": many }).to_string().as_bytes()).is_err());
        assert!(KeySet::parse(b"{\"keys\": 3}").is_err());
        assert!(KeySet::parse(b"<html>").is_err());
        assert!(KeySet::parse(b"{\"keys\": []}").unwrap().is_empty());
    }
}

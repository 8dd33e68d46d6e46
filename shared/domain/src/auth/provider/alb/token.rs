//! The token in `x-amzn-oidc-data`, read by hand: an ES256 JWT whose segments are base64url
//! WITH `=` padding, signed over the padded segments exactly as sent. A JWT library would
//! refuse the padding, and removing it would change the signed bytes, so nothing here
//! re-encodes anything: the signing input is the first two segments as received.
//!
//! Everything that can be checked without the load balancer's key (size, shape, `alg`, the
//! signer, `exp`, the `kid`'s form) is checked by [`parse`], before any key is looked up, so a
//! forged header never makes the verifier fetch anything.

use aws_lc_rs::signature::ParsedPublicKey;
use base64::Engine;
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::Deserialize;

use super::Refused;

/// The largest header accepted (AWS documents no bound; the claims of an identity provider's
/// userinfo endpoint are a few hundred bytes).
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// How far past `exp` a token is still accepted (clocks differ a little).
pub const LEEWAY_SECONDS: i64 = 30;
/// The longest `kid` accepted (AWS's are UUIDs, 36 characters).
pub const MAX_KID_CHARS: usize = 64;
/// The only algorithm a load balancer signs with.
pub const ALGORITHM: &str = "ES256";

/// base64url, padded as AWS sends it or not: the signature covers the bytes as received
/// either way, so accepting both weakens nothing.
const SEGMENT: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The protected header's fields that matter here (`iss`, `client` and `typ` are not used).
#[derive(Debug, Deserialize)]
struct Header {
    alg: Option<String>,
    kid: Option<String>,
    signer: Option<String>,
    exp: Option<serde_json::Number>,
}

/// A token whose header passed every check that needs no key; not verified yet.
#[derive(Debug)]
pub struct Unverified<'a> {
    /// The key's id, safe to put in a URL path.
    pub kid: String,
    /// The first two segments, exactly as received.
    signing_input: &'a [u8],
    /// R‖S, 64 bytes.
    signature: Vec<u8>,
    /// The payload segment, decoded only once the signature holds.
    payload: &'a str,
}

/// Checks everything that needs no key: `raw`'s size and shape, `alg`, that `signer` is
/// `alb_arn`, that `exp` has not passed at `now` (Unix seconds), and the `kid`'s form.
pub fn parse<'a>(raw: &'a str, alb_arn: &str, now: i64) -> Result<Unverified<'a>, Refused> {
    if raw.len() > MAX_TOKEN_BYTES {
        return Err("token too large");
    }
    let mut segments = raw.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err("not three segments");
    };
    let header: Header = serde_json::from_slice(&decode(header)?).map_err(|_| "header not JSON")?;
    if header.alg.as_deref() != Some(ALGORITHM) {
        return Err("alg is not ES256");
    }
    if header.signer.as_deref() != Some(alb_arn) {
        return Err("signer is not the configured load balancer");
    }
    let exp = header
        .exp
        .as_ref()
        .and_then(|exp| exp.as_i64().or_else(|| exp.as_f64().map(|f| f as i64)))
        .ok_or("no exp")?;
    if now > exp.saturating_add(LEEWAY_SECONDS) {
        return Err("expired");
    }
    let kid = header.kid.ok_or("no kid")?;
    if !valid_kid(&kid) {
        return Err("malformed kid");
    }
    let signature = decode(signature)?;
    if signature.len() != 64 {
        return Err("signature is not 64 bytes");
    }
    let signing_input = &raw.as_bytes()[..header_len(raw)];
    Ok(Unverified {
        kid,
        signing_input,
        signature,
        payload,
    })
}

/// The length of `header.payload` in `raw` (which has exactly two dots).
fn header_len(raw: &str) -> usize {
    raw.rfind('.').unwrap_or(raw.len())
}

/// A key id that cannot redirect the key URL: letters, digits and `-`, at most 64.
pub fn valid_kid(kid: &str) -> bool {
    !kid.is_empty()
        && kid.len() <= MAX_KID_CHARS
        && kid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn decode(segment: &str) -> Result<Vec<u8>, Refused> {
    SEGMENT.decode(segment).map_err(|_| "segment not base64url")
}

impl Unverified<'_> {
    /// The claim `email_claim` of the payload, if the signature is `key`'s.
    pub fn email(&self, key: &ParsedPublicKey, email_claim: &str) -> Result<String, Refused> {
        key.verify_sig(self.signing_input, &self.signature)
            .map_err(|_| "bad signature")?;
        let claims: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&decode(self.payload)?)
                .map_err(|_| "payload not a JSON object")?;
        if super::super::says_unverified(claims.get("email_verified")) {
            return Err("the provider says the email is not verified");
        }
        claims
            .get(email_claim)
            .and_then(serde_json::Value::as_str)
            .map(str::trim)
            .filter(|email| !email.is_empty())
            .map(str::to_owned)
            .ok_or("no email claim")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    };
    use base64::engine::general_purpose::{URL_SAFE as PADDED, URL_SAFE_NO_PAD};
    use serde_json::json;

    const ARN: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/a/b";
    const NOW: i64 = 1_800_000_000;

    fn key_pair() -> EcdsaKeyPair {
        EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap()
    }

    fn public(pair: &EcdsaKeyPair) -> ParsedPublicKey {
        ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, pair.public_key().as_ref()).unwrap()
    }

    fn header(kid: &str) -> serde_json::Value {
        json!({"typ": "JWT", "kid": kid, "alg": "ES256", "iss": "https://idp.example.com",
               "client": "client-id", "signer": ARN, "exp": NOW + 60})
    }

    /// Encodes like the load balancer (padded), signs over the segments as sent, or over
    /// their unpadded form when `sign_unpadded`.
    fn token(
        pair: &EcdsaKeyPair,
        header: &serde_json::Value,
        payload: &str,
        sign_unpadded: bool,
    ) -> String {
        let mut header = header.to_string();
        // Make both segments need padding, as most of AWS's do.
        while header.len() % 3 != 1 {
            header.insert(1, ' ');
        }
        let mut payload = payload.to_owned();
        while payload.len() % 3 != 1 {
            payload.insert(1, ' ');
        }
        let input = format!("{}.{}", PADDED.encode(&header), PADDED.encode(&payload));
        assert!(input.contains('='));
        let signed = if sign_unpadded {
            input.replace('=', "")
        } else {
            input.clone()
        };
        let signature = pair.sign(&SystemRandom::new(), signed.as_bytes()).unwrap();
        format!("{input}.{}", PADDED.encode(signature.as_ref()))
    }

    const ALICE: &str = r#"{"sub":"1","email":"alice@example.com","upn":"a@corp.example"}"#;

    #[test]
    fn a_padded_token_signed_as_sent_gives_its_claim() {
        let pair = key_pair();
        let raw = token(&pair, &header("k-1"), ALICE, false);
        let token = parse(&raw, ARN, NOW).unwrap();
        assert_eq!(token.kid, "k-1");
        assert_eq!(
            token.email(&public(&pair), "email").unwrap(),
            "alice@example.com"
        );
        assert_eq!(
            token.email(&public(&pair), "upn").unwrap(),
            "a@corp.example"
        );
        assert_eq!(
            token.email(&public(&pair), "missing"),
            Err("no email claim")
        );
        assert_eq!(
            token.email(&public(&key_pair()), "email"),
            Err("bad signature")
        );
    }

    #[test]
    fn a_signature_over_the_unpadded_segments_does_not_hold() {
        let pair = key_pair();
        let raw = token(&pair, &header("k-1"), ALICE, true);
        let token = parse(&raw, ARN, NOW).unwrap();
        assert_eq!(token.email(&public(&pair), "email"), Err("bad signature"));
        // Sent unpadded and signed so: the bytes signed are the bytes received.
        let stripped = token_unpadded_as_sent(&pair);
        let token = parse(&stripped, ARN, NOW).unwrap();
        assert_eq!(
            token.email(&public(&pair), "email").unwrap(),
            "alice@example.com"
        );
    }

    fn token_unpadded_as_sent(pair: &EcdsaKeyPair) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header("k-1").to_string()),
            URL_SAFE_NO_PAD.encode(ALICE)
        );
        let signature = pair.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }

    #[test]
    fn a_tampered_payload_does_not_hold() {
        let pair = key_pair();
        let raw = token(&pair, &header("k-1"), ALICE, false);
        let mut parts: Vec<String> = raw.split('.').map(str::to_owned).collect();
        parts[1] = PADDED.encode(r#"{"email":"mallory@example.com"}"#);
        let forged = parts.join(".");
        let token = parse(&forged, ARN, NOW).unwrap();
        assert_eq!(token.email(&public(&pair), "email"), Err("bad signature"));
    }

    #[test]
    fn the_header_is_checked_before_any_key_is_needed() {
        let pair = key_pair();
        let with = |change: &dyn Fn(&mut serde_json::Value)| {
            let mut h = header("k-1");
            change(&mut h);
            token(&pair, &h, ALICE, false)
        };
        let refused = |raw: &str| parse(raw, ARN, NOW).map(|t| t.kid).unwrap_err();
        assert_eq!(
            refused(&with(&|h| h["signer"] = json!("arn:other"))),
            "signer is not the configured load balancer"
        );
        assert_eq!(
            refused(&with(&|h| {
                h.as_object_mut().unwrap().remove("signer");
            })),
            "signer is not the configured load balancer"
        );
        assert_eq!(
            refused(&with(&|h| h["alg"] = json!("HS256"))),
            "alg is not ES256"
        );
        assert_eq!(
            refused(&with(&|h| h["alg"] = json!("none"))),
            "alg is not ES256"
        );
        assert_eq!(
            refused(&with(&|h| h["exp"] = json!(NOW - LEEWAY_SECONDS - 1))),
            "expired"
        );
        assert!(parse(&with(&|h| h["exp"] = json!(NOW - LEEWAY_SECONDS)), ARN, NOW).is_ok());
        assert_eq!(
            refused(&with(&|h| h["exp"] = json!("soon"))),
            "header not JSON"
        );
        assert_eq!(
            refused(&with(&|h| {
                h.as_object_mut().unwrap().remove("exp");
            })),
            "no exp"
        );
        for kid in [
            "../../evil",
            "a/b",
            "a.b",
            "",
            "k?x=1",
            "k%2F",
            &"k".repeat(65),
        ] {
            assert_eq!(
                refused(&with(&|h| h["kid"] = json!(kid))),
                "malformed kid",
                "{kid:?}"
            );
        }
        assert!(parse(&with(&|h| h["kid"] = json!("a".repeat(64))), ARN, NOW).is_ok());
        assert_eq!(refused("a.b"), "not three segments");
        assert_eq!(refused("a.b.c.d"), "not three segments");
        assert_eq!(refused(&"a".repeat(MAX_TOKEN_BYTES + 1)), "token too large");
        assert_eq!(refused("e30=.e30=.!!"), "alg is not ES256");
        let mut short = with(&|_| {});
        short.truncate(short.rfind('.').unwrap() + 1);
        short.push_str(&PADDED.encode([0u8; 63]));
        assert_eq!(refused(&short), "signature is not 64 bytes");
    }
}

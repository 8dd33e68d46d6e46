//! Opaque list cursors: the position after the last item of a page, signed with the cursor key
//! from Secrets Manager (HMAC-SHA256), bound to the collection and the query it came from, and
//! expiring. A forged, foreign, stale or expired cursor is a 422.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::secrets::KeyRing;

/// How long a cursor stays valid.
pub const CURSOR_LIFETIME_SECONDS: i64 = 3_600;

/// Where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Position {
    /// After this index key (`list_pk`, sort key, `pk`, `sk`): index-ordered pages.
    After {
        sort: String,
        pk: String,
        sk: String,
    },
    /// After this many items: in-memory ordered pages.
    Offset(usize),
}

#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    /// The collection (`list_pk`) and the query's fingerprint the cursor belongs to.
    scope: String,
    query: String,
    position: Position,
    expires: i64,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn invalid() -> DomainError {
    DomainError::invalid(
        "Invalid or expired cursor. Start again from the first page.",
        crate::query!["cursor"],
        "value_error",
    )
}

/// Signs a cursor for `position` in `scope` (the collection) for `query` (a fingerprint of the
/// filter, search and sort).
pub fn encode(keys: &KeyRing, scope: &str, query: &str, position: Position) -> String {
    let payload = Payload {
        scope: scope.to_owned(),
        query: query.to_owned(),
        position,
        expires: now() + CURSOR_LIFETIME_SECONDS,
    };
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap_or_default());
    let key = hmac::Key::new(hmac::HMAC_SHA256, keys.current().expose());
    let tag = URL_SAFE_NO_PAD.encode(hmac::sign(&key, body.as_bytes()).as_ref());
    format!("{body}.{tag}")
}

/// Checks a cursor's signature (current key, or previous key read on demand), scope, query and
/// expiry.
pub async fn decode(
    keys: &KeyRing,
    scope: &str,
    query: &str,
    cursor: &str,
) -> Result<Position, DomainError> {
    let (body, tag) = cursor.split_once('.').ok_or_else(invalid)?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
    let signed = keys
        .first_match(|secret| {
            let key = hmac::Key::new(hmac::HMAC_SHA256, secret.expose());
            hmac::verify(&key, body.as_bytes(), &tag).ok()
        })
        .await?;
    if signed.is_none() {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD.decode(body).map_err(|_| invalid())?;
    let payload: Payload = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if payload.scope != scope || payload.query != query || payload.expires < now() {
        return Err(invalid());
    }
    Ok(payload.position)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::SecretKey;

    fn ring(key: &[u8]) -> KeyRing {
        KeyRing::new(SecretKey::new(key.to_vec()).unwrap(), None)
    }

    /// [`decode`] on a ring whose previous key is known (nothing to wait for).
    fn decode_now(
        keys: &KeyRing,
        scope: &str,
        query: &str,
        cursor: &str,
    ) -> Result<Position, DomainError> {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(decode(keys, scope, query, cursor))
    }

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn a_cursor_round_trips_only_for_its_scope_and_query() {
        let keys = ring(KEY);
        let cursor = encode(&keys, "ORG#a#PROJECTS", "name:asc", Position::Offset(25));
        assert_eq!(
            decode_now(&keys, "ORG#a#PROJECTS", "name:asc", &cursor).unwrap(),
            Position::Offset(25)
        );
        assert!(
            decode_now(&keys, "ORG#b#PROJECTS", "name:asc", &cursor).is_err(),
            "another organization"
        );
        assert!(
            decode_now(&keys, "ORG#a#PROJECTS", "name:desc", &cursor).is_err(),
            "another query"
        );
        assert!(
            decode_now(
                &ring(b"another key that is 32 bytes long"),
                "ORG#a#PROJECTS",
                "name:asc",
                &cursor
            )
            .is_err()
        );
    }

    #[test]
    fn a_tampered_cursor_is_refused() {
        let keys = ring(KEY);
        let cursor = encode(&keys, "s", "q", Position::Offset(5));
        let (body, tag) = cursor.split_once('.').unwrap();
        let forged_body = URL_SAFE_NO_PAD.encode(
            String::from_utf8(URL_SAFE_NO_PAD.decode(body).unwrap())
                .unwrap()
                .replace("5", "500"),
        );
        assert!(decode_now(&keys, "s", "q", &format!("{forged_body}.{tag}")).is_err());
        assert!(decode_now(&keys, "s", "q", "garbage").is_err());
    }
}

//! The CDN the template can put in front of the API (its optional CloudFront distribution for
//! Dispatch's UI). Behind it every request reaches API Gateway from a CloudFront address, so
//! the address that per-IP login throttling counts would be the edge's, shared by every
//! viewer it serves. The distribution therefore sends the viewer's address in
//! [`VIEWER_ADDRESS_HEADER`] and, on every request it forwards, [`SECRET_HEADER`] carrying a
//! value only it and the functions know (`DISPATCH_TRUSTED_EDGE_SECRET`). The viewer address is
//! believed only beside that value: a client calling API Gateway directly can write either
//! header but not know the value, and a client calling through CloudFront cannot replace them
//! (the distribution's function overwrites the first, its origin header the second).

use crate::config::ConfigError;

/// The setting that holds the shared value; unset, no header is believed.
pub const SETTING: &str = "DISPATCH_TRUSTED_EDGE_SECRET";
/// The header that carries the shared value from the distribution.
pub const SECRET_HEADER: &str = "x-dispatch-edge-secret";
/// The header in which the distribution names the viewer's address.
pub const VIEWER_ADDRESS_HEADER: &str = "x-dispatch-viewer-address";

/// Fewer characters than this are not a secret anyone should rely on (the template uses the
/// stack's 36-character UUID).
const MIN_LENGTH: usize = 32;

/// The value the distribution presents. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct TrustedEdge {
    secret: String,
}

impl std::fmt::Debug for TrustedEdge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TrustedEdge(<redacted>)")
    }
}

impl TrustedEdge {
    /// Reads [`SETTING`] through `lookup`: none when unset or empty, an error when too short or
    /// not visible ASCII (it travels in a header).
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        let Some(secret) = lookup(SETTING)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
        else {
            return Ok(None);
        };
        if secret.len() < MIN_LENGTH || !secret.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ConfigError::Malformed {
                name: SETTING,
                reason: format!("expected at least {MIN_LENGTH} visible ASCII characters"),
            });
        }
        Ok(Some(Self { secret }))
    }

    /// Whether `presented` (the [`SECRET_HEADER`] of a request) is the shared value, compared
    /// in constant time.
    pub fn vouches_for(&self, presented: &[u8]) -> bool {
        aws_lc_rs::constant_time::verify_slices_are_equal(self.secret.as_bytes(), presented).is_ok()
    }

    /// The viewer's address the distribution named, if it is an IP address (the header may
    /// carry `ip:port`, as CloudFront's own viewer-address header does).
    pub fn viewer_address(named: &str) -> Option<std::net::IpAddr> {
        let named = named.trim();
        if let Ok(ip) = named.parse() {
            return Some(ip);
        }
        named
            .parse::<std::net::SocketAddr>()
            .ok()
            .map(|address| address.ip())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(value: &str) -> Result<Option<TrustedEdge>, ConfigError> {
        TrustedEdge::from_lookup(|name| (name == SETTING).then(|| value.to_owned()))
    }

    #[test]
    fn only_the_exact_value_vouches_and_debug_hides_it() {
        let secret = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
        let edge = edge(secret).unwrap().unwrap();
        assert!(edge.vouches_for(secret.as_bytes()));
        assert!(!edge.vouches_for(b"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f1"));
        assert!(!edge.vouches_for(&secret.as_bytes()[..35]));
        assert!(!edge.vouches_for(b""));
        assert!(!format!("{edge:?}").contains("0f1e"));
    }

    #[test]
    fn unset_is_none_and_a_short_or_invisible_value_is_refused() {
        assert_eq!(edge("").unwrap(), None);
        assert_eq!(TrustedEdge::from_lookup(|_| None).unwrap(), None);
        assert!(edge("short").is_err());
        assert!(edge("0f1e2d3c 4b5a 6978 8796 a5b4c3d2e1f0 with spaces").is_err());
    }

    #[test]
    fn the_viewer_address_is_an_ip_with_or_without_a_port() {
        let parse = TrustedEdge::viewer_address;
        assert_eq!(parse("203.0.113.9").unwrap().to_string(), "203.0.113.9");
        assert_eq!(
            parse("203.0.113.9:4431").unwrap().to_string(),
            "203.0.113.9"
        );
        assert_eq!(
            parse("[2001:db8::1]:443").unwrap().to_string(),
            "2001:db8::1"
        );
        assert_eq!(parse("2001:db8::1").unwrap().to_string(), "2001:db8::1");
        assert_eq!(parse("evil, 1.2.3.4"), None);
        assert_eq!(parse(""), None);
    }
}

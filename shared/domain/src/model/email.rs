//! Email addresses, validated and normalised as Dispatch's `EmailStr` (email-validator without
//! a deliverability check): surrounding whitespace stripped, the domain lower-cased, the local
//! part kept as typed; control and invisible format characters refused in both parts. At most
//! 254 bytes: emails are immutable and key the uniqueness guard.

use serde::{Deserialize, Deserializer, Serialize};

use super::types::Invalid;

/// Top-level domains email-validator refuses as special-use or reserved.
const SPECIAL_USE_TLDS: &[&str] = &["test", "local", "localhost", "invalid", "onion", "arpa"];

/// A valid, normalised email address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

fn invalid(reason: &str) -> Invalid {
    Invalid::new(
        format!("value is not a valid email address: {reason}"),
        "value_error",
    )
}

impl EmailAddress {
    /// Validates and normalises an address.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let raw = raw.trim();
        let Some((local, domain)) = raw.rsplit_once('@') else {
            return Err(invalid("An email address must have an @-sign."));
        };
        if local.is_empty() {
            return Err(invalid("There must be something before the @-sign."));
        }
        if domain.is_empty() {
            return Err(invalid("There must be something after the @-sign."));
        }
        if raw.len() > 254 {
            return Err(invalid("The email address is too long."));
        }
        if local.len() > 64 {
            return Err(invalid("The email address is too long before the @-sign."));
        }
        let bad_local = local.chars().find(|c| {
            c.is_whitespace()
                || super::text::refused_in_line(*c)
                || matches!(
                    c,
                    '@' | '"' | '(' | ')' | ',' | ':' | ';' | '<' | '>' | '[' | '\\' | ']'
                )
        });
        if let Some(c) = bad_local {
            return Err(invalid(&format!(
                "The email address contains invalid characters before the @-sign: '{c}'."
            )));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(invalid(
                "The email address contains a period in an invalid place.",
            ));
        }
        let domain = domain.to_lowercase();
        if let Some(c) = domain
            .chars()
            .find(|c| !(c.is_alphanumeric() || *c == '-' || *c == '.'))
        {
            return Err(invalid(&format!(
                "The part after the @-sign contains invalid characters: '{c}'."
            )));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 {
            return Err(invalid(
                "The part after the @-sign is not valid. It should have a period.",
            ));
        }
        if labels
            .iter()
            .any(|l| l.is_empty() || l.starts_with('-') || l.ends_with('-') || l.len() > 63)
        {
            return Err(invalid("The part after the @-sign is not valid."));
        }
        let tld = labels[labels.len() - 1];
        if SPECIAL_USE_TLDS.contains(&tld) {
            return Err(invalid(
                "The part after the @-sign is a special-use or reserved name that cannot be used with email.",
            ));
        }
        if tld.chars().all(|c| c.is_ascii_digit()) {
            return Err(invalid(
                "The part after the @-sign is not valid. It is not within a valid top-level domain.",
            ));
        }
        Ok(Self(format!("{local}@{domain}")))
    }

    /// An address read back from the table: trusted as written, not validated again (the
    /// rules have tightened since some items were written; see `model::stored`).
    pub fn from_stored(stored: String) -> Self {
        Self(stored)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for EmailAddress {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        EmailAddress::parse(&raw).map_err(Invalid::into_de_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_domain_is_lower_cased_and_the_local_part_kept() {
        assert_eq!(
            EmailAddress::parse(" User@Example.COM ").unwrap().as_str(),
            "User@example.com"
        );
    }

    #[test]
    fn malformed_addresses_are_refused_with_email_validator_messages() {
        let msg = |raw: &str| EmailAddress::parse(raw).unwrap_err().msg;
        assert_eq!(
            msg("no-at-sign"),
            "value is not a valid email address: An email address must have an @-sign."
        );
        assert!(msg("a@b").contains("It should have a period"));
        assert!(msg("a@example.test").contains("special-use"));
        assert!(msg("a b@example.com").contains("invalid characters before the @-sign"));
        assert!(msg("@example.com").contains("something before"));
        assert!(msg("a\u{200B}b@example.com").contains("invalid characters before the @-sign"));
        assert!(msg("a\0b@example.com").contains("invalid characters before the @-sign"));
    }
}

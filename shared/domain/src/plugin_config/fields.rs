//! The fields of a configuration schema that need care, derived once per schema: its secrets,
//! and its addresses (where the plugin connects, and so where it sends those secrets).
//!
//! Writing back the `"**********"` mask keeps a stored secret (Q-PL2). Were that allowed while
//! an address changes, an Admin who cannot read a secret could still send it to a host of
//! their choosing; so the mask is refused then, and the secret must be entered again.

use serde_json::Value;

use super::messages::detail;
use crate::error::FieldError;

/// `format`s whose value names a place to connect to.
const ADDRESS_FORMATS: &[&str] = &[
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
];

/// Name endings of fields that name a place to connect to even without a `format` (Duo's
/// `host`, PagerDuty's `pagerduty_api_url`, Teams' `authority`, Google's `google_domain`).
const ADDRESS_NAME_ENDINGS: &[&str] = &[
    "url",
    "uri",
    "host",
    "hostname",
    "endpoint",
    "server",
    "domain",
    "authority",
];

/// A schema's secret and address fields (top-level properties, in the schema's order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaFields<'a> {
    /// `"format": "password"` (pydantic's `SecretStr`): masked on the way out.
    pub secrets: Vec<&'a str>,
    /// `"format": "uri"` and the like, or a name ending in url, host, endpoint, server,
    /// domain, authority…: changing one needs the secrets sent again.
    pub addresses: Vec<&'a str>,
}

impl<'a> SchemaFields<'a> {
    /// Reads the top-level properties of `schema`.
    pub fn of(schema: &'a Value) -> Self {
        let mut fields = Self::default();
        let properties = schema.get("properties").and_then(Value::as_object);
        for (name, field) in properties.into_iter().flatten() {
            if has_format(field, |format| format == "password") {
                fields.secrets.push(name.as_str());
            } else if is_address(name, field) {
                fields.addresses.push(name.as_str());
            }
        }
        fields
    }

    /// One 422 per secret in `kept` (stored values kept because the mask was written back)
    /// when an address of `after` differs from `before`'s; none otherwise.
    pub fn redirected(&self, kept: &[&str], before: &Value, after: &Value) -> Vec<FieldError> {
        let changed: Vec<&str> = self
            .addresses
            .iter()
            .copied()
            .filter(|address| before.get(address) != after.get(address))
            .collect();
        if changed.is_empty() {
            return Vec::new();
        }
        let msg = format!(
            "Enter this secret again: a stored secret is not kept when {} changes.",
            changed.join(", ")
        );
        kept.iter()
            .map(|secret| detail(&msg, &[secret], "value_error"))
            .collect()
    }
}

/// The field (or one branch of its `anyOf`, for an optional field) has a matching `format`.
fn has_format(field: &Value, wanted: impl Fn(&str) -> bool) -> bool {
    let matches = |schema: &Value| {
        schema
            .get("format")
            .and_then(Value::as_str)
            .is_some_and(&wanted)
    };
    matches(field)
        || field
            .get("anyOf")
            .and_then(Value::as_array)
            .is_some_and(|branches| branches.iter().any(matches))
}

fn is_address(name: &str, field: &Value) -> bool {
    let name = name.to_ascii_lowercase();
    has_format(field, |format| ADDRESS_FORMATS.contains(&format))
        || ADDRESS_NAME_ENDINGS
            .iter()
            .any(|ending| name.ends_with(ending))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields_of(slug: &str) -> SchemaFields<'static> {
        SchemaFields::of(
            crate::catalogue::find(slug)
                .and_then(|p| p.configuration_schema.as_ref())
                .unwrap(),
        )
    }

    #[test]
    fn addresses_come_from_formats_and_names() {
        assert_eq!(
            fields_of("jira-ticket").addresses,
            ["api_url", "browser_url"]
        );
        assert_eq!(
            fields_of("pagerduty-oncall").addresses,
            ["pagerduty_api_url"]
        );
        assert_eq!(fields_of("duo-auth-mfa").addresses, ["host"]);
        assert_eq!(
            fields_of("microsoft-teams-conference").addresses,
            ["authority"]
        );
        assert_eq!(
            fields_of("google-docs-document").addresses,
            ["google_domain"]
        );
        assert!(
            fields_of("openai-artificial-intelligence")
                .addresses
                .is_empty()
        );
        // `hosting_type` says how, not where.
        assert!(!fields_of("confluence").addresses.contains(&"hosting_type"));
    }
}

//! A plugin's configuration schema: validation (422s in Dispatch's shape, one entry per
//! failing field), normalisation, and the secret fields (`"format": "password"`, pydantic's
//! `SecretStr`) that are masked on the way out and kept when the mask is written back (Q-PL2),
//! unless an address of the configuration changes at the same time (see [`super::fields`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use serde_json::{Map, Value};

use super::fields::SchemaFields;
use super::messages::{describe, detail};
use super::validator::{Failure, Validator};
use crate::error::{DomainError, FieldError};

/// What a secret field reads as (pydantic's rendering of a `SecretStr`).
pub const MASK: &str = "**********";

/// The schema of one plugin's configuration.
pub struct ConfigurationSchema<'a> {
    schema: &'a Value,
    fields: Cow<'a, SchemaFields<'a>>,
    /// Read once per process for the shipped catalogue's schemas.
    validator: Option<&'static Validator<'static>>,
}

/// A shipped schema, prepared once per process.
struct Compiled {
    validator: Validator<'static>,
    fields: SchemaFields<'static>,
}

/// The shipped catalogue's schemas, by plugin slug, compiled on first use.
static COMPILED: LazyLock<HashMap<&'static str, Compiled>> = LazyLock::new(|| {
    crate::catalogue::plugins()
        .iter()
        .filter_map(|plugin| {
            let schema = plugin.configuration_schema.as_ref()?;
            let validator = validator_for(schema).ok()?;
            let fields = SchemaFields::of(schema);
            Some((plugin.slug.as_str(), Compiled { validator, fields }))
        })
        .collect()
});

fn validator_for(schema: &Value) -> Result<Validator<'_>, DomainError> {
    Validator::new(schema)
        .map_err(|e| DomainError::Internal(anyhow::anyhow!("invalid catalogue schema: {e}")))
}

impl<'a> ConfigurationSchema<'a> {
    pub fn new(schema: &'a Value) -> Self {
        Self {
            schema,
            fields: Cow::Owned(SchemaFields::of(schema)),
            validator: None,
        }
    }

    /// The configuration schema of a shipped plugin, if it has one.
    pub fn of_plugin(slug: &str) -> Option<ConfigurationSchema<'static>> {
        let schema = crate::catalogue::find(slug)?
            .configuration_schema
            .as_ref()?;
        Some(match COMPILED.get(slug) {
            Some(compiled) => ConfigurationSchema {
                schema,
                fields: Cow::Borrowed(&compiled.fields),
                validator: Some(&compiled.validator),
            },
            None => ConfigurationSchema::new(schema),
        })
    }

    fn properties(&self) -> Option<&'a Map<String, Value>> {
        self.schema.get("properties").and_then(Value::as_object)
    }

    /// The top-level fields that hold secrets.
    pub fn secret_fields(&self) -> Vec<&'a str> {
        self.fields.secrets.clone()
    }

    /// Validates `sent` (with masked secrets replaced by their `stored` values) and returns the
    /// configuration to store: every field of the schema in its order, defaults filled in,
    /// unknown keys dropped.
    pub fn accept(&self, sent: &Value, stored: Option<&Value>) -> Result<Value, DomainError> {
        let Some(sent) = sent.as_object() else {
            return Err(DomainError::Invalid(vec![detail(
                "Input should be a valid dictionary or instance of the model",
                &[],
                "model_type",
            )]));
        };
        let mut candidate = sent.clone();
        let mut kept = Vec::new();
        for secret in self.secret_fields() {
            if candidate.get(secret).and_then(Value::as_str) == Some(MASK) {
                // The client sent back what it was shown: keep the stored secret, if any.
                match stored.and_then(|s| s.get(secret)) {
                    Some(value) => {
                        if !value.is_null() {
                            kept.push(secret);
                        }
                        candidate.insert(secret.to_owned(), value.clone())
                    }
                    None => candidate.remove(secret),
                };
            }
        }
        let candidate = Value::Object(candidate);
        let accepted = self.normalise(&candidate);
        let compiled;
        let validator = match self.validator {
            Some(validator) => validator,
            None => {
                compiled = validator_for(self.schema)?;
                &compiled
            }
        };
        let mut errors: Vec<FieldError> = validator
            .failures(&candidate)
            .into_iter()
            .map(|failed| {
                let mut path: Vec<&str> = failed.path.iter().map(String::as_str).collect();
                let (msg, kind) = describe(&failed.failure);
                if let Failure::Required(property) = failed.failure {
                    path.push(property);
                }
                detail(&msg, &path, kind)
            })
            .collect();
        if let Some(stored) = stored.filter(|_| !kept.is_empty()) {
            let before = self.normalise(stored);
            errors.extend(self.fields.redirected(&kept, &before, &accepted));
        }
        if !errors.is_empty() {
            // Sorted by the path's JSON text: the order clients have always seen.
            errors.sort_by_key(|e| serde_json::to_string(&e.path.segments).unwrap_or_default());
            errors.dedup_by(|a, b| a.path == b.path);
            return Err(DomainError::Invalid(errors));
        }
        Ok(accepted)
    }

    /// The stored configuration as clients see it: secrets replaced by [`MASK`].
    pub fn masked(&self, stored: &Value) -> Value {
        let mut shown = stored.clone();
        if let Some(object) = shown.as_object_mut() {
            for secret in self.secret_fields() {
                if let Some(value) = object.get_mut(secret).filter(|v| !v.is_null()) {
                    *value = Value::String(MASK.into());
                }
            }
        }
        shown
    }

    fn normalise(&self, valid: &Value) -> Value {
        let mut out = Map::new();
        for (name, field) in self.properties().into_iter().flatten() {
            if let Some(value) = valid.get(name).or_else(|| field.get("default")) {
                out.insert(name.clone(), value.clone());
            }
        }
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pagerduty() -> &'static Value {
        crate::catalogue::find("pagerduty-oncall")
            .and_then(|p| p.configuration_schema.as_ref())
            .unwrap()
    }

    fn failures(error: DomainError) -> Vec<(String, String)> {
        let DomainError::Invalid(details) = error else {
            panic!("not a validation error: {error:?}")
        };
        details
            .into_iter()
            .map(|d| {
                // Every failure is in the body: written as the `loc` clients see.
                assert_eq!(d.path.location, crate::error::Location::Body);
                let mut loc = vec![serde_json::Value::from("body")];
                loc.extend(
                    serde_json::to_value(&d.path.segments)
                        .unwrap()
                        .as_array()
                        .cloned()
                        .unwrap(),
                );
                (serde_json::to_string(&loc).unwrap(), d.kind)
            })
            .collect()
    }

    #[test]
    fn every_failing_field_gets_one_entry_in_dispatchs_shape() {
        let schema = ConfigurationSchema::new(pagerduty());
        let error = schema
            .accept(&json!({"from_email": 7, "pagerduty_api_url": "x"}), None)
            .unwrap_err();
        assert_eq!(
            failures(error),
            [
                (
                    r#"["body","configuration","api_key"]"#.into(),
                    "missing".into()
                ),
                (
                    r#"["body","configuration","from_email"]"#.into(),
                    "string_type".into()
                ),
            ]
        );
    }

    #[test]
    fn accepted_configurations_get_defaults_and_lose_unknown_keys() {
        let schema = ConfigurationSchema::new(pagerduty());
        let stored = schema
            .accept(
                &json!({"api_key": "k", "from_email": "ops@example.com", "extra": 1}),
                None,
            )
            .unwrap();
        assert_eq!(
            stored,
            json!({"api_key": "k", "from_email": "ops@example.com",
                   "pagerduty_api_url": "https://api.pagerduty.com"})
        );
        assert_eq!(schema.masked(&stored)["api_key"], MASK);
    }

    #[test]
    fn the_mask_written_back_keeps_the_stored_secret() {
        let schema = ConfigurationSchema::new(pagerduty());
        let stored = json!({"api_key": "real", "from_email": "a@example.com"});
        let again = schema
            .accept(
                &json!({"api_key": MASK, "from_email": "b@example.com"}),
                Some(&stored),
            )
            .unwrap();
        assert_eq!(again["api_key"], "real");
        assert_eq!(again["from_email"], "b@example.com");
        // With nothing stored, the mask is no secret: the field is missing.
        let error = schema
            .accept(
                &json!({"api_key": MASK, "from_email": "b@example.com"}),
                None,
            )
            .unwrap_err();
        assert_eq!(failures(error)[0].1, "missing");
    }

    #[test]
    fn the_mask_is_refused_when_an_address_changes() {
        let schema = ConfigurationSchema::of_plugin("pagerduty-oncall").unwrap();
        let stored = json!({"api_key": "real", "from_email": "a@example.com",
                            "pagerduty_api_url": "https://api.pagerduty.com"});
        let moved = json!({"api_key": MASK, "from_email": "a@example.com",
                           "pagerduty_api_url": "https://attacker.example"});
        let error = schema.accept(&moved, Some(&stored)).unwrap_err();
        assert_eq!(
            failures(error),
            [(
                r#"["body","configuration","api_key"]"#.into(),
                "value_error".into()
            )]
        );
        // Leaving the address out moves it too: back to the default, away from a custom one.
        let custom = json!({"api_key": "real", "from_email": "a@example.com",
                            "pagerduty_api_url": "https://eu.pagerduty.com"});
        let omitted = json!({"api_key": MASK, "from_email": "a@example.com"});
        assert!(schema.accept(&omitted, Some(&custom)).is_err());
        // The secret sent again may go anywhere; the mask with the address unchanged stays.
        let resent = json!({"api_key": "new", "from_email": "a@example.com",
                            "pagerduty_api_url": "https://attacker.example"});
        assert_eq!(
            schema.accept(&resent, Some(&stored)).unwrap()["api_key"],
            "new"
        );
        assert_eq!(
            schema.accept(&omitted, Some(&stored)).unwrap()["api_key"],
            "real"
        );
    }
}

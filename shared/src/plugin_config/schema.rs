//! A plugin's configuration schema: validation (422s in Dispatch's shape, one entry per
//! failing field), normalisation, and the secret fields (`"format": "password"`, pydantic's
//! `SecretStr`) that are masked on the way out and kept when the mask is written back (Q-PL2).

use std::collections::HashMap;
use std::sync::LazyLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::{Map, Value};

use crate::error::{ApiError, ErrorDetail};

/// What a secret field reads as (pydantic's rendering of a `SecretStr`).
pub const MASK: &str = "**********";

/// The schema of one plugin's configuration.
pub struct ConfigurationSchema<'a> {
    schema: &'a Value,
    /// Compiled once per process for the shipped catalogue's schemas.
    validator: Option<&'static jsonschema::Validator>,
}

/// The shipped catalogue's validators, by plugin slug, compiled on first use.
static VALIDATORS: LazyLock<HashMap<&'static str, jsonschema::Validator>> = LazyLock::new(|| {
    crate::catalogue::plugins()
        .iter()
        .filter_map(|plugin| {
            let schema = plugin.configuration_schema.as_ref()?;
            let validator = validator_for(schema).ok()?;
            Some((plugin.slug.as_str(), validator))
        })
        .collect()
});

fn validator_for(schema: &Value) -> Result<jsonschema::Validator, ApiError> {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("invalid catalogue schema: {e}")))
}

impl<'a> ConfigurationSchema<'a> {
    pub fn new(schema: &'a Value) -> Self {
        Self {
            schema,
            validator: None,
        }
    }

    /// The configuration schema of a shipped plugin, if it has one.
    pub fn of_plugin(slug: &str) -> Option<ConfigurationSchema<'static>> {
        let plugin = crate::catalogue::find(slug)?;
        Some(ConfigurationSchema {
            schema: plugin.configuration_schema.as_ref()?,
            validator: VALIDATORS.get(slug),
        })
    }

    fn properties(&self) -> Option<&'a Map<String, Value>> {
        self.schema.get("properties").and_then(Value::as_object)
    }

    /// The top-level fields that hold secrets.
    pub fn secret_fields(&self) -> Vec<&'a str> {
        self.properties()
            .into_iter()
            .flatten()
            .filter(|(_, field)| is_secret(field))
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// Validates `sent` (with masked secrets replaced by their `stored` values) and returns the
    /// configuration to store: every field of the schema in its order, defaults filled in,
    /// unknown keys dropped.
    pub fn accept(&self, sent: &Value, stored: Option<&Value>) -> Result<Value, ApiError> {
        let Some(sent) = sent.as_object() else {
            return Err(ApiError::Validation(vec![detail(
                "Input should be a valid dictionary or instance of the model",
                &[],
                "model_type",
            )]));
        };
        let mut candidate = sent.clone();
        for secret in self.secret_fields() {
            if candidate.get(secret).and_then(Value::as_str) == Some(MASK) {
                // The client sent back what it was shown: keep the stored secret, if any.
                match stored.and_then(|s| s.get(secret)) {
                    Some(value) => candidate.insert(secret.to_owned(), value.clone()),
                    None => candidate.remove(secret),
                };
            }
        }
        let candidate = Value::Object(candidate);
        let compiled;
        let validator = match self.validator {
            Some(validator) => validator,
            None => {
                compiled = validator_for(self.schema)?;
                &compiled
            }
        };
        let mut errors: Vec<ErrorDetail> = validator
            .iter_errors(&candidate)
            .map(|error| {
                let mut path: Vec<String> = error
                    .instance_path()
                    .segments()
                    .map(|segment| segment.to_string())
                    .collect();
                let (msg, kind) = describe(&error);
                if let ValidationErrorKind::Required { property } = error.kind() {
                    path.push(property.as_str().unwrap_or_default().to_owned());
                }
                let path: Vec<&str> = path.iter().map(String::as_str).collect();
                detail(&msg, &path, kind)
            })
            .collect();
        if !errors.is_empty() {
            errors.sort_by_key(|e| serde_json::to_string(&e.loc).unwrap_or_default());
            errors.dedup_by(|a, b| a.loc == b.loc);
            return Err(ApiError::Validation(errors));
        }
        Ok(self.normalise(&candidate))
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

/// A field is secret when it (or one branch of its `anyOf`, for an optional secret) is a
/// password-formatted string.
fn is_secret(field: &Value) -> bool {
    let password =
        |schema: &Value| schema.get("format").and_then(Value::as_str) == Some("password");
    password(field)
        || field
            .get("anyOf")
            .and_then(Value::as_array)
            .is_some_and(|branches| branches.iter().any(password))
}

fn detail(msg: &str, path: &[&str], kind: &str) -> ErrorDetail {
    let mut loc = vec![
        Value::String("body".into()),
        Value::String("configuration".into()),
    ];
    loc.extend(path.iter().map(|segment| match segment.parse::<u64>() {
        Ok(index) => Value::from(index),
        Err(_) => Value::String((*segment).to_owned()),
    }));
    ErrorDetail::new(msg, loc, kind)
}

/// Pydantic's wording for the failures a configuration can have.
fn describe(error: &jsonschema::ValidationError<'_>) -> (String, &'static str) {
    match error.kind() {
        ValidationErrorKind::Required { .. } => ("Field required".into(), "missing"),
        ValidationErrorKind::Type { kind } => {
            let name = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(_) => "value".into(),
            };
            match name.as_str() {
                "string" => ("Input should be a valid string".into(), "string_type"),
                "integer" => ("Input should be a valid integer".into(), "int_type"),
                "number" => ("Input should be a valid number".into(), "float_type"),
                "boolean" => ("Input should be a valid boolean".into(), "bool_type"),
                "array" => ("Input should be a valid list".into(), "list_type"),
                "object" => ("Input should be a valid dictionary".into(), "dict_type"),
                _ => (format!("Input should be a valid {name}"), "type_error"),
            }
        }
        ValidationErrorKind::AnyOf { .. } => ("Input is not a valid value".into(), "value_error"),
        ValidationErrorKind::Enum { options } => {
            (format!("Input should be one of {options}"), "enum")
        }
        ValidationErrorKind::Format { format } => match format.as_str() {
            "uri" => ("Input should be a valid URL".into(), "url_parsing"),
            "email" => ("value is not a valid email address".into(), "value_error"),
            other => (format!("Input should be a valid {other}"), "value_error"),
        },
        ValidationErrorKind::MinLength { limit } => (
            format!(
                "String should have at least {limit} character{}",
                plural(*limit)
            ),
            "string_too_short",
        ),
        ValidationErrorKind::MaxLength { limit } => (
            format!(
                "String should have at most {limit} character{}",
                plural(*limit)
            ),
            "string_too_long",
        ),
        ValidationErrorKind::Maximum { limit } => (
            format!("Input should be less than or equal to {limit}"),
            "less_than_equal",
        ),
        ValidationErrorKind::Minimum { limit } => (
            format!("Input should be greater than or equal to {limit}"),
            "greater_than_equal",
        ),
        // Never `error.to_string()`: it quotes the value, which may be a secret.
        _ => ("Input is not valid for this field".into(), "value_error"),
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
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

    fn failures(error: ApiError) -> Vec<(String, String)> {
        let ApiError::Validation(details) = error else {
            panic!("not a validation error: {error:?}")
        };
        details
            .into_iter()
            .map(|d| (serde_json::to_string(&d.loc).unwrap(), d.kind))
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
}

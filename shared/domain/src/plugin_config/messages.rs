//! Configuration failures in Dispatch's error shape, worded as pydantic words them. No message
//! ever quotes the value it is about: that value may be a secret.

use crate::error::{FieldError, Segment};
use jsonschema::error::{TypeKind, ValidationErrorKind};

/// One failure at `configuration.…path` of the body (numeric segments are list indexes).
pub(super) fn detail(msg: &str, path: &[&str], kind: &str) -> FieldError {
    let mut at = crate::body!["configuration"];
    at.segments
        .extend(path.iter().map(|segment| match segment.parse::<usize>() {
            Ok(index) => Segment::Index(index),
            Err(_) => Segment::from(*segment),
        }));
    FieldError::new(msg, at, kind)
}

/// Pydantic's wording for the failures a configuration can have.
pub(super) fn describe(error: &jsonschema::ValidationError<'_>) -> (String, &'static str) {
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

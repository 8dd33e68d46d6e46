//! Configuration failures in Dispatch's error shape, worded as pydantic words them. No message
//! ever quotes the value it is about: that value may be a secret.

use super::validator::{Failure, Format};
use crate::error::{FieldError, Segment};

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
pub(super) fn describe(failure: &Failure<'_>) -> (String, &'static str) {
    match failure {
        Failure::Required(_) => ("Field required".into(), "missing"),
        Failure::Type(name) => match *name {
            "string" => ("Input should be a valid string".into(), "string_type"),
            "integer" => ("Input should be a valid integer".into(), "int_type"),
            "number" => ("Input should be a valid number".into(), "float_type"),
            "boolean" => ("Input should be a valid boolean".into(), "bool_type"),
            "array" => ("Input should be a valid list".into(), "list_type"),
            "object" => ("Input should be a valid dictionary".into(), "dict_type"),
            _ => (format!("Input should be a valid {name}"), "type_error"),
        },
        Failure::AnyOf => ("Input is not a valid value".into(), "value_error"),
        // The options, never the value.
        Failure::Enum(options) => (format!("Input should be one of {options}"), "enum"),
        Failure::Format(Format::Uri) => ("Input should be a valid URL".into(), "url_parsing"),
        Failure::Format(Format::Email) => {
            ("value is not a valid email address".into(), "value_error")
        }
        Failure::MinLength(limit) => (
            format!(
                "String should have at least {limit} character{}",
                plural(*limit)
            ),
            "string_too_short",
        ),
        Failure::MaxLength(limit) => (
            format!(
                "String should have at most {limit} character{}",
                plural(*limit)
            ),
            "string_too_long",
        ),
        Failure::Maximum(limit) => (
            format!("Input should be less than or equal to {limit}"),
            "less_than_equal",
        ),
        Failure::Minimum(limit) => (
            format!("Input should be greater than or equal to {limit}"),
            "greater_than_equal",
        ),
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

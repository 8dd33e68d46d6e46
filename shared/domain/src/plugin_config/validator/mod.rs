//! A JSON Schema validator for exactly the keywords the shipped catalogue's schemas use. The
//! `jsonschema` crate did this before, and with its regex engines it was a fifth of the plugins
//! function's code; this one answers as it did (the tests compare the two).
//!
//! A schema with anything else (another keyword, a `$ref` outside `#/$defs/`, a format other than
//! `uri`, `email` and `password`) is refused when its validator is built, so a catalogue change
//! cannot skip a check unnoticed: the catalogue's test builds every shipped schema.
//!
//! Keywords are checked in `jsonschema`'s order: `type`, `enum`, `minimum`, `maximum`,
//! `minLength`, `maxLength`, `required`, `format`, `properties`, `anyOf`, `$ref`. When a value
//! fails several, `accept` keeps the first, so the order decides the message a client sees.

use std::cmp::Ordering;

use serde_json::{Number, Value};

use super::formats;

mod read;

/// Why a value fails, with what its message needs (never the value: it may be a secret).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Failure<'s> {
    /// The object lacks this property (the failure's path is the object's).
    Required(&'s str),
    /// Not of this JSON type (`"string"`, `"integer"`…).
    Type(&'static str),
    AnyOf,
    /// Equal to none of these options (the `enum` array).
    Enum(&'s Value),
    Format(Format),
    MinLength(u64),
    MaxLength(u64),
    Minimum(&'s Value),
    Maximum(&'s Value),
}

/// The checked formats (`password` only marks a secret, and is not checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Uri,
    Email,
}

/// One failure, at `path` of the instance (object keys, and list indexes as text).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Failed<'s> {
    pub path: Vec<String>,
    pub failure: Failure<'s>,
}

/// A schema, read once; validates any number of instances.
pub struct Validator<'s> {
    root: Node<'s>,
}

#[derive(Default)]
struct Node<'s> {
    json_type: Option<&'static str>,
    options: Option<&'s Value>,
    minimum: Option<&'s Value>,
    maximum: Option<&'s Value>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    required: Vec<&'s str>,
    format: Option<Format>,
    properties: Vec<(&'s str, Node<'s>)>,
    any_of: Vec<Node<'s>>,
    target: Option<Box<Node<'s>>>,
}

fn is_of_type(value: &Value, name: &str) -> bool {
    match value {
        Value::Null => name == "null",
        Value::Bool(_) => name == "boolean",
        // Draft 2020-12: 1.0 is an integer too.
        Value::Number(n) => {
            name == "number"
                || name == "integer"
                    && (n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0))
        }
        Value::String(_) => name == "string",
        Value::Array(_) => name == "array",
        Value::Object(_) => name == "object",
    }
}

impl<'s> Validator<'s> {
    /// Reads `schema`; refuses one this validator could not check fully (the reason names
    /// the keyword and where it is, as a JSON pointer).
    pub fn new(schema: &'s Value) -> Result<Self, String> {
        Ok(Self {
            root: read::root(schema)?,
        })
    }

    /// Every failure of `instance`, in `jsonschema`'s order where two share a path (the order
    /// of failures at different paths is the schema's; `accept` sorts them by path).
    pub(super) fn failures(&self, instance: &Value) -> Vec<Failed<'s>> {
        let mut out = Vec::new();
        self.root.check(instance, &mut Vec::new(), &mut out);
        out
    }
}

impl<'s> Node<'s> {
    fn check(&self, value: &Value, path: &mut Vec<String>, out: &mut Vec<Failed<'s>>) {
        let mut fail = |failure, path: &Vec<String>| {
            out.push(Failed {
                path: path.clone(),
                failure,
            });
        };
        if let Some(name) = self.json_type.filter(|t| !is_of_type(value, t)) {
            fail(Failure::Type(name), path);
        }
        if let Some(options) = self.options {
            let listed = options.as_array().into_iter().flatten();
            if !listed.clone().any(|option| equal(option, value)) {
                fail(Failure::Enum(options), path);
            }
        }
        if let Value::Number(n) = value {
            if let Some(limit) = self.minimum.filter(|l| compare(n, l) == Ordering::Less) {
                fail(Failure::Minimum(limit), path);
            }
            if let Some(limit) = self.maximum.filter(|l| compare(n, l) == Ordering::Greater) {
                fail(Failure::Maximum(limit), path);
            }
        }
        if let Value::String(text) = value {
            // Characters (Unicode scalar values), not bytes.
            let length = text.chars().count() as u64;
            if let Some(limit) = self.min_length.filter(|&l| length < l) {
                fail(Failure::MinLength(limit), path);
            }
            if let Some(limit) = self.max_length.filter(|&l| length > l) {
                fail(Failure::MaxLength(limit), path);
            }
        }
        if let Value::Object(object) = value {
            // Every missing field, in the schema's order.
            for name in self.required.iter().filter(|n| !object.contains_key(**n)) {
                fail(Failure::Required(name), path);
            }
        }
        if let (Some(format), Value::String(text)) = (self.format, value) {
            let valid = match format {
                Format::Uri => formats::is_uri(text),
                Format::Email => formats::is_email(text),
            };
            if !valid {
                fail(Failure::Format(format), path);
            }
        }
        if let Value::Object(object) = value {
            for (name, node) in &self.properties {
                if let Some(property) = object.get(*name) {
                    path.push((*name).to_owned());
                    node.check(property, path, out);
                    path.pop();
                }
            }
        }
        if !self.any_of.is_empty() && !self.any_of.iter().any(|b| b.admits(value)) {
            out.push(Failed {
                path: path.clone(),
                failure: Failure::AnyOf,
            });
        }
        if let Some(target) = &self.target {
            target.check(value, path, out);
        }
    }

    fn admits(&self, value: &Value) -> bool {
        let mut out = Vec::new();
        self.check(value, &mut Vec::new(), &mut out);
        out.is_empty()
    }
}

/// JSON Schema equality: numbers by value (`1` is `1.0`), the rest structurally.
fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(_)) => compare(x, b) == Ordering::Equal,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| equal(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k, x), (l, y))| k == l && equal(x, y))
        }
        _ => a == b,
    }
}

/// Exact order of two JSON numbers (integers beyond 2^53 are not rounded to floats).
fn compare(n: &Number, limit: &Value) -> Ordering {
    let Some(limit) = limit.as_number() else {
        return Ordering::Equal;
    };
    match (integer(n), integer(limit)) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(a), None) => float_against(limit.as_f64().unwrap_or(0.0), a).reverse(),
        (None, Some(b)) => float_against(n.as_f64().unwrap_or(0.0), b),
        (None, None) => {
            let (a, b) = (n.as_f64().unwrap_or(0.0), limit.as_f64().unwrap_or(0.0));
            a.partial_cmp(&b).unwrap_or(Ordering::Equal)
        }
    }
}

fn integer(n: &Number) -> Option<i128> {
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
}

/// `f` against the integer `i`, exactly.
fn float_against(f: f64, i: i128) -> Ordering {
    let floor = f.floor();
    if floor < -1e38 {
        return Ordering::Less;
    }
    if floor > 1e38 {
        return Ordering::Greater;
    }
    // `floor` is an integer within i128's range, so the cast is exact.
    match (floor as i128).cmp(&i) {
        Ordering::Equal if f > floor => Ordering::Greater,
        order => order,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_schema_it_cannot_check_fully_is_refused_when_read() {
        for (schema, reason) in [
            (json!({"pattern": "^a"}), "unsupported keyword \"pattern\""),
            (
                json!({"properties": {"a": {"type": ["string", "null"]}}}),
                "#/properties/a/type",
            ),
            (json!({"format": "date-time"}), "#/format"),
            (
                json!({"properties": {"a": {"additionalProperties": false}}}),
                "#/properties/a",
            ),
            (json!({"$ref": "#/definitions/A"}), "unsupported reference"),
            (
                json!({"$ref": "https://example.com/s"}),
                "unsupported reference",
            ),
            (
                json!({"$ref": "#/$defs/Missing", "$defs": {}}),
                "unsupported reference",
            ),
            (
                json!({"$defs": {"A": {"$ref": "#/$defs/A"}}, "$ref": "#/$defs/A"}),
                "recursive",
            ),
            (json!({"$defs": {"A": {"const": 1}}}), "#/$defs/A"),
            (json!({"anyOf": [{"$defs": {}}]}), "#/anyOf/0"),
            (json!({"anyOf": []}), "#/anyOf"),
            (json!({"minLength": -1}), "#/minLength"),
            (json!({"maximum": "10"}), "#/maximum"),
            (json!({"required": ["a", 1]}), "#/required"),
            (json!(true), "not an object schema"),
        ] {
            let error = Validator::new(&schema)
                .err()
                .unwrap_or_else(|| panic!("{schema}"));
            assert!(error.contains(reason), "{schema}: {error}");
        }
        // `password` marks a secret; it is not checked.
        let secret = json!({"type": "string", "format": "password", "writeOnly": true});
        assert!(
            Validator::new(&secret)
                .unwrap()
                .failures(&json!(""))
                .is_empty()
        );
    }
}

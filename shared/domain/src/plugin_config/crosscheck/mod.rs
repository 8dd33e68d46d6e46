//! The validator against the `jsonschema` crate it replaces: for every shipped schema, and for
//! schemas reaching the cases the catalogue does not (nested objects, `$ref` chains, lengths
//! counted in characters, numbers at their limits), both must find the same failures at the
//! same paths with the same messages, in the same order where they share a path.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::{Value, json};

use super::messages::{describe, detail};
use super::schema::ConfigurationSchema;
use super::validator::{Failure, Validator};
use crate::error::{DomainError, FieldError};

/// A failure as a client reads it: the path (a missing field's included), message, kind.
type Seen = (Vec<String>, String, &'static str);

fn reference(schema: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap()
}

/// What `messages.rs` made of a `jsonschema` error before the validator replaced it.
fn reference_seen(error: &jsonschema::ValidationError<'_>) -> Seen {
    let mut path: Vec<String> = (error.instance_path().segments())
        .map(|segment| segment.to_string())
        .collect();
    let (msg, kind) = match error.kind() {
        ValidationErrorKind::Required { property } => {
            path.push(property.as_str().unwrap_or_default().to_owned());
            ("Field required".into(), "missing")
        }
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
        ValidationErrorKind::MinLength { limit } => {
            let s = if *limit == 1 { "" } else { "s" };
            let msg = format!("String should have at least {limit} character{s}");
            (msg, "string_too_short")
        }
        ValidationErrorKind::MaxLength { limit } => {
            let s = if *limit == 1 { "" } else { "s" };
            let msg = format!("String should have at most {limit} character{s}");
            (msg, "string_too_long")
        }
        ValidationErrorKind::Maximum { limit } => (
            format!("Input should be less than or equal to {limit}"),
            "less_than_equal",
        ),
        ValidationErrorKind::Minimum { limit } => (
            format!("Input should be greater than or equal to {limit}"),
            "greater_than_equal",
        ),
        _ => ("Input is not valid for this field".into(), "value_error"),
    };
    (path, msg, kind)
}

/// Sorted by path as `accept` sorts (stably: failures sharing a path keep their order).
fn by_path(mut seen: Vec<Seen>) -> Vec<Seen> {
    seen.sort_by_key(|(path, _, _)| serde_json::to_string(path).unwrap());
    seen
}

/// The two validators of one schema.
struct Both<'s> {
    schema: &'s Value,
    ours: Validator<'s>,
    theirs: jsonschema::Validator,
}

impl<'s> Both<'s> {
    fn new(schema: &'s Value) -> Self {
        let ours = Validator::new(schema).unwrap_or_else(|e| panic!("{e}: {schema}"));
        let theirs = reference(schema);
        Self {
            schema,
            ours,
            theirs,
        }
    }

    fn agree(&self, instance: &Value) {
        let ours = self.ours.failures(instance).into_iter().map(|failed| {
            let (msg, kind) = describe(&failed.failure);
            let mut path = failed.path;
            if let Failure::Required(property) = failed.failure {
                path.push(property.to_owned());
            }
            (path, msg, kind)
        });
        let theirs = self
            .theirs
            .iter_errors(instance)
            .map(|e| reference_seen(&e));
        let (ours, theirs) = (by_path(ours.collect()), by_path(theirs.collect()));
        assert_eq!(ours, theirs, "{instance} against {}", self.schema);
        assert_eq!(
            ours.is_empty(),
            self.theirs.is_valid(instance),
            "{instance}"
        );
        if !instance.is_object() {
            return;
        }
        // What a client gets: one entry per path, the first of those sharing it.
        let mut expected: Vec<FieldError> = (theirs.iter())
            .map(|(path, msg, kind)| {
                let path: Vec<&str> = path.iter().map(String::as_str).collect();
                detail(msg, &path, kind)
            })
            .collect();
        expected.sort_by_key(|e| serde_json::to_string(&e.path.segments).unwrap());
        expected.dedup_by(|a, b| a.path == b.path);
        match ConfigurationSchema::new(self.schema).accept(instance, None) {
            Ok(_) => assert!(expected.is_empty(), "{instance}: accepted"),
            Err(DomainError::Invalid(got)) => assert_eq!(got, expected, "{instance}"),
            Err(other) => panic!("{instance}: {other:?}"),
        }
    }
}

fn shipped_schemas() -> impl Iterator<Item = &'static Value> {
    crate::catalogue::plugins()
        .iter()
        .filter_map(|plugin| plugin.configuration_schema.as_ref())
}

#[test]
fn every_shipped_schema_fails_what_jsonschema_failed_and_nothing_else() {
    let mut fields = 0;
    for schema in shipped_schemas() {
        let both = Both::new(schema);
        let properties = schema["properties"].as_object().unwrap();
        let valid: serde_json::Map<String, Value> = (properties.iter())
            .map(|(name, field)| (name.clone(), good(field, schema)))
            .collect();
        both.agree(&Value::Object(valid.clone()));
        assert!(both.ours.failures(&Value::Object(valid.clone())).is_empty());
        for root in [
            json!({}),
            json!({"unknown": 1}),
            json!(7),
            json!("x"),
            json!([]),
            json!(null),
        ] {
            both.agree(&root);
        }
        let required: Vec<&str> = (schema["required"].as_array().into_iter().flatten())
            .map(|name| name.as_str().unwrap())
            .collect();
        // Missing fields: each, and each pair.
        for (i, first) in required.iter().enumerate() {
            for second in &required[i..] {
                let mut instance = valid.clone();
                instance.remove(*first);
                instance.remove(*second);
                both.agree(&Value::Object(instance));
            }
        }
        for (name, _) in properties {
            fields += 1;
            let values = STRINGS.iter().map(|s| json!(s)).chain(others());
            for value in values {
                let mut instance = valid.clone();
                instance.insert(name.clone(), value);
                both.agree(&Value::Object(instance));
            }
        }
    }
    assert!(fields > 100, "{fields} fields tried");
}

/// Keywords and shapes the catalogue has only some of.
fn synthetic() -> Value {
    json!({
        "type": "object",
        "$defs": {
            "Outer": {"$ref": "#/$defs/Inner", "description": "a $ref with a sibling"},
            "Inner": {"anyOf": [
                {"type": "string", "format": "email"},
                {"type": "integer", "maximum": 3},
                {"$ref": "#/$defs/Leaf"}
            ]},
            "Leaf": {"type": "null", "title": "the end of the chain"},
            "Word": {"type": "string", "minLength": 2}
        },
        "properties": {
            "s": {"type": "string", "minLength": 3, "maxLength": 4},
            "n": {"type": "number", "minimum": -2.5, "maximum": 1000},
            "i": {"type": "integer", "minimum": 0, "maximum": 9007199254740993_u64},
            "e": {"enum": [1, "a", null, [1, 2], {"k": true}]},
            "u": {"type": "string", "format": "uri", "minLength": 1, "maxLength": 20},
            "r": {"$ref": "#/$defs/Word", "maxLength": 3},
            "o": {
                "type": "object",
                "properties": {"deep": {"$ref": "#/$defs/Outer"}, "x": {"type": "boolean"}},
                "required": ["deep", "x", "y"]
            },
            "p": {
                "type": "object",
                "properties": {"a": {"type": "string"}, "b": {"enum": ["x"]}},
                "required": ["a", "b"]
            }
        },
        "required": ["s", "n", "i"]
    })
}

#[test]
fn nested_refs_lengths_and_numbers_agree_with_jsonschema() {
    let schema = synthetic();
    let both = Both::new(&schema);
    let valid = json!({"s": "abc", "n": 0, "i": 0});
    both.agree(&valid);
    let strings = [
        "ab",
        "abc",
        "abcd",
        "abcde",
        "éé",
        "ééé",
        "éééé",
        "ééééé",
        "😀😀",
        "😀😀😀",
        "e\u{301}e",
        "日本語です",
        "https://a.example/",
        "https://a.example/long/path",
    ];
    let numbers = [
        json!(-2.5),
        json!(-2.6),
        json!(-3),
        json!(1000),
        json!(1000.0),
        json!(1000.0001),
        json!(1001),
        json!(9007199254740992_u64),
        json!(9007199254740993_u64),
        json!(9007199254740994_u64),
        json!(9007199254740992.0),
        json!(9.007199254740994e15),
        json!(1.5),
        json!(-0.0),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(1e308),
        json!(-1e308),
    ];
    let enums = [
        json!(1.0),
        json!([1.0, 2]),
        json!({"k": true}),
        json!({"k": 1}),
        json!([2, 1]),
    ];
    let deep = [
        json!("a@b.co"),
        json!("a@"),
        json!(3),
        json!(3.0),
        json!(4),
        json!(null),
        json!([]),
    ];
    let mut values: Vec<Value> = strings.iter().map(|s| json!(s)).collect();
    values.extend(numbers);
    values.extend(enums);
    values.extend(others());
    for field in ["s", "n", "i", "e", "u", "r", "o", "p"] {
        for value in &values {
            let mut instance = valid.clone();
            instance[field] = value.clone();
            both.agree(&instance);
        }
    }
    for deep in deep {
        for object in [json!({"deep": deep}), json!({"deep": deep, "x": 1, "y": 0})] {
            both.agree(&json!({"o": object, "s": "é"}));
        }
    }
    for p in [
        json!({}),
        json!({"a": 1}),
        json!({"b": "y"}),
        json!({"a": "", "b": "x"}),
    ] {
        both.agree(&json!({"p": p, "o": {}}));
    }
}

#[test]
fn every_missing_field_is_reported_however_jsonschema_compiled_required() {
    let names: Vec<String> = (0..16).map(|i| format!("p{i:02}")).collect();
    for count in [2, 14, 15, 16] {
        let properties: serde_json::Map<String, Value> = (names[..count].iter())
            .map(|name| (name.clone(), json!({"type": "string"})))
            .collect();
        for required in [&names[..1], &names[..2], &names[..3]] {
            let schema = json!({"type": "object", "properties": properties, "required": required});
            let both = Both::new(&schema);
            for instance in [json!({}), json!({"p00": 1}), json!({"p01": "x"})] {
                both.agree(&instance);
            }
        }
    }
    let only_required = json!({"type": "object", "required": ["a", "b"]});
    Both::new(&only_required).agree(&json!({}));
}

mod cases;
mod format_cases;

use cases::{STRINGS, good, others};

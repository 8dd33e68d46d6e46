//! Dispatch's filter grammar (docs/contract.md §6.3), evaluated against the JSON views of a list's
//! items: leaves `{"model"?, "field", "op"?, "value"?}`, `{"and": […]}`, `{"or": […]}`,
//! `{"not": [one]}`, and lists (implicit AND); seventeen operators. Values are coerced to the
//! field's type (the UI sends `"true"` for booleans). Every mistake is a 422 that names it
//! (Dispatch answers 500).
//!
//! The work per item is bounded: at most [`MAX_CONDITIONS`] comparisons (each value of an `in`
//! list counts), [`MAX_PATTERNS`] of them patterns, string values and patterns of at most
//! [`MAX_VALUE_CHARS`] characters, `like`/`ilike` in linear time ([`like`]) over fields that are
//! themselves bounded (`crate::model::text`), each field lower-cased once per item
//! ([`matching`]).

use serde_json::Value;

use crate::error::DomainError;

mod like;
mod matching;

/// Most comparisons one filter makes per item.
pub const MAX_CONDITIONS: usize = 50;
/// Most `like`/`ilike`/`not_ilike` conditions in one filter: each reads a whole field (up to
/// 10,000 characters) of every examined item.
pub const MAX_PATTERNS: usize = 5;
/// Longest string value or pattern in a filter (the longest name is 250 characters).
pub const MAX_VALUE_CHARS: usize = 255;

/// The type of a filterable field, for coercion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Str,
    Int,
    Bool,
}

/// A model a list can filter on: its name, where its fields sit in an item's JSON view (`None`:
/// at the top; `Some("plugin")`: under `item.plugin`), and its fields.
#[derive(Debug, Clone, Copy)]
pub struct ModelFields {
    pub model: &'static str,
    pub path: Option<&'static str>,
    pub fields: &'static [(&'static str, FieldType)],
}

/// The models of one list; the first is the list's own.
pub type Schema = [ModelFields];

/// The operators, by their canonical names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Like,
    Ilike,
    NotIlike,
    In,
    NotIn,
    Any,
    NotAny,
    IsNull,
    IsNotNull,
}

impl Op {
    fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "==" | "eq" => Op::Eq,
            "!=" | "ne" => Op::Ne,
            ">" | "gt" => Op::Gt,
            "<" | "lt" => Op::Lt,
            ">=" | "ge" => Op::Ge,
            "<=" | "le" => Op::Le,
            "like" => Op::Like,
            "ilike" => Op::Ilike,
            "not_ilike" => Op::NotIlike,
            "in" => Op::In,
            "not_in" => Op::NotIn,
            "any" => Op::Any,
            "not_any" => Op::NotAny,
            "is_null" => Op::IsNull,
            "is_not_null" => Op::IsNotNull,
            _ => return None,
        })
    }
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    All(Vec<Filter>),
    Any(Vec<Filter>),
    Not(Box<Filter>),
    Leaf {
        path: Option<&'static str>,
        field: String,
        kind: FieldType,
        op: Op,
        value: Value,
    },
}

fn bad(message: impl Into<String>) -> DomainError {
    DomainError::invalid(message, crate::query!["filter"], "value_error")
}

/// Parses a filter spec against the models of a list.
pub fn parse(spec: &Value, schema: &Schema) -> Result<Filter, DomainError> {
    let filter = parse_spec(spec, schema)?;
    if filter.conditions() > MAX_CONDITIONS {
        return Err(DomainError::invalid(
            format!(
                "A filter should have at most {MAX_CONDITIONS} conditions (each value of an `in` list counts)"
            ),
            crate::query!["filter"],
            "too_long",
        ));
    }
    if filter.patterns() > MAX_PATTERNS {
        return Err(DomainError::invalid(
            format!(
                "A filter should have at most {MAX_PATTERNS} like, ilike or not_ilike conditions"
            ),
            crate::query!["filter"],
            "too_long",
        ));
    }
    Ok(filter)
}

fn parse_spec(spec: &Value, schema: &Schema) -> Result<Filter, DomainError> {
    match spec {
        Value::Array(items) => Ok(Filter::All(
            items
                .iter()
                .map(|i| parse_spec(i, schema))
                .collect::<Result<_, _>>()?,
        )),
        Value::Object(map) => {
            for (key, combine) in [("and", 0), ("or", 1), ("not", 2)] {
                if let Some(arguments) = map.get(key) {
                    let Value::Array(arguments) = arguments else {
                        return Err(bad(format!(
                            "`{key}` value must be an iterable across the function arguments"
                        )));
                    };
                    if arguments.is_empty() {
                        return Err(bad(format!("`{key}` needs at least one argument")));
                    }
                    let parsed: Vec<Filter> = arguments
                        .iter()
                        .map(|a| parse_spec(a, schema))
                        .collect::<Result<_, _>>()?;
                    return Ok(match combine {
                        0 => Filter::All(parsed),
                        1 => Filter::Any(parsed),
                        _ => {
                            if parsed.len() != 1 {
                                return Err(bad("`not` must have one argument"));
                            }
                            Filter::Not(Box::new(parsed.into_iter().next().expect("one argument")))
                        }
                    });
                }
            }
            leaf(map, schema)
        }
        other => Err(bad(format!(
            "Filter spec `{other}` should be a dictionary."
        ))),
    }
}

fn leaf(map: &serde_json::Map<String, Value>, schema: &Schema) -> Result<Filter, DomainError> {
    let field = map
        .get("field")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("`field` is a mandatory filter attribute."))?;
    let model = match map.get("model").and_then(Value::as_str) {
        Some(name) => schema.iter().find(|m| m.model == name).ok_or_else(|| {
            bad(format!(
                "Model `{name}` cannot be filtered on in this list."
            ))
        })?,
        None => &schema[0],
    };
    let kind = model
        .fields
        .iter()
        .find(|(name, _)| *name == field)
        .map(|(_, kind)| *kind)
        .ok_or_else(|| {
            bad(format!(
                "Unknown field `{field}` of model `{}`.",
                model.model
            ))
        })?;
    let op_name = map.get("op").and_then(Value::as_str).unwrap_or("==");
    let op = Op::parse(op_name).ok_or_else(|| bad(format!("Operator `{op_name}` not valid.")))?;
    let value = match op {
        Op::IsNull | Op::IsNotNull => Value::Null,
        Op::In | Op::NotIn => match map.get("value") {
            Some(Value::Array(values)) => Value::Array(
                values
                    .iter()
                    .map(|v| coerce(v, kind, field))
                    .collect::<Result<_, _>>()?,
            ),
            Some(_) => return Err(bad(format!("`{op_name}` needs a list as its `value`."))),
            None => return Err(bad("`value` must be provided.")),
        },
        Op::Like | Op::Ilike | Op::NotIlike => {
            let pattern = match map.get("value") {
                Some(Value::String(pattern)) => pattern.clone(),
                Some(other) => other.to_string(),
                None => return Err(bad("`value` must be provided.")),
            };
            // An `ilike` pattern is lower-cased once, here, not for every item.
            bounded(if op == Op::Like {
                pattern
            } else {
                pattern.to_lowercase()
            })?
        }
        _ => coerce(
            map.get("value")
                .ok_or_else(|| bad("`value` must be provided."))?,
            kind,
            field,
        )?,
    };
    Ok(Filter::Leaf {
        path: model.path,
        field: field.to_owned(),
        kind,
        op,
        value,
    })
}

/// A string value or pattern, refused over [`MAX_VALUE_CHARS`] characters.
fn bounded(text: String) -> Result<Value, DomainError> {
    if text.chars().nth(MAX_VALUE_CHARS).is_some() {
        return Err(DomainError::invalid(
            format!("Filter values should have at most {MAX_VALUE_CHARS} characters"),
            crate::query!["filter"],
            "string_too_long",
        ));
    }
    Ok(Value::String(text))
}

/// Coerces a filter value to the field's type (`"true"` → `true`, `"3"` → `3`).
fn coerce(value: &Value, kind: FieldType, field: &str) -> Result<Value, DomainError> {
    let refused = || bad(format!("Value `{value}` does not fit field `{field}`."));
    Ok(match (kind, value) {
        (_, Value::Null) => Value::Null,
        (FieldType::Bool, Value::Bool(_)) | (FieldType::Int, Value::Number(_)) => value.clone(),
        (FieldType::Str, Value::String(s)) => bounded(s.clone())?,
        (FieldType::Bool, Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "t" | "1" | "yes" => Value::Bool(true),
            "false" | "f" | "0" | "no" => Value::Bool(false),
            _ => return Err(refused()),
        },
        (FieldType::Int, Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| refused())?,
        (FieldType::Str, Value::Number(n)) => Value::String(n.to_string()),
        (FieldType::Str, Value::Bool(b)) => Value::String(b.to_string()),
        _ => return Err(refused()),
    })
}

impl Filter {
    /// How many comparisons the filter makes per item.
    fn conditions(&self) -> usize {
        self.count(&|op, value| match op {
            Op::In | Op::NotIn => value.as_array().map_or(1, Vec::len).max(1),
            _ => 1,
        })
    }

    /// How many of them match a pattern, the ones that read a whole field.
    fn patterns(&self) -> usize {
        self.count(&|op, _| usize::from(matches!(op, Op::Like | Op::Ilike | Op::NotIlike)))
    }

    fn count(&self, leaf: &dyn Fn(Op, &Value) -> usize) -> usize {
        match self {
            Filter::All(filters) | Filter::Any(filters) => {
                filters.iter().map(|f| f.count(leaf)).sum()
            }
            Filter::Not(filter) => filter.count(leaf),
            Filter::Leaf { op, value, .. } => leaf(*op, value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SCHEMA: &Schema = &[
        ModelFields {
            model: "PluginInstance",
            path: None,
            fields: &[("enabled", FieldType::Bool), ("id", FieldType::Int)],
        },
        ModelFields {
            model: "Plugin",
            path: Some("plugin"),
            fields: &[("slug", FieldType::Str), ("type", FieldType::Str)],
        },
        ModelFields {
            model: "Project",
            path: Some("project"),
            fields: &[("name", FieldType::Str)],
        },
    ];

    fn item() -> Value {
        json!({"id": 3, "enabled": true, "plugin": {"slug": "jira-ticket", "type": "ticket"}, "project": {"name": "default"}})
    }

    #[test]
    fn the_uis_instance_filter_matches_with_a_string_boolean() {
        let spec = json!({"and":[
            {"model":"PluginInstance","field":"enabled","op":"==","value":"true"},
            {"model":"Project","field":"name","op":"==","value":"default"}
        ]});
        assert!(parse(&spec, SCHEMA).unwrap().matches(&item()));
        let other = json!([{"and":[{"model":"Project","field":"name","op":"==","value":"other"}]}]);
        assert!(!parse(&other, SCHEMA).unwrap().matches(&item()));
    }

    #[test]
    fn every_operator_works() {
        let cases = [
            (json!({"field":"id","op":"eq","value":"3"}), true),
            (json!({"field":"id","op":"!=","value":3}), false),
            (json!({"field":"id","op":">","value":2}), true),
            (json!({"field":"id","op":"lt","value":3}), false),
            (json!({"field":"id","op":">=","value":3}), true),
            (json!({"field":"id","op":"le","value":2}), false),
            (
                json!({"model":"Plugin","field":"slug","op":"like","value":"jira%"}),
                true,
            ),
            (
                json!({"model":"Plugin","field":"slug","op":"ilike","value":"%TICKET"}),
                true,
            ),
            (
                json!({"model":"Plugin","field":"slug","op":"not_ilike","value":"%jira%"}),
                false,
            ),
            (json!({"field":"id","op":"in","value":[1,2,3]}), true),
            (json!({"field":"id","op":"not_in","value":["3"]}), false),
            (
                json!({"model":"Plugin","field":"type","op":"any","value":"ticket"}),
                false,
            ),
            (
                json!({"model":"Plugin","field":"type","op":"not_any","value":"ticket"}),
                true,
            ),
            (
                json!({"model":"Plugin","field":"type","op":"is_null"}),
                false,
            ),
            (
                json!({"model":"Plugin","field":"type","op":"is_not_null"}),
                true,
            ),
            (json!({"not":[{"field":"enabled","value":false}]}), true),
            (
                json!({"or":[{"field":"id","value":9},{"field":"id","value":3}]}),
                true,
            ),
        ];
        for (spec, expected) in cases {
            assert_eq!(
                parse(&spec, SCHEMA).unwrap().matches(&item()),
                expected,
                "{spec}"
            );
        }
    }

    #[test]
    fn mistakes_are_named() {
        let message = |spec: Value| match parse(&spec, SCHEMA) {
            Err(DomainError::Invalid(d)) => d[0].msg.clone(),
            other => panic!("{spec}: {other:?}"),
        };
        assert_eq!(
            message(json!({"field":"id","op":"~","value":1})),
            "Operator `~` not valid."
        );
        assert_eq!(
            message(json!({"op":"==","value":1})),
            "`field` is a mandatory filter attribute."
        );
        assert_eq!(
            message(json!({"field":"id","op":"=="})),
            "`value` must be provided."
        );
        assert_eq!(
            message(json!({"and": {"field":"id"}})),
            "`and` value must be an iterable across the function arguments"
        );
        assert_eq!(
            message(json!({"not":[{"field":"id","value":1},{"field":"id","value":2}]})),
            "`not` must have one argument"
        );
        assert!(message(json!({"field":"nope","value":1})).contains("Unknown field `nope`"));
        assert!(message(json!({"model":"Case","field":"id","value":1})).contains("Model `Case`"));
        assert!(message(json!("text")).contains("should be a dictionary"));
        assert!(message(json!({"field":"enabled","value":"perhaps"})).contains("does not fit"));
        let pattern = "%a".repeat(128);
        assert!(
            message(json!({"model":"Plugin","field":"slug","op":"like","value":pattern}))
                .contains("at most 255 characters")
        );
        let patterns = vec![json!({"model":"Plugin","field":"slug","op":"ilike","value":"%a%"}); 6];
        assert!(message(json!({"or": patterns})).contains("at most 5 like"));
        let many: Vec<Value> = (0..=MAX_CONDITIONS).map(|id| json!(id)).collect();
        assert!(
            message(json!({"field":"id","op":"in","value":many})).contains("at most 50 conditions")
        );
    }
}

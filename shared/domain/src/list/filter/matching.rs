//! Evaluating a parsed filter against an item's JSON view. A field's text is borrowed, not
//! copied, and lower-cased at most once per item however many `ilike`s read it: five
//! `ilike`s over a 10,000-character description cost one lower-casing, not five.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use super::like::like;
use super::{Filter, Op};

/// The lower-cased text of the fields read so far for one item, by model path and field.
type Lowered<'f> = Vec<(Option<&'static str>, &'f str, String)>;

fn text(value: &Value) -> Cow<'_, str> {
    match value.as_str() {
        Some(text) => Cow::Borrowed(text),
        None => Cow::Owned(value.to_string()),
    }
}

fn lowered<'c, 'f>(
    cache: &'c mut Lowered<'f>,
    path: Option<&'static str>,
    field: &'f str,
    actual: &Value,
) -> &'c str {
    let index = match cache.iter().position(|(p, f, _)| *p == path && *f == field) {
        Some(index) => index,
        None => {
            cache.push((path, field, text(actual).to_lowercase()));
            cache.len() - 1
        }
    };
    &cache[index].2
}

fn compare(left: &Value, right: &Value) -> Option<Ordering> {
    match (left, right) {
        (Value::Number(a), Value::Number(b)) => a.as_f64()?.partial_cmp(&b.as_f64()?),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

impl Filter {
    /// Whether an item's JSON view matches.
    pub fn matches(&self, item: &Value) -> bool {
        self.holds(item, &mut Vec::new())
    }

    fn holds<'f>(&'f self, item: &Value, cache: &mut Lowered<'f>) -> bool {
        let (path, field, op, value) = match self {
            Filter::All(filters) => return filters.iter().all(|f| f.holds(item, cache)),
            Filter::Any(filters) => return filters.iter().any(|f| f.holds(item, cache)),
            Filter::Not(filter) => return !filter.holds(item, cache),
            Filter::Leaf {
                path,
                field,
                op,
                value,
                ..
            } => (*path, field.as_str(), *op, value),
        };
        let scope = match path {
            Some(path) => &item[path],
            None => item,
        };
        let actual = &scope[field];
        // Patterns are strings, an `ilike`'s already lower-cased (`super::leaf`).
        let pattern = value.as_str().unwrap_or_default();
        match op {
            Op::Eq => actual == value,
            Op::Ne => actual != value,
            Op::Gt => compare(actual, value) == Some(Ordering::Greater),
            Op::Lt => compare(actual, value) == Some(Ordering::Less),
            Op::Ge => matches!(compare(actual, value), Some(o) if o.is_ge()),
            Op::Le => matches!(compare(actual, value), Some(o) if o.is_le()),
            Op::Like => !actual.is_null() && like(&text(actual), pattern),
            Op::Ilike => !actual.is_null() && like(lowered(cache, path, field, actual), pattern),
            Op::NotIlike => actual.is_null() || !like(lowered(cache, path, field, actual), pattern),
            Op::In => value
                .as_array()
                .is_some_and(|values| values.contains(actual)),
            Op::NotIn => value
                .as_array()
                .is_some_and(|values| !values.contains(actual)),
            Op::Any => actual
                .as_array()
                .is_some_and(|values| values.contains(value)),
            Op::NotAny => !actual
                .as_array()
                .is_some_and(|values| values.contains(value)),
            Op::IsNull => actual.is_null(),
            Op::IsNotNull => !actual.is_null(),
        }
    }
}

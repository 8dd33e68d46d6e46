//! Which order a list request asks for: one of the collection's index-backed sorts, or an
//! in-memory sort of a small collection (at most [`MAX_EVALUATED`] items), or a 422 naming the
//! sorts that exist.

use serde_json::Value;

use super::{ListParams, ListSpec, MAX_EVALUATED};
use crate::error::DomainError;
use dispatch_store::schema::IndexSpec;

fn same_model(a: &str, b: &str) -> bool {
    let fold = |s: &str| s.replace('_', "").to_lowercase();
    fold(a) == fold(b)
}

pub(super) enum Order {
    Index {
        index: IndexSpec,
        ascending: bool,
    },
    InMemory {
        path: Option<&'static str>,
        field: String,
        descending: bool,
    },
}

pub(super) fn order(spec: &ListSpec, params: &ListParams) -> Result<Order, DomainError> {
    let Some(key) = params.sort.first() else {
        return Ok(Order::Index {
            index: spec.sorts[0].index,
            ascending: true,
        });
    };
    let model_name = key.model.as_deref().unwrap_or(spec.schema[0].model);
    if let Some(sort) = spec
        .sorts
        .iter()
        .find(|s| same_model(s.model, model_name) && s.field == key.field)
    {
        return Ok(Order::Index {
            index: sort.index,
            ascending: !key.descending,
        });
    }
    let bad = |msg: String| DomainError::invalid(msg, crate::query!["sortBy[]", 0], "value_error");
    let model = spec
        .schema
        .iter()
        .find(|m| same_model(m.model, model_name))
        .ok_or_else(|| {
            bad(format!(
                "This list cannot be sorted by model `{model_name}`."
            ))
        })?;
    if !model.fields.iter().any(|(f, _)| *f == key.field) {
        return Err(bad(format!(
            "Unknown sort field `{}` of model `{}`.",
            key.field, model.model
        )));
    }
    if spec.total > MAX_EVALUATED as i64 {
        let supported: Vec<&str> = spec.sorts.iter().map(|s| s.field).collect();
        return Err(bad(format!(
            "Sorting by `{}` is not supported for a list of more than {MAX_EVALUATED} items; sort by one of: {}.",
            key.field,
            supported.join(", ")
        )));
    }
    Ok(Order::InMemory {
        path: model.path,
        field: key.field.clone(),
        descending: key.descending,
    })
}

pub(super) fn compare_values(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(std::cmp::Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Null, Value::Null) => std::cmp::Ordering::Equal,
        (Value::Null, _) => std::cmp::Ordering::Greater,
        (_, Value::Null) => std::cmp::Ordering::Less,
        _ => std::cmp::Ordering::Equal,
    }
}

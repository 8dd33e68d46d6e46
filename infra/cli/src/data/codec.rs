//! One item ⇄ one line of DynamoDB JSON, the wire format of `AttributeValue`
//! (`{"pk":{"S":"ORG#default"},"version":{"N":"3"},"tags":{"SS":["a","b"]}}`).
//!
//! Lines are canonical so that two dumps of equal tables are equal files once their lines are
//! sorted: attribute names and map keys (nested `M` included) are written in sorted order, and
//! the members of the unordered sets (`SS`, `NS`, `BS`) sorted too. Binary values are base64,
//! as on the wire. Numbers stay the strings DynamoDB returned, so no precision is lost.

use anyhow::{Context, anyhow, bail};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use dispatch_store::Attributes;
use serde_json::{Map, Value};

/// The item as one line of JSON (no newline).
pub fn to_line(item: &Attributes) -> anyhow::Result<String> {
    Ok(serde_json::to_string(&Value::Object(sorted_map(item)?))?)
}

/// Reads one line written by [`to_line`] (or any DynamoDB JSON item).
pub fn from_line(line: &str) -> anyhow::Result<Attributes> {
    let value: Value = serde_json::from_str(line).context("not JSON")?;
    let Value::Object(map) = value else {
        bail!("an item must be a JSON object of attributes");
    };
    map.into_iter()
        .map(|(name, value)| {
            let decoded = decode(value).with_context(|| format!("attribute `{name}`"))?;
            Ok((name, decoded))
        })
        .collect()
}

fn sorted_map<'a>(
    entries: impl IntoIterator<Item = (&'a String, &'a AttributeValue)>,
) -> anyhow::Result<Map<String, Value>> {
    let mut entries: Vec<_> = entries.into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    // `serde_json` keeps insertion order here (`preserve_order`): the sort above is the order.
    entries
        .into_iter()
        .map(|(name, value)| Ok((name.clone(), encode(value)?)))
        .collect()
}

fn sorted_strings(values: &[String]) -> Value {
    let mut values = values.to_vec();
    values.sort();
    Value::from(values)
}

fn encode(value: &AttributeValue) -> anyhow::Result<Value> {
    let (tag, inner) = match value {
        AttributeValue::S(s) => ("S", Value::from(s.as_str())),
        AttributeValue::N(n) => ("N", Value::from(n.as_str())),
        AttributeValue::B(b) => ("B", Value::from(BASE64.encode(b.as_ref()))),
        AttributeValue::Bool(b) => ("BOOL", Value::from(*b)),
        AttributeValue::Null(n) => ("NULL", Value::from(*n)),
        AttributeValue::Ss(values) => ("SS", sorted_strings(values)),
        AttributeValue::Ns(values) => ("NS", sorted_strings(values)),
        AttributeValue::Bs(values) => {
            let encoded: Vec<String> = values.iter().map(|b| BASE64.encode(b.as_ref())).collect();
            ("BS", sorted_strings(&encoded))
        }
        AttributeValue::L(values) => (
            "L",
            Value::Array(values.iter().map(encode).collect::<Result<_, _>>()?),
        ),
        AttributeValue::M(map) => ("M", Value::Object(sorted_map(map)?)),
        other => bail!("an attribute type this build does not know: {other:?}"),
    };
    let mut tagged = Map::new();
    tagged.insert(tag.into(), inner);
    Ok(Value::Object(tagged))
}

fn decode(value: Value) -> anyhow::Result<AttributeValue> {
    let Value::Object(map) = value else {
        bail!("expected an object like {{\"S\": \"…\"}}");
    };
    let mut entries = map.into_iter();
    let (Some((tag, inner)), None) = (entries.next(), entries.next()) else {
        bail!("expected exactly one type tag");
    };
    let string = |v: Value| match v {
        Value::String(s) => Ok(s),
        other => Err(anyhow!("expected a string, found {other}")),
    };
    let strings = |v: Value| match v {
        Value::Array(items) => items.into_iter().map(string).collect(),
        other => Err(anyhow!("expected an array, found {other}")),
    };
    let blob = |s: String| -> anyhow::Result<Blob> {
        Ok(Blob::new(BASE64.decode(s).context("invalid base64")?))
    };
    let boolean = |v: Value| v.as_bool().ok_or_else(|| anyhow!("expected true or false"));
    Ok(match tag.as_str() {
        "S" => AttributeValue::S(string(inner)?),
        "N" => AttributeValue::N(string(inner)?),
        "B" => AttributeValue::B(blob(string(inner)?)?),
        "BOOL" => AttributeValue::Bool(boolean(inner)?),
        "NULL" => AttributeValue::Null(boolean(inner)?),
        "SS" => AttributeValue::Ss(strings(inner)?),
        "NS" => AttributeValue::Ns(strings(inner)?),
        "BS" => AttributeValue::Bs(
            strings(inner)?
                .into_iter()
                .map(blob)
                .collect::<Result<_, _>>()?,
        ),
        "L" => match inner {
            Value::Array(items) => {
                AttributeValue::L(items.into_iter().map(decode).collect::<Result<_, _>>()?)
            }
            other => bail!("expected an array, found {other}"),
        },
        "M" => match inner {
            Value::Object(map) => AttributeValue::M(
                map.into_iter()
                    .map(|(k, v)| Ok((k, decode(v)?)))
                    .collect::<anyhow::Result<_>>()?,
            ),
            other => bail!("expected an object, found {other}"),
        },
        other => bail!("unknown type tag `{other}`"),
    })
}

//! Reading a schema into the validator's nodes, refusing what the validator cannot check.

use serde_json::{Map, Value};

use super::{Format, Node};

/// The JSON types `type` may name.
const TYPES: [&str; 7] = [
    "null", "boolean", "integer", "number", "string", "array", "object",
];

/// The root schema, its `$ref`s to `#/$defs/` read in place.
pub(super) fn root(schema: &Value) -> Result<Node<'_>, String> {
    let defs = match schema.get("$defs") {
        None => None,
        Some(defs) => Some(defs.as_object().ok_or("#/$defs: not an object")?),
    };
    let mut reader = Reader {
        defs,
        expanding: Vec::new(),
    };
    // Every definition is read, so that an unused one with an unknown keyword is refused too.
    for (name, def) in defs.into_iter().flatten() {
        reader.node(def, &format!("#/$defs/{name}"), false)?;
    }
    reader.node(schema, "#", true)
}

struct Reader<'s> {
    defs: Option<&'s Map<String, Value>>,
    /// The definitions being read, to refuse a `$ref` cycle.
    expanding: Vec<&'s str>,
}

impl<'s> Reader<'s> {
    fn node(&mut self, schema: &'s Value, at: &str, root: bool) -> Result<Node<'s>, String> {
        let map = schema
            .as_object()
            .ok_or(format!("{at}: not an object schema"))?;
        let mut node = Node::default();
        for (keyword, value) in map {
            let here = format!("{at}/{keyword}");
            let bad = || format!("{here}: unsupported value {value}");
            let checked = |fits: bool| fits.then_some(value).ok_or_else(bad);
            match keyword.as_str() {
                // Annotations: nothing to check.
                "title" | "description" | "default" | "writeOnly" => {}
                "$defs" if root => {}
                "type" => {
                    let name = TYPES.iter().find(|name| value.as_str() == Some(name));
                    node.json_type = Some(name.ok_or_else(bad)?);
                }
                "enum" => node.options = Some(checked(value.is_array())?),
                "minimum" => node.minimum = Some(checked(value.is_number())?),
                "maximum" => node.maximum = Some(checked(value.is_number())?),
                "minLength" => node.min_length = Some(value.as_u64().ok_or_else(bad)?),
                "maxLength" => node.max_length = Some(value.as_u64().ok_or_else(bad)?),
                "required" => {
                    let names = value.as_array().ok_or_else(bad)?.iter();
                    node.required = names
                        .map(|n| n.as_str().ok_or_else(bad))
                        .collect::<Result<_, _>>()?;
                }
                "format" => {
                    node.format = match value.as_str() {
                        Some("uri") => Some(Format::Uri),
                        Some("email") => Some(Format::Email),
                        Some("password") => None,
                        _ => return Err(bad()),
                    }
                }
                "properties" => {
                    for (name, sub) in value.as_object().ok_or_else(bad)? {
                        let sub = self.node(sub, &format!("{here}/{name}"), false)?;
                        node.properties.push((name.as_str(), sub));
                    }
                }
                "anyOf" => {
                    let branches = value.as_array().filter(|b| !b.is_empty()).ok_or_else(bad)?;
                    for (i, branch) in branches.iter().enumerate() {
                        node.any_of
                            .push(self.node(branch, &format!("{here}/{i}"), false)?);
                    }
                }
                "$ref" => node.target = Some(Box::new(self.target(value, &here)?)),
                other => return Err(format!("{at}: unsupported keyword {other:?}")),
            }
        }
        Ok(node)
    }

    /// The definition `#/$defs/<name>` names, read in place of the reference.
    fn target(&mut self, reference: &'s Value, at: &str) -> Result<Node<'s>, String> {
        let name = reference.as_str().and_then(|r| r.strip_prefix("#/$defs/"));
        let found = name.and_then(|n| Some((n, self.defs?.get(n)?)));
        let Some((name, def)) = found.filter(|(n, _)| !n.contains(['/', '~', '%'])) else {
            return Err(format!("{at}: unsupported reference {reference}"));
        };
        if self.expanding.contains(&name) {
            return Err(format!("{at}: recursive reference {reference}"));
        }
        self.expanding.push(name);
        let node = self.node(def, &format!("#/$defs/{name}"), false);
        self.expanding.pop();
        node
    }
}

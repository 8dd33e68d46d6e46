//! Condition and update expressions with their placeholder maps, built together so that a
//! placeholder can never be used without its value.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

/// How many times an item's counters changed (see [`Expression::change_counters`]).
pub const COUNTER_CHANGES: &str = "counter_changes";

/// When an item's counters last changed, in epoch seconds.
pub const COUNTERS_CHANGED_AT: &str = "counters_changed_at";

/// An expression (`ConditionExpression` or `UpdateExpression`) and its placeholders.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expression {
    pub text: String,
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
}

/// Where the clause `keyword` (`ADD`, `DELETE`) of an update expression starts, if it has one.
fn clause_start(text: &str, keyword: &str) -> Option<usize> {
    let clause = format!("{keyword} ");
    if text.starts_with(&clause) {
        return Some(0);
    }
    text.find(&format!(" {clause}")).map(|at| at + 1)
}

impl Expression {
    /// An expression text; add its `#name` and `:value` placeholders with the builders below.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }

    /// Binds a `#placeholder` to an attribute name.
    pub fn name(mut self, placeholder: &str, attribute: &str) -> Self {
        self.names.insert(placeholder.into(), attribute.into());
        self
    }

    /// Binds a `:placeholder` to a value.
    pub fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.insert(placeholder.into(), value);
        self
    }

    /// `attribute_not_exists(pk)`: the item must not exist yet.
    pub fn item_absent() -> Self {
        Self::new("attribute_not_exists(#pk)").name("#pk", super::keys::attr::PK)
    }

    /// `attribute_exists(pk)`: the item must exist.
    pub fn item_present() -> Self {
        Self::new("attribute_exists(#pk)").name("#pk", super::keys::attr::PK)
    }

    /// The item exists and no deletion has hidden it (`deleted` absent or false): the condition
    /// for adding to an organization or a project.
    pub fn item_live() -> Self {
        Self::new(
            "attribute_exists(#pk) AND (attribute_not_exists(#deleted) OR #deleted = :not_deleted)",
        )
        .name("#pk", super::keys::attr::PK)
        .name("#deleted", "deleted")
        .value(":not_deleted", AttributeValue::Bool(false))
    }

    /// `ADD count :by`, tagging the item as a collection count: keeps a list's `total` exact.
    /// Like every counter change, it also records the change ([`Expression::change_counters`]).
    pub fn count_by(by: i64) -> Self {
        let mut expression = Self::change_counters(&[("count", by)]);
        expression.text.push_str(", #entity = :count_entity");
        expression
            .name("#entity", super::keys::attr::ENTITY)
            .value(":count_entity", AttributeValue::S("CollectionCount".into()))
    }

    /// `ADD` each `(counter, by)`, and record that the item's counters changed: one more
    /// [`COUNTER_CHANGES`] and [`COUNTERS_CHANGED_AT`] = now (epoch seconds). The maintenance
    /// job that recounts repairs a counter only if no change happened while it counted, which
    /// the change number tells it even when changes cancel out (one join, one leave).
    pub fn change_counters(changes: &[(&str, i64)]) -> Self {
        let mut expression = Self::new("");
        let mut additions = Vec::with_capacity(changes.len() + 1);
        for (i, (attribute, by)) in changes.iter().enumerate() {
            additions.push(format!("#counter{i} :counter{i}"));
            expression = expression
                .name(&format!("#counter{i}"), attribute)
                .value(&format!(":counter{i}"), AttributeValue::N(by.to_string()));
        }
        additions.push("#counter_changes :counter_change".into());
        expression.text = format!(
            "ADD {} SET #counters_changed_at = :counters_changed_at",
            additions.join(", ")
        );
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        expression
            .name("#counter_changes", COUNTER_CHANGES)
            .name("#counters_changed_at", COUNTERS_CHANGED_AT)
            .value(":counter_change", AttributeValue::N("1".into()))
            .value(":counters_changed_at", AttributeValue::N(now.to_string()))
    }

    /// Adds `member` (a one-element set, `SS` or `NS`) to the set `attribute`, within this
    /// update's `ADD` clause (or a new one).
    pub fn add_to_set(self, attribute: &str, member: AttributeValue) -> Self {
        let (name, value) = self.fresh_placeholders("set_added");
        let action = format!("{name} {value}");
        let mut expression = self.name(&name, attribute).value(&value, member);
        expression.text = match clause_start(&expression.text, "ADD") {
            Some(at) => format!(
                "{}{action}, {}",
                &expression.text[..at + 4],
                &expression.text[at + 4..]
            ),
            None => format!("{} ADD {action}", expression.text)
                .trim_start()
                .to_owned(),
        };
        expression
    }

    /// Removes `member` (a one-element set) from the set `attribute`, within this update's
    /// `DELETE` clause (or a new one). Removing the last member removes the attribute.
    pub fn delete_from_set(self, attribute: &str, member: AttributeValue) -> Self {
        let (name, value) = self.fresh_placeholders("set_deleted");
        let action = format!("{name} {value}");
        let mut expression = self.name(&name, attribute).value(&value, member);
        expression.text = match clause_start(&expression.text, "DELETE") {
            Some(at) => format!(
                "{}{action}, {}",
                &expression.text[..at + 7],
                &expression.text[at + 7..]
            ),
            None => format!("{} DELETE {action}", expression.text)
                .trim_start()
                .to_owned(),
        };
        expression
    }

    /// `#<base><n>` and `:<base><n>` with the first `n` neither is used with.
    fn fresh_placeholders(&self, base: &str) -> (String, String) {
        (0..)
            .map(|n| (format!("#{base}{n}"), format!(":{base}{n}")))
            .find(|(name, value)| {
                !self.names.contains_key(name) && !self.values.contains_key(value)
            })
            .expect("a free placeholder")
    }

    /// `SET` of each `(attribute, value)` and `ADD version 1`: a change of some attributes that
    /// leaves every other one (counters updated with `ADD` in particular) as it is.
    pub fn set_and_bump_version(fields: &[(&str, AttributeValue)]) -> Self {
        let mut expression = Self::new("");
        let mut assignments = Vec::with_capacity(fields.len());
        for (i, (attribute, value)) in fields.iter().enumerate() {
            assignments.push(format!("#set{i} = :set{i}"));
            expression = expression
                .name(&format!("#set{i}"), attribute)
                .value(&format!(":set{i}"), value.clone());
        }
        expression.text = format!("SET {} ADD #bumped :bump_one", assignments.join(", "));
        expression
            .name("#bumped", super::keys::attr::VERSION)
            .value(":bump_one", AttributeValue::N("1".into()))
    }

    /// `version = :expected`: optimistic locking.
    pub fn version_is(expected: u64) -> Self {
        Self::new("#version = :expected_version")
            .name("#version", super::keys::attr::VERSION)
            .value(":expected_version", AttributeValue::N(expected.to_string()))
    }

    /// Both expressions (placeholders merged; they must not clash).
    pub fn and(mut self, other: Expression) -> Self {
        self.text = format!("({}) AND ({})", self.text, other.text);
        self.names.extend(other.names);
        self.values.extend(other.values);
        self
    }

    pub(crate) fn names_option(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    pub(crate) fn values_option(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(text: &str, word: &str) -> usize {
        text.split_whitespace().filter(|w| *w == word).count()
    }

    #[test]
    fn set_changes_join_the_clauses_an_update_already_has() {
        let id = |n: &str| AttributeValue::Ns(vec![n.into()]);
        let counters = Expression::change_counters(&[("project_count", -1)])
            .add_to_set("deleted_project_ids", id("7"))
            .delete_from_set("project_ids", id("7"));
        assert_eq!(count(&counters.text, "ADD"), 1, "{}", counters.text);
        assert_eq!(count(&counters.text, "DELETE"), 1, "{}", counters.text);
        assert!(counters.text.starts_with("ADD #set_added0 :set_added0, "));

        let set = Expression::set_and_bump_version(&[("name", AttributeValue::S("x".into()))])
            .add_to_set("ids", id("1"));
        assert_eq!(count(&set.text, "ADD"), 1, "{}", set.text);
        assert!(set.text.starts_with("SET "), "{}", set.text);

        let twice = Expression::new("")
            .add_to_set("a", id("1"))
            .add_to_set("b", id("2"));
        assert_eq!(
            twice.text,
            "ADD #set_added1 :set_added1, #set_added0 :set_added0"
        );
        assert_eq!(twice.names["#set_added0"], "a");
        assert_eq!(twice.names["#set_added1"], "b");
    }
}

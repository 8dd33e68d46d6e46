//! Items as stored: a record's attributes plus its keys, index keys and entity type.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;
use super::keys::{Key, attr};

/// A raw DynamoDB item.
pub type Attributes = HashMap<String, AttributeValue>;

/// An item ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    attrs: Attributes,
}

impl Item {
    /// A record serialised with `serde_dynamo`, stored under `key` and tagged with `entity`.
    pub fn new<T: Serialize>(key: &Key, entity: &str, record: &T) -> Result<Self, StoreError> {
        let attrs: Attributes = serde_dynamo::to_item(record)?;
        Ok(Self { attrs }.keyed(key, entity))
    }

    /// An item with no attributes but its key and entity type (guards, markers).
    pub fn bare(key: &Key, entity: &str) -> Self {
        Self {
            attrs: Attributes::new(),
        }
        .keyed(key, entity)
    }

    fn keyed(mut self, key: &Key, entity: &str) -> Self {
        self.attrs
            .insert(attr::PK.into(), AttributeValue::S(key.pk.clone()));
        self.attrs
            .insert(attr::SK.into(), AttributeValue::S(key.sk.clone()));
        self.attrs
            .insert(attr::ENTITY.into(), AttributeValue::S(entity.into()));
        self
    }

    /// Sets one attribute to any value (e.g. a scan position kept as a map).
    pub fn with_value(mut self, name: &str, value: AttributeValue) -> Self {
        self.attrs.insert(name.into(), value);
        self
    }

    /// Sets one string attribute (e.g. the id a guard points at).
    pub fn with_str(mut self, name: &str, value: impl Into<String>) -> Self {
        self.attrs
            .insert(name.into(), AttributeValue::S(value.into()));
        self
    }

    /// Sets one number attribute.
    pub fn with_number(mut self, name: &str, value: i64) -> Self {
        self.attrs
            .insert(name.into(), AttributeValue::N(value.to_string()));
        self
    }

    /// Puts the item into GSI1 under `pk` / `sk`.
    pub fn with_gsi1(self, pk: impl Into<String>, sk: impl Into<String>) -> Self {
        self.with_str(attr::GSI1PK, pk).with_str(attr::GSI1SK, sk)
    }

    /// Puts the item into a list collection with up to three sort orders
    /// (see [`super::keys::sort_value`]).
    pub fn in_list(self, collection: impl Into<String>, sort_keys: &[String]) -> Self {
        let names = [attr::LIST_SK1, attr::LIST_SK2, attr::LIST_SK3];
        let mut item = self.with_str(attr::LIST_PK, collection);
        for (name, value) in names.iter().zip(sort_keys) {
            item = item.with_str(name, value.clone());
        }
        item
    }

    /// Puts a membership into the members index ([`super::schema::MEMBERS`]) of `collection`
    /// under `sort` (the same value as its first list order).
    pub fn in_members_index(self, collection: impl Into<String>, sort: String) -> Self {
        self.with_str(attr::LIST_PK, collection)
            .with_str(attr::MEMBERS_SK, sort)
    }

    /// Puts a plugin instance into the instances index ([`super::schema::INSTANCES`]) of
    /// `collection` under `sort` (the same value as its first list order).
    pub fn in_instances_index(self, collection: impl Into<String>, sort: String) -> Self {
        self.with_str(attr::LIST_PK, collection)
            .with_str(attr::INSTANCES_SK, sort)
    }

    /// The item's primary key.
    pub fn key(&self) -> Key {
        let get = |name: &str| match self.attrs.get(name) {
            Some(AttributeValue::S(s)) => s.clone(),
            _ => String::new(),
        };
        Key::new(get(attr::PK), get(attr::SK))
    }

    /// An item exactly as another table held it (a dump being restored): no key or entity is
    /// added, so the copy is byte for byte the original.
    pub fn from_raw(attrs: Attributes) -> Self {
        Self { attrs }
    }

    /// The attributes, for the SDK.
    pub fn into_attributes(self) -> Attributes {
        self.attrs
    }
}

/// Reads a record back from stored attributes (keys and other attributes are ignored).
pub fn from_attributes<T: DeserializeOwned>(attrs: Attributes) -> Result<T, StoreError> {
    Ok(serde_dynamo::from_item(attrs)?)
}

/// The key attributes of `key`, for GetItem, DeleteItem and friends.
pub fn key_attributes(key: &Key) -> Attributes {
    HashMap::from([
        (attr::PK.to_owned(), AttributeValue::S(key.pk.clone())),
        (attr::SK.to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

/// The primary key of a raw item (empty parts when it has none, which no real key has).
pub fn key_of(attrs: &Attributes) -> Key {
    Key::new(
        string_attribute(attrs, attr::PK).unwrap_or_default(),
        string_attribute(attrs, attr::SK).unwrap_or_default(),
    )
}

/// Reads one string attribute of a raw item.
pub fn string_attribute(attrs: &Attributes, name: &str) -> Option<String> {
    match attrs.get(name) {
        Some(AttributeValue::S(s)) => Some(s.clone()),
        _ => None,
    }
}

/// Reads one number attribute of a raw item.
pub fn number_attribute(attrs: &Attributes, name: &str) -> Option<i64> {
    match attrs.get(name) {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

/// One value as DynamoDB stores it (the same conversion as whole items).
pub fn attribute_value<T: Serialize>(value: T) -> Result<AttributeValue, StoreError> {
    Ok(serde_dynamo::to_attribute_value(value)?)
}

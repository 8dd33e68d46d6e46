//! Value types shared by every entity, validated on construction (Dispatch's `models.py` field
//! types, spec §1.6).

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{ApiError, ErrorDetail};

/// Why a value was refused: Dispatch's message and error type; the caller adds the location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub msg: String,
    pub kind: &'static str,
}

impl Invalid {
    pub fn new(msg: impl Into<String>, kind: &'static str) -> Self {
        Self {
            msg: msg.into(),
            kind,
        }
    }

    /// A 422 for this value at `loc` (e.g. `loc!["body", "name"]`).
    pub fn at(self, loc: Vec<serde_json::Value>) -> ApiError {
        ApiError::Validation(vec![ErrorDetail::new(self.msg, loc, self.kind)])
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.msg)
    }
}

/// An entity id: `0 < id < 2147483647`, as Dispatch's `PrimaryKey`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct PrimaryKey(i32);

impl PrimaryKey {
    /// Validates an id.
    pub fn new(id: i64) -> Result<Self, Invalid> {
        if id <= 0 {
            return Err(Invalid::new(
                "Input should be greater than 0",
                "greater_than",
            ));
        }
        if id >= i64::from(i32::MAX) {
            return Err(Invalid::new(
                "Input should be less than 2147483647",
                "less_than",
            ));
        }
        Ok(Self(id as i32))
    }

    /// Parses the path parameter `name` (422 in Dispatch's shape when it is not a valid id).
    pub fn from_path(raw: &str, name: &str) -> Result<i32, crate::error::ApiError> {
        let number: i64 = raw.parse().map_err(|_| {
            crate::error::ApiError::validation(
                "Input should be a valid integer, unable to parse string as an integer",
                crate::loc!["path", name],
                "int_parsing",
            )
        })?;
        Self::new(number)
            .map(Self::get)
            .map_err(|invalid| invalid.at(crate::loc!["path", name]))
    }

    /// The id.
    pub fn get(self) -> i32 {
        self.0
    }
}

impl<'de> Deserialize<'de> for PrimaryKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = i64::deserialize(deserializer)?;
        PrimaryKey::new(raw).map_err(serde::de::Error::custom)
    }
}

/// A name: whitespace-stripped, at least 3 characters (Dispatch's `NameStr`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct NameStr(String);

impl NameStr {
    /// Strips and validates a name.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let name = raw.trim();
        if name.chars().count() < 3 {
            return Err(Invalid::new(
                "String should have at least 3 characters",
                "string_too_short",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for NameStr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        NameStr::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_keys_are_positive_31_bit_integers() {
        assert!(PrimaryKey::new(0).is_err());
        assert!(PrimaryKey::new(2_147_483_647).is_err());
        assert_eq!(PrimaryKey::new(2_147_483_646).unwrap().get(), 2_147_483_646);
    }

    #[test]
    fn names_are_stripped_and_need_three_characters() {
        assert_eq!(NameStr::parse("  abc ").unwrap().as_str(), "abc");
        assert_eq!(
            NameStr::parse(" ab  ").unwrap_err().kind,
            "string_too_short"
        );
    }
}

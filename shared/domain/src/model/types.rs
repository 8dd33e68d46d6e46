//! Value types shared by every entity, validated on construction (Dispatch's `models.py` field
//! types, docs/contract.md §1.4). Names and other free text are in [`super::text`].

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{DomainError, FieldError};

/// Between the kind and the message of an [`Invalid`] carried by a serde error (a control
/// character, so no message or kind contains it).
const KIND_SEPARATOR: char = '\u{1F}';

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

    /// As a serde error, for `Deserialize` impls: serde's errors carry only text, so the kind
    /// travels in front of the message and the JSON extractor splits it off again
    /// ([`Invalid::from_de_message`]), answering with the kind pydantic would.
    pub fn into_de_error<E: serde::de::Error>(self) -> E {
        E::custom(format_args!("{}{KIND_SEPARATOR}{}", self.kind, self.msg))
    }

    /// The message and kind of a serde error made by [`Invalid::into_de_error`].
    pub fn from_de_message(message: &str) -> Option<(&str, &str)> {
        let (kind, msg) = message.split_once(KIND_SEPARATOR)?;
        kind.chars()
            .all(|c| c.is_ascii_lowercase() || c == '_')
            .then_some((msg, kind))
    }

    /// This value as an invalid field at `path` (e.g. `crate::body!["name"]`).
    pub fn at(self, path: crate::error::FieldPath) -> DomainError {
        DomainError::Invalid(vec![FieldError::new(self.msg, path, self.kind)])
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
    pub fn from_path(raw: &str, name: &str) -> Result<i32, crate::error::DomainError> {
        let number: i64 = raw.parse().map_err(|_| {
            crate::error::DomainError::invalid(
                "Input should be a valid integer, unable to parse string as an integer",
                crate::path_param![name],
                "int_parsing",
            )
        })?;
        Self::new(number)
            .map(Self::get)
            .map_err(|invalid| invalid.at(crate::path_param![name]))
    }

    /// The id.
    pub fn get(self) -> i32 {
        self.0
    }
}

impl<'de> Deserialize<'de> for PrimaryKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = i64::deserialize(deserializer)?;
        PrimaryKey::new(raw).map_err(Invalid::into_de_error)
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
}

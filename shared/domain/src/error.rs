//! The one error type of the domain.
//!
//! A [`DomainError`] says what went wrong in the domain's terms (not found, conflict, an invalid
//! field, …); the web layer maps it to an HTTP status and Dispatch's
//! `{"detail":[{"msg","loc","type"}]}` body in one place (`dispatch_shared::error`). An invalid
//! field carries a [`FieldPath`]: where the value came from ([`Location`]) and its path inside
//! that, so the web layer can rebuild Dispatch's `loc` exactly without the domain knowing it.

use std::borrow::Cow;

use dispatch_store::{IsVersionConflict, StoreError};

/// Where an invalid value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// The request body (`loc` starts with `"body"`).
    Body,
    /// The query string (`loc` starts with `"query"`).
    Query,
    /// A path parameter (`loc` starts with `"path"`).
    Path,
    /// A bare field name, as Dispatch reports a few errors (`["email"]` for a taken email,
    /// `["username"]`/`["password"]` for bad credentials).
    Bare,
}

/// One step of a field path: an object key or a list index (serialised as the bare string or
/// number, as it appears in a path).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum Segment {
    Key(String),
    Index(usize),
}

impl From<&str> for Segment {
    fn from(key: &str) -> Self {
        Segment::Key(key.to_owned())
    }
}

impl From<&&str> for Segment {
    fn from(key: &&str) -> Self {
        Segment::Key((*key).to_owned())
    }
}

impl From<String> for Segment {
    fn from(key: String) -> Self {
        Segment::Key(key)
    }
}

impl From<&String> for Segment {
    fn from(key: &String) -> Self {
        Segment::Key(key.clone())
    }
}

impl From<usize> for Segment {
    fn from(index: usize) -> Self {
        Segment::Index(index)
    }
}

/// Where an invalid value is: its [`Location`] and the path inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    pub location: Location,
    pub segments: Vec<Segment>,
}

impl FieldPath {
    pub fn new(location: Location, segments: Vec<Segment>) -> Self {
        Self { location, segments }
    }
}

/// A [`FieldPath`] at `$location` (one of [`Location`]'s variants) from segments; the four
/// macros below name the location.
#[doc(hidden)]
#[macro_export]
macro_rules! field_path {
    ($location:ident; $($segment:expr),*) => {
        $crate::error::FieldPath::new(
            $crate::error::Location::$location,
            vec![$($crate::error::Segment::from($segment)),*],
        )
    };
}

/// A path in the request body: `body!["project", "name"]`.
#[macro_export]
macro_rules! body {
    ($($segment:expr),* $(,)?) => { $crate::field_path!(Body; $($segment),*) };
}

/// A path in the query string: `query!["filter"]`, `query!["sortBy[]", 0usize]`.
#[macro_export]
macro_rules! query {
    ($($segment:expr),* $(,)?) => { $crate::field_path!(Query; $($segment),*) };
}

/// A path parameter: `path_param!["user_id"]`.
#[macro_export]
macro_rules! path_param {
    ($($segment:expr),* $(,)?) => { $crate::field_path!(Path; $($segment),*) };
}

/// A bare field name: `bare!["email"]` (see [`Location::Bare`]).
#[macro_export]
macro_rules! bare {
    ($($segment:expr),* $(,)?) => { $crate::field_path!(Bare; $($segment),*) };
}

/// One invalid value: where, what is wrong (`msg`) and a machine-readable `kind`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub path: FieldPath,
    pub msg: String,
    pub kind: String,
}

impl FieldError {
    pub fn new(msg: impl Into<String>, path: FieldPath, kind: impl Into<String>) -> Self {
        Self {
            path,
            msg: msg.into(),
            kind: kind.into(),
        }
    }
}

/// Every failure of a domain operation.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The target does not exist, or is not visible to the caller.
    #[error("not found: {0}")]
    NotFound(Cow<'static, str>),
    /// A uniqueness rule or an invariant refused the change.
    #[error("conflict: {0}")]
    Conflict(Cow<'static, str>),
    /// One or more values are invalid, each at its path.
    #[error("invalid: {0:?}")]
    Invalid(Vec<FieldError>),
    /// The request as a whole is refused with a message (e.g. "Invalid current password").
    #[error("bad request: {0}")]
    BadRequest(Cow<'static, str>),
    /// Missing, forged, expired or revoked credentials.
    #[error("could not validate credentials")]
    Unauthenticated,
    /// The caller may not do this; the message is the rule's.
    #[error("forbidden: {0}")]
    Forbidden(Cow<'static, str>),
    /// Too many attempts; retry after `retry_after_seconds`.
    #[error("throttled: {msg}")]
    Throttled {
        msg: Cow<'static, str>,
        retry_after_seconds: u64,
    },
    /// A concurrent update kept winning the version race, even after retries.
    #[error("concurrent update conflict")]
    VersionConflict,
    /// The table throttled us or timed out; safe to retry.
    #[error("service unavailable")]
    Unavailable,
    /// A bug or an unexpected infrastructure failure.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl DomainError {
    /// One invalid value.
    pub fn invalid(msg: impl Into<String>, path: FieldPath, kind: impl Into<String>) -> Self {
        DomainError::Invalid(vec![FieldError::new(msg, path, kind)])
    }

    /// The message a person sees (the API's first `msg`; the CLI's error line). Internal
    /// errors have none to show: their chain is for logs.
    pub fn message(&self) -> String {
        use crate::messages::{UNAUTHENTICATED, UNAVAILABLE, VERSION_CONFLICT};
        match self {
            DomainError::NotFound(msg)
            | DomainError::Conflict(msg)
            | DomainError::BadRequest(msg)
            | DomainError::Forbidden(msg)
            | DomainError::Throttled { msg, .. } => msg.to_string(),
            DomainError::Invalid(fields) => {
                fields.first().map(|f| f.msg.clone()).unwrap_or_default()
            }
            DomainError::Unauthenticated => UNAUTHENTICATED.into(),
            DomainError::VersionConflict => VERSION_CONFLICT.into(),
            DomainError::Unavailable => UNAVAILABLE.into(),
            DomainError::Internal(_) => "Unknown".into(),
        }
    }
}

/// Result alias of domain operations.
pub type DomainResult<T, E = DomainError> = Result<T, E>;

/// A secret's previous version, read on demand, could not be read: retry (the request may carry
/// something signed before a rotation; refusing it as forged would sign the caller out).
impl From<crate::secrets::SecretError> for DomainError {
    fn from(_: crate::secrets::SecretError) -> Self {
        DomainError::Unavailable
    }
}

impl From<StoreError> for DomainError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::VersionConflict => DomainError::VersionConflict,
            // Transient: logged here (the 503 body says nothing), retried by the client.
            StoreError::Unavailable(_) | StoreError::BatchIncomplete { .. } => {
                tracing::warn!(error = %error, "DynamoDB unavailable");
                DomainError::Unavailable
            }
            // A write that adds to an organization a `DELETE` hid meanwhile: it is gone.
            StoreError::ConditionFailed { label }
                if label == crate::organizations::ORGANIZATION_LABEL =>
            {
                DomainError::NotFound(crate::messages::ORGANIZATION_NOT_FOUND.into())
            }
            other => DomainError::Internal(anyhow::Error::new(other)),
        }
    }
}

impl IsVersionConflict for DomainError {
    fn is_version_conflict(&self) -> bool {
        matches!(self, DomainError::VersionConflict)
    }
}

/// Turns a failed DynamoDB condition on a labelled item into the right domain error, e.g. a
/// taken email guard into a conflict. Other errors pass through unchanged.
pub trait OnCondition<T> {
    /// If the write failed because the condition of the item labelled `label` did not hold,
    /// answer with `error()` instead.
    fn on_condition(
        self,
        label: &str,
        error: impl FnOnce() -> DomainError,
    ) -> Result<T, DomainError>;
}

impl<T> OnCondition<T> for Result<T, StoreError> {
    fn on_condition(
        self,
        label: &str,
        error: impl FnOnce() -> DomainError,
    ) -> Result<T, DomainError> {
        match self {
            Err(StoreError::ConditionFailed { label: failed }) if failed == label => Err(error()),
            other => other.map_err(DomainError::from),
        }
    }
}

impl<T> OnCondition<T> for Result<T, DomainError> {
    fn on_condition(
        self,
        label: &str,
        error: impl FnOnce() -> DomainError,
    ) -> Result<T, DomainError> {
        match self {
            Err(DomainError::Internal(e)) => match e.downcast::<StoreError>() {
                Ok(StoreError::ConditionFailed { label: failed }) if failed == label => {
                    Err(error())
                }
                Ok(other) => Err(DomainError::from(other)),
                Err(e) => Err(DomainError::Internal(e)),
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_guard_condition_becomes_the_chosen_conflict() {
        let failed: Result<(), StoreError> = Err(StoreError::ConditionFailed {
            label: "email".into(),
        });
        let mapped = failed.on_condition("email", || DomainError::Conflict("taken".into()));
        assert!(matches!(mapped, Err(DomainError::Conflict(m)) if m == "taken"));

        let other: Result<(), StoreError> = Err(StoreError::ConditionFailed {
            label: "slug".into(),
        });
        let mapped = other.on_condition("email", || DomainError::Conflict("taken".into()));
        assert!(matches!(mapped, Err(DomainError::Internal(_))));
    }
}

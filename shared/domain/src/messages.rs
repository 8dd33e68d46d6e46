//! Dispatch's messages that both the permission layer and domain rules answer with, kept in
//! one place so the two never drift apart.

/// Dispatch's 404 for an organization that does not exist.
pub const ORGANIZATION_NOT_FOUND: &str =
    "Organization not found. Please, contact your Dispatch admin.";
/// The answer to a version race lost even after retries.
pub const VERSION_CONFLICT: &str =
    "The resource was changed by another request at the same time. Please retry.";
/// The answer when the table throttled us or timed out.
pub const UNAVAILABLE: &str = "The service is busy. Please retry.";
/// Dispatch's 401 for any credential problem.
pub const UNAUTHENTICATED: &str = "Could not validate credentials";
/// Dispatch's 403 of every permission class.
pub const FORBIDDEN: &str = "Your user doesn't have permissions to create, update, or delete this resource. Please, contact your Dispatch admin.";

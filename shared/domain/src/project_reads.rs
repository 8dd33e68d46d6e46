//! Reading projects: one by id, pages of them by key, and a project's stable priority.

use serde_json::Value;

use crate::error::DomainError;
use crate::model::Project;
use dispatch_store::keys::Key;
use dispatch_store::{Store, from_attributes};

/// Loads projects by key, in the order of `keys` (items gone meanwhile are absent).
pub async fn load(store: &Store, keys: Vec<Key>) -> Result<Vec<Project>, DomainError> {
    let found = store.batch_get(&keys).await?;
    let mut projects = Vec::with_capacity(found.len());
    for item in found.into_iter().flatten() {
        projects.push(from_attributes::<Project>(item)?);
    }
    Ok(projects)
}

/// The live project `project_id` of organization `slug` (not found when absent or being
/// deleted).
pub async fn get(store: &Store, slug: &str, project_id: i32) -> Result<Project, DomainError> {
    store
        .get::<Project>(&dispatch_store::keys::project(slug, project_id))
        .await?
        .filter(|p| !p.deleted)
        .ok_or_else(|| DomainError::NotFound(NOT_FOUND.into()))
}

/// Dispatch's 404 for a project that does not exist (in this organization).
pub const NOT_FOUND: &str = "A project with this id does not exist.";

/// The incident priority `priority_id` of a project as stored (the view picks its fields), if
/// it is one of that project's priorities.
pub async fn stable_priority(
    store: &Store,
    slug: &str,
    project_id: i32,
    priority_id: i32,
) -> Result<Option<Value>, DomainError> {
    let key =
        dispatch_store::keys::project_data(slug, project_id, "INCIDENT_PRIORITY", priority_id);
    Ok(store
        .get_attributes(&key)
        .await?
        .map(from_attributes::<Value>)
        .transpose()?)
}

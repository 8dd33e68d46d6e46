//! Project references in user bodies (`projects: [{project: {id | name}, default, role}]`),
//! resolved within the path's organization only.

use crate::error::DomainError;
use crate::model::{NameStr, Organization};
use dispatch_store::item::number_attribute;
use dispatch_store::{Store, keys};
use serde::Deserialize;

/// Dispatch's `UserProject` as clients send it.
#[derive(Debug, Clone, Deserialize)]
pub struct ProjectRef {
    pub project: ProjectIdentity,
    #[serde(default)]
    pub default: Option<bool>,
}

/// A project named by id, or else by name.
#[derive(Debug, Clone, Deserialize)]
pub struct ProjectIdentity {
    pub id: Option<i64>,
    pub name: Option<String>,
}

/// The most project entries one user body may hold: each is read, and each may become an
/// action of the one transaction that writes the change (DynamoDB takes 100).
pub const MAX_PROJECT_ENTRIES: usize = 50;

/// Each entry's project id in `org` with the entry's default flag, in order (one pair per
/// entry, so a flag always stays with its own project); a project of another organization, or
/// none at all, is a 422 naming the entry, and more than [`MAX_PROJECT_ENTRIES`] a 422.
pub async fn resolve(
    store: &Store,
    org: &Organization,
    refs: &[ProjectRef],
) -> Result<Vec<(i32, bool)>, DomainError> {
    if refs.len() > MAX_PROJECT_ENTRIES {
        return Err(DomainError::invalid(
            format!("List should have at most {MAX_PROJECT_ENTRIES} items"),
            crate::body!["projects"],
            "too_long",
        ));
    }
    let mut entries = Vec::with_capacity(refs.len());
    for (index, reference) in refs.iter().enumerate() {
        let missing = || {
            DomainError::invalid(
                "A project with this id or name does not exist in this organization.",
                crate::body!["projects", index],
                "value_error",
            )
        };
        let id = match (reference.project.id, reference.project.name.as_deref()) {
            (Some(id), _) => {
                let id = i32::try_from(id).map_err(|_| missing())?;
                store
                    .get_attributes(&keys::project(&org.slug, id))
                    .await?
                    .map(|_| id)
            }
            // A string that cannot be a name (too long for a key, say) names no project.
            (None, Some(name)) => match NameStr::parse(name) {
                Ok(name) => store
                    .get_attributes(&keys::project_name_guard(&org.slug, name.as_str()))
                    .await?
                    .and_then(|guard| number_attribute(&guard, "project_id"))
                    .map(|id| id as i32),
                Err(_) => None,
            },
            (None, None) => None,
        };
        entries.push((id.ok_or_else(missing)?, reference.default.unwrap_or(false)));
    }
    Ok(entries)
}

/// The distinct project ids of resolved entries, in order of first mention.
pub fn distinct_ids(entries: &[(i32, bool)]) -> Vec<i32> {
    let mut ids: Vec<i32> = Vec::with_capacity(entries.len());
    for (id, _) in entries {
        if !ids.contains(id) {
            ids.push(*id);
        }
    }
    ids
}

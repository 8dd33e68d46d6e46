use serde::Serialize;
use serde_json::Value;

use crate::model::{Project, ProjectLink, User};

use super::project_read;

/// Dispatch's `UserProject`: a project the user is linked to, with the link's flags.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserProject {
    pub project: Value,
    pub default: bool,
    pub role: String,
}

/// Joins a user's links with the linked projects (links whose project is gone are skipped).
pub fn user_projects(links: &[ProjectLink], projects: &[Project]) -> Vec<UserProject> {
    links
        .iter()
        .filter_map(|link| {
            let project = projects
                .iter()
                .find(|p| p.id == link.project_id && !p.deleted)?;
            Some(UserProject {
                project: project_read(project),
                default: link.default,
                role: link.role.clone(),
            })
        })
        .collect()
}

/// Dispatch's `UserSettingsRead` (settings are embedded in the user; their id is the user's).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserSettingsRead {
    pub auto_add_to_incident_bridges: bool,
    pub id: i32,
    pub dispatch_user_id: i32,
}

impl From<&User> for UserSettingsRead {
    fn from(user: &User) -> Self {
        Self {
            auto_add_to_incident_bridges: user.settings.auto_add_to_incident_bridges,
            id: user.id,
            dispatch_user_id: user.id,
        }
    }
}

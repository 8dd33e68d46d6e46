use serde::Serialize;
use serde_json::{Map, Value, json};

use dispatch_domain::model::{LinkSummary, Membership, Organization, Project, Role, User};

use super::OrganizationRead;

use super::project_read;

/// Dispatch's `UserProject`: a project the user is linked to, with the link's flags.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserProject {
    pub project: Value,
    pub default: bool,
    pub role: String,
}

/// A user's links with their projects (`dispatch_domain::memberships::projects_in`).
pub fn user_projects(linked: &[(LinkSummary, Project)]) -> Vec<UserProject> {
    linked
        .iter()
        .map(|(link, project)| UserProject {
            project: project_read(project),
            default: link.default,
            role: link.role.clone(),
        })
        .collect()
}

/// Dispatch's `UserRead` of a member of `org`: its `organizations` holds only that organization,
/// so no response shows another tenant's memberships (D-USR1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserRead {
    pub id: i32,
    pub email: String,
    pub projects: Vec<UserProject>,
    pub organizations: Vec<UserOrganization>,
    /// The role in the path's organization; null in `/auth/me`, as in Dispatch.
    pub role: Option<Role>,
    pub experimental_features: bool,
    pub settings: UserSettingsRead,
}

/// Dispatch's `UserOrganization`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserOrganization {
    pub organization: OrganizationRead,
    pub default: bool,
    pub role: Role,
}

impl UserOrganization {
    fn new(org: &Organization, membership: &Membership) -> Self {
        Self {
            organization: OrganizationRead::from(org),
            default: false,
            role: membership.role,
        }
    }
}

impl UserRead {
    /// The member `user` of `org`, with their `membership` there and their linked projects.
    pub fn member(
        org: &Organization,
        user: &User,
        membership: &Membership,
        projects: &[(LinkSummary, Project)],
    ) -> Self {
        let organizations = vec![UserOrganization::new(org, membership)];
        Self::new(user, organizations, Some(membership.role), projects)
    }

    /// `/auth/me`: the caller with every organization they belong to and their projects in
    /// the path's organization.
    pub fn me(
        user: &User,
        memberships: &[(Organization, Membership)],
        projects: &[(LinkSummary, Project)],
    ) -> Self {
        let organizations = memberships
            .iter()
            .map(|(org, membership)| UserOrganization::new(org, membership))
            .collect();
        Self::new(user, organizations, None, projects)
    }

    fn new(
        user: &User,
        organizations: Vec<UserOrganization>,
        role: Option<Role>,
        projects: &[(LinkSummary, Project)],
    ) -> Self {
        Self {
            id: user.id,
            email: user.email.as_str().to_owned(),
            projects: user_projects(projects),
            organizations,
            role,
            experimental_features: user.experimental_features,
            settings: UserSettingsRead::from(user),
        }
    }
}

/// A member as a list item, with the projects of their links; the list shows neither
/// organizations nor settings (as Dispatch's list of `DispatchUser`s).
pub fn member_list_item(membership: &Membership, projects: &[(LinkSummary, Project)]) -> Value {
    // Built with moves: `json!` serialises every value it is given, so nesting the project
    // views in it would copy each of them twice.
    let projects = projects
        .iter()
        .map(|(link, project)| {
            let mut item = Map::new();
            item.insert("project".into(), project_read(project));
            item.insert("default".into(), link.default.into());
            item.insert("role".into(), json!(link.role));
            Value::Object(item)
        })
        .collect();
    let mut item = Map::new();
    item.insert("id".into(), membership.user_id.into());
    item.insert("email".into(), json!(membership.email));
    item.insert("projects".into(), Value::Array(projects));
    item.insert("role".into(), json!(membership.role));
    item.insert("organizations".into(), json!([]));
    item.insert("experimental_features".into(), Value::Null);
    item.insert("settings".into(), Value::Null);
    Value::Object(item)
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

//! The route table: every endpoint of the API, the Lambda function that serves it and the
//! permission it needs.
//!
//! This table is the single source of truth. The five routers are built from it (a handler for a
//! route that is not listed here makes router construction fail), the dev server mounts those
//! routers, `dispatch server routes` prints it, and a test compares it with `template.yaml`, so
//! none of them can drift.

use std::fmt;

/// The prefix every API path is mounted under.
pub const API_PREFIX: &str = "/api/v1";

/// The five Lambda functions, one per route group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Function {
    Auth,
    Users,
    Organizations,
    Projects,
    Plugins,
}

impl Function {
    /// Every function, in deployment order.
    pub const ALL: [Function; 5] = [
        Function::Auth,
        Function::Users,
        Function::Organizations,
        Function::Projects,
        Function::Plugins,
    ];

    /// Lower-case name: the crate suffix (`dispatch-<name>`) and the binary name's suffix.
    pub fn name(self) -> &'static str {
        match self {
            Function::Auth => "auth",
            Function::Users => "users",
            Function::Organizations => "organizations",
            Function::Projects => "projects",
            Function::Plugins => "plugins",
        }
    }

    /// The logical id of the function's resource in `template.yaml`.
    pub fn template_resource(self) -> &'static str {
        match self {
            Function::Auth => "AuthFunction",
            Function::Users => "UsersFunction",
            Function::Organizations => "OrganizationsFunction",
            Function::Projects => "ProjectsFunction",
            Function::Plugins => "PluginsFunction",
        }
    }

    /// The DynamoDB actions this function's code issues; `template.yaml` grants exactly these
    /// (a test checks), so each function gets least-privilege IAM.
    pub fn dynamodb_actions(self) -> &'static [&'static str] {
        const READ_WRITE: &[&str] = &[
            "dynamodb:GetItem",
            "dynamodb:BatchGetItem",
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:TransactWriteItems",
            "dynamodb:ConditionCheckItem",
        ];
        const READ_WRITE_BATCH: &[&str] = &[
            "dynamodb:GetItem",
            "dynamodb:BatchGetItem",
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:TransactWriteItems",
            "dynamodb:ConditionCheckItem",
            "dynamodb:BatchWriteItem",
        ];
        match self {
            // Login throttling, auto-provisioning and id blocks write; nothing is bulk-deleted.
            Function::Auth | Function::Users | Function::Plugins => READ_WRITE,
            // Deleting an organization or a project removes its item collection in batches.
            Function::Organizations | Function::Projects => READ_WRITE_BATCH,
        }
    }
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// HTTP methods the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    /// Upper-case name as in HTTP and in `template.yaml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    /// The `http` crate's method.
    pub fn to_http(self) -> http::Method {
        match self {
            Method::Get => http::Method::GET,
            Method::Post => http::Method::POST,
            Method::Put => http::Method::PUT,
            Method::Delete => http::Method::DELETE,
        }
    }
}

/// What a caller needs to call a route (docs/contract.md §3). The permission layer evaluates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Anyone, no token.
    Public,
    /// A valid identity.
    Authenticated,
    /// Any role in the organization of the path (`OrganizationMemberPermission`).
    OrganizationMember,
    /// Owner of the organization of the path (`OrganizationOwnerPermission`).
    OrganizationOwner,
    /// Owner of the organization of the path, or the user named by `{user_id}` themself.
    OrganizationOwnerOrSelf,
    /// Owner of the organization named by `{organization_id}`.
    OwnerOfOrganizationId,
    /// Owner or Manager (`ProjectCreatePermission`).
    ProjectCreate,
    /// Owner, Manager or Admin (`ProjectUpdatePermission`).
    ProjectUpdate,
    /// Owner, Manager or Admin (`SensitiveProjectActionPermission`).
    SensitiveProjectAction,
}

impl Permission {
    /// Whether only members of the path's organization (with some role) can pass: what a
    /// route's prefetch, read before the caller is known, requires
    /// (`crate::http::RouteHandlers::handle_prefetched`).
    pub fn admits_members_only(self) -> bool {
        match self {
            Permission::OrganizationMember
            | Permission::OrganizationOwner
            | Permission::ProjectCreate
            | Permission::ProjectUpdate
            | Permission::SensitiveProjectAction => true,
            // A member passes for their own record only (a prefetch would need to know who
            // calls); any identity; an organization named by id, not the path's; anyone.
            Permission::OrganizationOwnerOrSelf
            | Permission::Authenticated
            | Permission::OwnerOfOrganizationId
            | Permission::Public => false,
        }
    }
}

/// One row of the route table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: Method,
    /// Full path with `{param}` placeholders, e.g. `/api/v1/{organization}/users/{user_id}`.
    /// The same syntax serves axum and API Gateway.
    pub path: &'static str,
    pub function: Function,
    pub permission: Permission,
    /// The 403 message when the permission is not met: Dispatch's own wording for the route,
    /// or its generic permission-class message.
    pub denied: &'static str,
}

/// Dispatch's 403 of every permission class.
pub const GENERIC_DENIAL: &str = "Your user doesn't have permissions to create, update, or delete this resource. Please, contact your Dispatch admin.";

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method.as_str(), self.path)
    }
}

const fn route(
    method: Method,
    path: &'static str,
    function: Function,
    permission: Permission,
) -> Route {
    Route {
        method,
        path,
        function,
        permission,
        denied: GENERIC_DENIAL,
    }
}

/// A route whose refusal has its own message in Dispatch.
const fn denied(route: Route, message: &'static str) -> Route {
    Route {
        denied: message,
        ..route
    }
}

use Function as F;
use Method::*;
use Permission as P;

/// Every route of the API.
pub const ROUTES: &[Route] = &[
    // Health and auth.
    route(Get, "/api/v1/healthcheck", F::Auth, P::Public),
    // The API's own documentation (ReDoc and the OpenAPI document), as Dispatch serves it.
    route(Get, "/api/v1/docs", F::Auth, P::Public),
    route(Get, "/api/v1/docs/openapi.json", F::Auth, P::Public),
    route(
        Post,
        "/api/v1/{organization}/auth/login",
        F::Auth,
        P::Public,
    ),
    route(
        Post,
        "/api/v1/{organization}/auth/register",
        F::Auth,
        P::Public,
    ),
    route(
        Get,
        "/api/v1/{organization}/auth/me",
        F::Auth,
        P::Authenticated,
    ),
    route(
        Get,
        "/api/v1/{organization}/auth/myrole",
        F::Auth,
        P::Authenticated,
    ),
    route(
        Get,
        "/api/v1/{organization}/auth/me/settings",
        F::Auth,
        P::Authenticated,
    ),
    route(
        Put,
        "/api/v1/{organization}/auth/me/settings",
        F::Auth,
        P::Authenticated,
    ),
    // Identity only, like `/auth/me`: the challenge must be the caller's (D-MFA1).
    route(
        Post,
        "/api/v1/{organization}/auth/mfa",
        F::Auth,
        P::Authenticated,
    ),
    // Users.
    route(
        Get,
        "/api/v1/{organization}/users",
        F::Users,
        P::OrganizationMember,
    ),
    denied(
        route(
            Post,
            "/api/v1/{organization}/users",
            F::Users,
            P::OrganizationOwner,
        ),
        "You don't have permissions to create a new user for this organization. Please, contact the organization's owner.",
    ),
    route(
        Get,
        "/api/v1/{organization}/users/{user_id}",
        F::Users,
        P::OrganizationMember,
    ),
    denied(
        route(
            Put,
            "/api/v1/{organization}/users/{user_id}",
            F::Users,
            P::OrganizationOwnerOrSelf,
        ),
        "A user that is not an Owner is trying to update another user.",
    ),
    denied(
        route(
            Post,
            "/api/v1/{organization}/users/{user_id}/change-password",
            F::Users,
            P::OrganizationOwnerOrSelf,
        ),
        "Not authorized to change other user passwords",
    ),
    denied(
        route(
            Post,
            "/api/v1/{organization}/users/{user_id}/reset-password",
            F::Users,
            P::OrganizationOwner,
        ),
        "Only owners can reset passwords",
    ),
    // Organizations.
    route(
        Get,
        "/api/v1/organizations",
        F::Organizations,
        P::Authenticated,
    ),
    route(
        Post,
        "/api/v1/organizations",
        F::Organizations,
        P::Authenticated,
    ),
    route(
        Get,
        "/api/v1/organizations/{organization_id}",
        F::Organizations,
        P::Authenticated,
    ),
    route(
        Put,
        "/api/v1/organizations/{organization_id}",
        F::Organizations,
        P::OwnerOfOrganizationId,
    ),
    route(
        Delete,
        "/api/v1/organizations/{organization_id}",
        F::Organizations,
        P::OwnerOfOrganizationId,
    ),
    // Projects.
    route(
        Get,
        "/api/v1/{organization}/projects",
        F::Projects,
        P::OrganizationMember,
    ),
    route(
        Post,
        "/api/v1/{organization}/projects",
        F::Projects,
        P::ProjectCreate,
    ),
    route(
        Get,
        "/api/v1/{organization}/projects/{project_id}",
        F::Projects,
        P::OrganizationMember,
    ),
    route(
        Put,
        "/api/v1/{organization}/projects/{project_id}",
        F::Projects,
        P::ProjectUpdate,
    ),
    route(
        Delete,
        "/api/v1/{organization}/projects/{project_id}",
        F::Projects,
        P::ProjectUpdate,
    ),
    // Plugins.
    route(
        Get,
        "/api/v1/{organization}/plugins",
        F::Plugins,
        P::OrganizationMember,
    ),
    route(
        Get,
        "/api/v1/{organization}/plugins/instances",
        F::Plugins,
        P::OrganizationMember,
    ),
    route(
        Post,
        "/api/v1/{organization}/plugins/instances",
        F::Plugins,
        P::SensitiveProjectAction,
    ),
    route(
        Get,
        "/api/v1/{organization}/plugins/instances/{plugin_instance_id}",
        F::Plugins,
        P::SensitiveProjectAction,
    ),
    route(
        Put,
        "/api/v1/{organization}/plugins/instances/{plugin_instance_id}",
        F::Plugins,
        P::SensitiveProjectAction,
    ),
    route(
        Delete,
        "/api/v1/{organization}/plugins/instances/{plugin_instance_id}",
        F::Plugins,
        P::SensitiveProjectAction,
    ),
    route(
        Get,
        "/api/v1/{organization}/plugins/plugin_events",
        F::Plugins,
        P::OrganizationMember,
    ),
];

/// The routes one function serves.
pub fn routes_of(function: Function) -> impl Iterator<Item = &'static Route> {
    ROUTES.iter().filter(move |r| r.function == function)
}

/// The route-table entry of a method and a path pattern.
pub fn find_exact(method: Method, pattern: &str) -> Option<&'static Route> {
    ROUTES
        .iter()
        .find(|r| r.method == method && r.path == pattern)
}

/// Finds the route for a method and a concrete path.
pub fn find(method: &http::Method, path: &str) -> Option<&'static Route> {
    ROUTES
        .iter()
        .find(|r| r.method.to_http() == *method && path_matches(r.path, path))
}

/// Does any route, whatever its method, match this concrete path? (404 versus 405.)
pub fn path_is_known(path: &str) -> bool {
    ROUTES.iter().any(|r| path_matches(r.path, path))
}

/// Matches a concrete path against a `{param}` pattern, segment by segment. Literal segments win
/// over parameters in axum and API Gateway alike; for a 404/405 decision a plain match suffices.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let path = path
        .strip_suffix('/')
        .filter(|p| !p.is_empty())
        .unwrap_or(path);
    let mut pattern_segments = pattern.split('/');
    let mut path_segments = path.split('/');
    loop {
        match (pattern_segments.next(), path_segments.next()) {
            (None, None) => return true,
            (Some(p), Some(s)) if p.starts_with('{') && p.ends_with('}') => {
                if s.is_empty() {
                    return false;
                }
            }
            (Some(p), Some(s)) if p == s => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_route_is_unique_and_under_the_api_prefix() {
        let mut seen = HashSet::new();
        for r in ROUTES {
            assert!(
                r.path.starts_with(API_PREFIX),
                "{r} is outside {API_PREFIX}"
            );
            assert!(seen.insert((r.method, r.path)), "{r} is listed twice");
        }
    }

    #[test]
    fn paths_match_their_parameters() {
        assert!(path_matches(
            "/api/v1/{organization}/users/{user_id}",
            "/api/v1/default/users/7"
        ));
        assert!(path_matches("/api/v1/healthcheck", "/api/v1/healthcheck/"));
        assert!(!path_matches(
            "/api/v1/{organization}/users",
            "/api/v1/default/users/7"
        ));
        assert!(!path_matches(
            "/api/v1/{organization}/users",
            "/api/v1//users"
        ));
        assert!(find(&http::Method::GET, "/api/v1/default/projects/3").is_some());
        assert!(find(&http::Method::PATCH, "/api/v1/default/projects/3").is_none());
        assert!(path_is_known("/api/v1/default/projects/3"));
        assert!(!path_is_known("/api/v1/default/incidents"));
    }
}

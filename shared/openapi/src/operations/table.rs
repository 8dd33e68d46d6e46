//! The per-route entries of the document: one [`Operation`] for each row of the route table.

use super::{Operation, Refusal, Success};
use dispatch_shared::routes::{Method, Route};

/// An entry, its fields in [`Operation`]'s order.
const fn op(
    id: &'static str,
    summary: &'static str,
    request: Option<&'static str>,
    success: Success,
    refusals: &'static [Refusal],
) -> Operation {
    Operation {
        id,
        summary,
        request,
        success,
        refusals,
    }
}

use Refusal::*;
use Success::*;

const CONFLICT: &[Refusal] = &[Conflict];

/// The documentation of `route`, or `None` for a route nobody documented yet.
pub fn operation(route: &Route) -> Option<Operation> {
    use Method::{Delete, Get, Post, Put};
    let instance = "/api/v1/{organization}/plugins/instances/{plugin_instance_id}";
    Some(match (route.method, route.path) {
        (Get, "/api/v1/healthcheck") => op(
            "healthcheck",
            "Health check",
            None,
            Schema("HealthCheck"),
            &[],
        ),
        (Get, "/api/v1/docs") => op("docs", "This documentation (ReDoc)", None, Html, &[]),
        (Get, "/api/v1/docs/openapi.json") => {
            op("openapi", "This OpenAPI document", None, Document, &[])
        }
        (Post, "/api/v1/{organization}/auth/login") => op(
            "login",
            "Log in",
            Some("UserLogin"),
            Schema("UserLoginResponse"),
            &[Throttled],
        ),
        (Post, "/api/v1/{organization}/auth/register") => op(
            "register",
            "Register (when registration is enabled; 404 otherwise)",
            Some("UserRegister"),
            Schema("UserRegisterResponse"),
            &[],
        ),
        (Get, "/api/v1/{organization}/auth/me") => {
            op("get_me", "The caller", None, Schema("UserRead"), &[])
        }
        (Get, "/api/v1/{organization}/auth/myrole") => op(
            "get_my_role",
            "The caller's role in the organization",
            None,
            Schema("MyRole"),
            &[],
        ),
        (Get, "/api/v1/{organization}/auth/me/settings") => op(
            "get_my_settings",
            "The caller's settings",
            None,
            Schema("UserSettingsRead"),
            &[],
        ),
        (Put, "/api/v1/{organization}/auth/me/settings") => op(
            "update_my_settings",
            "Change the caller's settings",
            Some("UserSettingsUpdate"),
            Schema("UserSettingsRead"),
            CONFLICT,
        ),
        (Post, "/api/v1/{organization}/auth/mfa") => op(
            "mfa_check",
            "Approve the caller's MFA challenge",
            Some("MfaPayload"),
            Schema("MfaPayloadResponse"),
            &[BadRequestString, Conflict],
        ),
        (Get, "/api/v1/{organization}/users") => op(
            "list_users",
            "The organization's members",
            None,
            Page("UserPagination"),
            &[],
        ),
        (Post, "/api/v1/{organization}/users") => op(
            "create_user",
            "Add a user to the organization",
            Some("UserCreate"),
            Schema("UserRead"),
            CONFLICT,
        ),
        (Get, "/api/v1/{organization}/users/{user_id}") => {
            op("get_user", "One member", None, Schema("UserRead"), &[])
        }
        (Put, "/api/v1/{organization}/users/{user_id}") => op(
            "update_user",
            "Change a member (their role: Owners only)",
            Some("UserUpdate"),
            Schema("UserRead"),
            CONFLICT,
        ),
        (Post, "/api/v1/{organization}/users/{user_id}/change-password") => op(
            "change_password",
            "Change a password",
            Some("UserPasswordUpdate"),
            Schema("UserRead"),
            &[BadRequest, Conflict, Throttled],
        ),
        (Post, "/api/v1/{organization}/users/{user_id}/reset-password") => op(
            "reset_password",
            "Reset a member's password",
            Some("AdminPasswordReset"),
            Schema("UserRead"),
            CONFLICT,
        ),
        (Get, "/api/v1/organizations") => op(
            "list_organizations",
            "Every organization",
            None,
            Page("OrganizationPagination"),
            &[],
        ),
        (Post, "/api/v1/organizations") => op(
            "create_organization",
            "Create an organization (the caller becomes its Owner)",
            Some("OrganizationCreate"),
            Schema("OrganizationRead"),
            &[Forbidden, Conflict],
        ),
        (Get, "/api/v1/organizations/{organization_id}") => op(
            "get_organization",
            "One organization",
            None,
            Schema("OrganizationRead"),
            &[],
        ),
        (Put, "/api/v1/organizations/{organization_id}") => op(
            "update_organization",
            "Change an organization",
            Some("OrganizationUpdate"),
            Schema("OrganizationRead"),
            CONFLICT,
        ),
        (Delete, "/api/v1/organizations/{organization_id}") => op(
            "delete_organization",
            "Delete an organization and everything in it (not the default one)",
            None,
            Null,
            CONFLICT,
        ),
        (Get, "/api/v1/{organization}/projects") => op(
            "list_projects",
            "The organization's projects",
            None,
            Page("ProjectPagination"),
            &[],
        ),
        (Post, "/api/v1/{organization}/projects") => op(
            "create_project",
            "Create a project",
            Some("ProjectCreate"),
            Schema("ProjectRead"),
            CONFLICT,
        ),
        (Get, "/api/v1/{organization}/projects/{project_id}") => op(
            "get_project",
            "One project",
            None,
            Schema("ProjectRead"),
            &[],
        ),
        (Put, "/api/v1/{organization}/projects/{project_id}") => op(
            "update_project",
            "Change a project",
            Some("ProjectUpdate"),
            Schema("ProjectRead"),
            CONFLICT,
        ),
        (Delete, "/api/v1/{organization}/projects/{project_id}") => op(
            "delete_project",
            "Delete a project and everything in it (not the default one)",
            None,
            Null,
            CONFLICT,
        ),
        (Get, "/api/v1/{organization}/plugins") => op(
            "list_plugins",
            "The plugin catalogue",
            None,
            Page("PluginPagination"),
            &[],
        ),
        (Get, "/api/v1/{organization}/plugins/instances") => op(
            "list_plugin_instances",
            "The organization's plugin instances",
            None,
            Page("PluginInstancePagination"),
            &[],
        ),
        (Post, "/api/v1/{organization}/plugins/instances") => op(
            "create_plugin_instance",
            "Add a plugin instance to a project",
            Some("PluginInstanceCreate"),
            Schema("PluginInstanceRead"),
            CONFLICT,
        ),
        (Get, path) if path == instance => op(
            "get_plugin_instance",
            "One plugin instance, its secrets masked",
            None,
            Schema("PluginInstanceRead"),
            &[],
        ),
        (Put, path) if path == instance => op(
            "update_plugin_instance",
            "Enable, disable or configure a plugin instance",
            Some("PluginInstanceUpdate"),
            Schema("PluginInstanceUpdated"),
            CONFLICT,
        ),
        (Delete, path) if path == instance => op(
            "delete_plugin_instance",
            "Delete a plugin instance",
            None,
            Null,
            CONFLICT,
        ),
        (Get, "/api/v1/{organization}/plugins/plugin_events") => op(
            "list_plugin_events",
            "Every plugin's events",
            None,
            Page("PluginEventPagination"),
            &[],
        ),
        _ => return None,
    })
}

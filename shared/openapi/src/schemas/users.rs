//! Users, the auth routes and MFA: `dispatch_shared::views::user`, the bodies of `functions/auth` and
//! `functions/users`, and `dispatch_domain::mfa::MfaPayload`.

use serde_json::{Map, Value, json};

use super::{array_of, boolean, closed, id, integer, nullable, open, reference, string, text};

/// Passwords as the handlers take them: any string; the policy (length, Dispatch's complexity
/// rules for new passwords) answers 422 naming the field.
fn password(what: &str) -> Value {
    json!({ "type": "string", "description": what })
}

fn email() -> Value {
    json!({ "type": "string", "format": "email" })
}

pub fn schemas() -> Map<String, Value> {
    let mut schemas = Map::new();
    let mut add = |name: &str, schema: Value| {
        schemas.insert(name.into(), schema);
    };
    add(
        "UserProject",
        closed(
            "A project the user is linked to, with the link's flags.",
            json!({
                "project": reference("ProjectRead"),
                "default": boolean(),
                "role": string(),
            }),
        ),
    );
    add(
        "UserOrganization",
        closed(
            "An organization the user belongs to, with their role there.",
            json!({
                "organization": reference("OrganizationRead"),
                "default": boolean(),
                "role": reference("Role"),
            }),
        ),
    );
    add(
        "UserSettingsRead",
        closed(
            "The user's settings (global to the user; their id is the user's).",
            json!({
                "auto_add_to_incident_bridges": boolean(),
                "id": integer(),
                "dispatch_user_id": integer(),
            }),
        ),
    );
    add(
        "UserRead",
        closed(
            "A user. Under `/{organization}/users` `organizations` holds that organization only and `role` is the role there; in `/auth/me` it lists every organization of the caller and `role` is null.",
            json!({
                "id": integer(),
                "email": string(),
                "projects": array_of("UserProject"),
                "organizations": array_of("UserOrganization"),
                "role": nullable(reference("Role")),
                "experimental_features": boolean(),
                "settings": reference("UserSettingsRead"),
            }),
        ),
    );
    add(
        "UserListItem",
        closed(
            "A member as a list shows them: their role and projects, no organizations or settings.",
            json!({
                "id": integer(),
                "email": string(),
                "projects": array_of("UserProject"),
                "role": reference("Role"),
                "organizations": { "type": "array", "maxItems": 0 },
                "experimental_features": { "type": "null" },
                "settings": { "type": "null" },
            }),
        ),
    );
    add(
        "UserLoginResponse",
        closed(
            "A session token (`Authorization: Bearer <token>`) and the user's projects.",
            json!({ "projects": array_of("UserProject"), "token": string() }),
        ),
    );
    add(
        "UserRegisterResponse",
        closed(
            "A session token for the new account.",
            json!({ "token": string() }),
        ),
    );
    add(
        "MyRole",
        json!({
            "type": ["string", "null"],
            "enum": ["Owner", "Manager", "Admin", "Member", null],
            "description": "The caller's role in the organization, or null when they are not a member.",
        }),
    );
    add(
        "MfaPayloadResponse",
        closed(
            "The challenge's status after the approval.",
            json!({ "status": { "type": "string", "enum": ["pending", "approved", "denied", "expired"] } }),
        ),
    );
    requests(&mut add);
    schemas
}

/// The request bodies of the auth and users routes.
fn requests(add: &mut impl FnMut(&str, Value)) {
    let credentials = json!({ "email": email(), "password": password("The account's password.") });
    add(
        "UserLogin",
        open(
            "Email and password (other keys are ignored).",
            &["email", "password"],
            credentials.clone(),
        ),
    );
    add(
        "UserRegister",
        open(
            "A new account; `role`, `organizations` and other keys are ignored (a registration never chooses its memberships).",
            &["email", "password"],
            credentials,
        ),
    );
    add(
        "UserSettingsUpdate",
        open(
            "Only the fields sent change (`{}` changes nothing).",
            &[],
            json!({ "auto_add_to_incident_bridges": nullable(boolean()) }),
        ),
    );
    add(
        "MfaPayload",
        open(
            "The caller's approval of their MFA challenge.",
            &["action", "project_id", "challenge_id"],
            json!({ "action": text(0, 255), "project_id": integer(), "challenge_id": string() }),
        ),
    );
    add(
        "UserProjectRef",
        open(
            "A project named by id, or else by name, with the link's default flag.",
            &["project"],
            json!({
                "project": {
                    "type": "object",
                    "properties": { "id": nullable(integer()), "name": nullable(string()) },
                },
                "default": nullable(boolean()),
            }),
        ),
    );
    let project_refs =
        nullable(json!({ "type": "array", "items": reference("UserProjectRef"), "maxItems": 50 }));
    add(
        "UserCreate",
        open(
            "A new member of the organization (`organizations` and other keys are ignored); the role defaults to Member.",
            &["email", "password"],
            json!({
                "email": email(),
                "password": password("Required; follows the password policy."),
                "projects": project_refs.clone(),
                "role": nullable(reference("Role")),
            }),
        ),
    );
    add(
        "UserUpdate",
        open(
            "Changes to a member: an absent role keeps it (only an Owner changes roles), `email` may only repeat the current one, `id` only the path's; `organizations`, `password` and other keys are ignored.",
            &[],
            json!({
                "id": nullable(id()),
                "email": nullable(string()),
                "role": nullable(reference("Role")),
                "projects": project_refs,
                "experimental_features": nullable(boolean()),
            }),
        ),
    );
    add(
        "UserPasswordUpdate",
        open(
            "The user's current password (not checked when an Owner changes another user's) and the new one.",
            &["current_password", "new_password"],
            json!({
                "current_password": password("The current password."),
                "new_password": password("Follows the password policy and Dispatch's complexity rules."),
            }),
        ),
    );
    add(
        "AdminPasswordReset",
        open(
            "An Owner sets a member's password.",
            &["new_password"],
            json!({ "new_password": password("Follows the password policy and Dispatch's complexity rules.") }),
        ),
    );
}

//! `POST /{organization}/auth/mfa` and the MFA challenges behind it (D-MFA1), against DynamoDB
//! Local: every refusal of Dispatch's order of checks through the API, the tenancy rules,
//! concurrent approvals, waiting for an answer, the `dispatch mfa challenge` commands, and the
//! route fed an API Gateway event.

mod api;
mod cli;
mod waiting;

use std::time::Duration;

use dispatch_domain::mfa::{self, Challenge};
use dispatch_domain::model::{Organization, ShortText, User};
use dispatch_domain::users;
use http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestResponse, json_request, spawn_app};
use crate::plugins_api::instance_of;

pub const PASSWORD: &str = "correct horse battery";
pub const ACTION: &str = "delete case 42";
const ME: &str = "me@example.com";

/// A fresh app with a member `me@example.com` of `default` and an Admin who enables plugins.
pub struct Mfa {
    pub app: TestApp,
    pub token: String,
    pub admin: String,
    pub me: User,
    pub default: Organization,
    pub project_id: i32,
}

pub async fn setup() -> Mfa {
    let app = spawn_app().await;
    let token = app.register(ME, PASSWORD).await;
    let admin = app
        .registered_with_role(
            "admin@example.com",
            PASSWORD,
            dispatch_domain::model::Role::Admin,
        )
        .await;
    let me = user(&app, ME).await;
    let default = organization(&app, "default").await;
    let project_id = default.default_project_id.expect("a default project");
    Mfa {
        app,
        token,
        admin,
        me,
        default,
        project_id,
    }
}

pub async fn user(app: &TestApp, email: &str) -> User {
    users::find_by_email(&app.store, email)
        .await
        .unwrap()
        .unwrap()
}

pub async fn organization(app: &TestApp, slug: &str) -> Organization {
    users::organization(&app.store, slug)
        .await
        .unwrap()
        .unwrap()
}

impl Mfa {
    /// Enables the `dispatch-auth-mfa` instance of `org`'s project `project` through the API,
    /// as an Admin (or Owner) `token` does in the UI.
    pub async fn enable_mfa_plugin(&self, token: &str, org: &str, project: &str) {
        let id = instance_of(&self.app, token, org, project, mfa::BUILT_IN_PLUGIN).await;
        let enabled = self
            .app
            .send(json_request(
                "PUT",
                &format!("/api/v1/{org}/plugins/instances/{id}"),
                &json!({"enabled": true}),
                Some(token),
            ))
            .await;
        assert_eq!(enabled.status, StatusCode::OK, "{}", enabled.body);
    }

    /// A pending challenge for `user` in the default project, valid for `lifetime`.
    pub async fn challenge_for(&self, user: &User, lifetime: Duration) -> Challenge {
        mfa::create_challenge(
            &self.app.store,
            &self.default,
            self.project_id,
            user,
            &ShortText::parse(ACTION).unwrap(),
            lifetime,
        )
        .await
        .unwrap()
    }

    /// A pending challenge for `me@example.com`, valid for five minutes.
    pub async fn challenge(&self) -> Challenge {
        self.challenge_for(&self.me, mfa::DEFAULT_LIFETIME).await
    }

    /// `POST /api/v1/{org}/auth/mfa` with `body`, as `token`.
    pub async fn post(&self, token: &str, org: &str, body: &Value) -> TestResponse {
        self.app
            .send(json_request(
                "POST",
                &format!("/api/v1/{org}/auth/mfa"),
                body,
                Some(token),
            ))
            .await
    }

    /// The UI's call for `challenge`, as the caller `me`.
    pub async fn approve(&self, challenge: &Challenge) -> TestResponse {
        self.post(&self.token, "default", &payload(challenge)).await
    }

    /// The stored status of challenge `id`.
    pub async fn stored(&self, id: &str) -> mfa::Status {
        mfa::load(&self.app.store, id)
            .await
            .unwrap()
            .unwrap()
            .status
    }
}

/// The body the UI sends for `challenge` (its link's query).
pub fn payload(challenge: &Challenge) -> Value {
    json!({
        "action": challenge.action,
        "project_id": challenge.project_id,
        "challenge_id": challenge.challenge_id,
    })
}

/// Asserts a 400 whose body is Dispatch's bare-string detail `message`.
#[track_caller]
pub fn assert_refused(response: &TestResponse, message: &str) {
    assert_eq!(
        (response.status, &response.body),
        (StatusCode::BAD_REQUEST, &json!({ "detail": message })),
    );
}

/// Asserts `200 {"status":"approved"}`.
#[track_caller]
pub fn assert_approved(response: &TestResponse) {
    assert_eq!(
        (response.status, &response.body),
        (StatusCode::OK, &json!({"status": "approved"})),
    );
}

//! A password belongs to the person, not to one organization: an Owner of one organization
//! cannot take over an account that also opens another.

use dispatch_domain::model::Role;
use dispatch_domain::users;
use http::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, authed, create_organization, json_request, spawn_app};

const PASSWORD: &str = "Correct horse battery 1";
const FORBIDDEN: &str = "Your user doesn't have permissions to create, update, or delete this resource. Please, contact your Dispatch admin.";

async fn id_of(app: &TestApp, email: &str) -> i32 {
    users::find_by_email(&app.store, email)
        .await
        .unwrap()
        .unwrap()
        .id
}

#[tokio::test]
async fn an_owner_of_one_organization_cannot_take_over_a_member_who_belongs_to_another() {
    let app = spawn_app().await;
    let acme = create_organization(&app.store, "Acme Corp").await;
    // The victim is Owner of `default` and a plain Member of Acme.
    let victim_token = app
        .registered_with_role("victim@example.com", PASSWORD, Role::Owner)
        .await;
    let victim = id_of(&app, "victim@example.com").await;
    let victim_user = users::find_by_email(&app.store, "victim@example.com")
        .await
        .unwrap()
        .unwrap();
    users::set_role(&app.store, &acme, &victim_user, Role::Member)
        .await
        .unwrap();
    let attacker = app
        .member_only_of(&acme, "attacker@example.com", PASSWORD, Role::Owner)
        .await;
    let slug = &acme.slug;
    let attempts = [
        (
            format!("/api/v1/{slug}/users/{victim}/reset-password"),
            json!({"new_password": "Taken Over 1"}),
        ),
        (
            format!("/api/v1/{slug}/users/{victim}/change-password"),
            json!({"current_password": "anything", "new_password": "Taken Over 1"}),
        ),
        (
            format!("/api/v1/{slug}/users/{victim}"),
            json!({"experimental_features": true}),
        ),
    ];
    for (path, body) in attempts {
        let method = if path.ends_with("password") {
            "POST"
        } else {
            "PUT"
        };
        let response = app
            .send(json_request(method, &path, &body, Some(&attacker)))
            .await;
        assert_eq!(
            (response.status, response.body["detail"][0]["msg"].as_str()),
            (StatusCode::FORBIDDEN, Some(FORBIDDEN)),
            "{method} {path}"
        );
    }
    // Nothing changed: the old password works, the victim's token is still valid, and the
    // attacker cannot log in as them.
    assert_eq!(
        app.login("victim@example.com", "Taken Over 1").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.login("victim@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
    let me = app
        .send(authed("GET", "/api/v1/default/auth/me", &victim_token))
        .await;
    assert_eq!(me.status, StatusCode::OK);
    let stored = users::find_by_email(&app.store, "victim@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.experimental_features);
}

#[tokio::test]
async fn an_owner_of_every_organization_of_the_user_may_reset_their_password() {
    let app = spawn_app().await;
    let acme = create_organization(&app.store, "Acme Corp").await;
    let owner = app
        .member_only_of(&acme, "owner@example.com", PASSWORD, Role::Owner)
        .await;
    // Only in Acme: reset as Dispatch does.
    app.member_only_of(&acme, "solo@example.com", PASSWORD, Role::Member)
        .await;
    let solo = id_of(&app, "solo@example.com").await;
    let reset = app
        .send(json_request(
            "POST",
            &format!("/api/v1/{}/users/{solo}/reset-password", acme.slug),
            &json!({"new_password": "Fresh Start 22"}),
            Some(&owner),
        ))
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
    assert_eq!(
        app.login("solo@example.com", "Fresh Start 22").await.status,
        StatusCode::OK
    );

    // In two organizations, both owned by the caller: allowed too.
    let both = create_organization(&app.store, "Both Corp").await;
    let owner_user = users::find_by_email(&app.store, "owner@example.com")
        .await
        .unwrap()
        .unwrap();
    let solo_user = users::find_by_email(&app.store, "solo@example.com")
        .await
        .unwrap()
        .unwrap();
    users::set_role(&app.store, &both, &owner_user, Role::Owner)
        .await
        .unwrap();
    users::set_role(&app.store, &both, &solo_user, Role::Member)
        .await
        .unwrap();
    let again = app
        .send(json_request(
            "POST",
            &format!("/api/v1/{}/users/{solo}/change-password", acme.slug),
            &json!({"current_password": "ignored", "new_password": "Second Start 33"}),
            Some(&owner),
        ))
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    // Once the caller is no longer Owner there, the same reset is refused.
    app.member_only_of(&both, "other@example.com", PASSWORD, Role::Owner)
        .await;
    users::set_role(&app.store, &both, &owner_user, Role::Admin)
        .await
        .unwrap();
    let refused = app
        .send(json_request(
            "POST",
            &format!("/api/v1/{}/users/{solo}/reset-password", acme.slug),
            &json!({"new_password": "Third Start 44"}),
            Some(&owner),
        ))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(
        app.login("solo@example.com", "Second Start 33")
            .await
            .status,
        StatusCode::OK
    );
}

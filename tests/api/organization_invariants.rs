//! Organization invariants an attacker (or a second concurrent request) could break: the last
//! Owner, the default organization, auto-join by recorded id, and id allocation.

use std::sync::Arc;

use dispatch_domain::config::AutoJoin;
use dispatch_domain::model::Role;
use dispatch_domain::{auto_join, users};
use http::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, authed, json_request, spawn_app, spawn_app_with};

const PASSWORD: &str = "correct horse battery";

async fn user_id(app: &TestApp, email: &str) -> i64 {
    i64::from(
        users::find_by_email(&app.store, email)
            .await
            .unwrap()
            .unwrap()
            .id,
    )
}

async fn role_in(app: &TestApp, slug: &str, token: &str) -> serde_json::Value {
    app.send(authed("GET", &format!("/api/v1/{slug}/auth/myrole"), token))
        .await
        .body
}

#[tokio::test]
async fn the_last_owner_cannot_be_demoted_by_any_path() {
    let app = spawn_app().await;
    let owner = app.register("founder@example.com", PASSWORD).await;
    let org = app.post_organization(&owner, "Solo Org").await;
    let slug = org["slug"].as_str().unwrap();
    let me = user_id(&app, "founder@example.com").await;
    let demoted = app
        .send(json_request(
            "PUT",
            &format!("/api/v1/{slug}/users/{me}"),
            &json!({"role": "Member"}),
            Some(&owner),
        ))
        .await;
    assert_eq!(demoted.status, StatusCode::CONFLICT, "{}", demoted.body);
    assert_eq!(
        demoted.body["detail"][0]["msg"],
        dispatch_domain::roles::LAST_OWNER
    );
    // The operator's CLI is refused the same way.
    let cli = dispatch_cli::user::run_with(
        &app.store,
        dispatch_cli::user::UserCommand::Update {
            email: "founder@example.com".into(),
            organization: slug.into(),
            role: dispatch_cli::user::RoleArg::Member,
        },
        || unreachable!(),
    )
    .await;
    assert!(cli.is_err());
    assert_eq!(role_in(&app, slug, &owner).await, "Owner");
}

#[tokio::test]
async fn two_owners_demoting_each_other_at_once_leave_one_owner() {
    let app = Arc::new(spawn_app().await);
    let first = app.register("first@example.com", PASSWORD).await;
    let org = app.post_organization(&first, "Pair Org").await;
    let slug = org["slug"].as_str().unwrap().to_owned();
    let second = app.register("second@example.com", PASSWORD).await;
    let organization = users::organization(&app.store, &slug)
        .await
        .unwrap()
        .unwrap();
    let ids = [
        user_id(&app, "first@example.com").await,
        user_id(&app, "second@example.com").await,
    ];
    let tokens = [first, second];
    for round in 0..4 {
        // Both are Owners again; then each demotes the other, in parallel.
        for email in ["first@example.com", "second@example.com"] {
            let user = users::find_by_email(&app.store, email)
                .await
                .unwrap()
                .unwrap();
            users::set_role(&app.store, &organization, &user, Role::Owner)
                .await
                .unwrap();
        }
        let demotions: Vec<_> = (0..2)
            .map(|i| {
                let (app, slug, token) = (app.clone(), slug.clone(), tokens[i].clone());
                let target = ids[1 - i];
                tokio::spawn(async move {
                    app.send(json_request(
                        "PUT",
                        &format!("/api/v1/{slug}/users/{target}"),
                        &json!({"role": "Member"}),
                        Some(&token),
                    ))
                    .await
                    .status
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for demotion in demotions {
            statuses.push(demotion.await.unwrap());
        }
        let mut roles = Vec::new();
        for token in &tokens {
            roles.push(role_in(&app, &slug, token).await);
        }
        let owners = roles.iter().filter(|r| **r == "Owner").count();
        assert_eq!(owners, 1, "round {round}: {statuses:?} {roles:?}");
        assert!(
            statuses.contains(&StatusCode::OK)
                && statuses.iter().all(|s| *s == StatusCode::OK
                    || *s == StatusCode::CONFLICT
                    || *s == StatusCode::FORBIDDEN),
            "round {round}: {statuses:?}"
        );
    }
}

#[tokio::test]
async fn only_the_operator_moves_the_default_organization() {
    let app = spawn_app().await;
    let owner = app.register("founder@example.com", PASSWORD).await;
    let refused = app
        .send(json_request(
            "POST",
            "/api/v1/organizations",
            &json!({"name": "Wannabe Default", "default": true}),
            Some(&owner),
        ))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(
        users::organization(&app.store, "wannabe_default")
            .await
            .unwrap()
            .is_none(),
        "nothing was created"
    );
    let org = app.post_organization(&owner, "Mine").await;
    let path = format!("/api/v1/organizations/{}", org["id"]);
    let moved = app
        .send(json_request(
            "PUT",
            &path,
            &json!({"default": true}),
            Some(&owner),
        ))
        .await;
    assert_eq!(moved.status, StatusCode::FORBIDDEN, "{}", moved.body);
    // Sending the current value back (as the UI's form does) is fine.
    let same = app
        .send(json_request(
            "PUT",
            &path,
            &json!({"default": false, "description": "ours"}),
            Some(&owner),
        ))
        .await;
    assert_eq!(same.status, StatusCode::OK, "{}", same.body);
    let default = users::organization(&app.store, "default")
        .await
        .unwrap()
        .unwrap();
    assert!(default.default, "the default organization kept the flag");

    let said = dispatch_cli::organization::execute(
        &app.store,
        dispatch_cli::organization::OrganizationCommand::SetDefault {
            slug: "mine".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(said, "mine is the default organization.");
    let old = users::organization(&app.store, "default")
        .await
        .unwrap()
        .unwrap();
    let new = users::organization(&app.store, "mine")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((old.default, new.default), (false, true));
}

#[tokio::test]
async fn a_recreated_slug_does_not_inherit_new_registrants() {
    let app = spawn_app_with(|config| {
        config.auto_join = AutoJoin::Listed(vec!["default".into(), "acme".into()]);
    })
    .await;
    let founder = app.register("founder@example.com", PASSWORD).await;
    let first = app.post_organization(&founder, "Acme").await;
    // The operator records it (`database init` does this for the listed organizations).
    let recorded = auto_join::record(&app.store, &app.state.config().auto_join)
        .await
        .unwrap();
    assert_eq!(recorded, ["acme"]);
    let early = app.register("early@example.com", PASSWORD).await;
    assert_eq!(role_in(&app, "acme", &early).await, "Member");

    // Acme is deleted, and somebody else creates an organization with the same slug.
    let deleted = app
        .send(authed(
            "DELETE",
            &format!("/api/v1/organizations/{}", first["id"]),
            &founder,
        ))
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    let squatter = app.register("squatter@example.com", PASSWORD).await;
    app.post_organization(&squatter, "Acme").await;
    let late = app.register("late@example.com", PASSWORD).await;
    assert_eq!(
        role_in(&app, "acme", &late).await,
        serde_json::Value::Null,
        "a new registrant does not land in the squatter's organization"
    );
    assert_eq!(role_in(&app, "default", &late).await, "Member");
}

#[tokio::test]
async fn client_ids_never_decide_or_block_allocation() {
    let app = spawn_app().await;
    let owner = app.register("founder@example.com", PASSWORD).await;
    let first = app.post_organization(&owner, "First").await;
    let first_id = first["id"].as_i64().unwrap();
    // Squat the next ids of organizations and projects.
    for offset in 1..=10 {
        let squat = app
            .send(json_request(
                "POST",
                "/api/v1/organizations",
                &json!({"name": format!("Squat {offset}"), "id": first_id + offset}),
                Some(&owner),
            ))
            .await;
        assert_eq!(squat.status, StatusCode::OK, "{}", squat.body);
        let project = app
            .send(json_request(
                "POST",
                "/api/v1/first/projects",
                &json!({"name": format!("Squat {offset}"), "id": 1_000 + offset}),
                Some(&owner),
            ))
            .await;
        assert_eq!(project.status, StatusCode::OK, "{}", project.body);
    }
    // Creations without an id take the next ids: none was squatted.
    for name in ["After One", "After Two", "After Three"] {
        app.post_organization(&owner, name).await;
        app.post_project(&owner, "first", name).await;
    }
}

#[tokio::test]
async fn the_default_project_of_an_organization_cannot_be_deleted() {
    let app = spawn_app().await;
    let owner = app.register("founder@example.com", PASSWORD).await;
    app.post_organization(&owner, "Keep Org").await;
    let org = users::organization(&app.store, "keep_org")
        .await
        .unwrap()
        .unwrap();
    let default_project = org.default_project_id.unwrap();
    let refused = app
        .send(authed(
            "DELETE",
            &format!("/api/v1/keep_org/projects/{default_project}"),
            &owner,
        ))
        .await;
    assert_eq!(
        (refused.status, refused.body["detail"][0]["msg"].as_str()),
        (
            StatusCode::CONFLICT,
            Some(dispatch_domain::project_delete::DEFAULT_PROJECT_KEPT)
        )
    );
    let still = app
        .send(authed(
            "GET",
            &format!("/api/v1/keep_org/projects/{default_project}"),
            &owner,
        ))
        .await;
    assert_eq!(still.status, StatusCode::OK, "{}", still.body);
    // Another project is deleted as before.
    let other = app.post_project(&owner, "keep_org", "Disposable").await;
    let deleted = app
        .send(authed(
            "DELETE",
            &format!("/api/v1/keep_org/projects/{}", other["id"]),
            &owner,
        ))
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
}

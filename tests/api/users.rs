//! The users route group, called as Dispatch's UI calls it (docs/contract.md §9), with every role,
//! across two organizations, and with bad and over-reaching input.

use dispatch_domain::model::{Organization, Role};
use dispatch_domain::users;
use http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestResponse, authed, create_organization, json_request, spawn_app};

const PASSWORD: &str = "Correct horse battery 1";

/// Registers `email` and gives them `role` in `org`; returns their id and token.
async fn member(app: &TestApp, org: &Organization, email: &str, role: Role) -> (i32, String) {
    let token = app.register(email, PASSWORD).await;
    let user = users::find_by_email(&app.store, email)
        .await
        .unwrap()
        .unwrap();
    users::set_role(&app.store, org, &user, role).await.unwrap();
    (user.id, token)
}

async fn default_org(app: &TestApp) -> Organization {
    users::organization(&app.store, "default")
        .await
        .unwrap()
        .unwrap()
}

fn assert_no_500(response: &TestResponse) {
    assert_ne!(
        response.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        response.body
    );
}

fn msg(response: &TestResponse) -> &str {
    response.body["detail"][0]["msg"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn an_owner_manages_members_as_the_ui_does() {
    let app = spawn_app().await;
    let org = default_org(&app).await;
    let (_, owner) = member(&app, &org, "owner@example.com", Role::Owner).await;

    let created = app
        .send(json_request(
            "POST",
            "/api/v1/default/users",
            &json!({"email": "new@example.com", "password": PASSWORD, "role": "Admin",
                    "projects": [{"project": {"name": "default"}, "default": true}], "loading": false}),
            Some(&owner),
        ))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(created.body["role"], "Admin");
    assert_eq!(created.body["projects"][0]["project"]["name"], "default");
    assert_eq!(
        created.body["organizations"][0]["organization"]["slug"],
        "default"
    );
    assert!(
        created.body["settings"].is_object(),
        "a proper UserRead (Q-U1)"
    );
    let id = created.body["id"].as_i64().unwrap();

    let list = app
        .send(authed("GET", "/api/v1/default/users?itemsPerPage=25&sortBy[]=email&descending[]=true&filter=%7B%22field%22%3A%22email%22%7D", &owner))
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let emails: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        ["owner@example.com", "new@example.com"],
        "a client filter is replaced (Q-L4)"
    );
    assert_eq!(
        (
            list.body["total"].clone(),
            list.body["itemsPerPage"].clone()
        ),
        (json!(2), json!(2))
    );
    assert_eq!(list.body["items"][1]["role"], "Admin");
    assert_eq!(list.body["items"][1]["projects"][0]["default"], true);
    assert_eq!(list.body["items"][1]["organizations"], json!([]));

    let one = app
        .send(authed(
            "GET",
            &format!("/api/v1/default/users/{id}"),
            &owner,
        ))
        .await;
    assert_eq!(
        (one.status, one.body["email"].clone()),
        (StatusCode::OK, json!("new@example.com"))
    );

    // The member form: the whole user back, with a new role.
    let form = json!({"id": id, "email": "new@example.com", "projects": one.body["projects"], "role": "Manager",
                      "organizations": [], "password": "ignored-Password-1", "loading": false});
    let updated = app
        .send(json_request(
            "PUT",
            &format!("/api/v1/default/users/{id}"),
            &form,
            Some(&owner),
        ))
        .await;
    assert_eq!(
        (updated.status, updated.body["role"].clone()),
        (StatusCode::OK, json!("Manager")),
        "{}",
        updated.body
    );
    assert_eq!(
        app.login("new@example.com", PASSWORD).await.status,
        StatusCode::OK,
        "password in a PUT is never applied"
    );

    // The toolbar: experimental features alone, no `organizations` key (Q-U4), role untouched (Q-U2).
    let toolbar = app
        .send(json_request(
            "PUT",
            &format!("/api/v1/default/users/{id}"),
            &json!({"id": id, "experimental_features": true}),
            Some(&owner),
        ))
        .await;
    assert_eq!(toolbar.status, StatusCode::OK, "{}", toolbar.body);
    assert_eq!(
        (
            toolbar.body["experimental_features"].clone(),
            toolbar.body["role"].clone()
        ),
        (json!(true), json!("Manager"))
    );
}

#[tokio::test]
async fn dispatchs_refusals_and_their_messages() {
    let app = spawn_app().await;
    let org = default_org(&app).await;
    let (owner_id, owner) = member(&app, &org, "owner@example.com", Role::Owner).await;
    let (member_id, token) = member(&app, &org, "member@example.com", Role::Member).await;

    let cases = [
        (
            "POST",
            "/api/v1/default/users".to_owned(),
            json!({"email": "x@example.com", "password": PASSWORD}),
            StatusCode::FORBIDDEN,
            "You don't have permissions to create a new user for this organization. Please, contact the organization's owner.",
        ),
        (
            "PUT",
            format!("/api/v1/default/users/{owner_id}"),
            json!({"experimental_features": true}),
            StatusCode::FORBIDDEN,
            "A user that is not an Owner is trying to update another user.",
        ),
        (
            "PUT",
            format!("/api/v1/default/users/{member_id}"),
            json!({"role": "Owner"}),
            StatusCode::FORBIDDEN,
            "You don't have permissions to update the user's role. Please, contact the organization's owner.",
        ),
        (
            "POST",
            format!("/api/v1/default/users/{owner_id}/change-password"),
            json!({"current_password": "x", "new_password": PASSWORD}),
            StatusCode::FORBIDDEN,
            "Not authorized to change other user passwords",
        ),
        (
            "POST",
            format!("/api/v1/default/users/{member_id}/reset-password"),
            json!({"new_password": PASSWORD}),
            StatusCode::FORBIDDEN,
            "Only owners can reset passwords",
        ),
        (
            "POST",
            format!("/api/v1/default/users/{member_id}/change-password"),
            json!({"current_password": "wrong password", "new_password": "Another pass 2"}),
            StatusCode::BAD_REQUEST,
            "Invalid current password",
        ),
    ];
    for (method, path, body, status, message) in cases {
        let response = app
            .send(json_request(method, &path, &body, Some(&token)))
            .await;
        assert_eq!(
            (response.status, msg(&response)),
            (status, message),
            "{method} {path}"
        );
    }
    let missing = app
        .send(authed("GET", "/api/v1/default/users/999999", &owner))
        .await;
    assert_eq!(
        (missing.status, msg(&missing)),
        (StatusCode::NOT_FOUND, "A user with this id does not exist.")
    );
    // A member may change their own settings, just not their role.
    let own = app
        .send(json_request(
            "PUT",
            &format!("/api/v1/default/users/{member_id}"),
            &json!({"experimental_features": true, "role": "Member"}),
            Some(&token),
        ))
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
}

#[tokio::test]
async fn password_changes_follow_the_rules_and_revoke_older_tokens() {
    let app = spawn_app().await;
    let org = default_org(&app).await;
    let (_, owner) = member(&app, &org, "owner@example.com", Role::Owner).await;
    let (member_id, token) = member(&app, &org, "member@example.com", Role::Member).await;
    let path = format!("/api/v1/default/users/{member_id}/change-password");
    for (new, message) in [
        (
            "short",
            "Value error, Password must be at least 8 characters long",
        ),
        (
            "no digits at all",
            "Value error, Password must contain at least one number",
        ),
        (
            "lowercase only 1",
            "Value error, Password must contain both uppercase and lowercase characters",
        ),
    ] {
        let body = json!({"current_password": PASSWORD, "new_password": new});
        let response = app
            .send(json_request("POST", &path, &body, Some(&token)))
            .await;
        assert_eq!(
            (response.status, msg(&response)),
            (StatusCode::UNPROCESSABLE_ENTITY, message)
        );
    }
    let empty = app
        .send(json_request(
            "POST",
            &path,
            &json!({"current_password": "", "new_password": "New Password 2"}),
            Some(&token),
        ))
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);

    let changed = app
        .send(json_request(
            "POST",
            &path,
            &json!({"current_password": PASSWORD, "new_password": "New Password 2"}),
            Some(&token),
        ))
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(
        app.send(authed("GET", "/api/v1/default/auth/me", &token))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("member@example.com", "New Password 2")
            .await
            .status,
        StatusCode::OK
    );

    // An Owner resets without the current password.
    let reset = app
        .send(json_request(
            "POST",
            &format!("/api/v1/default/users/{member_id}/reset-password"),
            &json!({"new_password": "Reset Password 3"}),
            Some(&owner),
        ))
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.body);
    assert_eq!(
        app.login("member@example.com", "Reset Password 3")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.login("member@example.com", "New Password 2")
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn no_caller_of_one_organization_reaches_a_user_of_another() {
    let app = spawn_app().await;
    let default = default_org(&app).await;
    let acme = create_organization(&app.store, "Acme Corp").await;
    let (victim_id, _) = member(&app, &default, "victim@example.com", Role::Admin).await;
    // The attacker belongs to Acme only (registration would also have joined `default`).
    let attacker = app
        .member_only_of(&acme, "attacker@example.com", PASSWORD, Role::Owner)
        .await;
    let attempts: Vec<(&str, String, Value)> = vec![
        (
            "GET",
            format!("/api/v1/acme_corp/users/{victim_id}"),
            Value::Null,
        ),
        (
            "PUT",
            format!("/api/v1/acme_corp/users/{victim_id}"),
            json!({"role": "Member"}),
        ),
        (
            "POST",
            format!("/api/v1/acme_corp/users/{victim_id}/change-password"),
            json!({"current_password": "x", "new_password": "Hacked Password 1"}),
        ),
        (
            "POST",
            format!("/api/v1/acme_corp/users/{victim_id}/reset-password"),
            json!({"new_password": "Hacked Password 1"}),
        ),
        (
            "GET",
            format!("/api/v1/default/users/{victim_id}"),
            Value::Null,
        ),
        (
            "PUT",
            format!("/api/v1/default/users/{victim_id}"),
            json!({"role": "Member"}),
        ),
        (
            "POST",
            format!("/api/v1/default/users/{victim_id}/reset-password"),
            json!({"new_password": "Hacked Password 1"}),
        ),
        ("GET", "/api/v1/default/users".to_owned(), Value::Null),
        (
            "POST",
            "/api/v1/default/users".to_owned(),
            json!({"email": "plant@example.com", "password": PASSWORD, "role": "Owner"}),
        ),
    ];
    for (method, path, body) in attempts {
        let request = if body.is_null() {
            authed(method, &path, &attacker)
        } else {
            json_request(method, &path, &body, Some(&attacker))
        };
        let response = app.send(request).await;
        let expected = if path.contains("acme_corp") {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(
            response.status, expected,
            "{method} {path}: {}",
            response.body
        );
        assert!(!response.body.to_string().contains("victim@example.com"));
    }
    assert_eq!(
        app.login("victim@example.com", PASSWORD).await.status,
        StatusCode::OK,
        "password unchanged"
    );
    let victim = app.login("victim@example.com", PASSWORD).await;
    let role = app
        .send(authed(
            "GET",
            "/api/v1/default/auth/myrole",
            victim.body["token"].as_str().unwrap(),
        ))
        .await;
    assert_eq!(role.body, "Admin", "role unchanged");
}

#[tokio::test]
async fn bad_input_is_a_clear_error_and_changes_nothing() {
    let app = spawn_app().await;
    let org = default_org(&app).await;
    let (_, owner) = member(&app, &org, "owner@example.com", Role::Owner).await;
    let (member_id, _) = member(&app, &org, "member@example.com", Role::Member).await;
    let before = app.scan_all().await;
    let cases: Vec<(&str, String, Value, StatusCode)> = vec![
        (
            "POST",
            "/api/v1/default/users".into(),
            json!({"email": "a@example.com"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "POST",
            "/api/v1/default/users".into(),
            json!({"email": "a@example.com", "password": null}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "POST",
            "/api/v1/default/users".into(),
            json!({"email": "a@example.com", "password": PASSWORD, "role": "God"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "POST",
            "/api/v1/default/users".into(),
            json!({"email": "member@example.com", "password": PASSWORD}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "POST",
            "/api/v1/default/users".into(),
            json!({"email": "not-an-email", "password": PASSWORD}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "POST",
            "/api/v1/default/users".into(),
            json!({"email": "b@example.com", "password": PASSWORD, "projects": [{"project": {"name": "nope"}}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "PUT",
            format!("/api/v1/default/users/{member_id}"),
            json!({"id": member_id + 1, "role": "Admin"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "PUT",
            format!("/api/v1/default/users/{member_id}"),
            json!({"email": "changed@example.com"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "PUT",
            format!("/api/v1/default/users/{member_id}"),
            json!({"role": "owner"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "PUT",
            format!("/api/v1/default/users/{member_id}"),
            json!({"experimental_features": "maybe"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "PUT",
            "/api/v1/default/users/abc".into(),
            json!({}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "PUT",
            "/api/v1/default/users/0".into(),
            json!({}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "POST",
            format!("/api/v1/default/users/{member_id}/reset-password"),
            json!({}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "POST",
            format!("/api/v1/default/users/{member_id}/reset-password"),
            json!({"new_password": "x".repeat(129) + "A1"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "GET",
            "/api/v1/default/users?page=0".into(),
            Value::Null,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "GET",
            "/api/v1/default/users?sortBy[]=password&descending[]=true".into(),
            Value::Null,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "GET",
            "/api/v1/default/users/2147483647".into(),
            Value::Null,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (method, path, body, status) in cases {
        let request = if body.is_null() {
            authed(method, &path, &owner)
        } else {
            json_request(method, &path, &body, Some(&owner))
        };
        let response = app.send(request).await;
        assert_no_500(&response);
        assert_eq!(
            response.status, status,
            "{method} {path} {body}: {}",
            response.body
        );
        assert!(response.body["detail"][0]["msg"].is_string());
    }
    let malformed = http::Request::builder()
        .method("PUT")
        .uri(format!("/api/v1/default/users/{member_id}"))
        .header("authorization", format!("Bearer {owner}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{\"role\": "))
        .unwrap();
    assert_eq!(
        app.send(malformed).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.scan_all().await,
        before,
        "no bad request wrote anything"
    );
}

#[tokio::test]
async fn concurrent_updates_of_one_user_lose_nothing() {
    let app = spawn_app().await;
    let org = default_org(&app).await;
    let (_, owner) = member(&app, &org, "owner@example.com", Role::Owner).await;
    let (member_id, _) = member(&app, &org, "member@example.com", Role::Member).await;
    let router = app.local_app();
    let path = format!("/api/v1/default/users/{member_id}");
    let role = {
        let (router, path, owner) = (router.clone(), path.clone(), owner.clone());
        tokio::spawn(async move {
            crate::helpers::call(
                &router,
                json_request("PUT", &path, &json!({"role": "Admin"}), Some(&owner)),
            )
            .await
            .status
        })
    };
    let features = {
        let (router, path, owner) = (router.clone(), path.clone(), owner.clone());
        tokio::spawn(async move {
            crate::helpers::call(
                &router,
                json_request(
                    "PUT",
                    &path,
                    &json!({"experimental_features": true}),
                    Some(&owner),
                ),
            )
            .await
            .status
        })
    };
    assert_eq!(role.await.unwrap(), StatusCode::OK);
    assert_eq!(features.await.unwrap(), StatusCode::OK);
    let read = app.send(authed("GET", &path, &owner)).await;
    assert_eq!(
        (
            read.body["role"].clone(),
            read.body["experimental_features"].clone()
        ),
        (json!("Admin"), json!(true))
    );
}

#[tokio::test]
async fn switching_the_default_project_stays_within_the_organization() {
    let app = spawn_app().await;
    let org = default_org(&app).await;
    let (_, owner) = member(&app, &org, "owner@example.com", Role::Owner).await;
    let (member_id, _) = member(&app, &org, "member@example.com", Role::Member).await;
    let acme = create_organization(&app.store, "Acme Corp").await;
    let foreign = acme.default_project_id.unwrap();
    let path = format!("/api/v1/default/users/{member_id}");
    let response = app
        .send(json_request(
            "PUT",
            &path,
            &json!({"projects": [{"project": {"id": foreign}, "default": true}]}),
            Some(&owner),
        ))
        .await;
    assert_eq!(
        response.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "another organization's project"
    );
    let own = org.default_project_id.unwrap();
    let response = app
        .send(json_request(
            "PUT",
            &path,
            &json!({"projects": [{"project": {"id": own}, "default": false}]}),
            Some(&owner),
        ))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["projects"][0]["default"], false);
}

#[tokio::test]
async fn a_user_update_is_validated_whole_and_written_at_once() {
    let app = spawn_app().await;
    let org = default_org(&app).await;
    let acme = create_organization(&app.store, "Acme Corp").await;
    let (_, owner) = member(&app, &org, "owner@example.com", Role::Owner).await;
    // The target also belongs to Acme, which the caller does not own.
    let (target, _) = member(&app, &org, "target@example.com", Role::Member).await;
    let target_user = users::find_by_email(&app.store, "target@example.com")
        .await
        .unwrap()
        .unwrap();
    users::set_role(&app.store, &acme, &target_user, Role::Member)
        .await
        .unwrap();
    let path = format!("/api/v1/default/users/{target}");
    // A role the caller may set, with a feature flag they may not: nothing is applied.
    let refused = app
        .send(json_request(
            "PUT",
            &path,
            &json!({"role": "Admin", "experimental_features": true}),
            Some(&owner),
        ))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let read = app.send(authed("GET", &path, &owner)).await;
    assert_eq!(read.body["role"], "Member", "the role was not half-applied");
    assert_eq!(read.body["experimental_features"], false);
}

#[tokio::test]
async fn a_project_named_twice_keeps_each_flag_on_its_own_project() {
    let app = spawn_app().await;
    let org = default_org(&app).await;
    let (_, owner) = member(&app, &org, "owner@example.com", Role::Owner).await;
    let (member_id, _) = member(&app, &org, "member@example.com", Role::Member).await;
    let first = org.default_project_id.unwrap();
    let second = app.post_project(&owner, "default", "Second").await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/default/users/{member_id}");
    let put = |projects: serde_json::Value| {
        json_request("PUT", &path, &json!({ "projects": projects }), Some(&owner))
    };
    let both = app
        .send(put(json!([
            {"project": {"id": first}, "default": true},
            {"project": {"name": "Second"}, "default": true}
        ])))
        .await;
    assert_eq!(both.status, StatusCode::OK, "{}", both.body);
    // The first project twice (by id and by name), then the second as the default.
    let switched = app
        .send(put(json!([
            {"project": {"id": first}, "default": false},
            {"project": {"name": "default"}, "default": false},
            {"project": {"id": second}, "default": true}
        ])))
        .await;
    assert_eq!(switched.status, StatusCode::OK, "{}", switched.body);
    let flags: std::collections::BTreeMap<i64, bool> = switched.body["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["project"]["id"].as_i64().unwrap(),
                p["default"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        flags,
        [(i64::from(first), false), (second, true)]
            .into_iter()
            .collect()
    );
}

#[tokio::test]
async fn an_owner_demotes_another_owner_and_changes_their_features_in_one_request() {
    let app = spawn_app().await;
    let acme = create_organization(&app.store, "Acme Corp").await;
    let first = app
        .member_only_of(&acme, "first@example.com", PASSWORD, Role::Owner)
        .await;
    app.member_only_of(&acme, "second@example.com", PASSWORD, Role::Owner)
        .await;
    let second = users::find_by_email(&app.store, "second@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    let path = format!("/api/v1/{}/users/{second}", acme.slug);
    let both = app
        .send(json_request(
            "PUT",
            &path,
            &json!({"role": "Member", "experimental_features": true}),
            Some(&first),
        ))
        .await;
    assert_eq!(both.status, StatusCode::OK, "{}", both.body);
    assert_eq!(
        (
            both.body["role"].clone(),
            both.body["experimental_features"].clone()
        ),
        (json!("Member"), json!(true))
    );
}

#[tokio::test]
async fn a_body_with_too_many_project_entries_is_a_422_before_any_read() {
    let app = spawn_app().await;
    let org = default_org(&app).await;
    let (_, owner) = member(&app, &org, "owner@example.com", Role::Owner).await;
    let (member_id, _) = member(&app, &org, "member@example.com", Role::Member).await;
    let entries: Vec<Value> = (0..51)
        .map(|i| json!({"project": {"id": 1_000_000 + i}, "default": false}))
        .collect();
    let response = app
        .send(json_request(
            "PUT",
            &format!("/api/v1/default/users/{member_id}"),
            &json!({ "projects": entries }),
            Some(&owner),
        ))
        .await;
    assert_eq!(
        (response.status, response.body["detail"][0]["loc"].clone()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!(["body", "projects"])
        ),
        "{}",
        response.body
    );
}

//! The auth route group, called exactly as Dispatch's UI calls it (docs/contract.md §9).

use http::StatusCode;
use serde_json::json;

use crate::helpers::{authed, json_request, request, spawn_app, spawn_app_with};

const PASSWORD: &str = "correct horse battery";

#[tokio::test]
async fn register_login_me_myrole_and_settings_work_like_the_ui_expects() {
    let app = spawn_app().await;
    let token = app.register("Alice@Example.COM", PASSWORD).await;
    assert_eq!(token.split('.').count(), 3);

    let login = app.login("Alice@example.com", PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let token = login.body["token"].as_str().unwrap().to_owned();
    let projects = login.body["projects"].as_array().unwrap();
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0]["project"]["name"], "default");
    assert_eq!(projects[0]["default"], true);
    assert_eq!(projects[0]["role"], "Member");

    let me = app
        .send(authed("GET", "/api/v1/default/auth/me", &token))
        .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(
        me.body["email"], "Alice@example.com",
        "the domain is lower-cased, the local part kept"
    );
    assert_eq!(me.body["role"], serde_json::Value::Null);
    assert_eq!(
        me.body["projects"][0]["project"]["annual_employee_cost"],
        50000
    );
    assert_eq!(
        me.body["organizations"][0]["organization"]["slug"],
        "default"
    );
    assert_eq!(me.body["organizations"][0]["role"], "Member");
    assert_eq!(me.body["settings"]["auto_add_to_incident_bridges"], true);
    assert!(me.body.get("password_hash").is_none() && me.body.get("token_version").is_none());

    let role = app
        .send(authed("GET", "/api/v1/default/auth/myrole", &token))
        .await;
    assert_eq!(role.body, json!("Member"));

    let put = app
        .send(json_request(
            "PUT",
            "/api/v1/default/auth/me/settings",
            &json!({"auto_add_to_incident_bridges": false}),
            Some(&token),
        ))
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.body["auto_add_to_incident_bridges"], false);
    let unchanged = app
        .send(json_request(
            "PUT",
            "/api/v1/default/auth/me/settings",
            &json!({}),
            Some(&token),
        ))
        .await;
    assert_eq!(
        unchanged.body["auto_add_to_incident_bridges"], false,
        "{{}} changes nothing"
    );
    let get = app
        .send(authed("GET", "/api/v1/default/auth/me/settings", &token))
        .await;
    assert_eq!(get.body["auto_add_to_incident_bridges"], false);
    assert_eq!(get.body["dispatch_user_id"], me.body["id"]);
}

#[tokio::test]
async fn an_unknown_organization_is_dispatchs_404() {
    let app = spawn_app().await;
    let token = app.register("bob@example.com", PASSWORD).await;
    let message = "Organization not found. Please, contact your Dispatch admin.";
    let login = app
        .send(json_request(
            "POST",
            "/api/v1/nowhere/auth/login",
            &json!({"email":"bob@example.com","password":PASSWORD}),
            None,
        ))
        .await;
    assert_eq!(
        (login.status, login.body["detail"][0]["msg"].clone()),
        (StatusCode::NOT_FOUND, json!(message))
    );
    let register = app
        .send(json_request(
            "POST",
            "/api/v1/nowhere/auth/register",
            &json!({"email":"c@example.com","password":PASSWORD}),
            None,
        ))
        .await;
    assert_eq!(register.status, StatusCode::NOT_FOUND);
    let me = app
        .send(authed("GET", "/api/v1/nowhere/auth/me", &token))
        .await;
    assert_eq!(
        (me.status, me.body["detail"][0]["msg"].clone()),
        (StatusCode::NOT_FOUND, json!(message))
    );
}

#[tokio::test]
async fn registration_can_be_switched_off() {
    let app = spawn_app_with(|config| config.registration_enabled = false).await;
    let before = app.scan_all().await;
    let response = app
        .send(json_request(
            "POST",
            "/api/v1/default/auth/register",
            &json!({"email":"a@example.com","password":PASSWORD}),
            None,
        ))
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(app.scan_all().await, before);
}

#[tokio::test]
async fn bad_registrations_are_clear_422s_and_change_nothing() {
    let app = spawn_app().await;
    app.register("taken@example.com", PASSWORD).await;
    let before = app.scan_all().await;
    let cases = [
        (
            json!({"email": "new@example.com"}),
            "missing",
            "Field required",
        ),
        (
            json!({"email": "new@example.com", "password": ""}),
            "value_error",
            "at least 8 characters",
        ),
        (
            json!({"email": "new@example.com", "password": "short"}),
            "value_error",
            "at least 8 characters",
        ),
        (
            json!({"email": "new@example.com", "password": "x".repeat(129)}),
            "value_error",
            "at most 128 characters",
        ),
        (
            json!({"email": "not-an-email", "password": PASSWORD}),
            "value_error",
            "must have an @-sign",
        ),
        (json!({"password": PASSWORD}), "missing", "Field required"),
        (
            json!({"email": "taken@example.com", "password": PASSWORD}),
            "value_error",
            "A user with this email already exists.",
        ),
        (
            json!({"email": " taken@EXAMPLE.com ", "password": PASSWORD}),
            "value_error",
            "A user with this email already exists.",
        ),
    ];
    for (body, kind, message) in cases {
        let response = app
            .send(json_request(
                "POST",
                "/api/v1/default/auth/register",
                &body,
                None,
            ))
            .await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            response.body
        );
        assert_eq!(
            response.body["detail"][0]["type"], kind,
            "{body}: {}",
            response.body
        );
        assert!(
            response.body["detail"][0]["msg"]
                .as_str()
                .unwrap()
                .contains(message),
            "{body}: {}",
            response.body
        );
    }
    let malformed = http::Request::builder()
        .method("POST")
        .uri("/api/v1/default/auth/register")
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{\"email\": \"x@example.com\", "))
        .unwrap();
    let response = app.send(malformed).await;
    assert_eq!(
        (response.status, response.body["detail"][0]["type"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("json_invalid"))
    );
    let form = http::Request::builder()
        .method("POST")
        .uri("/api/v1/default/auth/register")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(
            "email=x@example.com&password=correcthorse",
        ))
        .unwrap();
    assert_eq!(
        app.send(form).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.scan_all().await,
        before,
        "no bad registration wrote anything"
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_email_are_indistinguishable_and_cost_one_verification() {
    let app = spawn_app().await;
    app.register("carol@example.com", PASSWORD).await;
    let passwords = app.state.passwords();

    let before = passwords.verifications();
    let wrong = app.login("carol@example.com", "wrong password!").await;
    assert_eq!(passwords.verifications() - before, 1);

    let before = passwords.verifications();
    let unknown = app.login("nobody@example.com", "wrong password!").await;
    assert_eq!(
        passwords.verifications() - before,
        1,
        "an unknown email runs exactly one verification"
    );

    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!((wrong.status, &wrong.body), (unknown.status, &unknown.body));
    assert_eq!(
        wrong.body,
        json!({"detail":[
            {"msg":"Invalid username.","loc":["username"],"type":"value_error"},
            {"msg":"Invalid password.","loc":["password"],"type":"value_error"}
        ]})
    );
    // Whitespace is stripped on every endpoint that takes a password (Q-U10).
    assert_eq!(
        app.login("carol@example.com", &format!("  {PASSWORD} "))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn forged_expired_and_revoked_tokens_are_401_with_the_generic_body() {
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let app = spawn_app().await;
    let token = app.register("dave@example.com", PASSWORD).await;
    let claims: serde_json::Value = {
        let payload = token.split('.').nth(1).unwrap();
        serde_json::from_slice(&base64_url_decode(payload)).unwrap()
    };
    let key = app.state.secrets().jwt.current().expose().to_vec();
    let sign = |claims: &serde_json::Value, alg: Algorithm, key: &[u8]| {
        encode(
            &Header::new(alg),
            claims,
            &EncodingKey::from_secret(key).unwrap(),
        )
        .unwrap()
    };
    let now = claims["iat"].as_i64().unwrap();
    let mut expired = claims.clone();
    expired["exp"] = json!(now - 60);
    let mut no_exp = claims.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    let mut other_user = claims.clone();
    other_user["email"] = json!("someone-else@example.com");
    let alg_none = format!(
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
        token.split('.').nth(1).unwrap()
    );

    let forged = [
        sign(&expired, Algorithm::HS256, &key),
        sign(&no_exp, Algorithm::HS256, &key),
        sign(&claims, Algorithm::HS512, &key),
        sign(
            &claims,
            Algorithm::HS256,
            b"another key that is long enough!!",
        ),
        sign(&other_user, Algorithm::HS256, &key),
        alg_none,
        "garbage".to_owned(),
    ];
    for token in &forged {
        let response = app
            .send(authed("GET", "/api/v1/default/auth/me", token))
            .await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{token}");
        assert_eq!(
            response.body,
            json!({"detail":[{"msg":"Could not validate credentials","loc":["header","Authorization"],"type":"unauthorized"}]})
        );
    }
    let no_header = app.send(request("GET", "/api/v1/default/auth/me")).await;
    assert_eq!(no_header.status, StatusCode::UNAUTHORIZED);

    // A password change bumps the token version: the older token stops working.
    let user: dispatch_domain::model::User =
        dispatch_domain::users::find_by_email(&app.store, "dave@example.com")
            .await
            .unwrap()
            .unwrap();
    let hash = app
        .state
        .passwords()
        .hash(&dispatch_domain::auth::Password::parse("a new passphrase").unwrap())
        .await
        .unwrap();
    dispatch_domain::users::set_password(
        &app.store,
        user.id,
        &hash,
        &dispatch_domain::account_authority::Authority::Operator,
    )
    .await
    .unwrap();
    let response = app
        .send(authed("GET", "/api/v1/default/auth/me", &token))
        .await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
}

fn base64_url_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for byte in text.bytes() {
        let value = ALPHABET.iter().position(|b| *b == byte).unwrap() as u32;
        bits = (bits << 6) | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    out
}

#[tokio::test]
async fn concurrent_registrations_of_one_email_make_exactly_one_account() {
    let app = spawn_app().await;
    let router = app.local_app();
    let attempts = (0..8).map(|_| {
        let router = router.clone();
        tokio::spawn(async move {
            let body = json!({"email": "race@example.com", "password": PASSWORD});
            crate::helpers::call(
                &router,
                json_request("POST", "/api/v1/default/auth/register", &body, None),
            )
            .await
            .status
        })
    });
    let mut statuses = Vec::new();
    for attempt in attempts.collect::<Vec<_>>() {
        statuses.push(attempt.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::UNPROCESSABLE_ENTITY),
        "{statuses:?}"
    );
    let users = app
        .scan_all()
        .await
        .into_iter()
        .filter(|i| i["entity"].as_s().unwrap() == "User")
        .count();
    assert_eq!(users, 1);
}

pub fn login_event(ip: &str, email: &str, password: &str) -> String {
    let template = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../events/auth-login.json"
    ))
    .unwrap();
    let mut event: serde_json::Value = serde_json::from_str(&template).unwrap();
    event["requestContext"]["http"]["sourceIp"] = json!(ip);
    event["headers"]["x-forwarded-for"] = json!("198.51.100.1");
    event["body"] = json!(json!({"email": email, "password": password}).to_string());
    event["headers"]["content-length"] = json!(event["body"].as_str().unwrap().len().to_string());
    event.to_string()
}

#[tokio::test]
async fn a_non_member_gets_403_outside_the_auth_endpoints() {
    let app = spawn_app().await;
    let acme = crate::helpers::create_organization(&app.store, "Acme Corp").await;
    let token = app.register("hank@example.com", PASSWORD).await;
    let slug = &acme.slug;
    for path in [
        format!("/api/v1/{slug}/users"),
        format!("/api/v1/{slug}/projects"),
        format!("/api/v1/{slug}/plugins"),
    ] {
        let response = app.send(authed("GET", &path, &token)).await;
        assert_eq!(
            response.status,
            StatusCode::FORBIDDEN,
            "{path}: {}",
            response.body
        );
        assert_eq!(
            response.body["detail"][0]["msg"],
            "Your user doesn't have permissions to create, update, or delete this resource. Please, contact your Dispatch admin."
        );
    }
    let me = app
        .send(authed("GET", &format!("/api/v1/{slug}/auth/me"), &token))
        .await;
    assert_eq!(me.status, StatusCode::OK);
    let role = app
        .send(authed(
            "GET",
            &format!("/api/v1/{slug}/auth/myrole"),
            &token,
        ))
        .await;
    assert_eq!(role.body, serde_json::Value::Null);
}

#[tokio::test]
async fn a_valid_identity_for_an_unknown_email_is_provisioned_as_member_of_the_auto_join_organizations()
 {
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let app = spawn_app().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims = json!({"sub": "999999", "iss": "dispatch-serverless", "aud": "dispatch",
        "email": "sso-user@example.com", "exp": now + 600, "iat": now, "tv": 0});
    let key = app.state.secrets().jwt.current().expose().to_vec();
    let token = encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&key).unwrap(),
    )
    .unwrap();
    let role = app
        .send(authed("GET", "/api/v1/default/auth/myrole", &token))
        .await;
    assert_eq!(
        (role.status, role.body.clone()),
        (StatusCode::OK, json!("Member"))
    );
    let again = app
        .send(authed("GET", "/api/v1/default/auth/me", &token))
        .await;
    assert_eq!(again.body["email"], "sso-user@example.com");
    let users = app
        .scan_all()
        .await
        .into_iter()
        .filter(|i| i["entity"].as_s().unwrap() == "User")
        .count();
    assert_eq!(users, 1, "provisioned once");
}

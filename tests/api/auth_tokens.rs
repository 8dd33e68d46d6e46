//! What a valid signature is not enough for: a token must name this installation as its issuer
//! and audience, and a token whose user is gone never authenticates as a later owner of its
//! email (auto-provisioning checks the token's `sub`).

use dispatch_domain::users;
use dispatch_store::keys;
use http::StatusCode;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, authed, spawn_app, spawn_app_with};

const PASSWORD: &str = "correct horse battery";

/// Claims for `user_id` and `email`, valid ten minutes, with the default issuer and audience.
fn claims(user_id: i32, email: &str) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    json!({"sub": user_id.to_string(), "iss": "dispatch-serverless", "aud": "dispatch",
           "email": email, "exp": now + 600, "iat": now, "tv": 0})
}

/// Signs `claims` with the installation's current JWT key.
fn sign(app: &TestApp, claims: &Value) -> String {
    let key = app.state.secrets().jwt.current().expose().to_vec();
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(&key).unwrap(),
    )
    .unwrap()
}

async fn me(app: &TestApp, token: &str) -> (StatusCode, Value) {
    let response = app
        .send(authed("GET", "/api/v1/default/auth/me", token))
        .await;
    (response.status, response.body)
}

fn unauthorized() -> (StatusCode, Value) {
    (
        StatusCode::UNAUTHORIZED,
        json!({"detail":[{"msg":"Could not validate credentials","loc":["header","Authorization"],"type":"unauthorized"}]}),
    )
}

#[tokio::test]
async fn tokens_without_this_issuer_and_audience_are_401() {
    let app = spawn_app().await;
    app.register("erin@example.com", PASSWORD).await;
    let user = users::find_by_email(&app.store, "erin@example.com")
        .await
        .unwrap()
        .unwrap();
    let good = claims(user.id, &user.email);
    assert_eq!(me(&app, &sign(&app, &good)).await.0, StatusCode::OK);
    for (claim, value) in [
        ("iss", Value::Null),
        ("aud", Value::Null),
        ("iss", json!("dispatch-staging")),
        ("aud", json!("another-service")),
    ] {
        let mut forged = good.clone();
        match value {
            Value::Null => forged.as_object_mut().unwrap().remove(claim),
            _ => forged.as_object_mut().unwrap().insert(claim.into(), value),
        };
        assert_eq!(
            me(&app, &sign(&app, &forged)).await,
            unauthorized(),
            "{forged}"
        );
    }

    // Both are settings: an installation with another audience signs tokens this one refuses
    // (rather than auto-provisioning their user), though both share the signing key.
    let staging = spawn_app_with(|config| config.jwt_audience = "dispatch-staging".into()).await;
    let staging_token = staging.register("erin.staging@example.com", PASSWORD).await;
    assert_eq!(me(&staging, &staging_token).await.0, StatusCode::OK);
    assert_eq!(me(&app, &staging_token).await, unauthorized());
}

#[tokio::test]
async fn a_token_of_a_deleted_user_does_not_authenticate_the_next_owner_of_its_email() {
    let app = spawn_app().await;
    let old_token = app.register("x@example.com", PASSWORD).await;
    let old = users::find_by_email(&app.store, "x@example.com")
        .await
        .unwrap()
        .unwrap();
    // The account is deleted (its user, email guard and membership)…
    app.store
        .delete_batch(&[
            keys::user(old.id),
            keys::email_guard(&old.email),
            keys::membership("default", old.id),
        ])
        .await
        .unwrap();
    // …and someone else later registers the same email, under another id.
    let new_token = app.register("x@example.com", PASSWORD).await;
    let new = users::find_by_email(&app.store, "x@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_ne!(new.id, old.id);
    assert_eq!(me(&app, &new_token).await.0, StatusCode::OK);

    // The old token is still well signed and unexpired, and names the same email.
    assert_eq!(me(&app, &old_token).await, unauthorized());
    let forged_for_old_id = sign(&app, &claims(old.id, "x@example.com"));
    assert_eq!(me(&app, &forged_for_old_id).await, unauthorized());
}

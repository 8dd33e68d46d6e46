//! The route through the dev server's app: Dispatch's checks in order, each refusal a 400 with
//! its message as a bare string; tenancy; concurrent approvals; an API Gateway event.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use dispatch_domain::mfa::{self, Status};
use dispatch_store::{Expression, keys};
use http::StatusCode;
use serde_json::json;

use super::{PASSWORD, assert_approved, assert_refused, payload, setup, user};
use crate::helpers::call_event;
use crate::lambda_events::fixture;

#[tokio::test]
async fn the_caller_approves_their_challenge_once_and_again_idempotently() {
    let t = setup().await;
    t.enable_mfa_plugin(&t.admin, "default", "default").await;
    let challenge = t.challenge().await;
    assert_eq!(t.stored(&challenge.challenge_id).await, Status::Pending);

    assert_approved(&t.approve(&challenge).await);
    assert_eq!(t.stored(&challenge.challenge_id).await, Status::Approved);
    // Already approved: answered as it is.
    assert_approved(&t.approve(&challenge).await);

    // The item: its key, its times, and a TTL a day after its expiry.
    let raw = t
        .app
        .store
        .get_attributes(&keys::mfa_challenge(&challenge.challenge_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(raw["entity"], AttributeValue::S("MfaChallenge".into()));
    assert_eq!(
        challenge.expires_at - challenge.created_at,
        mfa::DEFAULT_LIFETIME.as_secs() as i64
    );
    assert_eq!(
        raw[keys::attr::TTL],
        AttributeValue::N((challenge.expires_at + 86_400).to_string())
    );
    // Any spelling of the UUID names it (Postgres casts the same way).
    let mut shouted = payload(&challenge);
    shouted["challenge_id"] = json!(challenge.challenge_id.to_uppercase().replace('-', ""));
    assert_approved(&t.post(&t.token, "default", &shouted).await);
}

#[tokio::test]
async fn every_refusal_is_dispatch_s_message_in_dispatch_s_order() {
    let t = setup().await;
    let challenge = t.challenge().await;
    let with = |field: &str, value: serde_json::Value| {
        let mut body = payload(&challenge);
        body[field] = value;
        body
    };

    // No enabled MFA plugin: Dispatch means a 400 (its catch-all makes it a 500).
    assert_refused(&t.approve(&challenge).await, mfa::NOT_ENABLED);
    t.enable_mfa_plugin(&t.admin, "default", "default").await;
    for project in [json!(999_999), json!(0), json!(-1), json!(1_i64 << 40)] {
        let response = t
            .post(&t.token, "default", &with("project_id", project))
            .await;
        assert_refused(&response, mfa::NOT_ENABLED);
    }
    // The plugin check comes first: a bad challenge id in a project without it says so.
    let unknown = with("challenge_id", json!(uuid::Uuid::new_v4().to_string()));
    assert_refused(
        &t.post(&t.token, "default", &unknown).await,
        mfa::INVALID_CHALLENGE,
    );
    for malformed in ["not-a-uuid", "", "' OR 1=1 --"] {
        let response = t
            .post(&t.token, "default", &with("challenge_id", json!(malformed)))
            .await;
        assert_refused(&response, mfa::INVALID_CHALLENGE);
    }

    // Someone else's challenge, with the wrong action too: ownership is checked first.
    let other = t.app.register("other@example.com", super::PASSWORD).await;
    let wrong_action = with("action", json!("something else"));
    assert_refused(
        &t.post(&other, "default", &wrong_action).await,
        "Challenge does not belong to the current user: other@example.com",
    );
    assert_refused(
        &t.post(&t.token, "default", &wrong_action).await,
        mfa::ACTION_MISMATCH,
    );

    // Past its expiry (decided from the stored time, whatever TTL did).
    let expired = t.challenge_for(&t.me, Duration::ZERO).await;
    assert_refused(&t.approve(&expired).await, mfa::NO_LONGER_VALID);
    assert_eq!(t.stored(&expired.challenge_id).await, Status::Pending);

    // Valid but no longer pending.
    for status in ["denied", "expired"] {
        let settled = t.challenge().await;
        t.app
            .store
            .update(
                &keys::mfa_challenge(&settled.challenge_id),
                Expression::new("SET #s = :s")
                    .name("#s", "status")
                    .value(":s", AttributeValue::S(status.into())),
            )
            .await
            .unwrap();
        assert_refused(
            &t.approve(&settled).await,
            &format!("Challenge is in invalid state: {status}"),
        );
    }

    // Malformed bodies are the usual 422 list.
    let long = t
        .post(&t.token, "default", &with("action", json!("a".repeat(256))))
        .await;
    assert_eq!(long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(long.body["detail"][0]["loc"], json!(["body", "action"]));
    assert_eq!(long.body["detail"][0]["type"], "string_too_long");
    let missing = t
        .post(&t.token, "default", &json!({"action": super::ACTION}))
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing.body["detail"][0]["type"], "missing");

    // None of it approved anything.
    assert_eq!(t.stored(&challenge.challenge_id).await, Status::Pending);
    let anonymous = t
        .app
        .send(crate::helpers::json_request(
            "POST",
            "/api/v1/default/auth/mfa",
            &payload(&challenge),
            None,
        ))
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_challenge_and_a_project_count_only_in_their_own_organization() {
    let t = setup().await;
    t.enable_mfa_plugin(&t.admin, "default", "default").await;
    let owner = t.app.register("owner@example.com", super::PASSWORD).await;
    let acme = t.app.post_organization(&owner, "Acme Corp").await;
    t.enable_mfa_plugin(&owner, "acme_corp", "default").await;
    let acme = super::organization(&t.app, acme["slug"].as_str().unwrap()).await;
    let acme_project = acme.default_project_id.unwrap();

    // Acme's project, named under /default: not looked at, whatever its plugins.
    let mine = t.challenge().await;
    let mut body = payload(&mine);
    body["project_id"] = json!(acme_project);
    assert_refused(&t.post(&t.token, "default", &body).await, mfa::NOT_ENABLED);

    // A challenge of Acme's, named under /default: no such challenge there.
    let owner_user = user(&t.app, "owner@example.com").await;
    let acme_challenge = mfa::create_challenge(
        &t.app.store,
        &acme,
        acme_project,
        &owner_user,
        &dispatch_domain::model::ShortText::parse(super::ACTION).unwrap(),
        mfa::DEFAULT_LIFETIME,
    )
    .await
    .unwrap();
    let mut body = payload(&acme_challenge);
    body["project_id"] = json!(t.project_id);
    assert_refused(
        &t.post(&owner, "default", &body).await,
        mfa::INVALID_CHALLENGE,
    );
    assert_eq!(
        t.stored(&acme_challenge.challenge_id).await,
        Status::Pending
    );

    // Under its own organization it is approved; `me` (no role in Acme) cannot take it, and
    // needs no role there for their own: the route asks for an identity only.
    assert_refused(
        &t.post(&t.token, "acme_corp", &payload(&acme_challenge))
            .await,
        "Challenge does not belong to the current user: me@example.com",
    );
    assert_approved(&t.post(&owner, "acme_corp", &payload(&acme_challenge)).await);
    let mine_in_acme = mfa::create_challenge(
        &t.app.store,
        &acme,
        acme_project,
        &t.me,
        &dispatch_domain::model::ShortText::parse(super::ACTION).unwrap(),
        mfa::DEFAULT_LIFETIME,
    )
    .await
    .unwrap();
    assert_approved(&t.post(&t.token, "acme_corp", &payload(&mine_in_acme)).await);
}

#[tokio::test]
async fn two_approvals_at_once_both_answer_approved() {
    let t = setup().await;
    t.enable_mfa_plugin(&t.admin, "default", "default").await;
    for _ in 0..3 {
        let challenge = t.challenge().await;
        let (first, second) = tokio::join!(t.approve(&challenge), t.approve(&challenge));
        assert_approved(&first);
        assert_approved(&second);
        assert_eq!(t.stored(&challenge.challenge_id).await, Status::Approved);
    }
}

#[tokio::test]
async fn an_api_gateway_event_approves_a_challenge() {
    let t = setup().await;
    let router = dispatch_auth::router(t.app.state.clone()).unwrap();
    let challenge = t.challenge().await;
    let mut event: serde_json::Value = serde_json::from_str(&fixture("auth-mfa")).unwrap();
    event["headers"]["authorization"] = json!(format!("Bearer {}", t.token));
    let body = payload(&challenge).to_string();
    event["headers"]["content-length"] = json!(body.len().to_string());
    event["body"] = json!(body);

    let refused = call_event(&router, &event.to_string()).await;
    assert_refused(&refused, mfa::NOT_ENABLED);
    t.enable_mfa_plugin(&t.admin, "default", "default").await;
    assert_approved(&call_event(&router, &event.to_string()).await);
    assert_eq!(t.stored(&challenge.challenge_id).await, Status::Approved);
}

/// A challenge is approved only through its own project: another project of the organization
/// with MFA enabled does not approve it.
#[tokio::test]
async fn a_challenge_is_approved_only_through_its_own_project() {
    let t = setup().await;
    let owner = t
        .app
        .registered_with_role(
            "owner@example.com",
            PASSWORD,
            dispatch_domain::model::Role::Owner,
        )
        .await;
    let other = t.app.post_project(&owner, "default", "Payments").await;
    t.enable_mfa_plugin(&t.admin, "default", "default").await;
    t.enable_mfa_plugin(&t.admin, "default", "Payments").await;
    let challenge = t.challenge().await;
    let mut elsewhere = payload(&challenge);
    elsewhere["project_id"] = other["id"].clone();

    assert_refused(
        &t.post(&t.token, "default", &elsewhere).await,
        "Invalid challenge ID",
    );
    assert_eq!(t.stored(&challenge.challenge_id).await, Status::Pending);
    assert_approved(&t.approve(&challenge).await);
}

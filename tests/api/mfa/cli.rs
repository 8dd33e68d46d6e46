//! `dispatch mfa challenge create | wait`: the link the UI opens approves the challenge; the
//! wait reports the answer.

use std::time::Duration;

use dispatch_cli::mfa::{ChallengeCommand, MfaCommand, execute};
use dispatch_domain::config::ConfigError;
use dispatch_domain::mfa::{self, Status};
use serde_json::json;

use super::{assert_approved, setup};

const UI: &str = "https://dispatch.example.com";
const POLL: Duration = Duration::from_millis(100);

fn create(email: &str, organization: &str, project_id: i32, action: &str) -> MfaCommand {
    MfaCommand::Challenge(ChallengeCommand::Create {
        email: email.into(),
        organization: organization.into(),
        project_id,
        action: action.into(),
        lifetime_seconds: 120,
        output: dispatch_cli::data::OutputFormat::Table,
    })
}

fn wait(challenge_id: &str, timeout_seconds: u64) -> MfaCommand {
    MfaCommand::Challenge(ChallengeCommand::Wait {
        challenge_id: challenge_id.into(),
        timeout_seconds,
    })
}

#[tokio::test]
async fn a_created_challenge_is_approved_through_its_link_and_the_wait_reports_it() {
    let t = setup().await;
    t.enable_mfa_plugin(&t.admin, "default", "default").await;
    let store = &t.app.store;
    let action = "rotate keys & restart";
    let lines = execute(
        store,
        create("me@example.com", "default", t.project_id, action),
        UI,
        POLL,
    )
    .await
    .unwrap();
    let id = lines[0].strip_prefix("Challenge: ").unwrap().to_owned();
    assert_eq!(mfa::parse_id(&id).as_deref(), Some(id.as_str()));
    let link = lines[1].strip_prefix("Link: ").unwrap();
    let prefix = format!("{UI}/default/mfa?");
    assert!(link.starts_with(&prefix), "{link}");
    assert!(lines[2].contains("me@example.com"), "{lines:?}");
    let stored = mfa::load(store, &id).await.unwrap().unwrap();
    assert_eq!(stored.expires_at - stored.created_at, 120);
    assert_eq!(stored.action, action);

    // What the UI does with the link's query: the body of its POST.
    let query: std::collections::HashMap<String, String> =
        form_urlencoded::parse(&link.as_bytes()[prefix.len()..])
            .into_owned()
            .collect();
    assert_eq!(query["action"], action, "the action survives the link");
    let body = json!({
        "challenge_id": query["challenge_id"],
        "project_id": query["project_id"].parse::<i64>().unwrap(),
        "action": query["action"],
    });
    assert_approved(&t.post(&t.token, "default", &body).await);

    let waited = execute(store, wait(&id, 5), UI, POLL).await.unwrap();
    assert_eq!(waited, [format!("Challenge {id}: approved.")]);

    // For scripts: one JSON object with the same facts.
    let MfaCommand::Challenge(ChallengeCommand::Create {
        email,
        organization,
        project_id,
        action,
        lifetime_seconds,
        ..
    }) = create("me@example.com", "default", t.project_id, "deploy")
    else {
        unreachable!()
    };
    let json = MfaCommand::Challenge(ChallengeCommand::Create {
        email,
        organization,
        project_id,
        action,
        lifetime_seconds,
        output: dispatch_cli::data::OutputFormat::Json,
    });
    let lines = execute(store, json, UI, POLL).await.unwrap();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let report: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    let id = report["challenge_id"].as_str().unwrap();
    assert_eq!(mfa::parse_id(id).as_deref(), Some(id));
    assert!(
        report["link"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{UI}/default/mfa?"))
    );
    assert_eq!(report["email"], "me@example.com");
    assert!(
        report["expires_at"].as_str().unwrap().ends_with("+00:00"),
        "{report}"
    );
    assert_eq!(
        mfa::load(store, id).await.unwrap().unwrap().action,
        "deploy"
    );
}

#[tokio::test]
async fn the_wait_fails_when_nobody_answers_and_creation_refuses_what_it_cannot_find() {
    let t = setup().await;
    let store = &t.app.store;
    let lines = execute(
        store,
        create("me@example.com", "default", t.project_id, "deploy"),
        UI,
        POLL,
    )
    .await
    .unwrap();
    let id = lines[0].strip_prefix("Challenge: ").unwrap();
    let error = execute(store, wait(id, 0), UI, POLL).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("Challenge {id} expired: nobody approved it in time.")
    );
    assert_eq!(t.stored(id).await, Status::Expired);

    let owner = t.app.register("owner@example.com", super::PASSWORD).await;
    let acme = t.app.post_organization(&owner, "Acme Corp").await;
    let acme = super::organization(&t.app, acme["slug"].as_str().unwrap()).await;
    let refusals = [
        (
            create("nobody@example.com", "default", t.project_id, "deploy"),
            "No user found. Email: nobody@example.com",
        ),
        (
            create("me@example.com", "nowhere", t.project_id, "deploy"),
            "No organization found. Slug: nowhere",
        ),
        (
            // Acme's project does not belong to `default`.
            create(
                "me@example.com",
                "default",
                acme.default_project_id.unwrap(),
                "deploy",
            ),
            "A project with this id does not exist.",
        ),
        (
            create("me@example.com", "default", t.project_id, "  "),
            "String should have at least 1 character",
        ),
        (
            create("me@example.com", "default", t.project_id, &"a".repeat(256)),
            "action: String should have at most 255 characters",
        ),
        (wait("nope", 1), "Challenge not found."),
    ];
    for (command, message) in refusals {
        let error = execute(store, command, UI, POLL).await.unwrap_err();
        assert_eq!(error.to_string(), message);
    }
}

#[test]
fn the_ui_address_comes_from_dispatch_ui_url() {
    assert_eq!(mfa::ui_url(None).unwrap(), "http://localhost:8080");
    assert_eq!(mfa::ui_url(Some(" ")).unwrap(), "http://localhost:8080");
    assert_eq!(
        mfa::ui_url(Some("https://dispatch.example.com/")).unwrap(),
        "https://dispatch.example.com"
    );
    for bad in ["dispatch.example.com", "ftp://x", "https://a b"] {
        assert!(
            matches!(
                mfa::ui_url(Some(bad)),
                Err(ConfigError::Malformed {
                    name: "DISPATCH_UI_URL",
                    ..
                })
            ),
            "{bad}"
        );
    }
}

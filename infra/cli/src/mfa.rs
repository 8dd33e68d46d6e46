//! `dispatch mfa challenge …`: create an MFA challenge for a user and print the UI link that
//! approves it; wait for its answer (the built-in `dispatch-auth-mfa` plugin's flow, D-MFA1).
//!
//! The link is built from `DISPATCH_UI_URL` (default `http://localhost:8080`, Dispatch's).

use std::time::Duration;

use anyhow::bail;
use clap::Subcommand;
use dispatch_domain::DomainError;
use dispatch_domain::mfa::{self, Status};
use dispatch_domain::model::{EmailAddress, ShortText};
use dispatch_domain::users;
use dispatch_store::Store;

/// `dispatch mfa` subcommands.
#[derive(Debug, Subcommand)]
pub enum MfaCommand {
    /// MFA challenges of the built-in plugin.
    #[command(subcommand)]
    Challenge(ChallengeCommand),
}

/// `dispatch mfa challenge` subcommands.
#[derive(Debug, Subcommand)]
pub enum ChallengeCommand {
    /// Ask the user EMAIL to confirm ACTION in project PROJECT_ID of organization ORG (a
    /// slug); prints the challenge id and the UI link that approves it. Approving needs the
    /// project's dispatch-auth-mfa plugin instance enabled.
    Create {
        email: String,
        #[arg(short = 'o', long = "organization")]
        organization: String,
        #[arg(short = 'p', long = "project-id")]
        project_id: i32,
        #[arg(short = 'a', long = "action")]
        action: String,
        /// How long the challenge can be approved.
        #[arg(long, default_value_t = mfa::DEFAULT_LIFETIME.as_secs(),
              value_parser = clap::value_parser!(u64).range(1..=mfa::MAX_LIFETIME.as_secs()))]
        lifetime_seconds: u64,
        /// `json`: one object (`challenge_id`, `link`, `email`, `expires_at`) for scripts.
        #[arg(long, value_enum, default_value_t)]
        output: crate::data::OutputFormat,
    },
    /// Wait for challenge ID to be approved (polling every second); marks it expired when
    /// nobody approves it in time. Fails unless it is approved.
    Wait {
        challenge_id: String,
        /// How long to wait for an answer.
        #[arg(long, default_value_t = mfa::DEFAULT_TIMEOUT.as_secs())]
        timeout_seconds: u64,
    },
}

/// Runs an `mfa` subcommand against the target table.
pub async fn run(command: MfaCommand, target: &crate::target::Target) -> anyhow::Result<()> {
    let ui_url = mfa::ui_url(std::env::var(mfa::UI_URL_VARIABLE).ok().as_deref())?;
    let store = target.checked_store().await?;
    for line in execute(&store, command, &ui_url, mfa::DEFAULT_POLL).await? {
        println!("{line}");
    }
    Ok(())
}

/// Runs an `mfa` subcommand on `store`, linking to the UI at `ui_url` and polling every
/// `poll`; returns what it prints.
pub async fn execute(
    store: &Store,
    command: MfaCommand,
    ui_url: &str,
    poll: Duration,
) -> anyhow::Result<Vec<String>> {
    let MfaCommand::Challenge(command) = command;
    match command {
        ChallengeCommand::Create {
            email,
            organization,
            project_id,
            action,
            lifetime_seconds,
            output,
        } => {
            let email = EmailAddress::parse(&email).map_err(|e| anyhow::anyhow!(e.msg))?;
            let action =
                ShortText::parse(&action).map_err(|e| anyhow::anyhow!("action: {}", e.msg))?;
            let user = users::find_by_email(store, email.as_str())
                .await
                .map_err(api)?
                .ok_or_else(|| anyhow::anyhow!("No user found. Email: {email}"))?;
            let org = users::organization(store, &organization)
                .await
                .map_err(api)?
                .ok_or_else(|| anyhow::anyhow!("No organization found. Slug: {organization}"))?;
            let lifetime = Duration::from_secs(lifetime_seconds);
            let challenge =
                mfa::create_challenge(store, &org, project_id, &user, &action, lifetime)
                    .await
                    .map_err(api)?;
            let expires = chrono::DateTime::from_timestamp(challenge.expires_at, 0)
                .map(|at| at.to_rfc3339())
                .unwrap_or_default();
            if output == crate::data::OutputFormat::Json {
                let report = serde_json::json!({
                    "challenge_id": challenge.challenge_id,
                    "link": mfa::challenge_link(ui_url, &challenge),
                    "email": challenge.email,
                    "expires_at": expires,
                });
                return Ok(vec![report.to_string()]);
            }
            Ok(vec![
                format!("Challenge: {}", challenge.challenge_id),
                format!("Link: {}", mfa::challenge_link(ui_url, &challenge)),
                format!(
                    "Pending until {} approves it, at the latest {expires}.",
                    challenge.email
                ),
            ])
        }
        ChallengeCommand::Wait {
            challenge_id,
            timeout_seconds,
        } => {
            let timeout = Duration::from_secs(timeout_seconds);
            let status = mfa::wait_for_challenge(store, &challenge_id, timeout, poll)
                .await
                .map_err(api)?;
            match status {
                Status::Approved => Ok(vec![format!("Challenge {challenge_id}: approved.")]),
                Status::Denied => bail!("Challenge {challenge_id} was denied."),
                Status::Expired | Status::Pending => {
                    bail!("Challenge {challenge_id} expired: nobody approved it in time.")
                }
            }
        }
    }
}

fn api(error: DomainError) -> anyhow::Error {
    match error {
        DomainError::Internal(e) => e,
        other => anyhow::anyhow!(other.message()),
    }
}

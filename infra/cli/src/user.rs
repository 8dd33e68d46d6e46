//! `dispatch user …`: create users, make someone an Owner, reset a password.
//!
//! Passwords come from `--password-stdin` (so they appear in no process list or shell history),
//! `--password`, or a hidden prompt asked twice; they follow the same policy as the API. Errors
//! are one line and a non-zero exit code.

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use dispatch_domain::DomainError;
use dispatch_domain::account_authority::Authority;
use dispatch_domain::auth::{Password, Passwords};
use dispatch_domain::model::{EmailAddress, Organization, Role};
use dispatch_domain::users;
use dispatch_store::Store;

/// The four organization roles, as the CLI accepts them.
#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "PascalCase")]
pub enum RoleArg {
    Owner,
    Manager,
    Admin,
    Member,
}

impl From<RoleArg> for Role {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Owner => Role::Owner,
            RoleArg::Manager => Role::Manager,
            RoleArg::Admin => Role::Admin,
            RoleArg::Member => Role::Member,
        }
    }
}

/// `dispatch user` subcommands (Dispatch's names and options).
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user with ROLE in organization ORG (a slug).
    Register {
        email: String,
        #[arg(short = 'o', long = "organization")]
        organization: String,
        #[arg(short = 'r', long = "role", value_enum)]
        role: RoleArg,
        /// The password (visible to other local users: prefer --password-stdin); asked twice
        /// on the terminal when neither is given.
        #[arg(long, conflicts_with = "password_stdin")]
        password: Option<String>,
        /// Read the password from standard input; only a trailing newline is dropped.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's role in ORG, adding them to ORG when they are not a member yet (the way to
    /// make an organization's first Owner).
    Update {
        email: String,
        #[arg(short = 'o', long = "organization")]
        organization: String,
        #[arg(short = 'r', long = "role", value_enum)]
        role: RoleArg,
    },
    /// Set a user's password (revokes their existing tokens).
    Reset {
        email: String,
        /// The new password (visible to other local users: prefer --password-stdin); asked
        /// twice on the terminal when neither is given.
        #[arg(long, conflicts_with = "password_stdin")]
        password: Option<String>,
        /// Read the new password from standard input; only a trailing newline is dropped.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// The most of standard input read for a password: more than the policy's 512 bytes, so an
/// overlong one is refused by the policy rather than cut.
const STDIN_LIMIT: u64 = 4096;

impl UserCommand {
    /// Resolves `--password-stdin`: the password is read from `input` to its end, and only a
    /// trailing newline (`\n` or `\r\n`) is dropped; the policy then applies as elsewhere.
    /// Commands without the flag are returned unchanged, `input` unread.
    pub fn with_password_from(mut self, input: impl std::io::Read) -> anyhow::Result<Self> {
        use std::io::Read;
        let (UserCommand::Register {
            password,
            password_stdin,
            ..
        }
        | UserCommand::Reset {
            password,
            password_stdin,
            ..
        }) = &mut self
        else {
            return Ok(self);
        };
        if std::mem::take(password_stdin) {
            let mut raw = String::new();
            input
                .take(STDIN_LIMIT)
                .read_to_string(&mut raw)
                .context("reading the password from standard input")?;
            let line = match raw.strip_suffix('\n') {
                Some(line) => line.strip_suffix('\r').unwrap_or(line),
                None => &raw,
            };
            *password = Some(line.to_owned());
        }
        Ok(self)
    }
}

/// Runs a `user` subcommand against `store`; `prompt` supplies a password when none was given
/// (`--password-stdin` is resolved before, by [`UserCommand::with_password_from`]).
pub async fn run_with(
    store: &Store,
    command: UserCommand,
    prompt: impl Fn() -> anyhow::Result<String>,
) -> anyhow::Result<String> {
    let passwords = Passwords::default();
    match command {
        UserCommand::Register {
            email,
            organization,
            role,
            password,
            ..
        } => {
            let email = parse_email(&email)?;
            let org = organization_by_slug(store, &organization).await?;
            let password = password_from(password, &prompt)?;
            if users::find_by_email(store, email.as_str())
                .await
                .map_err(api)?
                .is_some()
            {
                bail!("User already exists. Email: {email}");
            }
            let hash = passwords.hash(&password).await.map_err(api)?;
            users::create(store, &email, hash, &[(org, role.into())])
                .await
                .map_err(api)?;
            Ok("User registered successfully.".into())
        }
        UserCommand::Update {
            email,
            organization,
            role,
        } => {
            let user = user_by_email(store, &email).await?;
            let org = organization_by_slug(store, &organization).await?;
            users::set_role(store, &org, &user, role.into())
                .await
                .map_err(api)?;
            Ok("User successfully updated.".into())
        }
        UserCommand::Reset {
            email, password, ..
        } => {
            let user = user_by_email(store, &email).await?;
            let password = password_from(password, &prompt)?;
            let hash = passwords.hash(&password).await.map_err(api)?;
            users::set_password(store, user.id, &hash, &Authority::Operator)
                .await
                .map_err(api)?;
            Ok("User password successfully updated.".into())
        }
    }
}

/// Runs a `user` subcommand against the target table.
pub async fn run(command: UserCommand, target: &crate::target::Target) -> anyhow::Result<()> {
    let store = target.checked_store().await?;
    let command = command.with_password_from(std::io::stdin().lock())?;
    let message = run_with(&store, command, prompt_twice).await?;
    crate::say!("{message}");
    Ok(())
}

fn prompt_twice() -> anyhow::Result<String> {
    let first = rpassword::prompt_password("Password: ").context("reading the password")?;
    let second =
        rpassword::prompt_password("Repeat for confirmation: ").context("reading the password")?;
    if first != second {
        bail!("the two passwords do not match");
    }
    Ok(first)
}

fn password_from(
    given: Option<String>,
    prompt: &impl Fn() -> anyhow::Result<String>,
) -> anyhow::Result<Password> {
    let raw = match given {
        Some(password) => password,
        None => prompt()?,
    };
    Password::parse(&raw).map_err(|invalid| {
        anyhow::anyhow!(invalid.msg.trim_start_matches("Value error, ").to_owned())
    })
}

fn parse_email(raw: &str) -> anyhow::Result<EmailAddress> {
    EmailAddress::parse(raw).map_err(|invalid| anyhow::anyhow!(invalid.msg))
}

async fn user_by_email(store: &Store, raw: &str) -> anyhow::Result<dispatch_domain::model::User> {
    let email = parse_email(raw)?;
    users::find_by_email(store, email.as_str())
        .await
        .map_err(api)?
        .ok_or_else(|| anyhow::anyhow!("No user found. Email: {email}"))
}

async fn organization_by_slug(store: &Store, slug: &str) -> anyhow::Result<Organization> {
    users::organization(store, slug)
        .await
        .map_err(api)?
        .ok_or_else(|| anyhow::anyhow!("No organization found. Slug: {slug}"))
}

fn api(error: DomainError) -> anyhow::Error {
    match error {
        DomainError::Internal(e) => e,
        other => anyhow::anyhow!(other.message()),
    }
}

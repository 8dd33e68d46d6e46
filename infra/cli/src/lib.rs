//! The admin CLI (`dispatch`): database (table) initialisation, the local dev server, and
//! inspection commands. It talks to AWS through the SDK's default chain, so SSO profiles work,
//! and to the local stack through `AWS_ENDPOINT_URL_*`.

pub mod completions;
pub mod data;
pub mod database;
pub mod mfa;
pub mod migrate;
pub mod organization;
pub mod output;
pub mod plugins;
pub mod scheduler;
pub mod server;
pub mod target;
pub mod ui;
pub mod ui_publish;
pub mod user;

use clap::{Parser, Subcommand};

/// Dispatch Serverless admin CLI.
#[derive(Debug, Parser)]
#[command(name = "dispatch", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub global: target::GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Command groups (Dispatch's names).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create and migrate the table.
    #[command(subcommand)]
    Database(database::DatabaseCommand),
    /// MFA challenges: create one and print its approval link, wait for its answer.
    #[command(subcommand)]
    Mfa(mfa::MfaCommand),
    /// Operator decisions about organizations (the default organization).
    #[command(subcommand)]
    Organization(organization::OrganizationCommand),
    /// Manage the plugin catalogue.
    #[command(subcommand)]
    Plugins(plugins::PluginsCommand),
    /// Run the maintenance jobs (the deployment runs them on EventBridge Scheduler).
    #[command(subcommand)]
    Scheduler(scheduler::SchedulerCommand),
    /// Run and inspect the API.
    #[command(subcommand)]
    Server(server::ServerCommand),
    /// Publish Dispatch's UI to its S3 bucket and CloudFront distribution.
    #[command(subcommand)]
    Ui(ui_publish::UiCommand),
    /// Manage users.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Print the shell completion script for `dispatch` (e.g. `dispatch completions bash >
    /// ~/.local/share/bash-completion/completions/dispatch`).
    Completions(completions::CompletionsArgs),
}

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    output::configure(cli.global.quiet, cli.global.verbose);
    // Resolved once, and only for commands that talk to the table: `server` reads its own
    // configuration from the environment, as the functions do.
    let target = || target::Target::load(&cli.global);
    match cli.command {
        Command::Database(command) => database::run(command, &target().await?).await,
        Command::Mfa(command) => mfa::run(command, &target().await?).await,
        Command::Organization(command) => organization::run(command, &target().await?).await,
        Command::Plugins(command) => plugins::run(command, &target().await?).await,
        Command::Scheduler(command) => scheduler::run(command, &target().await?).await,
        Command::Server(command) => server::run(command).await,
        // S3 and CloudFront, not the table: its own clients.
        Command::Ui(command) => ui_publish::run(command, &cli.global).await,
        Command::User(command) => user::run(command, &target().await?).await,
        Command::Completions(args) => {
            completions::write(args.shell, &mut std::io::stdout().lock())?;
            Ok(())
        }
    }
}

//! The admin CLI (`dispatch`): database (table) initialisation, the local dev server, and
//! inspection commands. It talks to AWS through the SDK's default chain, so SSO profiles work,
//! and to the local stack through `AWS_ENDPOINT_URL_*`.

pub mod database;
pub mod organization;
pub mod plugins;
pub mod server;
pub mod user;

use clap::{Parser, Subcommand};

/// Dispatch Serverless admin CLI.
#[derive(Debug, Parser)]
#[command(name = "dispatch", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Command groups (Dispatch's names).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create and migrate the table.
    #[command(subcommand)]
    Database(database::DatabaseCommand),
    /// Operator decisions about organizations (the default organization).
    #[command(subcommand)]
    Organization(organization::OrganizationCommand),
    /// Manage the plugin catalogue.
    #[command(subcommand)]
    Plugins(plugins::PluginsCommand),
    /// Run and inspect the API.
    #[command(subcommand)]
    Server(server::ServerCommand),
    /// Manage users.
    #[command(subcommand)]
    User(user::UserCommand),
}

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    dispatch_domain::telemetry::init();
    match cli.command {
        Command::Database(command) => database::run(command).await,
        Command::Organization(command) => organization::run(command).await,
        Command::Plugins(command) => plugins::run(command).await,
        Command::Server(command) => server::run(command).await,
        Command::User(command) => user::run(command).await,
    }
}

/// The table name the CLI works on.
pub(crate) fn table_from_env() -> anyhow::Result<String> {
    std::env::var("DISPATCH_TABLE_NAME")
        .ok()
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| anyhow::anyhow!("configuration error: DISPATCH_TABLE_NAME is not set"))
}

/// A DynamoDB client from the default chain (one `SdkConfig`), with the admin call bounds:
/// longer than the API's, but no call waits forever on a stalled endpoint.
pub(crate) async fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    use dispatch_domain::aws_sdk::{CallBounds, load_sdk_config};
    let sdk = load_sdk_config(CallBounds::ADMIN).await;
    aws_sdk_dynamodb::Client::new(&sdk)
}

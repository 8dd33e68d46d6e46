//! `dispatch organization …`: what only the operator decides about organizations.

use clap::Subcommand;
use dispatch_domain::organization_update;
use dispatch_store::Store;

/// `dispatch organization` subcommands.
#[derive(Debug, Subcommand)]
pub enum OrganizationCommand {
    /// Make SLUG the default organization (the API cannot move the flag); the previous default
    /// loses it in the same transaction.
    SetDefault {
        /// The organization's slug.
        slug: String,
    },
}

/// Runs an `organization` subcommand against the target table.
pub async fn run(
    command: OrganizationCommand,
    target: &crate::target::Target,
) -> anyhow::Result<()> {
    let store = target.checked_store().await?;
    let message = execute(&store, command).await?;
    crate::say!("{message}");
    Ok(())
}

/// Runs an `organization` subcommand on `store`; returns what it prints.
pub async fn execute(store: &Store, command: OrganizationCommand) -> anyhow::Result<String> {
    match command {
        OrganizationCommand::SetDefault { slug } => {
            let org = organization_update::make_default(store, &slug)
                .await
                .map_err(|e| anyhow::anyhow!("{slug}: {e}"))?;
            Ok(format!("{} is the default organization.", org.slug))
        }
    }
}

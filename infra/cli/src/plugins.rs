//! `dispatch plugins …`: the plugin catalogue in the table (docs/contract.md §8.2).

use clap::Subcommand;
use dispatch_domain::plugins::{backfill, catalogue};
use dispatch_store::Store;

/// `dispatch plugins` subcommands.
#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// Print the installed catalogue.
    List {
        #[arg(long, value_enum, default_value_t)]
        output: crate::data::OutputFormat,
    },
    /// Write the shipped catalogue into the table (new plugins only, unless --force) and give
    /// every project a disabled instance of each plugin it lacks.
    Install {
        /// Also update plugins that are already installed.
        #[arg(short, long)]
        force: bool,
    },
    /// Remove catalogue rows; their instances stay and read as broken.
    Uninstall {
        /// Plugin slugs.
        #[arg(required = true, num_args = 1..)]
        plugins: Vec<String>,
    },
}

/// Runs a `plugins` subcommand.
pub async fn run(command: PluginsCommand, target: &crate::target::Target) -> anyhow::Result<()> {
    let store = target.store();
    if let PluginsCommand::List {
        output: crate::data::OutputFormat::Json,
    } = command
    {
        println!(
            "{}",
            serde_json::to_value(catalogue::installed(&store).await?)?
        );
        return Ok(());
    }
    // The catalogue's table is data; what install and uninstall did is status.
    let listing = matches!(command, PluginsCommand::List { .. });
    for line in execute(&store, command).await? {
        if listing {
            println!("{line}");
        } else {
            crate::say!("{line}");
        }
    }
    Ok(())
}

/// Runs a `plugins` subcommand on `store`; returns what it prints.
pub async fn execute(store: &Store, command: PluginsCommand) -> anyhow::Result<Vec<String>> {
    let api = |e: dispatch_domain::DomainError| match e {
        dispatch_domain::DomainError::BadRequest(message) => anyhow::anyhow!("{message}"),
        other => anyhow::anyhow!("{other}"),
    };
    match command {
        PluginsCommand::List { .. } => Ok(list_table(&catalogue::installed(store).await?)),
        PluginsCommand::Install { force } => {
            let mut lines = catalogue::install(store, force).await.map_err(api)?;
            let installed = catalogue::installed(store).await?;
            let added = backfill::add_missing_instances(store, &installed)
                .await
                .map_err(api)?;
            lines.push(format!(
                "Added {added} plugin instance(s) to existing projects."
            ));
            Ok(lines)
        }
        PluginsCommand::Uninstall { plugins } => {
            catalogue::uninstall(store, &plugins).await.map_err(api)
        }
    }
}

/// Dispatch's table: Title, Slug, Version, Type, Author, Description.
pub fn list_table(plugins: &[dispatch_domain::model::Plugin]) -> Vec<String> {
    let mut plugins = plugins.to_vec();
    plugins.sort_by(|a, b| a.slug.cmp(&b.slug));
    let row = |cells: [&str; 6]| {
        format!(
            "{:<56} {:<34} {:<8} {:<24} {:<20} {}",
            cells[0], cells[1], cells[2], cells[3], cells[4], cells[5]
        )
        .trim_end()
        .to_owned()
    };
    let mut lines = vec![row([
        "Title",
        "Slug",
        "Version",
        "Type",
        "Author",
        "Description",
    ])];
    for p in &plugins {
        lines.push(row([
            &p.title,
            &p.slug,
            &p.plugin_version,
            &p.plugin_type,
            p.author.as_deref().unwrap_or(""),
            p.description.as_deref().unwrap_or(""),
        ]));
    }
    lines
}

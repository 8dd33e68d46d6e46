//! `dispatch database …`: table creation and seed data.

use std::io::{BufRead, Write};

use anyhow::Context;
use clap::Subcommand;
use dispatch_domain::migrations::{HEAD, SUPPORTED};
use dispatch_domain::model::NameStr;
use dispatch_domain::organizations::{self, DEFAULT_ORGANIZATION, NewOrganization};
use dispatch_store::migrate::history::{self, HistoryEntry};
use dispatch_store::schema::{self, TableOutcome};
use dispatch_store::{Store, Transaction, keys};

/// `dispatch database` subcommands.
#[derive(Debug, Subcommand)]
pub enum DatabaseCommand {
    /// Create the table (if missing), record the schema version and create the default
    /// organization with its default project. Running it again changes nothing.
    Init {
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Write every item to FILE as JSON Lines of DynamoDB JSON (`-`: standard output; gzip
    /// when FILE ends in .gz), by a consistent parallel scan.
    Dump(crate::data::dump::DumpArgs),
    /// Write a dump into the table (created if missing); refuses a table with items unless
    /// --force, then verifies the item count.
    Restore(crate::data::restore::RestoreArgs),
    /// Delete the table (after typing its name, or --yes) and wait until it is gone.
    Drop(crate::data::drop::DropArgs),
    /// Create an on-demand AWS backup named <table>-<UTC timestamp>.
    Backup(crate::data::backup::BackupArgs),
    #[command(flatten)]
    Migrations(crate::migrate::MigrationCommand),
}

/// Runs a `database` subcommand.
pub async fn run(command: DatabaseCommand, target: &crate::target::Target) -> anyhow::Result<()> {
    match command {
        DatabaseCommand::Init { yes } => {
            // What the confirmation asks about is shown even with --quiet.
            if !yes || !crate::output::quiet() {
                println!("Initializing new database...");
                println!("  table:    {}", target.table);
                println!(
                    "  region:   {}",
                    target.region.as_deref().unwrap_or("(none)")
                );
                println!("  endpoint: {}", target.endpoint_description());
            }
            if !yes && !confirm("Initialize this table?")? {
                crate::say!("Aborting database initialization.");
                return Ok(());
            }
            let report = init(&target.store()).await?;
            for line in report.lines() {
                crate::say!("{line}");
            }
            crate::say!("Success.");
            Ok(())
        }
        DatabaseCommand::Dump(args) => crate::data::dump::run(args, target).await,
        DatabaseCommand::Restore(args) => crate::data::restore::run(args, target).await,
        DatabaseCommand::Drop(args) => crate::data::drop::run(args, target).await,
        DatabaseCommand::Backup(args) => crate::data::backup::run(args, target).await,
        DatabaseCommand::Migrations(command) => crate::migrate::run(command, target).await,
    }
}

pub(crate) fn confirm(question: &str) -> anyhow::Result<bool> {
    print!("{question} [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// What `init` did, step by step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitReport {
    pub table_created: bool,
    /// The version recorded now (a new table starts at this build's head), if any.
    pub schema_recorded: Option<u32>,
    /// The version the table is at after init.
    pub schema_version: u32,
    /// What installing the plugin catalogue did (Dispatch's progress lines).
    pub plugins: Vec<String>,
    /// Plugin instances given to projects that lacked them.
    pub instances_added: usize,
    /// `Some((organization id, slug))` when the default organization was created now.
    pub default_organization_created: Option<(i32, String)>,
    /// Auto-join organizations whose id was recorded now.
    pub auto_join_recorded: Vec<String>,
}

impl InitReport {
    /// Human-readable lines.
    pub fn lines(&self) -> Vec<String> {
        vec![
            if self.table_created {
                "Created the table."
            } else {
                "The table already exists."
            }
            .into(),
            match self.schema_recorded {
                Some(version) => format!("Recorded schema version {version}."),
                None if self.schema_version < HEAD => format!(
                    "The table is at schema version {}; this build's migrations reach {HEAD}: run `dispatch database upgrade`.",
                    self.schema_version
                ),
                None => format!("Schema version {} already recorded.", self.schema_version),
            },
            format!(
                "Plugin catalogue: {} change(s).",
                self.plugins
                    .iter()
                    .filter(|line| !line.starts_with(' '))
                    .count()
            ),
            match &self.default_organization_created {
                Some((id, slug)) => {
                    format!("Created organization {slug} (id {id}) with its default project.")
                }
                None => "The default organization already exists.".into(),
            },
            format!(
                "Added {} plugin instance(s) to existing projects.",
                self.instances_added
            ),
            if self.auto_join_recorded.is_empty() {
                "Auto-join organizations already recorded.".into()
            } else {
                format!(
                    "Recorded the auto-join organization(s) {}.",
                    self.auto_join_recorded.join(", ")
                )
            },
        ]
    }
}

/// Idempotent initialisation: table, schema version, plugin catalogue, then the default
/// organization (whose default project gets an instance of every plugin; Dispatch's order,
/// docs/contract.md §8.1).
pub async fn init(store: &Store) -> anyhow::Result<InitReport> {
    let outcome = schema::ensure_table(store.client(), store.table())
        .await
        .context("creating the table")?;
    let (schema_recorded, schema_version) = record_schema_version(store).await?;
    dispatch_domain::organization_delete::finish_pending(store)
        .await
        .map_err(|e| anyhow::anyhow!("finishing interrupted deletions: {e}"))?;
    let plugins = dispatch_domain::plugins::catalogue::install(store, false)
        .await
        .map_err(|e| anyhow::anyhow!("installing the plugin catalogue: {e}"))?;
    let (name, description) = DEFAULT_ORGANIZATION;
    let default_organization_created = if store
        .get_attributes(&keys::organization(name))
        .await?
        .is_some()
    {
        None
    } else {
        let new = NewOrganization {
            name: NameStr::parse(name).expect("the default organization's name is valid"),
            description: Some(description.into()),
            default: true,
            banner_enabled: false,
            banner_color: None,
            banner_text: None,
        };
        match organizations::create_installation_default(store, new).await {
            Ok(org) => Some((org.id, org.slug.into_string())),
            // A concurrent init won the race: the outcome we wanted, if its organization is there.
            Err(
                dispatch_domain::DomainError::Conflict(_)
                | dispatch_domain::DomainError::VersionConflict,
            ) if store
                .get_attributes(&keys::organization(name))
                .await?
                .is_some() =>
            {
                None
            }
            Err(e) => return Err(anyhow::anyhow!("creating the default organization: {e}")),
        }
    };
    // Projects created before a plugin was installed get its instance too (D-PLG3: every
    // project has one instance of every catalogue plugin after init).
    let installed = dispatch_domain::plugins::catalogue::installed(store).await?;
    let instances_added =
        dispatch_domain::plugins::backfill::add_missing_instances(store, &installed)
            .await
            .map_err(|e| anyhow::anyhow!("adding plugin instances to existing projects: {e}"))?;
    // New users join these organizations by the ids recorded here, never by slug alone.
    let auto_join = dispatch_domain::config::AutoJoin::parse(
        std::env::var("DISPATCH_AUTO_JOIN_ORGANIZATIONS")
            .ok()
            .as_deref(),
    )?;
    let auto_join_recorded = dispatch_domain::auto_join::record(store, &auto_join)
        .await
        .map_err(|e| anyhow::anyhow!("recording the auto-join organizations: {e}"))?;
    Ok(InitReport {
        auto_join_recorded,
        table_created: outcome == TableOutcome::Created,
        schema_recorded,
        schema_version,
        plugins,
        instances_added,
        default_organization_created,
    })
}

/// Records this build's head version on a table that has none (a new table needs no
/// migration); refuses a table at a version this build does not work with. The recorded
/// version and what is now, `(recorded now, current)`.
async fn record_schema_version(store: &Store) -> anyhow::Result<(Option<u32>, u32)> {
    if let Some(found) = history::current(store).await? {
        anyhow::ensure!(
            SUPPORTED.contains(&found),
            "the table has schema version {found}; this build works with versions {} to {}",
            SUPPORTED.start(),
            SUPPORTED.end()
        );
        return Ok((None, found));
    }
    let entry = HistoryEntry {
        migration: HEAD,
        direction: "init".into(),
        from_version: 0,
        to_version: HEAD,
        description: "table created by database init".into(),
        checksum: String::new(),
        applied_by: history::runner_name(),
        applied_at: history::now(),
        duration_ms: 0,
        items_touched: 0,
        items_scanned: 0,
    };
    let mut tx = Transaction::new();
    history::record(&mut tx, None, &entry)?;
    match store.transact(tx).await {
        Ok(()) => Ok((Some(HEAD), HEAD)),
        // A concurrent init recorded it first.
        Err(dispatch_store::StoreError::ConditionFailed { .. }) => {
            Ok((None, history::current(store).await?.unwrap_or(HEAD)))
        }
        Err(e) => Err(e.into()),
    }
}

//! `dispatch database …`: table creation and seed data.

use std::io::{BufRead, Write};

use anyhow::Context;
use clap::Subcommand;
use dispatch_domain::model::NameStr;
use dispatch_domain::organizations::{self, DEFAULT_ORGANIZATION, NewOrganization};
use dispatch_domain::time::Timestamp;
use dispatch_store::schema::{self, SCHEMA_VERSION, TableOutcome};
use dispatch_store::{Expression, Item, Store, Transaction, keys};

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
}

/// Runs a `database` subcommand.
pub async fn run(command: DatabaseCommand) -> anyhow::Result<()> {
    match command {
        DatabaseCommand::Init { yes } => {
            let table = crate::table_from_env()?;
            let client = crate::dynamodb_client().await;
            println!("Initializing new database...");
            println!("  table:    {table}");
            println!(
                "  region:   {}",
                client
                    .config()
                    .region()
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "(none)".into())
            );
            println!("  endpoint: {}", endpoint_description());
            if !yes && !confirm("Initialize this table?")? {
                println!("Aborting database initialization.");
                return Ok(());
            }
            let report = init(&Store::new(client, table)).await?;
            for line in report.lines() {
                println!("{line}");
            }
            println!("Success.");
            Ok(())
        }
    }
}

fn endpoint_description() -> String {
    std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
        .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
        .unwrap_or_else(|_| "AWS (the region's default endpoint)".into())
}

fn confirm(question: &str) -> anyhow::Result<bool> {
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
    pub schema_recorded: bool,
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
            if self.schema_recorded {
                format!("Recorded schema version {SCHEMA_VERSION}.")
            } else {
                format!("Schema version {SCHEMA_VERSION} already recorded.")
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
    let schema_recorded = record_schema_version(store).await?;
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
        plugins,
        instances_added,
        default_organization_created,
    })
}

/// Records the schema version unless it is there; refuses a table of another version.
async fn record_schema_version(store: &Store) -> anyhow::Result<bool> {
    if let Some(found) = dispatch_store::schema::recorded_version(store).await? {
        anyhow::ensure!(
            found == i64::from(SCHEMA_VERSION),
            "the table has schema version {found}; this build expects {SCHEMA_VERSION}"
        );
        return Ok(false);
    }
    let marker = Item::bare(&keys::schema(), "Schema")
        .with_number("schema_version", i64::from(SCHEMA_VERSION))
        .with_str("applied_at", Timestamp::now().to_string());
    let mut tx = Transaction::new();
    tx.put_when(marker, Some(Expression::item_absent()), Some("schema"))?;
    match store.transact(tx).await {
        Ok(()) => Ok(true),
        Err(dispatch_store::StoreError::ConditionFailed { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

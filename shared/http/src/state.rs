//! What every request handler shares: configuration, the store and the secrets, built once per
//! cold start (one `SdkConfig`, one client per service, secrets fetched once).

use std::sync::Arc;

use dispatch_domain::auth::Passwords;
use dispatch_domain::auth::provider::Authenticator;
use dispatch_domain::aws_sdk::{CallBounds, load_sdk_config};
use dispatch_domain::config::{Config, ConfigError};
use dispatch_domain::migrations::SUPPORTED;
use dispatch_domain::plugins::RecentPlugins;
use dispatch_domain::secrets::{SecretError, Secrets};
use dispatch_store::schema::recorded_version;
use dispatch_store::{Store, StoreError};

/// Shared handler state; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    config: Config,
    store: Store,
    /// The table's schema version at start-up.
    schema_version: u32,
    secrets: Secrets,
    passwords: Passwords,
    authenticator: Authenticator,
    recent_plugins: RecentPlugins,
}

/// What a function reads at start-up beside its secrets, so that its first request need not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Preload {
    #[default]
    Nothing,
    /// The catalogue rows, which the plugins function's instances pages show
    /// ([`RecentPlugins::preload`]).
    PluginRows,
}

/// Why start-up failed. Its `Display` is the one line printed before exiting.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("startup error: {0}")]
    Secret(#[from] SecretError),
    #[error("startup error: table {table} is not initialised (run `dispatch database init`)")]
    TableNotInitialised { table: String },
    #[error(
        "startup error: table {table} has schema version {found}; this build works with versions {} to {} (run `dispatch database upgrade`, or deploy a matching build)",
        SUPPORTED.start(),
        SUPPORTED.end()
    )]
    SchemaMismatch { table: String, found: i64 },
    #[error("startup error: table {table} could not be read: {source}")]
    Table { table: String, source: StoreError },
    #[error("startup error: AWS did not answer within {} s (Secrets Manager or DynamoDB unreachable)", STARTUP_BUDGET.as_secs())]
    TimedOut,
}

/// The longest a cold start may wait for AWS. Lambda allows 10 s of initialisation; failing
/// before that prints our one line instead of the platform's timeout. Each call is also
/// bounded by [`CallBounds::API`], so this only catches several slow calls in a row.
pub const STARTUP_BUDGET: std::time::Duration = std::time::Duration::from_secs(8);

impl AppState {
    /// State from parts (tests and the dev server build their own), on a table at this
    /// build's head schema version.
    pub fn new(config: Config, store: Store, secrets: Secrets) -> Self {
        Self::at_version(config, store, secrets, dispatch_domain::migrations::HEAD)
    }

    /// State from parts, on a table at `schema_version` (what start-up found): readers use
    /// what that version has (the members index from version 4, the instances index from version 5), so a build deployed before
    /// `dispatch database upgrade` serves correctly until its next cold start after it.
    pub fn at_version(config: Config, store: Store, secrets: Secrets, schema_version: u32) -> Self {
        Self::build(
            config,
            store,
            secrets,
            schema_version,
            RecentPlugins::default(),
        )
    }

    fn build(
        config: Config,
        store: Store,
        secrets: Secrets,
        schema_version: u32,
        recent_plugins: RecentPlugins,
    ) -> Self {
        let authenticator = Authenticator::new(config.authentication.clone());
        Self(Arc::new(Inner {
            config,
            store,
            schema_version,
            secrets,
            passwords: Passwords::default(),
            authenticator,
            recent_plugins,
        }))
    }

    /// Reads the configuration and builds the AWS clients (every call bounded by
    /// [`CallBounds::API`]), then [`AppState::start`]s on them.
    pub async fn from_env(preload: Preload) -> Result<Self, StartupError> {
        let config = Config::from_env()?;
        cold_start::mark("configuration read");
        let sdk = load_sdk_config(CallBounds::API).await;
        cold_start::mark("SDK configuration loaded");
        let store = Store::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            config.table_name.as_str(),
        );
        let secrets_client = aws_sdk_secretsmanager::Client::new(&sdk);
        cold_start::mark("clients built");
        Self::start(config, store, &secrets_client, preload).await
    }

    /// Fetches the secrets and checks the table, concurrently, within [`STARTUP_BUDGET`]. The
    /// table read also opens the DynamoDB connection, so the first request does not pay the
    /// TLS handshake. The secrets are kept for the life of the process: a warm function keeps
    /// serving with them when Secrets Manager is unreachable.
    ///
    /// What `preload` names is read on a task of its own, which start-up never waits for: it
    /// goes out once the table check has answered, overlaps the rest of the wait for Secrets
    /// Manager, and a failure (logged) only leaves the first request to read it itself.
    pub async fn start(
        config: Config,
        store: Store,
        secrets_client: &aws_sdk_secretsmanager::Client,
        preload: Preload,
    ) -> Result<Self, StartupError> {
        let recent_plugins = RecentPlugins::default();
        // The preload goes out once the table check has answered: that request opens the
        // connection, and the two would only slow each other down.
        let (schema_checked, after_check) = tokio::sync::oneshot::channel::<()>();
        if preload == Preload::PluginRows {
            let reading = recent_plugins.preload(store.clone());
            tokio::spawn(async move {
                if after_check.await.is_err() {
                    return;
                }
                match reading.await {
                    Ok(_) => cold_start::mark("plugin rows read"),
                    Err(error) => tracing::warn!(%error, "plugin rows not read at start-up"),
                }
            });
        }
        let work = async {
            let (secrets, schema) = tokio::join!(
                Secrets::load_all(
                    secrets_client,
                    &config.jwt_secret_id,
                    &config.cursor_secret_id,
                    config.encryption_secret_id.as_deref(),
                ),
                async {
                    let checked = check_schema(&store).await;
                    // Nobody waits for it when no preload was asked for.
                    let _ = schema_checked.send(());
                    checked
                }
            );
            cold_start::mark("secrets fetched and schema checked");
            Ok::<_, StartupError>((secrets?, schema?))
        };
        let (secrets, version) = tokio::time::timeout(STARTUP_BUDGET, work)
            .await
            .unwrap_or(Err(StartupError::TimedOut))?;
        Ok(Self::build(config, store, secrets, version, recent_plugins))
    }

    /// The table's schema version when this process started.
    pub fn schema_version(&self) -> u32 {
        self.0.schema_version
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// The table.
    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// The signing keys.
    pub fn secrets(&self) -> &Secrets {
        &self.0.secrets
    }

    /// The key that seals plugin configurations (a 500 where it is not configured: only the
    /// plugins function needs it, and its start-up checks it is there).
    pub fn configuration_key(
        &self,
    ) -> Result<&dispatch_domain::plugin_config::ConfigurationKey, crate::error::ApiError> {
        self.0.secrets.configuration.as_deref().ok_or_else(|| {
            crate::error::ApiError::Internal(anyhow::anyhow!(
                "DISPATCH_ENCRYPTION_SECRET_ID is not set for this function"
            ))
        })
    }

    /// The authentication provider, with its cached keys.
    pub fn authenticator(&self) -> &Authenticator {
        &self.0.authenticator
    }

    /// The catalogue rows this process read lately (instances pages).
    pub fn recent_plugins(&self) -> &RecentPlugins {
        &self.0.recent_plugins
    }

    /// Password hashing and verification.
    pub fn passwords(&self) -> &Passwords {
        &self.0.passwords
    }
}

/// Checks that `database init` has run on the table, at a schema version this build works
/// with ([`SUPPORTED`]: during a rolling deploy, the version before or after an upgrade), and
/// returns that version.
pub async fn check_schema(store: &Store) -> Result<u32, StartupError> {
    let table = store.table().to_owned();
    let found = recorded_version(store)
        .await
        .map_err(|source| StartupError::Table {
            table: table.clone(),
            source,
        })?
        .ok_or_else(|| StartupError::TableNotInitialised {
            table: table.clone(),
        })?;
    cold_start::mark("schema checked");
    match u32::try_from(found) {
        Ok(version) if SUPPORTED.contains(&version) => Ok(version),
        _ => Err(StartupError::SchemaMismatch { table, found }),
    }
}

/// Cold start of a function: logging, then [`AppState::from_env`]. A failure prints one line
/// naming the problem and exits, so a misconfigured deployment fails fast and says why.
pub async fn init() -> AppState {
    init_preloading(Preload::Nothing).await
}

/// [`init`], reading what `preload` names beside the secrets ([`AppState::start`]).
pub async fn init_preloading(preload: Preload) -> AppState {
    cold_start::begin();
    dispatch_domain::aws_sdk::prepare_connector(CallBounds::API);
    dispatch_domain::telemetry::init();
    cold_start::mark("logging ready");
    // `start` bounds the AWS calls; this also bounds loading the SDK configuration (credentials).
    let started = tokio::time::timeout(
        STARTUP_BUDGET + std::time::Duration::from_secs(1),
        AppState::from_env(preload),
    )
    .await;
    match started.unwrap_or(Err(StartupError::TimedOut)) {
        Ok(state) => {
            cold_start::mark("state ready");
            state
        }
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(1);
        }
    }
}

/// Where a cold start spends its time: `RUST_LOG=dispatch::cold_start=debug` logs one line per
/// phase with the milliseconds since [`init`] began (BENCHMARKS.md, "Cold start: where the time
/// goes"). Nothing is logged, and nearly nothing is spent, at the default level.
pub mod cold_start {
    use std::sync::OnceLock;
    use std::time::Instant;

    static BEGAN: OnceLock<Instant> = OnceLock::new();

    /// Starts the clock (the first call wins).
    pub fn begin() {
        BEGAN.get_or_init(Instant::now);
    }

    /// Logs that `phase` has ended, at debug level.
    pub fn mark(phase: &'static str) {
        if let Some(began) = BEGAN.get() {
            tracing::debug!(
                target: "dispatch::cold_start",
                phase,
                at_ms = began.elapsed().as_secs_f64() * 1000.0,
            );
        }
    }
}

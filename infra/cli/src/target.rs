//! Which AWS account, region, endpoint and table a command works on: the global flags
//! (`--profile`, `--region`, `--endpoint-url`, `--table`), each overriding its environment
//! variable the way the AWS CLI's do, resolved once in [`crate::run`] into a [`Target`].
//!
//! Flags that are absent leave the SDK's default chain in charge (`AWS_PROFILE`, `AWS_REGION`,
//! `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL`, the profile's own settings), so SSO
//! profiles and the local stack's environment keep working unchanged.

use clap::Args;
use dispatch_domain::aws_sdk::{CallBounds, bounded_loader};
use dispatch_domain::migrations::SUPPORTED;
use dispatch_store::Store;

/// The flags every command accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct GlobalArgs {
    /// AWS profile to use [overrides AWS_PROFILE].
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region [overrides AWS_REGION].
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// DynamoDB endpoint, e.g. http://127.0.0.1:8100 for the local stack [overrides
    /// AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL].
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// The table [overrides DISPATCH_TABLE_NAME].
    #[arg(long, global = true, value_name = "NAME")]
    pub table: Option<String>,
    /// Print only the data asked for (JSON or table) and errors: no status lines, no progress,
    /// warnings not logged.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Log more: `-v` our debug events, `-vv` every library's (each AWS request) [RUST_LOG
    /// overrides both].
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// A resolved target: the table and a client bounded by [`CallBounds::ADMIN`].
#[derive(Debug, Clone)]
pub struct Target {
    pub table: String,
    pub client: aws_sdk_dynamodb::Client,
    /// The region the client signs for, if any resolved.
    pub region: Option<String>,
    /// The endpoint the client calls; `None` is the region's AWS endpoint.
    pub endpoint: Option<String>,
}

impl Target {
    /// Resolves `args` against the process environment.
    pub async fn load(args: &GlobalArgs) -> anyhow::Result<Self> {
        Self::load_with(args, |name| std::env::var(name).ok()).await
    }

    /// Resolves `args` against `env` for the table and the endpoint shown (tests pass their
    /// own); the SDK itself still reads the process environment for what no flag sets.
    pub async fn load_with(
        args: &GlobalArgs,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let set = |value: Option<String>| value.filter(|v| !v.trim().is_empty());
        let table = set(args.table.clone())
            .or_else(|| set(env("DISPATCH_TABLE_NAME")))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "configuration error: no table: pass --table or set DISPATCH_TABLE_NAME"
                )
            })?;
        let mut loader = bounded_loader(CallBounds::ADMIN);
        if let Some(profile) = &args.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &args.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        // An endpoint set on the loader wins over the service-specific variable in the SDK.
        if let Some(url) = &args.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let sdk = loader.load().await;
        let endpoint = set(args.endpoint_url.clone())
            .or_else(|| set(env("AWS_ENDPOINT_URL_DYNAMODB")))
            .or_else(|| set(env("AWS_ENDPOINT_URL")));
        Ok(Self {
            table,
            region: sdk.region().map(|r| r.to_string()),
            endpoint,
            client: aws_sdk_dynamodb::Client::new(&sdk),
        })
    }

    /// A store on the target table.
    pub fn store(&self) -> Store {
        Store::new(self.client.clone(), self.table.clone())
    }

    /// A store on the target table, once the table's schema version is one this build works
    /// with ([`SUPPORTED`], as the functions check at start-up). Commands that write what the
    /// functions read use it: a build for another version would store items that version's
    /// readers miss (a membership written by a build before version 4 has no place in the
    /// members index, so a version-4 members page would not list it).
    pub async fn checked_store(&self) -> anyhow::Result<Store> {
        let store = self.store();
        match dispatch_store::migrate::history::current(&store).await? {
            Some(version) if SUPPORTED.contains(&version) => Ok(store),
            Some(version) => anyhow::bail!(
                "table {} has schema version {version}; this build works with versions {} to {} (run `dispatch database upgrade`, or use a matching build)",
                self.table,
                SUPPORTED.start(),
                SUPPORTED.end()
            ),
            None => anyhow::bail!(
                "table {} is not initialised (run `dispatch database init`)",
                self.table
            ),
        }
    }

    /// The endpoint for people: the URL, or AWS's own.
    pub fn endpoint_description(&self) -> String {
        self.endpoint
            .clone()
            .unwrap_or_else(|| "AWS (the region's default endpoint)".into())
    }
}

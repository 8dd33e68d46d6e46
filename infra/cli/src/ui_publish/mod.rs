//! `dispatch ui publish DIR`: puts a production build of Dispatch's UI into the template's UI
//! bucket (`UiHosting=cloudfront`, output `UiBucketName`) and invalidates the CloudFront
//! distribution in front of it (`UiDistributionId`), so that `UiUrl` serves the new build.
//!
//! The order keeps every browser working while a publish runs:
//! 1. The build is read and checked ([`files::scan`]) and the bucket and the distribution are
//!    looked up: a bad DIR or a wrong name fails before anything changes.
//! 2. Every file except `index.html` is uploaded, a few at a time. vite's hashed files
//!    (`assets/…`) are new names, so a page already open keeps loading the old ones.
//! 3. `index.html` is uploaded last and alone: a browser never gets an index that points at
//!    assets not uploaded yet. A failure before this step leaves the published site as it was
//!    (plus unreferenced new files); running the command again finishes it.
//! 4. With `--prune`, objects that are not part of the build are deleted, only now: the old
//!    assets stay by default, since browsers holding the previous `index.html` still load their
//!    chunks (lazy routes) for as long as the tab is open.
//! 5. An invalidation of `/*` makes CloudFront fetch `index.html` (and anything else reused by
//!    name) again instead of serving its cached copy for the distribution's TTL.
//!
//! `--dry-run` does steps 1 and, with `--prune`, the listing of 4 (reads only) and prints the
//! plan.

pub mod bucket;
pub mod files;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_cloudfront::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};
use clap::{Args, Subcommand};
use dispatch_domain::aws_sdk::{CallBounds, bounded_loader};
use serde_json::json;

use crate::data::progress::Progress;
use crate::data::{OutputFormat, render};
use crate::target::GlobalArgs;

/// Uploads in flight at once.
pub const CONCURRENCY: usize = 8;

/// What the invalidation covers: every path, so no cached copy of a file reused by name
/// (`index.html`, `favicon.ico`, …) outlives the publish.
pub const INVALIDATION_PATH: &str = "/*";

/// `dispatch ui` subcommands.
#[derive(Debug, Subcommand)]
pub enum UiCommand {
    /// Upload a build of Dispatch's UI to its S3 bucket (index.html last) and invalidate its
    /// CloudFront distribution (the template's `UiHosting=cloudfront`).
    Publish(PublishArgs),
}

/// `dispatch ui publish` arguments.
#[derive(Debug, Clone, Args)]
pub struct PublishArgs {
    /// The build: the directory `npm run build` wrote (index.html, assets/…).
    pub dir: PathBuf,
    /// The UI bucket (the stack's `UiBucketName` output).
    #[arg(long, value_name = "NAME")]
    pub bucket: String,
    /// The CloudFront distribution (the stack's `UiDistributionId` output).
    #[arg(long, value_name = "ID")]
    pub distribution_id: String,
    /// Delete every object of the bucket that is not part of this build, once its index.html
    /// is up (by default old assets stay, for pages still open on the previous build). The
    /// bucket is the UI's alone.
    #[arg(long)]
    pub prune: bool,
    /// Print what would be uploaded and deleted; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// How to print the report.
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// The S3 and CloudFront clients of a publish.
#[derive(Debug, Clone)]
pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    pub cloudfront: aws_sdk_cloudfront::Client,
}

impl Clients {
    /// Clients from the global flags and the process environment.
    pub async fn load(global: &GlobalArgs) -> anyhow::Result<Self> {
        Self::load_with(global, |name| std::env::var(name).ok()).await
    }

    /// Clients from the global flags (`--profile`, `--region`) and the SDK's default chain, as
    /// every other command builds its DynamoDB client ([`crate::target`]); the endpoints come
    /// from `env` (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL_CLOUDFRONT`, `AWS_ENDPOINT_URL`;
    /// tests pass their own). S3 at a set endpoint (the local stack's moto) is addressed by
    /// path, as such servers need: `http://host/bucket/key`, not `http://bucket.host/key`.
    pub async fn load_with(
        global: &GlobalArgs,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        // `--endpoint-url` is the table's endpoint; sending S3 calls there would fail oddly.
        anyhow::ensure!(
            global.endpoint_url.is_none(),
            "--endpoint-url is DynamoDB's endpoint: for `ui publish`, set AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL_CLOUDFRONT (or AWS_ENDPOINT_URL) instead"
        );
        let mut loader = bounded_loader(CallBounds::ADMIN);
        if let Some(profile) = &global.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &global.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        let sdk = loader.load().await;
        let endpoint = |service: &str| {
            [
                format!("AWS_ENDPOINT_URL_{service}"),
                "AWS_ENDPOINT_URL".into(),
            ]
            .iter()
            .find_map(|name| env(name).filter(|v| !v.trim().is_empty()))
        };
        // One upload may be a 50 MB file on a slow link: the admin bounds (10 s an attempt)
        // suit table calls, not this.
        let mut s3 = aws_sdk_s3::config::Builder::from(&sdk).timeout_config(upload_timeouts());
        if let Some(url) = endpoint("S3") {
            s3 = s3.endpoint_url(url).force_path_style(true);
        }
        let mut cloudfront = aws_sdk_cloudfront::config::Builder::from(&sdk);
        if let Some(url) = endpoint("CLOUDFRONT") {
            cloudfront = cloudfront.endpoint_url(url);
        }
        Ok(Self {
            s3: aws_sdk_s3::Client::from_conf(s3.build()),
            cloudfront: aws_sdk_cloudfront::Client::from_conf(cloudfront.build()),
        })
    }
}

/// Timeouts of S3 calls: an attempt may upload [`files::MAX_FILE_BYTES`] at ~200 kB/s.
fn upload_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CallBounds::ADMIN.connect)
        .operation_attempt_timeout(Duration::from_secs(300))
        .operation_timeout(Duration::from_secs(900))
        .build()
}

/// What a publish did (or, with `--dry-run`, would do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishReport {
    pub bucket: String,
    pub distribution_id: String,
    pub dry_run: bool,
    /// Keys uploaded, in the order their uploads finished (`index.html` last); the plan's
    /// order with `--dry-run`.
    pub uploaded: Vec<String>,
    pub bytes: u64,
    pub prune: bool,
    /// Keys deleted by `--prune` (to be deleted, with `--dry-run`).
    pub pruned: Vec<String>,
    /// The invalidation created; `None` with `--dry-run`.
    pub invalidation_id: Option<String>,
}

impl PublishReport {
    /// The report as a flat JSON object with fixed fields (`--output json`).
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "bucket": self.bucket,
            "distribution_id": self.distribution_id,
            "dry_run": self.dry_run,
            "files": self.uploaded.len(),
            "bytes": self.bytes,
            "prune": self.prune,
            "pruned": self.pruned.len(),
            "invalidation_paths": INVALIDATION_PATH,
            "invalidation_id": self.invalidation_id,
        })
    }
}

/// Runs a `ui` subcommand.
pub async fn run(command: UiCommand, global: &GlobalArgs) -> anyhow::Result<()> {
    match command {
        UiCommand::Publish(args) => {
            // Checked before credentials are resolved: a wrong DIR is the likeliest mistake.
            let build = files::scan(&args.dir)?;
            let clients = Clients::load(global).await?;
            let label = format!("upload s3://{}", args.bucket);
            let progress = if args.dry_run {
                Progress::hidden()
            } else {
                Progress::stderr(&label, Some(build.files.len() as u64))
            };
            let report = publish_build(&clients, &args, build, &progress).await?;
            if report.dry_run && args.output == OutputFormat::Table {
                for line in plan_lines(&report) {
                    crate::say!("{line}");
                }
            }
            print!("{}", render(&report.to_json(), args.output));
            Ok(())
        }
    }
}

/// The plan of a dry run, one line per change: uploads in order, deletions, the invalidation.
pub fn plan_lines(report: &PublishReport) -> Vec<String> {
    let mut lines: Vec<String> = report
        .uploaded
        .iter()
        .map(|key| format!("upload  s3://{}/{key}", report.bucket))
        .collect();
    lines.extend(
        report
            .pruned
            .iter()
            .map(|key| format!("delete  s3://{}/{key}", report.bucket)),
    );
    lines.push(format!(
        "invalidate  {INVALIDATION_PATH} on distribution {}",
        report.distribution_id
    ));
    lines
}

/// Publishes the build in `args.dir` (see the module's documentation for the order).
pub async fn publish(
    clients: &Clients,
    args: &PublishArgs,
    progress: &Progress,
) -> anyhow::Result<PublishReport> {
    let build = files::scan(&args.dir)?;
    publish_build(clients, args, build, progress).await
}

async fn publish_build(
    clients: &Clients,
    args: &PublishArgs,
    build: files::Build,
    progress: &Progress,
) -> anyhow::Result<PublishReport> {
    bucket::check(&clients.s3, &args.bucket).await?;
    check_distribution(&clients.cloudfront, &args.distribution_id).await?;
    let mut report = PublishReport {
        bucket: args.bucket.clone(),
        distribution_id: args.distribution_id.clone(),
        dry_run: args.dry_run,
        uploaded: Vec::new(),
        bytes: build.bytes(),
        prune: args.prune,
        pruned: Vec::new(),
        invalidation_id: None,
    };
    if args.dry_run {
        report.uploaded = build.files.iter().map(|f| f.key.clone()).collect();
        if args.prune {
            report.pruned = bucket::stale_keys(&clients.s3, &args.bucket, &build).await?;
        }
        return Ok(report);
    }
    let (index, rest) = build
        .files
        .split_last()
        .expect("a scanned build holds index.html, last");
    report.uploaded =
        bucket::upload_all(&clients.s3, &args.bucket, rest, CONCURRENCY, progress).await?;
    bucket::upload(&clients.s3, &args.bucket, index)
        .await
        .context("the new assets are uploaded but index.html is not, so the site still serves the previous build; run again")?;
    report.uploaded.push(index.key.clone());
    progress.finish(report.uploaded.len() as u64);
    if args.prune {
        let stale = bucket::stale_keys(&clients.s3, &args.bucket, &build).await?;
        bucket::delete(&clients.s3, &args.bucket, &stale).await?;
        report.pruned = stale;
    }
    report.invalidation_id = Some(invalidate(&clients.cloudfront, &args.distribution_id).await?);
    Ok(report)
}

/// Fails unless the distribution exists (before anything is uploaded).
async fn check_distribution(
    cloudfront: &aws_sdk_cloudfront::Client,
    id: &str,
) -> anyhow::Result<()> {
    match cloudfront.get_distribution().id(id).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_distribution()) =>
        {
            anyhow::bail!(
                "CloudFront distribution {id} does not exist (give the stack's UiDistributionId output); nothing was uploaded"
            )
        }
        Err(e) => Err(anyhow::anyhow!(
            "looking up CloudFront distribution {id}: {}; nothing was uploaded",
            sdk_error(e)
        )),
    }
}

/// Invalidates [`INVALIDATION_PATH`] on the distribution; returns the invalidation's id.
async fn invalidate(cloudfront: &aws_sdk_cloudfront::Client, id: &str) -> anyhow::Result<String> {
    let batch = InvalidationBatch::builder()
        .paths(
            Paths::builder()
                .quantity(1)
                .items(INVALIDATION_PATH)
                .build()?,
        )
        .caller_reference(caller_reference())
        .build()?;
    let output = cloudfront
        .create_invalidation()
        .distribution_id(id)
        .invalidation_batch(batch)
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "the build is published, but invalidating {INVALIDATION_PATH} on distribution {id} failed (CloudFront serves its cached index.html until it expires; run again): {}",
                sdk_error(e)
            )
        })?;
    output
        .invalidation()
        .map(|i| i.id().to_owned())
        .context("CloudFront answered without the invalidation")
}

/// Unique per call (time, process, call): CloudFront takes a repeated reference for the same
/// invalidation and creates none.
fn caller_reference() -> String {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    format!("dispatch-ui-publish-{nanos}-{}-{call}", std::process::id())
}

/// An AWS error in one line: a service's own code and message (`AccessDenied: …`), or the
/// chain of causes of a failure to get an answer (a timeout, a refused connection).
pub(crate) fn sdk_error<E, R>(error: SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match error.as_service_error() {
        Some(service) => {
            let code = service.code().unwrap_or("error");
            match service.message() {
                Some(message) => format!("{code}: {message}"),
                None => code.to_owned(),
            }
        }
        None => DisplayErrorContext(&error).to_string(),
    }
}

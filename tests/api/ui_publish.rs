//! `dispatch ui publish DIR`: a build of Dispatch's UI into a bucket of moto's S3 and an
//! invalidation on a distribution of moto's CloudFront, through the command's own clients
//! (`Clients::load_with`, endpoints as `AWS_ENDPOINT_URL_S3` and `AWS_ENDPOINT_URL_CLOUDFRONT`
//! give them). Each test has its own bucket, distribution and stub build.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use aws_sdk_cloudfront::types::{
    DefaultCacheBehavior, DistributionConfig, Origin, Origins, S3OriginConfig, ViewerProtocolPolicy,
};
use aws_sdk_s3::config::interceptors::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::BoxError;
use aws_sdk_s3::operation::delete_objects::DeleteObjectsInput;
use aws_sdk_s3::operation::put_object::{PutObjectInput, PutObjectOutput};
use dispatch_cli::data::OutputFormat;
use dispatch_cli::data::progress::Progress;
use dispatch_cli::target::GlobalArgs;
use dispatch_cli::ui_publish::{self, Clients, PublishArgs, PublishReport};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// moto, which serves S3 and CloudFront as well as Secrets Manager.
fn moto() -> String {
    std::env::var("AWS_ENDPOINT_URL_SECRETS_MANAGER")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "http://127.0.0.1:5001".into())
}

/// Every PUT of a client, in order: `Start(key)` when the call begins, `Done` when one
/// succeeded; and each DeleteObjects call with its number of keys.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Put {
    Start(String),
    Done,
    Delete(usize),
}

#[derive(Debug, Clone, Default)]
struct PutLog(Arc<Mutex<Vec<Put>>>);

impl PutLog {
    fn events(&self) -> Vec<Put> {
        self.0.lock().unwrap().clone()
    }
}

impl Intercept for PutLog {
    fn name(&self) -> &'static str {
        "PutLog"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(input) = context.input().downcast_ref::<PutObjectInput>() {
            let key = input.key().unwrap_or_default().to_owned();
            self.0.lock().unwrap().push(Put::Start(key));
        } else if let Some(input) = context.input().downcast_ref::<DeleteObjectsInput>() {
            let keys = input.delete().map_or(0, |d| d.objects().len());
            self.0.lock().unwrap().push(Put::Delete(keys));
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(Ok(output)) = context.output_or_error()
            && output.downcast_ref::<PutObjectOutput>().is_some()
        {
            self.0.lock().unwrap().push(Put::Done);
        }
        Ok(())
    }
}

/// A bucket and a distribution of their own, and the command's clients pointed at moto (the
/// S3 one recording its PUTs).
struct Site {
    clients: Clients,
    bucket: String,
    distribution_id: String,
    puts: PutLog,
}

impl Site {
    async fn new() -> Self {
        // The test profile's credentials and region (helpers set them once per binary).
        crate::helpers::sdk_config().await;
        let moto = moto();
        let clients = Clients::load_with(&GlobalArgs::default(), |name| match name {
            "AWS_ENDPOINT_URL_S3" | "AWS_ENDPOINT_URL_CLOUDFRONT" => Some(moto.clone()),
            _ => None,
        })
        .await
        .unwrap();
        let puts = PutLog::default();
        let s3 = aws_sdk_s3::Client::from_conf(
            clients
                .s3
                .config()
                .to_builder()
                .interceptor(puts.clone())
                .build(),
        );
        let clients = Clients { s3, ..clients };
        let bucket = format!("ui-{}", uuid::Uuid::new_v4().simple());
        clients
            .s3
            .create_bucket()
            .bucket(&bucket)
            .send()
            .await
            .expect("moto (S3) is reachable; run infra/local/stack.sh start test");
        let distribution_id = create_distribution(&clients.cloudfront, &bucket).await;
        Self {
            clients,
            bucket,
            distribution_id,
            puts,
        }
    }

    fn args(&self, dir: &Path) -> PublishArgs {
        PublishArgs {
            dir: dir.to_path_buf(),
            bucket: self.bucket.clone(),
            distribution_id: self.distribution_id.clone(),
            prune: false,
            dry_run: false,
            output: OutputFormat::Json,
        }
    }

    async fn publish(&self, args: &PublishArgs) -> anyhow::Result<PublishReport> {
        ui_publish::publish(&self.clients, args, &Progress::hidden()).await
    }

    /// Every key of the bucket, sorted.
    async fn keys(&self) -> Vec<String> {
        let listing = self
            .clients
            .s3
            .list_objects_v2()
            .bucket(&self.bucket)
            .send()
            .await
            .unwrap();
        let mut keys: Vec<String> = listing
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect();
        keys.sort();
        keys
    }

    /// `Content-Type`, `Cache-Control` and body of an object.
    async fn object(&self, key: &str) -> (String, String, Vec<u8>) {
        let object = self
            .clients
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{key}: {e:?}"));
        let content_type = object.content_type().unwrap_or_default().to_owned();
        let cache_control = object.cache_control().unwrap_or_default().to_owned();
        let body = object.body.collect().await.unwrap().into_bytes().to_vec();
        (content_type, cache_control, body)
    }

    /// The distribution's invalidations: id and paths of each.
    async fn invalidations(&self) -> Vec<(String, Vec<String>)> {
        let cloudfront = &self.clients.cloudfront;
        let list = cloudfront
            .list_invalidations()
            .distribution_id(&self.distribution_id)
            .send()
            .await
            .unwrap();
        let mut found = Vec::new();
        for summary in list
            .invalidation_list()
            .map(|l| l.items())
            .unwrap_or_default()
        {
            let invalidation = cloudfront
                .get_invalidation()
                .distribution_id(&self.distribution_id)
                .id(summary.id())
                .send()
                .await
                .unwrap();
            let paths = invalidation
                .invalidation()
                .and_then(|i| i.invalidation_batch())
                .and_then(|b| b.paths())
                .map(|p| p.items().to_vec())
                .unwrap_or_default();
            found.push((summary.id().to_owned(), paths));
        }
        found
    }
}

/// A distribution in front of `bucket`, as the template's (enough of it for moto).
async fn create_distribution(cloudfront: &aws_sdk_cloudfront::Client, bucket: &str) -> String {
    let origin = Origin::builder()
        .id("ui")
        .domain_name(format!("{bucket}.s3.us-east-1.amazonaws.com"))
        .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
        .build()
        .unwrap();
    let config = DistributionConfig::builder()
        .caller_reference(uuid::Uuid::new_v4().simple().to_string())
        .comment("dispatch ui publish test")
        .enabled(true)
        .default_root_object("index.html")
        .origins(
            Origins::builder()
                .quantity(1)
                .items(origin)
                .build()
                .unwrap(),
        )
        .default_cache_behavior(
            DefaultCacheBehavior::builder()
                .target_origin_id("ui")
                .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let created = cloudfront
        .create_distribution()
        .distribution_config(config)
        .send()
        .await
        .expect("moto (CloudFront) creates a distribution");
    created.distribution().unwrap().id().to_owned()
}

/// A stub build: vite's shape (index.html, hashed assets) plus a root file and a nested one.
/// `version` tells the builds apart (their asset names and bodies).
fn stub_build(version: &str) -> PathBuf {
    let dir = temp_dir();
    let asset = format!("assets/index-{version}.js");
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::create_dir_all(dir.join("static/img")).unwrap();
    std::fs::write(
        dir.join("index.html"),
        format!("<!doctype html><title>Dispatch</title><script type=module src=/{asset}></script>"),
    )
    .unwrap();
    std::fs::write(dir.join(&asset), format!("console.log('{version}')")).unwrap();
    std::fs::write(dir.join(format!("assets/index-{version}.css")), "body{}").unwrap();
    std::fs::write(dir.join("favicon.ico"), [0u8, 0, 1, 0]).unwrap();
    std::fs::write(dir.join("static/img/logo.svg"), "<svg/>").unwrap();
    dir
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "dispatch-ui-publish-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn every_file_is_uploaded_with_its_headers_index_last_then_invalidated() {
    let site = Site::new().await;
    let dir = stub_build("abc123");
    let report = site.publish(&site.args(&dir)).await.unwrap();

    let expected = [
        "assets/index-abc123.css",
        "assets/index-abc123.js",
        "favicon.ico",
        "index.html",
        "static/img/logo.svg",
    ];
    assert_eq!(site.keys().await, expected);
    for (key, content_type, cache_control) in [
        ("index.html", "text/html; charset=utf-8", "no-cache"),
        (
            "assets/index-abc123.js",
            "text/javascript; charset=utf-8",
            IMMUTABLE,
        ),
        (
            "assets/index-abc123.css",
            "text/css; charset=utf-8",
            IMMUTABLE,
        ),
        ("favicon.ico", "image/x-icon", "no-cache"),
        (
            "static/img/logo.svg",
            "image/svg+xml; charset=utf-8",
            "no-cache",
        ),
    ] {
        let (got_type, got_cache, body) = site.object(key).await;
        assert_eq!(
            (got_type.as_str(), got_cache.as_str()),
            (content_type, cache_control),
            "{key}"
        );
        assert_eq!(body, std::fs::read(dir.join(key)).unwrap(), "{key}");
    }

    // index.html began only once every other PUT had succeeded, and it was the last.
    let events = site.puts.events();
    let index_start = events
        .iter()
        .position(|e| *e == Put::Start("index.html".into()))
        .expect("index.html was put");
    let done_before = events[..index_start]
        .iter()
        .filter(|e| **e == Put::Done)
        .count();
    assert_eq!(done_before, expected.len() - 1, "{events:?}");
    assert_eq!(
        events.iter().filter(|e| matches!(e, Put::Start(_))).count(),
        expected.len(),
        "one PUT per file: {events:?}"
    );
    assert_eq!(events.last(), Some(&Put::Done));
    assert_eq!(
        report.uploaded.last().map(String::as_str),
        Some("index.html")
    );
    assert_eq!(report.uploaded.len(), expected.len());

    let invalidation = report.invalidation_id.clone().expect("an invalidation");
    assert_eq!(
        site.invalidations().await,
        vec![(invalidation.clone(), vec!["/*".to_owned()])]
    );
    let bytes: u64 = expected
        .iter()
        .map(|key| std::fs::metadata(dir.join(key)).unwrap().len())
        .sum();
    assert_eq!(
        report.to_json(),
        serde_json::json!({
            "bucket": site.bucket,
            "distribution_id": site.distribution_id,
            "dry_run": false,
            "files": 5,
            "bytes": bytes,
            "prune": false,
            "pruned": 0,
            "invalidation_paths": "/*",
            "invalidation_id": invalidation,
        })
    );
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn a_new_build_keeps_old_assets_unless_pruned_and_never_prunes_its_own_files() {
    let site = Site::new().await;
    let first = stub_build("aaa111");
    site.publish(&site.args(&first)).await.unwrap();

    let second = stub_build("bbb222");
    let kept = site.publish(&site.args(&second)).await.unwrap();
    assert!(kept.pruned.is_empty());
    let keys = site.keys().await;
    for key in [
        "assets/index-aaa111.js",
        "assets/index-aaa111.css",
        "assets/index-bbb222.js",
        "assets/index-bbb222.css",
    ] {
        assert!(keys.iter().any(|k| k == key), "{key} in {keys:?}");
    }
    let (_, _, index) = site.object("index.html").await;
    assert!(
        String::from_utf8(index)
            .unwrap()
            .contains("index-bbb222.js")
    );

    let pruned = site
        .publish(&PublishArgs {
            prune: true,
            ..site.args(&second)
        })
        .await
        .unwrap();
    assert_eq!(
        pruned.pruned,
        ["assets/index-aaa111.css", "assets/index-aaa111.js"]
    );
    assert_eq!(
        site.keys().await,
        [
            "assets/index-bbb222.css",
            "assets/index-bbb222.js",
            "favicon.ico",
            "index.html",
            "static/img/logo.svg",
        ]
    );
    assert_eq!(pruned.to_json()["pruned"], 2);
    assert!(site.puts.events().contains(&Put::Delete(2)));
    // One invalidation per publish.
    assert_eq!(site.invalidations().await.len(), 3);
    std::fs::remove_dir_all(first).ok();
    std::fs::remove_dir_all(second).ok();
}

/// `--prune` reads every page of the listing (1,000 keys a page) and deletes in batches of at
/// most 1,000 keys.
#[tokio::test]
async fn prune_reads_every_page_and_deletes_in_batches() {
    let site = Site::new().await;
    let stale: Vec<String> = (0..1_005)
        .map(|i| format!("assets/old-{i:04}.js"))
        .collect();
    let mut puts = tokio::task::JoinSet::new();
    for chunk in stale.chunks(64) {
        let (s3, bucket, chunk) = (site.clients.s3.clone(), site.bucket.clone(), chunk.to_vec());
        puts.spawn(async move {
            for key in chunk {
                s3.put_object()
                    .bucket(&bucket)
                    .key(key)
                    .body(Vec::from(*b"old").into())
                    .send()
                    .await
                    .unwrap();
            }
        });
    }
    while let Some(done) = puts.join_next().await {
        done.unwrap();
    }
    let build = stub_build("ccc333");
    let report = site
        .publish(&PublishArgs {
            prune: true,
            ..site.args(&build)
        })
        .await
        .unwrap();
    assert_eq!(report.pruned, stale);
    assert_eq!(site.keys().await.len(), 5);
    let deletes: Vec<usize> = site
        .puts
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Put::Delete(keys) => Some(keys),
            _ => None,
        })
        .collect();
    assert_eq!(deletes, [1000, 5]);
    std::fs::remove_dir_all(build).ok();
}

#[tokio::test]
async fn a_directory_without_index_html_is_refused_and_the_bucket_left_unchanged() {
    let site = Site::new().await;
    let build = stub_build("abc123");
    site.publish(&site.args(&build)).await.unwrap();
    let before = site.keys().await;
    let puts = site.puts.events().len();

    let not_a_build = stub_build("zzz999");
    std::fs::remove_file(not_a_build.join("index.html")).unwrap();
    let error = site
        .publish(&PublishArgs {
            prune: true,
            ..site.args(&not_a_build)
        })
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("no index.html"), "{error}");
    assert!(error.contains("nothing was uploaded"), "{error}");
    assert_eq!(site.keys().await, before);
    assert_eq!(site.puts.events().len(), puts, "no PUT");
    assert_eq!(site.invalidations().await.len(), 1, "no new invalidation");
    std::fs::remove_dir_all(build).ok();
    std::fs::remove_dir_all(not_a_build).ok();
}

#[tokio::test]
async fn a_dry_run_reports_the_plan_and_changes_nothing() {
    let site = Site::new().await;
    let first = stub_build("aaa111");
    site.publish(&site.args(&first)).await.unwrap();
    let before = site.keys().await;
    let (_, _, index_before) = site.object("index.html").await;
    let puts = site.puts.events().len();

    let second = stub_build("bbb222");
    let report = site
        .publish(&PublishArgs {
            prune: true,
            dry_run: true,
            ..site.args(&second)
        })
        .await
        .unwrap();
    assert!(report.dry_run);
    assert_eq!(
        report.uploaded,
        [
            "assets/index-bbb222.css",
            "assets/index-bbb222.js",
            "favicon.ico",
            "static/img/logo.svg",
            "index.html",
        ]
    );
    assert_eq!(
        report.pruned,
        ["assets/index-aaa111.css", "assets/index-aaa111.js"]
    );
    assert_eq!(report.invalidation_id, None);
    let plan = ui_publish::plan_lines(&report);
    assert_eq!(
        plan.last().unwrap(),
        &format!("invalidate  /* on distribution {}", site.distribution_id)
    );
    assert_eq!(report.to_json()["invalidation_id"], serde_json::Value::Null);

    assert_eq!(site.keys().await, before);
    assert_eq!(site.object("index.html").await.2, index_before);
    assert_eq!(site.puts.events().len(), puts, "no PUT");
    assert_eq!(site.invalidations().await.len(), 1, "no new invalidation");
    std::fs::remove_dir_all(first).ok();
    std::fs::remove_dir_all(second).ok();
}

#[tokio::test]
async fn a_wrong_distribution_or_bucket_is_refused_before_any_upload() {
    let site = Site::new().await;
    let build = stub_build("abc123");
    let error = site
        .publish(&PublishArgs {
            distribution_id: "E000000NOSUCH".into(),
            ..site.args(&build)
        })
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("E000000NOSUCH does not exist"), "{error}");
    let error = site
        .publish(&PublishArgs {
            bucket: format!("{}-missing", site.bucket),
            ..site.args(&build)
        })
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("no such bucket"), "{error}");
    assert!(site.puts.events().is_empty(), "no PUT");
    assert!(site.keys().await.is_empty());
    std::fs::remove_dir_all(build).ok();
}

/// What no build of the UI holds is refused before any call: a symbolic link (never followed:
/// it may point outside DIR), a file over 50 MB, more than 10,000 files.
#[test]
fn links_huge_files_and_too_many_files_are_refused_when_the_build_is_read() {
    use dispatch_cli::ui_publish::files::{MAX_FILE_BYTES, MAX_FILES, scan};

    let dir = stub_build("abc123");
    let build = scan(&dir).unwrap();
    assert_eq!(build.files.last().unwrap().key, "index.html");
    assert_eq!(build.files.len(), 5);

    std::os::unix::fs::symlink("/etc/passwd", dir.join("assets/passwd")).unwrap();
    let error = scan(&dir).unwrap_err().to_string();
    assert!(error.contains("symbolic link"), "{error}");
    std::fs::remove_file(dir.join("assets/passwd")).unwrap();

    // Hidden files (an `.env` left in the build) would be published to the world.
    std::fs::write(dir.join(".env"), "DATABASE_PASSWORD=x").unwrap();
    let error = scan(&dir).unwrap_err().to_string();
    assert!(error.contains("hidden"), "{error}");
    std::fs::remove_file(dir.join(".env")).unwrap();

    // Sparse: no disk used.
    let huge = std::fs::File::create(dir.join("assets/huge.bin")).unwrap();
    huge.set_len(MAX_FILE_BYTES + 1).unwrap();
    let error = scan(&dir).unwrap_err().to_string();
    assert!(error.contains("over the limit"), "{error}");
    huge.set_len(MAX_FILE_BYTES).unwrap();
    assert_eq!(
        scan(&dir).unwrap().files.len(),
        6,
        "exactly 50 MB is allowed"
    );
    std::fs::remove_file(dir.join("assets/huge.bin")).unwrap();

    let many = dir.join("many");
    std::fs::create_dir(&many).unwrap();
    for i in 0..(MAX_FILES - 5) {
        std::fs::write(many.join(i.to_string()), "").unwrap();
    }
    assert_eq!(scan(&dir).unwrap().files.len(), MAX_FILES);
    std::fs::write(many.join("one-more"), "").unwrap();
    let error = scan(&dir).unwrap_err().to_string();
    assert!(error.contains("more than 10000 files"), "{error}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn content_types_and_cache_control_follow_the_extension_and_the_folder() {
    use dispatch_cli::ui_publish::files::{cache_control, content_type};
    for (key, expected) in [
        ("index.html", "text/html; charset=utf-8"),
        ("assets/a.MJS", "text/javascript; charset=utf-8"),
        ("assets/a.js.map", "application/json; charset=utf-8"),
        (
            "manifest.webmanifest",
            "application/manifest+json; charset=utf-8",
        ),
        ("robots.txt", "text/plain; charset=utf-8"),
        ("sitemap.xml", "application/xml; charset=utf-8"),
        ("a.json", "application/json; charset=utf-8"),
        ("a.png", "image/png"),
        ("a.JPG", "image/jpeg"),
        ("a.jpeg", "image/jpeg"),
        ("a.gif", "image/gif"),
        ("a.webp", "image/webp"),
        ("assets/f.woff", "font/woff"),
        ("assets/f.woff2", "font/woff2"),
        ("assets/f.ttf", "font/ttf"),
        ("LICENSE", "application/octet-stream"),
        (".htaccess", "application/octet-stream"),
        ("a.wasm", "application/octet-stream"),
    ] {
        assert_eq!(content_type(key), expected, "{key}");
    }
    assert_eq!(cache_control("assets/index-abc.js"), IMMUTABLE);
    assert_eq!(cache_control("index.html"), "no-cache");
    assert_eq!(cache_control("static/assets/x.js"), "no-cache");
}

/// The command line reaches the command: `dispatch ui publish DIR …`.
#[test]
fn the_command_line_parses_into_publish_arguments() {
    use clap::Parser;
    use dispatch_cli::{Cli, Command, ui_publish::UiCommand};
    let cli = Cli::try_parse_from([
        "dispatch",
        "ui",
        "publish",
        "dist",
        "--bucket",
        "ui-bucket",
        "--distribution-id",
        "E123",
        "--prune",
        "--dry-run",
        "--output",
        "json",
    ])
    .unwrap();
    let Command::Ui(UiCommand::Publish(args)) = cli.command else {
        panic!("not ui publish");
    };
    assert_eq!(args.dir, PathBuf::from("dist"));
    assert_eq!(
        (args.bucket.as_str(), args.distribution_id.as_str()),
        ("ui-bucket", "E123")
    );
    assert!(args.prune && args.dry_run);
    assert_eq!(args.output, OutputFormat::Json);
    assert!(Cli::try_parse_from(["dispatch", "ui", "publish", "dist"]).is_err());
}

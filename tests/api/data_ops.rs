//! `dispatch database dump | restore | drop | backup` and the global flags, against DynamoDB
//! Local, through the CLI's library functions.

use std::collections::HashMap;
use std::io::Cursor;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use clap::{CommandFactory, Parser};
use dispatch_cli::data::drop::{Confirmation, drop_table};
use dispatch_cli::data::progress::Progress;
use dispatch_cli::data::{backup, codec, dump, restore};
use dispatch_cli::target::Target;
use dispatch_cli::{Cli, Command};
use dispatch_store::{Item, Key, Store, schema};

use crate::helpers::{create_organization, scan_all, spawn_app, unique_table};

/// A table made by `spawn_app` plus users, organizations and one item of every attribute type.
async fn populated() -> Store {
    let app = spawn_app().await;
    for email in ["ada@example.com", "grace@example.com"] {
        app.register(email, "correct horse battery staple").await;
    }
    for name in ["Research", "Operations"] {
        create_organization(&app.store, name).await;
    }
    app.store
        .put_batch(vec![Item::from_raw(every_type())])
        .await
        .unwrap();
    app.store
}

fn every_type() -> HashMap<String, AttributeValue> {
    let nested = HashMap::from([
        ("z".to_owned(), AttributeValue::N("1.50".into())),
        ("a".to_owned(), AttributeValue::Null(true)),
        (
            "m".to_owned(),
            AttributeValue::M(HashMap::from([
                ("y".to_owned(), AttributeValue::Bool(false)),
                ("b".to_owned(), AttributeValue::S("é \"quoted\"\n".into())),
            ])),
        ),
    ]);
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S("TEST#types".into())),
        ("sk".to_owned(), AttributeValue::S("TYPES".into())),
        (
            "blob".to_owned(),
            AttributeValue::B(Blob::new(vec![0, 159, 255])),
        ),
        ("flag".to_owned(), AttributeValue::Bool(true)),
        ("map".to_owned(), AttributeValue::M(nested)),
        (
            "list".to_owned(),
            AttributeValue::L(vec![
                AttributeValue::N("3".into()),
                AttributeValue::S("x".into()),
            ]),
        ),
        (
            "ss".to_owned(),
            AttributeValue::Ss(vec!["b".into(), "a".into()]),
        ),
        (
            "ns".to_owned(),
            AttributeValue::Ns(vec!["10".into(), "2".into()]),
        ),
        (
            "bs".to_owned(),
            AttributeValue::Bs(vec![Blob::new(vec![2]), Blob::new(vec![1])]),
        ),
    ])
}

async fn dump_lines(store: &Store) -> Vec<String> {
    let mut out = Vec::new();
    dump::dump(store, &mut out, 4, &Progress::hidden())
        .await
        .unwrap();
    let mut lines: Vec<String> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

fn joined(lines: &[String]) -> Vec<u8> {
    lines
        .iter()
        .flat_map(|l| format!("{l}\n").into_bytes())
        .collect()
}

fn fresh(store: &Store) -> Store {
    Store::new(store.client().clone(), unique_table())
}

async fn table_exists(store: &Store) -> bool {
    dispatch_cli::data::describe(store).await.is_ok()
}

#[test]
fn codec_lines_are_canonical_and_round_trip_every_type() {
    let item = every_type();
    let line = codec::to_line(&item).unwrap();
    assert!(
        line.starts_with(r#"{"blob":{"B":"AJ//"},"bs":{"BS":["AQ==","Ag=="]},"flag""#),
        "{line}"
    );
    assert!(line.contains(r#""map":{"M":{"a":{"NULL":true},"m":{"M":{"b":{"S":"é \"quoted\"\n"},"y":{"BOOL":false}}},"z":{"N":"1.50"}}}"#), "{line}");
    assert!(
        line.contains(r#""ss":{"SS":["a","b"]}"#) && line.contains(r#""ns":{"NS":["10","2"]}"#)
    );
    let back = codec::from_line(&line).unwrap();
    assert_eq!(codec::to_line(&back).unwrap(), line);
    assert_eq!(back["list"], item["list"]);
    assert_eq!(back["map"], item["map"]);
    assert!(codec::from_line(r#"{"pk":{"Q":"x"}}"#).is_err());
}

#[tokio::test]
async fn dump_restore_dump_is_byte_identical_after_sorting_and_the_count_is_verified() {
    let source = populated().await;
    let first = dump_lines(&source).await;
    assert_eq!(first.len(), scan_all(&source).await.len());
    assert!(
        first
            .iter()
            .all(|l| l.starts_with('{') && !l.contains('\n'))
    );

    let copy = fresh(&source);
    let report = restore::restore(
        &copy,
        Cursor::new(joined(&first)),
        false,
        4,
        &Progress::hidden(),
    )
    .await
    .unwrap();
    assert!(report.table_created && !report.had_items && report.verified());
    assert_eq!(report.items_written as usize, first.len());
    assert_eq!(report.items_counted as usize, first.len());
    let json = report.to_json();
    assert_eq!(json["verified"], true);
    let table = dispatch_cli::data::render(&json, dispatch_cli::data::OutputFormat::Table);
    assert!(
        table.contains("items_counted") && table.lines().count() == 6,
        "{table}"
    );

    let second = dump_lines(&copy).await;
    assert_eq!(joined(&second), joined(&first));
    assert_eq!(scan_all(&copy).await, scan_all(&source).await);
}

#[tokio::test]
async fn restore_refuses_a_non_empty_table_without_force_and_writes_with_it() {
    let source = populated().await;
    let lines = dump_lines(&source).await;
    let target = fresh(&source);
    schema::ensure_table(target.client(), target.table())
        .await
        .unwrap();
    let existing = Item::bare(&Key::new("KEEP#1", "KEEP"), "Keep");
    target.put_batch(vec![existing]).await.unwrap();
    let before = scan_all(&target).await;

    let refused = restore::restore(
        &target,
        Cursor::new(joined(&lines)),
        false,
        4,
        &Progress::hidden(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        refused.contains("is not empty") && refused.contains("--force"),
        "{refused}"
    );
    assert!(!refused.contains('\n'), "one line: {refused}");
    assert_eq!(
        scan_all(&target).await,
        before,
        "the refused restore changed the table"
    );

    let forced = restore::restore(
        &target,
        Cursor::new(joined(&lines)),
        true,
        4,
        &Progress::hidden(),
    )
    .await
    .unwrap();
    assert!(forced.had_items && !forced.table_created);
    assert_eq!(forced.items_written as usize, lines.len());
    assert_eq!(forced.items_counted as usize, lines.len() + 1);
}

#[tokio::test]
async fn a_gzip_dump_round_trips() {
    let source = populated().await;
    let dir = std::env::temp_dir().join(format!("dispatch-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("dump.jsonl.gz");
    let items = dump::dump_file(&source, &path, 2, &Progress::hidden())
        .await
        .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "a gzip file");
    assert!(!dir.join("dump.jsonl.gz.partial").exists());

    let copy = fresh(&source);
    let report = restore::restore_file(&copy, &path, false, 4, &Progress::hidden())
        .await
        .unwrap();
    assert_eq!(report.items_written, items);
    assert!(report.verified());
    assert_eq!(dump_lines(&copy).await, dump_lines(&source).await);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn drop_needs_the_table_name_typed_then_deletes_the_table() {
    let app = spawn_app().await;
    let store = app.store.clone();
    let before = scan_all(&store).await;

    let mut prompt = Vec::new();
    let wrong = drop_table(
        &store,
        Confirmation::Typed {
            answer: &mut Cursor::new(b"dispatch\n".to_vec()),
            prompt: &mut prompt,
            endpoint: "http://127.0.0.1:8101".into(),
        },
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        wrong.contains("does not match") && !wrong.contains('\n'),
        "{wrong}"
    );
    let asked = String::from_utf8(prompt).unwrap();
    assert!(
        asked.contains(store.table()) && asked.contains("127.0.0.1:8101"),
        "{asked}"
    );
    assert_eq!(
        scan_all(&store).await,
        before,
        "a wrong name changed the table"
    );

    let typed = format!("{}\n", store.table());
    drop_table(
        &store,
        Confirmation::Typed {
            answer: &mut Cursor::new(typed.into_bytes()),
            prompt: &mut Vec::new(),
            endpoint: String::new(),
        },
    )
    .await
    .unwrap();
    assert!(!table_exists(&store).await, "the table is gone");

    let other = spawn_app().await.store;
    drop_table(&other, Confirmation::Given).await.unwrap();
    assert!(!table_exists(&other).await);
    let missing = drop_table(&other, Confirmation::Given)
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(missing, format!("table `{}` does not exist", other.table()));
}

#[tokio::test]
async fn backup_on_dynamodb_local_and_commands_on_a_missing_table_are_one_line_errors() {
    let app = spawn_app().await;
    let error = backup::backup(&app.store).await.unwrap_err();
    assert_eq!(format!("{error:#}"), backup::NOT_AVAILABLE);

    let missing = fresh(&app.store);
    let error = backup::backup(&missing).await.unwrap_err();
    assert_eq!(
        format!("{error:#}"),
        format!("table `{}` does not exist", missing.table())
    );
    let error = dump::dump(&missing, &mut Vec::new(), 4, &Progress::hidden())
        .await
        .unwrap_err();
    assert_eq!(
        format!("{error:#}"),
        format!("table `{}` does not exist", missing.table())
    );

    let name = backup::backup_name("dispatch", "2025-01-02T03:04:05Z".parse().unwrap());
    assert_eq!(name, "dispatch-20250102T030405Z");
    assert_eq!(
        backup::backup_name(&"t".repeat(255), chrono_now()).len(),
        255
    );
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

#[tokio::test]
async fn global_flags_override_the_environment() {
    let env = |name: &str| match name {
        "DISPATCH_TABLE_NAME" => Some("from-env".to_owned()),
        "AWS_ENDPOINT_URL_DYNAMODB" => Some("http://127.0.0.1:8101".to_owned()),
        _ => None,
    };
    let cli = Cli::try_parse_from([
        "dispatch",
        "--table",
        "x",
        "--region",
        "eu-west-3",
        "--endpoint-url",
        "http://127.0.0.1:9",
        "--profile",
        "ops",
        "database",
        "dump",
        "-",
    ])
    .unwrap();
    assert_eq!(cli.global.profile.as_deref(), Some("ops"));
    let flags = dispatch_cli::target::GlobalArgs {
        profile: None,
        ..cli.global.clone()
    };
    let target = Target::load_with(&flags, env).await.unwrap();
    assert_eq!(target.table, "x");
    assert_eq!(target.region.as_deref(), Some("eu-west-3"));
    assert_eq!(target.endpoint.as_deref(), Some("http://127.0.0.1:9"));
    assert_eq!(target.store().table(), "x");

    // Global: accepted after the subcommand too; absent flags leave the environment in charge.
    let cli = Cli::try_parse_from(["dispatch", "database", "restore", "d.jsonl", "--table", "y"])
        .unwrap();
    assert_eq!(cli.global.table.as_deref(), Some("y"));
    let Command::Database(dispatch_cli::database::DatabaseCommand::Restore(args)) = cli.command
    else {
        panic!("parsed as restore");
    };
    assert!(!args.force && args.file == "d.jsonl");
    let defaults = Target::load_with(&Default::default(), env).await.unwrap();
    assert_eq!(defaults.table, "from-env");
    assert_eq!(defaults.endpoint.as_deref(), Some("http://127.0.0.1:8101"));
    let none = Target::load_with(&Default::default(), |_| None)
        .await
        .unwrap_err();
    assert!(none.to_string().contains("--table"), "{none}");

    let help = Cli::command().render_long_help().to_string();
    for flag in [
        "--profile",
        "--region",
        "--endpoint-url",
        "--table",
        "DISPATCH_TABLE_NAME",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help:\n{help}");
    }
    let error = Cli::try_parse_from(["dispatch", "--help"]).unwrap_err();
    assert_eq!(error.kind(), clap::error::ErrorKind::DisplayHelp);
    assert!(error.to_string().contains("--endpoint-url"));
}

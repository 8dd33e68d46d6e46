//! Upgrade, resume, concurrency, downgrade and stamp of the shipped migrations.

use std::time::Duration;

use dispatch_domain::migrations::{self, HEAD};
use dispatch_store::migrate::MigrationError;
use dispatch_store::migrate::history;
use dispatch_store::{Item, keys};

use super::{marked, runner, table_at_version_1};

#[tokio::test]
async fn a_table_at_version_1_is_upgraded_and_checked_item_by_item() {
    let (app, live, hidden) = table_at_version_1(2, 3).await;
    assert_eq!(history::current(&app.store).await.unwrap(), Some(1));
    assert!(marked(&app.store).await.is_empty());

    let all = migrations::all();
    let entries = runner(&app.store, &all, "operator")
        .migrate(2)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0].from_version, entries[0].to_version), (1, 2));
    assert_eq!(entries[0].items_touched, hidden.len() as u64);
    assert_eq!(entries[0].checksum, all[0].checksum());
    assert_eq!(history::current(&app.store).await.unwrap(), Some(2));

    // Exactly the hidden projects got a marker; the live ones did not.
    assert_eq!(marked(&app.store).await, hidden);
    assert!(live.iter().all(|id| !hidden.contains(id)));
    // No checkpoint is left behind, and the history says what ran and who ran it.
    let meta = app
        .store
        .query_prefix(dispatch_store::Source::Table, "META", "CHECKPOINT#")
        .await
        .unwrap();
    assert!(meta.is_empty());
    let log = history::entries(&app.store).await.unwrap();
    let last = log.last().unwrap();
    assert_eq!(
        (last.direction.as_str(), last.applied_by.as_str()),
        ("up", "operator")
    );

    // The markers do their job: the interrupted deletions get finished.
    dispatch_domain::organization_delete::finish_pending(&app.store)
        .await
        .unwrap();
    assert!(marked(&app.store).await.is_empty());
    for id in &hidden {
        let items = app
            .store
            .partition_keys(&keys::project_partition("default", *id))
            .await
            .unwrap();
        assert!(items.is_empty(), "project {id} removed");
    }

    // Upgrading again does nothing.
    assert!(
        runner(&app.store, &all, "operator")
            .migrate(2)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_migration_killed_halfway_resumes_from_its_checkpoints_without_starting_over() {
    let (app, _, _) = table_at_version_1(0, 0).await;
    // 1,200 hidden project items straight in the table (only their keys and flag matter).
    let items: Vec<Item> = (0..1_200)
        .map(|n| {
            Item::bare(&keys::project("default", 10_000 + n), "Project").with_value(
                "deleted",
                aws_sdk_dynamodb::types::AttributeValue::Bool(true),
            )
        })
        .collect();
    app.store.put_batch(items).await.unwrap();
    let all = migrations::all();

    let store = app.store.clone();
    let killed = tokio::spawn(async move {
        let all = migrations::all();
        runner(&store, &all, "killed").migrate(HEAD).await
    });
    let table_items = crate::helpers::scan_all(&app.store).await.len() as u64;
    // Kill it about halfway.
    while marked(&app.store).await.len() < 600 && !killed.is_finished() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    killed.abort();
    let _ = killed.await;
    let first = marked(&app.store).await.len();
    assert_eq!(
        history::current(&app.store).await.unwrap(),
        Some(1),
        "not finished"
    );
    assert!(
        first > 0 && first < 1_200,
        "stopped halfway: {first} markers"
    );

    // Its lock is still there until its lease ends: a new run is refused, then takes over.
    let refused = runner(&app.store, &all, "resumer").migrate(HEAD).await;
    assert!(
        matches!(refused, Err(MigrationError::Locked { ref holder, .. }) if holder.starts_with("killed [")),
        "{refused:?}"
    );
    // Once its lease (2 s from its last renewal) has ended, the next run takes over.
    let started = std::time::Instant::now();
    let entries = loop {
        match runner(&app.store, &all, "resumer").migrate(HEAD).await {
            Err(MigrationError::Locked { .. }) if started.elapsed() < Duration::from_secs(6) => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            other => break other.unwrap(),
        }
    };
    assert_eq!(marked(&app.store).await.len(), 1_200, "every marker, once");
    let resumed = &entries[0];
    assert!(
        resumed.items_touched as usize <= 1_200 - first,
        "the resumed run wrote only what was left: {} after {first}",
        resumed.items_touched
    );
    // At most one page (100 items) per segment (4) is read again.
    assert!(
        resumed.items_scanned <= table_items - first as u64 + 400,
        "the resumed run did not read the table again from the start: {} of {table_items} read after {first} were done",
        resumed.items_scanned
    );
}

#[tokio::test]
async fn a_reversible_migration_goes_down_and_up_again_and_stamp_runs_nothing() {
    let (app, _, hidden) = table_at_version_1(1, 2).await;
    let all = migrations::all();
    runner(&app.store, &all, "op").migrate(2).await.unwrap();
    assert_eq!(marked(&app.store).await, hidden);

    let down = runner(&app.store, &all, "op").migrate(1).await.unwrap();
    assert_eq!(
        (down[0].direction.as_str(), down[0].to_version),
        ("down", 1)
    );
    assert!(marked(&app.store).await.is_empty());
    assert_eq!(history::current(&app.store).await.unwrap(), Some(1));

    runner(&app.store, &all, "op").migrate(2).await.unwrap();
    assert_eq!(marked(&app.store).await, hidden);

    // Stamp moves the version only.
    let before = crate::helpers::scan_all(&app.store).await.len();
    let stamped = runner(&app.store, &all, "op").stamp(1).await.unwrap();
    assert_eq!(
        (
            stamped.direction.as_str(),
            stamped.from_version,
            stamped.to_version
        ),
        ("stamp", 2, 1)
    );
    assert_eq!(history::current(&app.store).await.unwrap(), Some(1));
    // One history entry more, nothing else.
    assert_eq!(crate::helpers::scan_all(&app.store).await.len(), before + 1);
    assert!(matches!(
        runner(&app.store, &all, "op").stamp(HEAD + 1).await,
        Err(MigrationError::Invalid(_))
    ));
}

/// A table the previous build made: version 1 recorded, no history at all. `database init`
/// leaves it at 1 and says to upgrade; `upgrade` brings it to 2 with a history of one entry.
#[tokio::test]
async fn a_table_from_the_previous_build_without_history_is_initialised_and_upgraded() {
    let (app, _, hidden) = table_at_version_1(0, 1).await;
    // What the previous build left: the marker alone, no history.
    let history_keys: Vec<dispatch_store::Key> = app
        .store
        .query_prefix(
            dispatch_store::Source::Table,
            "META",
            keys::MIGRATION_HISTORY_PREFIX,
        )
        .await
        .unwrap()
        .iter()
        .map(dispatch_store::item::key_of)
        .collect();
    app.store.delete_batch(&history_keys).await.unwrap();
    app.store
        .put_batch(vec![
            Item::bare(&keys::schema(), "Schema")
                .with_number("schema_version", 1)
                .with_str("applied_at", "2026-11-20T10:00:00.000000Z"),
        ])
        .await
        .unwrap();

    let report = dispatch_cli::database::init(&app.store).await.unwrap();
    assert_eq!((report.schema_recorded, report.schema_version), (None, 1));
    assert!(
        report
            .lines()
            .iter()
            .any(|l| l.contains("run `dispatch database upgrade`"))
    );

    let all = migrations::all();
    runner(&app.store, &all, "op").migrate(2).await.unwrap();
    assert_eq!(history::current(&app.store).await.unwrap(), Some(2));
    let log = history::entries(&app.store).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].direction.as_str(), log[0].from_version), ("up", 1));
    assert_eq!(marked(&app.store).await, hidden);
}

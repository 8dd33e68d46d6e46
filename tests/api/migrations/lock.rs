//! One runner at a time (the lease lock: refusal, takeover, lapsed renewals, Ctrl-C) and the
//! operator's commands end to end.

use std::time::Duration;

use dispatch_domain::migrations::{self, HEAD};
use dispatch_store::migrate::MigrationError;
use dispatch_store::migrate::history;
use dispatch_store::{Item, keys};

use super::{hold_lock, marked, runner, table_at_version_1};

#[tokio::test]
async fn of_two_concurrent_upgrades_one_runs_and_the_other_is_refused_naming_the_holder() {
    let (app, _, hidden) = table_at_version_1(0, 2).await;
    let all = migrations::all();
    let held = hold_lock(&app.store, "alice@ops pid 1").await;
    let refused = runner(&app.store, &all, "bob").migrate(2).await;
    match refused {
        Err(MigrationError::Locked { holder, since, .. }) => {
            assert!(holder.starts_with("alice@ops pid 1 ["), "{holder}");
            assert!(since.ends_with('Z'), "{since}");
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    assert_eq!(history::current(&app.store).await.unwrap(), Some(1));
    held.release().await.unwrap();

    // Truly at once: the migration is applied once; the other runner was refused or found
    // nothing left to do.
    let (runner_a, runner_b) = (runner(&app.store, &all, "a"), runner(&app.store, &all, "b"));
    let (a, b) = tokio::join!(runner_a.migrate(2), runner_b.migrate(2));
    let applied: usize = [&a, &b]
        .iter()
        .map(|r| r.as_ref().map_or(0, |e| e.len()))
        .sum();
    assert_eq!(applied, 1, "{a:?} {b:?}");
    for r in [&a, &b] {
        assert!(
            r.is_ok() || matches!(r, Err(MigrationError::Locked { .. })),
            "{r:?}"
        );
    }
    assert_eq!(marked(&app.store).await, hidden);
}

/// A runner whose lock was taken over notices at its next heartbeat: it stops (`check`) and
/// can no longer record a checkpoint or a version (`guard`).
#[tokio::test]
async fn a_runner_whose_lock_was_taken_over_stops_and_records_nothing() {
    use dispatch_store::migrate::lock::Lease;
    let app = crate::helpers::spawn_app().await;
    let first = Lease::acquire(&app.store, "first", Duration::from_millis(900))
        .await
        .unwrap();
    first.check().unwrap();
    // Another runner took the lock (as after the first one's lease ran out while it was paused).
    app.store
        .put_batch(vec![
            Item::bare(&keys::migration_lock(), "MigrationLock").with_str("holder", "second [1]"),
        ])
        .await
        .unwrap();
    // Its next heartbeat (a third of the lease) notices; a loaded machine may run it late.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while first.check().is_ok() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(matches!(first.check(), Err(MigrationError::LostLock)));
    let mut tx = dispatch_store::Transaction::new();
    first.guard(&mut tx).unwrap();
    let recorded = app.store.transact(tx).await.map_err(Lease::map_error);
    assert!(
        matches!(recorded, Err(MigrationError::LostLock)),
        "{recorded:?}"
    );
}

/// A runner that cannot renew its lease (the store stalls for it) stops writing before the
/// lease ends, although nobody took the lock yet.
#[tokio::test]
async fn a_runner_that_cannot_renew_its_lease_stops_before_it_ends() {
    use crate::fault_proxy::{Fault, FaultProxy, Rule};
    use dispatch_domain::aws_sdk::CallBounds;
    use dispatch_store::migrate::lock::Lease;
    let app = crate::helpers::spawn_app().await;
    let proxy = FaultProxy::start(&crate::resilience::dynamodb_endpoint().await).await;
    let store = dispatch_store::Store::new(
        crate::resilience::bounded_client(&proxy.endpoint(), CallBounds::API).await,
        app.store.table(),
    );
    let lease = Lease::acquire(&store, "stalled", Duration::from_millis(1_200))
        .await
        .unwrap();
    proxy.inject(Rule::always(Fault::Stall));
    lease.check().unwrap();
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert!(
        matches!(lease.check(), Err(MigrationError::LostLock)),
        "no renewal for a whole lease"
    );
    proxy.heal();
}

/// The operator's commands: `upgrade --dry-run` changes nothing; `upgrade --yes` runs the plan;
/// `check` then finds no drift; `downgrade --to 1 --yes` reverts.
#[tokio::test]
async fn the_cli_commands_plan_run_check_and_revert() {
    use dispatch_cli::migrate::{MigrationCommand, run};
    use dispatch_cli::target::{GlobalArgs, Target};
    let (app, _, hidden) = table_at_version_1(0, 1).await;
    let flags = GlobalArgs {
        table: Some(app.store.table().to_owned()),
        endpoint_url: Some(crate::resilience::dynamodb_endpoint().await),
        ..Default::default()
    };
    let target = Target::load(&flags).await.unwrap();
    let version = || async { history::current(&app.store).await.unwrap() };

    let upgrade = |dry_run| MigrationCommand::Upgrade {
        to: None,
        dry_run,
        yes: true,
    };
    run(upgrade(true), &target).await.unwrap();
    assert_eq!(version().await, Some(1), "a dry run runs nothing");
    let check = || MigrationCommand::Check {
        output: Default::default(),
    };
    let pending = run(check(), &target).await.unwrap_err().to_string();
    assert!(pending.contains("1 problem"), "{pending}");

    run(upgrade(false), &target).await.unwrap();
    assert_eq!(version().await, Some(HEAD));
    assert_eq!(marked(&app.store).await, hidden);
    run(check(), &target)
        .await
        .expect("no drift, nothing pending");

    run(MigrationCommand::Downgrade { to: 1, yes: true }, &target)
        .await
        .unwrap();
    assert_eq!(version().await, Some(1));
    let refused = run(
        MigrationCommand::Upgrade {
            to: Some(9),
            dry_run: false,
            yes: true,
        },
        &target,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(refused.contains("unknown to this build"), "{refused}");
}

/// Ctrl-C (any stop signal) during a run: the work stops, the lock is released at once, and
/// the next run continues without waiting for a lease to end.
#[tokio::test]
async fn an_interrupted_run_releases_the_lock_and_the_next_one_continues_at_once() {
    let (app, _, _) = table_at_version_1(0, 0).await;
    let items: Vec<Item> = (0..800)
        .map(|n| {
            Item::bare(&keys::project("default", 20_000 + n), "Project").with_value(
                "deleted",
                aws_sdk_dynamodb::types::AttributeValue::Bool(true),
            )
        })
        .collect();
    app.store.put_batch(items).await.unwrap();
    let all = migrations::all();
    let first = runner(&app.store, &all, "first");
    let plan = dispatch_store::migrate::runner::plan(&all, 1, HEAD).unwrap();
    let stop = async {
        while marked(&app.store).await.len() < 200 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    let interrupted = first.migrate_planned(&plan, stop).await;
    assert!(
        matches!(interrupted, Err(MigrationError::Interrupted)),
        "{interrupted:?}"
    );
    assert_eq!(history::current(&app.store).await.unwrap(), Some(1));

    let entries = runner(&app.store, &all, "next")
        .migrate(HEAD)
        .await
        .expect("no lock left");
    assert_eq!(entries[0].to_version, 2);
    assert_eq!(marked(&app.store).await.len(), 800);
}

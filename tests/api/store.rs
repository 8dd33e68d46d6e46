//! The store against DynamoDB Local: guards, all-or-nothing transactions, version conflicts,
//! duplicate-key refusal, id blocks.

use std::collections::HashSet;

use dispatch_store::schema::ensure_table;
use dispatch_store::{
    Item, Key, Store, StoreError, Transaction, from_attributes, retry_on_version_conflict,
};
use serde::{Deserialize, Serialize};

use crate::helpers::{empty_store, sdk_config, spawn_app};

async fn fresh_store() -> Store {
    let store = empty_store().await;
    ensure_table(store.client(), store.table())
        .await
        .expect("table");
    store
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Counter {
    value: i64,
    version: u64,
}

fn counter_item(key: &Key, counter: &Counter) -> Item {
    Item::new(key, "Counter", counter).unwrap()
}

#[tokio::test]
async fn a_taken_guard_fails_the_whole_transaction_with_its_label() {
    let store = fresh_store().await;
    let mut first = Transaction::new();
    first
        .put_new(
            Item::bare(&Key::new("EMAIL#a@example.com", "EMAIL"), "Guard"),
            "email",
        )
        .unwrap();
    store.transact(first).await.unwrap();

    let bystander = Key::new("USER#2", "USER");
    let mut second = Transaction::new();
    second
        .put_new(Item::bare(&bystander, "User"), "user")
        .unwrap();
    second
        .put_new(
            Item::bare(&Key::new("EMAIL#a@example.com", "EMAIL"), "Guard"),
            "email",
        )
        .unwrap();
    let error = store.transact(second).await.unwrap_err();

    assert!(
        matches!(&error, StoreError::ConditionFailed { label } if label == "email"),
        "{error:?}"
    );
    assert!(
        store.get_attributes(&bystander).await.unwrap().is_none(),
        "nothing of a failed transaction is written"
    );
}

#[tokio::test]
async fn two_actions_on_one_key_are_refused_before_anything_is_sent() {
    let store = fresh_store().await;
    let key = Key::new("ORG#x", "ORG");
    let mut tx = Transaction::new();
    tx.put_new(Item::bare(&key, "Organization"), "org").unwrap();
    let error = tx.delete(key.clone(), None, None).unwrap_err();
    assert!(matches!(
        error,
        StoreError::DuplicateKeyInTransaction { .. }
    ));
    assert_eq!(tx.len(), 1);
    store.transact(tx).await.unwrap();
    assert!(store.get_attributes(&key).await.unwrap().is_some());
}

#[tokio::test]
async fn a_stale_version_is_a_version_conflict_and_changes_nothing() {
    let store = fresh_store().await;
    let key = Key::new("COUNTER#test", "COUNTER");
    let mut create = Transaction::new();
    create
        .put_new(
            counter_item(
                &key,
                &Counter {
                    value: 1,
                    version: 1,
                },
            ),
            "counter",
        )
        .unwrap();
    store.transact(create).await.unwrap();

    let mut update = Transaction::new();
    update
        .put_versioned(
            counter_item(
                &key,
                &Counter {
                    value: 2,
                    version: 2,
                },
            ),
            1,
        )
        .unwrap();
    store.transact(update).await.unwrap();

    let mut stale = Transaction::new();
    stale
        .put_versioned(
            counter_item(
                &key,
                &Counter {
                    value: 99,
                    version: 2,
                },
            ),
            1,
        )
        .unwrap();
    assert!(matches!(
        store.transact(stale).await,
        Err(StoreError::VersionConflict)
    ));
    let stored: Counter = store.get(&key).await.unwrap().unwrap();
    assert_eq!(
        stored,
        Counter {
            value: 2,
            version: 2
        }
    );
}

#[tokio::test]
async fn concurrent_read_modify_writes_all_land_with_retries() {
    let store = fresh_store().await;
    let key = Key::new("COUNTER#race", "COUNTER");
    let mut create = Transaction::new();
    create
        .put_new(
            counter_item(
                &key,
                &Counter {
                    value: 0,
                    version: 1,
                },
            ),
            "counter",
        )
        .unwrap();
    store.transact(create).await.unwrap();

    // Four writers and three retries: each loses at most three races, so all must land.
    let writers = (0..4).map(|_| {
        let store = store.clone();
        let key = key.clone();
        tokio::spawn(async move {
            retry_on_version_conflict(|| async {
                let current: Counter = store.get(&key).await?.expect("counter");
                let next = Counter {
                    value: current.value + 1,
                    version: current.version + 1,
                };
                let mut tx = Transaction::new();
                tx.put_versioned(counter_item(&key, &next), current.version)?;
                store.transact(tx).await
            })
            .await
        })
    });
    for writer in writers {
        writer.await.unwrap().expect("every writer lands");
    }
    let stored: Counter = store.get(&key).await.unwrap().unwrap();
    assert_eq!(stored.value, 4, "no lost update");
    assert_eq!(stored.version, 5);
}

#[tokio::test]
async fn ids_are_unique_across_processes_and_positive_31_bit() {
    let table = fresh_store().await.table().to_owned();
    // Two stores stand for two Lambda instances, each reserving its own blocks.
    let client = aws_sdk_dynamodb::Client::new(sdk_config().await);
    let instances = [
        Store::new(client.clone(), table.as_str()),
        Store::new(client, table.as_str()),
    ];
    let tasks = instances.iter().flat_map(|store| {
        (0..20).map(move |_| {
            let store = store.clone();
            tokio::spawn(async move { store.next_id(dispatch_store::IdKind::Project).await })
        })
    });
    let mut ids = HashSet::new();
    for task in tasks.collect::<Vec<_>>() {
        let id = task.await.unwrap().unwrap();
        assert!(id > 0);
        assert!(ids.insert(id), "id {id} handed out twice");
    }
    assert_eq!(ids.len(), 40);
}

#[tokio::test]
async fn batch_get_keeps_the_order_of_the_keys() {
    let app = spawn_app().await;
    let keys = [
        dispatch_store::keys::organization("default"),
        Key::new("ORG#missing", "ORG"),
        dispatch_store::keys::schema(),
    ];
    let found = app.store.batch_get(&keys).await.unwrap();
    assert_eq!(found.len(), 3);
    let org: dispatch_domain::model::Organization =
        from_attributes(found[0].clone().unwrap()).unwrap();
    assert_eq!(org.slug, "default");
    assert!(found[1].is_none());
    assert!(found[2].is_some());
}

#[tokio::test]
async fn start_up_refuses_a_table_that_was_never_initialised() {
    let store = fresh_store().await;
    let error = dispatch_shared::state::check_schema(&store)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("is not initialised"), "{error}");
    let app = spawn_app().await;
    dispatch_shared::state::check_schema(&app.store)
        .await
        .expect("initialised table passes");
}

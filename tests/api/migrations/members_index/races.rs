//! Migration 4's writes meeting other writers, and a run cut short. The window between the
//! pass's scan and its write is opened on purpose rather than timed: an interceptor on the
//! runner's client runs another writer's change just before the pass's write of a chosen
//! membership is sent, so that write always meets the change.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::types::AttributeValue;
use dispatch_domain::migrations;
use dispatch_domain::model::Role;
use dispatch_domain::users;
use dispatch_store::migrate::history;
use dispatch_store::{Key, item::key_of};

use super::{assert_all_placed, emails, everyone, get, in_index, memberships, text, unmigrated};
use crate::migrations::interleave::{Meanwhile, placing, store_with};
use crate::migrations::{runner, state_at};

/// Lets the pass make this many writes, then fails every other one, as a run that lost its
/// connection (or was throttled to a stop) halfway.
#[derive(Debug, Clone)]
struct CutShort(Arc<AtomicUsize>);

impl Intercept for CutShort {
    fn name(&self) -> &'static str {
        "CutShort"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if placing(context, "members_sk").is_some()
            && self
                .0
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_err()
        {
            return Err("connection lost".into());
        }
        Ok(())
    }
}

/// The key of `email`'s membership.
fn key_of_member(memberships: &[dispatch_store::Attributes], email: &str) -> Key {
    key_of(
        memberships
            .iter()
            .find(|m| text(m, "email") == Some(email))
            .unwrap(),
    )
}

/// Scanned without `members_sk`, then before the pass's write: m03's membership removed
/// (the write must not bring it back, even as a fragment), m05's email order changed (the
/// write must copy the order it finds, not the one scanned: no request changes an email
/// today, the write must not depend on it), m07's membership rewritten by this build, which
/// places it (the write must not touch it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_membership_removed_reordered_or_rewritten_after_the_scan_is_not_overwritten() {
    let (app, _) = unmigrated(9).await;
    let before = memberships(&app.store).await;
    let (gone, moved, rewritten) = (
        key_of_member(&before, "m03@example.com"),
        key_of_member(&before, "m05@example.com"),
        key_of_member(&before, "m07@example.com"),
    );
    let new_order = format!(
        "zz-{}",
        text(
            &app.store.get_attributes(&moved).await.unwrap().unwrap(),
            "list_sk1"
        )
        .unwrap()
    );
    let org = users::organization(&app.store, "default")
        .await
        .unwrap()
        .unwrap();
    let m07 = users::find_by_email(&app.store, "m07@example.com")
        .await
        .unwrap()
        .unwrap();
    let meanwhile = Meanwhile::new("members_sk");
    {
        let store = app.store.clone();
        let key = gone.clone();
        meanwhile.before(
            gone.clone(),
            Box::pin(async move { store.delete_batch(&[key]).await.unwrap() }),
        );
        let (store, key, order) = (app.store.clone(), moved.clone(), new_order.clone());
        meanwhile.before(
            moved.clone(),
            Box::pin(async move {
                store
                    .client()
                    .update_item()
                    .table_name(store.table())
                    .key("pk", AttributeValue::S(key.pk))
                    .key("sk", AttributeValue::S(key.sk))
                    .update_expression("SET list_sk1 = :order")
                    .expression_attribute_values(":order", AttributeValue::S(order))
                    .send()
                    .await
                    .unwrap();
            }),
        );
        let store = app.store.clone();
        meanwhile.before(
            rewritten.clone(),
            Box::pin(async move {
                users::set_role(&store, &org, &m07, Role::Admin)
                    .await
                    .unwrap()
            }),
        );
    }

    let store = store_with(&app, meanwhile.clone()).await;
    let entries = runner(&store, &migrations::all(), "op")
        .migrate(4)
        .await
        .unwrap();
    assert!(meanwhile.all_ran(), "every change ran");
    assert_eq!(
        entries[0].items_touched,
        10 - 2,
        "neither the removed nor the rewritten membership written"
    );
    assert_eq!(app.store.get_attributes(&gone).await.unwrap(), None);
    let moved_item = app.store.get_attributes(&moved).await.unwrap().unwrap();
    assert_eq!(text(&moved_item, "members_sk"), Some(new_order.as_str()));
    let rewritten_item = app.store.get_attributes(&rewritten).await.unwrap().unwrap();
    assert_eq!(text(&rewritten_item, "role"), Some("Admin"));
    let after = memberships(&app.store).await;
    assert_eq!(after.len(), 9);
    assert_all_placed(&after);
    let mut expected: Vec<String> = everyone(9)
        .into_iter()
        .filter(|e| e != "m03@example.com" && e != "m05@example.com")
        .collect();
    expected.push("m05@example.com".into());
    assert_eq!(in_index(&app.store).await, expected, "m05 at its new order");
}

/// A run that fails after 10 of its 31 writes leaves the table at version 3 (functions keep
/// reading the keys-only index, listing everyone); the next run writes exactly the 21 left.
#[tokio::test]
async fn a_run_cut_short_stays_at_version_3_and_the_next_run_writes_only_the_rest() {
    let (app, owner) = unmigrated(30).await;
    let all = migrations::all();
    let cut = store_with(&app, CutShort(Arc::new(AtomicUsize::new(10)))).await;
    let failed = runner(&cut, &all, "cut").migrate(4).await;
    assert!(failed.is_err(), "{failed:?}");
    assert_eq!(history::current(&app.store).await.unwrap(), Some(3));
    let placed = memberships(&app.store)
        .await
        .iter()
        .filter(|m| m.contains_key("members_sk"))
        .count();
    assert_eq!(placed, 10);
    let every = "/api/v1/default/users?itemsPerPage=-1&sortBy[]=email&descending[]=false";
    let page = get(&state_at(&app, 3), every, &owner).await;
    assert_eq!(emails(&page), everyone(30));

    let entries = runner(&app.store, &all, "op").migrate(4).await.unwrap();
    assert_eq!(entries[0].items_touched, 31 - 10);
    assert_all_placed(&memberships(&app.store).await);
    let page = get(&state_at(&app, 4), every, &owner).await;
    assert_eq!(emails(&page), everyone(30));
}

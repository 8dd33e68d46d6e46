//! Collection counters under concurrency: every creation in one organization updates the
//! organization's counter in its own transaction; concurrent creations conflict on that item,
//! and the server retries them so that all succeed and the count stays exact.

use dispatch_shared::auth::Password;
use dispatch_shared::domain::users;
use dispatch_shared::model::{EmailAddress, Organization, Role};
use dispatch_shared::store::keys;

use crate::helpers::spawn_app;

#[tokio::test]
async fn fifty_concurrent_creations_in_one_organization_all_succeed_and_count_exactly() {
    let app = spawn_app().await;
    let org: Organization = app
        .store
        .get(&keys::organization("default"))
        .await
        .unwrap()
        .unwrap();
    // One hash for all: the test is about the table, not argon2.
    let hash = app
        .state
        .passwords()
        .hash(&Password::parse("correct horse battery").unwrap())
        .await
        .unwrap();
    let creations = (0..50).map(|i| {
        let store = app.store.clone();
        let org = org.clone();
        let hash = hash.clone();
        tokio::spawn(async move {
            let email = EmailAddress::parse(&format!("user{i}@example.com")).unwrap();
            users::create(&store, &email, hash, &[(org, Role::Member)]).await
        })
    });
    let mut failures = Vec::new();
    for creation in creations.collect::<Vec<_>>() {
        if let Err(e) = creation.await.unwrap() {
            failures.push(format!("{e:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 50 failed: {:?}",
        failures.len(),
        failures.first()
    );
    let org: Organization = app
        .store
        .get(&keys::organization("default"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(org.member_count, 50);
}

//! Collection counters under concurrency: every creation in one organization updates the
//! organization's counter in its own transaction; concurrent creations conflict on that item,
//! and the server retries them so that all succeed and the count stays exact.

use dispatch_domain::auth::Password;
use dispatch_domain::model::{EmailAddress, Organization, Role};
use dispatch_domain::users;
use dispatch_store::keys;

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

#[tokio::test]
async fn members_joining_while_the_owner_edits_the_organization_are_all_counted() {
    let app = std::sync::Arc::new(spawn_app().await);
    let owner = app
        .register("owner@example.com", "correct horse battery")
        .await;
    let created = app.post_organization(&owner, "Busy Org").await;
    let org: Organization = app
        .store
        .get(&keys::organization("busy_org"))
        .await
        .unwrap()
        .unwrap();
    let hash = app
        .state
        .passwords()
        .hash(&Password::parse("correct horse battery").unwrap())
        .await
        .unwrap();
    let joins = (0..50).map(|i| {
        let (store, org, hash) = (app.store.clone(), org.clone(), hash.clone());
        tokio::spawn(async move {
            let email = EmailAddress::parse(&format!("joiner{i}@example.com")).unwrap();
            users::create(&store, &email, hash, &[(org, Role::Member)]).await
        })
    });
    // The Owner edits the organization 20 times meanwhile, one edit after the other.
    let editor = {
        let (app, owner) = (app.clone(), owner.clone());
        let path = format!("/api/v1/organizations/{}", created["id"]);
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            for i in 0..20 {
                let body = serde_json::json!({"description": format!("edit {i}")});
                let edit = crate::helpers::json_request("PUT", &path, &body, Some(&owner));
                statuses.push(app.send(edit).await.status);
            }
            statuses
        })
    };
    let joins: Vec<_> = joins.collect();
    for join in joins {
        join.await.unwrap().unwrap();
    }
    let statuses = editor.await.unwrap();
    assert!(
        statuses.iter().all(|s| *s == http::StatusCode::OK),
        "{statuses:?}"
    );
    let members = app
        .send(crate::helpers::authed(
            "GET",
            "/api/v1/busy_org/users?itemsPerPage=1",
            &owner,
        ))
        .await;
    assert_eq!(members.body["total"], 51, "{}", members.body);
}

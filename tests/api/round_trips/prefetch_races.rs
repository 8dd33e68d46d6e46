//! The instances page read ahead (`dispatch_shared::http::Prefetch`) racing the deletion of
//! its organization, for real on DynamoDB Local: the page read beside the deletion is either
//! a page or a 404, and once the deletion has answered, every page is a 404 whatever was read
//! ahead.

use http::StatusCode;

use crate::helpers::{authed, spawn_app};
use crate::migrations::PASSWORD;
use dispatch_domain::model::Role;

#[tokio::test]
async fn a_page_read_beside_its_organizations_deletion_is_the_page_or_a_404_and_never_after() {
    let app = spawn_app().await;
    let owner = app
        .registered_with_role("owner@example.com", PASSWORD, Role::Owner)
        .await;
    let mut outcomes = Vec::new();
    for round in 0..4 {
        let created = app
            .post_organization(&owner, &format!("Race {round}"))
            .await;
        let slug = created["slug"].as_str().unwrap().to_owned();
        let page = format!("/api/v1/{slug}/plugins/instances?itemsPerPage=25&page=1");
        let delete = format!("/api/v1/organizations/{}", created["id"]);

        let (read, deleted) = tokio::join!(
            app.send(authed("GET", &page, &owner)),
            app.send(authed("DELETE", &delete, &owner)),
        );
        assert!(deleted.status.is_success(), "{}", deleted.body);
        match read.status {
            // Read before the deletion hid the organization; instances whose project it
            // removed meanwhile are left out (as a page read beside a project's deletion).
            StatusCode::OK => {
                let items = read.body["items"].as_array().expect("a page");
                assert!(items.len() <= 25, "{}", read.body);
            }
            StatusCode::NOT_FOUND => assert!(read.body.get("items").is_none()),
            other => panic!("round {round}: {other} {}", read.body),
        }
        outcomes.push(read.status);

        let after = app.send(authed("GET", &page, &owner)).await;
        assert_eq!(after.status, StatusCode::NOT_FOUND, "{}", after.body);
        assert!(after.body.get("items").is_none(), "{}", after.body);
    }
    eprintln!("pages read beside the deletion: {outcomes:?}");
}

//! Every list endpoint's page, counted: the permission read plus the list's own requests,
//! the same for a page of 25 as for every item (BENCHMARKS.md, "Round trips per page").

use dispatch_domain::model::Role;
use http::StatusCode;

use super::{counted_state, get_counted, same_requests};
use crate::helpers::spawn_app;

const PASSWORD: &str = "Correct horse battery 1";

/// `(path, DynamoDB requests)` of each list endpoint's first page as the UI asks for it.
const PAGES: &[(&str, &[&str])] = &[
    // The organizations' total is a collection count outside any organization: one read more.
    (
        "/api/v1/organizations?itemsPerPage=25&page=1&sortBy[]=name&descending[]=false",
        &["BatchGetItem", "GetItem", "Query", "BatchGetItem"],
    ),
    (
        "/api/v1/default/projects?itemsPerPage=25&page=1&sortBy[]=name&descending[]=false",
        &["BatchGetItem", "Query", "BatchGetItem"],
    ),
    (
        "/api/v1/default/users?itemsPerPage=25&page=1&sortBy[]=email&descending[]=false",
        &["BatchGetItem", "Query", "BatchGetItem"],
    ),
    // The catalogue's total is a collection count too.
    (
        "/api/v1/default/plugins?itemsPerPage=25&page=1&sortBy[]=slug&descending[]=false",
        &["BatchGetItem", "GetItem", "Query", "BatchGetItem"],
    ),
    // Instances in the index query (beside the permission read), then their plugins and
    // projects in one batch.
    (
        "/api/v1/default/plugins/instances?itemsPerPage=25&page=1",
        &["BatchGetItem", "Query", "BatchGetItem"],
    ),
    // The events' count, the events, then their plugins.
    (
        "/api/v1/default/plugins/plugin_events?itemsPerPage=25&page=1",
        &[
            "BatchGetItem",
            "GetItem",
            "Query",
            "BatchGetItem",
            "BatchGetItem",
        ],
    ),
];

#[tokio::test]
async fn every_list_page_costs_the_same_few_requests_whatever_its_size() {
    let app = spawn_app().await;
    let owner = app
        .registered_with_role("owner@example.com", PASSWORD, Role::Owner)
        .await;
    for name in ["Second Org", "Third Org"] {
        app.post_organization(&owner, name).await;
    }
    let (state, log) = counted_state(&app).await;
    let mut wrong = Vec::new();
    for (path, expected) in PAGES {
        for path in [
            path.to_string(),
            path.replace("itemsPerPage=25", "itemsPerPage=-1"),
        ] {
            let (page, sent) = get_counted(&state, &log, &path, &owner).await;
            assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
            eprintln!(
                "{path}: {} item(s), {sent:?}",
                page.body["items"].as_array().map_or(0, Vec::len)
            );
            // The instances page sends its first two requests side by side (prefetch.rs).
            let as_expected = if path.contains("/plugins/instances") {
                same_requests(&sent, expected)
            } else {
                sent == *expected
            };
            if !as_expected {
                wrong.push(format!("{path}: {sent:?}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

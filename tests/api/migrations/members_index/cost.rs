//! What a members page costs on either index, counted by the round-trip tests' interceptor.

use aws_sdk_dynamodb::types::AttributeValue;
use http::StatusCode;

use super::{PAGE, emails, populated};
use crate::round_trips::{counted_state_at, get_counted};

/// A members page costs the permission read, the index query and one `BatchGetItem` on either
/// index: the keys-only index's batch reads the memberships with the organization's projects
/// (read ahead), the members index's reads the projects the page names. Past
/// `PREFETCH_PROJECTS` projects, the keys-only index needs a batch more; the members index
/// does not.
#[tokio::test]
async fn a_members_page_costs_three_requests_on_either_index_and_the_members_index_stays_at_three()
{
    const THREE: [&str; 3] = ["BatchGetItem", "Query", "BatchGetItem"];
    let (app, owner) = populated(30).await;
    let every = PAGE.replace("itemsPerPage=20", "itemsPerPage=-1");
    let (v3, log3) = counted_state_at(&app, 3).await;
    let (v4, log4) = counted_state_at(&app, 4).await;
    for path in [PAGE, every.as_str()] {
        let (old, sent) = get_counted(&v3, &log3, path, &owner).await;
        assert_eq!(old.status, StatusCode::OK, "{}", old.body);
        assert_eq!(sent, THREE, "version 3: {path}");
        let (new, sent) = get_counted(&v4, &log4, path, &owner).await;
        assert_eq!(sent, THREE, "version 4: {path}");
        assert_eq!(new.body["items"], old.body["items"]);
    }

    // More projects than a page reads ahead (ids are enough: the page names only real ones).
    let ids: Vec<String> = (900_000..900_101).map(|id: i32| id.to_string()).collect();
    app.store
        .client()
        .update_item()
        .table_name(app.store.table())
        .key(
            "pk",
            AttributeValue::S(dispatch_store::keys::organization("default").pk),
        )
        .key(
            "sk",
            AttributeValue::S(dispatch_store::keys::organization("default").sk),
        )
        .update_expression("ADD project_ids :ids")
        .expression_attribute_values(":ids", AttributeValue::Ns(ids))
        .send()
        .await
        .unwrap();
    let (old, sent) = get_counted(&v3, &log3, PAGE, &owner).await;
    assert_eq!(
        sent,
        ["BatchGetItem", "Query", "BatchGetItem", "BatchGetItem"],
        "version 3, a large organization: the members, then the projects they name"
    );
    let (new, sent) = get_counted(&v4, &log4, PAGE, &owner).await;
    assert_eq!(sent, THREE, "version 4, a large organization");
    assert_eq!(new.body["items"], old.body["items"]);
    assert_eq!(emails(&new.body).len(), 20);
}

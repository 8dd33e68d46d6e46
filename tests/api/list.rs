//! The list layer against a real collection (an organization's projects): Dispatch's envelope
//! and parameters, index-backed sorts, cursors that survive concurrent inserts, filters and
//! search, 422s that name the problem, and the work a page costs.

use dispatch_domain::DomainError;
use dispatch_domain::list::{ListParams, ListSpec, Page, list};
use dispatch_domain::model::{NameStr, OrganizationSlug, Project};
use dispatch_domain::organizations::project_item;
use dispatch_domain::projects;
use dispatch_domain::time::Timestamp;
use dispatch_shared::views::project_read;
use dispatch_store::Store;
use dispatch_store::keys::{self, Key, collection};
use serde_json::Value;

use crate::helpers::{TestApp, spawn_app};

const ORG: &str = "listing";

fn spec(total: i64) -> ListSpec {
    projects::list_spec(ORG, total)
}

/// Writes projects `name-000`… straight into the table.
async fn seed(store: &Store, first: i32, count: i32) {
    let now = Timestamp::now();
    let items = (first..first + count)
        .map(|i| {
            let mut project = Project::new(
                i + 1,
                1,
                &OrganizationSlug::parse(ORG).unwrap(),
                &NameStr::parse(&format!("name-{i:03}")).unwrap(),
                Some(&format!("project number {i}")),
                i == 0,
                now,
            );
            project.display_name = format!("display-{:03}", 999 - i);
            project_item(&project).unwrap()
        })
        .collect();
    store.put_batch(items).await.unwrap();
}

async fn page(app: &TestApp, total: i64, query: &str) -> Result<Page, DomainError> {
    let params = ListParams::parse(Some(query))?;
    let store = app.store.clone();
    list(
        &app.store,
        &app.state.secrets().cursor,
        &spec(total),
        &params,
        move |keys: Vec<Key>| {
            let store = store.clone();
            async move {
                let found = dispatch_domain::project_reads::load(&store, keys).await?;
                Ok(found.iter().map(project_read).collect())
            }
        },
    )
    .await
}

fn names(page: &Page) -> Vec<String> {
    page.items
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_envelope_echoes_like_dispatch() {
    let app = spawn_app().await;
    seed(&app.store, 0, 3).await;
    let p = page(&app, 3, "itemsPerPage=25&sortBy[]=name&descending[]=false")
        .await
        .unwrap();
    assert_eq!(names(&p), ["name-000", "name-001", "name-002"]);
    let body = p.into_json();
    assert_eq!(
        (
            body["itemsPerPage"].clone(),
            body["total"].clone(),
            body["page"].clone()
        ),
        (3.into(), 3.into(), 1.into())
    );
    assert_eq!(body["next"], Value::Null);
    assert_eq!(
        page(&app, 3, "itemsPerPage=-1")
            .await
            .unwrap()
            .items_per_page,
        3
    );

    let second = page(&app, 3, "itemsPerPage=2&page=2").await.unwrap();
    assert_eq!(
        (names(&second), second.page, second.total),
        (vec!["name-002".to_owned()], 2, 3)
    );
    let beyond = page(&app, 3, "itemsPerPage=2&page=9").await.unwrap();
    assert!(beyond.items.is_empty());
    assert_eq!(beyond.total, 3);
    assert_eq!(
        page(&app, 3, "").await.unwrap().items_per_page,
        3,
        "default 5, rewritten to the total"
    );
}

#[tokio::test]
async fn index_backed_sorts_in_both_directions() {
    let app = spawn_app().await;
    seed(&app.store, 0, 4).await;
    let desc = page(&app, 4, "itemsPerPage=2&sortBy[]=name&descending[]=true")
        .await
        .unwrap();
    assert_eq!(names(&desc), ["name-003", "name-002"]);
    let by_display = page(
        &app,
        4,
        "itemsPerPage=1&sortBy[]=display_name&descending[]=false",
    )
    .await
    .unwrap();
    assert_eq!(
        names(&by_display),
        ["name-003"],
        "display names run backwards"
    );
    let vuetify = page(
        &app,
        4,
        r#"itemsPerPage=1&sortBy[]={"key":"name","order":"desc"}&descending[]=true"#,
    )
    .await
    .unwrap();
    assert_eq!(names(&vuetify), ["name-003"]);
    // A field without an index sorts in memory in a small collection.
    let by_cost = page(
        &app,
        4,
        "itemsPerPage=2&sortBy[]=description&descending[]=true",
    )
    .await
    .unwrap();
    assert_eq!(names(&by_cost), ["name-003", "name-002"]);
}

#[tokio::test]
async fn a_cursor_walk_returns_every_item_once_while_items_are_added() {
    let app = spawn_app().await;
    seed(&app.store, 0, 30).await;
    let mut seen = Vec::new();
    let mut query = "itemsPerPage=7&sortBy[]=name&descending[]=false".to_owned();
    let mut added = 0;
    loop {
        let p = page(&app, 30 + added, &query).await.unwrap();
        assert!(
            p.stats.keys_scanned <= 8,
            "a cursor page reads at most itemsPerPage + 1 keys: {:?}",
            p.stats
        );
        assert!(p.stats.items_loaded <= 7);
        seen.extend(names(&p));
        if added < 10 {
            // New items land before and after the walk's position.
            seed(&app.store, 100 + added as i32, 1).await;
            added += 1;
        }
        match p.next {
            Some(next) => {
                query = format!("itemsPerPage=7&sortBy[]=name&descending[]=false&cursor={next}")
            }
            None => break,
        }
    }
    for i in 0..30 {
        let name = format!("name-{i:03}");
        assert_eq!(
            seen.iter().filter(|n| **n == name).count(),
            1,
            "{name} seen once"
        );
    }
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no item twice");
}

#[tokio::test]
async fn page_n_skips_keys_only() {
    let app = spawn_app().await;
    seed(&app.store, 0, 40).await;
    let p = page(&app, 40, "itemsPerPage=5&page=6").await.unwrap();
    assert_eq!(
        names(&p),
        ["name-025", "name-026", "name-027", "name-028", "name-029"]
    );
    assert_eq!(p.stats.items_loaded, 5, "skipped items are never loaded");
}

#[tokio::test]
async fn the_uis_filters_and_search_work() {
    let app = spawn_app().await;
    seed(&app.store, 0, 12).await;
    let default = page(
        &app,
        12,
        r#"filter={"field":"default","op":"==","value":true}"#,
    )
    .await
    .unwrap();
    assert_eq!(names(&default), ["name-000"]);
    assert_eq!((default.total, default.total_exact), (1, true));
    let by_name = page(
        &app,
        12,
        r#"filter=[{"and":[{"model":"Project","field":"name","op":"==","value":"name-007"}]}]"#,
    )
    .await
    .unwrap();
    assert_eq!(names(&by_name), ["name-007"]);
    let search = page(&app, 12, "q=number+1&itemsPerPage=25").await.unwrap();
    assert_eq!(
        names(&search),
        ["name-001", "name-010", "name-011"],
        "prefix words, all of them"
    );
    let substring = page(&app, 12, "q=me-00&itemsPerPage=3").await.unwrap();
    assert_eq!(substring.total, 10, "Dispatch's name ILIKE");
    assert_eq!(substring.items.len(), 3);
    let next = substring.next.clone().expect("more pages");
    let rest = page(&app, 12, &format!("q=me-00&itemsPerPage=3&cursor={next}"))
        .await
        .unwrap();
    assert_eq!(names(&rest), ["name-003", "name-004", "name-005"]);
    assert_eq!(rest.total, 10);
}

#[tokio::test]
async fn mistakes_are_422s_that_name_the_problem() {
    let app = spawn_app().await;
    seed(&app.store, 0, 2).await;
    for (query, fragment) in [
        (
            r#"filter={"field":"name","op":"~","value":"x"}"#,
            "Operator `~` not valid.",
        ),
        (
            r#"filter={"field":"colour","value":"x"}"#,
            "Unknown field `colour`",
        ),
        ("filter={oops", "not valid JSON"),
        (
            "sortBy[]=colour&descending[]=false",
            "Unknown sort field `colour`",
        ),
        ("cursor=forged.cursor", "Invalid or expired cursor"),
    ] {
        match page(&app, 2, query).await {
            Err(DomainError::Invalid(details)) => assert!(
                details[0].msg.contains(fragment),
                "{query}: {}",
                details[0].msg
            ),
            other => panic!("{query}: expected a 422, got {other:?}"),
        }
    }
    // A sort without an index is refused on a large collection.
    let big = spec(5_000);
    let params = ListParams::parse(Some("sortBy[]=description&descending[]=false")).unwrap();
    let result = list(
        &app.store,
        &app.state.secrets().cursor,
        &big,
        &params,
        |_| async { Ok(Vec::new()) },
    )
    .await;
    assert!(matches!(result, Err(DomainError::Invalid(_))));
}

#[tokio::test]
async fn a_cursor_of_another_collection_or_query_is_refused() {
    let app = spawn_app().await;
    seed(&app.store, 0, 6).await;
    let first = page(&app, 6, "itemsPerPage=2").await.unwrap();
    let next = first.next.unwrap();
    assert!(
        page(
            &app,
            6,
            &format!("itemsPerPage=2&sortBy[]=name&descending[]=true&cursor={next}")
        )
        .await
        .is_err()
    );
    let mut other = spec(6);
    other.collection = collection::projects("other_org");
    let params = ListParams::parse(Some(&format!("itemsPerPage=2&cursor={next}"))).unwrap();
    let result = list(
        &app.store,
        &app.state.secrets().cursor,
        &other,
        &params,
        |_| async { Ok(Vec::new()) },
    )
    .await;
    assert!(matches!(result, Err(DomainError::Invalid(_))));
    let _ = keys::project(ORG, 1);
}

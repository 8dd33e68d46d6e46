//! What the list layer and the permission layer cost on DynamoDB (BENCHMARKS.md, issue 4):
//! in a collection of 10,000 projects, the keys scanned (`ScannedCount`), items loaded, read
//! capacity and round trips of a cursor page at depth 1 and 400, of `page=400`, and of `total`;
//! and the round trips of an authenticated single-item read and of an authenticated list page.
//! Round trips are counted by an SDK interceptor on every request the client sends.

#[path = "local_stack.rs"]
mod local_stack;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::types::AttributeValue;
use dispatch_domain::list::{ListParams, Page, list};
use dispatch_domain::model::{NameStr, OrganizationSlug, Project};
use dispatch_domain::organizations::project_item;
use dispatch_domain::projects;
use dispatch_domain::time::Timestamp;
use dispatch_store::{Expression, Store, Transaction, keys};
use serde_json::json;
use tower::ServiceExt;

#[derive(Debug, Clone, Default)]
struct CountRequests(Arc<AtomicUsize>);

impl Intercept for CountRequests {
    fn name(&self) -> &'static str {
        "CountRequests"
    }

    fn read_before_transmit(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

const ITEMS: i32 = 10_000;
const PER_PAGE: usize = 25;

/// The table's item count (a consistent scan, outside the measured requests).
async fn item_count(store: &Store) -> anyhow::Result<i64> {
    let mut count = 0;
    let mut start = None;
    loop {
        let page = store
            .client()
            .scan()
            .table_name(store.table())
            .select(aws_sdk_dynamodb::types::Select::Count)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await?;
        count += i64::from(page.count);
        start = page.last_evaluated_key;
        if start.is_none() {
            return Ok(count);
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sdk = local_stack::sdk_config().await;
    let requests = CountRequests::default();
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .interceptor(requests.clone())
            .build(),
    );
    let store = Store::new(
        client,
        format!("bench-list-{}", uuid::Uuid::new_v4().simple()),
    );
    dispatch_cli::database::init(&store).await?;

    // 10,000 projects in organization `default`, and its counter set to match.
    let now = Timestamp::now();
    let projects = (0..ITEMS)
        .map(|i| {
            let name = format!("project-{i:05}");
            project_item(&Project::new(
                100_000 + i,
                1,
                &OrganizationSlug::parse("default").unwrap(),
                &NameStr::parse(&name).unwrap(),
                None,
                false,
                now,
            ))
            .unwrap()
        })
        .collect();
    store.put_batch(projects).await?;
    let mut tx = Transaction::new();
    tx.update(
        keys::organization("default"),
        Expression::new("SET #count = :count")
            .name("#count", "project_count")
            .value(":count", AttributeValue::N((ITEMS + 1).to_string())),
        None,
        None,
    )?;
    store.transact(tx).await?;
    let total = i64::from(ITEMS + 1);

    let state = local_stack::app_state(&sdk, &store).await?;

    let run = |query: String| {
        let store = store.clone();
        let state = state.clone();
        let requests = requests.clone();
        async move {
            let params = ListParams::parse(Some(&query)).unwrap();
            requests.0.store(0, Ordering::Relaxed);
            let spec = projects::list_spec("default", total);
            let page: Page = list(&store, &state.secrets().cursor, &spec, &params, |keys| {
                let store = store.clone();
                async move {
                    let found = dispatch_domain::project_reads::load(&store, keys).await?;
                    Ok(found
                        .iter()
                        .map(dispatch_shared::views::project_read)
                        .collect())
                }
            })
            .await
            .unwrap();
            (page, requests.0.load(Ordering::Relaxed))
        }
    };
    let report = |case: &str, page: &Page, sent: usize| {
        println!(
            "{}",
            json!({
                "case": case,
                "items_returned": page.items.len(),
                "keys_scanned": page.stats.keys_scanned,
                "items_loaded": page.stats.items_loaded,
                "query_read_capacity": page.stats.query_capacity,
                "round_trips": sent,
                "total": page.total,
            })
        );
    };

    let query = format!("itemsPerPage={PER_PAGE}&sortBy[]=name&descending[]=false");
    let (first, first_sent) = run(query.clone()).await;
    report("cursor page, depth 1", &first, first_sent);
    let mut page = first;
    for _ in 1..399 {
        let next = page.next.clone().expect("more pages");
        page = run(format!("{query}&cursor={next}")).await.0;
    }
    let next = page.next.clone().expect("page 400");
    let (deep, sent) = run(format!("{query}&cursor={next}")).await;
    report("cursor page, depth 400", &deep, sent);
    let (skipped, sent) = run(format!("{query}&page=400")).await;
    report("page=400", &skipped, sent);
    assert_eq!(deep.items, skipped.items, "both ways reach the same page");

    // `total` is the counter on the organization item, read by the permission layer's one
    // BatchGetItem: an authenticated single-item read shows what that costs.
    let app = dispatch_cli::server::local_app(state.clone())?;
    let register = http::Request::builder()
        .method("POST")
        .uri("/api/v1/default/auth/register")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            json!({"email": "bench@example.com", "password": "correct horse battery"}).to_string(),
        ))?;
    let response = app.clone().oneshot(register).await?;
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await?
        .to_bytes();
    let token = serde_json::from_slice::<serde_json::Value>(&body)?["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    requests.0.store(0, Ordering::Relaxed);
    let settings = http::Request::builder()
        .uri("/api/v1/default/auth/me/settings")
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())?;
    let status = app.oneshot(settings).await?.status();
    let single = requests.0.load(Ordering::Relaxed);
    println!(
        "{}",
        json!({"case": "authenticated single-item read (GET /auth/me/settings)", "status": status.as_u16(), "round_trips": single})
    );
    println!(
        "{}",
        json!({"case": "authenticated list page (permission read + cursor page)", "round_trips": single + first_sent, "total_reads_extra": 0})
    );

    // The users list with 10,000 members (issue 5): the UI's call, through the router.
    let org: dispatch_domain::model::Organization = store
        .get(&keys::organization("default"))
        .await?
        .expect("default");
    let members = (0..ITEMS)
        .map(|i| {
            let membership = dispatch_domain::model::Membership {
                user_id: 200_000 + i,
                email: dispatch_domain::model::EmailAddress::parse(&format!(
                    "member{i:05}@example.com"
                ))
                .unwrap(),
                organization_id: org.id,
                organization_slug: OrganizationSlug::parse("default").unwrap(),
                role: dispatch_domain::model::Role::Member,
                projects: Some(vec![]),
                created_at: now,
                updated_at: now,
                version: 1,
            };
            dispatch_domain::users::membership_item(&membership).unwrap()
        })
        .collect();
    store.put_batch(members).await?;
    let mut tx = Transaction::new();
    tx.update(
        keys::organization("default"),
        Expression::new("ADD #count :count")
            .name("#count", "member_count")
            .value(":count", AttributeValue::N(ITEMS.to_string())),
        None,
        None,
    )?;
    store.transact(tx).await?;
    let params = ListParams::parse(Some("itemsPerPage=25&sortBy[]=email&descending[]=true"))?;
    let org: dispatch_domain::model::Organization = store
        .get(&keys::organization("default"))
        .await?
        .expect("default");
    // The keys-only list index, whose cost this compares (the members index reads the page
    // in its Query instead).
    let spec = dispatch_domain::memberships::member_list_spec(
        "default",
        org.member_count,
        dispatch_domain::memberships::MEMBERS_INDEX_SINCE - 1,
    );
    let members_page = list(&store, &state.secrets().cursor, &spec, &params, |keys| {
        let store = store.clone();
        async move {
            Ok(store
                .batch_get(&keys)
                .await?
                .into_iter()
                .flatten()
                .map(|_| json!({}))
                .collect())
        }
    })
    .await
    .unwrap();
    requests.0.store(0, Ordering::Relaxed);
    let users = http::Request::builder()
        .uri("/api/v1/default/users?itemsPerPage=25&sortBy[]=email&descending[]=true")
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())?;
    let app = dispatch_cli::server::local_app(state.clone())?;
    let response = app.oneshot(users).await?;
    let status = response.status().as_u16();
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await?
        .to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&body)?;
    println!(
        "{}",
        json!({
            "case": "GET /users, 10,000 members, itemsPerPage=25, email descending",
            "status": status,
            "total": body["total"],
            "items_returned": body["items"].as_array().map_or(0, Vec::len),
            "keys_scanned": members_page.stats.keys_scanned,
            "members_loaded": members_page.stats.items_loaded,
            "round_trips": requests.0.load(Ordering::Relaxed),
        })
    );

    // One organization creation (issue 6): every DynamoDB request it sends, through the router.
    for name in ["Bench Org One", "Bench Org Two"] {
        requests.0.store(0, Ordering::Relaxed);
        let create = http::Request::builder()
            .method("POST")
            .uri("/api/v1/organizations")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(json!({"name": name}).to_string()))?;
        let items_before = item_count(&store).await?;
        requests.0.store(0, Ordering::Relaxed);
        let app = dispatch_cli::server::local_app(state.clone())?;
        let status = app.oneshot(create).await?.status().as_u16();
        let sent = requests.0.load(Ordering::Relaxed);
        println!(
            "{}",
            json!({
                "case": format!("POST /organizations ({name}), with {} organizations already", if name.ends_with("One") { 1 } else { 2 }),
                "status": status,
                "dynamodb_requests": sent,
                "items_written": item_count(&store).await? - items_before,
            })
        );
    }
    Ok(())
}

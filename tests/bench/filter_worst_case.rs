//! The worst case of a `like`/`ilike` filter (BENCHMARKS.md, "Bounded work"): the longest
//! patterns a filter takes over the longest description a project holds.
//!
//! 1. The filter alone (no I/O): one item, then the most one request can do, `MAX_EVALUATED`
//!    (1,000) items × the most conditions a filter holds (`MAX_PATTERNS` patterns and
//!    `MAX_CONDITIONS` in all), all failing (an `or`, so that none is skipped).
//! 2. The list request on the local stack (`infra/local/stack.sh start test`): the project list
//!    of an organization with one such project, then with 1,000 of them, through the list layer
//!    (DynamoDB queries and batch reads included; the permission layer's one read is not).
//!
//! `cargo run --release -p dispatch-tests --example filter_worst_case [PATTERN FIELD]`: the
//! pattern and field lengths default to the limits (255 and 10,000 characters); with other
//! lengths only part 1 runs (the item of part 2 would not be accepted).

#[path = "local_stack.rs"]
mod local_stack;

use std::time::{Duration, Instant};

use dispatch_domain::list::filter::{self, Filter};
use dispatch_domain::list::{ListParams, list};
use dispatch_domain::model::text::DESCRIPTION_MAX;
use dispatch_domain::model::{NameStr, OrganizationSlug, Project};
use dispatch_domain::organizations::project_item;
use dispatch_domain::projects;
use dispatch_domain::secrets::{KeyRing, SecretKey};
use dispatch_domain::time::Timestamp;
use dispatch_shared::views::project_read;
use dispatch_store::Store;
use serde_json::{Value, json};

const RUNS: usize = 31;
const ITEMS: i32 = 1_000;

fn median(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64() * 1_000.0
}

/// The patterns a backtracking matcher retries at every position of the text, `chars` long:
/// many stars, one long literal segment (found by `str::find`), one long segment with `_` (the
/// shift-and automaton).
fn patterns(chars: usize) -> Vec<(&'static str, &'static str, String)> {
    let pairs = (chars - 1) / 2;
    vec![
        ("stars", "like", format!("{}b", "%a".repeat(pairs))),
        (
            "one long segment",
            "like",
            format!("%{}b%", "a".repeat(chars - 3)),
        ),
        (
            "one long segment, ilike",
            "ilike",
            format!("%{}B%", "A".repeat(chars - 3)),
        ),
        (
            "underscores",
            "like",
            format!("%{}b%", "_a".repeat(pairs - 1)),
        ),
    ]
}

fn leaf(op: &str, pattern: &str) -> Value {
    json!({"field": "description", "op": op, "value": pattern})
}

fn parsed(spec: &Value) -> Filter {
    filter::parse(spec, projects::list_spec("bench", 0).schema).expect("a valid filter")
}

fn project(id: i32, description: &str) -> Project {
    let name = format!("project-{id:05}");
    Project::new(
        id,
        1,
        &OrganizationSlug::parse("default").unwrap(),
        &NameStr::parse(&name).unwrap(),
        Some(description),
        false,
        Timestamp::now(),
    )
}

fn filter_alone(pattern_chars: usize, field_chars: usize) {
    let item = project_read(&project(1, &"a".repeat(field_chars)));
    for (case, op, pattern) in patterns(pattern_chars) {
        let filter = parsed(&leaf(op, &pattern));
        let samples = (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                assert!(!filter.matches(&item), "{case}: no item matches");
                start.elapsed()
            })
            .collect();
        let one = median(samples);
        println!(
            "{}",
            json!({"part": "filter alone", "case": case, "pattern_chars": pattern.chars().count(),
                   "field_chars": field_chars, "one_item_ms": one})
        );
    }
    if pattern_chars > filter::MAX_VALUE_CHARS || field_chars > DESCRIPTION_MAX {
        return;
    }
    // The most one filter does per item: as many pattern conditions as it may hold, of one
    // kind, and equality conditions with the longest values for the rest; an `or` of failing
    // conditions, so that none is skipped.
    let items: Vec<Value> = (0..ITEMS).map(|_| item.clone()).collect();
    for (case, op, pattern) in patterns(pattern_chars) {
        let mut conditions = vec![leaf(op, &pattern); filter::MAX_PATTERNS];
        conditions.resize(
            filter::MAX_CONDITIONS,
            leaf("==", &"b".repeat(pattern_chars)),
        );
        let all = parsed(&json!({ "or": conditions }));
        let samples = (0..5)
            .map(|_| {
                let start = Instant::now();
                assert_eq!(items.iter().filter(|i| all.matches(i)).count(), 0);
                start.elapsed()
            })
            .collect();
        println!(
            "{}",
            json!({"part": "filter alone, 1,000 items × (5 patterns + 45 equalities)",
                   "case": case, "ms": median(samples)})
        );
    }
}

async fn list_requests(pattern_chars: usize, field_chars: usize) -> anyhow::Result<()> {
    let sdk = local_stack::sdk_config().await;
    let table = format!("bench-filter-{}", uuid::Uuid::new_v4().simple());
    let store = Store::new(aws_sdk_dynamodb::Client::new(&sdk), table);
    dispatch_cli::database::init(&store).await?;
    let cursor = KeyRing::new(SecretKey::new(vec![7; 32]).expect("32 bytes"), None);
    let description = "a".repeat(field_chars);
    let mut written = 0;
    for count in [1, ITEMS] {
        let batch = (written..count)
            .map(|i| project_item(&project(200_000 + i, &description)).map_err(Into::into))
            .collect::<anyhow::Result<Vec<_>>>()?;
        store.put_batch(batch).await?;
        written = count;
        let spec = projects::list_spec("default", i64::from(count) + 1);
        // The same request with a filter that reads no text: what the items' loading costs.
        let baseline = (
            "baseline: id == -1",
            json!({"field": "id", "op": "==", "value": -1}),
        );
        let cases = patterns(pattern_chars)
            .into_iter()
            .map(|(case, op, pattern)| (case, leaf(op, &pattern)));
        for (case, filter) in std::iter::once(baseline).chain(cases) {
            let filter = filter.to_string();
            let query: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("itemsPerPage", "50")
                .append_pair("filter", &filter)
                .finish();
            let mut samples = Vec::new();
            for _ in 0..if count == 1 { RUNS } else { 5 } {
                let params = ListParams::parse(Some(&query))?;
                let start = Instant::now();
                let page = list(&store, &cursor, &spec, &params, |keys| {
                    let store = store.clone();
                    async move {
                        let found = dispatch_domain::project_reads::load(&store, keys).await?;
                        Ok(found
                            .iter()
                            .map(dispatch_shared::views::project_read)
                            .collect())
                    }
                })
                .await?;
                samples.push(start.elapsed());
                assert!(page.items.is_empty(), "{case}: no project matches");
            }
            println!(
                "{}",
                json!({"part": "list request", "projects_with_longest_description": count,
                       "case": case, "median_ms": median(samples)})
            );
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut lengths = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let pattern_chars = lengths
        .next()
        .transpose()?
        .unwrap_or(filter::MAX_VALUE_CHARS);
    let field_chars = lengths.next().transpose()?.unwrap_or(DESCRIPTION_MAX);
    filter_alone(pattern_chars, field_chars);
    if pattern_chars <= filter::MAX_VALUE_CHARS && field_chars <= DESCRIPTION_MAX {
        list_requests(pattern_chars, field_chars).await?;
    }
    Ok(())
}

//! The deployment's time limits agree (docs/resilience.md): API Gateway's 30 s > the function
//! timeout > the request budget plus the margin kept to answer > one DynamoDB call; and for the
//! maintenance function, its timeout > a run's budget (the timeout less its reserve) > one
//! DynamoDB call, with a run's lease lapsing before the next scheduled run.

use std::time::Duration;

use dispatch_domain::aws_sdk::CallBounds;
use dispatch_domain::config::{DEFAULT_REQUEST_BUDGET, REQUEST_BUDGET_RANGE_MS};
use dispatch_domain::maintenance::Job;
use dispatch_maintenance::DEADLINE_RESERVE;
use dispatch_shared::http::DEADLINE_MARGIN;
use serde_yaml::Value;

/// API Gateway HTTP API's longest integration timeout.
const API_GATEWAY_LIMIT: Duration = Duration::from_secs(30);
/// Lambda's longest function timeout.
const LAMBDA_LIMIT: Duration = Duration::from_secs(15 * 60);
/// The maintenance function's resource, which no request reaches.
const MAINTENANCE: &str = "MaintenanceFunction";
/// What a run's lease adds to its budget (`LEASE_MARGIN` in
/// `shared/domain/src/maintenance/state.rs`, docs/maintenance.md "Budgets, checkpoints and
/// leases").
const LEASE_MARGIN: Duration = Duration::from_secs(30);

fn template() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml"))
        .expect("template.yaml");
    serde_yaml::from_str(&text).expect("YAML")
}

fn millis(value: &Value) -> Duration {
    Duration::from_millis(value.as_u64().expect("a number"))
}

#[test]
fn the_template_s_timeouts_the_request_budget_and_api_gateway_agree() {
    let template = template();
    let function_timeout =
        Duration::from_secs(template["Globals"]["Function"]["Timeout"].as_u64().unwrap());
    let budget = &template["Parameters"]["RequestBudgetMs"];
    let (default, max, min) = (
        millis(&budget["Default"]),
        millis(&budget["MaxValue"]),
        millis(&budget["MinValue"]),
    );

    assert!(
        function_timeout < API_GATEWAY_LIMIT,
        "API Gateway waits for the function"
    );
    assert!(
        max + DEADLINE_MARGIN <= function_timeout,
        "the largest budget and its margin fit the function timeout"
    );
    assert_eq!(
        default, DEFAULT_REQUEST_BUDGET,
        "the template's default is the code's"
    );
    assert!(REQUEST_BUDGET_RANGE_MS.contains(&(min.as_millis() as u64)));
    assert!(REQUEST_BUDGET_RANGE_MS.contains(&(max.as_millis() as u64)));
    assert!(
        CallBounds::API.operation < default,
        "one stalled call ends well before the default budget"
    );
    let variables = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert!(
        variables.get("DISPATCH_REQUEST_BUDGET_MS").is_some(),
        "the functions are given the budget"
    );

    // No function behind the API is given a timeout of its own beyond API Gateway's (nor below
    // the budget).
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"] != "AWS::Serverless::Function" || name == MAINTENANCE {
            continue;
        }
        if let Some(timeout) = resource["Properties"].get("Timeout") {
            let timeout = timeout
                .as_u64()
                .unwrap_or_else(|| panic!("{name:?}: a timeout in seconds"));
            let timeout = Duration::from_secs(timeout);
            assert!(
                timeout < API_GATEWAY_LIMIT && timeout >= max + DEADLINE_MARGIN,
                "{name:?}"
            );
        }
    }
}

#[test]
fn the_maintenance_timeout_leaves_a_run_its_budget_and_lapses_before_the_next_run() {
    let template = template();
    let timeout = &template["Resources"][MAINTENANCE]["Properties"]["Timeout"];
    let Value::Tagged(reference) = timeout else {
        panic!("{MAINTENANCE}'s Timeout is not a parameter: {timeout:?}")
    };
    assert_eq!(reference.tag, "!Ref");
    assert_eq!(reference.value, "MaintenanceTimeoutSeconds");
    let parameter = &template["Parameters"]["MaintenanceTimeoutSeconds"];
    let seconds = |key: &str| Duration::from_secs(parameter[key].as_u64().expect("seconds"));
    let (default, min, max) = (seconds("Default"), seconds("MinValue"), seconds("MaxValue"));

    assert!(max <= LAMBDA_LIMIT, "Lambda allows 15 minutes");
    assert!(min <= default && default <= max);
    // The shortest run still has time, after its reserve, for a stalled call to end and for
    // work after it.
    assert!(
        min > DEADLINE_RESERVE + 2 * CallBounds::API.operation,
        "a run of the shortest timeout has no budget"
    );
    // A run holds its job's lease for its budget plus a margin: with the defaults, the lease of
    // a run that died lapses before the most frequent job's next run, which is not skipped.
    let most_frequent = Job::ALL.map(Job::default_period).into_iter().min().unwrap();
    assert!(
        default - DEADLINE_RESERVE + LEASE_MARGIN < most_frequent,
        "the default lease outlives the period of the most frequent job"
    );
}

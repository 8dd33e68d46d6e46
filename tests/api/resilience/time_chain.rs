//! The deployment's time limits agree (docs/resilience.md): API Gateway's 30 s > the function
//! timeout > the request budget plus the margin kept to answer > one DynamoDB call.

use std::time::Duration;

use dispatch_domain::aws_sdk::CallBounds;
use dispatch_domain::config::{DEFAULT_REQUEST_BUDGET, REQUEST_BUDGET_RANGE_MS};
use dispatch_shared::http::DEADLINE_MARGIN;
use serde_yaml::Value;

/// API Gateway HTTP API's longest integration timeout.
const API_GATEWAY_LIMIT: Duration = Duration::from_secs(30);

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

    // No function is given a timeout of its own beyond API Gateway's (nor below the budget).
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        if let Some(timeout) = resource["Properties"]
            .get("Timeout")
            .and_then(Value::as_u64)
        {
            let timeout = Duration::from_secs(timeout);
            assert!(
                timeout < API_GATEWAY_LIMIT && timeout >= max + DEADLINE_MARGIN,
                "{name:?}"
            );
        }
    }
}

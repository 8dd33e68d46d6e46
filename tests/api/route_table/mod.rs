//! The route table is the single source of truth: every router and `template.yaml` must agree
//! with it, so adding a route anywhere else makes these tests fail. The maintenance function,
//! which serves no route, must agree with the jobs (`dispatch_domain::maintenance::Job`). The
//! sign-in parameters reach the five HTTP functions alone, and the optional JWT authorizer guards
//! exactly the route table's non-public routes.

use std::collections::{BTreeMap, BTreeSet};

use dispatch_domain::auth::provider::Provider;
use dispatch_domain::auth::provider::settings::{AWS_ALB, BASIC, HEADER, PKCE};
use dispatch_domain::maintenance::Job;
use dispatch_domain::maintenance::summary::METRICS_NAMESPACE;
use dispatch_shared::http::{RouteHandlers, RouteTableError, app};
use dispatch_shared::routes::{Function, Method, Permission, ROUTES, routes_of};
use dispatch_store::schema::INDEXES;
use http::StatusCode;
use serde_yaml::Value;

use crate::helpers::{call, request, spawn_app};

/// Each function's own router, as its Lambda builds it.
fn function_router(
    function: Function,
    state: dispatch_shared::AppState,
) -> Result<axum::Router, RouteTableError> {
    match function {
        Function::Auth => dispatch_auth::router(state),
        Function::Users => dispatch_users::router(state),
        Function::Organizations => dispatch_organizations::router(state),
        Function::Projects => dispatch_projects::router(state),
        Function::Plugins => dispatch_plugins::router(state),
    }
}

/// A concrete path for a route pattern.
fn concrete(path: &str) -> String {
    path.replace("{organization}", "default")
        .replace("{organization_id}", "1")
        .replace("{user_id}", "1")
        .replace("{project_id}", "1")
        .replace("{plugin_instance_id}", "1")
}

#[tokio::test]
async fn every_function_router_agrees_with_the_route_table() {
    let app = spawn_app().await;
    for function in Function::ALL {
        let router = function_router(function, app.state.clone())
            .unwrap_or_else(|e| panic!("{function}'s router disagrees with the route table: {e}"));
        for route in routes_of(function) {
            let response = call(
                &router,
                request(route.method.as_str(), &concrete(route.path)),
            )
            .await;
            // A resource's own 404 has its own message; only the router's fallback says "Not Found".
            let unrouted = response.status == StatusCode::METHOD_NOT_ALLOWED
                || response.status == StatusCode::NOT_FOUND
                    && response.body["detail"][0]["msg"] == "Not Found";
            assert!(
                !unrouted,
                "{function} does not serve {route}: {} {}",
                response.status, response.body
            );
        }
    }
}

#[tokio::test]
async fn a_handler_outside_the_route_table_is_refused() {
    let test_app = spawn_app().await;
    let rogue = RouteHandlers::new(Function::Users).handle(
        Method::Get,
        "/api/v1/{organization}/users/{user_id}/secrets",
        || async { "leak" },
    );
    let error = app(vec![rogue], test_app.state.clone()).unwrap_err();
    assert!(matches!(error, RouteTableError::Unlisted { .. }), "{error}");

    // A route of another function is refused too.
    let misplaced =
        RouteHandlers::new(Function::Users)
            .handle(Method::Get, "/api/v1/healthcheck", || async { "ok" });
    assert!(app(vec![misplaced], test_app.state.clone()).is_err());
}

/// `template.yaml`, parsed (its `!Ref`, `!GetAtt`, … kept as tagged values).
pub(crate) fn template() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml"))
        .expect("template.yaml at the workspace root");
    serde_yaml::from_str(&text).expect("template.yaml is YAML")
}

fn resource<'a>(template: &'a Value, name: &str) -> &'a Value {
    &template["Resources"][name]
}

#[test]
fn template_routes_are_exactly_the_route_table() {
    let template = template();
    for function in Function::ALL {
        let events = resource(&template, function.template_resource())["Properties"]["Events"]
            .as_mapping()
            .unwrap_or_else(|| panic!("{} has no Events", function.template_resource()));
        let mut in_template = BTreeSet::new();
        for (_, event) in events {
            if event["Type"] != "HttpApi" {
                continue;
            }
            let path = event["Properties"]["Path"]
                .as_str()
                .unwrap_or("$default")
                .to_owned();
            let method = event["Properties"]["Method"]
                .as_str()
                .unwrap_or("ANY")
                .to_uppercase();
            in_template.insert((method, path));
        }
        let mut expected: BTreeSet<(String, String)> = routes_of(function)
            .map(|r| (r.method.as_str().to_owned(), r.path.to_owned()))
            .collect();
        if function == Function::Auth {
            // API Gateway's catch-all: the auth function answers Dispatch's 404/405 for it.
            expected.insert(("ANY".into(), "$default".into()));
        }
        assert_eq!(in_template, expected, "template routes of {function}");
    }
    let total: usize = ROUTES.len();
    assert_eq!(
        total,
        Function::ALL
            .iter()
            .map(|f| routes_of(*f).count())
            .sum::<usize>()
    );
}

#[test]
fn template_grants_each_function_exactly_the_dynamodb_actions_it_uses() {
    let template = template();
    for function in Function::ALL {
        let policies = &resource(&template, function.template_resource())["Properties"]["Policies"];
        let mut granted = BTreeSet::new();
        for policy in policies.as_sequence().expect("Policies list") {
            for statement in policy["Statement"].as_sequence().into_iter().flatten() {
                for action in statement["Action"].as_sequence().into_iter().flatten() {
                    let action = action.as_str().unwrap();
                    if action.starts_with("dynamodb:") {
                        granted.insert(action.to_owned());
                    }
                }
            }
        }
        let expected: BTreeSet<String> = function
            .dynamodb_actions()
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(granted, expected, "DynamoDB actions of {function}");
    }
}

#[test]
fn template_table_has_the_indexes_the_code_creates() {
    let template = template();
    let table = &resource(&template, "Table")["Properties"];
    let indexes = table["GlobalSecondaryIndexes"].as_sequence().expect("GSIs");
    assert_eq!(indexes.len(), INDEXES.len());
    for spec in INDEXES {
        let index = indexes
            .iter()
            .find(|i| i["IndexName"] == spec.name)
            .unwrap_or_else(|| panic!("index {} missing from template.yaml", spec.name));
        let keys: Vec<&str> = index["KeySchema"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|k| k["AttributeName"].as_str().unwrap())
            .collect();
        assert_eq!(keys, [spec.partition_key, spec.sort_key], "{}", spec.name);
        let projection = index["Projection"]["ProjectionType"].as_str().unwrap();
        assert_eq!(
            projection,
            if spec.projects_all {
                "ALL"
            } else {
                "KEYS_ONLY"
            },
            "{}",
            spec.name
        );
    }
    assert_eq!(table["TimeToLiveSpecification"]["AttributeName"], "ttl");
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
}

/// The target of a `!Ref`, if `value` is one.
fn ref_target(value: &Value) -> Option<&str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "!Ref" => tagged.value.as_str(),
        _ => None,
    }
}

/// AWS's floor of unreserved concurrency, and an account's default concurrency quota.
const UNRESERVED_FLOOR: i64 = 100;
const DEFAULT_ACCOUNT_CONCURRENCY: i64 = 1_000;

#[test]
fn every_function_reserves_its_own_concurrency_from_a_parameter() {
    let template = template();
    let mut parameters = BTreeSet::new();
    let mut reserved_by_default = 0;
    let functions = template["Resources"].as_mapping().unwrap().iter();
    for (name, function) in functions.filter(|(_, r)| r["Type"] == "AWS::Serverless::Function") {
        let name = name.as_str().unwrap();
        // `!If [Condition, !Ref Parameter, !Ref AWS::NoValue]`: the parameter, or unreserved.
        let reserved = &function["Properties"]["ReservedConcurrentExecutions"];
        let Value::Tagged(choice) = reserved else {
            panic!("{name} has no ReservedConcurrentExecutions bound to a parameter: {reserved:?}")
        };
        let branches = choice.value.as_sequence().expect("!If's list");
        assert_eq!(choice.tag, "!If", "{name}");
        let (condition, parameter) = (branches[0].as_str().unwrap(), ref_target(&branches[1]));
        let parameter = parameter.unwrap_or_else(|| panic!("{name}: not a parameter"));
        assert_eq!(ref_target(&branches[2]), Some("AWS::NoValue"), "{name}");
        assert!(parameters.insert(parameter), "{name} shares {parameter}");

        let declared = &template["Parameters"][parameter];
        assert_eq!(declared["Type"], "Number", "{parameter}");
        assert_eq!(declared["MinValue"].as_i64(), Some(-1), "{parameter}");
        let default = declared["Default"].as_i64().expect("a numeric default");
        assert!(default > 0, "{parameter} reserves nothing by default");
        reserved_by_default += default;

        // The condition is `!Not [!Equals [!Ref Parameter, "-1"]]`: -1 opts out.
        let Value::Tagged(not) = &template["Conditions"][condition] else {
            panic!("condition {condition} missing")
        };
        let Value::Tagged(equals) = &not.value[0] else {
            panic!("{condition} is not !Not [!Equals …]")
        };
        assert_eq!(
            (not.tag.to_string(), equals.tag.to_string()),
            ("!Not".into(), "!Equals".into())
        );
        assert_eq!(ref_target(&equals.value[0]), Some(parameter), "{condition}");
        assert_eq!(equals.value[1], "-1", "{condition}");
    }
    // The five HTTP functions and the maintenance function.
    assert_eq!(parameters.len(), Function::ALL.len() + 1);
    assert!(
        parameters.contains(MAINTENANCE_CONCURRENCY),
        "{MAINTENANCE} reserves its own concurrency"
    );
    assert!(
        reserved_by_default <= DEFAULT_ACCOUNT_CONCURRENCY - UNRESERVED_FLOOR,
        "the defaults reserve {reserved_by_default}: an account with the default quota could not deploy"
    );
}

#[test]
fn server_routes_prints_every_route() {
    let printed = dispatch_cli::server::routes_table();
    for route in ROUTES {
        assert!(
            printed.contains(route.path),
            "{route} missing from `dispatch server routes`"
        );
    }
}

mod maintenance;
mod operations;
mod sign_in;
mod ui_hosting;

use maintenance::*;

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

/// The maintenance function's resource in `template.yaml`, and its reserved-concurrency
/// parameter.
const MAINTENANCE: &str = "MaintenanceFunction";
const MAINTENANCE_CONCURRENCY: &str = "MaintenanceReservedConcurrency";
/// The queue that keeps failed maintenance runs and undelivered schedule events.
const DEAD_LETTER_QUEUE: &str = "MaintenanceDeadLetterQueue";
/// The role EventBridge Scheduler invokes the maintenance function with.
const SCHEDULER_ROLE: &str = "MaintenanceSchedulerRole";

/// The DynamoDB actions the maintenance jobs issue: reads by key and by query, scans of the
/// table, single and batch writes, and transactions.
const MAINTENANCE_DYNAMODB_ACTIONS: [&str; 10] = [
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:TransactWriteItems",
    "dynamodb:ConditionCheckItem",
];

/// The target of a `!GetAtt` (`Resource.Attribute`), if `value` is one.
fn get_att_target(value: &Value) -> Option<&str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "!GetAtt" => tagged.value.as_str(),
        _ => None,
    }
}

/// The template's resources of type `kind`, by logical id.
fn resources_of<'a>(template: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    template["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .filter(|(_, resource)| resource["Type"] == kind)
        .map(|(name, resource)| (name.as_str().expect("a logical id"), resource))
        .collect()
}

/// A value that is one string or a list of them, as IAM's `Action` and `Resource` are.
fn one_or_many(value: &Value) -> Vec<&Value> {
    match value.as_sequence() {
        Some(values) => values.iter().collect(),
        None => vec![value],
    }
}

/// Each crate under `functions/` (its folder) and the binary it builds (its `[[bin]]` name).
fn function_crates() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../functions");
    let mut crates = Vec::new();
    for entry in std::fs::read_dir(dir).expect("functions/") {
        let path = entry.expect("a directory entry").path();
        let Ok(manifest) = std::fs::read_to_string(path.join("Cargo.toml")) else {
            continue;
        };
        let folder = path.file_name().unwrap().to_string_lossy().into_owned();
        let binary = manifest
            .split("[[bin]]")
            .nth(1)
            .and_then(|section| {
                section.lines().find_map(|line| {
                    let (key, value) = line.split_once('=')?;
                    (key.trim() == "name").then(|| value.trim().trim_matches('"').to_owned())
                })
            })
            .unwrap_or_else(|| panic!("functions/{folder}/Cargo.toml names no [[bin]]"));
        crates.push((folder, binary));
    }
    crates.sort();
    crates
}

#[test]
fn every_function_crate_has_a_template_resource_that_builds_its_binary() {
    let template = template();
    let crates = function_crates();
    let functions = resources_of(&template, "AWS::Serverless::Function");
    let mut by_code = BTreeMap::new();
    for (name, function) in &functions {
        let code = function["Properties"]["CodeUri"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} has no CodeUri"));
        assert!(
            by_code.insert(code, *name).is_none(),
            "two resources build {code}"
        );
        // Runtime, handler and architecture come from the Globals, the same for every function.
        for global in ["Runtime", "Handler", "Architectures"] {
            assert!(
                function["Properties"].get(global).is_none(),
                "{name} overrides the Globals' {global}"
            );
        }
    }
    for (folder, binary) in &crates {
        let name = by_code
            .get(format!("functions/{folder}").as_str())
            .unwrap_or_else(|| panic!("functions/{folder} has no resource in template.yaml"));
        let metadata = &resource(&template, name)["Metadata"];
        assert_eq!(metadata["BuildMethod"], "rust-cargolambda", "{name}");
        assert_eq!(
            metadata["BuildProperties"]["Binary"],
            binary.as_str(),
            "{name} builds functions/{folder}'s binary"
        );
    }
    assert_eq!(
        functions.len(),
        crates.len(),
        "a function resource without its crate under functions/"
    );
    for function in Function::ALL {
        assert_eq!(
            resource(&template, function.template_resource())["Properties"]["CodeUri"],
            format!("functions/{}", function.name()).as_str(),
            "{function}"
        );
    }
    assert_eq!(
        resource(&template, MAINTENANCE)["Properties"]["CodeUri"],
        "functions/maintenance"
    );
    assert_eq!(
        crates.len(),
        Function::ALL.len() + 1,
        "the route groups and the maintenance function"
    );
}

#[test]
fn the_maintenance_function_serves_no_route_and_reads_no_secret() {
    let template = template();
    let function = resource(&template, MAINTENANCE);
    assert_eq!(function["Type"], "AWS::Serverless::Function");
    // EventBridge Scheduler invokes it (the schedules are resources of their own): no HTTP
    // route, no other trigger.
    assert!(
        function["Properties"].get("Events").is_none(),
        "{MAINTENANCE} has Events: {:?}",
        function["Properties"]["Events"]
    );

    let mut granted = BTreeSet::new();
    let policies = function["Properties"]["Policies"]
        .as_sequence()
        .expect("Policies list");
    for policy in policies {
        for statement in policy["Statement"].as_sequence().expect("statements") {
            assert_eq!(statement["Effect"], "Allow");
            for action in one_or_many(&statement["Action"]) {
                let action = action.as_str().expect("an action");
                assert!(
                    action.starts_with("dynamodb:"),
                    "{MAINTENANCE} is granted {action}: it needs the table alone"
                );
                granted.insert(action);
            }
            // The table and its indexes, nothing else.
            let resources = one_or_many(&statement["Resource"]);
            assert_eq!(resources.len(), 2, "{resources:?}");
            assert_eq!(get_att_target(resources[0]), Some("Table.Arn"));
            let Value::Tagged(index) = resources[1] else {
                panic!("not the table's indexes: {:?}", resources[1])
            };
            assert_eq!(
                (index.tag.to_string(), index.value.as_str()),
                ("!Sub".to_owned(), Some("${Table.Arn}/index/*"))
            );
        }
    }
    assert_eq!(
        granted,
        BTreeSet::from(MAINTENANCE_DYNAMODB_ACTIONS),
        "DynamoDB actions of {MAINTENANCE}"
    );

    // Nothing in its resource names a secret (the Globals' secret ids are not readable by it).
    let text = serde_yaml::to_string(function).unwrap();
    assert!(!text.to_lowercase().contains("secret"), "{text}");
}

/// The period of a `rate(…)` expression.
fn rate_period(expression: &str) -> Option<std::time::Duration> {
    let inner = expression.strip_prefix("rate(")?.strip_suffix(')')?;
    let (count, unit) = inner.split_once(' ')?;
    let count: u64 = count.parse().ok()?;
    let seconds = match unit.trim_end_matches('s') {
        "minute" => 60,
        "hour" => 60 * 60,
        "day" => 24 * 60 * 60,
        _ => return None,
    };
    Some(std::time::Duration::from_secs(count * seconds))
}

/// `finish-deletions` → `FinishDeletions`: how the template names a job's parameters.
fn pascal_case(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect()
}

#[test]
fn every_job_has_a_schedule_that_invokes_the_maintenance_function_with_its_name() {
    let template = template();
    let mut scheduled = BTreeMap::new();
    for (name, schedule) in resources_of(&template, "AWS::Scheduler::Schedule") {
        let properties = &schedule["Properties"];
        let target = &properties["Target"];
        assert_eq!(
            get_att_target(&target["Arn"]),
            Some(format!("{MAINTENANCE}.Arn").as_str()),
            "{name}"
        );
        assert_eq!(
            get_att_target(&target["RoleArn"]),
            Some(format!("{SCHEDULER_ROLE}.Arn").as_str()),
            "{name}"
        );
        // The Input is what the handler receives: `{"job": "<name>"}` and nothing else.
        let input = target["Input"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}'s Input is not a string"));
        let input: serde_json::Value =
            serde_json::from_str(input).unwrap_or_else(|e| panic!("{name}'s Input: {e}"));
        let fields: Vec<&String> = input.as_object().expect("an object").keys().collect();
        assert_eq!(fields, ["job"], "{name}'s Input");
        let job_name = input["job"].as_str().expect("a job name");
        let job = Job::from_name(job_name)
            .unwrap_or_else(|| panic!("{name} runs {job_name:?}, which is no job"));
        assert!(
            scheduled.insert(job.name(), name).is_none(),
            "two schedules run {job_name}"
        );

        // Its expression is a parameter named after the job, by default the job's period.
        let parameter = ref_target(&properties["ScheduleExpression"])
            .unwrap_or_else(|| panic!("{name}'s ScheduleExpression is not a parameter"));
        assert_eq!(parameter, format!("{}Schedule", pascal_case(job.name())));
        let default = template["Parameters"][parameter]["Default"]
            .as_str()
            .unwrap_or_else(|| panic!("{parameter} has no default"));
        assert_eq!(
            rate_period(default),
            Some(job.default_period()),
            "{parameter}'s default {default:?} is the job's default period"
        );

        assert_eq!(properties["FlexibleTimeWindow"]["Mode"], "OFF", "{name}");
        assert_eq!(
            ref_target(&properties["State"]),
            Some("MaintenanceSchedulesState"),
            "{name}"
        );
        let retry = &target["RetryPolicy"];
        let attempts = retry["MaximumRetryAttempts"].as_u64();
        assert!(attempts.is_some_and(|n| n <= 185), "{name}: {retry:?}");
        let age = retry["MaximumEventAgeInSeconds"].as_u64();
        assert!(
            age.is_some_and(|s| (60..=86_400).contains(&s)),
            "{name}: {retry:?}"
        );
        assert_eq!(
            get_att_target(&target["DeadLetterConfig"]["Arn"]),
            Some(format!("{DEAD_LETTER_QUEUE}.Arn").as_str()),
            "{name}"
        );
    }
    let jobs: BTreeSet<&str> = Job::ALL.map(Job::name).into_iter().collect();
    assert_eq!(
        scheduled.keys().copied().collect::<BTreeSet<_>>(),
        jobs,
        "one schedule per job"
    );
}

#[test]
fn the_schedules_may_invoke_the_maintenance_function_and_nothing_else() {
    let template = template();
    let role = &resource(&template, SCHEDULER_ROLE)["Properties"];
    let trust = role["AssumeRolePolicyDocument"]["Statement"]
        .as_sequence()
        .expect("trust statements");
    assert_eq!(trust.len(), 1);
    assert_eq!(
        trust[0]["Principal"]["Service"], "scheduler.amazonaws.com",
        "only EventBridge Scheduler assumes it"
    );
    let mut granted = BTreeSet::new();
    for policy in role["Policies"].as_sequence().expect("Policies") {
        for statement in policy["PolicyDocument"]["Statement"]
            .as_sequence()
            .expect("statements")
        {
            assert_eq!(statement["Effect"], "Allow");
            for action in one_or_many(&statement["Action"]) {
                for resource in one_or_many(&statement["Resource"]) {
                    let resource = get_att_target(resource)
                        .unwrap_or_else(|| panic!("not a resource of the template: {resource:?}"));
                    granted.insert((action.as_str().unwrap().to_owned(), resource.to_owned()));
                }
            }
        }
    }
    assert_eq!(
        granted,
        BTreeSet::from([
            ("lambda:InvokeFunction".into(), format!("{MAINTENANCE}.Arn")),
            // Scheduler writes a schedule's dead letters with the schedule's role.
            ("sqs:SendMessage".into(), format!("{DEAD_LETTER_QUEUE}.Arn")),
        ])
    );
}

#[test]
fn a_failed_maintenance_run_ends_in_the_encrypted_dead_letter_queue() {
    let template = template();
    let queue = resource(&template, DEAD_LETTER_QUEUE);
    assert_eq!(queue["Type"], "AWS::SQS::Queue");
    assert_eq!(queue["Properties"]["SqsManagedSseEnabled"], true);

    // Scheduler invokes asynchronously: Lambda retries a failed run, then sends the event and
    // its error to the queue.
    let invoke = &resource(&template, MAINTENANCE)["Properties"]["EventInvokeConfig"];
    let retries = invoke["MaximumRetryAttempts"].as_u64();
    assert!(retries.is_some_and(|n| n <= 2), "{invoke:?}");
    let on_failure = &invoke["DestinationConfig"]["OnFailure"];
    assert_eq!(on_failure["Type"], "SQS");
    assert_eq!(
        get_att_target(&on_failure["Destination"]),
        Some(format!("{DEAD_LETTER_QUEUE}.Arn").as_str())
    );

    for output in ["MaintenanceFunctionName", "MaintenanceDeadLetterQueueUrl"] {
        assert!(
            template["Outputs"].get(output).is_some(),
            "output {output} missing"
        );
    }
}

#[test]
fn alarms_watch_the_maintenance_errors_its_dead_letters_and_every_job_s_failures() {
    let template = template();
    let alarms = resources_of(&template, "AWS::CloudWatch::Alarm");
    let watching = |namespace: &str, metric: &str, dimension: &str| {
        alarms
            .iter()
            .filter(|(_, alarm)| {
                let properties = &alarm["Properties"];
                properties["Namespace"] == namespace
                    && properties["MetricName"] == metric
                    && properties["Dimensions"][0]["Name"] == dimension
            })
            .map(|(name, alarm)| (*name, &alarm["Properties"]))
            .collect::<Vec<_>>()
    };

    let errors = watching("AWS/Lambda", "Errors", "FunctionName");
    assert_eq!(errors.len(), 1, "one alarm on the function's errors");
    assert_eq!(
        ref_target(&errors[0].1["Dimensions"][0]["Value"]),
        Some(MAINTENANCE)
    );
    let dead_letters = watching("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName");
    assert_eq!(dead_letters.len(), 1, "one alarm on the dead-letter queue");
    assert_eq!(
        get_att_target(&dead_letters[0].1["Dimensions"][0]["Value"]),
        Some(format!("{DEAD_LETTER_QUEUE}.QueueName").as_str())
    );

    // The job alarms watch the embedded metric the handler prints.
    let failed = dispatch_domain::maintenance::Summary {
        job: Job::CheckGuards.name().into(),
        outcome: dispatch_domain::maintenance::Outcome::Failed,
        examined: 0,
        repaired: 0,
        found: 0,
        duration_ms: 0,
        dry_run: false,
        findings: Vec::new(),
        note: None,
    }
    .embedded_metrics(0);
    let declared = &failed["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(declared["Namespace"], METRICS_NAMESPACE);
    assert_eq!(declared["Dimensions"], serde_json::json!([["Job"]]));
    assert!(
        declared["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|metric| metric["Name"] == "Failed")
    );
    assert_eq!(failed["Failed"], 1);
    let job_alarms = watching(METRICS_NAMESPACE, "Failed", "Job");
    for job in Job::ALL {
        let count = job_alarms
            .iter()
            .filter(|(_, alarm)| alarm["Dimensions"][0]["Value"] == job.name())
            .count();
        assert_eq!(count, 1, "one alarm on {}'s Failed metric", job.name());
    }
    assert_eq!(job_alarms.len(), Job::ALL.len());

    // Each fires on the first occurrence and notifies the optional topic.
    for (name, alarm) in errors.iter().chain(&dead_letters).chain(&job_alarms) {
        assert_eq!(alarm["Threshold"].as_f64(), Some(0.0), "{name}");
        assert_eq!(
            alarm["ComparisonOperator"], "GreaterThanThreshold",
            "{name}"
        );
        assert_eq!(alarm["TreatMissingData"], "notBreaching", "{name}");
        let Value::Tagged(actions) = &alarm["AlarmActions"] else {
            panic!("{name}'s AlarmActions are not conditional on the topic")
        };
        assert_eq!(actions.tag, "!If", "{name}");
        assert_eq!(actions.value[0], "HasAlarmTopic", "{name}");
        assert_eq!(ref_target(&actions.value[1][0]), Some("AlarmTopicArn"));
        assert_eq!(ref_target(&actions.value[2]), Some("AWS::NoValue"));
    }
}

/// The template's sign-in parameters and the variable each one sets in the HTTP functions.
const SIGN_IN_PARAMETERS: [(&str, &str); 8] = [
    (
        "AuthenticationProviderSlug",
        "DISPATCH_AUTHENTICATION_PROVIDER_SLUG",
    ),
    ("PkceJwksUrl", "DISPATCH_AUTHENTICATION_PROVIDER_PKCE_JWKS"),
    ("PkceTokenIssuer", "DISPATCH_JWT_ISSUER"),
    ("PkceTokenAudience", "DISPATCH_JWT_AUDIENCE"),
    ("JwtEmailOverride", "DISPATCH_JWT_EMAIL_OVERRIDE"),
    (
        "HeaderProviderName",
        "DISPATCH_AUTHENTICATION_PROVIDER_HEADER_NAME",
    ),
    ("AwsAlbArn", "DISPATCH_AUTHENTICATION_PROVIDER_AWS_ALB_ARN"),
    (
        "AwsAlbEmailClaim",
        "DISPATCH_AUTHENTICATION_PROVIDER_AWS_ALB_EMAIL_CLAIM",
    ),
];

/// Set by the template itself when the JWT authorizer verifies the pkce provider's tokens.
const TRUSTS_JWT_AUTHORIZER: &str = "DISPATCH_AUTHENTICATION_PROVIDER_PKCE_JWT_AUTHORIZER";

/// Every variable the sign-in settings put in a function's environment.
fn sign_in_variables() -> impl Iterator<Item = &'static str> {
    SIGN_IN_PARAMETERS
        .iter()
        .map(|(_, variable)| *variable)
        .chain([TRUSTS_JWT_AUTHORIZER])
}

/// The value of every parameter: its default, unless `overrides` sets it.
fn parameter_values(template: &Value, overrides: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    for (name, declared) in template["Parameters"].as_mapping().expect("Parameters") {
        let default = match &declared["Default"] {
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            other => panic!("{name:?} has the default {other:?}"),
        };
        values.insert(name.as_str().unwrap().to_owned(), default);
    }
    for (name, value) in overrides {
        assert!(values.contains_key(*name), "no parameter {name}");
        values.insert((*name).to_owned(), (*value).to_owned());
    }
    values
}

/// A string operand of a condition or a rule: a literal, or `!Ref` to a parameter.
fn operand(parameters: &BTreeMap<String, String>, value: &Value) -> String {
    if let Some(name) = ref_target(value) {
        return parameters
            .get(name)
            .unwrap_or_else(|| panic!("!Ref {name} is not a parameter"))
            .clone();
    }
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value:?}"))
        .to_owned()
}

/// Evaluates a condition (`Conditions`, a rule's `RuleCondition` or `Assert`).
fn holds(template: &Value, parameters: &BTreeMap<String, String>, value: &Value) -> bool {
    let Value::Tagged(function) = value else {
        panic!("not a condition function: {value:?}")
    };
    let arguments = function.value.as_sequence();
    let argument = |i: usize| &arguments.expect("a list of arguments")[i];
    match function.tag.to_string().as_str() {
        "!Equals" => operand(parameters, argument(0)) == operand(parameters, argument(1)),
        "!Not" => !holds(template, parameters, argument(0)),
        "!And" => arguments
            .expect("!And's list")
            .iter()
            .all(|c| holds(template, parameters, c)),
        "!Or" => arguments
            .expect("!Or's list")
            .iter()
            .any(|c| holds(template, parameters, c)),
        "!Condition" => {
            let name = function.value.as_str().expect("a condition name");
            holds(template, parameters, &template["Conditions"][name])
        }
        "!Contains" => {
            let needle = operand(parameters, argument(1));
            argument(0)
                .as_sequence()
                .expect("!Contains' list")
                .iter()
                .any(|item| operand(parameters, item) == needle)
        }
        other => panic!("{other} is not evaluated here"),
    }
}

/// `value` as deployed: `!If`s resolved, `!Ref AWS::NoValue` removed (`None`), `!Ref` to a
/// parameter replaced by its value; anything else (`!Ref` to a resource, `!GetAtt`) kept. This
/// is what the AWS::LanguageExtensions transform does before SAM reads the template.
fn deployed(
    template: &Value,
    parameters: &BTreeMap<String, String>,
    value: &Value,
) -> Option<Value> {
    match value {
        Value::Tagged(function) if function.tag == "!If" => {
            let arguments = function.value.as_sequence().expect("!If's list");
            let condition = arguments[0].as_str().expect("!If's condition");
            let chosen = if holds(template, parameters, &template["Conditions"][condition]) {
                &arguments[1]
            } else {
                &arguments[2]
            };
            deployed(template, parameters, chosen)
        }
        Value::Tagged(_) => match ref_target(value) {
            Some("AWS::NoValue") => None,
            Some(name) if parameters.contains_key(name) => {
                Some(Value::String(parameters[name].clone()))
            }
            _ => Some(value.clone()),
        },
        Value::Mapping(mapping) => Some(Value::Mapping(
            mapping
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), deployed(template, parameters, v)?)))
                .collect(),
        )),
        Value::Sequence(items) => Some(Value::Sequence(
            items
                .iter()
                .filter_map(|item| deployed(template, parameters, item))
                .collect(),
        )),
        other => Some(other.clone()),
    }
}

/// The template deployed with `overrides` (other parameters at their defaults), and the
/// descriptions of the rules that refuse those parameters (CloudFormation refuses the change
/// set then).
fn deploy(overrides: &[(&str, &str)]) -> (Value, Vec<String>) {
    let template = template();
    let parameters = parameter_values(&template, overrides);
    let mut refused = Vec::new();
    for (_, rule) in template["Rules"].as_mapping().into_iter().flatten() {
        let applies = rule
            .get("RuleCondition")
            .is_none_or(|c| holds(&template, &parameters, c));
        for assertion in rule["Assertions"].as_sequence().expect("Assertions") {
            if applies && !holds(&template, &parameters, &assertion["Assert"]) {
                let description = assertion["AssertDescription"].as_str().expect("a reason");
                refused.push(description.to_owned());
            }
        }
    }
    let resolved = deployed(&template, &parameters, &template).expect("a template");
    (resolved, refused)
}

/// A deployed function's environment: the Globals' variables and its own (SAM merges them).
fn environment(deployed: &Value, function: &str) -> BTreeMap<String, String> {
    let globals = &deployed["Globals"]["Function"]["Environment"]["Variables"];
    let own = &deployed["Resources"][function]["Properties"]["Environment"]["Variables"];
    let mut variables = BTreeMap::new();
    for scope in [globals, own] {
        for (name, value) in scope.as_mapping().into_iter().flatten() {
            let value = match value {
                Value::String(text) => text.clone(),
                Value::Number(number) => number.to_string(),
                // A resource's id or attribute: known once deployed.
                other => format!("{other:?}"),
            };
            variables.insert(name.as_str().unwrap().to_owned(), value);
        }
    }
    variables
}

/// The sign-in variables of an environment.
fn sign_in(environment: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    environment
        .iter()
        .filter(|(name, _)| sign_in_variables().any(|v| v == name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

const ISSUER: &str = "https://idp.example.com/oauth2/default";
const JWKS: &str = "https://idp.example.com/oauth2/default/v1/keys";
const ALB: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/dispatch/50dc6c495c0c9188";

#[test]
fn the_sign_in_parameters_are_optional_and_the_provider_defaults_to_basic() {
    let template = template();
    let declared = &template["Parameters"];
    let slug = &declared["AuthenticationProviderSlug"];
    assert_eq!(slug["Default"], BASIC);
    // Authentication off (an empty slug) is not offered: inside Lambda it needs a second switch.
    let allowed: Vec<&str> = slug["AllowedValues"]
        .as_sequence()
        .expect("AllowedValues")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(allowed, [BASIC, PKCE, HEADER, AWS_ALB]);
    for parameter in SIGN_IN_PARAMETERS
        .iter()
        .map(|(p, _)| *p)
        .chain(["JwtAuthorizerIssuer", "JwtAuthorizerAudience"])
        .filter(|p| *p != "AuthenticationProviderSlug")
    {
        assert_eq!(
            declared[parameter]["Default"], "",
            "{parameter} is optional and empty by default"
        );
    }
    // Today's behaviour: the basic provider, its variable alone, no authorizer.
    let (deployed, refused) = deploy(&[]);
    assert!(refused.is_empty(), "{refused:?}");
    for function in Function::ALL {
        let env = sign_in(&environment(&deployed, function.template_resource()));
        assert_eq!(
            env,
            BTreeMap::from([(
                "DISPATCH_AUTHENTICATION_PROVIDER_SLUG".to_owned(),
                BASIC.to_owned()
            )]),
            "{function}"
        );
    }
    assert!(
        deployed["Resources"]["HttpApi"]["Properties"]
            .get("Auth")
            .is_none(),
        "an authorizer without JwtAuthorizerIssuer"
    );
}

#[test]
fn the_sign_in_parameters_reach_every_http_function_and_never_the_maintenance_function() {
    let values: [(&str, &str); 8] = [
        ("AuthenticationProviderSlug", PKCE),
        ("PkceJwksUrl", JWKS),
        ("PkceTokenIssuer", ISSUER),
        ("PkceTokenAudience", "api://dispatch"),
        ("JwtEmailOverride", "upn"),
        ("HeaderProviderName", "x-user"),
        ("AwsAlbArn", ALB),
        ("AwsAlbEmailClaim", "mail"),
    ];
    let (deployed, refused) = deploy(&values);
    assert!(refused.is_empty(), "{refused:?}");
    let expected: BTreeMap<String, String> = SIGN_IN_PARAMETERS
        .iter()
        .map(|(parameter, variable)| {
            let value = values.iter().find(|(p, _)| p == parameter).unwrap().1;
            ((*variable).to_owned(), value.to_owned())
        })
        .collect();
    for function in Function::ALL {
        let env = environment(&deployed, function.template_resource());
        assert_eq!(sign_in(&env), expected, "{function}");
    }
    // Nothing of it in the Globals, so nothing in the maintenance function, whatever is set.
    let globals = &deployed["Globals"]["Function"]["Environment"]["Variables"];
    for variable in sign_in_variables() {
        assert!(globals.get(variable).is_none(), "{variable} in the Globals");
    }
    for overrides in [&values[..], &[][..]] {
        let (deployed, _) = deploy(overrides);
        let env = environment(&deployed, MAINTENANCE);
        assert!(sign_in(&env).is_empty(), "{MAINTENANCE}: {env:?}");
        assert!(
            !env.keys()
                .any(|name| name.starts_with("DISPATCH_AUTHENTICATION")),
            "{MAINTENANCE}: {env:?}"
        );
    }

    // DISPATCH_JWT_ISSUER and _AUDIENCE also name the basic provider's own tokens: the pkce
    // parameters set them with the pkce slug only.
    let (deployed, _) = deploy(&[
        ("PkceTokenIssuer", ISSUER),
        ("PkceTokenAudience", "api://dispatch"),
    ]);
    let env = environment(&deployed, Function::Auth.template_resource());
    assert!(
        !env.contains_key("DISPATCH_JWT_ISSUER") && !env.contains_key("DISPATCH_JWT_AUDIENCE"),
        "{env:?}"
    );
}

#[test]
fn the_jwt_authorizer_guards_every_route_but_the_public_ones() {
    let authorizer = [
        ("AuthenticationProviderSlug", PKCE),
        ("JwtAuthorizerIssuer", ISSUER),
        ("JwtAuthorizerAudience", "dispatch-ui"),
    ];
    for (overrides, on) in [(&authorizer[..], true), (&[][..], false)] {
        let (deployed, refused) = deploy(overrides);
        assert!(refused.is_empty(), "{refused:?}");
        let auth = &deployed["Resources"]["HttpApi"]["Properties"]["Auth"];
        let mut checked = 0;
        if on {
            let name = auth["DefaultAuthorizer"]
                .as_str()
                .expect("a default authorizer: a new route is guarded unless declared public");
            let declared = &auth["Authorizers"][name];
            assert_eq!(declared["IdentitySource"], "$request.header.Authorization");
            assert_eq!(declared["JwtConfiguration"]["issuer"], ISSUER);
            assert_eq!(
                declared["JwtConfiguration"]["audience"],
                Value::Sequence(vec!["dispatch-ui".into()])
            );
        } else {
            assert!(auth.is_null(), "{auth:?}");
        }
        for function in Function::ALL {
            let resource = function.template_resource();
            let events = deployed["Resources"][resource]["Properties"]["Events"]
                .as_mapping()
                .expect("Events");
            let functions_env = environment(&deployed, resource);
            assert_eq!(
                functions_env.get(TRUSTS_JWT_AUTHORIZER).map(String::as_str),
                on.then_some("true"),
                "{function}"
            );
            for (id, event) in events {
                let properties = &event["Properties"];
                let path = properties["Path"].as_str().unwrap_or("$default");
                let method = properties["Method"]
                    .as_str()
                    .unwrap_or("ANY")
                    .to_uppercase();
                // The catch-all answers 404/405 alike for everyone; the rest as the table says.
                let public = path == "$default"
                    || ROUTES
                        .iter()
                        .find(|r| r.path == path && r.method.as_str() == method)
                        .unwrap_or_else(|| panic!("{method} {path} is not in the route table"))
                        .permission
                        == Permission::Public;
                let declared = properties.get("Auth");
                match (on, public) {
                    (true, true) => assert_eq!(
                        declared.map(|a| &a["Authorizer"]),
                        Some(&Value::from("NONE")),
                        "{id:?}: {method} {path} is public"
                    ),
                    (true, false) => assert!(
                        declared.is_none(),
                        "{id:?}: {method} {path} is guarded by the default authorizer: {declared:?}"
                    ),
                    // SAM refuses `Authorizer: NONE` on an API without a default authorizer.
                    (false, _) => assert!(declared.is_none(), "{id:?}: {declared:?}"),
                }
                checked += 1;
            }
        }
        assert_eq!(checked, ROUTES.len() + 1, "every route and the catch-all");
    }

    // The authorizer also serves the header provider (its email claim), without the pkce flag.
    let (deployed, refused) = deploy(&[
        ("AuthenticationProviderSlug", HEADER),
        ("JwtAuthorizerIssuer", ISSUER),
        ("JwtAuthorizerAudience", "dispatch-ui"),
    ]);
    assert!(refused.is_empty(), "{refused:?}");
    assert!(deployed["Resources"]["HttpApi"]["Properties"]["Auth"].is_mapping());
    let env = environment(&deployed, Function::Users.template_resource());
    assert!(!env.contains_key(TRUSTS_JWT_AUTHORIZER), "{env:?}");
}

#[test]
fn every_parameter_set_cloudformation_accepts_starts_the_functions() {
    // The functions' start-up check (`Provider::from_lookup`) refuses what the template's Rules
    // should have refused at deployment: find every set the Rules let through that would not
    // start, and the sets the Rules refuse.
    let slugs = [BASIC, PKCE, HEADER, AWS_ALB];
    let mut accepted = 0;
    for slug in slugs {
        for jwks in ["", JWKS] {
            for issuer in ["", ISSUER] {
                for audience in ["", "dispatch-ui"] {
                    for alb in ["", ALB] {
                        let overrides = [
                            ("AuthenticationProviderSlug", slug),
                            ("PkceJwksUrl", jwks),
                            ("JwtAuthorizerIssuer", issuer),
                            ("JwtAuthorizerAudience", audience),
                            ("AwsAlbArn", alb),
                        ];
                        let (deployed, refused) = deploy(&overrides);
                        let mut env = environment(&deployed, Function::Auth.template_resource());
                        // What Lambda adds.
                        env.insert("AWS_REGION".into(), "eu-west-1".into());
                        env.insert("AWS_LAMBDA_FUNCTION_NAME".into(), "auth".into());
                        let started = Provider::from_lookup(|name| env.get(name).cloned());
                        if refused.is_empty() {
                            accepted += 1;
                            let provider = started.as_ref().unwrap_or_else(|e| {
                                panic!("{overrides:?} deploys, then stops start-up: {e}")
                            });
                            assert_eq!(provider.slug(), slug, "{overrides:?}");
                        }
                        let needs_audience = !issuer.is_empty() && audience.is_empty();
                        let useless_authorizer =
                            !issuer.is_empty() && [BASIC, AWS_ALB].contains(&slug);
                        let unstartable = started.is_err();
                        assert_eq!(
                            !refused.is_empty(),
                            needs_audience || useless_authorizer || unstartable,
                            "{overrides:?}: refused {refused:?}"
                        );
                    }
                }
            }
        }
    }
    assert!(accepted > 0);
}

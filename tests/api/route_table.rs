//! The route table is the single source of truth: every router and `template.yaml` must agree
//! with it, so adding a route anywhere else makes these tests fail. The maintenance function,
//! which serves no route, must agree with the jobs (`dispatch_domain::maintenance::Job`).

use std::collections::{BTreeMap, BTreeSet};

use dispatch_domain::maintenance::Job;
use dispatch_domain::maintenance::summary::METRICS_NAMESPACE;
use dispatch_shared::http::{RouteHandlers, RouteTableError, app};
use dispatch_shared::routes::{Function, Method, ROUTES, routes_of};
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

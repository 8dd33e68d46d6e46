//! The maintenance function in `template.yaml`: its resource and binary, no route and no
//! secret, one schedule per job with its name, the scheduler role, the dead-letter queue and
//! the alarms.

use super::*;

/// The maintenance function's resource in `template.yaml`, and its reserved-concurrency
/// parameter.
pub(super) const MAINTENANCE: &str = "MaintenanceFunction";
pub(super) const MAINTENANCE_CONCURRENCY: &str = "MaintenanceReservedConcurrency";
/// The queue that keeps failed maintenance runs and undelivered schedule events.
pub(super) const DEAD_LETTER_QUEUE: &str = "MaintenanceDeadLetterQueue";
/// The role EventBridge Scheduler invokes the maintenance function with.
pub(super) const SCHEDULER_ROLE: &str = "MaintenanceSchedulerRole";

/// The DynamoDB actions the maintenance jobs issue: reads by key and by query, scans of the
/// table, single and batch writes, and transactions.
pub(super) const MAINTENANCE_DYNAMODB_ACTIONS: [&str; 10] = [
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
pub(super) fn get_att_target(value: &Value) -> Option<&str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "!GetAtt" => tagged.value.as_str(),
        _ => None,
    }
}

/// The template's resources of type `kind`, by logical id.
pub(super) fn resources_of<'a>(template: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    template["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .filter(|(_, resource)| resource["Type"] == kind)
        .map(|(name, resource)| (name.as_str().expect("a logical id"), resource))
        .collect()
}

/// A value that is one string or a list of them, as IAM's `Action` and `Resource` are.
pub(super) fn one_or_many(value: &Value) -> Vec<&Value> {
    match value.as_sequence() {
        Some(values) => values.iter().collect(),
        None => vec![value],
    }
}

/// Each crate under `functions/` (its folder) and the binary it builds (its `[[bin]]` name).
pub(super) fn function_crates() -> Vec<(String, String)> {
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
pub(super) fn rate_period(expression: &str) -> Option<std::time::Duration> {
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
pub(super) fn pascal_case(name: &str) -> String {
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

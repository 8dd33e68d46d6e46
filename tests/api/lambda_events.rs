//! Each function's router fed real API Gateway HTTP API v2 events (`events/*.json`), exactly as
//! `lambda_http` hands them over in Lambda; and the EventBridge Scheduler events of the
//! maintenance function (`events/maintenance-*.json`), which are its schedules' inputs.

use dispatch_domain::maintenance::Job;
use dispatch_shared::routes::Function;
use http::StatusCode;

use crate::helpers::{call_event, spawn_app};

/// Fixture, the function API Gateway routes it to, what it must answer without a token, and
/// with the token of a member of `default` (fixtures carry no token: keys are per test run).
const CASES: &[(&str, Function, u16, u16)] = &[
    ("healthcheck", Function::Auth, 200, 200),
    // The fixture's user does not exist: Dispatch's bad-credentials 422.
    ("auth-login", Function::Auth, 422, 422),
    ("auth-me", Function::Auth, 401, 200),
    // An ALB target-group event (lambda_http's `alb` feature); its `x-amzn-oidc-data` counts only
    // under the ALB provider (tests/api/auth_alb.rs replays it so).
    ("alb-auth-me", Function::Auth, 401, 200),
    // Registration needs no token; the second replay finds the email taken.
    ("auth-register", Function::Auth, 200, 422),
    ("auth-myrole", Function::Auth, 401, 200),
    ("auth-settings-get", Function::Auth, 401, 200),
    ("auth-settings-put", Function::Auth, 401, 200),
    // The default project's MFA plugin is disabled: Dispatch's refusal (tests/api/mfa/api.rs
    // replays it with the plugin enabled).
    ("auth-mfa", Function::Auth, 401, 400),
    ("users-list", Function::Users, 401, 200),
    // User 1 is the member whose token the second replay carries.
    ("users-get", Function::Users, 401, 200),
    ("users-create", Function::Users, 401, 403),
    ("users-update", Function::Users, 401, 200),
    ("users-change-password", Function::Users, 401, 400),
    ("users-reset-password", Function::Users, 401, 403),
    ("organizations-list", Function::Organizations, 401, 200),
    // Organization 1 is `default`; a Member is not its Owner.
    ("organizations-delete", Function::Organizations, 401, 403),
    ("projects-get", Function::Projects, 401, 200),
    ("plugins-list", Function::Plugins, 401, 200),
    ("plugins-events-list", Function::Plugins, 401, 200),
    ("plugins-instances-list", Function::Plugins, 401, 200),
    // Single instances are for Owners, Managers and Admins only.
    ("plugins-instance-get", Function::Plugins, 401, 403),
    ("plugins-instance-update", Function::Plugins, 401, 403),
    ("plugins-instance-create", Function::Plugins, 401, 403),
    ("plugins-instance-delete", Function::Plugins, 401, 403),
    // `$default` goes to the auth function, which answers for the whole route table.
    ("default-unknown-path", Function::Auth, 404, 404),
    ("default-wrong-method", Function::Auth, 405, 405),
];

/// The EventBridge Scheduler event of `job`: what its schedule in `template.yaml` delivers. The
/// maintenance handler's tests replay these.
pub(crate) fn scheduler_fixture_name(job: Job) -> String {
    format!("maintenance-{}", job.name())
}

/// A scheduler event naming a job that does not exist.
pub(crate) const UNKNOWN_JOB_FIXTURE: &str = "maintenance-unknown-job";

pub(crate) fn fixture(name: &str) -> String {
    let path = format!("{}/../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test]
async fn every_fixture_gets_the_answer_of_its_function() {
    let app = spawn_app().await;
    let token = app
        .register("member@example.com", "correct horse battery")
        .await;
    for (name, function, anonymous, member) in CASES {
        let router = match function {
            Function::Auth => dispatch_auth::router(app.state.clone()),
            Function::Users => dispatch_users::router(app.state.clone()),
            Function::Organizations => dispatch_organizations::router(app.state.clone()),
            Function::Projects => dispatch_projects::router(app.state.clone()),
            Function::Plugins => dispatch_plugins::router(app.state.clone()),
        }
        .unwrap();
        let response = call_event(&router, &fixture(name)).await;
        assert_eq!(
            response.status,
            StatusCode::from_u16(*anonymous).unwrap(),
            "{name}: {}",
            response.body
        );
        if *anonymous != 200 {
            assert!(
                response.body["detail"][0]["msg"].is_string(),
                "{name}: {}",
                response.body
            );
        }
        let mut event: serde_json::Value = serde_json::from_str(&fixture(name)).unwrap();
        event["headers"]["authorization"] = serde_json::json!(format!("Bearer {token}"));
        let response = call_event(&router, &event.to_string()).await;
        assert_eq!(
            response.status,
            StatusCode::from_u16(*member).unwrap(),
            "{name} with a token: {}",
            response.body
        );
    }
}

#[test]
fn every_fixture_in_events_is_exercised() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../events");
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let stem = name.trim_end_matches(".json");
        let scheduler_event = stem == UNKNOWN_JOB_FIXTURE
            || Job::ALL
                .into_iter()
                .any(|job| scheduler_fixture_name(job) == stem);
        assert!(
            CASES.iter().any(|(n, ..)| *n == stem) || scheduler_event,
            "events/{name} is not replayed by a test"
        );
    }
}

#[tokio::test]
async fn an_admin_manages_plugin_instances_through_api_gateway_events() {
    let app = spawn_app().await;
    let admin = app
        .registered_with_role(
            "admin@example.com",
            "correct horse battery",
            dispatch_domain::model::Role::Admin,
        )
        .await;
    let router = dispatch_plugins::router(app.state.clone()).unwrap();
    let replay = |name: &str| {
        let mut event: serde_json::Value = serde_json::from_str(&fixture(name)).unwrap();
        event["headers"]["authorization"] = serde_json::json!(format!("Bearer {admin}"));
        let router = router.clone();
        async move { call_event(&router, &event.to_string()).await }
    };
    let read = replay("plugins-instance-get").await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.body["id"], 1);
    let updated = replay("plugins-instance-update").await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["enabled"], true);
    assert!(
        updated.body.get("id").is_none(),
        "PluginInstanceCreate shape"
    );
    let created = replay("plugins-instance-create").await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert_eq!(created.body["plugin"]["slug"], "aws-sqs-signal-consumer");
    let deleted = replay("plugins-instance-delete").await;
    assert_eq!(
        (deleted.status, deleted.body),
        (StatusCode::OK, serde_json::Value::Null)
    );
    assert_eq!(
        replay("plugins-instance-get").await.status,
        StatusCode::NOT_FOUND
    );
}

#[test]
fn every_scheduler_fixture_is_exactly_its_schedule_s_input() {
    let template = crate::route_table::template();
    let schedules = template["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .filter(|resource| resource["Type"] == "AWS::Scheduler::Schedule");
    let mut replayed = 0;
    for schedule in schedules {
        let input = schedule["Properties"]["Target"]["Input"].as_str().unwrap();
        let input: serde_json::Value = serde_json::from_str(input).unwrap();
        let job = Job::from_name(input["job"].as_str().unwrap()).unwrap();
        let name = scheduler_fixture_name(job);
        let event: serde_json::Value = serde_json::from_str(&fixture(&name)).unwrap();
        assert_eq!(event, input, "events/{name}.json");
        replayed += 1;
    }
    assert_eq!(replayed, Job::ALL.len(), "one fixture per job");

    let unknown: serde_json::Value = serde_json::from_str(&fixture(UNKNOWN_JOB_FIXTURE)).unwrap();
    let fields: Vec<&String> = unknown.as_object().unwrap().keys().collect();
    assert_eq!(fields, ["job"], "a well-formed run of no job");
    assert_eq!(Job::from_name(unknown["job"].as_str().unwrap()), None);
}

//! The template's optional UI hosting (`UiHosting=cloudfront`): nothing by default; when
//! chosen, a bucket only the distribution reads, a distribution that serves the UI with its
//! app routes answered by `index.html` and sends `/api/*` to the API uncached, naming the
//! viewer's address beside the value the functions are given to believe it. The two
//! CloudFront functions' code runs here in Node.js on sample events.

use dispatch_domain::trusted_edge::{SECRET_HEADER, SETTING, VIEWER_ADDRESS_HEADER};

use super::sign_in::{deploy, environment};
use super::*;

const UI_RESOURCES: [&str; 7] = [
    "UiEdgeSecret",
    "UiBucket",
    "UiBucketPolicy",
    "UiOriginAccessControl",
    "UiAppRoutes",
    "UiApiViewer",
    "UiDistribution",
];

fn hosted() -> Value {
    let (deployed, refused) = deploy(&[("UiHosting", "cloudfront")]);
    assert!(refused.is_empty(), "{refused:?}");
    deployed
}

/// The handler of a CloudFront function resource, run by Node.js on `event`.
fn run_function(deployed: &Value, resource: &str, event: serde_json::Value) -> serde_json::Value {
    let code = deployed["Resources"][resource]["Properties"]["FunctionCode"]
        .as_str()
        .expect("inline code");
    let script = format!("{code}\nconsole.log(JSON.stringify(handler({event})));");
    let output = std::process::Command::new("node")
        .arg("-e")
        .arg(script)
        .output()
        .expect("node (the local stack's DynamoDB Local is installed with npm)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn nothing_is_hosted_by_default_and_the_functions_believe_no_viewer_header() {
    let (deployed, _) = deploy(&[]);
    for resource in UI_RESOURCES {
        let condition = template()["Resources"][resource]["Condition"].clone();
        assert_eq!(condition, "HostsUi", "{resource}");
    }
    for function in Function::ALL {
        let env = environment(&deployed, function.template_resource());
        assert!(!env.contains_key(SETTING), "{function}: {env:?}");
    }
    assert_eq!(template()["Parameters"]["UiHosting"]["Default"], "none");
}

#[test]
fn the_bucket_is_private_and_read_by_the_distribution_alone() {
    let deployed = hosted();
    let bucket = &deployed["Resources"]["UiBucket"]["Properties"];
    for setting in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(bucket["PublicAccessBlockConfiguration"][setting], true);
    }
    let statements =
        deployed["Resources"]["UiBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
            .as_sequence()
            .unwrap()
            .clone();
    let allowed: Vec<&Value> = statements
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .collect();
    assert_eq!(allowed.len(), 1, "{allowed:?}");
    assert_eq!(
        allowed[0]["Principal"]["Service"],
        "cloudfront.amazonaws.com"
    );
    assert_eq!(allowed[0]["Action"], "s3:GetObject");
    let source = format!(
        "{:?}",
        allowed[0]["Condition"]["StringEquals"]["AWS:SourceArn"]
    );
    assert!(
        source.contains("distribution/${UiDistribution}"),
        "{source}"
    );
    let origins =
        deployed["Resources"]["UiDistribution"]["Properties"]["DistributionConfig"]["Origins"]
            .as_sequence()
            .unwrap()
            .clone();
    let ui = origins.iter().find(|o| o["Id"] == "ui").unwrap();
    assert!(
        ui.get("OriginAccessControlId").is_some(),
        "signed requests to the bucket"
    );
}

#[test]
fn api_paths_reach_the_api_uncached_with_the_viewer_and_the_value_the_functions_believe() {
    let deployed = hosted();
    let config = &deployed["Resources"]["UiDistribution"]["Properties"]["DistributionConfig"];
    let api_behaviour = config["CacheBehaviors"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|b| b["PathPattern"] == "/api/*")
        .expect("an /api/* behaviour")
        .clone();
    assert_eq!(api_behaviour["TargetOriginId"], "api");
    assert_eq!(
        api_behaviour["CachePolicyId"], "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
        "CachingDisabled: answers depend on the caller"
    );
    let methods = api_behaviour["AllowedMethods"].as_sequence().unwrap();
    for method in ["GET", "POST", "PUT", "DELETE", "OPTIONS"] {
        assert!(methods.contains(&Value::from(method)), "{method}");
    }
    let api = config["Origins"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|o| o["Id"] == "api")
        .unwrap()
        .clone();
    assert!(format!("{:?}", api["DomainName"]).contains("${HttpApi}.execute-api"));
    let header = &api["OriginCustomHeaders"][0];
    assert_eq!(header["HeaderName"], SECRET_HEADER);
    // The functions are given the same value the distribution sends.
    let globals = &deployed["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(globals[SETTING], header["HeaderValue"]);
    // A generated secret, never derived from the stack id (which every resource's tags show).
    let value = format!("{:?}", header["HeaderValue"]);
    assert!(
        value.contains("{{resolve:secretsmanager:${UiEdgeSecret}:SecretString}}"),
        "{value}"
    );
    assert!(!value.contains("AWS::StackId"), "{value}");
    let secret = &deployed["Resources"]["UiEdgeSecret"];
    assert_eq!(secret["Type"], "AWS::SecretsManager::Secret");
    let generated = &secret["Properties"]["GenerateSecretString"];
    assert!(
        generated["PasswordLength"].as_u64().unwrap() >= 32,
        "{generated:?}"
    );
    assert_eq!(
        generated["ExcludePunctuation"], true,
        "it travels in a header"
    );

    let event = serde_json::json!({
        "viewer": {"ip": "203.0.113.50"},
        "request": {"uri": "/api/v1/default/auth/login", "headers": {
            VIEWER_ADDRESS_HEADER: {"value": "198.51.100.1"},
            SECRET_HEADER: {"value": "guessed"},
        }}
    });
    let forwarded = run_function(&deployed, "UiApiViewer", event);
    assert_eq!(
        forwarded["headers"][VIEWER_ADDRESS_HEADER]["value"],
        "203.0.113.50"
    );
    assert!(
        forwarded["headers"].get(SECRET_HEADER).is_none(),
        "{forwarded}"
    );
    assert_eq!(forwarded["uri"], "/api/v1/default/auth/login");
}

#[test]
fn the_uis_routes_are_answered_by_index_html_and_its_files_by_themselves() {
    let deployed = hosted();
    for (asked, served) in [
        ("/", "/index.html"),
        ("/default/auth/login", "/index.html"),
        ("/default/incidents/dispatch-123", "/index.html"),
        ("/assets/index-4f2a9c.js", "/assets/index-4f2a9c.js"),
        ("/favicon.ico", "/favicon.ico"),
    ] {
        let event = serde_json::json!({"viewer": {"ip": "203.0.113.50"},
            "request": {"uri": asked, "headers": {}}});
        let forwarded = run_function(&deployed, "UiAppRoutes", event);
        assert_eq!(forwarded["uri"], served, "{asked}");
    }
}

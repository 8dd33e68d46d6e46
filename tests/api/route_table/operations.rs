//! The template's operations part: every log kept `LogRetentionDays`, the API's access log,
//! alarms on what users of the API would notice (5xx, failed or throttled invocations, a
//! throttled table) notifying the optional topic, CORS for a UI on another origin, and an
//! optional custom domain. These are what a deployment gets; `.ci/sam_translate.py` checks
//! that SAM translates the template for the same parameter sets.

use super::maintenance::*;
use super::sign_in::{deploy, holds, parameter_values};
use super::*;

const ORIGINS: &str = "https://dispatch.example.com,https://ui.example.com";
const CERTIFICATE: &str =
    "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d";
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:dispatch-alarms";

/// Every function resource: the five HTTP functions and the maintenance function.
fn function_resources() -> Vec<&'static str> {
    Function::ALL
        .iter()
        .map(|f| f.template_resource())
        .chain([MAINTENANCE])
        .collect()
}

/// The log group `!Ref`'d by `value`, checked to be kept `LogRetentionDays`.
fn kept_log_group<'a>(template: &'a Value, value: &Value, of: &str) -> &'a str {
    let group = ref_target(value)
        .or_else(|| get_att_target(value).and_then(|t| t.strip_suffix(".Arn")))
        .unwrap_or_else(|| panic!("{of} logs to {value:?}, not a group of this template"));
    let group = template["Resources"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap())
        .find(|k| *k == group)
        .unwrap_or_else(|| panic!("{of}: no resource {group}"));
    let resource = resource(template, group);
    assert_eq!(resource["Type"], "AWS::Logs::LogGroup", "{of}");
    for policy in ["DeletionPolicy", "UpdateReplacePolicy"] {
        assert_eq!(resource[policy], "Retain", "{of}: logs outlive the stack");
    }
    assert_eq!(
        ref_target(&resource["Properties"]["RetentionInDays"]),
        Some("LogRetentionDays"),
        "{of}"
    );
    group
}

#[test]
fn every_function_and_the_api_log_to_groups_kept_log_retention_days() {
    let template = template();
    let mut groups = BTreeSet::new();
    for function in function_resources() {
        let config = &resource(&template, function)["Properties"]["LoggingConfig"];
        groups.insert(kept_log_group(&template, &config["LogGroup"], function));
    }
    assert_eq!(groups.len(), 6, "one group per function: {groups:?}");
    let access = &resource(&template, "HttpApi")["Properties"]["AccessLogSettings"];
    groups.insert(kept_log_group(
        &template,
        &access["DestinationArn"],
        "HttpApi",
    ));
    let format: serde_json::Value =
        serde_json::from_str(access["Format"].as_str().expect("a format")).expect("JSON lines");
    for field in ["requestId", "ip", "route", "status", "latencyMs"] {
        assert!(format.get(field).is_some(), "the access log has {field}");
    }
    assert_eq!(groups.len(), 7);
    let retention = &template["Parameters"]["LogRetentionDays"];
    assert!(
        retention["AllowedValues"]
            .as_sequence()
            .unwrap()
            .contains(&retention["Default"]),
        "the default is a retention CloudWatch Logs offers"
    );
}

/// The metrics an alarm's math reads: (namespace, metric, dimension value's target).
fn metrics_of(alarm: &Value) -> Vec<(String, String, String)> {
    alarm["Properties"]["Metrics"]
        .as_sequence()
        .expect("a metric math alarm")
        .iter()
        .filter_map(|m| {
            let stat = m.get("MetricStat")?;
            let metric = &stat["Metric"];
            let target = ref_target(&metric["Dimensions"][0]["Value"]).expect("a !Ref");
            Some((
                metric["Namespace"].as_str()?.to_owned(),
                metric["MetricName"].as_str()?.to_owned(),
                target.to_owned(),
            ))
        })
        .collect()
}

#[test]
fn alarms_watch_5xx_failed_and_throttled_invocations_and_the_table_and_notify_the_topic() {
    let template = template();
    let http: BTreeSet<String> = Function::ALL
        .iter()
        .map(|f| f.template_resource().to_owned())
        .collect();
    let every: BTreeSet<String> = function_resources().into_iter().map(String::from).collect();
    let watched = |alarm: &str, namespace: &str, metric: &str| -> BTreeSet<String> {
        metrics_of(resource(&template, alarm))
            .into_iter()
            .filter(|(n, m, _)| n == namespace && m == metric)
            .map(|(_, _, target)| target)
            .collect()
    };
    assert_eq!(
        watched("ApiServerErrorsAlarm", "AWS/ApiGateway", "5xx"),
        BTreeSet::from(["HttpApi".to_owned()])
    );
    assert_eq!(
        watched("ApiServerErrorsAlarm", "AWS/ApiGateway", "Count"),
        BTreeSet::from(["HttpApi".to_owned()])
    );
    assert_eq!(watched("FunctionErrorsAlarm", "AWS/Lambda", "Errors"), http);
    assert_eq!(
        watched("FunctionThrottlesAlarm", "AWS/Lambda", "Throttles"),
        every
    );
    for metric in ["ReadThrottleEvents", "WriteThrottleEvents"] {
        assert_eq!(
            watched("TableThrottlesAlarm", "AWS/DynamoDB", metric),
            BTreeSet::from(["Table".to_owned()])
        );
    }

    let alarms = [
        "ApiServerErrorsAlarm",
        "FunctionErrorsAlarm",
        "FunctionThrottlesAlarm",
        "TableThrottlesAlarm",
    ];
    for (overrides, notified) in [(&[("AlarmTopicArn", TOPIC)][..], true), (&[][..], false)] {
        let (deployed, refused) = deploy(overrides);
        assert!(refused.is_empty(), "{refused:?}");
        for alarm in alarms {
            let properties = &deployed["Resources"][alarm]["Properties"];
            // One expression returns data: the alarm's value.
            let returned = properties["Metrics"]
                .as_sequence()
                .unwrap()
                .iter()
                .filter(|m| m["ReturnData"] == Value::Bool(true))
                .count();
            assert_eq!(returned, 1, "{alarm}");
            for actions in ["AlarmActions", "OKActions"] {
                let expected = notified.then(|| Value::Sequence(vec![TOPIC.into()]));
                assert_eq!(
                    properties.get(actions).cloned(),
                    expected,
                    "{alarm} {actions}"
                );
            }
        }
    }
}

#[test]
fn cors_is_off_unless_origins_are_given_and_then_lists_them() {
    let cors = |overrides: &[(&str, &str)]| {
        let (deployed, refused) = deploy(overrides);
        assert!(refused.is_empty(), "{refused:?}");
        deployed["Resources"]["HttpApi"]["Properties"]["DefinitionBody"]
            .get("x-amazon-apigateway-cors")
            .cloned()
    };
    assert_eq!(
        cors(&[]),
        None,
        "no CORS by default: the UI on the API's origin needs none"
    );
    let on = cors(&[("CorsAllowOrigins", ORIGINS)]).expect("CORS with origins");
    let Value::Tagged(split) = &on["allowOrigins"] else {
        panic!("origins split from the parameter: {on:?}")
    };
    assert_eq!(split.tag, "!Split");
    assert_eq!(split.value[0], ",");
    assert_eq!(ref_target(&split.value[1]), Some("CorsAllowOrigins"));
    let headers = on["allowHeaders"].as_sequence().unwrap();
    for header in ["authorization", "content-type"] {
        assert!(headers.contains(&Value::from(header)), "{header}");
    }
    assert_eq!(
        on["allowMethods"],
        Value::Sequence(["GET", "POST", "PUT", "DELETE"].map(Value::from).to_vec())
    );
    let pattern = regex_lite::Regex::new(
        template()["Parameters"]["CorsAllowOrigins"]["AllowedPattern"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert!(pattern.is_match(ORIGINS) && pattern.is_match(""));
    for refused in [
        "*",
        "dispatch.example.com",
        "https://dispatch.example.com/",
        "https://a.b/ui",
    ] {
        assert!(
            !pattern.is_match(refused),
            "{refused}: never a browser's Origin"
        );
    }
}

#[test]
fn a_custom_domain_needs_its_certificate_and_maps_the_whole_api() {
    let template = template();
    let created = |overrides: &[(&str, &str)], resource: &str| {
        let parameters = parameter_values(&template, overrides);
        let condition = template["Resources"][resource]["Condition"]
            .as_str()
            .expect("a conditional resource");
        holds(&template, &parameters, &template["Conditions"][condition])
    };
    let domain = ("DomainName", "dispatch-api.example.com");
    let (_, refused) = deploy(&[domain]);
    assert_eq!(
        refused.len(),
        1,
        "a domain without its certificate: {refused:?}"
    );
    for resource in ["ApiDomain", "ApiDomainMapping", "ApiDomainRecord"] {
        assert!(!created(&[], resource), "{resource} by default");
    }
    let with_certificate = [domain, ("CertificateArn", CERTIFICATE)];
    let (deployed, refused) = deploy(&with_certificate);
    assert!(refused.is_empty(), "{refused:?}");
    assert!(created(&with_certificate, "ApiDomain"));
    assert!(created(&with_certificate, "ApiDomainMapping"));
    assert!(
        !created(&with_certificate, "ApiDomainRecord"),
        "no zone, no record"
    );
    let mapping = &deployed["Resources"]["ApiDomainMapping"]["Properties"];
    assert_eq!(ref_target(&mapping["ApiId"]), Some("HttpApi"));
    assert!(
        mapping.get("ApiMappingKey").is_none(),
        "the API at the domain's root"
    );
    let with_zone = [
        domain,
        ("CertificateArn", CERTIFICATE),
        ("HostedZoneId", "Z0123456789ABC"),
    ];
    assert!(created(&with_zone, "ApiDomainRecord"));
}

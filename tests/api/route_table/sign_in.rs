//! The sign-in parameters of `template.yaml`: optional, defaulting to basic, reaching the five
//! HTTP functions alone; the optional JWT authorizer on exactly the non-public routes; and
//! every parameter set CloudFormation's Rules accept starts the functions.

use super::maintenance::*;
use super::*;

/// The template's sign-in parameters and the variable each one sets in the HTTP functions.
pub(super) const SIGN_IN_PARAMETERS: [(&str, &str); 8] = [
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
pub(super) const TRUSTS_JWT_AUTHORIZER: &str =
    "DISPATCH_AUTHENTICATION_PROVIDER_PKCE_JWT_AUTHORIZER";

/// Every variable the sign-in settings put in a function's environment.
pub(super) fn sign_in_variables() -> impl Iterator<Item = &'static str> {
    SIGN_IN_PARAMETERS
        .iter()
        .map(|(_, variable)| *variable)
        .chain([TRUSTS_JWT_AUTHORIZER])
}

/// The value of every parameter: its default, unless `overrides` sets it.
pub(super) fn parameter_values(
    template: &Value,
    overrides: &[(&str, &str)],
) -> BTreeMap<String, String> {
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
pub(super) fn operand(parameters: &BTreeMap<String, String>, value: &Value) -> String {
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
pub(super) fn holds(
    template: &Value,
    parameters: &BTreeMap<String, String>,
    value: &Value,
) -> bool {
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
pub(super) fn deployed(
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
pub(super) fn deploy(overrides: &[(&str, &str)]) -> (Value, Vec<String>) {
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
pub(super) fn environment(deployed: &Value, function: &str) -> BTreeMap<String, String> {
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
pub(super) fn sign_in(environment: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    environment
        .iter()
        .filter(|(name, _)| sign_in_variables().any(|v| v == name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

pub(super) const ISSUER: &str = "https://idp.example.com/oauth2/default";
pub(super) const JWKS: &str = "https://idp.example.com/oauth2/default/v1/keys";
pub(super) const ALB: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/dispatch/50dc6c495c0c9188";

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

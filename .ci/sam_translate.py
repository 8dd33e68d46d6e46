"""Translates template.yaml as CloudFormation would deploy it, for several parameter sets.

`sam validate --lint` and cfn-lint check the template's shape; neither runs the deployment's two
transforms in order. This does: first what AWS::LanguageExtensions does with our template
(every `Fn::If` resolved from the parameters, `AWS::NoValue` removed), then the SAM transform
itself (samtranslator, which aws-sam-cli installs). A template SAM cannot translate fails
`sam deploy` before anything is created; this fails CI instead.

Usage: python sam_translate.py template.yaml
"""

import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

NO_VALUE = object()

# Parameter sets CloudFormation accepts: the defaults, every operations option on, and each
# sign-in provider with what it needs (the template's Rules refuse the rest).
ISSUER = "https://idp.example.com/oauth2/default"
PARAMETER_SETS = {
    "defaults": {},
    "operations": {
        "CorsAllowOrigins": "https://dispatch.example.com,https://ui.example.com",
        "DomainName": "dispatch-api.example.com",
        "CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
        "HostedZoneId": "Z0123456789ABCDEFGHIJ",
        "AlarmTopicArn": "arn:aws:sns:us-east-1:123456789012:dispatch-alarms",
        "LogRetentionDays": "90",
        "UiHosting": "cloudfront",
        "UiPriceClass": "PriceClass_All",
    },
    "pkce with the JWT authorizer": {
        "AuthenticationProviderSlug": "dispatch-auth-provider-pkce",
        "JwtAuthorizerIssuer": ISSUER,
        "JwtAuthorizerAudience": "dispatch-ui",
    },
    "operations with the JWT authorizer": {
        "CorsAllowOrigins": "https://dispatch.example.com",
        "DomainName": "dispatch-api.example.com",
        "CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
        "AuthenticationProviderSlug": "dispatch-auth-provider-pkce",
        "JwtAuthorizerIssuer": ISSUER,
        "JwtAuthorizerAudience": "dispatch-ui",
    },
    "pkce with its keys": {
        "AuthenticationProviderSlug": "dispatch-auth-provider-pkce",
        "PkceJwksUrl": ISSUER + "/v1/keys",
    },
}


def operand(value, parameters):
    if isinstance(value, dict) and "Ref" in value:
        return parameters[value["Ref"]]
    return value


def holds(condition, template, parameters):
    (function, arguments), = condition.items()
    if function == "Fn::Equals":
        return str(operand(arguments[0], parameters)) == str(operand(arguments[1], parameters))
    if function == "Fn::Not":
        return not holds(arguments[0], template, parameters)
    if function == "Fn::And":
        return all(holds(c, template, parameters) for c in arguments)
    if function == "Fn::Or":
        return any(holds(c, template, parameters) for c in arguments)
    if function == "Condition":
        return holds(template["Conditions"][arguments], template, parameters)
    raise ValueError(f"{function} is not evaluated here")


def resolve(value, template, parameters):
    if isinstance(value, dict):
        if set(value) == {"Fn::If"}:
            name, when_true, when_false = value["Fn::If"]
            chosen = when_true if holds(template["Conditions"][name], template, parameters) else when_false
            return resolve(chosen, template, parameters)
        if value == {"Ref": "AWS::NoValue"}:
            return NO_VALUE
        resolved = {k: resolve(v, template, parameters) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}
    if isinstance(value, list):
        return [v for v in (resolve(v, template, parameters) for v in value) if v is not NO_VALUE]
    return value


class NoManagedPolicies:
    def load(self):
        return {}


def main(path):
    failed = False
    for name, overrides in PARAMETER_SETS.items():
        template = yaml_parse(open(path).read())
        parameters = {k: str(v.get("Default", "")) for k, v in template["Parameters"].items()}
        parameters.update(overrides)
        resources = template["Resources"]
        kept = {}
        for logical_id, resource in resources.items():
            condition = resource.get("Condition")
            if condition and not holds(template["Conditions"][condition], template, parameters):
                continue
            kept[logical_id] = resource
        template["Resources"] = kept
        template = resolve(template, template, parameters)
        template["Transform"] = "AWS::Serverless-2016-10-31"
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::Serverless::Function":
                # What `sam build` puts there: the built package.
                resource["Properties"]["CodeUri"] = "s3://bucket/package.zip"
        try:
            translated = transform(template, parameters, NoManagedPolicies())
        except Exception as error:  # noqa: BLE001 - every translation error is reported
            print(f"{name}: SAM cannot translate the template: {error}")
            failed = True
            continue
        print(f"{name}: {len(translated['Resources'])} resources")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

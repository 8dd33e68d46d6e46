//! Configuration, from the environment only, read once at cold start.
//!
//! A missing or malformed setting stops start-up with one line naming it. Secrets are not
//! configuration: only their Secrets Manager ids are, and the values are fetched by
//! [`crate::secrets`].

use std::time::Duration;

/// Every setting of a function (and of the dev server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `DISPATCH_TABLE_NAME`: the DynamoDB table.
    pub table_name: String,
    /// `DISPATCH_JWT_SECRET_ID`: Secrets Manager id of the JWT signing key.
    pub jwt_secret_id: String,
    /// `DISPATCH_CURSOR_SECRET_ID`: Secrets Manager id of the list-cursor signing key.
    pub cursor_secret_id: String,
    /// `DISPATCH_ENCRYPTION_SECRET_ID`: Secrets Manager id of the key that encrypts plugin
    /// configurations. Only the plugins function reads and writes configurations, so only it
    /// is given this setting (and the right to read the secret).
    pub encryption_secret_id: Option<String>,
    /// `DISPATCH_JWT_EXP`: token lifetime in seconds (default 86400, as Dispatch).
    pub jwt_lifetime: Duration,
    /// `DISPATCH_JWT_ISSUER`: the `iss` of the tokens this installation signs and accepts
    /// (default [`DEFAULT_JWT_ISSUER`]). Another installation's tokens carry another issuer.
    pub jwt_issuer: String,
    /// `DISPATCH_JWT_AUDIENCE`: the `aud` of those tokens (default [`DEFAULT_JWT_AUDIENCE`]),
    /// so a token minted with the same key for another audience is refused here.
    pub jwt_audience: String,
    /// `VITE_DISPATCH_AUTH_REGISTRATION_ENABLED`: whether `/auth/register` is served
    /// (default `true`; Dispatch's variable name, so one setting drives the UI and the API).
    pub registration_enabled: bool,
    /// `DISPATCH_AUTO_JOIN_ORGANIZATIONS`: which organizations a self-registered or
    /// auto-provisioned user joins as Member (default `default`).
    pub auto_join: AutoJoin,
    /// `DISPATCH_REQUEST_BUDGET_MS`: the longest a request may take before it is answered 503
    /// (default [`DEFAULT_REQUEST_BUDGET`]); in a Lambda, also at most the invocation's
    /// remaining time less a margin. docs/resilience.md explains how it fits the function
    /// timeout and API Gateway's 30 s.
    pub request_budget: Duration,
    /// `DISPATCH_AUTHENTICATION_PROVIDER_SLUG` and its settings: how callers are identified
    /// (default: this installation's own session tokens).
    pub authentication: crate::auth::provider::Provider,
    /// `DISPATCH_TRUSTED_EDGE_SECRET`: set by the template when its CloudFront distribution
    /// fronts the API, so the viewer's address it forwards is believed
    /// ([`crate::trusted_edge`]).
    pub trusted_edge: Option<crate::trusted_edge::TrustedEdge>,
}

/// The request budget when `DISPATCH_REQUEST_BUDGET_MS` is not set.
pub const DEFAULT_REQUEST_BUDGET: Duration = Duration::from_secs(8);
/// Bounds of `DISPATCH_REQUEST_BUDGET_MS`: at least one SDK call must fit, and the answer must
/// come before API Gateway gives up at 30 s.
pub const REQUEST_BUDGET_RANGE_MS: std::ops::RangeInclusive<u64> = 1_000..=25_000;

/// The `iss` of tokens when `DISPATCH_JWT_ISSUER` is not set.
pub const DEFAULT_JWT_ISSUER: &str = "dispatch-serverless";
/// The `aud` of tokens when `DISPATCH_JWT_AUDIENCE` is not set.
pub const DEFAULT_JWT_AUDIENCE: &str = "dispatch";

/// Which organizations a new user joins by registering or by first presenting a valid identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutoJoin {
    /// `*`: the organization in the URL (Dispatch's behaviour).
    UrlOrganization,
    /// A comma-separated list of slugs.
    Listed(Vec<String>),
}

impl AutoJoin {
    /// Parses `DISPATCH_AUTO_JOIN_ORGANIZATIONS` (absent: `default`). The admin CLI reads the
    /// same variable to record the organizations' ids at `database init`.
    pub fn parse(raw: Option<&str>) -> Result<Self, ConfigError> {
        Ok(match raw {
            None => AutoJoin::Listed(vec!["default".into()]),
            Some("*") => AutoJoin::UrlOrganization,
            Some(raw) => {
                let slugs: Vec<String> = raw
                    .split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect();
                if let Some(bad) = slugs
                    .iter()
                    .find(|s| crate::model::OrganizationSlug::parse(s).is_err())
                {
                    return Err(ConfigError::Malformed {
                        name: "DISPATCH_AUTO_JOIN_ORGANIZATIONS",
                        reason: format!("'{bad}' is not an organization slug"),
                    });
                }
                AutoJoin::Listed(slugs)
            }
        })
    }

    /// The slugs to join for a request under `url_slug`.
    pub fn slugs<'a>(&'a self, url_slug: &'a str) -> Vec<&'a str> {
        match self {
            AutoJoin::UrlOrganization => vec![url_slug],
            AutoJoin::Listed(slugs) => slugs.iter().map(String::as_str).collect(),
        }
    }
}

/// Why the configuration could not be read. Its `Display` is the one line start-up prints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration error: {0} is not set")]
    Missing(&'static str),
    #[error("configuration error: {name} is malformed: {reason}")]
    Malformed { name: &'static str, reason: String },
}

/// One documented setting, for `dispatch server config` and the README.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    pub name: &'static str,
    pub default: Option<&'static str>,
    pub meaning: &'static str,
}

/// Settings whose value is a secret: `dispatch server config` says only whether they are set.
pub const SECRET_SETTINGS: &[&str] = &[crate::trusted_edge::SETTING];

/// Every setting [`Config::from_env`] reads.
pub const SETTINGS: &[Setting] = &[
    Setting {
        name: "DISPATCH_TABLE_NAME",
        default: None,
        meaning: "DynamoDB table holding every item",
    },
    Setting {
        name: "DISPATCH_JWT_SECRET_ID",
        default: None,
        meaning: "Secrets Manager id of the JWT signing key (>= 32 bytes)",
    },
    Setting {
        name: "DISPATCH_CURSOR_SECRET_ID",
        default: None,
        meaning: "Secrets Manager id of the list-cursor signing key (>= 32 bytes)",
    },
    Setting {
        name: "DISPATCH_ENCRYPTION_SECRET_ID",
        default: None,
        meaning: "Secrets Manager id of the plugin-configuration encryption key (plugins function only)",
    },
    Setting {
        name: "DISPATCH_JWT_EXP",
        default: Some("86400"),
        meaning: "token lifetime in seconds",
    },
    Setting {
        name: "DISPATCH_JWT_ISSUER",
        default: Some(DEFAULT_JWT_ISSUER),
        meaning: "iss of the tokens signed and accepted (1 to 256 visible ASCII characters)",
    },
    Setting {
        name: "DISPATCH_JWT_AUDIENCE",
        default: Some(DEFAULT_JWT_AUDIENCE),
        meaning: "aud of the tokens signed and accepted (1 to 256 visible ASCII characters)",
    },
    Setting {
        name: "VITE_DISPATCH_AUTH_REGISTRATION_ENABLED",
        default: Some("true"),
        meaning: "serve POST /{organization}/auth/register (true/false)",
    },
    Setting {
        name: "DISPATCH_AUTO_JOIN_ORGANIZATIONS",
        default: Some("default"),
        meaning: "organizations new users join as Member (comma-separated slugs; * = the URL's)",
    },
    Setting {
        name: "DISPATCH_REQUEST_BUDGET_MS",
        default: Some("8000"),
        meaning: "longest a request may take before it is answered 503 (1000 to 25000 ms)",
    },
    Setting {
        name: "DISPATCH_AUTHENTICATION_PROVIDER_SLUG",
        default: Some("dispatch-auth-provider-basic"),
        meaning: "how callers are identified: -basic, -pkce, -header, -aws-alb, or empty for none",
    },
    Setting {
        name: "DISPATCH_AUTHENTICATION_DEFAULT_USER",
        default: Some("dispatch@example.com"),
        meaning: "the caller of every request when authentication is off",
    },
    Setting {
        name: "DISPATCH_AUTHENTICATION_DISABLED_IN_LAMBDA",
        default: Some("false"),
        meaning: "allow an empty provider slug inside Lambda",
    },
    Setting {
        name: "DISPATCH_AUTHENTICATION_PROVIDER_PKCE_JWKS",
        default: None,
        meaning: "PKCE: the identity provider's JWKS URL",
    },
    Setting {
        name: "DISPATCH_AUTHENTICATION_PROVIDER_PKCE_JWT_AUTHORIZER",
        default: Some("false"),
        meaning: "PKCE: read the claims the HTTP API's JWT authorizer verified",
    },
    Setting {
        name: "DISPATCH_AUTHENTICATION_PROVIDER_PKCE_JWKS_CACHE_SECONDS",
        default: Some("300"),
        meaning: "PKCE: how long fetched keys are kept",
    },
    Setting {
        name: "DISPATCH_JWT_EMAIL_OVERRIDE",
        default: Some("email"),
        meaning: "PKCE: the claim holding the email",
    },
    Setting {
        name: "DISPATCH_AUTHENTICATION_PROVIDER_HEADER_NAME",
        default: Some("remote-user"),
        meaning: "header: the header or authorizer context key naming the caller",
    },
    Setting {
        name: "DISPATCH_AUTHENTICATION_PROVIDER_HEADER_TRUSTED_PROXY",
        default: Some("false"),
        meaning: "header: believe the raw header (a proxy you control sets and strips it)",
    },
    Setting {
        name: "DISPATCH_AUTHENTICATION_PROVIDER_AWS_ALB_ARN",
        default: None,
        meaning: "ALB: the only load balancer whose signature is accepted",
    },
    Setting {
        name: "DISPATCH_AUTHENTICATION_PROVIDER_AWS_ALB_EMAIL_CLAIM",
        default: Some("email"),
        meaning: "ALB: the claim holding the email",
    },
    Setting {
        name: "DISPATCH_AUTHENTICATION_PROVIDER_AWS_ALB_PUBLIC_KEY_CACHE_SECONDS",
        default: Some("300"),
        meaning: "ALB: how long a public key is kept",
    },
    Setting {
        name: "DISPATCH_AUTHENTICATION_PROVIDER_AWS_ALB_PUBLIC_KEY_URL",
        default: Some("https://public-keys.auth.elb.<region>.amazonaws.com"),
        meaning: "ALB: where the public keys are",
    },
    Setting {
        name: crate::trusted_edge::SETTING,
        default: None,
        meaning: "value the template's CloudFront sends, so the viewer address it names is believed",
    },
];

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let optional = |name: &'static str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let jwt_lifetime = match optional("DISPATCH_JWT_EXP") {
            None => Duration::from_secs(86_400),
            Some(raw) => match raw.parse::<u64>() {
                Ok(seconds) if seconds > 0 => Duration::from_secs(seconds),
                _ => {
                    return Err(ConfigError::Malformed {
                        name: "DISPATCH_JWT_EXP",
                        reason: "expected a positive number of seconds".into(),
                    });
                }
            },
        };
        let claim = |name: &'static str, default: &str| match optional(name) {
            None => Ok(default.to_owned()),
            Some(raw) if raw.len() <= 256 && raw.bytes().all(|b| b.is_ascii_graphic()) => Ok(raw),
            Some(_) => Err(ConfigError::Malformed {
                name,
                reason: "expected 1 to 256 visible ASCII characters".into(),
            }),
        };
        let jwt_issuer = claim("DISPATCH_JWT_ISSUER", DEFAULT_JWT_ISSUER)?;
        let jwt_audience = claim("DISPATCH_JWT_AUDIENCE", DEFAULT_JWT_AUDIENCE)?;
        let registration_enabled = match optional("VITE_DISPATCH_AUTH_REGISTRATION_ENABLED") {
            None => true,
            Some(raw) => match raw.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                _ => {
                    return Err(ConfigError::Malformed {
                        name: "VITE_DISPATCH_AUTH_REGISTRATION_ENABLED",
                        reason: "expected true or false".into(),
                    });
                }
            },
        };
        let auto_join = AutoJoin::parse(optional("DISPATCH_AUTO_JOIN_ORGANIZATIONS").as_deref())?;
        let request_budget = match optional("DISPATCH_REQUEST_BUDGET_MS") {
            None => DEFAULT_REQUEST_BUDGET,
            Some(raw) => match raw.parse::<u64>() {
                Ok(ms) if REQUEST_BUDGET_RANGE_MS.contains(&ms) => Duration::from_millis(ms),
                _ => {
                    return Err(ConfigError::Malformed {
                        name: "DISPATCH_REQUEST_BUDGET_MS",
                        reason: "expected milliseconds from 1000 to 25000".into(),
                    });
                }
            },
        };
        let authentication = crate::auth::provider::Provider::from_lookup(&lookup)?;
        let trusted_edge = crate::trusted_edge::TrustedEdge::from_lookup(&lookup)?;
        Ok(Self {
            trusted_edge,
            authentication,
            auto_join,
            table_name: required("DISPATCH_TABLE_NAME")?,
            jwt_secret_id: required("DISPATCH_JWT_SECRET_ID")?,
            cursor_secret_id: required("DISPATCH_CURSOR_SECRET_ID")?,
            encryption_secret_id: optional("DISPATCH_ENCRYPTION_SECRET_ID"),
            jwt_lifetime,
            jwt_issuer,
            jwt_audience,
            registration_enabled,
            request_budget,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    const BASE: [(&str, &str); 3] = [
        ("DISPATCH_TABLE_NAME", "t"),
        ("DISPATCH_JWT_SECRET_ID", "jwt"),
        ("DISPATCH_CURSOR_SECRET_ID", "cursor"),
    ];

    #[test]
    fn defaults_apply_when_optional_settings_are_absent() {
        let c = config(&BASE).unwrap();
        assert_eq!(c.jwt_lifetime, Duration::from_secs(86_400));
        assert_eq!(
            (c.jwt_issuer.as_str(), c.jwt_audience.as_str()),
            ("dispatch-serverless", "dispatch")
        );
        assert!(c.registration_enabled);
        assert_eq!(c.auto_join.slugs("acme"), vec!["default"]);
        assert_eq!(c.request_budget, DEFAULT_REQUEST_BUDGET);
    }

    #[test]
    fn the_request_budget_must_fit_api_gateway() {
        let with = |ms: &str| {
            let mut pairs = BASE.to_vec();
            pairs.push(("DISPATCH_REQUEST_BUDGET_MS", ms));
            config(&pairs).map(|c| c.request_budget)
        };
        assert_eq!(with("2500"), Ok(Duration::from_millis(2500)));
        for bad in ["999", "25001", "-1", "8s"] {
            assert!(
                matches!(
                    with(bad),
                    Err(ConfigError::Malformed {
                        name: "DISPATCH_REQUEST_BUDGET_MS",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn auto_join_takes_a_list_or_the_url_organization() {
        let mut pairs = BASE.to_vec();
        pairs.push(("DISPATCH_AUTO_JOIN_ORGANIZATIONS", "*"));
        assert_eq!(
            config(&pairs).unwrap().auto_join.slugs("acme"),
            vec!["acme"]
        );
        let mut pairs = BASE.to_vec();
        pairs.push(("DISPATCH_AUTO_JOIN_ORGANIZATIONS", "default, acme_corp"));
        assert_eq!(
            config(&pairs).unwrap().auto_join.slugs("x"),
            vec!["default", "acme_corp"]
        );
        let mut pairs = BASE.to_vec();
        pairs.push(("DISPATCH_AUTO_JOIN_ORGANIZATIONS", "no-dashes"));
        assert!(config(&pairs).is_err());
    }

    #[test]
    fn a_missing_setting_is_named_in_one_line() {
        let err = config(&BASE[1..]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "configuration error: DISPATCH_TABLE_NAME is not set"
        );
    }

    #[test]
    fn a_malformed_setting_is_named() {
        let mut pairs = BASE.to_vec();
        pairs.push(("DISPATCH_JWT_EXP", "soon"));
        let err = config(&pairs).unwrap_err();
        assert!(
            err.to_string().contains("DISPATCH_JWT_EXP is malformed"),
            "{err}"
        );
        let mut pairs = BASE.to_vec();
        pairs.push(("DISPATCH_JWT_AUDIENCE", "dispatch ui"));
        assert_eq!(
            config(&pairs).unwrap_err().to_string(),
            "configuration error: DISPATCH_JWT_AUDIENCE is malformed: expected 1 to 256 visible ASCII characters"
        );
        let mut pairs = BASE.to_vec();
        pairs.push(("DISPATCH_JWT_ISSUER", "https://dispatch.example.com"));
        assert_eq!(
            config(&pairs).unwrap().jwt_issuer,
            "https://dispatch.example.com"
        );
        let mut pairs = BASE.to_vec();
        pairs.push(("VITE_DISPATCH_AUTH_REGISTRATION_ENABLED", "false"));
        assert!(!config(&pairs).unwrap().registration_enabled);
    }
}

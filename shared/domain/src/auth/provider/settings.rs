//! `DISPATCH_AUTHENTICATION_PROVIDER_SLUG` and each provider's settings, read once at start-up.
//! An unknown slug, or a provider missing a setting it needs, stops start-up with one line
//! (Dispatch answers 500 on every request instead).

use std::time::Duration;

use crate::config::ConfigError;

/// Dispatch's provider slugs.
pub const BASIC: &str = "dispatch-auth-provider-basic";
pub const PKCE: &str = "dispatch-auth-provider-pkce";
pub const HEADER: &str = "dispatch-auth-provider-header";
pub const AWS_ALB: &str = "dispatch-auth-provider-aws-alb";

/// Dispatch's default identity when authentication is off.
pub const DEFAULT_USER: &str = "dispatch@example.com";

/// How the caller of a request is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provider {
    /// This installation's own HS256 session tokens (`/auth/login`).
    Basic,
    /// Bearer tokens of an OIDC provider.
    Pkce(PkceSettings),
    /// An identity set by something trusted in front.
    Header(HeaderSettings),
    /// An Application Load Balancer's `x-amzn-oidc-data`.
    AwsAlb(AlbSettings),
    /// Authentication off: every caller is `default_user` (local development).
    Disabled { default_user: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkceSettings {
    /// `DISPATCH_AUTHENTICATION_PROVIDER_PKCE_JWKS`: where the provider's keys are.
    pub jwks_url: Option<String>,
    /// `DISPATCH_AUTHENTICATION_PROVIDER_PKCE_JWT_AUTHORIZER`: the HTTP API's JWT authorizer has
    /// verified the token already; its claims are in the request context.
    pub trust_jwt_authorizer: bool,
    /// `DISPATCH_JWT_AUDIENCE` / `DISPATCH_JWT_ISSUER`, checked when set.
    pub audience: Option<String>,
    pub issuer: Option<String>,
    /// The claim holding the email (`DISPATCH_JWT_EMAIL_OVERRIDE`, default `email`).
    pub email_claim: String,
    /// How long fetched keys are kept (`DISPATCH_AUTHENTICATION_PROVIDER_PKCE_JWKS_CACHE_SECONDS`).
    pub key_cache: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderSettings {
    /// `DISPATCH_AUTHENTICATION_PROVIDER_HEADER_NAME` (default `remote-user`).
    pub header_name: String,
    /// `DISPATCH_AUTHENTICATION_PROVIDER_HEADER_TRUSTED_PROXY`: a proxy the operator controls
    /// sets the header and strips it from clients, so the raw header may be believed. Without
    /// it the identity comes only from an authorizer's context.
    pub trusted_proxy: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlbSettings {
    /// `DISPATCH_AUTHENTICATION_PROVIDER_AWS_ALB_ARN`: the only signer accepted.
    pub alb_arn: String,
    /// `DISPATCH_AUTHENTICATION_PROVIDER_AWS_ALB_EMAIL_CLAIM` (default `email`).
    pub email_claim: String,
    /// `DISPATCH_AUTHENTICATION_PROVIDER_AWS_ALB_PUBLIC_KEY_CACHE_SECONDS` (default 300).
    pub key_cache: Duration,
    /// Where the public keys are: `https://public-keys.auth.elb.<region>.amazonaws.com`, or
    /// `DISPATCH_AUTHENTICATION_PROVIDER_AWS_ALB_PUBLIC_KEY_URL`.
    pub key_url: String,
}

fn flag(lookup: &impl Fn(&str) -> Option<String>, name: &'static str) -> Result<bool, ConfigError> {
    match lookup(name)
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("") | Some("false") | Some("0") | Some("no") => Ok(false),
        Some("true") | Some("1") | Some("yes") => Ok(true),
        Some(_) => Err(ConfigError::Malformed {
            name,
            reason: "expected true or false".into(),
        }),
    }
}

fn seconds(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: u64,
) -> Result<Duration, ConfigError> {
    match lookup(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
    {
        None => Ok(Duration::from_secs(default)),
        Some(raw) => match raw.parse::<u64>() {
            Ok(n) if (1..=86_400).contains(&n) => Ok(Duration::from_secs(n)),
            _ => Err(ConfigError::Malformed {
                name,
                reason: "expected seconds from 1 to 86400".into(),
            }),
        },
    }
}

impl Provider {
    /// Reads the provider and its settings through `lookup` (the environment).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let value = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let Some(slug) = lookup("DISPATCH_AUTHENTICATION_PROVIDER_SLUG") else {
            return Ok(Provider::Basic);
        };
        Ok(match slug.trim() {
            "" => {
                // Inside Lambda, authentication off is a deployment mistake unless said twice.
                if lookup("AWS_LAMBDA_FUNCTION_NAME").is_some()
                    && !flag(&lookup, "DISPATCH_AUTHENTICATION_DISABLED_IN_LAMBDA")?
                {
                    return Err(ConfigError::Malformed {
                        name: "DISPATCH_AUTHENTICATION_PROVIDER_SLUG",
                        reason: "empty (authentication off) is for local development; inside Lambda set DISPATCH_AUTHENTICATION_DISABLED_IN_LAMBDA=true as well if you mean it".into(),
                    });
                }
                Provider::Disabled {
                    default_user: value("DISPATCH_AUTHENTICATION_DEFAULT_USER")
                        .unwrap_or_else(|| DEFAULT_USER.to_owned()),
                }
            }
            BASIC => Provider::Basic,
            PKCE => {
                let settings = PkceSettings {
                    jwks_url: value("DISPATCH_AUTHENTICATION_PROVIDER_PKCE_JWKS"),
                    trust_jwt_authorizer: flag(
                        &lookup,
                        "DISPATCH_AUTHENTICATION_PROVIDER_PKCE_JWT_AUTHORIZER",
                    )?,
                    audience: value("DISPATCH_JWT_AUDIENCE"),
                    issuer: value("DISPATCH_JWT_ISSUER"),
                    email_claim: value("DISPATCH_JWT_EMAIL_OVERRIDE")
                        .unwrap_or_else(|| "email".to_owned()),
                    key_cache: seconds(
                        &lookup,
                        "DISPATCH_AUTHENTICATION_PROVIDER_PKCE_JWKS_CACHE_SECONDS",
                        300,
                    )?,
                };
                if settings.jwks_url.is_none() && !settings.trust_jwt_authorizer {
                    return Err(ConfigError::Missing(
                        "DISPATCH_AUTHENTICATION_PROVIDER_PKCE_JWKS",
                    ));
                }
                // Verifying tokens itself, the function must know which application they are
                // for: identity providers share keys across applications (and tenants), so
                // without an audience any of their tokens would sign in here.
                if !settings.trust_jwt_authorizer && settings.audience.is_none() {
                    return Err(ConfigError::Missing("DISPATCH_JWT_AUDIENCE"));
                }
                if let Some(url) = &settings.jwks_url {
                    super::pkce::check_jwks_url(url).map_err(|reason| ConfigError::Malformed {
                        name: "DISPATCH_AUTHENTICATION_PROVIDER_PKCE_JWKS",
                        reason,
                    })?;
                }
                Provider::Pkce(settings)
            }
            HEADER => Provider::Header(HeaderSettings {
                header_name: value("DISPATCH_AUTHENTICATION_PROVIDER_HEADER_NAME")
                    .unwrap_or_else(|| "remote-user".to_owned())
                    .to_ascii_lowercase(),
                trusted_proxy: flag(
                    &lookup,
                    "DISPATCH_AUTHENTICATION_PROVIDER_HEADER_TRUSTED_PROXY",
                )?,
            }),
            AWS_ALB => {
                let alb_arn = value("DISPATCH_AUTHENTICATION_PROVIDER_AWS_ALB_ARN").ok_or(
                    ConfigError::Missing("DISPATCH_AUTHENTICATION_PROVIDER_AWS_ALB_ARN"),
                )?;
                let key_url = match value("DISPATCH_AUTHENTICATION_PROVIDER_AWS_ALB_PUBLIC_KEY_URL")
                {
                    Some(url) => url,
                    None => {
                        let region = value("AWS_REGION")
                            .or_else(|| value("AWS_DEFAULT_REGION"))
                            .ok_or(ConfigError::Missing("AWS_REGION"))?;
                        format!("https://public-keys.auth.elb.{region}.amazonaws.com")
                    }
                };
                super::alb::keys::key_base(&key_url).map_err(|reason| ConfigError::Malformed {
                    name: "DISPATCH_AUTHENTICATION_PROVIDER_AWS_ALB_PUBLIC_KEY_URL",
                    reason,
                })?;
                Provider::AwsAlb(AlbSettings {
                    alb_arn,
                    email_claim: value("DISPATCH_AUTHENTICATION_PROVIDER_AWS_ALB_EMAIL_CLAIM")
                        .unwrap_or_else(|| "email".to_owned()),
                    key_cache: seconds(
                        &lookup,
                        "DISPATCH_AUTHENTICATION_PROVIDER_AWS_ALB_PUBLIC_KEY_CACHE_SECONDS",
                        300,
                    )?,
                    key_url,
                })
            }
            other => {
                return Err(ConfigError::Malformed {
                    name: "DISPATCH_AUTHENTICATION_PROVIDER_SLUG",
                    reason: format!(
                        "unknown provider {other:?}; expected {BASIC}, {PKCE}, {HEADER}, {AWS_ALB}, or empty for none"
                    ),
                });
            }
        })
    }

    /// The provider's slug (empty when authentication is off).
    pub fn slug(&self) -> &'static str {
        match self {
            Provider::Basic => BASIC,
            Provider::Pkce(_) => PKCE,
            Provider::Header(_) => HEADER,
            Provider::AwsAlb(_) => AWS_ALB,
            Provider::Disabled { .. } => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn provider(pairs: &[(&str, &str)]) -> Result<Provider, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Provider::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn unset_is_basic_and_an_unknown_slug_stops_start_up_naming_the_choices() {
        assert_eq!(provider(&[]).unwrap(), Provider::Basic);
        let error = provider(&[("DISPATCH_AUTHENTICATION_PROVIDER_SLUG", "okta")]).unwrap_err();
        assert!(
            error.to_string().contains("unknown provider \"okta\""),
            "{error}"
        );
        assert!(error.to_string().contains(PKCE));
    }

    #[test]
    fn empty_turns_authentication_off_locally_and_inside_lambda_only_when_said_twice() {
        let off = provider(&[("DISPATCH_AUTHENTICATION_PROVIDER_SLUG", "")]).unwrap();
        assert_eq!(
            off,
            Provider::Disabled {
                default_user: DEFAULT_USER.into()
            }
        );
        let lambda = [
            ("DISPATCH_AUTHENTICATION_PROVIDER_SLUG", ""),
            ("AWS_LAMBDA_FUNCTION_NAME", "auth"),
        ];
        assert!(provider(&lambda).is_err());
        let meant = [
            ("DISPATCH_AUTHENTICATION_PROVIDER_SLUG", ""),
            ("AWS_LAMBDA_FUNCTION_NAME", "auth"),
            ("DISPATCH_AUTHENTICATION_DISABLED_IN_LAMBDA", "true"),
        ];
        assert!(provider(&meant).is_ok());
    }

    #[test]
    fn pkce_needs_keys_or_the_authorizer_and_alb_needs_its_arn() {
        assert!(provider(&[("DISPATCH_AUTHENTICATION_PROVIDER_SLUG", PKCE)]).is_err());
        let via_authorizer = provider(&[
            ("DISPATCH_AUTHENTICATION_PROVIDER_SLUG", PKCE),
            (
                "DISPATCH_AUTHENTICATION_PROVIDER_PKCE_JWT_AUTHORIZER",
                "true",
            ),
        ])
        .unwrap();
        assert!(matches!(via_authorizer, Provider::Pkce(s) if s.trust_jwt_authorizer));
        assert!(provider(&[("DISPATCH_AUTHENTICATION_PROVIDER_SLUG", AWS_ALB)]).is_err());
        let alb = provider(&[
            ("DISPATCH_AUTHENTICATION_PROVIDER_SLUG", AWS_ALB),
            (
                "DISPATCH_AUTHENTICATION_PROVIDER_AWS_ALB_ARN",
                "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/x/y",
            ),
            ("AWS_REGION", "eu-west-1"),
        ])
        .unwrap();
        assert!(
            matches!(alb, Provider::AwsAlb(s) if s.key_url == "https://public-keys.auth.elb.eu-west-1.amazonaws.com")
        );
        let plain_http = provider(&[
            ("DISPATCH_AUTHENTICATION_PROVIDER_SLUG", AWS_ALB),
            (
                "DISPATCH_AUTHENTICATION_PROVIDER_AWS_ALB_ARN",
                "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/x/y",
            ),
            (
                "DISPATCH_AUTHENTICATION_PROVIDER_AWS_ALB_PUBLIC_KEY_URL",
                "http://keys.example.com",
            ),
        ]);
        assert!(plain_http.is_err(), "the ALB's key URL must be https");
        let header = provider(&[("DISPATCH_AUTHENTICATION_PROVIDER_SLUG", HEADER)]).unwrap();
        assert!(
            matches!(header, Provider::Header(s) if s.header_name == "remote-user" && !s.trusted_proxy)
        );
    }
}

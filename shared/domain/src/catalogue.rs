//! The plugin catalogue Dispatch ships (docs/contract.md §7.1): its 28 plugins with their events
//! and the JSON Schema of each plugin's configuration, kept as data in `shared/domain/catalogue/plugins/`
//! (one file per plugin) and compiled in. This is "the code that is installed": `dispatch
//! plugins install` writes it into the table, and configurations are validated against it.

use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::Value;

/// One plugin of the catalogue, as its data file describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct CataloguePlugin {
    pub slug: String,
    pub title: String,
    #[serde(rename = "type")]
    pub plugin_type: String,
    pub version: String,
    pub author: Option<String>,
    pub author_url: Option<String>,
    pub description: Option<String>,
    pub multiple: bool,
    pub events: Vec<CatalogueEvent>,
    /// The JSON Schema of the configuration (pydantic's, as Dispatch serves it), if any.
    pub configuration_schema: Option<Value>,
}

/// An event a catalogue plugin emits.
#[derive(Debug, Clone, Deserialize)]
pub struct CatalogueEvent {
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
}

/// The data files, in slug order.
const FILES: &[&str] = &[
    include_str!("../catalogue/plugins/aws-sqs-signal-consumer.json"),
    include_str!("../catalogue/plugins/confluence.json"),
    include_str!("../catalogue/plugins/confluence-docs-document.json"),
    include_str!("../catalogue/plugins/dispatch-auth-mfa.json"),
    include_str!("../catalogue/plugins/dispatch-auth-provider-aws-alb.json"),
    include_str!("../catalogue/plugins/dispatch-auth-provider-basic.json"),
    include_str!("../catalogue/plugins/dispatch-auth-provider-header.json"),
    include_str!("../catalogue/plugins/dispatch-auth-provider-pkce.json"),
    include_str!("../catalogue/plugins/dispatch-contact.json"),
    include_str!("../catalogue/plugins/dispatch-participant-resolver.json"),
    include_str!("../catalogue/plugins/dispatch-ticket.json"),
    include_str!("../catalogue/plugins/duo-auth-mfa.json"),
    include_str!("../catalogue/plugins/generic-workflow.json"),
    include_str!("../catalogue/plugins/github-monitor.json"),
    include_str!("../catalogue/plugins/google-calendar-conference.json"),
    include_str!("../catalogue/plugins/google-docs-document.json"),
    include_str!("../catalogue/plugins/google-drive-storage.json"),
    include_str!("../catalogue/plugins/google-drive-task.json"),
    include_str!("../catalogue/plugins/google-gmail-email.json"),
    include_str!("../catalogue/plugins/google-group-participant-group.json"),
    include_str!("../catalogue/plugins/jira-ticket.json"),
    include_str!("../catalogue/plugins/microsoft-teams-conference.json"),
    include_str!("../catalogue/plugins/openai-artificial-intelligence.json"),
    include_str!("../catalogue/plugins/opsgenie-oncall.json"),
    include_str!("../catalogue/plugins/pagerduty-oncall.json"),
    include_str!("../catalogue/plugins/slack-contact.json"),
    include_str!("../catalogue/plugins/slack-conversation.json"),
    include_str!("../catalogue/plugins/zoom-conference.json"),
];

static CATALOGUE: LazyLock<Vec<CataloguePlugin>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|text| serde_json::from_str(text).expect("catalogue data files are valid (tested)"))
        .collect()
});

/// Every plugin of the catalogue, in slug order.
pub fn plugins() -> &'static [CataloguePlugin] {
    &CATALOGUE
}

/// The catalogue plugin with this slug, if it is one.
pub fn find(slug: &str) -> Option<&'static CataloguePlugin> {
    plugins().iter().find(|plugin| plugin.slug == slug)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin_config::ConfigurationSchema;
    use crate::plugin_config::validator::Validator;

    /// Slug, type and title of every plugin Dispatch ships (docs/contract.md §7.1).
    const SHIPPED: [(&str, &str, &str); 28] = [
        (
            "confluence",
            "storage",
            "Confluence Plugin - Store your incident details",
        ),
        (
            "confluence-docs-document",
            "document",
            "Confluence pages plugin - Document Management",
        ),
        (
            "dispatch-auth-mfa",
            "auth-mfa",
            "Dispatch Plugin - Multi Factor Authentication",
        ),
        (
            "dispatch-auth-provider-aws-alb",
            "auth-provider",
            "Dispatch Plugin - AWS ALB Authentication Provider",
        ),
        (
            "aws-sqs-signal-consumer",
            "signal-consumer",
            "AWS SQS - Signal Consumer",
        ),
        (
            "dispatch-auth-provider-basic",
            "auth-provider",
            "Dispatch Plugin - Basic Authentication Provider",
        ),
        (
            "dispatch-contact",
            "contact",
            "Dispatch Plugin - Contact plugin",
        ),
        (
            "dispatch-auth-provider-header",
            "auth-provider",
            "Dispatch Plugin - HTTP Header Authentication Provider",
        ),
        (
            "dispatch-participant-resolver",
            "participant",
            "Dispatch Plugin - Participant Resolver",
        ),
        (
            "dispatch-auth-provider-pkce",
            "auth-provider",
            "Dispatch Plugin - PKCE Authentication Provider",
        ),
        (
            "dispatch-ticket",
            "ticket",
            "Dispatch Plugin - Ticket Management",
        ),
        (
            "duo-auth-mfa",
            "auth-mfa",
            "Duo Plugin - Multi Factor Authentication",
        ),
        (
            "generic-workflow",
            "workflow",
            "Generic Workflow Plugin - Workflow Management",
        ),
        (
            "github-monitor",
            "monitor",
            "Github Plugin - Github Monitoring",
        ),
        (
            "google-calendar-conference",
            "conference",
            "Google Calendar Plugin - Conference Management",
        ),
        (
            "google-docs-document",
            "document",
            "Google Docs Plugin - Document Management",
        ),
        (
            "google-drive-storage",
            "storage",
            "Google Drive Plugin - Storage Management",
        ),
        (
            "google-drive-task",
            "task",
            "Google Drive Plugin - Task Management",
        ),
        (
            "google-gmail-email",
            "email",
            "Google Gmail Plugin - Email Management",
        ),
        (
            "google-group-participant-group",
            "participant-group",
            "Google Group Plugin - Participant Group Management",
        ),
        ("jira-ticket", "ticket", "Jira Plugin - Ticket Management"),
        (
            "microsoft-teams-conference",
            "conference",
            "Microsoft Teams Plugin - Conference Management",
        ),
        (
            "openai-artificial-intelligence",
            "artificial-intelligence",
            "OpenAI Plugin - Generative Artificial Intelligence",
        ),
        (
            "opsgenie-oncall",
            "oncall",
            "OpsGenie Plugin - Oncall Management",
        ),
        (
            "pagerduty-oncall",
            "oncall",
            "PagerDuty Plugin - Oncall Management",
        ),
        (
            "slack-contact",
            "contact",
            "Slack Plugin - Contact Information Resolver",
        ),
        (
            "slack-conversation",
            "conversation",
            "Slack Plugin - Conversation Management",
        ),
        (
            "zoom-conference",
            "conference",
            "Zoom Plugin - Conference Management",
        ),
    ];

    /// The `SecretStr` fields of each configuration model (Dispatch's code); every other
    /// plugin has none.
    const SECRETS: &[(&str, &[&str])] = &[
        ("confluence", &["password"]),
        ("confluence-docs-document", &["password"]),
        (
            "duo-auth-mfa",
            &["integration_key", "integration_secret_key"],
        ),
        ("generic-workflow", &["auth_header"]),
        (
            "google-calendar-conference",
            &["developer_key", "service_account_private_key"],
        ),
        (
            "google-docs-document",
            &["developer_key", "service_account_private_key"],
        ),
        (
            "google-drive-storage",
            &["developer_key", "service_account_private_key"],
        ),
        (
            "google-drive-task",
            &["developer_key", "service_account_private_key"],
        ),
        (
            "google-gmail-email",
            &["developer_key", "service_account_private_key"],
        ),
        (
            "google-group-participant-group",
            &["developer_key", "service_account_private_key"],
        ),
        ("jira-ticket", &["password"]),
        ("microsoft-teams-conference", &["secret"]),
        ("openai-artificial-intelligence", &["api_key"]),
        ("opsgenie-oncall", &["api_key"]),
        ("pagerduty-oncall", &["api_key"]),
        (
            "slack-contact",
            &["api_bot_token", "socket_mode_app_token", "signing_secret"],
        ),
        (
            "slack-conversation",
            &["api_bot_token", "socket_mode_app_token", "signing_secret"],
        ),
        ("zoom-conference", &["api_secret"]),
    ];

    /// Dispatch's plugin types (docs/contract.md §7.1).
    const TYPES: [&str; 24] = [
        "artificial-intelligence",
        "auth-mfa",
        "auth-provider",
        "conference",
        "contact",
        "conversation",
        "definition",
        "document",
        "email",
        "investigation-tooling",
        "metric",
        "monitor",
        "oncall",
        "participant",
        "participant-group",
        "signal-consumer",
        "signal-enrichment",
        "source",
        "storage",
        "tag",
        "task",
        "term",
        "ticket",
        "workflow",
    ];

    #[test]
    fn the_catalogue_is_the_28_plugins_dispatch_ships() {
        assert_eq!(plugins().len(), SHIPPED.len());
        for (slug, plugin_type, title) in SHIPPED {
            let plugin = find(slug).unwrap_or_else(|| panic!("{slug} missing"));
            assert_eq!(
                (plugin.plugin_type.as_str(), plugin.title.as_str()),
                (plugin_type, title)
            );
            assert!(TYPES.contains(&plugin_type));
            assert!(!plugin.multiple, "{slug}: no shipped plugin is multiple");
            assert!(
                plugin.author.is_some() && plugin.author_url.is_some(),
                "{slug}: PluginRead requires them"
            );
        }
        let events: Vec<&str> = plugins()
            .iter()
            .flat_map(|p| p.events.iter().map(|e| e.slug.as_str()))
            .collect();
        assert_eq!(events, ["slack-channel-activity", "slack-thread-activity"]);
    }

    #[test]
    fn every_schema_is_a_valid_object_schema_with_dispatchs_secret_fields() {
        for plugin in plugins() {
            let Some(schema) = &plugin.configuration_schema else {
                assert!(SECRETS.iter().all(|(slug, _)| *slug != plugin.slug));
                continue;
            };
            jsonschema::validator_for(schema)
                .unwrap_or_else(|e| panic!("{}: invalid schema: {e}", plugin.slug));
            // And the configuration validator checks every keyword it has.
            Validator::new(schema)
                .unwrap_or_else(|e| panic!("{}: not checkable: {e}", plugin.slug));
            assert_eq!(schema["type"], "object", "{}", plugin.slug);
            let properties = schema["properties"].as_object().expect("properties");
            for required in schema["required"].as_array().into_iter().flatten() {
                assert!(
                    properties.contains_key(required.as_str().unwrap()),
                    "{}: {required}",
                    plugin.slug
                );
            }
            let expected: &[&str] = SECRETS
                .iter()
                .find(|(slug, _)| *slug == plugin.slug)
                .map_or(&[], |(_, fields)| fields);
            assert_eq!(
                ConfigurationSchema::new(schema).secret_fields(),
                expected,
                "{}",
                plugin.slug
            );
        }
    }
}

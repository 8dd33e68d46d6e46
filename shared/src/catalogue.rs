//! The plugin catalogue Dispatch ships (spec §7.2): its 28 plugins with their events and the
//! JSON Schema of each plugin's configuration, kept as data in `shared/catalogue/plugins/`
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

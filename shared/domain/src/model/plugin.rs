//! Plugins: the global catalogue (one row per plugin Dispatch ships), the events plugins emit,
//! and per-project instances that an admin enables and configures.

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// A catalogue row, as `dispatch plugins install` writes it (Dispatch's `Plugin`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plugin {
    pub id: i32,
    pub title: String,
    pub slug: String,
    pub description: Option<String>,
    /// The plugin's own version (`version` is the item's optimistic-locking attribute).
    pub plugin_version: String,
    pub author: Option<String>,
    pub author_url: Option<String>,
    #[serde(rename = "type")]
    pub plugin_type: String,
    pub multiple: bool,
}

/// An event a plugin emits (Dispatch's `PluginEvent`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginEvent {
    pub id: i32,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    pub plugin_id: i32,
}

/// A plugin instance of one project (Dispatch's `PluginInstance`). The plugin's slug and type
/// are copied in: they key the one-enabled-per-type guard and the list's sort order, and they
/// still name the plugin after `dispatch plugins uninstall` removed its row (`broken`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginInstance {
    pub id: i32,
    pub enabled: bool,
    pub plugin_id: i32,
    pub plugin_slug: String,
    pub plugin_type: String,
    pub project_id: i32,
    /// The configuration, sealed with AES-256-GCM (see `crate::plugin_config::seal`); never
    /// plaintext.
    #[serde(default)]
    pub sealed_configuration: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: u64,
}

//! The id counters (`COUNTER#<KIND>`): each must stay at or above the largest id of its kind in
//! use, or the next reservation hands out an id that is taken. The scan notes the ids it sees;
//! each page's largest are compared with the counters.

use std::collections::HashMap;

use dispatch_store::item::{number_attribute, string_attribute};
use dispatch_store::keys;
use dispatch_store::{Attributes, IdKind};

use super::parse::organization_partition;

/// The largest id in use per kind, over the items seen so far.
#[derive(Debug, Default)]
pub(super) struct Used(pub HashMap<IdKind, i64>);

impl Used {
    /// Notes the ids `item` holds.
    pub fn note(&mut self, item: &Attributes) {
        for (kind, id) in ids_of(item) {
            let largest = self.0.entry(kind).or_insert(id);
            *largest = (*largest).max(id);
        }
    }
}

/// The ids (of entities, and of entities a guard keeps reserved) that `item` holds.
fn ids_of(item: &Attributes) -> Vec<(IdKind, i64)> {
    let pk = string_attribute(item, keys::attr::PK).unwrap_or_default();
    let sk = string_attribute(item, keys::attr::SK).unwrap_or_default();
    let key_id = |prefix: &str, part: &str| part.strip_prefix(prefix)?.parse::<i64>().ok();
    let attribute = |name: &str| number_attribute(item, name);
    let found = match (pk.as_str(), sk.as_str()) {
        (_, "USER") => vec![(IdKind::User, key_id("USER#", &pk))],
        (_, "ORGID") => vec![(IdKind::Organization, key_id("ORGID#", &pk))],
        (_, "PROJECTID") => vec![(IdKind::Project, key_id("PROJECTID#", &pk))],
        (_, "PLUGIN") => vec![(IdKind::Plugin, key_id("PLUGIN#", &pk))],
        // A slug guard keeps its plugin's id for a reinstall, after the plugin is gone.
        (_, "PLUGINSLUG") => vec![(IdKind::Plugin, attribute("plugin_id"))],
        (_, "PLUGINEVENTSLUG") => vec![(IdKind::PluginEvent, attribute("event_id"))],
        _ if pk.starts_with("PLUGIN#") => vec![(IdKind::PluginEvent, key_id("EVENT#", &sk))],
        _ if organization_partition(&pk).is_some() => match sk.as_str() {
            "ORG" => vec![(IdKind::Organization, attribute("id"))],
            _ => vec![
                (IdKind::Project, key_id("PROJECT#", &sk)),
                (IdKind::PluginInstance, key_id("INSTANCE#", &sk)),
            ],
        },
        // A project's partition: user links (`USER#<uid>`) and init data (`<KIND>#<id>`).
        _ if pk.starts_with("ORG#") && pk.contains("#PROJECT#") => {
            let data = sk
                .split_once('#')
                .filter(|(kind, _)| {
                    *kind != "USER" && kind.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
                })
                .and_then(|(_, id)| id.parse::<i64>().ok());
            vec![(IdKind::ProjectData, data)]
        }
        _ => vec![],
    };
    found
        .into_iter()
        .filter_map(|(kind, id)| Some((kind, id?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::AttributeValue;

    fn ids(pk: &str, sk: &str, fields: &[(&str, i64)]) -> Vec<(IdKind, i64)> {
        let mut item: Attributes = fields
            .iter()
            .map(|(name, id)| ((*name).to_owned(), AttributeValue::N(id.to_string())))
            .collect();
        item.insert("pk".into(), AttributeValue::S(pk.into()));
        item.insert("sk".into(), AttributeValue::S(sk.into()));
        ids_of(&item)
    }

    #[test]
    fn each_entity_counts_for_its_own_counter() {
        assert_eq!(ids("USER#5", "USER", &[]), [(IdKind::User, 5)]);
        assert_eq!(
            ids("ORG#acme", "ORG", &[("id", 3)]),
            [(IdKind::Organization, 3)]
        );
        assert_eq!(ids("ORG#acme", "PROJECT#8", &[]), [(IdKind::Project, 8)]);
        assert_eq!(
            ids("ORG#acme", "INSTANCE#21", &[]),
            [(IdKind::PluginInstance, 21)]
        );
        assert_eq!(ids("PLUGIN#4", "EVENT#6", &[]), [(IdKind::PluginEvent, 6)]);
        assert_eq!(
            ids("PLUGINSLUG#x", "PLUGINSLUG", &[("plugin_id", 4)]),
            [(IdKind::Plugin, 4)]
        );
        assert_eq!(
            ids("ORG#acme#PROJECT#8", "INCIDENT_PRIORITY#40", &[]),
            [(IdKind::ProjectData, 40)]
        );
        assert_eq!(ids("ORG#acme#PROJECT#8", "USER#5", &[]), []);
        assert_eq!(ids("ORG#acme", "MEMBER#5", &[]), []);
        assert_eq!(
            ids("ORG#acme", "ACTIVE#8#ticket", &[("instance_id", 21)]),
            []
        );

        let mut used = Used::default();
        for (pk, sk) in [("USER#5", "USER"), ("USER#9", "USER"), ("USER#2", "USER")] {
            let item: Attributes = [
                ("pk".to_owned(), AttributeValue::S(pk.into())),
                ("sk".to_owned(), AttributeValue::S(sk.into())),
            ]
            .into();
            used.note(&item);
        }
        assert_eq!(used.0[&IdKind::User], 9);
    }
}

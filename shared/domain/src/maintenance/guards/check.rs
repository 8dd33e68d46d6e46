//! Checking one item against what the table holds now: a guard against the item it names, an
//! item against the guards of its values. Pure: the reads happen before, for a whole page.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use dispatch_store::Attributes;
use dispatch_store::keys::{self, Key};

use super::links::{Expect, Link};
use super::parse::{Role, role};

/// Items read for a page of the scan, by key (absent: not in the table).
pub(super) type Fetched = HashMap<Key, Attributes>;

/// Something wrong between a guard and its item.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Problem {
    /// The guard names an item that does not exist: its value is blocked for nothing.
    GuardWithoutItem(Link),
    /// The item holds a value whose guard does not exist: the value is not unique any more.
    ItemWithoutGuard(Link),
    /// The guard of a value the item holds names another item (`named`): two items claim one
    /// value, and which one keeps it is not for a job to decide.
    Conflict { link: Link, named: Key },
    /// The item the guard names does not hold the guarded value (`holds`: what it holds).
    Mismatch { link: Link, holds: String },
}

/// The keys whose items [`problems`] needs to judge `role`.
pub(super) fn wanted(role: &Role, keys: &mut Vec<Key>) {
    match role {
        Role::Guard(link) => {
            keys.push(link.guard_key());
            keys.push(link.item_key());
            scope_keys(link, keys);
        }
        Role::Guarded { links, plugin } => {
            for link in links {
                keys.push(link.guard_key());
                keys.push(link.item_key());
                scope_keys(link, keys);
            }
            if let Some(plugin) = plugin {
                keys.push(keys::plugin(*plugin));
            }
        }
        Role::Malformed { .. } | Role::Other => {}
    }
}

fn scope_keys(link: &Link, keys: &mut Vec<Key>) {
    let (organization, project) = link.scope();
    if let Some(slug) = organization {
        keys.push(keys::organization(slug));
        keys.push(keys::pending_organization_deletion(slug));
        if let Some(project) = project {
            keys.push(keys::project(slug, project));
            keys.push(keys::pending_project_deletion(slug, project));
        }
    }
}

/// Where an organization or project stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Live,
    /// A deletion hid it (or is removing it): its guards and items go in stages.
    BeingDeleted,
    Missing,
}

fn state(fetched: &Fetched, key: Key, marker: Key) -> State {
    if fetched.contains_key(&marker) {
        return State::BeingDeleted;
    }
    match fetched.get(&key) {
        None => State::Missing,
        Some(item) if matches!(item.get("deleted"), Some(AttributeValue::Bool(true))) => {
            State::BeingDeleted
        }
        Some(_) => State::Live,
    }
}

/// The states of the link's organization and project (`Live` where it has none).
fn scope_states(link: &Link, fetched: &Fetched) -> [State; 2] {
    let (organization, project) = link.scope();
    let Some(slug) = organization else {
        return [State::Live; 2];
    };
    let org = state(
        fetched,
        keys::organization(slug),
        keys::pending_organization_deletion(slug),
    );
    let project = project.map_or(State::Live, |id| {
        state(
            fetched,
            keys::project(slug, id),
            keys::pending_project_deletion(slug, id),
        )
    });
    [org, project]
}

/// What is wrong with the item whose role is `role`, judged on `fetched`.
pub(super) fn problems(role: &Role, fetched: &Fetched) -> Vec<Problem> {
    match role {
        Role::Guard(link) => guard_problem(link, fetched).into_iter().collect(),
        Role::Guarded { links, plugin } => {
            // Instances of `multiple` plugins take no guard; nor can we tell for an instance
            // whose plugin was uninstalled.
            let single = plugin.is_none_or(|id| {
                fetched.get(&keys::plugin(id)).is_some_and(|plugin| {
                    plugin.get("multiple") != Some(&AttributeValue::Bool(true))
                })
            });
            if !single {
                return Vec::new();
            }
            links
                .iter()
                .filter_map(|link| item_problem(link, fetched))
                .collect()
        }
        Role::Malformed { .. } | Role::Other => Vec::new(),
    }
}

fn guard_problem(link: &Link, fetched: &Fetched) -> Option<Problem> {
    // Judged as the guard is now: one that changed since the scan read it is judged by the
    // next pass.
    let current = fetched.get(&link.guard_key());
    if current.is_none_or(|guard| !differences(guard, &link.pointer()).is_empty())
        || scope_states(link, fetched).contains(&State::BeingDeleted)
    {
        return None;
    }
    match fetched.get(&link.item_key()) {
        None if link.guard_outlives_item() => None,
        None => Some(Problem::GuardWithoutItem(link.clone())),
        Some(item) => {
            let differences = differences(item, &link.claim());
            (!differences.is_empty()).then(|| Problem::Mismatch {
                link: link.clone(),
                holds: differences,
            })
        }
    }
}

fn item_problem(link: &Link, fetched: &Fetched) -> Option<Problem> {
    // The item must still hold the value (a project renamed since the scan holds another), in
    // a live organization and project: an item a deletion is removing, or left behind by one,
    // gets no guard back.
    let current = fetched.get(&link.item_key());
    if current.is_none_or(|item| !differences(item, &link.claim()).is_empty())
        || scope_states(link, fetched) != [State::Live; 2]
    {
        return None;
    }
    let Some(guard) = fetched.get(&link.guard_key()) else {
        return Some(Problem::ItemWithoutGuard(link.clone()));
    };
    if differences(guard, &link.pointer()).is_empty() {
        return None;
    }
    // A guard that cannot be read is reported when the scan reaches it.
    match role(guard) {
        Role::Guard(other) => Some(Problem::Conflict {
            link: link.clone(),
            named: other.item_key(),
        }),
        _ => None,
    }
}

/// Whether a stored value is the expected one (numbers by value, not by spelling).
fn same(stored: Option<&AttributeValue>, expected: &AttributeValue) -> bool {
    match (stored, expected) {
        (Some(AttributeValue::N(a)), AttributeValue::N(b)) => a
            .parse::<f64>()
            .ok()
            .is_some_and(|a| Some(a) == b.parse::<f64>().ok()),
        (Some(stored), expected) => stored == expected,
        (None, _) => false,
    }
}

fn shown(value: Option<&AttributeValue>) -> String {
    match value {
        None => "absent".into(),
        Some(AttributeValue::S(s)) => format!("{s:?}"),
        Some(AttributeValue::N(n)) => n.clone(),
        Some(AttributeValue::Bool(b)) => b.to_string(),
        Some(other) => format!("{other:?}"),
    }
}

/// The attributes of `item` that differ from `expected`, described (empty: none).
fn differences(item: &Attributes, expected: &[Expect]) -> String {
    expected
        .iter()
        .filter(|(name, value)| !same(item.get(*name), value))
        .map(|(name, value)| {
            format!(
                "{name} {} (not {})",
                shown(item.get(*name)),
                shown(Some(value))
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(value: &str) -> AttributeValue {
        AttributeValue::S(value.to_owned())
    }

    fn stored(key: &Key, fields: &[(&str, AttributeValue)]) -> (Key, Attributes) {
        let mut item: Attributes = fields
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect();
        item.insert("pk".into(), s(&key.pk));
        item.insert("sk".into(), s(&key.sk));
        (key.clone(), item)
    }

    fn name_link() -> Link {
        Link::OrganizationName {
            name: "Acme".into(),
            slug: "acme".into(),
        }
    }

    #[test]
    fn a_guard_is_judged_by_its_item_and_skipped_while_its_organization_goes() {
        let link = name_link();
        let guard = Role::Guard(link.clone());
        let own = stored(&link.guard_key(), &[("slug", s("acme"))]);
        let org = stored(&keys::organization("acme"), &[("name", s("Acme"))]);
        assert_eq!(problems(&guard, &[own.clone(), org].into()), []);
        assert_eq!(
            problems(&guard, &[own.clone()].into()),
            [Problem::GuardWithoutItem(link.clone())]
        );
        let renamed = stored(&keys::organization("acme"), &[("name", s("Other"))]);
        assert!(matches!(
            &problems(&guard, &[own.clone(), renamed].into())[..],
            [Problem::Mismatch { holds, .. }] if holds == "name \"Other\" (not \"Acme\")"
        ));
        let marker = stored(&keys::pending_organization_deletion("acme"), &[]);
        assert_eq!(problems(&guard, &[own, marker].into()), []);
        // A guard gone (or moved) since the scan read it is the next pass's to judge.
        assert_eq!(problems(&guard, &Fetched::new()), []);
        let moved = stored(&link.guard_key(), &[("slug", s("acme_2"))]);
        assert_eq!(problems(&guard, &[moved].into()), []);
    }

    #[test]
    fn an_item_needs_its_guard_to_name_it() {
        let link = name_link();
        let item = Role::Guarded {
            links: vec![link.clone()],
            plugin: None,
        };
        let org = stored(&keys::organization("acme"), &[("name", s("Acme"))]);
        assert_eq!(
            problems(&item, &[org.clone()].into()),
            [Problem::ItemWithoutGuard(link.clone())]
        );
        let own = stored(&link.guard_key(), &[("slug", s("acme"))]);
        assert_eq!(problems(&item, &[org.clone(), own].into()), []);
        let other = stored(&link.guard_key(), &[("slug", s("acme_2"))]);
        assert_eq!(
            problems(&item, &[org, other.clone()].into()),
            [Problem::Conflict {
                link,
                named: keys::organization("acme_2")
            }]
        );
        // An item that no longer holds the value (renamed since the scan) needs no guard of it.
        let renamed = stored(&keys::organization("acme"), &[("name", s("Other"))]);
        assert_eq!(problems(&item, &[renamed].into()), []);
    }

    #[test]
    fn instances_of_multiple_or_uninstalled_plugins_need_no_guard() {
        let link = Link::ActiveInstance {
            slug: "acme".into(),
            project_id: 3,
            plugin_type: "ticket".into(),
            instance_id: 9,
        };
        let item = Role::Guarded {
            links: vec![link.clone()],
            plugin: Some(2),
        };
        let live = [
            stored(&keys::organization("acme"), &[]),
            stored(&keys::project("acme", 3), &[]),
            stored(
                &link.item_key(),
                &[
                    ("enabled", AttributeValue::Bool(true)),
                    ("project_id", AttributeValue::N("3".into())),
                    ("plugin_type", s("ticket")),
                ],
            ),
        ];
        let with_plugin = |multiple: bool| {
            let mut fetched: Fetched = live.clone().into();
            let (key, plugin) = stored(
                &keys::plugin(2),
                &[("multiple", AttributeValue::Bool(multiple))],
            );
            fetched.insert(key, plugin);
            fetched
        };
        assert_eq!(problems(&item, &live.clone().into()), []);
        assert_eq!(problems(&item, &with_plugin(true)), []);
        assert_eq!(
            problems(&item, &with_plugin(false)),
            [Problem::ItemWithoutGuard(link)]
        );
    }
}

//! Reading an item of the table as the guard check sees it: a guard naming its item, an item
//! that needs guards, or neither. Nothing here trusts the data: a guard or a guarded item that
//! lacks what its writer always puts there is [`Role::Malformed`], a finding, never a panic.

use aws_sdk_dynamodb::types::AttributeValue;
use dispatch_store::Attributes;
use dispatch_store::item::{number_attribute, string_attribute};
use dispatch_store::keys;

use super::links::Link;

/// What an item of the table is to the guard check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Role {
    /// A guard, naming its item.
    Guard(Link),
    /// An item with the guards it needs. An enabled plugin instance needs its guard only when
    /// its plugin (`plugin`) is installed and not `multiple`.
    Guarded {
        links: Vec<Link>,
        plugin: Option<i32>,
    },
    /// A guard or guarded item that cannot be read: what is wrong with it.
    Malformed { guard: bool, reason: String },
    /// Anything else.
    Other,
}

/// The slug of an organization partition key (`ORG#<slug>`, not a project's partition).
pub(super) fn organization_partition(pk: &str) -> Option<&str> {
    pk.strip_prefix("ORG#").filter(|slug| !slug.contains('#'))
}

fn id(item: &Attributes, name: &str) -> Result<i32, String> {
    number_attribute(item, name)
        .and_then(|value| i32::try_from(value).ok())
        .ok_or_else(|| format!("`{name}` is missing or not an id"))
}

fn text(item: &Attributes, name: &str) -> Result<String, String> {
    string_attribute(item, name).ok_or_else(|| format!("`{name}` is missing or not a string"))
}

fn flag(item: &Attributes, name: &str) -> bool {
    matches!(item.get(name), Some(AttributeValue::Bool(true)))
}

fn parse_id(raw: &str) -> Result<i32, String> {
    raw.parse()
        .map_err(|_| format!("`{raw}` in the key is not an id"))
}

/// What `item` (keys and the attributes the job reads) is to the guard check.
pub(super) fn role(item: &Attributes) -> Role {
    let pk = string_attribute(item, keys::attr::PK).unwrap_or_default();
    let sk = string_attribute(item, keys::attr::SK).unwrap_or_default();
    match guard(item, &pk, &sk) {
        Some(Ok(link)) => return Role::Guard(link),
        Some(Err(reason)) => {
            return Role::Malformed {
                guard: true,
                reason,
            };
        }
        None => {}
    }
    match guarded(item, &pk, &sk) {
        Some(Ok((links, plugin))) => Role::Guarded { links, plugin },
        Some(Err(reason)) => Role::Malformed {
            guard: false,
            reason,
        },
        None => Role::Other,
    }
}

fn guard(item: &Attributes, pk: &str, sk: &str) -> Option<Result<Link, String>> {
    let value = |prefix: &str| pk.strip_prefix(prefix).map(str::to_owned);
    let link = match sk {
        "EMAIL" => value("EMAIL#").map(|email| {
            Ok(Link::Email {
                email,
                user_id: id(item, "user_id")?,
            })
        }),
        "ORGNAME" => value("ORGNAME#").map(|name| {
            Ok(Link::OrganizationName {
                name,
                slug: text(item, "slug")?,
            })
        }),
        "ORGID" => value("ORGID#").map(|raw| {
            Ok(Link::OrganizationId {
                id: parse_id(&raw)?,
                slug: text(item, "slug")?,
            })
        }),
        "DEFAULT_ORG" if pk == "DEFAULT_ORG" => {
            Some(text(item, "slug").map(|slug| Link::DefaultOrganization { slug }))
        }
        "PROJECTID" => value("PROJECTID#").map(|raw| {
            Ok(Link::ProjectId {
                project_id: parse_id(&raw)?,
                slug: text(item, "slug")?,
            })
        }),
        "PLUGINSLUG" => value("PLUGINSLUG#").map(|slug| {
            Ok(Link::PluginSlug {
                slug,
                plugin_id: id(item, "plugin_id")?,
            })
        }),
        "PLUGINEVENTSLUG" => value("PLUGINEVENTSLUG#").map(|slug| {
            Ok(Link::PluginEventSlug {
                slug,
                plugin_id: id(item, "plugin_id")?,
                event_id: id(item, "event_id")?,
            })
        }),
        _ => None,
    };
    if link.is_some() {
        return link;
    }
    let slug = organization_partition(pk)?.to_owned();
    if let Some(name) = sk.strip_prefix("PROJECTNAME#") {
        return Some(id(item, "project_id").map(|project_id| Link::ProjectName {
            slug,
            name: name.to_owned(),
            project_id,
        }));
    }
    let rest = sk.strip_prefix("ACTIVE#")?;
    Some((|| {
        let (project, plugin_type) = rest
            .split_once('#')
            .ok_or_else(|| format!("`{sk}` names no plugin type"))?;
        Ok(Link::ActiveInstance {
            slug,
            project_id: parse_id(project)?,
            plugin_type: plugin_type.to_owned(),
            instance_id: id(item, "instance_id")?,
        })
    })())
}

type Needs = (Vec<Link>, Option<i32>);

fn guarded(item: &Attributes, pk: &str, sk: &str) -> Option<Result<Needs, String>> {
    if sk == "USER" {
        let raw = pk.strip_prefix("USER#")?;
        return Some((|| {
            let link = Link::Email {
                email: text(item, "email")?,
                user_id: parse_id(raw)?,
            };
            Ok((vec![link], None))
        })());
    }
    if let Some(raw) = pk.strip_prefix("PLUGIN#") {
        let plugin_id = || parse_id(raw);
        if sk == "PLUGIN" {
            return Some((|| {
                let link = Link::PluginSlug {
                    slug: text(item, "slug")?,
                    plugin_id: plugin_id()?,
                };
                Ok((vec![link], None))
            })());
        }
        let event = sk.strip_prefix("EVENT#")?;
        return Some((|| {
            let link = Link::PluginEventSlug {
                slug: text(item, "slug")?,
                plugin_id: plugin_id()?,
                event_id: parse_id(event)?,
            };
            Ok((vec![link], None))
        })());
    }
    let slug = organization_partition(pk)?.to_owned();
    // A hidden organization or project lost (or is losing) its guards by design.
    let hidden = flag(item, "deleted");
    if sk == "ORG" {
        return Some((|| {
            if hidden {
                return Ok((vec![], None));
            }
            let mut links = vec![
                Link::OrganizationName {
                    name: text(item, "name")?,
                    slug: slug.clone(),
                },
                Link::OrganizationId {
                    id: id(item, "id")?,
                    slug: slug.clone(),
                },
            ];
            if flag(item, "default") {
                links.push(Link::DefaultOrganization { slug });
            }
            Ok((links, None))
        })());
    }
    if let Some(raw) = sk.strip_prefix("PROJECT#") {
        return Some((|| {
            let project_id = parse_id(raw)?;
            if hidden {
                return Ok((vec![], None));
            }
            let links = vec![
                Link::ProjectName {
                    slug: slug.clone(),
                    name: text(item, "name")?,
                    project_id,
                },
                Link::ProjectId { project_id, slug },
            ];
            Ok((links, None))
        })());
    }
    let raw = sk.strip_prefix("INSTANCE#")?;
    Some((|| {
        let instance_id = parse_id(raw)?;
        if !flag(item, "enabled") {
            return Ok((vec![], None));
        }
        let link = Link::ActiveInstance {
            slug,
            project_id: id(item, "project_id")?,
            plugin_type: text(item, "plugin_type")?,
            instance_id,
        };
        Ok((vec![link], Some(id(item, "plugin_id")?)))
    })())
}

/// The attributes [`role`] and the id check read: the scan fetches only these.
pub(super) const READ: &[&str] = &[
    "user_id",
    "slug",
    "project_id",
    "plugin_id",
    "event_id",
    "instance_id",
    "email",
    "name",
    "id",
    "default",
    "deleted",
    "enabled",
    "plugin_type",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn item(fields: &[(&str, AttributeValue)]) -> Attributes {
        fields
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect()
    }

    fn s(value: &str) -> AttributeValue {
        AttributeValue::S(value.to_owned())
    }

    fn n(value: i64) -> AttributeValue {
        AttributeValue::N(value.to_string())
    }

    #[test]
    fn guards_are_read_with_the_item_they_name() {
        let email = item(&[
            ("pk", s("EMAIL#a@example.com")),
            ("sk", s("EMAIL")),
            ("user_id", n(7)),
        ]);
        let link = Link::Email {
            email: "a@example.com".into(),
            user_id: 7,
        };
        assert_eq!(role(&email), Role::Guard(link.clone()));
        assert_eq!(link.item_key(), keys::user(7));

        // A plugin type is the rest of the sort key, `#` and all.
        let active = item(&[
            ("pk", s("ORG#acme")),
            ("sk", s("ACTIVE#3#ticket#x")),
            ("instance_id", n(9)),
        ]);
        let Role::Guard(link) = role(&active) else {
            panic!("not a guard: {:?}", role(&active));
        };
        assert_eq!(
            link.guard_key(),
            keys::active_instance_guard("acme", 3, "ticket#x")
        );
        assert_eq!(link.item_key(), keys::plugin_instance("acme", 9));
    }

    #[test]
    fn items_need_the_guards_of_their_values_and_hidden_ones_none() {
        let org = item(&[
            ("pk", s("ORG#acme")),
            ("sk", s("ORG")),
            ("name", s("Acme")),
            ("id", n(4)),
            ("default", AttributeValue::Bool(true)),
        ]);
        let Role::Guarded { links, plugin } = role(&org) else {
            panic!("not guarded");
        };
        assert_eq!(plugin, None);
        let guards: Vec<_> = links.iter().map(Link::guard_key).collect();
        assert_eq!(
            guards,
            [
                keys::organization_name_guard("Acme"),
                keys::organization_id_guard(4),
                keys::default_organization()
            ]
        );

        let mut hidden = org.clone();
        hidden.insert("deleted".into(), AttributeValue::Bool(true));
        assert_eq!(
            role(&hidden),
            Role::Guarded {
                links: vec![],
                plugin: None
            }
        );

        let enabled = item(&[
            ("pk", s("ORG#acme")),
            ("sk", s("INSTANCE#12")),
            ("enabled", AttributeValue::Bool(true)),
            ("project_id", n(3)),
            ("plugin_type", s("ticket")),
            ("plugin_id", n(2)),
        ]);
        let Role::Guarded { links, plugin } = role(&enabled) else {
            panic!("not guarded");
        };
        assert_eq!(plugin, Some(2));
        assert_eq!(
            links[0].guard_key(),
            keys::active_instance_guard("acme", 3, "ticket")
        );
    }

    #[test]
    fn what_cannot_be_read_is_malformed_and_the_rest_is_ignored() {
        let no_pointer = item(&[("pk", s("ORGNAME#Acme")), ("sk", s("ORGNAME"))]);
        assert!(matches!(
            role(&no_pointer),
            Role::Malformed { guard: true, .. }
        ));
        let bad_id = item(&[
            ("pk", s("USER#x")),
            ("sk", s("USER")),
            ("email", s("a@b.c")),
        ]);
        assert!(matches!(
            role(&bad_id),
            Role::Malformed { guard: false, .. }
        ));
        let too_big = item(&[
            ("pk", s("EMAIL#a@b.c")),
            ("sk", s("EMAIL")),
            ("user_id", n(1 << 40)),
        ]);
        assert!(matches!(
            role(&too_big),
            Role::Malformed { guard: true, .. }
        ));
        for (pk, sk) in [
            ("ORG#acme", "MEMBER#1"),
            ("ORG#acme#PROJECT#3", "USER#1"),
            ("META", "SCHEMA"),
            ("COUNTER#USER", "COUNTER"),
        ] {
            assert_eq!(
                role(&item(&[("pk", s(pk)), ("sk", s(sk))])),
                Role::Other,
                "{pk}"
            );
        }
    }
}

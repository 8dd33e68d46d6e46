//! Migration 3: what pages show, stored beside what they read, so that a members page and
//! `/auth/me` cost a constant number of round trips (docs/architecture.md, "Round trips").
//!
//! This build writes, in the transactions that change them: an organization's project ids
//! (`project_ids`), a user's organization slugs (`organization_slugs`, trusted once
//! `organizations_indexed` is set) and a membership's summary of its project links
//! (`projects`). `up` adds them to items written before, in four passes:
//!
//! 1. every project adds its id to its organization's live or deleted ids (`ADD`, idempotent);
//! 2. every membership adds its slug to its user (`ADD`, idempotent);
//! 3. then every user is marked `organizations_indexed`: from here on the set names every
//!    membership, those added since the deploy included (their transactions `ADD` the slug);
//! 4. every membership without a summary gets one, read from its link items and written only
//!    if the membership is still at the version read and still has none (a change by this
//!    build writes a complete summary itself).
//!
//! Readers fall back to the slower reads for any item without them, so the site answers the
//! same before, during and after the migration. `down` removes the summaries and the marks
//! (what readers trust), since version-2 code changes links and memberships without keeping
//! them; a later `up` computes them again.

use aws_sdk_dynamodb::types::AttributeValue;

use dispatch_store::item::Attributes;
use dispatch_store::keys::{self, attr};
use dispatch_store::migrate::items::{ItemPass, ItemWrite, run_pass};
use dispatch_store::migrate::{BoxFuture, Migration, MigrationError, Run};
use dispatch_store::{Expression, Key};

/// See the module documentation.
pub struct PageSummaries;

mod summaries;

/// What an item pass does with each item it reads.
type Transform = dyn Fn(&Attributes) -> Vec<ItemWrite> + Send + Sync;

const SEGMENTS: u32 = 4;
/// Items per scan page (and per checkpoint of the item passes).
pub(super) const PAGE: i32 = 100;

fn string<'a>(item: &'a Attributes, name: &str) -> Option<&'a str> {
    item.get(name)?.as_s().ok().map(String::as_str)
}

/// Pass 1: a project's id, added to its organization's live or deleted ones.
fn project_id_for(item: &Attributes) -> Vec<ItemWrite> {
    let slug = string(item, attr::PK).and_then(|pk| pk.strip_prefix("ORG#"));
    let id = string(item, attr::SK)
        .and_then(|sk| sk.strip_prefix("PROJECT#"))
        .and_then(|id| id.parse::<i32>().ok());
    let (Some(slug), Some(id)) = (slug, id) else {
        return vec![];
    };
    if slug.contains('#') {
        return vec![];
    }
    let deleted = item.get("deleted").and_then(|v| v.as_bool().ok()) == Some(&true);
    let set = if deleted {
        "deleted_project_ids"
    } else {
        "project_ids"
    };
    vec![ItemWrite::Update {
        key: keys::organization(slug),
        update: Expression::new("ADD #ids :ids")
            .name("#ids", set)
            .value(":ids", AttributeValue::Ns(vec![id.to_string()])),
        condition: Expression::item_present().and(
            Expression::new("NOT contains(#ids, :id)")
                .name("#ids", set)
                .value(":id", AttributeValue::N(id.to_string())),
        ),
    }]
}

/// Pass 2: a membership's slug, added to its user.
fn slug_for(item: &Attributes) -> Vec<ItemWrite> {
    let slug = string(item, "organization_slug");
    let user_id = item
        .get("user_id")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<i32>().ok());
    let (Some(slug), Some(user_id)) = (slug, user_id) else {
        return vec![];
    };
    vec![ItemWrite::Update {
        key: keys::user(user_id),
        update: crate::users::remember_organization(slug),
        condition: Expression::item_present().and(
            Expression::new("NOT contains(#slugs, :slug)")
                .name("#slugs", "organization_slugs")
                .value(":slug", AttributeValue::S(slug.to_owned())),
        ),
    }]
}

/// Pass 3: a user whose set now names every membership. The mark bumps the version, so an
/// account change that read the user before it reads again instead of dropping it. A user
/// without a set (no membership, or rewritten by version-2 code meanwhile) is left unmarked
/// and read the slower way.
fn mark_indexed(item: &Attributes) -> Vec<ItemWrite> {
    let (Some(pk), Some(sk)) = (string(item, attr::PK), string(item, attr::SK)) else {
        return vec![];
    };
    vec![ItemWrite::Update {
        key: Key::new(pk, sk),
        update: Expression::new("SET #indexed = :true ADD #version :one")
            .name("#indexed", "organizations_indexed")
            .name("#version", attr::VERSION)
            .value(":true", AttributeValue::Bool(true))
            .value(":one", AttributeValue::N("1".into())),
        condition: Expression::item_present().and(
            Expression::new("attribute_not_exists(#indexed) AND attribute_exists(#slugs)")
                .name("#indexed", "organizations_indexed")
                .name("#slugs", "organization_slugs"),
        ),
    }]
}

/// `down`: removes `attribute` (what readers trust) from an item, bumping its version, so that
/// version-2 code may change what it summarised and a later `up` computes it again.
fn remove_attribute(attribute: &'static str) -> impl Fn(&Attributes) -> Vec<ItemWrite> {
    move |item| {
        let (Some(pk), Some(sk)) = (string(item, attr::PK), string(item, attr::SK)) else {
            return vec![];
        };
        vec![ItemWrite::Update {
            key: Key::new(pk, sk),
            update: Expression::new("REMOVE #attribute ADD #version :one")
                .name("#attribute", attribute)
                .name("#version", attr::VERSION)
                .value(":one", AttributeValue::N("1".into())),
            condition: Expression::new("attribute_exists(#attribute)")
                .name("#attribute", attribute),
        }]
    }
}

pub(super) fn memberships_filter() -> Expression {
    Expression::new("begins_with(#sk, :member) AND #entity = :membership")
        .name("#sk", attr::SK)
        .name("#entity", attr::ENTITY)
        .value(":member", AttributeValue::S("MEMBER#".into()))
        .value(":membership", AttributeValue::S("Membership".into()))
}

impl Migration for PageSummaries {
    fn id(&self) -> u32 {
        3
    }

    fn description(&self) -> &'static str {
        "store what members pages and /auth/me show beside what they read (project ids, organization slugs, link summaries)"
    }

    fn checksum(&self) -> String {
        super::checksum(concat!(
            include_str!("mod.rs"),
            include_str!("summaries.rs")
        ))
    }

    fn up<'a>(&'a self, run: &'a Run<'a>) -> BoxFuture<'a, Result<(), MigrationError>> {
        Box::pin(async move {
            let projects = Expression::new(
                "begins_with(#pk, :org) AND begins_with(#sk, :project) AND #entity = :project_entity",
            )
            .name("#pk", attr::PK)
            .name("#sk", attr::SK)
            .name("#entity", attr::ENTITY)
            .value(":org", AttributeValue::S("ORG#".into()))
            .value(":project", AttributeValue::S("PROJECT#".into()))
            .value(":project_entity", AttributeValue::S("Project".into()));
            let users = Expression::new("#sk = :user AND begins_with(#pk, :user_prefix)")
                .name("#sk", attr::SK)
                .name("#pk", attr::PK)
                .value(":user", AttributeValue::S("USER".into()))
                .value(":user_prefix", AttributeValue::S("USER#".into()));
            let passes: [(&'static str, Expression, &Transform); 3] = [
                ("project_ids", projects, &project_id_for),
                ("organization_slugs", memberships_filter(), &slug_for),
                ("organizations_indexed", users, &mark_indexed),
            ];
            for (name, filter, transform) in passes {
                let pass = ItemPass {
                    name,
                    filter: Some(filter),
                    segments: SEGMENTS,
                    page_size: PAGE,
                    transform,
                };
                run_pass(run, &pass).await?;
            }
            summaries::summarise_all(run).await
        })
    }

    fn reversible(&self) -> bool {
        true
    }

    fn down<'a>(&'a self, run: &'a Run<'a>) -> BoxFuture<'a, Result<(), MigrationError>> {
        // What readers trust goes: version-2 code changes links and memberships without
        // keeping it. The sets of slugs and project ids may stay (nothing trusts them alone).
        Box::pin(async move {
            let summaries = remove_attribute("projects");
            let marks = remove_attribute("organizations_indexed");
            let summarised = memberships_filter()
                .and(Expression::new("attribute_exists(#projects)").name("#projects", "projects"));
            let marked = Expression::new("attribute_exists(#indexed)")
                .name("#indexed", "organizations_indexed");
            let passes: [(&'static str, Expression, &Transform); 2] = [
                ("summaries", summarised, &summaries),
                ("marks", marked, &marks),
            ];
            for (name, filter, transform) in passes {
                let pass = ItemPass {
                    name,
                    filter: Some(filter),
                    segments: SEGMENTS,
                    page_size: PAGE,
                    transform,
                };
                run_pass(run, &pass).await?;
            }
            Ok(())
        })
    }
}

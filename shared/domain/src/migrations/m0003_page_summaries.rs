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
//! same before, during and after the migration. `down` changes nothing: version-2 code
//! ignores these attributes (and drops them when it rewrites an item, which the readers of
//! this build handle the same way).

use aws_sdk_dynamodb::types::AttributeValue;
use futures_util::{TryStreamExt, stream};

use dispatch_store::item::Attributes;
use dispatch_store::keys::{self, attr};
use dispatch_store::migrate::items::{ItemPass, ItemWrite, run_pass};
use dispatch_store::migrate::{BoxFuture, Migration, MigrationError, Run};
use dispatch_store::{Expression, Key, StoreError, from_attributes};

use crate::model::{LinkSummary, Membership};

/// See the module documentation.
pub struct PageSummaries;

/// What an item pass does with each item it reads.
type Transform = dyn Fn(&Attributes) -> Vec<ItemWrite> + Send + Sync;

const SEGMENTS: u32 = 4;
/// Items per scan page (and per checkpoint of the item passes).
const PAGE: i32 = 100;
/// Memberships summarised at once in pass 4 (one index query and one write each).
const SUMMARIES_IN_FLIGHT: usize = 16;

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

/// Pass 3: a user whose set now names every membership.
fn mark_indexed(item: &Attributes) -> Vec<ItemWrite> {
    let (Some(pk), Some(sk)) = (string(item, attr::PK), string(item, attr::SK)) else {
        return vec![];
    };
    vec![ItemWrite::Update {
        key: Key::new(pk, sk),
        update: Expression::new("SET #indexed = :true")
            .name("#indexed", "organizations_indexed")
            .value(":true", AttributeValue::Bool(true)),
        condition: Expression::item_present().and(
            Expression::new("attribute_not_exists(#indexed)")
                .name("#indexed", "organizations_indexed"),
        ),
    }]
}

fn memberships_filter() -> Expression {
    Expression::new("begins_with(#sk, :member) AND #entity = :membership")
        .name("#sk", attr::SK)
        .name("#entity", attr::ENTITY)
        .value(":member", AttributeValue::S("MEMBER#".into()))
        .value(":membership", AttributeValue::S("Membership".into()))
}

/// Pass 4 for one membership: its links' summary, written if nothing changed it meanwhile.
async fn summarise(run: &Run<'_>, item: Attributes) -> Result<(), MigrationError> {
    let membership: Membership = from_attributes(item).map_err(MigrationError::from)?;
    let (slug, user_id) = (&membership.organization_slug, membership.user_id);
    let links = crate::memberships::links_in(run.store, user_id, slug)
        .await
        .map_err(|e| MigrationError::Invalid(e.to_string()))?;
    let mut summary: Vec<LinkSummary> = links.iter().map(LinkSummary::from).collect();
    crate::memberships::sort_like_index(&mut summary);
    let value = serde_dynamo::to_attribute_value(&summary)
        .map_err(|e| MigrationError::Invalid(e.to_string()))?;
    run.lease.check()?;
    let written = run
        .store
        .client()
        .update_item()
        .table_name(run.store.table())
        .set_key(Some(dispatch_store::key_attributes(&keys::membership(
            slug, user_id,
        ))))
        .update_expression("SET #projects = :projects ADD #version :one")
        .condition_expression("#version = :expected AND attribute_not_exists(#projects)")
        .expression_attribute_names("#projects", "projects")
        .expression_attribute_names("#version", attr::VERSION)
        .expression_attribute_values(":projects", value)
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .expression_attribute_values(
            ":expected",
            AttributeValue::N(membership.version.to_string()),
        )
        .send()
        .await;
    match written {
        Ok(_) => Ok(()),
        // Changed meanwhile: this build's change wrote a complete summary.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(StoreError::from_sdk(e).into()),
    }
}

/// Pass 4: scans memberships without a summary (a re-run after an interruption finds only
/// those left) and summarises each.
async fn summarise_all(run: &Run<'_>) -> Result<(), MigrationError> {
    let filter = memberships_filter()
        .and(Expression::new("attribute_not_exists(#projects)").name("#projects", "projects"));
    let mut start = None;
    let mut done = 0u64;
    loop {
        run.lease.check()?;
        let page = run
            .store
            .client()
            .scan()
            .table_name(run.store.table())
            .consistent_read(true)
            .limit(PAGE)
            .filter_expression(&filter.text)
            .set_expression_attribute_names(Some(filter.names.clone()))
            .set_expression_attribute_values(Some(filter.values.clone()))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(StoreError::from_sdk)?;
        let items = page.items.unwrap_or_default();
        done += items.len() as u64;
        stream::iter(items.into_iter().map(Ok::<_, MigrationError>))
            .map_ok(|item| summarise(run, item))
            .try_buffer_unordered(SUMMARIES_IN_FLIGHT)
            .try_collect::<Vec<()>>()
            .await?;
        run.progress.line(&format!(
            "migration 3 up: pass summaries: {done} membership(s) summarised"
        ));
        start = page.last_evaluated_key;
        if start.is_none() {
            return Ok(());
        }
    }
}

impl Migration for PageSummaries {
    fn id(&self) -> u32 {
        3
    }

    fn description(&self) -> &'static str {
        "store what members pages and /auth/me show beside what they read (project ids, organization slugs, link summaries)"
    }

    fn checksum(&self) -> String {
        super::checksum(include_str!("m0003_page_summaries.rs"))
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
            summarise_all(run).await
        })
    }

    fn reversible(&self) -> bool {
        true
    }

    fn down<'a>(&'a self, _run: &'a Run<'a>) -> BoxFuture<'a, Result<(), MigrationError>> {
        // Nothing to undo: version-2 code ignores the attributes `up` added.
        Box::pin(async { Ok(()) })
    }
}

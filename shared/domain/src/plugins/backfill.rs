//! Giving projects the disabled instances of installed plugins they lack: the scheduled job
//! `plugin-backfill`, and `dispatch plugins install` / `dispatch database init` (new projects
//! get theirs from the init flow, in their creating transaction).
//!
//! A project is given each plugin **once**. The gift writes a record
//! ([`keys::plugin_given`]) in the same transaction as the instance, conditional on the record
//! not existing: two backfills at once (the schedule and an operator's `plugins install`)
//! cannot both give it. Deleting an instance writes the record too, so an instance a user
//! deleted is not given again. A project that already has an instance of the plugin (from its
//! init flow, or created by a user) only gets the record. The transaction also requires the project to be live, so nothing is added
//! to a project a `DELETE` has hidden.

use std::collections::{HashMap, HashSet};

use crate::error::DomainError;
use crate::maintenance::context::finding;
use crate::maintenance::organizations::page_after;
use crate::maintenance::{Budget, Finding, JobContext};
use crate::model::{Plugin, PluginInstance};
use crate::time::Timestamp;
use dispatch_store::item::string_attribute;
use dispatch_store::keys::{self, collection};
use dispatch_store::schema::LIST1;
use dispatch_store::{Expression, Item, Source, Store, StoreError, Transaction, from_attributes};

/// Plugins given per transaction (3 actions each, plus the project check and the count).
const CHUNK: usize = 30;

/// The label of the "not given yet" condition.
const GIVEN_LABEL: &str = "plugin_given";
/// The label of the "project still live" condition.
const PROJECT_LABEL: &str = "project";

/// What one organization's backfill did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Backfill {
    /// Projects looked at.
    pub projects: u64,
    /// Instances created.
    pub added: u64,
    /// Projects skipped because they changed meanwhile (deleted, or given by a concurrent run).
    pub skipped: u64,
    /// The budget ran out before every project was given what it lacks.
    pub cut_short: bool,
}

/// Backfills every organization with `plugins`, without a time limit (the CLI); returns how
/// many instances were created.
pub async fn add_missing_instances(
    store: &Store,
    plugins: &[Plugin],
) -> Result<usize, DomainError> {
    let mut added = 0;
    let mut cursor = None;
    loop {
        let page = page_after(store, cursor.as_deref()).await?;
        if page.is_empty() {
            return Ok(added);
        }
        for position in page {
            added += backfill_organization(store, &position.slug, plugins, &Budget::unbounded())
                .await?
                .added as usize;
            cursor = Some(position.cursor);
        }
    }
}

/// The scheduled job: organization by organization from the checkpoint.
pub async fn run(ctx: &mut JobContext<'_>) -> Result<(), DomainError> {
    let plugins = super::catalogue::installed(ctx.store).await?;
    loop {
        let page = page_after(ctx.store, ctx.cursor()).await?;
        if page.is_empty() {
            return ctx.checkpoint(None).await;
        }
        for position in page {
            if ctx.out_of_time() {
                return Ok(());
            }
            let slug = position.slug.as_str();
            if ctx.dry_run {
                let lacking = lacking(ctx.store, slug, &plugins).await?;
                ctx.examined(lacking.projects);
                for (project_id, missing) in lacking.missing {
                    let names: Vec<&str> = missing.iter().map(|p| p.slug.as_str()).collect();
                    ctx.found(finding(
                        "missing_instances",
                        format!("project {project_id} of organization {slug}"),
                        format!("would be given {}", names.join(", ")),
                    ));
                }
            } else {
                let done = match backfill_organization(ctx.store, slug, &plugins, &ctx.budget).await
                {
                    Ok(done) => done,
                    Err(DomainError::Unavailable) => return Err(DomainError::Unavailable),
                    Err(error) => {
                        // One unreadable item must not stop every organization after it.
                        ctx.found(finding(
                            "organization_skipped",
                            format!("organization {slug}"),
                            format!("not backfilled: {error}"),
                        ));
                        ctx.checkpoint(Some(position.cursor)).await?;
                        continue;
                    }
                };
                ctx.examined(done.projects);
                if done.added > 0 {
                    ctx.found(Finding {
                        repaired: true,
                        ..finding(
                            "missing_instances",
                            format!("organization {slug}"),
                            format!("gave {} disabled plugin instances", done.added),
                        )
                    });
                }
                if done.cut_short {
                    // The rest of this organization's projects at the next run.
                    ctx.continue_later();
                    return Ok(());
                }
            }
            ctx.checkpoint(Some(position.cursor)).await?;
        }
    }
}

/// The projects of an organization and the plugins each has not been given.
struct Lacking {
    projects: u64,
    /// Per project: plugins to give (instances to create).
    missing: Vec<(i32, Vec<Plugin>)>,
    /// Per project: plugins it already has an instance of, only to be recorded.
    present: Vec<(i32, Vec<i32>)>,
}

/// Reads what `slug`'s projects lack. The projects are read first (from the list index), then
/// the organization's partition (consistently): a project the index shows was created before,
/// so its own instances, written in its creating transaction, are in the partition read.
async fn lacking(store: &Store, slug: &str, plugins: &[Plugin]) -> Result<Lacking, DomainError> {
    let projects: Vec<i32> = store
        .query_prefix(Source::Index(LIST1), &collection::projects(slug), "")
        .await?
        .iter()
        .filter_map(|project| {
            string_attribute(project, keys::attr::SK)?
                .strip_prefix("PROJECT#")?
                .parse()
                .ok()
        })
        .collect();
    let mut has: HashMap<i32, HashSet<i32>> = HashMap::new();
    let mut given: HashMap<i32, HashSet<i32>> = HashMap::new();
    for item in store
        .query_prefix(Source::Table, &keys::org_partition(slug), "INSTANCE#")
        .await?
    {
        let instance: PluginInstance = from_attributes(item)?;
        has.entry(instance.project_id)
            .or_default()
            .insert(instance.plugin_id);
    }
    for item in store
        .query_prefix(Source::Table, &keys::org_partition(slug), "PLUGINGIVEN#")
        .await?
    {
        let parsed = string_attribute(&item, keys::attr::SK).and_then(|sk| {
            let (project, plugin) = sk.strip_prefix("PLUGINGIVEN#")?.split_once('#')?;
            Some((project.parse::<i32>().ok()?, plugin.parse::<i32>().ok()?))
        });
        if let Some((project_id, plugin_id)) = parsed {
            given.entry(project_id).or_default().insert(plugin_id);
        }
    }
    let mut result = Lacking {
        projects: projects.len() as u64,
        missing: Vec::new(),
        present: Vec::new(),
    };
    for project_id in projects {
        let given = given.remove(&project_id).unwrap_or_default();
        let has = has.remove(&project_id).unwrap_or_default();
        let open = plugins.iter().filter(|plugin| !given.contains(&plugin.id));
        let (present, missing): (Vec<&Plugin>, Vec<&Plugin>) =
            open.partition(|plugin| has.contains(&plugin.id));
        if !missing.is_empty() {
            result
                .missing
                .push((project_id, missing.into_iter().cloned().collect()));
        }
        if !present.is_empty() {
            result
                .present
                .push((project_id, present.iter().map(|plugin| plugin.id).collect()));
        }
    }
    Ok(result)
}

/// Gives `slug`'s projects what they lack, project by project until `budget` runs out (the
/// rest is given next time).
pub async fn backfill_organization(
    store: &Store,
    slug: &str,
    plugins: &[Plugin],
    budget: &Budget,
) -> Result<Backfill, DomainError> {
    let lacking = lacking(store, slug, plugins).await?;
    let mut done = Backfill {
        projects: lacking.projects,
        ..Backfill::default()
    };
    for (project_id, plugin_ids) in &lacking.present {
        for chunk in plugin_ids.chunks(CHUNK * 3 - 2) {
            let mut tx = Transaction::new();
            tx.check(
                keys::project(slug, *project_id),
                Expression::item_live(),
                PROJECT_LABEL,
            )?;
            tx.check(
                keys::organization(slug),
                crate::organizations::accepts_additions(),
                crate::organizations::ORGANIZATION_LABEL,
            )?;
            for plugin_id in chunk {
                tx.put_when(given_record(slug, *project_id, *plugin_id), None, None)?;
            }
            if skipped(store.transact(tx).await)? {
                done.skipped += 1;
            }
        }
    }
    for (given, (project_id, missing)) in lacking.missing.iter().enumerate() {
        // At least one project per call, so that a late start still makes progress.
        if given > 0 && budget.exhausted() {
            done.cut_short = true;
            break;
        }
        for chunk in missing.chunks(CHUNK) {
            match give(store, slug, *project_id, chunk).await? {
                true => done.added += chunk.len() as u64,
                false => done.skipped += 1,
            }
        }
    }
    Ok(done)
}

/// One transaction giving project `project_id` an instance of each plugin of `chunk`;
/// `Ok(false)` when the project is gone or a concurrent run gave one of them first.
async fn give(
    store: &Store,
    slug: &str,
    project_id: i32,
    chunk: &[Plugin],
) -> Result<bool, DomainError> {
    let instances =
        super::instances::disabled_instances(store, slug, project_id, chunk, Timestamp::now())
            .await?;
    let mut tx = Transaction::new();
    tx.check(
        keys::project(slug, project_id),
        Expression::item_live(),
        PROJECT_LABEL,
    )?;
    for (plugin, instance) in chunk.iter().zip(instances) {
        tx.put_when(
            given_record(slug, project_id, plugin.id),
            Some(Expression::item_absent()),
            Some(GIVEN_LABEL),
        )?;
        tx.put_new(instance, "plugin_instance")?;
    }
    super::instances::count_instances(&mut tx, slug, chunk.len() as i64)?;
    Ok(!skipped(store.transact(tx).await)?)
}

/// Whether a backfill transaction lost to a change that makes it unnecessary.
fn skipped(result: Result<(), StoreError>) -> Result<bool, DomainError> {
    match result {
        Ok(()) => Ok(false),
        Err(StoreError::ConditionFailed { label })
            if label == GIVEN_LABEL
                || label == PROJECT_LABEL
                || label == crate::organizations::ORGANIZATION_LABEL =>
        {
            Ok(true)
        }
        Err(error) => Err(error.into()),
    }
}

/// The record that project `project_id` has had (or been given) an instance of `plugin_id`.
pub(crate) fn given_record(slug: &str, project_id: i32, plugin_id: i32) -> Item {
    Item::bare(
        &keys::plugin_given(slug, project_id, plugin_id),
        "PluginGiven",
    )
}

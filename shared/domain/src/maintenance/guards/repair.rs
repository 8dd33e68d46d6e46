//! Reporting each problem, and putting right what only has one right answer, each repair one
//! transaction conditioned on the table still being as the check saw it: a request that
//! changed either side in between makes the repair fail, and the next run looks again.

use aws_sdk_dynamodb::types::AttributeValue;
use dispatch_store::{Expression, Store, StoreError, Transaction, keys};

use super::check::{Fetched, Problem};
use super::links::{Expect, Link};
use crate::error::DomainError;
use crate::maintenance::context::finding;
use crate::maintenance::{Finding, JobContext};

/// `#<prefix>0 = :<prefix>0 AND …`: every attribute holds its value.
fn holds(expected: &[Expect], prefix: &str) -> Expression {
    let mut expression = Expression::new("");
    let mut terms = Vec::with_capacity(expected.len());
    for (i, (name, value)) in expected.iter().enumerate() {
        let (placeholder_name, placeholder_value) =
            (format!("#{prefix}{i}"), format!(":{prefix}{i}"));
        terms.push(format!("{placeholder_name} = {placeholder_value}"));
        expression = expression
            .name(&placeholder_name, name)
            .value(&placeholder_value, value.clone());
    }
    expression.text = terms.join(" AND ");
    expression
}

/// Deletes a guard whose item does not exist, if it still names that item and the item is
/// still absent.
async fn delete_guard(store: &Store, link: &Link) -> Result<(), StoreError> {
    let mut tx = Transaction::new();
    tx.delete(
        link.guard_key(),
        Some(holds(&link.pointer(), "pointer")),
        Some("guard"),
    )?;
    tx.check(link.item_key(), Expression::item_absent(), "item")?;
    store.transact(tx).await
}

/// Puts the guard of an item that lost it, if nothing took the value meanwhile and the item
/// still holds it in a live organization and project.
async fn put_guard(store: &Store, link: &Link) -> Result<(), StoreError> {
    let mut tx = Transaction::new();
    tx.put_when(
        link.guard_item()?,
        Some(Expression::item_absent()),
        Some("guard"),
    )?;
    let item = link.item_key();
    tx.check(
        item.clone(),
        Expression::item_live().and(holds(&link.claim(), "claim")),
        "item",
    )?;
    let (organization, project) = link.scope();
    if let Some(slug) = organization {
        let mut containers = vec![keys::organization(slug)];
        containers.extend(project.map(|id| keys::project(slug, id)));
        for container in containers.into_iter().filter(|key| *key != item) {
            tx.check(container, Expression::item_live(), "container")?;
        }
    }
    store.transact(tx).await
}

/// What became of a repair.
enum Repair {
    Done,
    /// A condition failed: something changed since the check read it.
    Raced,
    /// A dry run.
    Skipped,
}

async fn attempt(
    ctx: &JobContext<'_>,
    write: impl std::future::Future<Output = Result<(), StoreError>>,
) -> Result<Repair, DomainError> {
    if ctx.dry_run {
        return Ok(Repair::Skipped);
    }
    match write.await {
        Ok(()) => Ok(Repair::Done),
        Err(StoreError::ConditionFailed { .. } | StoreError::VersionConflict) => Ok(Repair::Raced),
        Err(error) => Err(error.into()),
    }
}

fn report(
    ctx: &mut JobContext<'_>,
    kind: &str,
    subject: String,
    detail: String,
    outcome: Repair,
    done: &str,
) {
    let (detail, repaired) = match outcome {
        Repair::Done => (format!("{detail}: {done}"), true),
        Repair::Raced => (
            format!("{detail}: changed meanwhile, left for the next run"),
            false,
        ),
        Repair::Skipped => (format!("{detail} (dry run: not {done})"), false),
    };
    ctx.found(Finding {
        repaired,
        ..finding(kind, subject, detail)
    });
}

/// Reports `problem` and repairs it if it has one right answer (not in a dry run). `fetched`
/// follows the repairs, so the rest of the page is judged on the table as it now is.
pub(super) async fn handle(
    ctx: &mut JobContext<'_>,
    problem: Problem,
    fetched: &mut Fetched,
) -> Result<(), DomainError> {
    let store = ctx.store;
    match problem {
        Problem::GuardWithoutItem(link) => {
            let detail = format!(
                "the {} guard names {}, which does not exist",
                link.name(),
                link.item_key()
            );
            let outcome = attempt(ctx, delete_guard(store, &link)).await?;
            if matches!(outcome, Repair::Done) {
                fetched.remove(&link.guard_key());
            }
            let subject = link.guard_key().to_string();
            report(
                ctx,
                "guard_without_item",
                subject,
                detail,
                outcome,
                "guard deleted",
            );
        }
        Problem::ItemWithoutGuard(link) => {
            let detail = format!("its {} guard {} is missing", link.name(), link.guard_key());
            let outcome = attempt(ctx, put_guard(store, &link)).await?;
            if matches!(outcome, Repair::Done) {
                let guard = link.guard_item()?.into_attributes();
                fetched.insert(link.guard_key(), guard);
            }
            let subject = link.item_key().to_string();
            report(
                ctx,
                "item_without_guard",
                subject,
                detail,
                outcome,
                "guard put back",
            );
        }
        Problem::Conflict { link, named } => ctx.found(finding(
            "guard_conflict",
            link.item_key().to_string(),
            format!(
                "its {} guard {} names {named}: two items claim one value; left for an operator",
                link.name(),
                link.guard_key()
            ),
        )),
        Problem::Mismatch { link, holds } => ctx.found(finding(
            "guard_mismatch",
            link.guard_key().to_string(),
            format!(
                "the {} guard names {}, whose {holds}; left for an operator",
                link.name(),
                link.item_key()
            ),
        )),
    }
    Ok(())
}

/// Raises an id counter to `used` (the largest id of its kind in use) if it is still below:
/// ids are handed out above the counter, so one behind would hand out an id again.
pub(super) async fn raise_counter(
    ctx: &mut JobContext<'_>,
    kind: &str,
    stored: i64,
    used: i64,
) -> Result<(), DomainError> {
    let key = keys::id_counter(kind);
    let update = Expression::new("SET #last = :used, #entity = :entity")
        .name("#entity", keys::attr::ENTITY)
        .value(":entity", AttributeValue::S("IdCounter".into()));
    let below = Expression::new("attribute_not_exists(#last) OR #last < :used")
        .name("#last", "last_id")
        .value(":used", AttributeValue::N(used.to_string()));
    let outcome = attempt(ctx, ctx.store.update_if(&key, update, below, "counter")).await?;
    report(
        ctx,
        "id_counter_behind",
        key.to_string(),
        format!("last_id is {stored}, but id {used} is in use"),
        outcome,
        "raised",
    );
    Ok(())
}

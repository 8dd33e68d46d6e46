//! `check-guards`: finds uniqueness guards without their item and items without their guard,
//! reports them, and repairs what is unambiguous.
//!
//! Uniqueness in the table rests on guard items written in the same transaction as what they
//! guard (see the key design in [`dispatch_store`]). A guard left without its item blocks its
//! value for nobody (an organization name nobody can take again); an item left without its
//! guard lets its value be taken twice (a second account on one email). Neither happens by
//! the API's own writes, which are atomic, but a restore, a hand edit or a bug can leave them,
//! and nothing else would notice.
//!
//! The job scans the whole table (consistent reads, [`PAGE`] items a page, keys and the few
//! attributes it needs) and, for each page, reads in batches what its items point at. A guard
//! must name an item that holds the guarded value; an item must have the guards of its values,
//! naming it; each id counter must be at or above the largest id of its kind (`ids`).
//!
//! - A guard whose item does not exist is deleted; an item whose guard does not exist gets it
//!   back. Each repair is one transaction conditioned on both sides being as read
//!   (`repair`); a lost race is reported and left for the next run, never an error.
//! - A guard naming another item than the one holding its value (two items claim one value),
//!   or an item that does not hold the value its guard guards, is reported only: which one is
//!   right is an operator's call.
//! - What a deletion is removing (its organization or project hidden, or a pending-deletion
//!   marker) goes in stages by design and is skipped; so is a plugin's slug guard without its
//!   plugin, which outlives `plugins uninstall` on purpose.
//!
//! The checkpoint is the key of the last item dealt with: the next run continues right after
//! it, and a pass that reaches the end of the table starts the next one from the beginning.
//! Every run deals with at least one item, so a run can never be too short to progress.

mod check;
mod ids;
mod links;
mod parse;
mod repair;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use dispatch_store::item::key_of;
use dispatch_store::keys::{self, Key};
use dispatch_store::{Attributes, IdKind};

use self::check::{Fetched, Problem};
use self::parse::Role;
use super::JobContext;
use super::context::finding;
use crate::error::DomainError;

/// Items read per scan page: a bounded unit of reads (and at most as many repairs) between
/// two looks at the budget.
pub const PAGE: usize = 500;

/// Runs the job from its checkpoint until the table's end or the budget's.
pub async fn run(ctx: &mut JobContext<'_>) -> Result<(), DomainError> {
    let mut start = match ctx.cursor().map(decode) {
        None => None,
        Some(Ok(key)) => Some(key),
        Some(Err(reason)) => {
            let subject = format!("checkpoint of {}", ctx.job.name());
            ctx.found(finding(
                "unreadable_checkpoint",
                subject,
                format!("{reason}; starting from the beginning"),
            ));
            None
        }
    };
    let mut progressed = false;
    loop {
        if progressed && ctx.out_of_time() {
            return Ok(());
        }
        let page = ctx
            .store
            .scan_page(start.as_ref(), PAGE, Some(parse::READ))
            .await?;
        let mut used = ids::Used::default();
        let finished = check_page(ctx, &page.items, &mut used, &mut progressed).await?;
        check_counters(ctx, &used).await?;
        if !finished {
            return Ok(());
        }
        match page.last_evaluated {
            Some(key) => start = Some(key),
            None => return ctx.checkpoint(None).await,
        }
    }
}

/// How long problems must last to be dealt with: longer than any transaction takes to commit.
/// `BatchGetItem` reads items one by one, so a read can fall between the guard and the item of
/// a request's transaction (a rename, an enable): such a problem is gone when read again.
const SETTLE: Duration = Duration::from_millis(250);

/// Checks the items of one page in scan order; `false` when the budget ran out first (the
/// checkpoint names the last item dealt with).
async fn check_page(
    ctx: &mut JobContext<'_>,
    items: &[Attributes],
    used: &mut ids::Used,
    progressed: &mut bool,
) -> Result<bool, DomainError> {
    let mut roles: Vec<Role> = items.iter().map(parse::role).collect();
    let mut wanted = Vec::new();
    for role in &roles {
        check::wanted(role, &mut wanted);
    }
    let mut fetched = Fetched::new();
    read(ctx, wanted, &mut fetched).await?;
    let mut seen: Vec<Vec<Problem>> = roles
        .iter()
        .map(|role| check::problems(role, &fetched))
        .collect();
    if seen.iter().any(|problems| !problems.is_empty()) {
        tokio::time::sleep(SETTLE).await;
        let mut again = Vec::new();
        for ((item, role), problems) in items.iter().zip(&roles).zip(&seen) {
            if !problems.is_empty() {
                // The item itself too: the scan read it before the wait, and a request may have
                // changed it since (an instance disabled as another is enabled), which read
                // beside fresh guards would look like a conflict.
                again.push(key_of(item));
                check::wanted(role, &mut again);
            }
        }
        read(ctx, again, &mut fetched).await?;
        for ((item, role), problems) in items.iter().zip(&mut roles).zip(&mut seen) {
            if problems.is_empty() {
                continue;
            }
            match fetched.get(&key_of(item)) {
                Some(now) => *role = parse::role(now),
                // Gone meanwhile: the next run judges what is left.
                None => {
                    problems.clear();
                    continue;
                }
            }
            // A problem stands only if the item as it is now has it too (a changed item points
            // at other guards, not read again: its old problems are dropped, never its new ones
            // reported unread).
            let confirmed = check::problems(role, &fetched);
            problems.retain(|problem| confirmed.contains(problem));
        }
    }
    for ((item, role), seen) in items.iter().zip(roles).zip(seen) {
        if *progressed && ctx.out_of_time() {
            return Ok(false);
        }
        let key = key_of(item);
        if let Role::Malformed { guard, reason } = &role {
            let kind = if *guard {
                "malformed_guard"
            } else {
                "malformed_item"
            };
            ctx.found(finding(kind, key.to_string(), reason.clone()));
        }
        if !seen.is_empty() {
            // Judged once more on the table as the repairs before it in the page left it.
            for problem in check::problems(&role, &fetched) {
                if seen.contains(&problem) {
                    repair::handle(ctx, problem, &mut fetched).await?;
                }
            }
        }
        used.note(item);
        ctx.examined(1);
        ctx.checkpoint(Some(encode(&key))).await?;
        *progressed = true;
    }
    Ok(true)
}

/// Reads `keys` (consistently) into `fetched`, absent ones out of it.
async fn read(
    ctx: &JobContext<'_>,
    mut keys: Vec<Key>,
    fetched: &mut Fetched,
) -> Result<(), DomainError> {
    keys.sort();
    keys.dedup();
    let items = ctx.store.batch_get(&keys).await?;
    for (key, item) in keys.into_iter().zip(items) {
        match item {
            Some(item) => fetched.insert(key, item),
            None => fetched.remove(&key),
        };
    }
    Ok(())
}

/// Compares the largest ids the page holds with their counters, and raises those behind.
async fn check_counters(ctx: &mut JobContext<'_>, used: &ids::Used) -> Result<(), DomainError> {
    let mut kinds: Vec<(IdKind, i64)> = used.0.iter().map(|(k, id)| (*k, *id)).collect();
    if kinds.is_empty() {
        return Ok(());
    }
    kinds.sort_by_key(|(kind, _)| kind.as_str());
    let counter_keys: Vec<Key> = kinds
        .iter()
        .map(|(kind, _)| keys::id_counter(kind.as_str()))
        .collect();
    let counters = ctx.store.batch_get(&counter_keys).await?;
    for (((kind, largest), key), counter) in kinds.into_iter().zip(counter_keys).zip(counters) {
        let stored = match counter.as_ref().and_then(|c| c.get("last_id")) {
            None => 0,
            Some(AttributeValue::N(n)) if n.parse::<i64>().is_ok() => n.parse().unwrap_or(0),
            Some(other) => {
                let detail = format!("last_id is {other:?}, not a number; left for an operator");
                ctx.found(finding("malformed_item", key.to_string(), detail));
                continue;
            }
        };
        if stored < largest {
            repair::raise_counter(ctx, kind.as_str(), stored, largest).await?;
        }
    }
    Ok(())
}

/// The checkpoint of an item: its key as a JSON object.
fn encode(key: &Key) -> String {
    let key = BTreeMap::from([(keys::attr::PK, &key.pk), (keys::attr::SK, &key.sk)]);
    serde_json::to_string(&key).unwrap_or_default()
}

fn decode(cursor: &str) -> Result<Key, String> {
    let mut key: BTreeMap<String, String> = serde_json::from_str(cursor)
        .map_err(|error| format!("the checkpoint {cursor:?} is unreadable: {error}"))?;
    match (key.remove(keys::attr::PK), key.remove(keys::attr::SK)) {
        (Some(pk), Some(sk)) => Ok(Key::new(pk, sk)),
        _ => Err(format!("the checkpoint {cursor:?} is not a key")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_gives_back_the_key_it_was_made_from() {
        let key = Key::new("ORG#acme", "PROJECTNAME#\"Quoted\" #1");
        assert_eq!(decode(&encode(&key)), Ok(key));
        assert!(decode("not json").is_err());
        assert!(decode("{\"pk\":\"x\"}").is_err());
    }
}

//! `finish-deletions`: completes the organization and project deletions a request left half
//! done (cut off by its time budget, a lost connection). The pending-deletion markers are the
//! job's checkpoint: a deletion is finished when its marker is gone, and removing what is
//! already gone is a no-op, so a run cut short by its budget just continues next time. An
//! organization is removed under a claim on its marker ([`crate::deletion_claim`]): one that a
//! `DELETE` request (or `dispatch database init`) is still removing is left to it.

use std::time::Duration;

use super::JobContext;
use super::context::finding;
use crate::deletion_claim::Claim;
use crate::error::DomainError;
use crate::organization_delete::{self, Removal};
use crate::project_delete;
use dispatch_store::keys;

/// How long a claim outlives the run's budget.
const CLAIM_MARGIN: Duration = Duration::from_secs(30);

/// Runs the job: organizations first (removing one removes its projects), then projects.
pub async fn run(ctx: &mut JobContext<'_>) -> Result<(), DomainError> {
    for slug in organization_delete::pending_organizations(ctx.store).await? {
        ctx.examined(1);
        let subject = format!("organization {slug}");
        if ctx.dry_run {
            ctx.found(finding("pending_deletion", subject, "deletion pending"));
            continue;
        }
        // Claimed for the rest of the budget: a `DELETE` still at work, or a run of the CLI,
        // keeps its own claim, and this run leaves that organization to it.
        let hold = ctx
            .budget
            .remaining()
            .unwrap_or(Duration::from_secs(15 * 60))
            + CLAIM_MARGIN;
        let marker = keys::pending_organization_deletion(&slug);
        let Some(claim) = Claim::take(ctx.store, &marker, hold).await? else {
            continue;
        };
        match organization_delete::remove(ctx.store, &slug, &claim, &ctx.budget).await? {
            Removal::Done => ctx.found(repaired(subject, "interrupted deletion finished")),
            Removal::Yielded => {}
            Removal::CutShort => {
                claim.release(ctx.store).await?;
                ctx.continue_later();
                return Ok(());
            }
        }
    }
    for (slug, project_id) in organization_delete::pending_projects(ctx.store).await? {
        ctx.examined(1);
        let subject = format!("project {project_id} of organization {slug}");
        if ctx.dry_run {
            ctx.found(finding("pending_deletion", subject, "deletion pending"));
            continue;
        }
        match project_delete::remove_contents(ctx.store, &slug, project_id, &ctx.budget).await? {
            Removal::Done => ctx.found(repaired(subject, "interrupted deletion finished")),
            Removal::Yielded => {}
            Removal::CutShort => {
                ctx.continue_later();
                return Ok(());
            }
        }
    }
    Ok(())
}

fn repaired(subject: String, detail: &str) -> super::Finding {
    super::Finding {
        repaired: true,
        ..finding("pending_deletion", subject, detail)
    }
}

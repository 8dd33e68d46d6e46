//! The schema migrations, in order. Version 1 is the table as `dispatch database init` first
//! created it; each migration's id is the version it brings the table to. The machinery
//! (lock, history, resumable item passes, index steps) is `dispatch_store::migrate`; the
//! operator's commands are `dispatch database current | history | heads | upgrade | downgrade
//! | stamp | check`. How to write one, and the expand/contract rule for rolling deploys:
//! docs/migrations.md.
//!
//! | Id | Migration |
//! |---|---|
//! | 2 | [`m0002_project_deletion_markers`]: gives projects hidden by an interrupted deletion the marker that lets it be finished |
//! | 3 | [`m0003_page_summaries`]: stores what members pages and `/auth/me` show beside what they read |
//! | 4 | [`m0004_members_index`]: the members index, which reads a members page in one Query |

pub mod m0002_project_deletion_markers;
pub mod m0003_page_summaries;
pub mod m0004_members_index;
pub mod m0005_instances_index;

use std::ops::RangeInclusive;

use dispatch_store::migrate::Migration;

/// Every migration, in order.
pub fn all() -> Vec<Box<dyn Migration>> {
    vec![
        Box::new(m0002_project_deletion_markers::ProjectDeletionMarkers),
        Box::new(m0003_page_summaries::PageSummaries),
        Box::new(m0004_members_index::MembersIndex),
        Box::new(m0005_instances_index::InstancesIndex),
    ]
}

/// The version this build's migrations reach, which `database init` gives a new table.
pub const HEAD: u32 = 5;

/// The versions this build's functions work with. Start-up refuses a table outside it, naming
/// both; inside it, an operator can deploy the functions before or after `upgrade` (the
/// expand/contract rule, docs/migrations.md).
pub const SUPPORTED: RangeInclusive<u32> = 1..=HEAD;

/// A migration's checksum: SHA-256 of its source file, hex.
pub fn checksum(source: &str) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, source.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_run_from_2_without_gaps_and_the_head_is_the_last() {
        let ids: Vec<u32> = all().iter().map(|m| m.id()).collect();
        let expected: Vec<u32> = (2..2 + ids.len() as u32).collect();
        assert_eq!(ids, expected);
        assert_eq!(ids.last().copied().unwrap_or(1), HEAD);
        assert_eq!(*SUPPORTED.end(), HEAD);
    }

    #[test]
    fn every_migration_says_what_it_does_and_has_a_checksum() {
        for m in all() {
            assert!(!m.description().is_empty());
            assert_eq!(m.checksum().len(), 64);
        }
    }
}

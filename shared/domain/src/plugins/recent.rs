//! Catalogue rows a process read lately, so that an instances page need not read its plugins
//! again: a page reads its projects only, unless a plugin it shows was last read more than
//! [`RecentPlugins::MAX_AGE`] ago (or never).
//!
//! Why this is safe to keep: catalogue rows are global (the same for every organization) and
//! change only through `dispatch plugins install` and `uninstall`, operator commands run at
//! deploy time. A warm function shows such a change on instances pages at most
//! [`RecentPlugins::MAX_AGE`] late (docs/compatibility.md, "Plugin rows on instances pages").
//! Instances and projects, which members change, are always read.
//!
//! The plugins function fills it at start-up beside the secrets ([`RecentPlugins::preload`]),
//! so that its first request, usually the instances page, reads its projects only. A page
//! that starts while that read is under way waits for it (at most
//! [`RecentPlugins::PRELOAD_WAIT`], beside reading its projects) instead of reading the same
//! rows a second time; after that it reads what is still missing itself.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use crate::model::Plugin;
use dispatch_store::item::Attributes;
use dispatch_store::keys::{self, Key};
use dispatch_store::{Store, StoreError, from_attributes};

/// See the module documentation. Cheap to clone: clones share the rows.
#[derive(Debug, Clone)]
pub struct RecentPlugins {
    rows: Arc<Mutex<HashMap<i32, Recent>>>,
    max_age: Duration,
    /// `true` while a [`RecentPlugins::preload`] is under way.
    preloading: Arc<tokio::sync::watch::Sender<bool>>,
}

#[derive(Debug, Clone)]
struct Recent {
    plugin: Plugin,
    /// When the read that found it was sent (not when it answered): its age is never
    /// understated. It orders reads of one row.
    read_at: Instant,
    /// The same moment by the wall clock: a frozen Lambda environment's monotonic clock may
    /// not count the time it was frozen, so a row is too old when either clock says so.
    read_wall: SystemTime,
}

impl Recent {
    fn age(&self, now: Instant, now_wall: SystemTime) -> Duration {
        let wall = now_wall
            .duration_since(self.read_wall)
            .unwrap_or(Duration::ZERO);
        now.saturating_duration_since(self.read_at).max(wall)
    }
}

impl Default for RecentPlugins {
    fn default() -> Self {
        Self::new(Self::MAX_AGE)
    }
}

impl RecentPlugins {
    /// How late an instances page may show a catalogue change.
    pub const MAX_AGE: Duration = Duration::from_secs(15);

    /// The most rows kept: far above the shipped catalogue (28 plugins), a bound on memory
    /// whatever the table holds.
    pub const MOST_KEPT: usize = 500;

    /// Rows kept for at most `max_age`.
    pub fn new(max_age: Duration) -> Self {
        Self {
            rows: Arc::default(),
            max_age,
            preloading: Arc::new(tokio::sync::watch::Sender::new(false)),
        }
    }

    /// The longest a page waits for a preload under way before reading the rows itself: the
    /// preload started first and is usually done sooner; a stalled one must not hold a page.
    pub const PRELOAD_WAIT: Duration = Duration::from_millis(100);

    /// The rows of `ids` read within the last [`Self::MAX_AGE`] (as of `now`), and the ids
    /// that must be read.
    pub fn fresh(&self, ids: &[i32], now: Instant) -> (HashMap<i32, Plugin>, Vec<i32>) {
        let now_wall = SystemTime::now();
        let rows = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        for &id in ids {
            match rows.get(&id) {
                Some(recent) if recent.age(now, now_wall) <= self.max_age => {
                    found.insert(id, recent.plugin.clone());
                }
                _ => missing.push(id),
            }
        }
        (found, missing)
    }

    /// Records what a read sent at `read_at` found for `asked`: the rows found are kept, the
    /// ids it did not find (uninstalled) are forgotten. A row already read later is left as
    /// it is, so a slow read never replaces a newer one.
    pub fn record(&self, asked: &[i32], found: &[Plugin], read_at: Instant) {
        let read_wall = SystemTime::now()
            .checked_sub(read_at.elapsed())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let mut rows = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
        if rows.len() >= Self::MOST_KEPT {
            // Full: what is too old to be served goes first.
            let (now, now_wall) = (Instant::now(), SystemTime::now());
            rows.retain(|_, recent| recent.age(now, now_wall) <= self.max_age);
        }
        for &id in asked {
            if !found.iter().any(|p| p.id == id)
                && rows.get(&id).is_some_and(|r| r.read_at <= read_at)
            {
                rows.remove(&id);
            }
        }
        for plugin in found {
            let newer = rows.get(&plugin.id).is_some_and(|r| r.read_at > read_at);
            if !newer && (rows.len() < Self::MOST_KEPT || rows.contains_key(&plugin.id)) {
                rows.insert(
                    plugin.id,
                    Recent {
                        plugin: plugin.clone(),
                        read_at,
                        read_wall,
                    },
                );
            }
        }
    }

    /// Reads every installed row in one Query ([`super::catalogue::every_row`]) and keeps
    /// them. It counts as under way from this call (not from its first poll), so a
    /// page that starts meanwhile waits for it rather than reading the same rows. Start-up
    /// runs it on its own task and never waits for it: a failure only means the first page
    /// reads its plugins itself.
    pub fn preload(&self, store: Store) -> impl Future<Output = Result<usize, StoreError>> + use<> {
        self.preloading.send_replace(true);
        // Settled however this ends: dropped mid-way, or before it is first polled, included.
        let settled = Settled(self.preloading.clone());
        let recent = self.clone();
        async move {
            let _settled = settled;
            let read_at = Instant::now();
            let installed = super::catalogue::every_row(&store).await?;
            recent.record(&[], &installed, read_at);
            Ok(installed.len())
        }
    }

    /// The rows of `ids` and the items of `also` (in their order): rows read lately are not
    /// read again, the others come in the same batch as `also`. While a preload is under way,
    /// `also` is read beside waiting for it (at most [`Self::PRELOAD_WAIT`]), and then only
    /// what it did not bring is read.
    pub async fn read_with(
        &self,
        store: &Store,
        ids: &[i32],
        also: &[Key],
    ) -> Result<(HashMap<i32, Plugin>, Vec<Option<Attributes>>), StoreError> {
        let read_at = Instant::now();
        let (mut plugins, unread) = self.fresh(ids, read_at);
        let preloading = *self.preloading.borrow();
        if unread.is_empty() || !preloading {
            let mut wanted: Vec<Key> = unread.iter().map(|id| keys::plugin(*id)).collect();
            wanted.extend_from_slice(also);
            let mut found = store.batch_get(&wanted).await?;
            let items = found.split_off(unread.len());
            plugins.extend(self.found(&unread, found, read_at)?);
            return Ok((plugins, items));
        }
        let mut preloaded = self.preloading.subscribe();
        let settled = async move {
            // Its `Ref` guard is not `Send`: dropped here, not held across the join.
            let waited = tokio::time::timeout(Self::PRELOAD_WAIT, preloaded.wait_for(|on| !*on));
            drop(waited.await);
        };
        let (items, ()) = tokio::join!(store.batch_get(also), settled);
        let items = items?;
        let (brought, unread) = self.fresh(&unread, read_at);
        plugins.extend(brought);
        let read_at = Instant::now();
        let wanted: Vec<Key> = unread.iter().map(|id| keys::plugin(*id)).collect();
        let found = store.batch_get(&wanted).await?;
        plugins.extend(self.found(&unread, found, read_at)?);
        Ok((plugins, items))
    }

    /// The rows a read of `asked` (sent at `read_at`) found, recorded.
    fn found(
        &self,
        asked: &[i32],
        found: Vec<Option<Attributes>>,
        read_at: Instant,
    ) -> Result<HashMap<i32, Plugin>, StoreError> {
        let rows: Vec<Plugin> = found
            .into_iter()
            .flatten()
            .map(from_attributes)
            .collect::<Result<_, _>>()?;
        self.record(asked, &rows, read_at);
        Ok(rows.into_iter().map(|p| (p.id, p)).collect())
    }
}

/// Marks a preload settled when dropped.
struct Settled(Arc<tokio::sync::watch::Sender<bool>>);

impl Drop for Settled {
    fn drop(&mut self) {
        self.0.send_replace(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin(id: i32, title: &str) -> Plugin {
        Plugin {
            id,
            title: title.into(),
            slug: format!("plugin-{id}"),
            description: None,
            plugin_version: "0.1.0".into(),
            author: None,
            author_url: None,
            plugin_type: "conference".into(),
            multiple: false,
        }
    }

    #[test]
    fn a_row_is_served_until_it_is_older_than_the_bound_then_read_again() {
        let recent = RecentPlugins::new(Duration::from_secs(15));
        let read_at = Instant::now();
        recent.record(&[1, 2], &[plugin(1, "One")], read_at);

        let (found, missing) = recent.fresh(&[1, 2, 3], read_at + Duration::from_secs(15));
        assert_eq!(found[&1].title, "One");
        assert_eq!(missing, vec![2, 3], "never found, never read");

        let (found, missing) = recent.fresh(&[1], read_at + Duration::from_millis(15_001));
        assert!(found.is_empty());
        assert_eq!(missing, vec![1], "too old: read again");
    }

    #[test]
    fn a_row_a_later_read_did_not_find_is_forgotten_at_once() {
        let recent = RecentPlugins::default();
        let first = Instant::now();
        recent.record(&[], &[plugin(1, "One"), plugin(2, "Two")], first);
        recent.record(&[1, 2], &[plugin(2, "Two")], first + Duration::from_secs(1));
        let (found, missing) = recent.fresh(&[1, 2], first + Duration::from_secs(2));
        assert_eq!(missing, vec![1], "uninstalled");
        assert_eq!(found.len(), 1);
    }

    #[test]
    fn a_slow_read_never_replaces_a_newer_one() {
        let recent = RecentPlugins::default();
        let slow = Instant::now();
        let newer = slow + Duration::from_millis(5);
        recent.record(&[1], &[plugin(1, "Renamed")], newer);
        // The read sent first answers last, with the row as it was, or without it.
        recent.record(&[1], &[plugin(1, "Old")], slow);
        recent.record(&[1], &[], slow);
        let (found, _) = recent.fresh(&[1], newer);
        assert_eq!(found[&1].title, "Renamed");
    }

    #[test]
    fn a_preload_dropped_before_it_ran_leaves_no_page_waiting() {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
            .build();
        let store = Store::new(aws_sdk_dynamodb::Client::from_conf(config), "never-read");
        let recent = RecentPlugins::default();
        let reading = recent.preload(store);
        assert!(*recent.preloading.borrow(), "under way from the call");
        drop(reading);
        assert!(!*recent.preloading.borrow(), "settled, though never polled");
    }

    #[test]
    fn a_full_cache_makes_room_by_dropping_what_is_too_old() {
        let recent = RecentPlugins::new(Duration::from_secs(1));
        let many: Vec<Plugin> = (0..RecentPlugins::MOST_KEPT as i32)
            .map(|id| plugin(id, "Old"))
            .collect();
        recent.record(&[], &many, Instant::now() - Duration::from_secs(2));
        let now = Instant::now();
        recent.record(&[], &[plugin(9_999, "New")], now);
        let (found, _) = recent.fresh(&[9_999], now);
        assert_eq!(found.len(), 1, "kept, in the room the old rows left");
    }

    #[test]
    fn memory_is_bounded_whatever_the_table_holds() {
        let recent = RecentPlugins::default();
        let many: Vec<Plugin> = (0..2_000).map(|id| plugin(id, "Many")).collect();
        let now = Instant::now();
        recent.record(&[], &many, now);
        let ids: Vec<i32> = (0..2_000).collect();
        let (found, _) = recent.fresh(&ids, now);
        assert_eq!(found.len(), RecentPlugins::MOST_KEPT);
    }
}

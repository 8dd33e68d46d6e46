//! How a list request walks a collection's index: unfiltered pages that read only keys until
//! the page, filtered pages that examine items in batches (bounded by [`MAX_EVALUATED`]), and
//! whole small collections for in-memory sorts. Every request counts what it costs.

use std::future::Future;

use serde_json::Value;

use super::cursor::{self, Position};
use super::{
    BATCH, ListParams, ListSpec, ListStats, MAX_EVALUATED, Predicate, Rows, cursor_mismatch,
    index_key, position_of, start_key,
};
use crate::error::DomainError;
use crate::secrets::KeyRing;
use dispatch_store::item::Attributes;
use dispatch_store::schema::IndexSpec;
use dispatch_store::{Store, StoreError};

pub(super) type PageParts = (Vec<Value>, i64, bool, Option<String>);

/// One request's walk over a collection, counting what it costs.
pub(super) struct Walk<'a, L> {
    pub(super) store: &'a Store,
    pub(super) spec: &'a ListSpec,
    pub(super) load: &'a L,
    pub(super) stats: ListStats,
}

impl<L, Fut> Walk<'_, L>
where
    L: Fn(Rows) -> Fut,
    Fut: Future<Output = Result<Vec<Value>, DomainError>>,
{
    async fn keys(
        &mut self,
        index: IndexSpec,
        start: Option<Attributes>,
        limit: usize,
        ascending: bool,
    ) -> Result<dispatch_store::query::KeyPage, StoreError> {
        let page = self
            .store
            .query_keys(index, &self.spec.collection, start, limit, ascending)
            .await?;
        self.stats.round_trips += 1;
        self.stats.keys_scanned += page.scanned;
        self.stats.query_capacity += page.capacity;
        Ok(page)
    }

    /// The views of what a query of `index` found: the items it read when the index projects
    /// them, otherwise the items at its keys (read by the loader, one `BatchGetItem` per
    /// [`BATCH`]).
    async fn load_items(
        &mut self,
        index: IndexSpec,
        rows: Vec<Attributes>,
    ) -> Result<Vec<Value>, DomainError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let rows = if index.projects_all {
            Rows::Items(rows)
        } else {
            self.stats.round_trips += rows.len().div_ceil(BATCH);
            Rows::Keys(rows.iter().map(dispatch_store::item::key_of).collect())
        };
        let items = (self.load)(rows).await?;
        self.stats.items_loaded += items.len();
        Ok(items)
    }

    /// No filter, index order: skip keys (page mode) or start after the cursor, then read
    /// `n + 1` keys and load `n` items.
    pub(super) async fn unfiltered(
        &mut self,
        index: IndexSpec,
        ascending: bool,
        params: &ListParams,
        position: Option<&Position>,
        keys: &KeyRing,
        fingerprint: &str,
    ) -> Result<PageParts, DomainError> {
        let n = params.items_per_page;
        let total = self.spec.total;
        let mut start = match position {
            Some(p @ Position::After { .. }) => start_key(index, &self.spec.collection, p),
            Some(Position::Offset(_)) => return Err(cursor_mismatch()),
            None => None,
        };
        if position.is_none() && params.page > 1 {
            let mut to_skip = (params.page - 1) * n;
            while to_skip > 0 {
                let skipped = self
                    .keys(index, start.clone(), to_skip.min(1_000), ascending)
                    .await?;
                to_skip -= skipped.keys.len();
                start = skipped.keys.last().map(|last| index_key(index, last));
                if skipped.keys.is_empty() || (skipped.last_evaluated.is_none() && to_skip > 0) {
                    return Ok((Vec::new(), total, true, None));
                }
            }
        }
        if n == 0 {
            return Ok((Vec::new(), total, true, None));
        }
        let mut found: Vec<Attributes> = Vec::with_capacity(n + 1);
        loop {
            let page = self
                .keys(index, start.clone(), n + 1 - found.len(), ascending)
                .await?;
            found.extend(page.keys);
            match page.last_evaluated {
                Some(last) if found.len() < n + 1 => start = Some(last),
                _ => break,
            }
        }
        let more = found.len() > n;
        found.truncate(n);
        let next = if more {
            found.last().map(|last| {
                cursor::encode(
                    keys,
                    &self.spec.collection,
                    fingerprint,
                    position_of(index, last),
                )
            })
        } else {
            None
        };
        let items = self.load_items(index, found).await?;
        Ok((items, total, true, next))
    }

    /// A filter or a search, index order: examine items in batches, at most `MAX_EVALUATED`.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn filtered(
        &mut self,
        index: IndexSpec,
        ascending: bool,
        predicate: &Predicate,
        params: &ListParams,
        position: Option<&Position>,
        keys: &KeyRing,
        fingerprint: &str,
    ) -> Result<PageParts, DomainError> {
        let n = params.items_per_page;
        let (mut start, mut to_skip) = match position {
            Some(p @ Position::After { .. }) => (start_key(index, &self.spec.collection, p), 0),
            Some(Position::Offset(_)) => return Err(cursor_mismatch()),
            None => (None, (params.page - 1) * n),
        };
        let counting_from_start = position.is_none();
        let mut items = Vec::new();
        let mut last_included: Option<Attributes> = None;
        let mut more = false;
        let mut matched = 0i64;
        let mut evaluated = 0usize;
        let mut exhausted = false;
        while evaluated < MAX_EVALUATED {
            let page = self
                .keys(
                    index,
                    start.clone(),
                    BATCH.min(MAX_EVALUATED - evaluated),
                    ascending,
                )
                .await?;
            let positions: Vec<Attributes> =
                page.keys.iter().map(|row| index_key(index, row)).collect();
            evaluated += page.keys.len();
            let loaded = self.load_items(index, page.keys).await?;
            for (key, item) in positions.iter().zip(loaded) {
                if !predicate.matches(self.spec, &item) {
                    continue;
                }
                matched += 1;
                if to_skip > 0 {
                    to_skip -= 1;
                } else if items.len() < n {
                    items.push(item);
                    last_included = Some(key.clone());
                } else {
                    more = true;
                    if !counting_from_start {
                        break;
                    }
                }
            }
            if more && !counting_from_start {
                break;
            }
            match page.last_evaluated {
                Some(last) => start = Some(last),
                None => {
                    exhausted = true;
                    break;
                }
            }
        }
        let next = if more {
            last_included.map(|last| {
                cursor::encode(
                    keys,
                    &self.spec.collection,
                    fingerprint,
                    position_of(index, &last),
                )
            })
        } else {
            None
        };
        let (total, exact) = if counting_from_start {
            (matched, exhausted)
        } else {
            self.count(index, predicate).await?
        };
        Ok((items, total, exact, next))
    }

    /// Counts matching items from the start, examining at most `MAX_EVALUATED`.
    async fn count(
        &mut self,
        index: IndexSpec,
        predicate: &Predicate,
    ) -> Result<(i64, bool), DomainError> {
        let mut start = None;
        let mut matched = 0;
        let mut evaluated = 0;
        while evaluated < MAX_EVALUATED {
            let page = self
                .keys(index, start, BATCH.min(MAX_EVALUATED - evaluated), true)
                .await?;
            evaluated += page.keys.len();
            let loaded = self.load_items(index, page.keys).await?;
            matched += loaded
                .iter()
                .filter(|item| predicate.matches(self.spec, item))
                .count() as i64;
            match page.last_evaluated {
                Some(last) => start = Some(last),
                None => return Ok((matched, true)),
            }
        }
        Ok((matched, false))
    }

    /// Every matching item (collections of at most `MAX_EVALUATED` items), for in-memory sorts.
    pub(super) async fn everything(
        &mut self,
        predicate: &Predicate,
    ) -> Result<Vec<Value>, DomainError> {
        let index = self.spec.sorts[0].index;
        let mut start = None;
        let mut all = Vec::new();
        loop {
            let page = self.keys(index, start, BATCH, true).await?;
            let loaded = self.load_items(index, page.keys).await?;
            all.extend(
                loaded
                    .into_iter()
                    .filter(|item| predicate.matches(self.spec, item)),
            );
            match page.last_evaluated {
                Some(last) => start = Some(last),
                None => return Ok(all),
            }
        }
    }
}

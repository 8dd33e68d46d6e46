//! The list layer every list endpoint uses: Dispatch's parameters and envelope
//! (docs/contract.md §6) on DynamoDB, with work proportional to the page.
//!
//! - **Order.** Each collection has up to three sort orders backed by the keys-only list indexes
//!   (users by email, organizations and projects by name and display name, plugins by slug, title
//!   and type, instances by plugin slug). Any other known field sorts in memory when the
//!   collection has at most [`MAX_EVALUATED`] items, and is a 422 otherwise.
//! - **Pages.** `cursor` (the envelope's `next`) continues after the last key of the previous page:
//!   a page reads at most `itemsPerPage + 1` keys and loads `itemsPerPage` items. `page=N` without a
//!   cursor first skips `(N-1) × itemsPerPage` keys of the keys-only index, never whole items.
//! - **Totals.** An unfiltered `total` is the collection's counter (kept exact by the writes'
//!   transactions), so it costs nothing extra. A filtered or searched list examines at most
//!   [`MAX_EVALUATED`] items; when it stops early, `total` counts what it saw and
//!   `total_exact` is `false`.
//! - **Cursors** are HMAC-signed with the cursor key, bound to the collection and the query,
//!   and expire ([`cursor`]); a forged, foreign or expired cursor is a 422.
//!
//! Cost of a request (round trips; DynamoDB items read): cursor page, unfiltered — 1 Query
//! (≤ n+1 keys) + 1 BatchGetItem per 100 items (n items); `page=N` — the same plus
//! ⌈(N−1)·n / 1000⌉ keys-only Queries. On an index that projects every attribute (the members
//! index), the Query reads the items themselves and no BatchGetItem follows ([`list_rows`]).

pub mod cursor;
pub mod filter;
mod order;
pub mod params;
pub mod search;
mod walk;

use std::future::Future;

use serde_json::Value;

pub use filter::{FieldType, ModelFields, Schema};
pub use params::{ListParams, MAX_ITEMS_PER_PAGE};

use crate::error::DomainError;
use crate::secrets::KeyRing;
use cursor::Position;
use dispatch_store::Store;
use dispatch_store::item::{Attributes, string_attribute};
use dispatch_store::keys::{Key, attr};
use dispatch_store::schema::IndexSpec;
use filter::Filter;
use order::{Order, compare_values, order};
use search::Search;
use walk::Walk;

/// Most items a filtered or searched list, or an in-memory sort, examines per request.
pub const MAX_EVALUATED: usize = 1_000;
/// Keys read per Query while scanning, and items per BatchGetItem.
const BATCH: usize = 100;

/// An index-backed sort order of a collection.
#[derive(Debug, Clone, Copy)]
pub struct Sort {
    pub model: &'static str,
    pub field: &'static str,
    pub index: IndexSpec,
}

/// What a list endpoint lists.
#[derive(Debug, Clone)]
pub struct ListSpec {
    /// The collection's `list_pk`.
    pub collection: String,
    /// Filterable models and fields; the first model is the list's own.
    pub schema: &'static Schema,
    /// Index-backed orders; the first is the default.
    pub sorts: &'static [Sort],
    /// String fields `q` searches (`plugin.title` reaches into a joined object).
    pub search_fields: &'static [&'static str],
    /// The model's `name` field, which `q` also matches by substring (Dispatch's ILIKE).
    pub name_field: Option<&'static str>,
    /// The collection's exact size, from its counter.
    pub total: i64,
}

/// What a list request cost (for tests and BENCHMARKS.md).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListStats {
    pub round_trips: usize,
    pub keys_scanned: i64,
    pub items_loaded: usize,
    pub query_capacity: f64,
}

/// One page, ready to become Dispatch's envelope.
#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<Value>,
    pub items_per_page: i64,
    pub page: usize,
    pub total: i64,
    pub total_exact: bool,
    pub next: Option<String>,
    pub stats: ListStats,
}

impl Page {
    /// This page with `total` as its total, for a page read before its total was known
    /// ([`total_from_spec`]); the echoed `itemsPerPage` depends on it.
    pub fn with_total(mut self, total: i64, params: &ListParams) -> Page {
        self.total = total;
        self.items_per_page = echoed_items_per_page(params.requested_items_per_page, total);
        self
    }

    /// `{items, itemsPerPage, page, total, next, total_exact}`. The items are moved into the
    /// envelope: `json!` would copy them (it serialises every expression it is given).
    pub fn into_json(self) -> Value {
        let mut envelope = serde_json::Map::new();
        envelope.insert("items".into(), Value::Array(self.items));
        envelope.insert("itemsPerPage".into(), self.items_per_page.into());
        envelope.insert("page".into(), self.page.into());
        envelope.insert("total".into(), self.total.into());
        envelope.insert("next".into(), self.next.into());
        envelope.insert("total_exact".into(), self.total_exact.into());
        Value::Object(envelope)
    }
}

/// Dispatch's echo of `itemsPerPage` (Q-L1): the total when more was asked than there is.
fn echoed_items_per_page(requested: i64, total: i64) -> i64 {
    if requested == -1 {
        total.max(0)
    } else if total > 0 && requested > total {
        total
    } else {
        requested
    }
}

fn position_of(index: IndexSpec, attributes: &Attributes) -> Position {
    Position::After {
        sort: string_attribute(attributes, index.sort_key).unwrap_or_default(),
        pk: string_attribute(attributes, attr::PK).unwrap_or_default(),
        sk: string_attribute(attributes, attr::SK).unwrap_or_default(),
    }
}

/// The attributes of an index row that `ExclusiveStartKey` takes: the table's and the
/// index's keys (an index projecting every attribute returns more).
fn index_key(index: IndexSpec, row: &Attributes) -> Attributes {
    [attr::PK, attr::SK, index.partition_key, index.sort_key]
        .into_iter()
        .filter_map(|name| Some((name.to_owned(), row.get(name)?.clone())))
        .collect()
}

fn start_key(index: IndexSpec, collection: &str, position: &Position) -> Option<Attributes> {
    let Position::After { sort, pk, sk } = position else {
        return None;
    };
    let s = |v: &str| aws_sdk_dynamodb::types::AttributeValue::S(v.to_owned());
    Some(Attributes::from([
        (index.partition_key.to_owned(), s(collection)),
        (index.sort_key.to_owned(), s(sort)),
        (attr::PK.to_owned(), s(pk)),
        (attr::SK.to_owned(), s(sk)),
    ]))
}

/// The predicate of a request's `filter` and `q`, if any.
struct Predicate {
    filter: Option<Filter>,
    search: Option<Search>,
}

impl Predicate {
    fn matches(&self, spec: &ListSpec, item: &Value) -> bool {
        self.filter.as_ref().is_none_or(|f| f.matches(item))
            && self.search.as_ref().is_none_or(|s| {
                let texts: Vec<&str> = spec
                    .search_fields
                    .iter()
                    .filter_map(|f| match f.split_once('.') {
                        Some((object, field)) => item[object][field].as_str(),
                        None => item[*f].as_str(),
                    })
                    .collect();
                s.matches(&texts, spec.name_field.and_then(|f| item[f].as_str()))
            })
    }
}

/// What one query of a sort's index found, for the loader to turn into views.
#[derive(Debug)]
pub enum Rows {
    /// The keys of a keys-only index, in order: the loader reads the items.
    Keys(Vec<Key>),
    /// The items themselves, in order, from an index that projects every attribute.
    Items(Vec<Attributes>),
}

impl Rows {
    /// The items' keys, whatever was found.
    pub fn into_keys(self) -> Vec<Key> {
        match self {
            Rows::Keys(keys) => keys,
            Rows::Items(items) => items.iter().map(dispatch_store::item::key_of).collect(),
        }
    }
}

/// Serves one list request. `load` turns keys into the items' JSON views, in order (items
/// deleted meanwhile may be missing).
pub async fn list<L, Fut>(
    store: &Store,
    keys: &KeyRing,
    spec: &ListSpec,
    params: &ListParams,
    load: L,
) -> Result<Page, DomainError>
where
    L: Fn(Vec<Key>) -> Fut,
    Fut: Future<Output = Result<Vec<Value>, DomainError>>,
{
    list_rows(store, keys, spec, params, |rows: Rows| {
        load(rows.into_keys())
    })
    .await
}

/// Whether the page `params` asks for takes its `total` from `spec.total` alone: no filter and
/// no search, in an index's order. Such a page can be read before the total is known (with any
/// `spec.total`, then given the real one), which the plugin instances page does beside the
/// permission read (`dispatch_shared::http::Prefetch`).
pub fn total_from_spec(spec: &ListSpec, params: &ListParams) -> bool {
    params.filter.is_none()
        && params.q.is_none()
        && matches!(order(spec, params), Ok(Order::Index { .. }))
}

/// [`list`] for a collection with a sort on an index that projects every attribute: `load`
/// gets the items the index query read ([`Rows::Items`]) for such a sort, and keys for the
/// others.
pub async fn list_rows<L, Fut>(
    store: &Store,
    keys: &KeyRing,
    spec: &ListSpec,
    params: &ListParams,
    load: L,
) -> Result<Page, DomainError>
where
    L: Fn(Rows) -> Fut,
    Fut: Future<Output = Result<Vec<Value>, DomainError>>,
{
    let order = order(spec, params)?;
    let predicate = Predicate {
        filter: params
            .filter
            .as_ref()
            .map(|f| filter::parse(f, spec.schema))
            .transpose()?,
        search: params.q.as_deref().map(Search::parse),
    };
    let fingerprint = format!(
        "{:?}|{:?}|{:?}",
        params.sort,
        params.filter.as_ref().map(Value::to_string),
        params.q
    );
    let position = match params.cursor.as_deref() {
        Some(c) => Some(cursor::decode(keys, &spec.collection, &fingerprint, c).await?),
        None => None,
    };
    let mut walk = Walk {
        store,
        spec,
        load: &load,
        stats: ListStats::default(),
    };
    let filtered = predicate.filter.is_some() || predicate.search.is_some();
    let n = params.items_per_page;
    let (items, total, total_exact, next) = match order {
        Order::Index { index, ascending } if !filtered => {
            walk.unfiltered(
                index,
                ascending,
                params,
                position.as_ref(),
                keys,
                &fingerprint,
            )
            .await?
        }
        Order::Index { index, ascending } => {
            walk.filtered(
                index,
                ascending,
                &predicate,
                params,
                position.as_ref(),
                keys,
                &fingerprint,
            )
            .await?
        }
        Order::InMemory {
            path,
            field,
            descending,
        } => {
            let mut all = walk.everything(&predicate).await?;
            all.sort_by(|a, b| {
                let value = |item: &Value| match path {
                    Some(p) => item[p][field.as_str()].clone(),
                    None => item[field.as_str()].clone(),
                };
                let ordering = compare_values(&value(a), &value(b));
                if descending {
                    ordering.reverse()
                } else {
                    ordering
                }
            });
            let offset = match &position {
                Some(Position::Offset(offset)) => *offset,
                Some(_) => return Err(cursor_mismatch()),
                None => (params.page - 1) * n,
            };
            let total = all.len() as i64;
            let page: Vec<Value> = all.into_iter().skip(offset).take(n).collect();
            let more = offset + page.len() < total as usize && n > 0;
            let next = more.then(|| {
                cursor::encode(
                    keys,
                    &spec.collection,
                    &fingerprint,
                    Position::Offset(offset + n),
                )
            });
            (page, total, true, next)
        }
    };
    Ok(Page {
        items,
        items_per_page: echoed_items_per_page(params.requested_items_per_page, total),
        page: params.page,
        total,
        total_exact,
        next,
        stats: walk.stats,
    })
}

fn cursor_mismatch() -> DomainError {
    DomainError::invalid(
        "Invalid or expired cursor. Start again from the first page.",
        crate::query!["cursor"],
        "value_error",
    )
}

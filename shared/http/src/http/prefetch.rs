//! A route's first read, started beside the permission read.
//!
//! A page under `/{organization}` costs the permission read (the user, the organization and the
//! membership: one `BatchGetItem`), then the handler's own reads, one after the other. Where the
//! handler's first read depends only on the path and the query string, not on who calls, it
//! can run at the same time as the permission read: one round trip less on the request's
//! critical path (the plugin instances page, BENCHMARKS.md "Cold start").
//!
//! What keeps it safe:
//! - it starts only once the caller's credentials verify (no token, a bad signature or an
//!   expired token cost no read), and only on routes that admit members of the organization
//!   alone (`app` refuses a prefetch on any other permission);
//! - it runs as its own task; the permission layer does not wait for it. A caller who is
//!   refused gets the refusal as fast as before and the task is aborted, so neither the
//!   answer nor its timing tells anything about the organization's data;
//! - what it read reaches the handler only when the caller is let through, labelled with the
//!   organization it was read for;
//! - it only reads, and nothing that depends on the caller (it is given the organization slug
//!   and the query string, never the caller); the one thing it leaves behind is the global
//!   catalogue rows it read, in the process's `RecentPlugins` (the same for every caller);
//! - each route bounds what it reads ahead (the instances page: a first page of at most 100
//!   items, no cursor), so a refused caller costs at most one such page, usually less as the
//!   task is aborted at the refusal.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use tokio::task::JoinHandle;

use crate::state::AppState;

/// What a prefetch is given: the organization of the path (validated) and the raw query.
#[derive(Debug, Clone)]
pub struct PrefetchRequest {
    pub slug: String,
    pub query: Option<String>,
}

/// The prefetch's result, typed by the route that registered it; `None` when it has nothing
/// for the handler (the handler then reads on its own).
pub type PrefetchOutput = Option<Box<dyn Any + Send>>;

/// A started prefetch.
pub type PrefetchFuture = Pin<Box<dyn Future<Output = PrefetchOutput> + Send>>;

/// A route's prefetch: `None` when this request is not one it reads ahead for.
pub type Prefetch = fn(&AppState, &PrefetchRequest) -> Option<PrefetchFuture>;

/// A prefetch running as its own task, aborted when dropped unawaited (a refused caller, an
/// error, the request's budget running out).
pub(crate) struct Ahead(Option<JoinHandle<PrefetchOutput>>);

impl Ahead {
    /// Starts `prefetch` for the request, if it has one and the request qualifies.
    pub(crate) fn start(
        prefetch: Option<Prefetch>,
        state: &AppState,
        slug: Option<&str>,
        query: Option<&str>,
    ) -> Self {
        let request = |slug: &str| PrefetchRequest {
            slug: slug.to_owned(),
            query: query.map(str::to_owned),
        };
        let started = prefetch
            .zip(slug)
            .and_then(|(prefetch, slug)| prefetch(state, &request(slug)))
            .map(tokio::spawn);
        Self(started)
    }

    /// What the prefetch read, for a caller who was let through (a panicked task reads as
    /// nothing).
    pub(crate) async fn finish(mut self) -> Prefetched {
        let output = match self.0.take() {
            Some(task) => task.await.ok().flatten(),
            None => None,
        };
        Prefetched(Arc::new(Mutex::new(output)))
    }
}

impl Drop for Ahead {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

/// What the prefetch of the request read, for its handler to take (empty when the route has
/// no prefetch, the request did not qualify, or the prefetch had nothing).
#[derive(Clone, Default)]
pub struct Prefetched(Arc<Mutex<PrefetchOutput>>);

impl Prefetched {
    /// The prefetched value, if there is one of type `T`; a second call gets nothing.
    pub fn take<T: 'static>(&self) -> Option<T> {
        let mut slot = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match slot.take()?.downcast::<T>() {
            Ok(value) => Some(*value),
            Err(other) => {
                // A handler asking for another type than its prefetch gives would read twice
                // on every request, silently: say so.
                tracing::warn!("a prefetched value was asked for as another type");
                *slot = Some(other);
                None
            }
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Prefetched {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Prefetched>()
            .cloned()
            .unwrap_or_default())
    }
}

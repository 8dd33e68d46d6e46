//! A route's first read, started beside the permission read.
//!
//! A page under `/{organization}` costs the permission read (the user, the organization and the
//! membership: one `BatchGetItem`), then the handler's own reads, one after the other. Where the
//! handler's first read depends only on the path and the query string, not on who calls, it
//! can run at the same time as the permission read: one round trip less on the request's
//! critical path (the plugin instances page, BENCHMARKS.md "Cold start").
//!
//! What keeps it safe:
//! - it starts only once the caller's credentials are verified, so a request without a valid
//!   identity costs no read at all;
//! - what it read reaches the handler only when the permission layer lets the caller through;
//!   otherwise it is dropped unseen;
//! - it only reads, and reads nothing that depends on the caller (a prefetch is given the
//!   organization slug and the query string, never the caller);
//! - a prefetch that fails is forgotten: the handler then reads on its own, so errors come in
//!   the usual order (401, 403 and 404 before a 422 about the query string).
//!
//! Its cost: a caller with a valid token who is refused (another organization's member, say)
//! still causes one prefetch, the same reads one of that organization's pages costs.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::state::AppState;

/// What a prefetch is given: the organization of the path (validated) and the raw query.
#[derive(Debug, Clone)]
pub struct PrefetchRequest {
    pub slug: String,
    pub query: Option<String>,
}

/// The prefetch's result, typed by the route that registered it; `None` if it failed.
pub type PrefetchOutput = Option<Box<dyn Any + Send>>;

/// A started prefetch.
pub type PrefetchFuture = Pin<Box<dyn Future<Output = PrefetchOutput> + Send>>;

/// A route's prefetch: `None` when this request is not one it can read ahead for.
pub type Prefetch = fn(&AppState, &PrefetchRequest) -> Option<PrefetchFuture>;

/// What the prefetch of the request read, for its handler to take (empty when the route has
/// no prefetch, the request did not qualify, or the prefetch failed).
#[derive(Clone, Default)]
pub struct Prefetched(Arc<Mutex<PrefetchOutput>>);

impl Prefetched {
    pub(crate) fn new(output: PrefetchOutput) -> Self {
        Self(Arc::new(Mutex::new(output)))
    }

    /// The prefetched value, if there is one of type `T`; a second call gets nothing.
    pub fn take<T: 'static>(&self) -> Option<T> {
        let mut slot = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match slot.take()?.downcast::<T>() {
            Ok(value) => Some(*value),
            Err(other) => {
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

//! HTTP glue shared by the five functions and the dev server: building routers from the route
//! table, the extractors (JSON body, path id, source IP), and the middleware every response goes through.

mod budget;
mod compression;
mod json;
mod middleware;
mod observe;
mod path_id;
mod prefetch;
mod source_ip;

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::IntoResponse;
use axum::routing::{MethodFilter, MethodRouter, on};
use tracing::Instrument;

pub use budget::DEADLINE_MARGIN;
pub use compression::MIN_COMPRESSED_BYTES;
pub use json::{Json, parse_json_body};
pub use path_id::{PathId, ensure_body_id};
pub(crate) use prefetch::Ahead;
pub use prefetch::{Prefetch, PrefetchFuture, PrefetchOutput, PrefetchRequest, Prefetched};
pub use source_ip::SourceIp;

use crate::error::ApiError;
use crate::routes::{Function, Method, ROUTES, Route};
use crate::state::AppState;

/// The handlers one function implements, before they are checked against the route table.
pub struct RouteHandlers {
    function: Function,
    handlers: Vec<Registered>,
}

/// One handler as registered, with its prefetch if it has one.
struct Registered {
    method: Method,
    path: &'static str,
    method_router: MethodRouter<AppState>,
    prefetch: Option<Prefetch>,
}

/// A router that does not agree with the route table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteTableError {
    #[error("{function} registers {method} {path}, which the route table does not give it")]
    Unlisted {
        function: Function,
        method: &'static str,
        path: &'static str,
    },
    #[error(
        "{method} {path} has a prefetch, but its permission admits callers who are not members of its organization"
    )]
    PrefetchBeyondMembers {
        method: &'static str,
        path: &'static str,
    },
    #[error("{method} {path} is registered twice")]
    Duplicate {
        method: &'static str,
        path: &'static str,
    },
}

fn method_filter(method: Method) -> MethodFilter {
    match method {
        Method::Get => MethodFilter::GET,
        Method::Post => MethodFilter::POST,
        Method::Put => MethodFilter::PUT,
        Method::Delete => MethodFilter::DELETE,
    }
}

impl RouteHandlers {
    /// No handlers yet for `function`.
    pub fn new(function: Function) -> Self {
        Self {
            function,
            handlers: Vec::new(),
        }
    }

    /// The function these handlers belong to.
    pub fn function(&self) -> Function {
        self.function
    }

    /// Registers `handler` for `method path` (the path exactly as in the route table).
    pub fn handle<H, T>(self, method: Method, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.register(method, path, handler, None)
    }

    /// Registers `handler` for `method path` with `prefetch`, its first read, which the
    /// permission layer starts beside its own ([`prefetch`]); the handler takes the result
    /// with the [`Prefetched`] extractor. Only for routes that admit members of the path's
    /// organization alone ([`app`] refuses others).
    pub fn handle_prefetched<H, T>(
        self,
        method: Method,
        path: &'static str,
        handler: H,
        prefetch: Prefetch,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.register(method, path, handler, Some(prefetch))
    }

    fn register<H, T>(
        mut self,
        method: Method,
        path: &'static str,
        handler: H,
        prefetch: Option<Prefetch>,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.handlers.push(Registered {
            method,
            path,
            method_router: on(method_filter(method), handler),
            prefetch,
        });
        self
    }
}

/// Builds the app for one or more functions: every handler must match a route-table entry of
/// its function; every route of those functions without a handler answers 501; unknown paths
/// answer 404 and known paths with another method 405, both in Dispatch's error shape.
pub fn app(groups: Vec<RouteHandlers>, state: AppState) -> Result<Router, RouteTableError> {
    let mut by_path: BTreeMap<&'static str, MethodRouter<AppState>> = BTreeMap::new();
    let mut registered: Vec<(Method, &'static str)> = Vec::new();
    let functions: Vec<Function> = groups.iter().map(|g| g.function).collect();

    for group in groups {
        for Registered {
            method,
            path,
            method_router,
            prefetch,
        } in group.handlers
        {
            let listed = ROUTES
                .iter()
                .any(|r| r.method == method && r.path == path && r.function == group.function);
            if !listed {
                return Err(RouteTableError::Unlisted {
                    function: group.function,
                    method: method.as_str(),
                    path,
                });
            }
            if registered.contains(&(method, path)) {
                return Err(RouteTableError::Duplicate {
                    method: method.as_str(),
                    path,
                });
            }
            registered.push((method, path));
            let route = crate::routes::find_exact(method, path).expect("listed above");
            if prefetch.is_some() && !route.permission.admits_members_only() {
                return Err(RouteTableError::PrefetchBeyondMembers {
                    method: method.as_str(),
                    path,
                });
            }
            add(
                &mut by_path,
                path,
                guarded(route, &state, method_router, prefetch),
            );
        }
    }
    for route in ROUTES.iter().filter(|r| functions.contains(&r.function)) {
        if !registered.contains(&(route.method, route.path)) {
            let method_router = on(method_filter(route.method), pending(route));
            add(
                &mut by_path,
                route.path,
                guarded(route, &state, method_router, None),
            );
        }
    }

    let mut router = Router::new();
    for (path, method_router) in by_path {
        router = router.route(path, method_router);
    }
    Ok(middleware::wrap(
        router
            .fallback(middleware::fallback)
            .method_not_allowed_fallback(middleware::fallback),
    )
    .with_state(state))
}

fn add(
    by_path: &mut BTreeMap<&'static str, MethodRouter<AppState>>,
    path: &'static str,
    new: MethodRouter<AppState>,
) {
    let merged = match by_path.remove(path) {
        Some(existing) => existing.merge(new),
        None => new,
    };
    by_path.insert(path, merged);
}

/// Puts the permission layer in front of a route's handler (it decides from the route-table
/// entry and hands the resolved [`crate::permissions::Caller`] to the handler), all inside the
/// request's span ([`observe::request_span`]) and its time budget ([`budget`]). The route's
/// prefetch, if any, runs beside the permission read ([`prefetch`]).
fn guarded(
    route: &'static Route,
    state: &AppState,
    method_router: MethodRouter<AppState>,
    prefetch: Option<Prefetch>,
) -> MethodRouter<AppState> {
    method_router.layer(from_fn_with_state(
        state.clone(),
        move |State(state): State<AppState>, request: Request, next: Next| {
            let span = observe::request_span(route, &request);
            let budget = budget::of(&request, state.config().request_budget);
            let started = std::time::Instant::now();
            async move {
                let (mut parts, body) = request.into_parts();
                let work = async {
                    match crate::permissions::authorize(route, &state, &parts, prefetch).await {
                        Ok((caller, prefetched)) => {
                            if let Some(caller) = caller {
                                tracing::Span::current().record("user_id", caller.user.id);
                                parts.extensions.insert(caller);
                            }
                            parts.extensions.insert(prefetched);
                            next.run(Request::from_parts(parts, body)).await
                        }
                        Err(error) => error.into_response(),
                    }
                };
                let response = budget::enforce(budget, work).await;
                observe::finish(&response, started);
                response
            }
            .instrument(span)
        },
    ))
}

/// The handler of a route whose capability has not landed yet: 501 in Dispatch's shape.
fn pending(route: &'static Route) -> impl Handler<((),), AppState> {
    move || async move { ApiError::NotImplemented(route) }
}

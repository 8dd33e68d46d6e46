//! What the document says of each route beyond the route table: its request body, what it
//! answers on success, and the refusals its handler adds to those its permission, path and body
//! imply (see [`error_statuses`]). A route without an entry here fails the module's tests.

mod table;

pub use table::operation;

use dispatch_shared::routes::{Permission, Route};

/// What a successful call answers (always 200, as in Dispatch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Success {
    /// A JSON body of this component schema.
    Schema(&'static str),
    /// Dispatch's list envelope (this `*Pagination` component); the route takes the list
    /// parameters.
    Page(&'static str),
    /// `null`, as Dispatch's deletes answer.
    Null,
    /// The ReDoc page.
    Html,
    /// This document.
    Document,
}

/// A refusal a handler adds to those [`error_statuses`] derives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 400 in Dispatch's list shape.
    BadRequest,
    /// 400 `{"detail": "<message>"}` (`ApiError::BadRequestDetail`).
    BadRequestString,
    /// 403 on a route any authenticated user may call: a field only the operator may set.
    Forbidden,
    /// 409: a uniqueness guard, a kept default, or a concurrent update that kept winning.
    Conflict,
    /// 429: the login throttle (wait `Retry-After` seconds).
    Throttled,
}

/// One route's documentation.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    pub id: &'static str,
    pub summary: &'static str,
    /// The component schema of the JSON body, when the route takes one.
    pub request: Option<&'static str>,
    pub success: Success,
    pub refusals: &'static [Refusal],
}

use Refusal::{BadRequest, BadRequestString, Conflict, Forbidden, Throttled};
use Success::{Document, Html, Page, Schema};

/// Whether the route reads or writes the table (and so may answer 503 when DynamoDB throttles
/// or times out).
pub fn touches_aws(operation: &Operation) -> bool {
    !matches!(operation.success, Html | Document | Schema("HealthCheck"))
}

/// Every status `route` may answer besides 200, in order: its permission's 401 and 403, the
/// 404 of anything its path names, the 413 and 422 of a body, the 422 of path and list
/// parameters, its own refusals, and 503 when it touches AWS.
pub fn error_statuses(route: &Route, operation: &Operation) -> Vec<u16> {
    let has_path_params = route.path.contains('{');
    let has_body = operation.request.is_some();
    let is_list = matches!(operation.success, Page(_));
    let refuses = |refusal: Refusal| operation.refusals.contains(&refusal);
    let mut statuses = Vec::new();
    let mut add = |status: u16, when: bool| {
        if when {
            statuses.push(status);
        }
    };
    add(400, refuses(BadRequest) || refuses(BadRequestString));
    add(401, route.permission != Permission::Public);
    add(
        403,
        refuses(Forbidden)
            || !matches!(
                route.permission,
                Permission::Public | Permission::Authenticated
            ),
    );
    add(404, has_path_params);
    add(409, refuses(Conflict));
    add(413, has_body);
    add(422, has_body || has_path_params || is_list);
    add(429, refuses(Throttled));
    add(503, touches_aws(operation));
    statuses
}

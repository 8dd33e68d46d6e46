//! The time budget of one request. Every call to AWS is bounded on its own
//! (`dispatch_domain::aws_sdk`); a request makes several, so the request as a whole is bounded
//! too: past its budget it is answered 503 with `Retry-After` in Dispatch's shape, and its
//! work is dropped. Writes are single transactions (or resumable, see docs/resilience.md), so
//! a request cut off here has changed everything it meant to or nothing.

use std::future::Future;
use std::time::{Duration, SystemTime};

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use lambda_http::RequestExt;

use crate::error::ApiError;

/// Kept back from a Lambda's deadline to build, log and return the 503 before the platform
/// kills the invocation (which API Gateway would report as a bare 500/503 without our body).
pub const DEADLINE_MARGIN: Duration = Duration::from_millis(500);

/// The budget of `request`: the configured one, or less when the Lambda invocation running it
/// ends sooner. Outside Lambda (the dev server, tests) the configured budget alone applies.
pub fn of(request: &Request, configured: Duration) -> Duration {
    let deadline = request
        .extensions()
        .lambda_context_ref()
        .map(|context| context.deadline());
    fit(configured, deadline, SystemTime::now())
}

/// `configured`, capped by what is left before `deadline` less [`DEADLINE_MARGIN`] (zero when
/// the deadline is that close or past).
pub fn fit(configured: Duration, deadline: Option<SystemTime>, now: SystemTime) -> Duration {
    let Some(deadline) = deadline else {
        return configured;
    };
    let remaining = deadline.duration_since(now).unwrap_or_default();
    configured.min(remaining.saturating_sub(DEADLINE_MARGIN))
}

/// Runs `work`, or answers 503 when it has not finished within `budget`.
pub async fn enforce(budget: Duration, work: impl Future<Output = Response>) -> Response {
    match tokio::time::timeout(budget, work).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                budget_ms = budget.as_millis() as u64,
                "request budget exhausted"
            );
            ApiError::Unavailable.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: Duration = Duration::from_secs(8);

    #[test]
    fn outside_lambda_the_configured_budget_applies() {
        assert_eq!(fit(BUDGET, None, SystemTime::now()), BUDGET);
    }

    #[test]
    fn a_lambda_deadline_sooner_than_the_budget_shortens_it_by_the_margin() {
        let now = SystemTime::now();
        assert_eq!(
            fit(BUDGET, Some(now + Duration::from_secs(3)), now),
            Duration::from_secs(3) - DEADLINE_MARGIN
        );
        assert_eq!(
            fit(BUDGET, Some(now + Duration::from_secs(30)), now),
            BUDGET
        );
    }

    #[test]
    fn a_deadline_within_the_margin_or_past_leaves_no_budget() {
        let now = SystemTime::now();
        assert_eq!(
            fit(BUDGET, Some(now + DEADLINE_MARGIN / 2), now),
            Duration::ZERO
        );
        assert_eq!(
            fit(BUDGET, Some(now - Duration::from_secs(1)), now),
            Duration::ZERO
        );
    }

    #[tokio::test]
    async fn work_past_the_budget_is_answered_503_with_retry_after() {
        let response = enforce(Duration::from_millis(50), async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            axum::http::StatusCode::OK.into_response()
        })
        .await;
        assert_eq!(
            response.status(),
            axum::http::StatusCode::SERVICE_UNAVAILABLE
        );
        assert!(
            response
                .headers()
                .contains_key(axum::http::header::RETRY_AFTER)
        );
    }
}

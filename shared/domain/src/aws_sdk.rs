//! The AWS SDK configuration every process builds once: every DynamoDB and Secrets Manager
//! call is bounded, and retried in the SDK's standard mode.
//!
//! The SDK has no operation timeout by default: a stalled endpoint would hold a call, and the
//! Lambda with it, until the platform kills the function. Here each attempt has a timeout, each
//! call (attempts and backoff together) has one, and the standard retry mode retries timeouts,
//! dropped connections, throttling (`ThrottlingException`, `ProvisionedThroughputExceeded…`,
//! `RequestLimitExceeded`) and 5xx with exponential backoff and full jitter. What still fails
//! reaches the store as `StoreError::Unavailable`, which the API answers with 503 and
//! `Retry-After`. The web layer adds a budget per request on top (docs/resilience.md).

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};

/// How long AWS calls may take and how they are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallBounds {
    /// Establishing a connection (TCP + TLS).
    pub connect: Duration,
    /// One attempt, from sending the request to the end of the response.
    pub attempt: Duration,
    /// A whole call: every attempt and the backoff between them.
    pub operation: Duration,
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// Backoff ceiling before the first retry (doubled per retry, jittered).
    pub initial_backoff: Duration,
    /// Largest backoff between two attempts.
    pub max_backoff: Duration,
}

impl CallBounds {
    /// The API functions and the dev server. DynamoDB answers single-item and transactional
    /// requests in milliseconds and a 1 MB query page well under a second, so an attempt that
    /// has not answered in 1 s is stalled; three attempts within 3 s leave a request budget
    /// (8 s by default) room for the handful of calls a request makes.
    pub const API: Self = Self {
        connect: Duration::from_secs(1),
        attempt: Duration::from_secs(1),
        operation: Duration::from_secs(3),
        max_attempts: 3,
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_secs(1),
    };

    /// The admin CLI: an operator waits for scans, batches and table creation, and a retry is
    /// cheaper than a half-run command, so calls are allowed longer and more attempts.
    pub const ADMIN: Self = Self {
        connect: Duration::from_secs(3),
        attempt: Duration::from_secs(10),
        operation: Duration::from_secs(60),
        max_attempts: 8,
        initial_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_secs(5),
    };

    /// The SDK's timeout settings for these bounds.
    pub fn timeout_config(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect)
            .operation_attempt_timeout(self.attempt)
            .operation_timeout(self.operation)
            .build()
    }

    /// The SDK's standard retry mode with these attempts and backoff.
    pub fn retry_config(&self) -> RetryConfig {
        RetryConfig::standard()
            .with_max_attempts(self.max_attempts)
            .with_initial_backoff(self.initial_backoff)
            .with_max_backoff(self.max_backoff)
    }
}

/// Loads the SDK configuration from the default chain (region, credentials, endpoints from the
/// environment) with `bounds` applied to every client built from it.
pub async fn load_sdk_config(bounds: CallBounds) -> SdkConfig {
    bounded_loader(bounds).load().await
}

/// The default chain's loader with `bounds` applied, for callers that set more before loading
/// (the admin CLI's `--profile`, `--region` and `--endpoint-url`).
pub fn bounded_loader(bounds: CallBounds) -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(bounds.timeout_config())
        .retry_config(bounds.retry_config())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_api_call_is_bounded_and_retried_within_its_operation_timeout() {
        let bounds = CallBounds::API;
        let timeouts = bounds.timeout_config();
        assert_eq!(timeouts.operation_timeout(), Some(bounds.operation));
        assert_eq!(timeouts.operation_attempt_timeout(), Some(bounds.attempt));
        assert_eq!(timeouts.connect_timeout(), Some(bounds.connect));
        let retry = bounds.retry_config();
        assert_eq!(retry.mode(), aws_config::retry::RetryMode::Standard);
        assert_eq!(retry.max_attempts(), 3);
        // A stalled endpoint answers nothing: the operation timeout, not attempts × attempt
        // timeout, decides when the call gives up, and it fits the default request budget.
        assert!(bounds.operation <= bounds.attempt * bounds.max_attempts);
        assert!(bounds.operation < crate::config::DEFAULT_REQUEST_BUDGET);
    }
}

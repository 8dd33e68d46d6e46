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

use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_async::rt::sleep::{SharedAsyncSleep, default_async_sleep};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

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
/// (the admin CLI's `--profile`, `--region` and `--endpoint-url`). Every client built from it
/// (and the credential and region providers) shares one [`https_client`].
pub fn bounded_loader(bounds: CallBounds) -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(bounds.timeout_config())
        .retry_config(bounds.retry_config())
        .http_client(https_client())
}

/// The SDK's default HTTPS client (hyper 1, rustls on aws-lc, the platform's root certificates,
/// the proxy from the environment), made once per process and shared by every AWS client.
///
/// Left to itself, the SDK makes one such client per service client and builds a complete TLS
/// connector (every root certificate read and parsed again) when each client is created, when
/// the credential chain is set up, and again at each client's first request: five builds per
/// cold start for two services. Here a connector is built once per connection settings
/// (connect and read timeouts), as the SDK's own client caches them, and the one the API
/// functions use can be built ahead, on another thread ([`prepare_connector`]).
pub fn https_client() -> SharedHttpClient {
    static CLIENT: OnceLock<SharedHttpClient> = OnceLock::new();
    CLIENT
        .get_or_init(|| SharedHttpClient::new(SharedConnectors::default()))
        .clone()
}

/// Starts building, on another thread, the connector for calls bounded by `bounds`, so that
/// loading and parsing the root certificates (a few milliseconds) overlaps the rest of start-up
/// instead of delaying the first request. The first request that needs it waits for it if it
/// is not ready yet; calls with other settings are not affected. Only the first call counts.
pub fn prepare_connector(bounds: CallBounds) {
    let key = ConnectorKey {
        connect: Some(bounds.connect),
        read: None,
    };
    if PREPARED_FOR.set(key).is_ok() {
        std::thread::spawn(move || {
            PREPARED.get_or_init(|| build_connector(key));
        });
    }
}

/// The connection settings a connector is built for (the SDK's own cache key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ConnectorKey {
    connect: Option<Duration>,
    read: Option<Duration>,
}

impl ConnectorKey {
    fn of(settings: &HttpConnectorSettings) -> Self {
        Self {
            connect: settings.connect_timeout(),
            read: settings.read_timeout(),
        }
    }

    fn settings(self) -> HttpConnectorSettings {
        let mut settings = HttpConnectorSettings::builder();
        settings.set_connect_timeout(self.connect);
        settings.set_read_timeout(self.read);
        settings.build()
    }
}

static PREPARED_FOR: OnceLock<ConnectorKey> = OnceLock::new();
static PREPARED: OnceLock<SharedHttpConnector> = OnceLock::new();

/// What `aws-smithy-runtime` builds as the default client for the latest behaviour version:
/// a connector per settings, built on first use.
fn sdk_default_https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new().build_with_connector_fn(|settings, components| {
        connector(settings, components.and_then(|c| c.sleep_impl()))
    })
}

/// The connector [`prepare_connector`] builds: the SDK's, with the sleep implementation every
/// SDK client gets by default.
fn build_connector(key: ConnectorKey) -> SharedHttpConnector {
    SharedHttpConnector::new(connector(Some(&key.settings()), default_async_sleep()))
}

fn connector(
    settings: Option<&HttpConnectorSettings>,
    sleep: Option<SharedAsyncSleep>,
) -> aws_smithy_http_client::Connector {
    use aws_smithy_http_client::ConnectorBuilder;
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    let mut connector =
        ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
    connector.set_connector_settings(settings.cloned());
    connector.set_sleep_impl(sleep);
    connector.set_proxy_config(Some(ProxyConfig::from_env()));
    connector.build()
}

/// An HTTP client that does not build a throw-away connector whenever a service client is
/// created (the SDK client's `validate_base_client_config` does, to load the root certificates
/// early), and that hands out the [`prepare_connector`] one for its settings.
///
/// Connections belong to the Tokio runtime that opened them, so each runtime of the process
/// has its own SDK client and connection pool (a function has one runtime; each test has its
/// own, while sharing one `SdkConfig`). The prepared connector goes to the first runtime that
/// asks for it.
#[derive(Debug, Default)]
struct SharedConnectors {
    by_runtime: std::sync::Mutex<std::collections::HashMap<Option<RuntimeId>, SharedHttpClient>>,
}

type RuntimeId = tokio::runtime::Id;

static PREPARED_TAKEN_BY: OnceLock<Option<RuntimeId>> = OnceLock::new();

impl HttpClient for SharedConnectors {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let runtime = tokio::runtime::Handle::try_current()
            .ok()
            .map(|handle| handle.id());
        let key = ConnectorKey::of(settings);
        if PREPARED_FOR.get() == Some(&key) && *PREPARED_TAKEN_BY.get_or_init(|| runtime) == runtime
        {
            return PREPARED.get_or_init(|| build_connector(key)).clone();
        }
        let client = self
            .by_runtime
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(runtime)
            .or_insert_with(sdk_default_https_client)
            .clone();
        client.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        Some(ConnectorMetadata::new("hyper", Some(Cow::Borrowed("1.x"))))
    }
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

    #[test]
    fn the_prepared_connector_is_the_one_api_calls_ask_for() {
        // The SDK asks its HTTP client for a connector with the connect and read timeouts of
        // the call's timeout configuration; `prepare_connector` builds the one for these.
        let timeouts = CallBounds::API.timeout_config();
        let mut settings = HttpConnectorSettings::builder();
        settings.set_connect_timeout(timeouts.connect_timeout());
        settings.set_read_timeout(timeouts.read_timeout());
        assert_eq!(
            ConnectorKey::of(&settings.build()),
            ConnectorKey {
                connect: Some(CallBounds::API.connect),
                read: None,
            }
        );
    }
}

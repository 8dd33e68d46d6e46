//! What every benchmark example needs from the local stack (`infra/local/stack.sh start test`):
//! an `SdkConfig` pointed at it, and the state the functions would build on a table.

use std::time::Duration;

use dispatch_domain::config::{AutoJoin, Config};
use dispatch_domain::secrets::Secrets;
use dispatch_shared::AppState;
use dispatch_store::Store;

/// The SDK configuration of the test profile's stack; explicit `AWS_*` variables win.
pub async fn sdk_config() -> aws_config::SdkConfig {
    for (name, value) in [
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8101"),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:5001"),
    ] {
        if std::env::var_os(name).is_none() {
            // SAFETY: single-threaded start-up, before any SDK client exists.
            unsafe { std::env::set_var(name, value) };
        }
    }
    // The functions' own call bounds, so a benchmark measures what a deployment would do.
    dispatch_domain::aws_sdk::load_sdk_config(dispatch_domain::aws_sdk::CallBounds::API).await
}

/// The functions' state on `store` (not every example needs it): one fresh secret signs tokens and cursors.
#[allow(dead_code)]
pub async fn app_state(sdk: &aws_config::SdkConfig, store: &Store) -> anyhow::Result<AppState> {
    let secrets_client = aws_sdk_secretsmanager::Client::new(sdk);
    let id = format!("bench/{}", uuid::Uuid::new_v4().simple());
    secrets_client
        .create_secret()
        .name(&id)
        .secret_string("k".repeat(48))
        .send()
        .await?;
    let secrets = Secrets::load(&secrets_client, &id, &id).await?;
    let config = Config {
        table_name: store.table().to_owned(),
        jwt_secret_id: id.clone(),
        cursor_secret_id: id,
        encryption_secret_id: None,
        jwt_lifetime: Duration::from_secs(3600),
        jwt_issuer: dispatch_domain::config::DEFAULT_JWT_ISSUER.into(),
        jwt_audience: dispatch_domain::config::DEFAULT_JWT_AUDIENCE.into(),
        registration_enabled: true,
        auto_join: AutoJoin::Listed(vec!["default".into()]),
        request_budget: dispatch_domain::config::DEFAULT_REQUEST_BUDGET,

        authentication: dispatch_domain::auth::provider::Provider::Basic,
        trusted_edge: None,
    };
    Ok(AppState::new(config, store.clone(), secrets))
}

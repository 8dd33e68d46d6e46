//! Each fault against the local stack's DynamoDB Local (and moto), as the SDK sees it.

use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::Builder;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};

use super::{Fault, FaultProxy, Rule};
use crate::helpers::{sdk_config, test_secrets, unique_table};

/// The local stack's endpoint for a service, as `sdk_config` set it up.
async fn upstream(variable: &str) -> String {
    sdk_config().await;
    std::env::var(variable).expect("sdk_config sets the local endpoints")
}

/// A proxy in front of DynamoDB Local.
async fn dynamodb_proxy() -> FaultProxy {
    FaultProxy::start(&upstream("AWS_ENDPOINT_URL_DYNAMODB").await).await
}

/// A DynamoDB client through the proxy: `sdk_config`'s timeouts, and the standard retry mode
/// (3 attempts) with a 10 ms initial backoff, so that the tests' retries cost milliseconds.
async fn client_through(proxy: &FaultProxy, configure: impl FnOnce(Builder) -> Builder) -> Client {
    let retries = RetryConfig::standard().with_initial_backoff(Duration::from_millis(10));
    let config = Builder::from(sdk_config().await)
        .endpoint_url(proxy.endpoint())
        .retry_config(retries);
    Client::from_conf(configure(config).build())
}

/// The same client without retries, to see what one attempt's fault looks like.
fn single_attempt(config: Builder) -> Builder {
    config.retry_config(RetryConfig::standard().with_max_attempts(1))
}

/// What a connection closed without a response looks like to the SDK: hyper's
/// `IncompleteMessage`, which the SDK's connector reports as a dispatch failure of kind
/// `TransientError` (so its standard retry retries it, even for a write).
fn assert_dropped<E: std::fmt::Debug, R: std::fmt::Debug>(error: &SdkError<E, R>) {
    let SdkError::DispatchFailure(failure) = error else {
        panic!("a dispatch failure, not {error:?}")
    };
    let described = format!("{failure:?}");
    assert!(failure.is_other(), "{described}");
    assert!(described.contains("IncompleteMessage"), "{described}");
    assert!(described.contains("TransientError"), "{described}");
}

/// A fresh table keyed by `pk`, straight on DynamoDB Local.
async fn fresh_table() -> (Client, String) {
    let direct = Client::new(sdk_config().await);
    let table = unique_table();
    direct
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("DynamoDB Local is reachable; run infra/local/stack.sh start test");
    (direct, table)
}

#[tokio::test]
async fn no_rule_forwards_everything() {
    let proxy = dynamodb_proxy().await;
    let client = client_through(&proxy, |config| config).await;
    for _ in 0..3 {
        client
            .list_tables()
            .limit(1)
            .send()
            .await
            .expect("list tables through the proxy");
    }
    assert_eq!(
        (proxy.seen("ListTables"), proxy.forwarded("ListTables")),
        (3, 3)
    );
    assert_eq!(proxy.seen("PutItem"), 0);
}

#[tokio::test]
async fn a_throttle_once_is_retried_by_the_sdk() {
    for code in [
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
    ] {
        let proxy = dynamodb_proxy().await;
        proxy.inject(Rule::on("ListTables", Fault::Throttle(code)).times(1));
        let client = client_through(&proxy, |config| config).await;
        client
            .list_tables()
            .send()
            .await
            .unwrap_or_else(|error| panic!("{code}: {error:?}"));
        assert_eq!(
            proxy.seen("ListTables"),
            2,
            "{code}: one throttled attempt, one retry"
        );
        assert_eq!(proxy.forwarded("ListTables"), 1, "{code}");
    }
}

#[tokio::test]
async fn a_lasting_throttle_surfaces_its_code_after_the_retries() {
    let proxy = dynamodb_proxy().await;
    proxy.inject(Rule::always(Fault::Throttle("ThrottlingException")));
    let client = client_through(&proxy, |config| config).await;
    let error = client
        .list_tables()
        .send()
        .await
        .expect_err("throttled every time");
    assert!(matches!(error, SdkError::ServiceError(_)), "{error:?}");
    assert_eq!(error.code(), Some("ThrottlingException"), "{error:?}");
    assert_eq!(
        error.message(),
        Some("ThrottlingException injected by the fault proxy")
    );
    assert_eq!(
        (proxy.seen("ListTables"), proxy.forwarded("ListTables")),
        (3, 0)
    );

    proxy.heal();
    client
        .list_tables()
        .send()
        .await
        .expect("normal service after heal");
}

#[tokio::test]
async fn rules_apply_in_order_to_their_operation_only() {
    let proxy = dynamodb_proxy().await;
    proxy.inject(Rule::on(
        "DescribeLimits",
        Fault::Throttle("ThrottlingException"),
    ));
    proxy.inject(Rule::always(Fault::Delay(Duration::from_millis(1))).times(1));
    proxy.inject(Rule::always(Fault::Throttle("RequestLimitExceeded")));
    let client = client_through(&proxy, single_attempt).await;
    // The delay rule takes the first ListTables, the lasting throttle the second.
    client
        .list_tables()
        .send()
        .await
        .expect("delayed, then answered");
    let error = client.list_tables().send().await.expect_err("throttled");
    assert_eq!(error.code(), Some("RequestLimitExceeded"));
    let error = client
        .describe_limits()
        .send()
        .await
        .expect_err("throttled");
    assert_eq!(error.code(), Some("ThrottlingException"));
    assert_eq!(proxy.forwarded("ListTables"), 1);
    assert_eq!(proxy.forwarded("DescribeLimits"), 0);
}

#[tokio::test]
async fn a_delay_slows_the_answer_down() {
    let proxy = dynamodb_proxy().await;
    proxy.inject(Rule::on(
        "ListTables",
        Fault::Delay(Duration::from_millis(300)),
    ));
    let client = client_through(&proxy, |config| config).await;
    let started = Instant::now();
    client
        .list_tables()
        .send()
        .await
        .expect("a slow answer is still an answer");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        (proxy.seen("ListTables"), proxy.forwarded("ListTables")),
        (1, 1)
    );
}

#[tokio::test]
async fn a_stall_times_out_and_heal_restores_service() {
    let proxy = dynamodb_proxy().await;
    proxy.inject(Rule::always(Fault::Stall));
    let timeouts = TimeoutConfig::builder()
        .operation_attempt_timeout(Duration::from_millis(200))
        .operation_timeout(Duration::from_millis(700))
        .build();
    let client = client_through(&proxy, |config| config.timeout_config(timeouts)).await;
    let started = Instant::now();
    let error = client
        .list_tables()
        .send()
        .await
        .expect_err("nothing ever answers");
    let elapsed = started.elapsed();
    assert!(matches!(error, SdkError::TimeoutError(_)), "{error:?}");
    assert!(
        elapsed >= Duration::from_millis(200) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
    assert!(
        proxy.seen("ListTables") >= 2,
        "the attempt timeout is retried"
    );
    assert_eq!(proxy.forwarded("ListTables"), 0);

    proxy.heal();
    client
        .list_tables()
        .send()
        .await
        .expect("normal service after heal");
    assert_eq!(proxy.forwarded("ListTables"), 1);
}

#[tokio::test]
async fn heal_closes_a_stalled_request_which_the_sdk_retries() {
    let proxy = dynamodb_proxy().await;
    proxy.inject(Rule::always(Fault::Stall));
    let client = client_through(&proxy, |config| config).await;
    let call = tokio::spawn(async move { client.list_tables().send().await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!call.is_finished(), "a stall does not answer");
    proxy.heal();
    call.await.unwrap().expect("closed by heal, then retried");
    assert_eq!(
        (proxy.seen("ListTables"), proxy.forwarded("ListTables")),
        (2, 1)
    );
}

#[tokio::test]
async fn a_stall_window_ends_by_closing_the_connection() {
    let proxy = dynamodb_proxy().await;
    proxy.inject(Rule::always(Fault::Stall).for_window(Duration::from_millis(300)));
    let client = client_through(&proxy, single_attempt).await;
    let started = Instant::now();
    let error = client
        .list_tables()
        .send()
        .await
        .expect_err("closed without a response");
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    assert_dropped(&error);
    client
        .list_tables()
        .send()
        .await
        .expect("the window is over");
}

#[tokio::test]
async fn a_reset_before_forwarding_is_retried_and_applied_once() {
    let proxy = dynamodb_proxy().await;
    proxy.inject(Rule::on("ListTables", Fault::ResetBeforeForwarding).times(1));
    let client = client_through(&proxy, |config| config).await;
    client
        .list_tables()
        .send()
        .await
        .expect("the retry goes through");
    assert_eq!(
        (proxy.seen("ListTables"), proxy.forwarded("ListTables")),
        (2, 1)
    );

    // Without retries, what the caller sees is a dispatch failure (an IO error).
    proxy.inject(Rule::on("ListTables", Fault::ResetBeforeForwarding).times(1));
    let client = client_through(&proxy, single_attempt).await;
    let error = client.list_tables().send().await.expect_err("dropped");
    assert_dropped(&error);
    assert_eq!(proxy.forwarded("ListTables"), 1);
}

#[tokio::test]
async fn a_reset_after_forwarding_applies_the_write_the_client_never_hears_of() {
    let (direct, table) = fresh_table().await;
    let proxy = dynamodb_proxy().await;
    proxy.inject(Rule::on("PutItem", Fault::ResetAfterForwarding).times(1));
    let client = client_through(&proxy, single_attempt).await;
    let put = |pk: &str| {
        client
            .put_item()
            .table_name(&table)
            .item("pk", AttributeValue::S(pk.to_owned()))
            .send()
    };
    let error = put("lost-answer").await.expect_err("the answer is dropped");
    assert_dropped(&error);
    let get = |pk: &str| {
        direct
            .get_item()
            .table_name(&table)
            .key("pk", AttributeValue::S(pk.to_owned()))
            .send()
    };
    assert!(
        get("lost-answer").await.unwrap().item.is_some(),
        "applied all the same"
    );
    assert_eq!(proxy.forwarded("PutItem"), 1);

    // With the SDK's retries the write is sent, and applied, twice.
    proxy.inject(Rule::on("PutItem", Fault::ResetAfterForwarding).times(1));
    let client = client_through(&proxy, |config| config).await;
    client
        .put_item()
        .table_name(&table)
        .item("pk", AttributeValue::S("retried".into()))
        .send()
        .await
        .expect("the retry's answer arrives");
    assert!(get("retried").await.unwrap().item.is_some());
    assert_eq!((proxy.seen("PutItem"), proxy.forwarded("PutItem")), (3, 3));

    direct
        .delete_table()
        .table_name(&table)
        .send()
        .await
        .expect("drop the table");
}

#[tokio::test]
async fn secrets_manager_goes_through_too() {
    let secrets = test_secrets().await;
    let proxy = FaultProxy::start(&upstream("AWS_ENDPOINT_URL_SECRETS_MANAGER").await).await;
    proxy.inject(Rule::on("GetSecretValue", Fault::Throttle("ThrottlingException")).times(1));
    let config = aws_sdk_secretsmanager::config::Builder::from(sdk_config().await)
        .endpoint_url(proxy.endpoint())
        .retry_config(RetryConfig::standard().with_initial_backoff(Duration::from_millis(10)))
        .build();
    let client = aws_sdk_secretsmanager::Client::from_conf(config);
    let secret = client
        .get_secret_value()
        .secret_id(&secrets.jwt_id)
        .send()
        .await;
    assert!(
        secret
            .expect("retried after the throttle")
            .secret_string
            .is_some()
    );
    assert_eq!(
        (
            proxy.seen("GetSecretValue"),
            proxy.forwarded("GetSecretValue")
        ),
        (2, 1)
    );
}

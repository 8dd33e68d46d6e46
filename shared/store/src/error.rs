//! Errors of the DynamoDB store, classified by what the caller should do about them.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::Key;

/// What can go wrong talking to the table.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The condition of the item labelled `label` did not hold (e.g. a uniqueness guard exists).
    /// Callers map a label to a client error with `dispatch_domain::error::OnCondition`.
    #[error("condition failed on `{label}`")]
    ConditionFailed { label: String },
    /// A versioned update lost to a concurrent one, even after retries.
    #[error("concurrent update conflict")]
    VersionConflict,
    /// DynamoDB could not be reached in time, throttled us, or failed on its side, after the
    /// SDK's own retries: the caller may try again later (the API answers 503).
    #[error("DynamoDB is unavailable: {0}")]
    Unavailable(String),
    /// A batch write gave up with requests still unwritten (listed, so an operator can see
    /// what is missing and run the command again).
    #[error("{} batch write request(s) could not be written ({cause}): {}", unwritten.len(), describe(unwritten))]
    BatchIncomplete { unwritten: Vec<Key>, cause: String },
    /// A transaction was built with two actions on one key (AWS refuses it; DynamoDB Local
    /// does not, so the builder refuses it first).
    #[error("two actions on one item in a transaction: {pk} / {sk}")]
    DuplicateKeyInTransaction { pk: String, sk: String },
    /// A stored item could not be converted to or from its type.
    #[error("item (de)serialisation failed: {0}")]
    Serde(#[from] serde_dynamo::Error),
    /// Any other SDK failure: a request DynamoDB refused as invalid, i.e. a bug.
    #[error("DynamoDB request failed: {0}")]
    Sdk(String),
    /// A block of ids would leave the positive 31-bit range clients parse.
    #[error("the `{0}` id counter is exhausted")]
    IdsExhausted(&'static str),
}

fn describe(keys: &[Key]) -> String {
    const SHOWN: usize = 5;
    let mut text: Vec<String> = keys
        .iter()
        .take(SHOWN)
        .map(|k| format!("{} / {}", k.pk, k.sk))
        .collect();
    if keys.len() > SHOWN {
        text.push(format!("and {} more", keys.len() - SHOWN));
    }
    text.join(", ")
}

/// Error codes DynamoDB uses for throttling (the SDK's standard retry mode retries them with
/// backoff before they reach us).
const THROTTLING_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TransactionInProgressException",
];

/// Codes of failures on DynamoDB's side (transient; retried by the SDK too).
const SERVER_SIDE_CODES: &[&str] = &["InternalServerError", "ServiceUnavailable"];

impl StoreError {
    /// Classifies any SDK error. What a later attempt may cure becomes
    /// [`StoreError::Unavailable`] (answered 503 with `Retry-After`): timeouts, connections that
    /// failed or were cut before a full response, throttling and DynamoDB's own 5xx. Anything
    /// else is a request DynamoDB refused as malformed, i.e. our bug (500).
    pub fn from_sdk<E>(error: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let code = error.code().unwrap_or_default().to_owned();
        let transient = match &error {
            SdkError::TimeoutError(_) => Some("timeout".to_owned()),
            SdkError::DispatchFailure(_) => Some("connection failed".to_owned()),
            SdkError::ResponseError(_) => Some("incomplete response".to_owned()),
            SdkError::ServiceError(service) => (THROTTLING_CODES.contains(&code.as_str())
                || SERVER_SIDE_CODES.contains(&code.as_str())
                || service.raw().status().is_server_error())
            .then(|| code.clone()),
            _ => None,
        };
        match transient {
            Some(reason) => StoreError::Unavailable(reason),
            None => {
                StoreError::Sdk(aws_sdk_dynamodb::error::DisplayErrorContext(&error).to_string())
            }
        }
    }
}

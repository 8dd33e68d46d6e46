//! Errors of the DynamoDB store, classified by what the caller should do about them.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

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
    /// DynamoDB throttled the request or timed out after the SDK's own retries.
    #[error("DynamoDB is unavailable: {0}")]
    Unavailable(String),
    /// A transaction was built with two actions on one key (AWS refuses it; DynamoDB Local
    /// does not, so the builder refuses it first).
    #[error("two actions on one item in a transaction: {pk} / {sk}")]
    DuplicateKeyInTransaction { pk: String, sk: String },
    /// A stored item could not be converted to or from its type.
    #[error("item (de)serialisation failed: {0}")]
    Serde(#[from] serde_dynamo::Error),
    /// Any other SDK failure.
    #[error("DynamoDB request failed: {0}")]
    Sdk(String),
    /// A block of ids would leave the positive 31-bit range clients parse.
    #[error("the `{0}` id counter is exhausted")]
    IdsExhausted(&'static str),
}

/// Error codes DynamoDB uses for throttling; the SDK has already retried them with backoff.
const THROTTLING_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TransactionInProgressException",
];

impl StoreError {
    /// Classifies any SDK error: throttling and timeouts become [`StoreError::Unavailable`]
    /// (answered 503 with `Retry-After`), everything else is a bug or an outage (500).
    pub fn from_sdk<E, R>(error: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        let code = error.code().unwrap_or_default().to_owned();
        if matches!(error, SdkError::TimeoutError(_)) || THROTTLING_CODES.contains(&code.as_str()) {
            return StoreError::Unavailable(if code.is_empty() {
                "timeout".into()
            } else {
                code
            });
        }
        let message = aws_sdk_dynamodb::error::DisplayErrorContext(&error).to_string();
        StoreError::Sdk(message)
    }
}

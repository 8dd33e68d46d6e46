//! What start-up does when `BatchGetSecretValue` is refused or answers for only some secrets,
//! and how a previous version is read on demand when it is slow or unreadable: cases moto
//! cannot produce (it enforces no IAM policy and never fails), so the Secrets Manager
//! responses are injected with `aws-smithy-mocks`. The happy path, and a real rotation, run
//! against moto in the API tests.

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::ErrorMetadata;
use aws_sdk_secretsmanager::operation::batch_get_secret_value::{
    BatchGetSecretValueError, BatchGetSecretValueOutput,
};
use aws_sdk_secretsmanager::operation::get_secret_value::{
    GetSecretValueError, GetSecretValueOutput,
};
use aws_sdk_secretsmanager::types::error::ResourceNotFoundException;
use aws_sdk_secretsmanager::types::{ApiErrorType, SecretValueEntry};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};

use super::{RETRY_AFTER, SecretError, Secrets};

const JWT: &str = "test/jwt";
const CURSOR: &str = "test/cursor";

fn value_of(id: &str) -> String {
    format!("{id}-0123456789abcdef0123456789abcdef")
}

/// `GetSecretValue` of the current version of `id`, answered with its value.
fn current_of(id: &'static str) -> Rule {
    mock!(Client::get_secret_value)
        .match_requests(move |r| {
            r.secret_id() == Some(id) && r.version_stage() == Some("AWSCURRENT")
        })
        .then_output(move || {
            GetSecretValueOutput::builder()
                .name(id)
                .secret_string(value_of(id))
                .build()
        })
}

/// `GetSecretValue` of any previous version: none exists (no rotation yet).
fn no_previous() -> Rule {
    mock!(Client::get_secret_value)
        .match_requests(|r| r.version_stage() == Some("AWSPREVIOUS"))
        .then_error(|| {
            GetSecretValueError::ResourceNotFoundException(
                ResourceNotFoundException::builder().build(),
            )
        })
}

fn key(secrets: &Secrets, jwt: bool) -> Vec<u8> {
    let ring = if jwt { &secrets.jwt } else { &secrets.cursor };
    ring.current().expose().to_vec()
}

#[tokio::test]
async fn a_refused_batch_falls_back_to_one_request_per_secret() {
    let refused = mock!(Client::batch_get_secret_value).then_error(|| {
        BatchGetSecretValueError::generic(
            ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("not authorized to perform secretsmanager:BatchGetSecretValue")
                .build(),
        )
    });
    let (jwt, cursor, previous) = (current_of(JWT), current_of(CURSOR), no_previous());
    let client = mock_client!(
        aws_sdk_secretsmanager,
        RuleMode::MatchAny,
        [&refused, &jwt, &cursor, &previous]
    );
    let secrets = Secrets::load(&client, JWT, CURSOR).await.unwrap();
    assert_eq!(key(&secrets, true), value_of(JWT).into_bytes());
    assert_eq!(key(&secrets, false), value_of(CURSOR).into_bytes());
    assert_eq!(
        (refused.num_calls(), jwt.num_calls(), cursor.num_calls()),
        (1, 1, 1)
    );
    assert_eq!(
        previous.num_calls(),
        0,
        "previous versions are read on demand"
    );
    assert!(secrets.jwt.previous().await.unwrap().is_none());
    assert_eq!(previous.num_calls(), 1);
}

#[tokio::test]
async fn a_batch_answers_for_what_it_can_and_the_rest_fails_as_alone() {
    // The batch answers for the signing keys' secret and reports the cursor's as missing;
    // fetched alone, that one fails with the error its own request gives.
    let partial = mock!(Client::batch_get_secret_value).then_output(|| {
        BatchGetSecretValueOutput::builder()
            .secret_values(
                SecretValueEntry::builder()
                    .name(JWT)
                    .arn(format!(
                        "arn:aws:secretsmanager:us-east-1:123456789012:secret:{JWT}-AbCdEf"
                    ))
                    .secret_string(value_of(JWT))
                    .build(),
            )
            .errors(
                ApiErrorType::builder()
                    .secret_id(CURSOR)
                    .error_code("ResourceNotFoundException")
                    .build(),
            )
            .build()
    });
    let jwt_alone = current_of(JWT);
    let cursor_missing = mock!(Client::get_secret_value)
        .match_requests(|r| {
            r.secret_id() == Some(CURSOR) && r.version_stage() == Some("AWSCURRENT")
        })
        .then_error(|| {
            GetSecretValueError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .message("Secrets Manager can't find the specified secret.")
                    .build(),
            )
        });
    let previous = no_previous();
    let client = mock_client!(
        aws_sdk_secretsmanager,
        RuleMode::MatchAny,
        [&partial, &jwt_alone, &cursor_missing, &previous]
    );
    let error = Secrets::load(&client, JWT, CURSOR).await.unwrap_err();
    let SecretError::Unreadable { id, reason, .. } = &error else {
        panic!("not an unreadable secret: {error:?}");
    };
    assert_eq!(id, CURSOR);
    assert!(reason.contains("ResourceNotFoundException"), "{reason}");
    // The signing keys came from the batch: not fetched again.
    assert_eq!((jwt_alone.num_calls(), cursor_missing.num_calls()), (0, 1));
}

/// A batch answering for both signing secrets.
fn batch_of_both() -> Rule {
    mock!(Client::batch_get_secret_value).then_output(|| {
        let entry = |id: &str| {
            SecretValueEntry::builder()
                .name(id)
                .secret_string(value_of(id))
                .build()
        };
        BatchGetSecretValueOutput::builder()
            .secret_values(entry(JWT))
            .secret_values(entry(CURSOR))
            .build()
    })
}

fn previous_of(
    id: &'static str,
) -> aws_smithy_mocks::RuleBuilder<
    aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueInput,
    GetSecretValueOutput,
    GetSecretValueError,
> {
    mock!(Client::get_secret_value).match_requests(move |r| {
        r.secret_id() == Some(id) && r.version_stage() == Some("AWSPREVIOUS")
    })
}

fn previous_value(id: &str) -> GetSecretValueOutput {
    GetSecretValueOutput::builder()
        .name(id)
        .secret_string(format!("{id}-previous-0123456789abcdef0123456789"))
        .build()
}

fn access_denied() -> GetSecretValueError {
    GetSecretValueError::generic(
        ErrorMetadata::builder()
            .code("AccessDeniedException")
            .message("not authorized")
            .build(),
    )
}

#[tokio::test]
async fn start_up_reads_one_batch_and_a_previous_version_once_when_first_needed() {
    let batch = batch_of_both();
    let previous = previous_of(JWT).then_output(|| previous_value(JWT));
    let client = mock_client!(
        aws_sdk_secretsmanager,
        RuleMode::MatchAny,
        [&batch, &previous]
    );
    let secrets = Secrets::load(&client, JWT, CURSOR).await.unwrap();
    assert_eq!((batch.num_calls(), previous.num_calls()), (1, 0));

    // Eight requests needing it at once (each with its own copy of the ring) share one read.
    let reads = (0..8).map(|_| {
        let ring = secrets.jwt.clone();
        tokio::spawn(async move { ring.previous().await.unwrap().map(|k| k.expose().to_vec()) })
    });
    for read in reads {
        let key = read.await.unwrap().expect("the secret was rotated");
        assert_eq!(key, previous_value(JWT).secret_string().unwrap().as_bytes());
    }
    assert_eq!(previous.num_calls(), 1);
}

fn throttled() -> GetSecretValueError {
    GetSecretValueError::generic(
        ErrorMetadata::builder()
            .code("ThrottlingException")
            .message("Rate exceeded")
            .build(),
    )
}

/// A client over `rules` that does not retry (each failure the rules give is the outcome).
macro_rules! client_without_retries {
    ($($rule:expr),+) => {
        mock_client!(aws_sdk_secretsmanager, RuleMode::MatchAny, [$($rule),+], |config| {
            config.retry_config(aws_sdk_secretsmanager::config::retry::RetryConfig::disabled())
        })
    };
}

#[tokio::test]
async fn a_previous_version_without_an_answer_is_a_503_tried_again_only_after_a_pause() {
    tokio::time::pause();
    let batch = batch_of_both();
    let previous = previous_of(JWT)
        .sequence()
        .error(throttled)
        .output(|| previous_value(JWT))
        .build();
    let client = client_without_retries!(&batch, &previous);
    let secrets = Secrets::load(&client, JWT, CURSOR).await.unwrap();

    let error = secrets.jwt.previous().await.unwrap_err();
    assert!(
        matches!(error, SecretError::Unreadable { ref id, transient: true, .. } if id == JWT),
        "{error:?}"
    );
    assert!(
        matches!(
            crate::error::DomainError::from(error),
            crate::error::DomainError::Unavailable
        ),
        "a 503, not a 401 that would sign the caller out"
    );
    // Within the pause, no new request, however many ask at once (forged tokens during an
    // outage cost nothing).
    let asking = (0..5).map(|_| {
        let ring = secrets.jwt.clone();
        tokio::spawn(async move { ring.previous().await.is_err() })
    });
    for refused in asking {
        assert!(refused.await.unwrap());
    }
    assert_eq!(previous.num_calls(), 1);

    tokio::time::advance(RETRY_AFTER).await;
    assert!(secrets.jwt.previous().await.unwrap().is_some());
    assert_eq!(previous.num_calls(), 2);
}

#[tokio::test]
async fn a_refused_previous_version_is_final_and_what_it_signed_is_refused() {
    tokio::time::pause();
    let batch = batch_of_both();
    let previous = previous_of(JWT).then_error(access_denied);
    let client = client_without_retries!(&batch, &previous);
    let secrets = Secrets::load(&client, JWT, CURSOR).await.unwrap();

    // Access denied does not go away by asking again: no version to verify with (a 401 for
    // what only it could have signed), and no further request.
    assert!(secrets.jwt.previous().await.unwrap().is_none());
    tokio::time::advance(RETRY_AFTER * 3).await;
    assert!(secrets.jwt.previous().await.unwrap().is_none());
    assert_eq!(previous.num_calls(), 1);
}

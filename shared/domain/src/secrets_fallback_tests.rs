//! What start-up does when `BatchGetSecretValue` is refused or answers for only some secrets:
//! cases moto cannot produce (it enforces no IAM policy), so the Secrets Manager responses are
//! injected with `aws-smithy-mocks`. The happy path runs against moto in the API tests.

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

use super::{SecretError, Secrets};

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
    ring.current.expose().to_vec()
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
    assert!(secrets.jwt.previous.is_none());
    assert_eq!(
        (refused.num_calls(), jwt.num_calls(), cursor.num_calls()),
        (1, 1, 1)
    );
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
    let SecretError::Unreadable { id, reason } = &error else {
        panic!("not an unreadable secret: {error:?}");
    };
    assert_eq!(id, CURSOR);
    assert!(reason.contains("ResourceNotFoundException"), "{reason}");
    // The signing keys came from the batch: not fetched again.
    assert_eq!((jwt_alone.num_calls(), cursor_missing.num_calls()), (0, 1));
}

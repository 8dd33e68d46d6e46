//! Reading secret versions: the current versions of several secrets in one
//! `BatchGetSecretValue`, and one version of one secret with `GetSecretValue`.

use aws_sdk_secretsmanager::Client;

use super::{SecretError, SecretKey};

/// `fetch` of each of `ids` (three at most: a function's secrets), concurrently, in order.
pub(super) async fn each<'a, F, T>(ids: &[&'a str], fetch: impl Fn(&'a str) -> F) -> Vec<T>
where
    F: std::future::Future<Output = T>,
{
    debug_assert!(ids.len() <= 3, "a function has three secrets at most");
    let slot = |index: usize| {
        let fetching = ids.get(index).map(|id| fetch(id));
        async move {
            match fetching {
                Some(fetching) => Some(fetching.await),
                None => None,
            }
        }
    };
    let (first, second, third) = tokio::join!(slot(0), slot(1), slot(2));
    [first, second, third].into_iter().flatten().collect()
}

/// The current version of each of `ids` that one `BatchGetSecretValue` returns (`None`: the
/// secret has no string value); the ids it does not answer for are missing. An error only
/// when the batch got no answer (timeouts, no connection): fetching the secrets one by one
/// would fail the same way.
pub(super) async fn current_versions<'a>(
    client: &Client,
    ids: &[&'a str],
) -> Result<std::collections::HashMap<&'a str, Option<SecretKey>>, SecretError> {
    let began = std::time::Instant::now();
    let output = client
        .batch_get_secret_value()
        .set_secret_id_list(Some(ids.iter().map(|id| (*id).to_owned()).collect()))
        .send()
        .await;
    tracing::debug!(
        target: "dispatch::cold_start",
        secrets = ids.len(),
        ms = began.elapsed().as_secs_f64() * 1000.0,
        "BatchGetSecretValue"
    );
    let output = match output {
        Ok(output) => output,
        Err(e) if e.as_service_error().is_some() => {
            tracing::warn!(
                error = %one_line(&aws_sdk_secretsmanager::error::DisplayErrorContext(&e)),
                "BatchGetSecretValue refused; fetching each secret with GetSecretValue (allow \
                 secretsmanager:BatchGetSecretValue to save the requests)"
            );
            return Ok(Default::default());
        }
        Err(e) => {
            return Err(SecretError::Unreadable {
                id: ids.join(", "),
                transient: transient(&e),
                reason: one_line(&aws_sdk_secretsmanager::error::DisplayErrorContext(&e)),
            });
        }
    };
    let mut values = std::collections::HashMap::new();
    for entry in output.secret_values() {
        if let Some(&id) = ids.iter().find(|id| answers(entry, id)) {
            values.insert(id, key_from(id, entry.secret_string().map(str::to_owned))?);
        }
    }
    Ok(values)
}

/// Whether a batch entry is the secret named by `id`: its name, its ARN, or its ARN without
/// the six random characters Secrets Manager appends (a partial ARN).
pub(super) fn answers(entry: &aws_sdk_secretsmanager::types::SecretValueEntry, id: &str) -> bool {
    entry.name() == Some(id)
        || entry.arn().is_some_and(|arn| {
            arn == id
                || arn
                    .strip_prefix(id)
                    .is_some_and(|rest| rest.len() == 7 && rest.starts_with('-'))
        })
}

/// A key from a secret's string value (`None`: the secret has no string value).
fn key_from(id: &str, value: Option<String>) -> Result<Option<SecretKey>, SecretError> {
    let Some(value) = value else {
        return Ok(None);
    };
    SecretKey::new(value.into_bytes())
        .map(Some)
        .ok_or_else(|| SecretError::TooShort { id: id.into() })
}

pub(super) async fn load_version(
    client: &Client,
    id: &str,
    stage: &str,
) -> Result<Option<SecretKey>, SecretError> {
    let began = std::time::Instant::now();
    let output = client
        .get_secret_value()
        .secret_id(id)
        .version_stage(stage)
        .send()
        .await;
    tracing::debug!(
        target: "dispatch::cold_start",
        secret = id,
        stage,
        ms = began.elapsed().as_secs_f64() * 1000.0,
        "GetSecretValue"
    );
    let output = match output {
        Ok(output) => output,
        Err(e)
            if stage != "AWSCURRENT"
                && e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            return Ok(None);
        }
        Err(e) => {
            return Err(SecretError::Unreadable {
                id: id.into(),
                transient: transient(&e),
                reason: one_line(&aws_sdk_secretsmanager::error::DisplayErrorContext(&e)),
            });
        }
    };
    key_from(id, output.secret_string().map(str::to_owned))
}

/// Whether a failed call may succeed later: no answer (timeouts, no connection, a broken
/// response), throttling, or Secrets Manager's own 5xx. Refusals (access denied, a secret
/// whose KMS key cannot decrypt it, an invalid request) stay refusals.
fn transient<E, R>(error: &aws_sdk_secretsmanager::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_secretsmanager::error::ProvideErrorMetadata,
{
    use aws_sdk_secretsmanager::error::SdkError;
    match error {
        SdkError::ServiceError(service) => matches!(
            service.err().code(),
            Some("ThrottlingException" | "InternalServiceError" | "ServiceUnavailable")
        ),
        SdkError::ConstructionFailure(_) => false,
        _ => true,
    }
}

/// An SDK error's chain on one line (start-up failures are printed as exactly one line).
fn one_line(error: &impl std::fmt::Display) -> String {
    error
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

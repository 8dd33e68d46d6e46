//! A secret's two versions: the current one, read at start-up, and the previous one, read the
//! first time something does not verify with the current key.
//!
//! Only a rotated secret has a previous version, and only what was signed or sealed before
//! the rotation needs it. Reading it at every cold start was one more Secrets Manager request
//! per secret, and start-up waited for it; now a process reads it at most once, on demand,
//! and concurrent requests share that one read. A read that got no answer (or was throttled)
//! is not cached as an answer: the request gets a 503 (retry) rather than a 401, and no new
//! read starts within [`RETRY_AFTER`] of the last one, so forged tokens during an outage
//! cannot turn into a request each. A refusal (access denied, a key that cannot decrypt) is
//! final: it is logged as an error and the secret is treated as never rotated.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use aws_sdk_secretsmanager::Client;
use tokio::sync::OnceCell;

use super::{SecretError, SecretKey, versions};

/// How long after a failed read of a previous version the next one is tried.
pub const RETRY_AFTER: Duration = Duration::from_secs(5);

/// The current key, and the previous one during a rotation (what it signed still verifies).
#[derive(Debug, Clone)]
pub struct KeyRing {
    current: SecretKey,
    previous: Previous,
}

#[derive(Debug, Clone)]
enum Previous {
    /// Given (tests, tools that read both versions themselves).
    Known(Option<SecretKey>),
    /// Read from Secrets Manager on first use.
    OnDemand(Arc<OnDemand>),
}

struct OnDemand {
    client: Client,
    id: String,
    read: OnceCell<Option<SecretKey>>,
    attempted_at: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for OnDemand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnDemand")
            .field("id", &self.id)
            .field("read", &self.read.get())
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// A ring whose previous version is known (`None`: the secret was never rotated).
    pub fn new(current: SecretKey, previous: Option<SecretKey>) -> Self {
        Self {
            current,
            previous: Previous::Known(previous),
        }
    }

    /// A ring whose previous version is read from secret `id` when first needed.
    pub fn previous_on_demand(current: SecretKey, client: &Client, id: &str) -> Self {
        Self {
            current,
            previous: Previous::OnDemand(Arc::new(OnDemand {
                client: client.clone(),
                id: id.to_owned(),
                read: OnceCell::new(),
                attempted_at: Mutex::new(None),
            })),
        }
    }

    /// The key that signs and seals.
    pub fn current(&self) -> &SecretKey {
        &self.current
    }

    /// The previous version, if the secret has one (read at most once per process).
    pub async fn previous(&self) -> Result<Option<&SecretKey>, SecretError> {
        match &self.previous {
            Previous::Known(previous) => Ok(previous.as_ref()),
            // Once read, the cell answers without waiting; until then concurrent callers
            // wait for the one read in progress.
            Previous::OnDemand(on_demand) => on_demand
                .read
                .get_or_try_init(|| on_demand.read_once())
                .await
                .map(Option::as_ref),
        }
    }

    /// `check` with the current key, and only if that finds nothing (`None`: not this key's
    /// signature), with the previous key. `Ok(None)`: no version of the secret signed it.
    pub async fn first_match<T>(
        &self,
        check: impl Fn(&SecretKey) -> Option<T>,
    ) -> Result<Option<T>, SecretError> {
        if let Some(found) = check(&self.current) {
            return Ok(Some(found));
        }
        Ok(self.previous().await?.and_then(check))
    }
}

impl OnDemand {
    /// One read, unless one began less than [`RETRY_AFTER`] ago and did not succeed. The
    /// attempt is recorded before the call, so neither a request cut off mid-read nor the
    /// requests queued behind a failed read start another one within the pause.
    async fn read_once(&self) -> Result<Option<SecretKey>, SecretError> {
        {
            let mut attempted = self.attempted_at.lock().unwrap_or_else(|e| e.into_inner());
            if attempted.is_some_and(|at| at.elapsed() < RETRY_AFTER) {
                return Err(SecretError::Unreadable {
                    id: self.id.clone(),
                    reason: "the previous version could not be read moments ago".into(),
                    transient: true,
                });
            }
            *attempted = Some(Instant::now());
        }
        match versions::load_version(&self.client, &self.id, "AWSPREVIOUS").await {
            Ok(read) => {
                tracing::info!(secret = %self.id, rotated = read.is_some(), "previous version read");
                Ok(read)
            }
            Err(error) if error.is_transient() => {
                tracing::warn!(error = %error, "previous version of a secret unreadable for now");
                Err(error)
            }
            // A refusal does not go away by asking again: without that version, what it signed
            // is refused (401), as if the secret had never been rotated.
            Err(error) => {
                tracing::error!(error = %error, "previous version of a secret refused; ignoring it");
                Ok(None)
            }
        }
    }
}

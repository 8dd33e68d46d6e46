//! A secret's two versions: the current one, read at start-up, and the previous one, read the
//! first time something does not verify with the current key.
//!
//! Only a rotated secret has a previous version, and only what was signed or sealed before
//! the rotation needs it. Reading it at every cold start was one more Secrets Manager request
//! per secret, and start-up waited for it; now a process reads it at most once, on demand,
//! and concurrent requests share that one read. A failed read is not cached as an answer: the
//! request gets a 503 (retry) rather than a 401, and the next read is tried after
//! [`RETRY_AFTER`], so forged tokens during an outage cannot turn into a request each.

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
    failed_at: Mutex<Option<Instant>>,
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
                failed_at: Mutex::new(None),
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
            Previous::OnDemand(on_demand) => on_demand.get().await.map(Option::as_ref),
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
    async fn get(&self) -> Result<&Option<SecretKey>, SecretError> {
        if let Some(read) = self.read.get() {
            return Ok(read);
        }
        let failed_at = *self.failed_at.lock().unwrap_or_else(|e| e.into_inner());
        if failed_at.is_some_and(|at| at.elapsed() < RETRY_AFTER) {
            return Err(SecretError::Unreadable {
                id: self.id.clone(),
                reason: "the previous version could not be read moments ago".into(),
            });
        }
        let read = self
            .read
            .get_or_try_init(|| versions::load_version(&self.client, &self.id, "AWSPREVIOUS"))
            .await;
        match read {
            Ok(read) => {
                tracing::info!(secret = %self.id, rotated = read.is_some(), "previous version read");
                Ok(read)
            }
            Err(error) => {
                *self.failed_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
                tracing::warn!(error = %error, "previous version of a secret unreadable");
                Err(error)
            }
        }
    }
}

//! The pool that runs argon2: at most one hash or verification per core at a time, each in the
//! working memory of its slot, the others waiting their turn.
//!
//! argon2 needs 19 MiB of working memory per run. Allocating it per call costs page faults on
//! every login (about half of an argon2 run), and with glibc's per-thread arenas every blocking
//! thread kept its copy: under 8 concurrent logins the dev server reached 620–955 MB resident.
//! Here there are as many slots as cores (`std::thread::available_parallelism`), since argon2
//! is CPU-bound and more runs at once only share the same cores. Each slot owns one working
//! memory, allocated the first time the slot is used and then reused for the life of the
//! process; slots are handed out last-in first-out, so a function serving one request at a time
//! (a Lambda) only ever allocates one. At most `size × 19 MiB` is therefore held for argon2.
//!
//! Waiting is a FIFO [`Semaphore`] (first come, first served) and cancellation-safe: a request
//! dropped while it waits (a timeout, a closed connection) takes nothing and gives nothing back;
//! one dropped after it got its slot leaves the slot to its blocking task, which gives it back
//! when the run ends (the run itself is not interruptible).
//!
//! A stored hash whose parameters need more memory than a slot holds (a hash made elsewhere
//! with a bigger `m_cost`, never one of ours: hashing always uses the defaults) runs in a
//! temporary allocation of exactly its size, freed after the run, still inside its slot (so it
//! counts against the same bound, and its size is capped by the caller's `MAX_STORED_M_COST`).
//! Growing the slot instead would keep up to 256 MiB resident for good after a single such
//! login.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use argon2::{Block, Params};
use tokio::sync::Semaphore;
use tokio::task::JoinError;

/// Blocks of working memory a slot holds: what the default parameters (the ones every hash of
/// ours uses) need, 19 MiB.
pub(super) const SLOT_BLOCKS: usize = Params::DEFAULT.block_count();

/// Slots, each with its working memory, behind a FIFO semaphore.
pub(super) struct Pool {
    /// One permit per free slot.
    permits: Semaphore,
    /// The memories of the free slots, last returned on top. Empty vectors are slots whose
    /// memory is not allocated yet.
    free: Mutex<Vec<Vec<Block>>>,
    size: usize,
    /// Slots in use now, and the most ever in use at once.
    busy: AtomicUsize,
    peak: AtomicUsize,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("size", &self.size)
            .field("busy", &self.busy)
            .field("peak", &self.peak)
            .finish_non_exhaustive()
    }
}

impl Pool {
    /// A pool of `size` slots (at least one); no memory is allocated yet.
    pub(super) fn new(size: usize) -> Arc<Self> {
        let size = size.max(1);
        Arc::new(Self {
            permits: Semaphore::new(size),
            free: Mutex::new((0..size).map(|_| Vec::new()).collect()),
            size,
            busy: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        })
    }

    /// The process's pool: one slot per core. Every [`super::Passwords`] shares it, so the bound
    /// holds however many are built.
    pub(super) fn shared() -> Arc<Self> {
        static SHARED: OnceLock<Arc<Pool>> = OnceLock::new();
        Arc::clone(SHARED.get_or_init(|| {
            Self::new(
                std::thread::available_parallelism()
                    .map(NonZeroUsize::get)
                    .unwrap_or(1),
            )
        }))
    }

    /// Waits for a slot (in arrival order), then runs `work` with its memory on a blocking
    /// thread. Dropping the returned future while it waits takes no slot; dropping it later
    /// lets `work` finish, and the slot comes back when it does.
    pub(super) async fn run<R: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&mut Memory<'_>) -> R + Send + 'static,
    ) -> Result<R, JoinError> {
        let lease = self.acquire().await;
        tokio::task::spawn_blocking(move || {
            let mut lease = lease;
            work(&mut Memory(&mut lease.memory))
        })
        .await
    }

    /// Takes a free slot, waiting for one. Nothing between the permit and the lease awaits, so
    /// a cancelled caller either holds a lease (which gives everything back when dropped) or
    /// took nothing.
    async fn acquire(self: &Arc<Self>) -> Lease {
        match self.permits.acquire().await {
            // The permit is given back by the lease's `drop`, after the memory.
            Ok(permit) => permit.forget(),
            Err(_) => unreachable!("the pool's semaphore is never closed"),
        }
        let memory = self
            .free
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .unwrap_or_default();
        let busy = self.busy.fetch_add(1, Ordering::AcqRel) + 1;
        self.peak.fetch_max(busy, Ordering::AcqRel);
        Lease {
            pool: Arc::clone(self),
            memory,
        }
    }

    /// Slots free now.
    #[cfg(test)]
    pub(super) fn available(&self) -> usize {
        self.permits.available_permits()
    }

    /// The most slots ever in use at once.
    #[cfg(test)]
    pub(super) fn peak(&self) -> usize {
        self.peak.load(Ordering::Acquire)
    }

    /// The blocks allocated in each free slot (0: not allocated yet).
    #[cfg(test)]
    pub(super) fn free_memories(&self) -> Vec<usize> {
        let free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        free.iter().map(Vec::len).collect()
    }
}

/// A slot in use: its memory, given back with the permit when dropped (after the run, or if
/// the blocking task never starts because the runtime is shutting down).
struct Lease {
    pool: Arc<Pool>,
    memory: Vec<Block>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        let memory = std::mem::take(&mut self.memory);
        self.pool
            .free
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(memory);
        self.pool.busy.fetch_sub(1, Ordering::AcqRel);
        // Last, so that whoever gets the permit finds the memory there.
        self.pool.permits.add_permits(1);
    }
}

/// The working memory of the slot a run holds.
pub(super) struct Memory<'a>(&'a mut Vec<Block>);

impl Memory<'_> {
    /// Runs `run` with `blocks` blocks of memory: the slot's own (allocated at [`SLOT_BLOCKS`]
    /// the first time) when they fit, else a temporary allocation of exactly `blocks`.
    pub(super) fn with_blocks<R>(
        &mut self,
        blocks: usize,
        run: impl FnOnce(&mut [Block]) -> R,
    ) -> R {
        if blocks > SLOT_BLOCKS {
            return run(&mut vec![Block::default(); blocks]);
        }
        if self.0.len() < SLOT_BLOCKS {
            *self.0 = vec![Block::default(); SLOT_BLOCKS];
        }
        run(&mut self.0[..blocks])
    }
}

/// A slot's memory for the blocking functions' own tests.
#[cfg(test)]
pub(super) fn scratch(memory: &mut Vec<Block>) -> Memory<'_> {
    Memory(memory)
}

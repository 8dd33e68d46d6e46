//! The pool: its bound, memory reuse, cancellation and order.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use super::pool::{Pool, SLOT_BLOCKS};

/// Waits until `done` holds (a blocking task finishing on its own thread), for at most 10 s.
async fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// 4 × N runs started together: the number running at once, counted by the runs themselves,
/// reaches N and never passes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pool_never_runs_more_than_its_size_at_once() {
    const N: usize = 3;
    let pool = Pool::new(N);
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let mut runs = Vec::new();
    for i in 0..4 * N {
        let (pool, running, most) = (Arc::clone(&pool), Arc::clone(&running), Arc::clone(&most));
        runs.push(tokio::spawn(async move {
            pool.run(move |_| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(25));
                running.fetch_sub(1, Ordering::SeqCst);
                i
            })
            .await
            .unwrap()
        }));
    }
    let mut done = Vec::new();
    for run in runs {
        done.push(run.await.unwrap());
    }
    done.sort_unstable();
    assert_eq!(done, (0..4 * N).collect::<Vec<_>>(), "every run ran once");
    assert_eq!(
        most.load(Ordering::SeqCst),
        N,
        "at most N at once, and N were used"
    );
    assert_eq!(pool.peak(), N);
    assert_eq!(pool.available(), N, "every slot came back");
}

/// Runs one after the other use one slot: its memory is allocated once, then reused (same
/// address); the other slot never allocates.
#[tokio::test]
async fn a_slot_allocates_its_memory_once_and_reuses_it() {
    let pool = Pool::new(2);
    assert_eq!(
        pool.free_memories(),
        vec![0, 0],
        "nothing allocated up front"
    );
    let mut addresses = Vec::new();
    for _ in 0..5 {
        addresses.push(
            pool.run(|memory| memory.with_blocks(SLOT_BLOCKS, |blocks| blocks.as_ptr() as usize))
                .await
                .unwrap(),
        );
    }
    addresses.dedup();
    assert_eq!(addresses.len(), 1, "one memory, reused");
    let mut memories = pool.free_memories();
    memories.sort_unstable();
    assert_eq!(memories, vec![0, SLOT_BLOCKS]);
}

/// A slot held by a run that waits for `release`, and the pool once the run holds it.
async fn held(size: usize) -> (Arc<Pool>, mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
    let pool = Pool::new(size);
    let (release, wait) = mpsc::channel::<()>();
    let holder = tokio::spawn({
        let pool = Arc::clone(&pool);
        async move {
            pool.run(move |_| wait.recv().unwrap()).await.unwrap();
        }
    });
    eventually("the holder holds its slot", || pool.available() == size - 1).await;
    (pool, release, holder)
}

/// A waiter dropped before it gets a slot (a timeout) takes none and gives none back: the pool
/// still has exactly its size afterwards, and the dropped work never runs.
#[tokio::test]
async fn a_cancelled_waiter_releases_nothing_it_did_not_take() {
    let (pool, release, holder) = held(1).await;
    let ran = Arc::new(AtomicBool::new(false));
    let waiter = pool.run({
        let ran = Arc::clone(&ran);
        move |_| ran.store(true, Ordering::SeqCst)
    });
    assert!(
        tokio::time::timeout(Duration::from_millis(30), waiter)
            .await
            .is_err(),
        "the waiter waits while the slot is held"
    );
    assert_eq!(pool.available(), 0, "the holder still holds the only slot");
    release.send(()).unwrap();
    holder.await.unwrap();
    assert_eq!(
        pool.available(),
        1,
        "one slot: nothing extra was given back"
    );
    assert!(
        !ran.load(Ordering::SeqCst),
        "the dropped waiter's work never ran"
    );
    // The pool still serves, one at a time.
    pool.run(|_| ()).await.unwrap();
    assert_eq!((pool.available(), pool.peak()), (1, 1));
}

/// A request dropped after it got its slot (its run under way) does not lose the slot: the run
/// finishes on its blocking thread and gives it back.
#[tokio::test]
async fn a_request_dropped_during_its_run_gives_the_slot_back_when_the_run_ends() {
    let pool = Pool::new(1);
    let (release, wait) = mpsc::channel::<()>();
    let finished = Arc::new(AtomicBool::new(false));
    let request = pool.run({
        let finished = Arc::clone(&finished);
        move |_| {
            wait.recv().unwrap();
            finished.store(true, Ordering::SeqCst);
        }
    });
    assert!(
        tokio::time::timeout(Duration::from_millis(30), request)
            .await
            .is_err()
    );
    assert_eq!(pool.available(), 0, "the run still holds its slot");
    release.send(()).unwrap();
    eventually("the slot comes back", || pool.available() == 1).await;
    assert!(finished.load(Ordering::SeqCst));
    pool.run(|_| ()).await.unwrap();
}

/// Waiters are served in the order they arrived.
#[tokio::test]
async fn waiters_are_served_in_arrival_order() {
    let (pool, release, holder) = held(1).await;
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut waiters = Vec::new();
    for i in 0..5 {
        let (pool, order) = (Arc::clone(&pool), Arc::clone(&order));
        waiters.push(tokio::spawn(async move {
            pool.run(move |_| order.lock().unwrap().push(i))
                .await
                .unwrap();
        }));
        // Let it reach the queue before the next one arrives.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }
    release.send(()).unwrap();
    holder.await.unwrap();
    for waiter in waiters {
        waiter.await.unwrap();
    }
    assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
}

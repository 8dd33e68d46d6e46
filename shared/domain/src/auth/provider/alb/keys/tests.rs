//! The key cache under failures, floods and timeouts.

use super::source::key_url;
use super::*;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
};
use std::sync::atomic::{AtomicUsize, Ordering};

fn pem_of(alg: &'static aws_lc_rs::signature::EcdsaSigningAlgorithm, tag: &str) -> String {
    let pair = EcdsaKeyPair::generate(alg).unwrap();
    let der = pair.public_key().as_der().unwrap();
    pem::encode(&pem::Pem::new(tag, der.as_ref()))
}

fn a_key() -> Key {
    parse_pem(pem_of(&ECDSA_P256_SHA256_FIXED_SIGNING, "PUBLIC KEY").as_bytes()).unwrap()
}

#[test]
fn only_a_p256_public_key_pem_is_a_key() {
    let good = pem_of(&ECDSA_P256_SHA256_FIXED_SIGNING, "PUBLIC KEY");
    assert!(parse_pem(good.as_bytes()).is_ok());
    assert!(parse_pem(good.replace('\n', "\r\n").as_bytes()).is_ok());
    let p384 = pem_of(&ECDSA_P384_SHA384_FIXED_SIGNING, "PUBLIC KEY");
    assert_eq!(
        parse_pem(p384.as_bytes()).err(),
        Some("not a P-256 public key")
    );
    let cert = pem_of(&ECDSA_P256_SHA256_FIXED_SIGNING, "CERTIFICATE");
    assert_eq!(
        parse_pem(cert.as_bytes()).err(),
        Some("not a PUBLIC KEY PEM")
    );
    assert_eq!(parse_pem(b"<html>").err(), Some("not PEM"));
    let junk = pem::encode(&pem::Pem::new("PUBLIC KEY", vec![0x30, 0x03, 1, 2, 3]));
    assert!(parse_pem(junk.as_bytes()).is_err());
}

#[test]
fn the_key_url_is_https_or_loopback_http_and_the_kid_stays_a_path_segment() {
    let aws = key_base("https://public-keys.auth.elb.eu-west-1.amazonaws.com").unwrap();
    assert_eq!(
        key_url(&aws, "0f1e-2d").unwrap().as_str(),
        "https://public-keys.auth.elb.eu-west-1.amazonaws.com/0f1e-2d"
    );
    let local = key_base("http://127.0.0.1:8080/keys/").unwrap();
    assert_eq!(
        key_url(&local, "k").unwrap().as_str(),
        "http://127.0.0.1:8080/keys/k"
    );
    assert!(key_base("http://localhost:1").is_ok());
    assert!(key_base("http://[::1]:1").is_ok());
    for bad in [
        "http://public-keys.auth.elb.eu-west-1.amazonaws.com",
        "http://10.0.0.1",
        "ftp://127.0.0.1",
        "file:///etc",
        "https://user:pw@example.com",
        "https://example.com/?q=1",
        "https://example.com/#f",
        "not a url",
    ] {
        assert!(key_base(bad).is_err(), "{bad}");
    }
}

#[tokio::test]
async fn a_kid_is_fetched_once_while_fresh_and_once_at_a_time() {
    let cache = Arc::new(KeyCache::new(Duration::from_secs(60)));
    let fetches = Arc::new(AtomicUsize::new(0));
    let key = a_key();
    let get = |cache: Arc<KeyCache>| {
        let fetches = Arc::clone(&fetches);
        let key = Arc::clone(&key);
        async move {
            cache
                .get("k", || async move {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Ok(key)
                })
                .await
        }
    };
    let all: Vec<_> = (0..8)
        .map(|_| tokio::spawn(get(Arc::clone(&cache))))
        .collect();
    for task in all {
        assert!(task.await.unwrap().is_ok());
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
    assert!(get(Arc::clone(&cache)).await.is_ok());
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}

/// Short times, for tests.
fn quick() -> Policy {
    Policy {
        ttl: Duration::from_millis(100),
        fetch_timeout: Duration::from_millis(200),
        stale_grace: Duration::from_secs(60),
        failure_backoff: Duration::from_millis(300),
        negative_ttl: Duration::from_millis(400),
        new_kid_interval: Duration::from_secs(60),
        new_kids_per_interval: 4,
        repeated_kids_per_interval: 2,
    }
}

/// A fetch that counts its calls and answers `answer` after `delay`.
fn counted(
    calls: &Arc<AtomicUsize>,
    delay: Duration,
    answer: Result<Key, Refused>,
) -> impl FnOnce() -> std::pin::Pin<Box<dyn Future<Output = Result<Key, Refused>>>> {
    let calls = Arc::clone(calls);
    move || {
        Box::pin(async move {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(delay).await;
            answer
        })
    }
}

#[tokio::test]
async fn a_failed_fetch_is_not_kept_and_a_stale_key_is_fetched_again() {
    let cache = KeyCache::with_policy(quick());
    assert_eq!(
        cache.get("k", || async { Err("down") }).await.err(),
        Some("down")
    );
    // Not retried within the backoff, then fetched again.
    assert!(
        cache
            .get("k", || async { Err("not called") })
            .await
            .is_err()
    );
    tokio::time::sleep(Duration::from_millis(310)).await;
    let key = a_key();
    assert!(
        cache
            .get("k", || async { Ok(Arc::clone(&key)) })
            .await
            .is_ok()
    );
    assert!(cache.get("k", || async { Err("not called") }).await.is_ok());
    // Stale: fetched again (and the fresh key kept).
    tokio::time::sleep(Duration::from_millis(110)).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let fresh = a_key();
    let got = cache
        .get("k", counted(&calls, Duration::ZERO, Ok(Arc::clone(&fresh))))
        .await
        .unwrap();
    assert!(Arc::ptr_eq(&got, &fresh));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_stale_key_serves_while_the_endpoint_is_down_and_is_retried_after_a_backoff() {
    let cache = KeyCache::with_policy(quick());
    let key = a_key();
    let calls = Arc::new(AtomicUsize::new(0));
    let down = || counted(&calls, Duration::ZERO, Err("key fetch failed"));
    assert!(
        cache
            .get("k", || async { Ok(Arc::clone(&key)) })
            .await
            .is_ok()
    );
    tokio::time::sleep(Duration::from_millis(110)).await;
    // Past the TTL, the endpoint down: the old key, one attempt for the whole backoff.
    for _ in 0..10 {
        let got = cache.get("k", down()).await.unwrap();
        assert!(Arc::ptr_eq(&got, &key));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_millis(310)).await;
    for _ in 0..10 {
        assert!(cache.get("k", down()).await.is_ok());
    }
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    // Past the grace, nothing is left to serve.
    let cache = KeyCache::with_policy(Policy {
        stale_grace: Duration::from_millis(50),
        ..quick()
    });
    assert!(
        cache
            .get("k", || async { Ok(Arc::clone(&key)) })
            .await
            .is_ok()
    );
    tokio::time::sleep(Duration::from_millis(160)).await;
    assert!(cache.get("k", down()).await.is_err());
    assert!(cache.get("k", down()).await.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_slow_endpoint_keeps_no_request_waiting_past_one_fetch() {
    let cache = Arc::new(KeyCache::with_policy(quick()));
    let key = a_key();
    assert!(
        cache
            .get("k", || async { Ok(Arc::clone(&key)) })
            .await
            .is_ok()
    );
    tokio::time::sleep(Duration::from_millis(110)).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let hanging = |kid: &'static str| {
        let (cache, calls) = (Arc::clone(&cache), Arc::clone(&calls));
        tokio::spawn(async move {
            let started = Instant::now();
            let got = cache
                .get(kid, || async {
                    calls.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    Err("never")
                })
                .await;
            (got, started.elapsed())
        })
    };
    // The stale key: one request drives the refresh, the others do not wait.
    let stale: Vec<_> = (0..10).map(|_| hanging("k")).collect();
    // A new kid: everybody waits for the one fetch, no longer than its timeout.
    let new: Vec<_> = (0..10).map(|_| hanging("n")).collect();
    for task in stale {
        let (got, took) = task.await.unwrap();
        assert!(got.is_ok());
        assert!(took < Duration::from_millis(350), "{took:?}");
    }
    for task in new {
        let (got, took) = task.await.unwrap();
        assert_eq!(got.err(), Some("key fetch timed out"));
        assert!(took < Duration::from_millis(350), "{took:?}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_kid_not_found_is_not_fetched_again_within_the_window() {
    let cache = KeyCache::with_policy(quick());
    let calls = Arc::new(AtomicUsize::new(0));
    let missing = || counted(&calls, Duration::ZERO, Err(NO_SUCH_KEY));
    assert_eq!(cache.get("x", missing()).await.err(), Some(NO_SUCH_KEY));
    for _ in 0..20 {
        assert!(cache.get("x", missing()).await.is_err());
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // Other failures are retried sooner (the backoff, not the negative window).
    tokio::time::sleep(Duration::from_millis(310)).await;
    assert!(cache.get("x", missing()).await.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(cache.get("x", missing()).await.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(cache.kids(), 0);
}

#[tokio::test]
async fn a_flood_of_made_up_kids_neither_evicts_a_key_nor_keeps_a_new_kid_out() {
    let cache = Arc::new(KeyCache::with_policy(Policy {
        ttl: Duration::from_secs(60),
        ..quick()
    }));
    // A full cache of real keys.
    let good = a_key();
    for i in 0..MAX_KEYS {
        let key = Arc::clone(&good);
        assert!(
            cache
                .get(&format!("k{i}"), || async { Ok(key) })
                .await
                .is_ok()
        );
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let flood = |round: usize| {
        (0..500)
            .map(|i| {
                let (cache, calls) = (Arc::clone(&cache), Arc::clone(&calls));
                tokio::spawn(async move {
                    let kid = format!("{round}-{i:04}-made-up");
                    cache
                        .get(&kid, || async {
                            calls.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            Err(NO_SUCH_KEY)
                        })
                        .await
                })
            })
            .collect::<Vec<_>>()
    };
    let first = flood(0);
    tokio::task::yield_now().await;
    // While their fetches are in flight, the real keys serve without a fetch.
    for i in 0..MAX_KEYS {
        assert!(
            cache
                .get(&format!("k{i}"), || async { Err("not called") })
                .await
                .is_ok()
        );
    }
    for task in first {
        assert!(task.await.unwrap().is_err());
    }
    // The budget was spent on made-up kids: a handful fetched, the rest refused.
    assert_eq!(calls.load(Ordering::SeqCst), quick().new_kids_per_interval);
    assert_eq!(cache.kids(), MAX_KEYS);

    // The region rotates its key: users keep sending the new kid while the flood goes on.
    let rotated = a_key();
    let mut found = None;
    for attempt in 0..4 {
        let flooding = flood(attempt + 1);
        let key = Arc::clone(&rotated);
        if let Ok(key) = cache.get("rotated", || async { Ok(key) }).await {
            found = Some((attempt, key));
        }
        for task in flooding {
            assert!(task.await.unwrap().is_err());
        }
        if found.is_some() {
            break;
        }
    }
    let (attempt, key) = found.expect("the rotated kid was never fetched");
    assert!(attempt <= 1, "fetched at attempt {attempt}");
    assert!(Arc::ptr_eq(&key, &rotated));
    assert!(
        cache
            .get("rotated", || async { Err("not called") })
            .await
            .is_ok()
    );
    // Kept, and no real key was lost for it but the least used one.
    assert_eq!(cache.kids(), MAX_KEYS);
    let lost = (0..MAX_KEYS)
        .filter(|i| !lock(&cache.state).known.contains_key(&format!("k{i}")))
        .count();
    assert_eq!(lost, 1);
    // Made-up kids cost a bounded number of fetches, and their memory is bounded.
    let state = lock(&cache.state);
    assert!(state.negative.len() <= MAX_NEGATIVE);
    assert!(state.pending.len() <= MAX_PENDING);
    assert!(state.flights.is_empty());
    drop(state);
    assert!(
        calls.load(Ordering::SeqCst)
            <= quick().new_kids_per_interval + quick().repeated_kids_per_interval
    );
}

#[tokio::test]
async fn the_cache_is_bounded() {
    let cache = KeyCache::new(Duration::from_secs(60));
    let key = a_key();
    for i in 0..MAX_KEYS * 3 {
        let key = Arc::clone(&key);
        assert!(
            cache
                .get(&format!("k{i}"), || async { Ok(key) })
                .await
                .is_ok()
        );
        assert!(cache.kids() <= MAX_KEYS);
    }
    // Failures leave places that make room first.
    for i in 0..MAX_KEYS * 3 {
        let _ = cache.get(&format!("x{i}"), || async { Err("down") }).await;
        assert!(cache.kids() <= MAX_KEYS);
    }
}

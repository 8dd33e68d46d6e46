//! The policy, hashing and verification, and `Passwords` over a bounded pool.

use super::*;

#[test]
fn the_policy_counts_characters_after_stripping_and_caps_bytes() {
    assert!(Password::parse("  short  ").is_err());
    assert!(Password::parse("  exactly8  ").is_ok());
    assert!(Password::parse(&"x".repeat(128)).is_ok());
    assert!(
        Password::parse(&"x".repeat(129))
            .unwrap_err()
            .msg
            .contains("at most 128 characters")
    );
    // The byte cap is checked first, before counting characters of a huge input.
    assert!(Password::parse(&"𝄞".repeat(128)).is_ok());
    assert!(
        Password::parse(&"𝄞".repeat(129))
            .unwrap_err()
            .msg
            .contains("512 bytes")
    );
    assert!(Password::parse("").unwrap_err().msg.contains("at least 8"));
}

#[test]
fn new_passwords_follow_dispatchs_complexity_rules_in_order() {
    let msg = |raw: &str| Password::parse_new(raw).unwrap_err().msg;
    assert_eq!(
        msg("short"),
        "Value error, Password must be at least 8 characters long"
    );
    assert_eq!(
        msg("no digits here"),
        "Value error, Password must contain at least one number"
    );
    assert_eq!(
        msg("lower case 1"),
        "Value error, Password must contain both uppercase and lowercase characters"
    );
    assert!(Password::parse_new("Mixed case 1").is_ok());
}

#[test]
fn the_dummy_hash_uses_the_default_parameters() {
    let parsed = PasswordHash::new(DUMMY_HASH).expect("valid PHC string");
    let params = argon2::Params::try_from(&parsed).expect("argon2 parameters");
    let defaults = argon2::Params::default();
    assert_eq!(
        (params.m_cost(), params.t_cost(), params.p_cost()),
        (defaults.m_cost(), defaults.t_cost(), defaults.p_cost())
    );
    assert_eq!(parsed.algorithm.as_str(), "argon2id");
}

#[test]
fn hashes_interoperate_with_the_argon2_crates_phc_strings() {
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};
    let mut slot = Vec::new();
    let memory = &mut pool::scratch(&mut slot);
    let ours = hash_blocking(memory, b"correct horse battery").unwrap();
    let parsed = PasswordHash::new(&ours).unwrap();
    assert!(
        Argon2::default()
            .verify_password(b"correct horse battery", &parsed)
            .is_ok()
    );
    let theirs = Argon2::default()
        .hash_password(b"correct horse battery")
        .unwrap()
        .to_string();
    assert!(verify_blocking(memory, b"correct horse battery", &theirs));
    assert!(!verify_blocking(memory, b"wrong horse battery", &theirs));
    let greedy = theirs.replace("m=19456", "m=4194304");
    assert!(
        !verify_blocking(memory, b"correct horse battery", &greedy),
        "huge stored costs are refused"
    );
}

#[tokio::test]
async fn hash_then_verify_round_trips_and_counts() {
    let passwords = Passwords::default();
    let password = Password::parse("correct horse battery").unwrap();
    let hash = passwords.hash(&password).await.unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
    assert!(passwords.verify(&password, Some(&hash)).await);
    let wrong = Password::parse("incorrect horse").unwrap();
    assert!(!passwords.verify(&wrong, Some(&hash)).await);
    assert!(
        !passwords.verify(&password, None).await,
        "the dummy never matches"
    );
    assert_eq!(passwords.verifications(), 3);
}

#[test]
fn stored_hashes_with_other_memory_costs_verify() {
    use argon2::password_hash::PasswordHasher;
    let phc = |m_cost: u32| {
        let params = Params::new(m_cost, 1, 1, None).unwrap();
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"correct horse battery")
            .unwrap()
            .to_string()
    };
    let mut slot = Vec::new();
    let memory = &mut pool::scratch(&mut slot);
    // Smaller than a slot: its first blocks.
    assert!(verify_blocking(
        memory,
        b"correct horse battery",
        &phc(4096)
    ));
    assert_eq!(slot.len(), pool::SLOT_BLOCKS);
    // Bigger than a slot: a temporary allocation; the slot keeps its size.
    let memory = &mut pool::scratch(&mut slot);
    let bigger = phc(2 * Params::DEFAULT_M_COST);
    assert!(verify_blocking(memory, b"correct horse battery", &bigger));
    assert!(!verify_blocking(memory, b"wrong horse battery!", &bigger));
    assert_eq!(slot.len(), pool::SLOT_BLOCKS);
}

/// 4 × N concurrent verifications through a pool of N: never more than N at once, every
/// answer right, every verification counted, at most N working memories.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_verifications_share_a_bounded_pool_and_stay_correct() {
    const N: usize = 2;
    let pool = Pool::new(N);
    let passwords = Arc::new(Passwords::with_pool(Arc::clone(&pool)));
    let right = Password::parse("correct horse battery").unwrap();
    let stored = passwords.hash(&right).await.unwrap();
    let wrong = Password::parse("incorrect horse").unwrap();
    let mut runs = Vec::new();
    for i in 0..4 * N {
        let (passwords, stored) = (Arc::clone(&passwords), stored.clone());
        let (password, stored, expected) = match i % 3 {
            0 => (right.clone(), Some(stored), true),
            1 => (wrong.clone(), Some(stored), false),
            _ => (right.clone(), None, false),
        };
        runs.push(tokio::spawn(async move {
            passwords.verify(&password, stored.as_deref()).await == expected
        }));
    }
    for run in runs {
        assert!(run.await.unwrap(), "a verification answered wrong");
    }
    assert_eq!(passwords.verifications(), 4 * N as u64);
    assert!(pool.peak() <= N, "{} runs at once", pool.peak());
    assert_eq!(pool.available(), N, "every slot came back");
    let memories = pool.free_memories();
    assert_eq!(memories.len(), N);
    assert!(memories.iter().all(|&m| m == 0 || m == pool::SLOT_BLOCKS));
}

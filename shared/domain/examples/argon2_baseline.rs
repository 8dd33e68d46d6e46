//! Baseline for BENCHMARKS.md: the median time of one bare argon2id hash and one verification
//! with the parameters logins use (`cargo run --release -p dispatch-domain --example
//! argon2_baseline`).

use std::time::Instant;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[samples.len() / 2]
}

fn main() {
    let password = b"correct horse battery";
    let runs = 31;
    let mut hashes = Vec::with_capacity(runs);
    let mut stored = String::new();
    for _ in 0..runs {
        let start = Instant::now();
        stored = Argon2::default()
            .hash_password(password)
            .expect("hash")
            .to_string();
        hashes.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let parsed = PasswordHash::new(&stored).expect("PHC string");
    let mut verifications = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        Argon2::default()
            .verify_password(password, &parsed)
            .expect("verify");
        verifications.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "{{\"argon2_hash_median_ms\": {:.2}, \"argon2_verify_median_ms\": {:.2}, \"runs\": {runs}}}",
        median(hashes),
        median(verifications)
    );
}

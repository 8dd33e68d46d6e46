//! Peak memory of concurrent password verifications, for BENCHMARKS.md ("Bounded password
//! hashing"): CLIENTS tasks (default 8) each verify a password ROUNDS times (default 20), either
//! through `Passwords` (the bounded pool: one argon2 run per core, each in its slot's reused
//! memory) or, with `per-call`, each on its own blocking thread with its own 19 MiB (what the
//! login did before the pool whenever the one shared memory was busy). Prints one JSON line
//! with the process's peak RSS (VmHWM).
//!
//! `cargo run --release -p dispatch-domain --example argon2_concurrency -- [pool|per-call] [CLIENTS] [ROUNDS]`

use std::sync::Arc;
use std::time::Instant;

use argon2::Argon2;
use argon2::password_hash::PasswordVerifier;
use argon2::password_hash::phc::PasswordHash;
use dispatch_domain::auth::{Password, Passwords};

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "pool".into());
    let clients: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(8);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let per_call = match mode.as_str() {
        "pool" => false,
        "per-call" => true,
        other => panic!("unknown mode {other:?} (pool or per-call)"),
    };

    let passwords = Arc::new(Passwords::default());
    let password = Password::parse("correct horse battery").expect("valid password");
    let stored: Arc<str> = passwords.hash(&password).await.expect("hash").into();
    let idle_kb = vm_hwm_kb();

    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (passwords, password, stored) = (
            Arc::clone(&passwords),
            password.clone(),
            Arc::clone(&stored),
        );
        tasks.push(tokio::spawn(async move {
            for _ in 0..rounds {
                let ok = if per_call {
                    let stored = Arc::clone(&stored);
                    tokio::task::spawn_blocking(move || {
                        let parsed = PasswordHash::new(&stored).expect("PHC string");
                        Argon2::default()
                            .verify_password(b"correct horse battery", &parsed)
                            .is_ok()
                    })
                    .await
                    .expect("verification task")
                } else {
                    passwords.verify(&password, Some(&stored)).await
                };
                assert!(ok, "the right password verifies");
            }
        }));
    }
    for task in tasks {
        task.await.expect("client");
    }
    let wall = start.elapsed().as_secs_f64();
    let total = clients * rounds;
    println!(
        "{{\"mode\": \"{mode}\", \"clients\": {clients}, \"verifications\": {total}, \"wall_s\": {wall:.2}, \"per_s\": {:.1}, \"cores\": {}, \"idle_vm_hwm_kb\": {idle_kb}, \"vm_hwm_kb\": {}}}",
        total as f64 / wall,
        std::thread::available_parallelism().map_or(1, usize::from),
        vm_hwm_kb()
    );
}

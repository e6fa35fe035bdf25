//! Peak memory of a burst of concurrent password verifications: endpoint-auth's bounded pool
//! against verifying on as many threads as requests arrive, with argon2's own allocation per
//! verification (what a handler calling `argon2::PasswordVerifier` from a blocking thread pool
//! does).
//!
//! Run with `cargo bench -p endpoint-auth --bench burst_memory`. Each variant runs in a child
//! process of its own so that its peak resident set (`VmHWM`) is its own; Linux only.
#![allow(missing_docs)] // a benchmark binary

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use argon2::PasswordVerifier as _;
use endpoint_auth::{
    verifier::{PasswordVerifier, VerificationPool, VerifyError},
    HashPolicy, PoolConfig,
};

/// Concurrent requests in the burst, and how many bursts.
const BURST: usize = 64;
const ROUNDS: usize = 3;

fn main() {
    match std::env::var("BURST_MEMORY_VARIANT").as_deref() {
        Ok("pool") => pool(),
        Ok("per-request") => per_request(),
        _ => compare(),
    }
}

fn compare() {
    if !std::path::Path::new("/proc/self/status").exists() {
        eprintln!("burst_memory needs /proc (Linux); skipped");
        return;
    }
    println!("{BURST} concurrent verifications x {ROUNDS} rounds, argon2id m=19456 KiB t=2 p=1");
    let mut peaks = Vec::new();
    for variant in ["pool", "per-request"] {
        let out = Command::new(std::env::current_exe().expect("this benchmark's path"))
            .env("BURST_MEMORY_VARIANT", variant)
            .output()
            .expect("the variant runs");
        let report = String::from_utf8_lossy(&out.stdout);
        print!("{report}");
        let peak: f64 = report
            .lines()
            .find_map(|line| line.split("peak_rss_mib=").nth(1))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("the variant reports its peak");
        peaks.push(peak);
    }
    println!(
        "peak RSS ratio, endpoint-auth pool / per-request: {:.3}",
        peaks[0] / peaks[1]
    );
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmHWM in /proc/self/status");
    kib / 1024.0
}

fn stored_hash() -> String {
    HashPolicy::owasp()
        .hash("correct horse battery staple")
        .expect("hashing")
}

/// endpoint-auth: one worker per core; every request of the burst is queued and verified, as in
/// the peer.
fn pool() {
    let stored = stored_hash();
    let pool = VerificationPool::new(HashPolicy::owasp(), PoolConfig::new()).expect("pool");
    let started = Instant::now();
    let (mut verified, mut shed) = (0, 0);
    for _ in 0..ROUNDS {
        let pending: Vec<_> = (0..BURST)
            .map(|_| pool.verify("correct horse battery staple", &stored))
            .collect();
        for answer in pending {
            match pollster::block_on(answer) {
                Ok(verification) => {
                    assert!(verification.matched);
                    verified += 1;
                }
                Err(VerifyError::Busy { .. }) => shed += 1,
                Err(other) => panic!("{other}"),
            }
        }
    }
    println!(
        "endpoint-auth pool ({} workers): verified={verified} shed_503={shed} elapsed={:.2}s peak_rss_mib={:.1}",
        pool.workers(),
        started.elapsed().as_secs_f64(),
        peak_rss_mib()
    );
}

/// The peer: one thread per concurrent request, argon2 allocating its memory per verification.
fn per_request() {
    let stored = Arc::new(stored_hash());
    let started = Instant::now();
    let mut verified = 0;
    for _ in 0..ROUNDS {
        let threads: Vec<_> = (0..BURST)
            .map(|_| {
                let stored = stored.clone();
                std::thread::spawn(move || {
                    let hash = argon2::PasswordHash::new(&stored).expect("a PHC string");
                    argon2::Argon2::default()
                        .verify_password(b"correct horse battery staple", &hash)
                        .is_ok()
                })
            })
            .collect();
        for thread in threads {
            assert!(thread.join().expect("verification thread"));
            verified += 1;
        }
    }
    println!(
        "per-request threads, argon2 allocating per verification: verified={verified} shed_503=0 elapsed={:.2}s peak_rss_mib={:.1}",
        started.elapsed().as_secs_f64(),
        peak_rss_mib()
    );
}

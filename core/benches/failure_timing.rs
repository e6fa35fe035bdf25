//! Response time of every kind of refusal (SPEC §3): an unknown, disabled, unconfirmed or locked
//! account, and a wrong password for argon2id (OWASP parameters), bcrypt cost 5 and bcrypt cost
//! 12 accounts, through the whole `authenticate_users` pipeline over the memory store.
//!
//! Kinds are interleaved round by round, so that drift in the machine's load falls on all of
//! them alike; the medians are printed side by side with their ratio to the argon2id wrong
//! password, which SPEC §3 asks all of them to match within ±10%. Also prints the CPU time the
//! process spent per refusal, which shows that the padding is waiting, not work.
//!
//! ```sh
//! cargo bench -p endpoint-auth --bench failure_timing [-- --rounds N]
//! ```
#![forbid(unsafe_code)]
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use endpoint_auth::{
    lockout::LockDuration, Authenticator, ClientAddress, Credentials, HashPolicy, LockoutPolicy,
    MemoryStore, NewUser, Requirements, User,
};

const PASSWORD: &str = "correct horse battery staple";

struct Kind {
    label: &'static str,
    username: &'static str,
    password: &'static str,
    requirements: Requirements,
}

fn main() {
    let rounds = std::env::args()
        .skip_while(|arg| arg != "--rounds")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(15usize);
    let policy = HashPolicy::owasp();
    let argon2id = policy.hash(PASSWORD).unwrap();
    let store = MemoryStore::new();
    let add = |user: NewUser| {
        store.insert(user).unwrap();
    };
    add(NewUser::new("argon2id@example.com", Some(argon2id.clone())));
    add(NewUser::new(
        "bcrypt5@example.com",
        Some(bcrypt::hash(PASSWORD, 5).unwrap()),
    ));
    add(NewUser::new(
        "bcrypt12@example.com",
        Some(bcrypt::hash(PASSWORD, 12).unwrap()),
    ));
    add(NewUser::new("disabled@example.com", Some(argon2id.clone())).enabled(false));
    add(NewUser::new("unconfirmed@example.com", Some(argon2id.clone())).confirmed_email(false));
    let mut locked = NewUser::new("locked@example.com", Some(argon2id));
    locked.n_password_failures = 1_000_000;
    add(locked);

    // Locks that never expire, at a limit the wrong passwords below never reach; the locked
    // account is far past it.
    let auth: Authenticator<User> = Authenticator::builder(store)
        .hash_policy(policy)
        .lockout(
            LockoutPolicy::new()
                .max_failures(100_000)
                .duration(LockDuration::UntilReset),
        )
        .build()
        .unwrap();

    let confirmed = Requirements::new().confirmed_email(true);
    let kinds = [
        Kind {
            label: "wrong password, argon2id",
            username: "argon2id@example.com",
            password: "wrong",
            requirements: Requirements::new(),
        },
        Kind {
            label: "unknown user",
            username: "nobody@example.com",
            password: PASSWORD,
            requirements: Requirements::new(),
        },
        Kind {
            label: "wrong password, bcrypt 5",
            username: "bcrypt5@example.com",
            password: "wrong",
            requirements: Requirements::new(),
        },
        Kind {
            label: "wrong password, bcrypt 12",
            username: "bcrypt12@example.com",
            password: "wrong",
            requirements: Requirements::new(),
        },
        Kind {
            label: "disabled",
            username: "disabled@example.com",
            password: PASSWORD,
            requirements: Requirements::new(),
        },
        Kind {
            label: "unconfirmed",
            username: "unconfirmed@example.com",
            password: PASSWORD,
            requirements: confirmed,
        },
        Kind {
            label: "locked",
            username: "locked@example.com",
            password: PASSWORD,
            requirements: Requirements::new(),
        },
    ];
    let client = ClientAddress::new([127, 0, 0, 1].into());
    let once = |kind: &Kind| {
        let header = Credentials::new(kind.username, kind.password)
            .unwrap()
            .to_header_value();
        let started = Instant::now();
        let outcome = pollster::block_on(auth.authenticate_user(
            [header.as_bytes()],
            client,
            kind.requirements,
        ));
        let took = started.elapsed();
        match outcome {
            Err(rejection) => {
                assert_eq!(rejection.status(), 401, "{}", kind.label)
            }
            other => panic!("{}: {other:?}", kind.label),
        }
        took
    };
    // Three rounds unmeasured: the floor learns what each hash family costs on this machine.
    for _ in 0..3 {
        kinds.iter().for_each(|kind| {
            once(kind);
        });
    }
    let mut samples = vec![Vec::with_capacity(rounds); kinds.len()];
    let cpu_before = process_cpu();
    for _ in 0..rounds {
        for (kind, times) in kinds.iter().zip(&mut samples) {
            times.push(once(kind));
        }
    }
    let cpu = process_cpu().saturating_sub(cpu_before);
    let medians: Vec<Duration> = samples.iter_mut().map(|times| median(times)).collect();
    let reference = medians[0].as_secs_f64();
    println!("refusal timing, {rounds} rounds, medians (ratio to a wrong argon2id password):");
    println!("| kind | median | ÷ wrong password, argon2id |");
    println!("|---|---:|---:|");
    for (kind, median) in kinds.iter().zip(&medians) {
        println!(
            "| {} | {:.1} ms | {:.3} |",
            kind.label,
            median.as_secs_f64() * 1000.0,
            median.as_secs_f64() / reference
        );
    }
    let refusals = (rounds * kinds.len()) as f64;
    println!(
        "process CPU per refusal: {:.1} ms (wall clock per refusal: {:.1} ms)",
        cpu.as_secs_f64() * 1000.0 / refusals,
        medians.iter().map(Duration::as_secs_f64).sum::<f64>() * 1000.0 / kinds.len() as f64
    );
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

/// User + system CPU time of this process so far, from `/proc/self/stat` (Linux); zero elsewhere.
fn process_cpu() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let after = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    // The kernel's USER_HZ is 100 on every Linux configuration in use.
    Duration::from_millis(ticks * 10)
}

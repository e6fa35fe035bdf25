//! Load benchmark of endpoint-auth's servers.
//!
//! ```sh
//! cargo run --release -p endpoint-auth-bench -- [--quick] [--markdown FILE]
//! ```
//!
//! builds the `endpoint-auth` command and this crate's `bench-server` in release mode, starts
//! them on loopback (free ports), drives them with [wrk](https://github.com/wg/wrk) and prints
//! one table: every row beside the no-authentication `/open` of the same framework, measured in
//! the same run, in interleaved rounds (forward, then backward) so that drift weighs on every
//! configuration alike.
//!
//! ```text
//!   cargo build --release ──► endpoint-auth (CLI), bench-server
//!   in-process: one argon2id verification's time (→ the machine's limit),
//!               64 identical first logins (→ verifications counted)
//!   per framework: bench-server (memory store, peers on axum)
//!                  endpoint-auth serve --demo over SQLite, and PostgreSQL
//!   rounds × configurations ──► wrk ──► Lua summary line ──► WrkReport
//!   per framework: fresh CLI server, probe alone, 64-connection storm + probe, VmHWM
//!   ──► report: medians, ratios, targets ──► table (stdout, --markdown FILE)
//! ```
//!
//! Every process it starts is stopped by its PID: when done with, on an error, and on Ctrl-C
//! or SIGTERM. PostgreSQL rows use `ENDPOINT_AUTH_TEST_POSTGRES_URL` (a database of the run's
//! own is created there and dropped at the end) and are skipped with a note when it is unset.
//!
//! It needs `wrk` on `PATH` (Debian: `apt-get install -y wrk`) and Linux (`/proc` for the
//! servers' peak memory).
#![forbid(unsafe_code)]

pub mod binaries;
pub mod error;
pub mod harness;
pub mod inprocess;
pub mod net;
pub mod plan;
pub mod postgres;
pub mod process;
pub mod report;
pub mod table;
pub mod target;
pub mod wrk;

pub use error::BenchError;

/// The demo user's email, as the CLI's `serve --demo` creates it.
pub const DEMO_EMAIL: &str = "user123@gmail.com";
/// The demo user's password.
pub const DEMO_PASSWORD: &str = "mySuperS3cretPassw0rd";

/// How to call the benchmark.
pub const USAGE: &str =
    "usage: cargo run --release -p endpoint-auth-bench -- [--quick] [--markdown FILE]

  --quick           one short round (about 1.5 minutes) instead of three (about 7)
  --markdown FILE   also write the table as Markdown to FILE

Needs wrk on PATH. PostgreSQL rows run when ENDPOINT_AUTH_TEST_POSTGRES_URL is set.";

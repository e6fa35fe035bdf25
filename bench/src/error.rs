//! Why a benchmark run stopped.

use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

/// Everything that stops a run. Missed targets are results, not errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// The command line could not be understood.
    #[error("{0}\n\n{usage}", usage = crate::USAGE)]
    Usage(String),
    /// `wrk` is not installed.
    #[error("wrk is not on PATH; install it (Debian: `apt-get update && apt-get install -y wrk`)")]
    WrkMissing,
    /// `cargo` could not be started.
    #[error("could not run cargo ({program}) to build the servers: {source}")]
    CargoMissing {
        /// The cargo that was tried (`$CARGO`, or `cargo`).
        program: String,
        /// Why it did not start.
        source: std::io::Error,
    },
    /// `cargo build` failed.
    #[error("building the servers failed ({0}); cargo's errors are above")]
    BuildFailed(ExitStatus),
    /// `cargo build` succeeded but did not report one of the binaries.
    #[error("cargo did not produce the binary `{0}`")]
    BinaryMissing(&'static str),
    /// A process could not be started.
    #[error("could not start {name} ({program}): {source}")]
    Spawn {
        /// What the process is in this run.
        name: String,
        /// The program.
        program: String,
        /// Why it did not start.
        source: std::io::Error,
    },
    /// A server exited or never answered `GET /open` with 200.
    #[error("{name} did not start: {reason}; its output ends with:\n{log}")]
    ServerStart {
        /// Which server.
        name: String,
        /// What went wrong.
        reason: String,
        /// The end of what it printed.
        log: String,
    },
    /// A request the benchmark checks before measuring got the wrong answer.
    #[error("{name}: GET {path} answered {got}, expected {expected}; the server is not serving what this row measures")]
    Sanity {
        /// The configuration.
        name: String,
        /// The path requested.
        path: String,
        /// The status received (0: no answer).
        got: u16,
        /// The status expected.
        expected: u16,
    },
    /// wrk failed or printed no summary.
    #[error("wrk ({name}) failed: {reason}; its output ends with:\n{output}")]
    Wrk {
        /// The run.
        name: String,
        /// What went wrong.
        reason: String,
        /// The end of what it printed.
        output: String,
    },
    /// A process did not finish in time and was stopped.
    #[error("{name} did not finish within {timeout:?} and was stopped")]
    Timeout {
        /// The process.
        name: String,
        /// How long it was given.
        timeout: Duration,
    },
    /// PostgreSQL could not be prepared or cleaned up.
    #[error("PostgreSQL ({url}): could not {action}: {source}")]
    Postgres {
        /// The server URL, without any password.
        url: String,
        /// What was attempted.
        action: &'static str,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// `ENDPOINT_AUTH_TEST_POSTGRES_URL` is not a `postgres://` URL with a database name.
    #[error("ENDPOINT_AUTH_TEST_POSTGRES_URL must look like postgres://USER@HOST:PORT/DATABASE, got {0}")]
    PostgresUrl(String),
    /// The in-process measurements failed.
    #[error("in-process measurement failed: {0}")]
    InProcess(String),
    /// A file could not be read or written.
    #[error("{action} {path}: {source}")]
    File {
        /// What was attempted.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// Another I/O failure.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Ctrl-C or SIGTERM.
    #[error("interrupted; every process this run started was stopped")]
    Interrupted,
}

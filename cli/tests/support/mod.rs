//! Running the real `endpoint-auth` binary against throwaway databases.
// Each test file uses a different part of this module, and `pub` only marks its interface.
#![allow(dead_code, unreachable_pub)]

pub mod pg;
pub mod proxy;
pub mod server;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use endpoint_auth::UserStore;
use endpoint_auth_sql::SqlStore;

/// Runs the binary with `args`, feeding `stdin` (or nothing: stdin closed) and extra `env`.
/// Runs curl with `--include`; returns the status code, the response head as sent, and the
/// body, or curl's error.
pub fn try_curl(args: &[&str]) -> Result<(u16, String, String), String> {
    let out = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "30", "--include"])
        .args(args)
        .output()
        .expect("curl is installed (.ci/run installs it)");
    if !out.status.success() {
        return Err(format!(
            "curl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8(out.stdout).expect("UTF-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("headers and body");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    Ok((status, head.to_owned(), body.to_owned()))
}

/// [`try_curl`], which must succeed.
pub fn curl(args: &[&str]) -> (u16, String, String) {
    try_curl(args).unwrap_or_else(|error| panic!("{error}"))
}

pub fn endpoint_auth(args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_endpoint-auth"));
    command
        .args(args)
        .env_remove("ENDPOINT_AUTH_DB")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the endpoint-auth binary starts");
    let mut input = child.stdin.take().expect("piped stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("writing stdin");
    }
    drop(input);
    child.wait_with_output().expect("the binary finishes")
}

/// A fresh SQLite database in its own temporary directory.
pub struct Db {
    dir: tempfile::TempDir,
    url: String,
}

impl Db {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("users.db").display());
        Self { dir, url }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--db", &self.url]);
        endpoint_auth(&all, stdin, &[])
    }

    /// Runs a command that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "{args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    /// Runs a command that must fail; returns its stderr.
    pub fn fails(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin);
        assert!(
            !out.status.success(),
            "{args:?} should have failed: {out:?}"
        );
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        let err = String::from_utf8(out.stderr).expect("UTF-8 errors");
        assert!(err.starts_with("error: "), "{err}");
        err
    }

    /// The stored hash of a user, read straight from the database.
    pub fn password_hash(&self, email: &str) -> String {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let store = SqlStore::connect(&self.url)
                .await
                .expect("the database opens");
            let record = store.find_user(email).await.expect("the store answers");
            store.close().await;
            record
                .and_then(|r| r.password_hash)
                .expect("the user has a password")
        })
    }
}

/// Waits up to `timeout` for `condition`, polling.
pub fn wait_for(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    condition()
}

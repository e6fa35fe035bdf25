//! Building the servers in release mode and finding their executables.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::error::BenchError;
use crate::process::Processes;

/// The executables the run starts.
#[derive(Debug, Clone)]
pub struct Binaries {
    /// The `endpoint-auth` command.
    pub cli: PathBuf,
    /// This crate's `bench-server`.
    pub bench_server: PathBuf,
}

const CLI: &str = "endpoint-auth";
const BENCH_SERVER: &str = "bench-server";
/// A cold release build of the workspace on a small machine takes minutes, not hours.
const BUILD_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// Runs `cargo build --release` for both binaries (a no-op when they are up to date), reads
/// their paths from cargo's JSON messages, and copies them into `dir`, so that the run uses
/// what it built even if the target directory is rebuilt meanwhile. cargo runs as one of
/// `processes`, so that Ctrl-C stops it too.
pub fn build(processes: &Processes, dir: &Path) -> Result<Binaries, BenchError> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(|root| root.join("Cargo.toml"))
        .unwrap_or_else(|| PathBuf::from("Cargo.toml"));
    eprintln!("building {CLI} and {BENCH_SERVER} (release)…");
    let messages_path = dir.join("cargo-messages.json");
    let messages_file = File::create(&messages_path).map_err(|source| BenchError::File {
        action: "create",
        path: messages_path.clone(),
        source,
    })?;
    let mut command = Command::new(&cargo);
    command
        .args([
            "build",
            "--release",
            "--message-format=json-render-diagnostics",
        ])
        .arg("--manifest-path")
        .arg(&manifest)
        .args(["-p", "endpoint-auth-cli", "--bin", CLI])
        .args(["-p", "endpoint-auth-bench", "--bin", BENCH_SERVER])
        .stdin(Stdio::null())
        .stdout(messages_file)
        .stderr(Stdio::inherit());
    let pid = processes
        .spawn("cargo build", &mut command)
        .map_err(|e| match e {
            BenchError::Spawn { source, .. } => BenchError::CargoMissing {
                program: cargo.clone(),
                source,
            },
            other => other,
        })?;
    let status = processes.wait(pid, BUILD_TIMEOUT)?;
    if !status.success() {
        return Err(BenchError::BuildFailed(status));
    }
    let messages = std::fs::read_to_string(&messages_path).map_err(|source| BenchError::File {
        action: "read",
        path: messages_path.clone(),
        source,
    })?;
    let snapshot = |name: &'static str| -> Result<PathBuf, BenchError> {
        let built = executable(&messages, name).ok_or(BenchError::BinaryMissing(name))?;
        let copy = dir.join(name);
        std::fs::copy(&built, &copy).map_err(|source| BenchError::File {
            action: "copy",
            path: built.clone(),
            source,
        })?;
        Ok(copy)
    };
    Ok(Binaries {
        cli: snapshot(CLI)?,
        bench_server: snapshot(BENCH_SERVER)?,
    })
}

/// The `executable` of the last `compiler-artifact` message for the binary target `name`.
pub fn executable(messages: &str, name: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .filter(|message| message["target"]["name"] == name)
        .filter(|message| {
            message["target"]["kind"]
                .as_array()
                .is_some_and(|kinds| kinds.iter().any(|k| k == "bin"))
        })
        .filter_map(|message| message["executable"].as_str().map(PathBuf::from))
        .next_back()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_binary_among_cargo_messages() {
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"endpoint-auth","kind":["lib"]},"executable":null}
{"reason":"compiler-artifact","target":{"name":"endpoint-auth","kind":["bin"]},"executable":"/t/release/endpoint-auth"}
{"reason":"compiler-artifact","target":{"name":"bench-server","kind":["bin"]},"executable":"/t/release/bench-server"}
not json
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            executable(messages, "endpoint-auth"),
            Some(PathBuf::from("/t/release/endpoint-auth"))
        );
        assert_eq!(
            executable(messages, "bench-server"),
            Some(PathBuf::from("/t/release/bench-server"))
        );
        assert_eq!(executable(messages, "other"), None);
    }
}

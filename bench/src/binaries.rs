//! Building the servers in release mode and finding their executables.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::BenchError;

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

/// Runs `cargo build --release` for both binaries (a no-op when they are up to date) and reads
/// their paths from cargo's JSON messages.
pub fn build() -> Result<Binaries, BenchError> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(|root| root.join("Cargo.toml"))
        .unwrap_or_else(|| PathBuf::from("Cargo.toml"));
    eprintln!("building {CLI} and {BENCH_SERVER} (release)…");
    let output = Command::new(&cargo)
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
        .stderr(Stdio::inherit())
        .output()
        .map_err(|source| BenchError::CargoMissing {
            program: cargo.clone(),
            source,
        })?;
    if !output.status.success() {
        return Err(BenchError::BuildFailed(output.status));
    }
    let messages = String::from_utf8_lossy(&output.stdout);
    Ok(Binaries {
        cli: executable(&messages, CLI).ok_or(BenchError::BinaryMissing(CLI))?,
        bench_server: executable(&messages, BENCH_SERVER)
            .ok_or(BenchError::BinaryMissing(BENCH_SERVER))?,
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

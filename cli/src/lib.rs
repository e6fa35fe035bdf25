//! The `endpoint-auth` command as a library: its arguments, its users commands, and the SPEC §7
//! routes it serves on axum, warp, rocket and actix-web (exposed so that the conformance suite
//! can run against exactly what `endpoint-auth serve` serves).
//!
//! ```text
//! endpoint-auth serve --demo                      # SPEC §7 routes on 127.0.0.1:8080, SQLite
//! endpoint-auth users add alice@example.com       # prompts for the password
//! endpoint-auth users import users.htpasswd --format htpasswd
//! endpoint-auth serve --forward-auth --trusted-proxy 127.0.0.1   # for nginx, Caddy, Traefik
//! endpoint-auth users list --json --db postgres://postgres@127.0.0.1/app
//! ```
//!
//! ```no_run
//! use clap::Parser;
//!
//! let cli = endpoint_auth_cli::args::Cli::parse_from(["endpoint-auth", "users", "list"]);
//! # let _ = cli;
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod args;
mod dates;
pub mod error;
pub mod import;
mod password;
pub mod serve;
pub mod users;

use endpoint_auth_sql::SqlStore;

use crate::args::{Cli, Command};
use crate::error::CliError;

/// Runs a parsed command line to completion.
///
/// # Errors
/// [`CliError`], which `main` prints as one `error: …` line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let mut stdout = std::io::stdout();
    match cli.command {
        Command::Hash(source) => users::hash(source, &mut stdout),
        Command::Completions { shell } => {
            use clap::CommandFactory as _;
            use std::io::Write as _;
            // Into memory first: clap_complete panics when its writer fails (e.g. `| head`).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "endpoint-auth", &mut script);
            stdout
                .write_all(&script)
                .and_then(|()| stdout.flush())
                .map_err(|e| CliError::Serve(format!("could not write to standard output: {e}")))
        }
        Command::Users(command) => {
            let store = SqlStore::connect(&cli.db).await?;
            let result = users::run(&store, command, &mut stdout).await;
            store.close().await;
            result
        }
        Command::Serve(args) => serve::run(&cli.db, args).await,
    }
}

//! The command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The database used when neither `--db` nor `ENDPOINT_AUTH_DB` says otherwise.
pub const DEFAULT_DB: &str = "sqlite://endpoint-auth.db";

/// Manage an endpoint-auth users database and serve HTTP Basic-authenticated endpoints.
#[derive(Debug, Parser)]
#[command(name = "endpoint-auth", version, about, propagate_version = true)]
pub struct Cli {
    /// Users database: `sqlite://FILE` (created on first use), `sqlite::memory:` or `postgres://…`.
    #[arg(long, global = true, env = "ENDPOINT_AUTH_DB", default_value = DEFAULT_DB, value_name = "URL")]
    pub db: String,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve /protected, /confirmed, /credentials and /open (SPEC §7) until Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// Manage users.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Print an argon2id PHC hash of a password (OWASP parameters).
    Hash(PasswordSource),
}

/// Options of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub bind: SocketAddr,
    /// Web framework to serve with.
    #[arg(long, value_enum, default_value_t = Framework::Axum)]
    pub framework: Framework,
    /// Realm named in the `WWW-Authenticate` challenge.
    #[arg(long, default_value = "endpoint-auth", value_name = "TEXT")]
    pub realm: String,
    /// Make sure the demo user (user123@gmail.com / mySuperS3cretPassw0rd) exists and print how
    /// to call the server with curl.
    #[arg(long)]
    pub demo: bool,
    /// Close a connection that has not sent a complete request head within SECS (1 to 30); an idle
    /// keep-alive connection is closed after the same time.
    #[arg(
        long,
        env = "ENDPOINT_AUTH_HEADER_TIMEOUT",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=30),
        value_name = "SECS"
    )]
    pub header_timeout: u64,
    /// Serve at most N connections at once; further ones wait in the listen backlog. Lowered
    /// when the open-files limit would not allow N.
    #[arg(
        long,
        env = "ENDPOINT_AUTH_MAX_CONNECTIONS",
        default_value_t = 1024,
        value_parser = clap::value_parser!(u32).range(1..=1_000_000),
        value_name = "N"
    )]
    pub max_connections: u32,
}

/// The frameworks `serve` can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Framework {
    /// axum 0.8
    Axum,
    /// warp 0.4
    Warp,
    /// rocket 0.5
    Rocket,
    /// actix-web 4
    Actix,
}

/// Where a password comes from.
#[derive(Debug, Clone, Copy, Args)]
pub struct PasswordSource {
    /// Read the password from the first line of standard input instead of prompting.
    #[arg(long)]
    pub password_stdin: bool,
}

/// The `users` subcommands.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a user (prompts for the password).
    Add {
        /// The login email.
        email: String,
        /// Create the user with an unconfirmed email.
        #[arg(long)]
        unconfirmed: bool,
        /// Create the user disabled.
        #[arg(long)]
        disabled: bool,
        /// How the password is read.
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Set a user's password (and clear its failure count).
    Passwd {
        /// The login email.
        email: String,
        /// How the password is read.
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Let a user log in.
    Enable {
        /// The login email.
        email: String,
    },
    /// Stop a user from logging in.
    Disable {
        /// The login email.
        email: String,
    },
    /// Mark a user's email as confirmed.
    Confirm {
        /// The login email.
        email: String,
    },
    /// Clear a user's failure count and with it any lockout.
    Unlock {
        /// The login email.
        email: String,
    },
    /// Delete a user.
    Remove {
        /// The login email.
        email: String,
    },
    /// List users (never their password hashes).
    List {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Import users from a file, all or nothing.
    Import {
        /// The file to read.
        file: PathBuf,
        /// Its format.
        #[arg(long, value_enum)]
        format: ImportFormat,
    },
}

/// Formats `users import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// nginx/Apache htpasswd: `user:hash` lines (bcrypt or argon2 hashes).
    Htpasswd,
    /// An Anvil Users table CSV export.
    AnvilCsv,
}

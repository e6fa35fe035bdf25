//! The command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};
use endpoint_auth::client::TrustedProxy;

/// The database used when neither `--db` nor `ENDPOINT_AUTH_DB` says otherwise.
pub const DEFAULT_DB: &str = "sqlite://endpoint-auth.db";

/// Manage an endpoint-auth users database and serve HTTP Basic-authenticated endpoints.
#[derive(Debug, Parser)]
#[command(name = "endpoint-auth", version, about, propagate_version = true)]
pub struct Cli {
    /// Users database: `sqlite://FILE` (created on first use), `sqlite::memory:` or `postgres://…`.
    #[arg(long, global = true, env = "ENDPOINT_AUTH_DB", hide_env_values = true, default_value = DEFAULT_DB, value_name = "URL")]
    pub db: String,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve /protected, /confirmed and /open (SPEC §7), and /credentials with --demo, until
    /// Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// Manage users.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Print an argon2id PHC hash of a password (OWASP parameters).
    Hash(PasswordSource),
    /// Print a shell completion script, e.g. `endpoint-auth completions bash > /etc/bash_completion.d/endpoint-auth`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Options of `serve`. Each can also come from the `ENDPOINT_AUTH_*` variable `--help` names;
/// on/off settings take `true`/`false`, `1`/`0`, `yes`/`no` or `on`/`off` there.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the address is printed).
    #[arg(
        long,
        env = "ENDPOINT_AUTH_BIND",
        default_value = "127.0.0.1:8080",
        value_name = "ADDR"
    )]
    pub bind: SocketAddr,
    /// Web framework to serve with.
    #[arg(long, env = "ENDPOINT_AUTH_FRAMEWORK", value_enum, default_value_t = Framework::Axum)]
    pub framework: Framework,
    /// Realm named in the `WWW-Authenticate` challenge.
    #[arg(
        long,
        env = "ENDPOINT_AUTH_REALM",
        default_value = "endpoint-auth",
        value_name = "TEXT"
    )]
    pub realm: String,
    /// Also serve `GET /credentials`, which echoes the username and password it receives (to test
    /// decoding; serve it only to yourself), make sure the demo user (user123@gmail.com /
    /// mySuperS3cretPassw0rd) exists, and print how to call the server with curl.
    #[arg(long, env = "ENDPOINT_AUTH_DEMO", value_parser = BoolishValueParser::new())]
    pub demo: bool,
    /// Serve only `/auth`, for a reverse proxy's per-request authentication (nginx
    /// `auth_request`, Caddy `forward_auth`, Traefik `ForwardAuth`): `200` with `X-Auth-User` and
    /// `Remote-User` for a user's right credentials, else the 401 (or 429, 503) to pass on.
    #[arg(long, env = "ENDPOINT_AUTH_FORWARD_AUTH", value_parser = BoolishValueParser::new())]
    pub forward_auth: bool,
    /// With --forward-auth: accept only users whose email is confirmed.
    #[arg(long, env = "ENDPOINT_AUTH_CONFIRMED_EMAIL", value_parser = BoolishValueParser::new(), requires = "forward_auth")]
    pub confirmed_email: bool,
    /// A proxy (IP address or CIDR network) whose `Forwarded` / `X-Forwarded-For` names the
    /// client for fair admission; repeatable (the variable takes a comma-separated list).
    /// Requests from other peers are admitted by their own address.
    #[arg(
        long = "trusted-proxy",
        env = "ENDPOINT_AUTH_TRUSTED_PROXY",
        value_delimiter = ',',
        value_name = "ADDR"
    )]
    pub trusted_proxies: Vec<TrustedProxy>,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key).
    #[arg(
        long,
        env = "ENDPOINT_AUTH_TLS_CERT",
        requires = "tls_key",
        value_name = "PATH"
    )]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(
        long,
        env = "ENDPOINT_AUTH_TLS_KEY",
        requires = "tls_cert",
        value_name = "PATH"
    )]
    pub tls_key: Option<PathBuf>,
    /// Also serve `GET /metrics`: Prometheus text format, unauthenticated (keep it off networks
    /// that should not see request counts).
    #[arg(long, env = "ENDPOINT_AUTH_METRICS", value_parser = BoolishValueParser::new())]
    pub metrics: bool,
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
        /// The file to read; `-` reads standard input.
        file: PathBuf,
        /// Its format.
        #[arg(long, value_enum)]
        format: ImportFormat,
        /// Also accept Apache's legacy htpasswd hashes (apr1-MD5 `$apr1$`, `{SHA}`): they are
        /// weak, and each is replaced by argon2id at its user's first successful login.
        #[arg(long)]
        allow_legacy_hashes: bool,
    },
}

/// Formats `users import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// nginx/Apache htpasswd: `user:hash` lines (bcrypt or argon2 hashes; apr1-MD5 and `{SHA}`
    /// with --allow-legacy-hashes).
    Htpasswd,
    /// An Anvil Users table CSV export.
    AnvilCsv,
}

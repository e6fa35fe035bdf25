//! Everything that can stop a command, each said in one line.

use endpoint_auth::{admin::AdminError, hash::HashError, BuildError};
use endpoint_auth_sql::ConnectError;

use crate::import::ImportError;

/// Why a command failed. `main` prints it as `error: …` and exits with status 1.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The users database could not be opened.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// A users operation failed.
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// An import file was refused.
    #[error(transparent)]
    Import(#[from] ImportError),
    /// A file could not be read.
    #[error("could not read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The password could not be read or is unusable.
    #[error("{0}")]
    Password(String),
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// The authenticator could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// A query of the users database failed.
    #[error("{0}")]
    Database(String),
    /// The TLS certificate or key cannot be used.
    #[error("TLS: {0}")]
    Tls(String),
    /// The server could not start or failed.
    #[error("{0}")]
    Serve(String),
}

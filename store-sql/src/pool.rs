//! [`SqlPool`] and [`Backend`]: which database a store talks to, and through what.

use std::fmt;

/// The kind of database behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// SQLite: one file (or memory), embedded in the process.
    Sqlite,
    /// PostgreSQL: a server that many instances share.
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        })
    }
}

/// A connection pool of one of the enabled backends: what a [`SqlStore`](crate::SqlStore) runs
/// its statements on. An application can run its own queries on it (for its own columns, say)
/// through [`SqlStore::pool`](crate::SqlStore::pool).
///
/// `Debug` shows the backend and the pool's size, never connection options (which may hold a
/// password).
#[derive(Clone)]
#[non_exhaustive]
pub enum SqlPool {
    /// A SQLite pool.
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    Sqlite(sqlx::SqlitePool),
    /// A PostgreSQL pool.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    Postgres(sqlx::PgPool),
}

impl SqlPool {
    /// The kind of database.
    pub fn backend(&self) -> Backend {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// The SQLite pool, if this is one.
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    pub fn as_sqlite(&self) -> Option<&sqlx::SqlitePool> {
        match self {
            Self::Sqlite(pool) => Some(pool),
            #[cfg(feature = "postgres")]
            Self::Postgres(_) => None,
        }
    }

    /// The PostgreSQL pool, if this is one.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub fn as_postgres(&self) -> Option<&sqlx::PgPool> {
        match self {
            Self::Postgres(pool) => Some(pool),
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => None,
        }
    }

    /// Connections currently open (idle or in use).
    pub fn size(&self) -> u32 {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(pool) => pool.size(),
            #[cfg(feature = "postgres")]
            Self::Postgres(pool) => pool.size(),
        }
    }

    /// Idle connections.
    pub fn num_idle(&self) -> usize {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(pool) => pool.num_idle(),
            #[cfg(feature = "postgres")]
            Self::Postgres(pool) => pool.num_idle(),
        }
    }

    /// Closes every connection; the store answers `StoreError::Unavailable` afterwards.
    pub async fn close(&self) {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(pool) => pool.close().await,
            #[cfg(feature = "postgres")]
            Self::Postgres(pool) => pool.close().await,
        }
    }

    /// The most connections the pool opens.
    fn max_connections(&self) -> u32 {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(pool) => pool.options().get_max_connections(),
            #[cfg(feature = "postgres")]
            Self::Postgres(pool) => pool.options().get_max_connections(),
        }
    }
}

impl fmt::Debug for SqlPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlPool")
            .field("backend", &self.backend())
            .field("size", &self.size())
            .field("idle", &self.num_idle())
            .field("max_connections", &self.max_connections())
            .finish()
    }
}

#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
impl From<sqlx::SqlitePool> for SqlPool {
    fn from(pool: sqlx::SqlitePool) -> Self {
        Self::Sqlite(pool)
    }
}

#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
impl From<sqlx::PgPool> for SqlPool {
    fn from(pool: sqlx::PgPool) -> Self {
        Self::Postgres(pool)
    }
}

//! Fixtures shared by the test files: fresh SQLite files and PostgreSQL schemas, each removed
//! when its guard drops.
// Each test binary uses a subset of these helpers.
#![allow(dead_code, unused_imports)]

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};

/// The variable naming the PostgreSQL server the PostgreSQL tests use.
pub(crate) const PG_URL_VAR: &str = "ENDPOINT_AUTH_TEST_POSTGRES_URL";

/// A random lower-case suffix for database objects and files.
pub(crate) fn random_suffix() -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    format!("{:016x}", hasher.finish())
}

/// The PostgreSQL URL, or `None` after saying loudly that `test` is skipped.
pub(crate) fn pg_url(test: &str) -> Option<String> {
    match std::env::var(PG_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            eprintln!(
                "\n!!! SKIPPED {test}: PostgreSQL tests need {PG_URL_VAR}, e.g. \
                 postgres://postgres@127.0.0.1:5432/test !!!\n"
            );
            None
        }
    }
}

#[cfg(feature = "postgres")]
pub(crate) use pg::PgSchema;

#[cfg(feature = "postgres")]
mod pg {
    use std::time::Duration;

    use endpoint_auth_sql::{sqlx, SqlStore, SqlStoreOptions};

    use super::random_suffix;

    /// A fresh PostgreSQL schema, dropped (with everything in it) when this drops.
    pub(crate) struct PgSchema {
        pub(crate) url: String,
        pub(crate) name: String,
    }

    impl PgSchema {
        pub(crate) fn new(url: String) -> Self {
            Self {
                url,
                name: format!("ea_test_{}", random_suffix()),
            }
        }

        /// Options that put the users table in this schema, with test-friendly timeouts.
        pub(crate) fn options(&self) -> SqlStoreOptions {
            SqlStoreOptions::new()
                .schema(&self.name)
                .max_connections(5)
                .acquire_timeout(Duration::from_secs(10))
                .query_timeout(Duration::from_secs(10))
        }

        /// A store (its own pool) on this schema, migrated.
        pub(crate) async fn store(&self) -> SqlStore {
            self.options()
                .connect(&self.url)
                .await
                .expect("connect to the test PostgreSQL")
        }

        /// A plain connection with this schema on its search path, outside any store.
        pub(crate) async fn raw_connection(&self) -> sqlx::PgConnection {
            use sqlx::ConnectOptions as _;
            use std::str::FromStr as _;

            sqlx::postgres::PgConnectOptions::from_str(&self.url)
                .expect("test URL")
                .options([("search_path", self.name.as_str())])
                .connect()
                .await
                .expect("raw PostgreSQL connection")
        }
    }

    impl Drop for PgSchema {
        fn drop(&mut self) {
            let url = self.url.clone();
            let drop_sql = format!(
                "SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS \"{}\" CASCADE",
                self.name
            );
            // Drop runs inside the test's runtime, which cannot be blocked on: use a thread with its
            // own.
            let dropped = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async move {
                    use sqlx::{ConnectOptions as _, Connection as _, Executor as _};
                    use std::str::FromStr as _;

                    let mut conn = sqlx::postgres::PgConnectOptions::from_str(&url)?
                        .connect()
                        .await?;
                    conn.execute(sqlx::raw_sql(&drop_sql)).await?;
                    conn.close().await
                })
            })
            .join();
            if !matches!(dropped, Ok(Ok(()))) {
                eprintln!("could not drop test schema {}: {dropped:?}", self.name);
            }
        }
    }
}

/// A fresh directory for SQLite files, removed when this drops.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new() -> Self {
        let path = std::env::temp_dir().join(format!("endpoint-auth-sql-{}", random_suffix()));
        std::fs::create_dir_all(&path).expect("create a temporary directory");
        Self(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }

    /// `sqlite://<dir>/<file>`.
    pub(crate) fn sqlite_url(&self, file: &str) -> String {
        format!("sqlite://{}", self.0.join(file).display())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

//! A database of the run's own on the PostgreSQL server named by
//! `ENDPOINT_AUTH_TEST_POSTGRES_URL`: created empty at the start, dropped at the end.

use sqlx::Connection as _;

use crate::error::BenchError;

/// The variable naming the PostgreSQL server (as for the project's tests).
pub const POSTGRES_URL_VAR: &str = "ENDPOINT_AUTH_TEST_POSTGRES_URL";

/// `url` with its database replaced by `database` (query parameters kept).
pub fn with_database(url: &str, database: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "postgres" && scheme != "postgresql" {
        return None;
    }
    let (location, query) = match rest.split_once('?') {
        Some((location, query)) => (location, Some(query)),
        None => (rest, None),
    };
    let host = location.split_once('/').map_or(location, |(host, _)| host);
    if host.is_empty() {
        return None;
    }
    let mut out = format!("{scheme}://{host}/{database}");
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    Some(out)
}

/// `url` without the password, for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

/// A database created for this run; [`drop_database`](Self::drop_database) removes it.
#[derive(Debug)]
pub struct BenchDatabase {
    admin_url: String,
    name: String,
    /// The URL of the new database, for the servers.
    pub url: String,
}

impl BenchDatabase {
    /// Creates `endpoint_auth_bench_<pid>` on the server `admin_url` points at.
    pub async fn create(admin_url: &str) -> Result<Self, BenchError> {
        let name = format!("endpoint_auth_bench_{}", std::process::id());
        let url = with_database(admin_url, &name)
            .ok_or_else(|| BenchError::PostgresUrl(redact(admin_url)))?;
        let database = Self {
            admin_url: admin_url.to_owned(),
            name,
            url,
        };
        database
            .execute(&format!("DROP DATABASE IF EXISTS {}", database.name))
            .await?;
        database
            .execute(&format!("CREATE DATABASE {}", database.name))
            .await?;
        Ok(database)
    }

    /// Drops the database, closing any connection still open to it.
    pub async fn drop_database(&self) -> Result<(), BenchError> {
        self.execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .await
    }

    async fn execute(&self, statement: &str) -> Result<(), BenchError> {
        let error = |action| {
            let url = redact(&self.admin_url);
            move |source| BenchError::Postgres {
                url,
                action,
                source,
            }
        };
        let mut connection = sqlx::PgConnection::connect(&self.admin_url)
            .await
            .map_err(error("connect"))?;
        sqlx::raw_sql(statement)
            .execute(&mut connection)
            .await
            .map_err(error("create or drop the benchmark's database"))?;
        let _ = connection.close().await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "bench").as_deref(),
            Some("postgres://postgres@127.0.0.1:5432/bench")
        );
        assert_eq!(
            with_database("postgresql://u:p@db/x?sslmode=disable", "bench").as_deref(),
            Some("postgresql://u:p@db/bench?sslmode=disable")
        );
        assert_eq!(
            with_database("postgres://db:5432", "bench").as_deref(),
            Some("postgres://db:5432/bench")
        );
        assert_eq!(with_database("sqlite://x.db", "bench"), None);
        assert_eq!(with_database("postgres:///x", "bench"), None);
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:secret@db/x"), "postgres://u:***@db/x");
        assert_eq!(redact("postgres://u@db/x"), "postgres://u@db/x");
    }
}

//! The users table's schema, versioned in its own table and applied on first use.
//!
//! The migrations are compiled into the binary. Applied versions are kept in
//! `endpoint_auth_migrations` rather than sqlx's `_sqlx_migrations`, so that an application's own
//! sqlx migrations (adding columns to `users`, say) and the store's never see each other's
//! versions as unknown. Each run takes a lock first (PostgreSQL: a transaction-scoped advisory
//! lock; SQLite: `BEGIN IMMEDIATE`), so that many instances starting at once migrate once.

use sqlx::Executor as _;

use crate::error::DbError;

/// One step of the schema.
pub(crate) struct Migration {
    pub(crate) version: i64,
    pub(crate) description: &'static str,
    pub(crate) sql: &'static str,
}

/// The SQLite schema, in order.
#[cfg(feature = "sqlite")]
pub(crate) const SQLITE: &[Migration] = &[Migration {
    version: 1,
    description: "users table",
    sql: include_str!("../migrations/sqlite/0001_users.sql"),
}];

/// The PostgreSQL schema, in order.
#[cfg(feature = "postgres")]
pub(crate) const POSTGRES: &[Migration] = &[Migration {
    version: 1,
    description: "users table",
    sql: include_str!("../migrations/postgres/0001_users.sql"),
}];

/// Applies what `applied` lacks of `migrations` in transaction `$tx`.
macro_rules! apply_pending {
    ($tx:expr, $migrations:expr) => {{
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM endpoint_auth_migrations")
            .fetch_all(&mut *$tx)
            .await?;
        let latest = $migrations.last().map_or(0, |m: &Migration| m.version);
        if let Some(newer) = applied.iter().find(|version| **version > latest) {
            return Err(DbError::Data(format!(
                "the users table is at schema version {newer}, newer than the {latest} this \
                 version of endpoint-auth-sql knows: upgrade endpoint-auth-sql"
            )));
        }
        for migration in $migrations {
            if applied.contains(&migration.version) {
                continue;
            }
            (&mut *$tx).execute(sqlx::raw_sql(migration.sql)).await?;
            sqlx::query(
                "INSERT INTO endpoint_auth_migrations (version, description) VALUES ($1, $2)",
            )
            .bind(migration.version)
            .bind(migration.description)
            .execute(&mut *$tx)
            .await?;
            tracing::info!(
                version = migration.version,
                description = migration.description,
                "endpoint-auth-sql: applied users table migration"
            );
        }
    }};
}

/// Brings an SQLite database up to date.
#[cfg(feature = "sqlite")]
pub(crate) async fn sqlite(conn: &mut sqlx::SqliteConnection) -> Result<(), DbError> {
    use sqlx::Connection as _;

    // IMMEDIATE: take the write lock now, so that two processes starting together queue up
    // behind the busy timeout instead of both reading "version 0".
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    (&mut *tx)
        .execute(sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS endpoint_auth_migrations (
            version     INTEGER PRIMARY KEY,
            description TEXT NOT NULL,
            applied_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        )",
        ))
        .await?;
    apply_pending!(tx, SQLITE);
    tx.commit().await?;
    Ok(())
}

/// "endpauth": the advisory lock key that serializes migrations across instances.
#[cfg(feature = "postgres")]
const PG_LOCK_KEY: i64 = 0x656e_6470_6175_7468;

/// Brings a PostgreSQL database up to date, creating `schema` first if one is configured (it is
/// then first on the connections' `search_path`).
#[cfg(feature = "postgres")]
pub(crate) async fn postgres(
    conn: &mut sqlx::PgConnection,
    schema: Option<&str>,
) -> Result<(), DbError> {
    use sqlx::Connection as _;

    let mut tx = conn.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(PG_LOCK_KEY)
        .execute(&mut *tx)
        .await?;
    if let Some(schema) = schema {
        // `schema` is a validated lower-case identifier.
        let create = format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"");
        (&mut *tx).execute(sqlx::raw_sql(&create)).await?;
    }
    (&mut *tx)
        .execute(sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS endpoint_auth_migrations (
            version     BIGINT PRIMARY KEY,
            description TEXT NOT NULL,
            applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
        ))
        .await?;
    apply_pending!(tx, POSTGRES);
    tx.commit().await?;
    Ok(())
}

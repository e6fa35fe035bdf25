//! A throwaway PostgreSQL database on the server `ENDPOINT_AUTH_TEST_POSTGRES_URL` names.

use std::time::Instant;

/// A fresh PostgreSQL database for one test, dropped afterwards.
pub struct PgDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    pub fn create() -> Option<Self> {
        let Ok(admin_url) = std::env::var("ENDPOINT_AUTH_TEST_POSTGRES_URL") else {
            eprintln!("!!! SKIPPED: ENDPOINT_AUTH_TEST_POSTGRES_URL is not set; the PostgreSQL serve tests did not run");
            return None;
        };
        let name = format!("endpoint_auth_cli_{}_{}", std::process::id(), rand_suffix());
        run_sql(&admin_url, &format!("CREATE DATABASE {name}"));
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(base, _)| base);
        let url = format!("{base}/{name}");
        Some(Self {
            admin_url,
            name,
            url,
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        run_sql(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

fn rand_suffix() -> u32 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(Instant::now()) as u32
}

fn run_sql(url: &str, statement: &str) {
    use endpoint_auth_sql::sqlx::{Connection, Executor, PgConnection};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut connection = PgConnection::connect(url)
            .await
            .expect("PostgreSQL is reachable");
        connection
            .execute(statement)
            .await
            .expect("the statement runs");
    });
}

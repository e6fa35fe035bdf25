//! `find_user` throughput under 32 concurrent tasks on two worker threads, the way a server
//! answering cached logins calls it: `cargo bench -p endpoint-auth-sql --bench find_user`.
//!
//! Runs on a SQLite file in the temporary directory, on `sqlite::memory:`, and on PostgreSQL when
//! `ENDPOINT_AUTH_TEST_POSTGRES_URL` is set.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use endpoint_auth::{NewUser, UserAdmin, UserStore};
use endpoint_auth_sql::{SqlStore, SqlStoreOptions};

const TASKS: usize = 32;
const USERS: usize = 8;
const RUN: Duration = Duration::from_secs(3);

async fn measure(name: &str, store: SqlStore) {
    for i in 0..USERS {
        // The hash is never verified here: any well-formed PHC string does.
        let hash = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$4nX3Ll7/r0s3YpLcSRtV1w".to_owned();
        let _ = store
            .create_user(NewUser::new(format!("user{i}@example.com"), Some(hash)))
            .await;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (store, stop, done) = (store.clone(), stop.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let login = format!("user{}@example.com", task % USERS);
            while !stop.load(Ordering::Relaxed) {
                let found = store.find_user(&login).await.expect("find_user");
                assert!(found.is_some());
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    // Warm up, then count.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (start, before) = (Instant::now(), done.load(Ordering::Relaxed));
    tokio::time::sleep(RUN).await;
    let count = done.load(Ordering::Relaxed) - before;
    let elapsed = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.expect("task");
    }
    let per_sec = count as f64 / elapsed.as_secs_f64();
    println!(
        "{name:<10} {per_sec:>10.0} find_user/s  ({:.1} µs per call, 2 workers)",
        2e6 / per_sec
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dir = std::env::temp_dir().join(format!("endpoint-auth-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let url = format!("sqlite://{}", dir.join("users.db").display());
        measure(
            "sqlite",
            SqlStore::connect(&url).await.expect("SQLite file"),
        )
        .await;
        let _ = std::fs::remove_dir_all(&dir);

        measure(
            "memory",
            SqlStore::connect("sqlite::memory:").await.expect("memory"),
        )
        .await;

        if let Ok(url) = std::env::var("ENDPOINT_AUTH_TEST_POSTGRES_URL") {
            let schema = format!("ea_bench_{}", std::process::id());
            let store: SqlStore = SqlStoreOptions::new()
                .schema(&schema)
                .connect(&url)
                .await
                .expect("PostgreSQL");
            measure("postgres", store.clone()).await;
            if let Some(pool) = store.pool().as_postgres() {
                let _ = endpoint_auth_sql::sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                    .execute(pool)
                    .await;
            }
        }
    });
}

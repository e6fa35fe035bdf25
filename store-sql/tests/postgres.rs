//! The store contract against PostgreSQL, and what PostgreSQL deployments rely on: exact failure
//! counts under concurrency, several instances (separate pools) sharing one users table, and
//! faults (unreachable server, statement timeouts, a server that goes away and comes back).
//!
//! Needs ENDPOINT_AUTH_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test); without
//! it every test here says loudly that it is skipped, and passes. Each test works in a fresh
//! schema of its own, dropped at the end.
#![cfg(feature = "postgres")]

mod common;
mod contract;

/// A rule that always grants: plain failure counting.
const UNLIMITED: endpoint_auth::store::SlotRule =
    endpoint_auth::store::SlotRule::new(u32::MAX, None);

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use endpoint_auth::{
    rejection::FailureReason, LockoutPolicy, NewUser, Requirements, StoreError, User, UserAdmin,
    UserStore,
};
use endpoint_auth_sql::{sqlx, ConnectError, SqlStore, SqlStoreOptions, SqlUser, UserRow};
use sqlx::{Connection as _, Executor as _};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinHandle;

use common::{pg_url, PgSchema};
use contract::{at, authenticator, expect_401, expect_user, hash, login, PASSWORD};

async fn open(test: &str) -> Option<(SqlStore, PgSchema)> {
    let schema = PgSchema::new(pg_url(test)?);
    let store = schema.store().await;
    Some((store, schema))
}

contract::contract_tests!(open);

/// How much later than its deadline a failing call may return on a loaded machine: still far
/// from sqlx's default 30 s acquire timeout, or a hang.
const SLACK: Duration = Duration::from_secs(3);

/// A fresh schema, or `None` (skipped).
fn schema(test: &str) -> Option<PgSchema> {
    pg_url(test).map(PgSchema::new)
}

// ---------------------------------------------------------------------------------------------
// Several instances on one database

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_failures_through_two_instances_are_exact() {
    const PER_STORE: u32 = 30;
    let Some(schema) = schema("concurrent_failures_through_two_instances_are_exact") else {
        return;
    };
    let one = schema.store().await;
    let two = schema.store().await;
    contract::reservations_through_stores_are_exact(&[one, two], PER_STORE, UNLIMITED).await;
}

/// Changes committed through another instance are seen by the next lookup, while 32 others run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_through_another_instance_are_seen_by_the_next_find() {
    let Some(schema) = schema("changes_through_another_instance_are_seen_by_the_next_find") else {
        return;
    };
    let reader = schema.store().await;
    let writer = schema.store().await;
    let finds = contract::changes_elsewhere_are_seen_by_the_next_find(reader, writer).await;
    assert!(finds > 100, "only {finds} finds ran meanwhile");
}

/// 64 wrong passwords racing through two instances on one database: exactly the limit of 10
/// slots is granted, so no more than 10 passwords could ever be verified (SPEC §4).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_reservations_through_two_instances_grant_exactly_the_limit() {
    let Some(schema) = schema("racing_reservations_through_two_instances_grant_exactly_the_limit")
    else {
        return;
    };
    let one = schema.store().await;
    let two = schema.store().await;
    let rule = endpoint_auth::LockoutPolicy::new().slot_rule(at(1_000));
    contract::reservations_through_stores_are_exact(&[one, two], 32, rule).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_changed_through_one_instance_is_refused_by_the_other() {
    let Some(schema) = schema("a_password_changed_through_one_instance_is_refused_by_the_other")
    else {
        return;
    };
    let one = schema.store().await;
    let two = schema.store().await;
    one.create_user(NewUser::new(
        "shared@example.com",
        Some(hash("old password")),
    ))
    .await
    .unwrap();
    let auth_one = authenticator(one.clone(), LockoutPolicy::new());
    let auth_two = authenticator(two.clone(), LockoutPolicy::new());
    // Both instances have verified (and cached) the old password.
    expect_user(
        login(
            &auth_one,
            "shared@example.com",
            "old password",
            Requirements::new(),
        )
        .await,
    );
    expect_user(
        login(
            &auth_two,
            "shared@example.com",
            "old password",
            Requirements::new(),
        )
        .await,
    );

    one.set_password_hash("shared@example.com", &hash("new password"))
        .await
        .unwrap();

    // The very next request to the other instance.
    expect_401(
        login(
            &auth_two,
            "shared@example.com",
            "old password",
            Requirements::new(),
        )
        .await,
    );
    expect_user(
        login(
            &auth_two,
            "shared@example.com",
            "new password",
            Requirements::new(),
        )
        .await,
    );
    expect_401(
        login(
            &auth_one,
            "shared@example.com",
            "old password",
            Requirements::new(),
        )
        .await,
    );

    // Disabling through one instance holds in the other too.
    two.set_enabled("shared@example.com", false).await.unwrap();
    let reason = expect_401(
        login(
            &auth_one,
            "shared@example.com",
            "new password",
            Requirements::new(),
        )
        .await,
    );
    assert!(matches!(reason, FailureReason::Disabled), "{reason:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_reached_through_one_instance_holds_in_the_other() {
    let Some(schema) = schema("a_lock_reached_through_one_instance_holds_in_the_other") else {
        return;
    };
    let one = schema.store().await;
    let two = schema.store().await;
    one.create_user(NewUser::new("target@example.com", Some(hash(PASSWORD))))
        .await
        .unwrap();
    let lockout = LockoutPolicy::new().max_failures(3);
    let auth_one = authenticator(one.clone(), lockout);
    let auth_two = authenticator(two.clone(), lockout);

    // Failures through both instances add up.
    expect_401(
        login(
            &auth_one,
            "target@example.com",
            "guess 1",
            Requirements::new(),
        )
        .await,
    );
    expect_401(
        login(
            &auth_two,
            "target@example.com",
            "guess 2",
            Requirements::new(),
        )
        .await,
    );
    expect_401(
        login(
            &auth_one,
            "target@example.com",
            "guess 3",
            Requirements::new(),
        )
        .await,
    );

    for auth in [&auth_two, &auth_one] {
        let reason =
            expect_401(login(auth, "target@example.com", PASSWORD, Requirements::new()).await);
        assert!(matches!(reason, FailureReason::LockedOut(_)), "{reason:?}");
    }
    // Unlocked through one, open in both.
    two.unlock("target@example.com").await.unwrap();
    expect_user(
        login(
            &auth_one,
            "target@example.com",
            PASSWORD,
            Requirements::new(),
        )
        .await,
    );
    expect_user(
        login(
            &auth_two,
            "target@example.com",
            PASSWORD,
            Requirements::new(),
        )
        .await,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_starting_together_migrate_once() {
    let Some(schema) = schema("instances_starting_together_migrate_once") else {
        return;
    };
    let mut starting = Vec::new();
    for _ in 0..4 {
        let options = schema.options();
        let url = schema.url.clone();
        starting.push(tokio::spawn(async move {
            let store: SqlStore = options.connect(&url).await.expect("connect");
            store
        }));
    }
    let mut stores = Vec::new();
    for task in starting {
        stores.push(task.await.unwrap());
    }
    let pool = stores[0].pool().as_postgres().unwrap().clone();
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM endpoint_auth_migrations")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(versions, [1]);
    let (table_schema,): (String,) = sqlx::query_as(
        "SELECT table_schema::text FROM information_schema.tables WHERE table_name = 'users' \
         AND table_schema = current_schema()",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        table_schema, schema.name,
        "the users table is in the configured schema"
    );
}

#[tokio::test]
async fn timestamps_are_timestamptz() {
    let Some(schema) = schema("timestamps_are_timestamptz") else {
        return;
    };
    let store = schema.store().await;
    store
        .create_user(NewUser::new("t@example.com", None).signed_up(at(0)))
        .await
        .unwrap();
    let pool = store.pool().as_postgres().unwrap().clone();
    let (kind, text): (String, String) = sqlx::query_as(
        "SELECT pg_typeof(signed_up)::text, to_char(signed_up AT TIME ZONE 'UTC', \
         'YYYY-MM-DD HH24:MI:SS') FROM users",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(kind, "timestamp with time zone");
    assert_eq!(text, "2023-11-14 22:13:20");
    // Sub-second precision: microseconds survive, nanoseconds are cut.
    let precise = at(5) + Duration::from_nanos(123_456_789);
    store
        .reserve_failure_slot("t@example.com", UNLIMITED, precise)
        .await
        .unwrap();
    let found = store.find_user("t@example.com").await.unwrap().unwrap();
    assert_eq!(
        found.last_failure,
        Some(at(5) + Duration::from_nanos(123_456_000))
    );
}

// ---------------------------------------------------------------------------------------------
// An application's own user type

#[derive(Debug, Clone)]
struct Member {
    user: User,
    display_name: String,
    credits: i64,
}

impl SqlUser for Member {
    const COLUMNS: &'static [&'static str] = &["display_name", "credits"];

    fn from_row(user: User, row: &UserRow<'_>) -> Result<Self, sqlx::Error> {
        Ok(Self {
            user,
            display_name: row.try_get("display_name")?,
            credits: row.try_get("credits")?,
        })
    }
}

#[tokio::test]
async fn an_application_reads_its_own_columns_into_its_own_type() {
    let Some(schema) = schema("an_application_reads_its_own_columns_into_its_own_type") else {
        return;
    };
    let store = schema.store().await;
    let pool = store.pool().as_postgres().unwrap().clone();
    pool.execute(
        "ALTER TABLE users ADD COLUMN display_name TEXT NOT NULL DEFAULT '', \
         ADD COLUMN credits BIGINT NOT NULL DEFAULT 0",
    )
    .await
    .unwrap();
    store
        .create_user(NewUser::new("Member@Example.com", Some(hash(PASSWORD))))
        .await
        .unwrap();
    sqlx::query("UPDATE users SET display_name = 'Ada', credits = 42 WHERE email = $1")
        .bind("Member@Example.com")
        .execute(&pool)
        .await
        .unwrap();
    let members: SqlStore<Member> = store.with_user_type();
    let found = members
        .find_user("MEMBER@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.user.display_name, "Ada");
    assert_eq!(found.user.credits, 42);
    assert_eq!(found.user.user.email, "Member@Example.com");
}

// ---------------------------------------------------------------------------------------------
// Faults

/// A loopback port with nothing listening on it.
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let port = listener.local_addr().expect("local address").port();
    drop(listener);
    port
}

/// `url` with its host and port replaced by 127.0.0.1:`port`.
fn url_via(url: &str, port: u16) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let user = authority
        .rsplit_once('@')
        .map(|(user, _)| format!("{user}@"));
    format!(
        "{scheme}://{}127.0.0.1:{port}/{path}",
        user.unwrap_or_default()
    )
}

/// The PostgreSQL server's address, from the test URL.
fn server_addr(url: &str) -> SocketAddr {
    let (_, rest) = url.split_once("://").expect("a URL");
    let authority = rest.split('/').next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let (host, port) = host_port.rsplit_once(':').unwrap_or((host_port, "5432"));
    let host = if host == "localhost" {
        "127.0.0.1"
    } else {
        host
    };
    format!("{host}:{port}")
        .parse()
        .expect("a loopback address")
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable_within_the_acquire_timeout() {
    let Some(url) = pg_url("an_unreachable_server_is_unavailable_within_the_acquire_timeout")
    else {
        return;
    };
    let url = url_via(&url, closed_port().await);
    let acquire = Duration::from_millis(400);
    let store: SqlStore = SqlStoreOptions::new()
        .acquire_timeout(acquire)
        .connect_lazy(&url)
        .unwrap();
    for _ in 0..2 {
        let started = Instant::now();
        let error = store.find_user("a@example.com").await.unwrap_err();
        let took = started.elapsed();
        assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
        assert!(took < acquire + SLACK, "took {took:?}");
        let error = store
            .reserve_failure_slot("a@example.com", UNLIMITED, at(0))
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
    }

    // The eager constructor says why.
    let started = Instant::now();
    let error = SqlStoreOptions::new()
        .acquire_timeout(acquire)
        .connect::<User>(&url)
        .await
        .unwrap_err();
    assert!(started.elapsed() < acquire + SLACK);
    assert!(
        matches!(
            error,
            ConnectError::Connect(_) | ConnectError::ConnectTimeout(_)
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("running"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_that_cannot_finish_times_out_and_the_store_recovers() {
    let Some(schema) = schema("a_statement_that_cannot_finish_times_out_and_the_store_recovers")
    else {
        return;
    };
    let query_timeout = Duration::from_millis(500);
    let store: SqlStore = schema
        .options()
        .query_timeout(query_timeout)
        .connect(&schema.url)
        .await
        .unwrap();
    store
        .create_user(NewUser::new("a@example.com", Some(hash("pw"))))
        .await
        .unwrap();
    let pool = store.pool().as_postgres().unwrap().clone();
    let timeout: String = sqlx::query_scalar("SHOW statement_timeout")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(timeout, "500ms", "the server enforces the deadline too");

    // Another session holds the table.
    let mut locker = schema.raw_connection().await;
    locker.execute("BEGIN").await.unwrap();
    locker
        .execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();

    let started = Instant::now();
    let error = store.find_user("a@example.com").await.unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(error, StoreError::Timeout(_) | StoreError::Unavailable(_)),
        "{error:?}"
    );
    assert!(took < query_timeout + SLACK, "took {took:?}");
    let error = store
        .reserve_failure_slot("a@example.com", UNLIMITED, at(0))
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::Timeout(_) | StoreError::Unavailable(_)),
        "{error:?}"
    );
    let error = store.list_users().await.unwrap_err();
    assert!(
        matches!(
            error,
            endpoint_auth::admin::AdminError::Store(
                StoreError::Timeout(_) | StoreError::Unavailable(_)
            )
        ),
        "{error:?}"
    );

    locker.execute("ROLLBACK").await.unwrap();
    locker.close().await.unwrap();

    // The same store works again by itself, and the timed-out failure was not counted twice.
    let found = store.find_user("a@example.com").await.unwrap().unwrap();
    assert!(found.n_password_failures <= 1);
    assert_eq!(
        store
            .reserve_failure_slot("a@example.com", UNLIMITED, at(1))
            .await
            .unwrap(),
        Some(found.n_password_failures + 1)
    );
}

#[tokio::test]
async fn a_slow_statement_is_cut_by_the_client_deadline_too() {
    let Some(schema) = schema("a_slow_statement_is_cut_by_the_client_deadline_too") else {
        return;
    };
    // A pool built by the application, without statement_timeout: only the store's client-side
    // deadline bounds the call.
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    use std::str::FromStr as _;
    let connect = PgConnectOptions::from_str(&schema.url)
        .unwrap()
        .options([("search_path", schema.name.as_str())]);
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(connect)
        .await
        .unwrap();
    pool.execute(format!("CREATE SCHEMA IF NOT EXISTS {}", schema.name).as_str())
        .await
        .unwrap();
    let query_timeout = Duration::from_millis(300);
    let store: SqlStore = SqlStoreOptions::new()
        .query_timeout(query_timeout)
        .with_pool(pool.clone());
    store.migrate().await.unwrap();
    store
        .create_user(NewUser::new("a@example.com", None))
        .await
        .unwrap();

    let mut locker = schema.raw_connection().await;
    locker.execute("BEGIN").await.unwrap();
    locker
        .execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let started = Instant::now();
    let error = store.find_user("a@example.com").await.unwrap_err();
    assert!(matches!(error, StoreError::Timeout(_)), "{error:?}");
    assert!(started.elapsed() < query_timeout + SLACK);
    locker.execute("ROLLBACK").await.unwrap();
    locker.close().await.unwrap();

    assert!(store.find_user("a@example.com").await.unwrap().is_some());
}

/// A TCP forwarder on loopback that can be taken down (every connection cut, the port closed)
/// and brought back on the same port: a database server that goes away and comes back.
struct Proxy {
    port: u16,
    target: SocketAddr,
    acceptor: Option<JoinHandle<()>>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Self {
        let mut proxy = Self {
            port: 0,
            target,
            acceptor: None,
            links: Arc::default(),
        };
        proxy.up().await;
        proxy
    }

    async fn up(&mut self) {
        let socket = TcpSocket::new_v4().expect("socket");
        socket.set_reuseaddr(true).expect("SO_REUSEADDR");
        socket
            .bind(SocketAddr::from(([127, 0, 0, 1], self.port)))
            .expect("bind the proxy port");
        let listener = socket.listen(64).expect("listen");
        self.port = listener.local_addr().expect("local address").port();
        let (target, links) = (self.target, self.links.clone());
        self.acceptor = Some(tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                links.lock().expect("links").push(link);
            }
        }));
    }

    /// Cuts every connection and closes the port; returns once the sockets are closed.
    async fn down(&mut self) {
        // The acceptor first, so that no new link appears while the links are cut.
        if let Some(acceptor) = self.acceptor.take() {
            acceptor.abort();
            // Resolves once the task, and with it its listener, has been dropped.
            let _ = acceptor.await;
        }
        let links: Vec<JoinHandle<()>> = self.links.lock().expect("links").drain(..).collect();
        for link in links {
            link.abort();
            let _ = link.await;
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(acceptor) = self.acceptor.take() {
            acceptor.abort();
        }
        for link in self.links.lock().expect("links").drain(..) {
            link.abort();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_goes_away_gives_503s_and_the_store_recovers_when_it_is_back() {
    let Some(schema) =
        schema("a_server_that_goes_away_gives_503s_and_the_store_recovers_when_it_is_back")
    else {
        return;
    };
    let mut proxy = Proxy::start(server_addr(&schema.url)).await;
    let acquire = Duration::from_millis(500);
    let store: SqlStore = schema
        .options()
        .acquire_timeout(acquire)
        .query_timeout(Duration::from_secs(2))
        .connect(&url_via(&schema.url, proxy.port))
        .await
        .unwrap();
    store
        .create_user(NewUser::new("a@example.com", Some(hash(PASSWORD))))
        .await
        .unwrap();
    let auth = authenticator(store.clone(), LockoutPolicy::new());
    expect_user(login(&auth, "a@example.com", PASSWORD, Requirements::new()).await);

    proxy.down().await;
    for _ in 0..3 {
        let started = Instant::now();
        let error = store.find_user("a@example.com").await.unwrap_err();
        assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
        assert!(started.elapsed() < acquire + SLACK);
        // What the client sees: a 503 with Retry-After, never a 401.
        match login(&auth, "a@example.com", PASSWORD, Requirements::new()).await {
            Err(rejection) => {
                assert_eq!(rejection.status(), 503, "{rejection:?}");
                assert!(rejection
                    .response()
                    .headers
                    .iter()
                    .any(|(name, _)| name == "retry-after"));
            }
            other => panic!("expected a 503, got {other:?}"),
        }
    }

    proxy.up().await;
    // Back: the very next call works, without anyone resetting the store.
    let found = store.find_user("a@example.com").await.unwrap().unwrap();
    assert_eq!(found.user.email, "a@example.com");
    expect_user(login(&auth, "a@example.com", PASSWORD, Requirements::new()).await);
    store.close().await;
}

#[tokio::test]
async fn debug_never_shows_the_connection_password() {
    let Some(url) = pg_url("debug_never_shows_the_connection_password") else {
        return;
    };
    let with_password = url_with_password(&url, "s3cret-pw");
    let store = SqlStore::connect_lazy(&with_password).unwrap();
    let shown = format!("{store:?} {:?}", store.pool());
    assert!(!shown.contains("s3cret-pw"), "{shown}");
    assert!(shown.contains("Postgres"), "{shown}");
}

/// `url` with `password` set on its user.
fn url_with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    match rest.split_once('@') {
        Some((user, host)) => {
            let user = user.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:{password}@{host}")
        }
        None => format!("{scheme}://postgres:{password}@{rest}"),
    }
}

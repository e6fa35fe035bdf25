//! The attacks on password verification, against the real `endpoint-auth serve`: concurrent
//! wrong passwords against the lockout, a login storm against other clients' first logins,
//! look-alike usernames, clients that leave before their answer, a write-locked database.
//! Loopback only; every wait is bounded; every server is stopped by its PID.

mod support;

use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use endpoint_auth::HashPolicy;
use endpoint_auth_conformance::client::{start, Pending};
use support::pg::PgDatabase;
use support::Db;

const DEMO_EMAIL: &str = "user123@gmail.com";
const DEMO_PASSWORD: &str = "mySuperS3cretPassw0rd";
const FRAMEWORKS: [&str; 3] = ["axum", "warp", "rocket"];
/// The attacker, as the server sees it.
const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// Someone else: a second loopback address (all of 127.0.0.0/8 is loopback on Linux).
const OTHER_CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
/// SPEC §4's default failure limit, which `serve` uses.
const MAX_PASSWORD_FAILURES: u64 = 10;

/// The tests that load the CPU (hundreds of argon2 verifications) take turns, so that none of
/// them measures latency while another saturates both cores.
fn heavy() -> MutexGuard<'static, ()> {
    static HEAVY: Mutex<()> = Mutex::new(());
    HEAVY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running `endpoint-auth serve --demo` (the shared test support's, killed by its PID if a
/// test fails before stopping it), with its socket address and framework at hand.
struct Server {
    inner: support::server::Server,
    addr: SocketAddr,
    framework: &'static str,
}

impl Server {
    fn start(framework: &'static str, db: &str) -> Self {
        let inner = support::server::Server::start(framework, db);
        let addr = inner.addr().parse().expect("a socket address");
        Self {
            inner,
            addr,
            framework,
        }
    }

    /// Sends `GET /protected` with these credentials (raw octets) from `source`.
    fn login(&self, source: IpAddr, user: &[u8], password: &[u8]) -> Pending {
        start(
            self.addr,
            Some(source),
            "GET",
            "/protected",
            &[&basic(user, password)],
        )
        .unwrap_or_else(|e| panic!("{}: {e}", self.framework))
    }

    /// SIGTERM, then the server must be gone within 30 s.
    fn stop(self) {
        self.inner.stop();
    }
}

/// `Authorization: Basic base64(user ":" password)` over raw octets.
fn basic(user: &[u8], password: &[u8]) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut decoded = user.to_vec();
    decoded.push(b':');
    decoded.extend_from_slice(password);
    let mut line = b"Authorization: Basic ".to_vec();
    for chunk in decoded.chunks(3) {
        let bytes = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            line.push(if i <= chunk.len() {
                ALPHABET[(n >> shift & 63) as usize]
            } else {
                b'='
            });
        }
    }
    line
}

/// The users as `users list --json` shows them, by email.
fn users(db: &str) -> BTreeMap<String, serde_json::Value> {
    let out = support::endpoint_auth(&["users", "list", "--json", "--db", db], None, &[]);
    assert!(out.status.success(), "users list: {out:?}");
    let list: Vec<serde_json::Value> =
        serde_json::from_slice(&out.stdout).expect("users list prints JSON");
    list.into_iter()
        .map(|user| (user["email"].as_str().unwrap_or_default().to_owned(), user))
        .collect()
}

/// Imports `emails`, all with `password`, into the database at `db`.
fn import_users(db: &str, dir: &std::path::Path, emails: &[String], password: &str) {
    let hash = HashPolicy::owasp()
        .hash(password)
        .expect("hashing a password");
    let file = dir.join(format!("users-{}.htpasswd", emails.len()));
    let lines: String = emails.iter().map(|e| format!("{e}:{hash}\n")).collect();
    std::fs::write(&file, lines).expect("writing the import file");
    let file = file.to_str().expect("a UTF-8 path");
    let out = support::endpoint_auth(
        &["users", "import", file, "--format", "htpasswd", "--db", db],
        None,
        &[],
    );
    assert!(out.status.success(), "users import: {out:?}");
}

/// Runs `check` once per framework, each on a thread of its own, and re-raises the first panic.
fn on_every_framework(check: impl Fn(&'static str) + Send + Sync + 'static) {
    let check = Arc::new(check);
    let threads: Vec<_> = FRAMEWORKS
        .into_iter()
        .map(|framework| {
            let check = check.clone();
            thread::Builder::new()
                .name(framework.to_owned())
                .spawn(move || check(framework))
                .expect("a thread")
        })
        .collect();
    for thread in threads {
        if let Err(panic) = thread.join() {
            std::panic::resume_unwind(panic);
        }
    }
}

// 1. Concurrent wrong passwords against the lockout.

/// Sends `total` distinct wrong passwords for the demo user, `window` at a time, spread over
/// `servers` in turn; returns how many got each status.
fn wrong_passwords(servers: &[&Server], total: usize, window: usize) -> BTreeMap<u16, usize> {
    let mut statuses = BTreeMap::new();
    let mut in_flight = VecDeque::new();
    let mut sent = 0;
    while sent < total || !in_flight.is_empty() {
        while in_flight.len() < window && sent < total {
            let server = servers[sent % servers.len()];
            let password = format!("wrong password {sent}");
            in_flight.push_back((
                server.framework,
                server.login(ATTACKER, DEMO_EMAIL.as_bytes(), password.as_bytes()),
            ));
            sent += 1;
        }
        let (framework, pending) = in_flight.pop_front().expect("one in flight");
        let response = pending
            .response()
            .unwrap_or_else(|e| panic!("{framework}: {e}"));
        *statuses.entry(response.status).or_default() += 1;
    }
    statuses
}

/// After the storm of wrong passwords: exactly the limit counted, and the right password
/// refused.
fn assert_locked_exactly(db: &str, statuses: &BTreeMap<u16, usize>, server: &Server) {
    assert!(
        statuses.keys().all(|s| [401, 503].contains(s)) && statuses.contains_key(&401),
        "{}: wrong passwords must get 401 (or 503 when verification is saturated): {statuses:?}",
        server.framework
    );
    let demo = &users(db)[DEMO_EMAIL];
    assert_eq!(
        demo["n_password_failures"].as_u64(),
        Some(MAX_PASSWORD_FAILURES),
        "{}: however many wrong passwords race, exactly the limit is counted: {demo}",
        server.framework
    );
    let right = server
        .login(
            OTHER_CLIENT,
            DEMO_EMAIL.as_bytes(),
            DEMO_PASSWORD.as_bytes(),
        )
        .response()
        .unwrap_or_else(|e| panic!("{}: {e}", server.framework));
    assert_eq!(
        right.status,
        401,
        "{}: a locked account refuses the right password: {}",
        server.framework,
        right.describe()
    );
}

#[test]
fn lockout_is_exact_under_200_concurrent_wrong_passwords() {
    let _heavy = heavy();
    on_every_framework(|framework| {
        let db = Db::sqlite();
        let server = Server::start(framework, db.url());
        let statuses = wrong_passwords(&[&server], 200, 64);
        assert_locked_exactly(db.url(), &statuses, &server);
        server.stop();
    });
}

#[test]
fn lockout_is_exact_across_two_instances_on_one_postgres() {
    let Some(db) = PgDatabase::create() else {
        return;
    };
    let _heavy = heavy();
    // One after the other: both make sure the demo user exists.
    let first = Server::start("axum", &db.url);
    let second = Server::start("warp", &db.url);
    let statuses = wrong_passwords(&[&first, &second], 200, 64);
    assert_locked_exactly(&db.url, &statuses, &first);
    assert_locked_exactly(&db.url, &statuses, &second);
    first.stop();
    second.stop();
}

// 2. A login storm from one client, first logins from another.

/// Keeps `connections` requests for distinct unknown users in flight from [`ATTACKER`] until
/// `stop`; returns how many got each status (0: the connection failed).
fn storm(
    addr: SocketAddr,
    connections: usize,
    stop: Arc<AtomicBool>,
    sent: Arc<std::sync::atomic::AtomicUsize>,
) -> Vec<thread::JoinHandle<BTreeMap<u16, usize>>> {
    const THREADS: usize = 8;
    (0..THREADS)
        .map(|t| {
            let (stop, sent) = (stop.clone(), sent.clone());
            thread::spawn(move || {
                let mut statuses = BTreeMap::new();
                let mut in_flight = VecDeque::new();
                let mut n = 0usize;
                loop {
                    while !stop.load(Ordering::SeqCst) && in_flight.len() < connections / THREADS {
                        let user = format!("storm-{t}-{n}@example.com");
                        n += 1;
                        let header = basic(user.as_bytes(), b"storm password");
                        match start(addr, Some(ATTACKER), "GET", "/protected", &[&header]) {
                            Ok(pending) => in_flight.push_back(pending),
                            Err(_) => *statuses.entry(0).or_default() += 1,
                        }
                        sent.fetch_add(1, Ordering::SeqCst);
                    }
                    let Some(pending) = in_flight.pop_front() else {
                        break;
                    };
                    let status = pending.response().map_or(0, |r| r.status);
                    *statuses.entry(status).or_default() += 1;
                }
                statuses
            })
        })
        .collect()
}

fn first_logins_survive_a_storm(framework: &'static str) {
    const LOGINS: usize = 20;
    const PASSWORD: &str = "first login password";
    let _heavy = heavy();
    let db = Db::sqlite();
    let emails: Vec<String> = (0..LOGINS)
        .map(|i| format!("first{i}@example.com"))
        .collect();
    import_users(db.url(), db.dir(), &emails, PASSWORD);
    let server = Server::start(framework, db.url());

    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stormers = storm(server.addr, 400, stop.clone(), sent.clone());
    assert!(
        support::wait_for(Duration::from_secs(10), || sent.load(Ordering::SeqCst)
            >= 400),
        "{framework}: the storm did not get going"
    );
    thread::sleep(Duration::from_millis(300));

    // Distinct users, so that every login is a first one: no verification cache to lean on.
    let mut logins = Vec::new();
    for email in &emails {
        let started = Instant::now();
        let response = server
            .login(OTHER_CLIENT, email.as_bytes(), PASSWORD.as_bytes())
            .response_within(Duration::from_secs(10));
        logins.push((response.map(|r| r.status), started.elapsed()));
    }
    stop.store(true, Ordering::SeqCst);
    let mut storm_statuses = BTreeMap::new();
    for stormer in stormers {
        for (status, count) in stormer.join().expect("a storm thread") {
            *storm_statuses.entry(status).or_insert(0) += count;
        }
    }
    server.stop();

    let served = logins
        .iter()
        .filter(|(status, took)| *status == Ok(200) && *took <= Duration::from_secs(1))
        .count();
    assert!(
        served >= LOGINS - 1,
        "{framework}: only {served} of {LOGINS} first logins from another client got 200 within \
         1 s during a storm; logins (status, time): {logins:?}; storm statuses: {storm_statuses:?}"
    );
    assert!(
        storm_statuses.keys().all(|s| [401, 429, 503].contains(s)),
        "{framework}: the storm got {storm_statuses:?}"
    );
    assert!(
        storm_statuses.contains_key(&429),
        "{framework}: a client flooding while another waits gets 429s; storm got {storm_statuses:?}"
    );
}

#[test]
fn first_logins_from_another_client_survive_a_storm_axum() {
    first_logins_survive_a_storm("axum");
}

#[test]
fn first_logins_from_another_client_survive_a_storm_warp() {
    first_logins_survive_a_storm("warp");
}

#[test]
fn first_logins_from_another_client_survive_a_storm_rocket() {
    first_logins_survive_a_storm("rocket");
}

// 3. Look-alike usernames.

#[test]
fn c1_controls_and_bidi_overrides_in_usernames_are_refused() {
    on_every_framework(|framework| {
        let db = Db::sqlite();
        let server = Server::start(framework, db.url());
        let demo = DEMO_EMAIL.as_bytes();
        let status = |user: &[u8]| {
            let response = server
                .login(ATTACKER, user, DEMO_PASSWORD.as_bytes())
                .response()
                .unwrap_or_else(|e| panic!("{framework}: {e}"));
            (response.status, response.describe())
        };
        // Controls: surrounding ASCII whitespace is trimmed (SPEC §2), so the demo user answers
        // to it; U+0085 is whitespace to `str::trim` too, so only refusing it keeps it out.
        for user in [demo.to_vec(), format!(" {DEMO_EMAIL} ").into_bytes()] {
            let (status, response) = status(&user);
            assert_eq!(status, 200, "{framework}: {user:?}: {response}");
        }
        let nel = "\u{85}";
        let rlo = "\u{202e}";
        let mut latin1_nel = vec![0x85];
        latin1_nel.extend_from_slice(demo);
        for user in [
            format!("{nel}{DEMO_EMAIL}").into_bytes(),
            format!("{DEMO_EMAIL}{nel}").into_bytes(),
            latin1_nel,
            format!("{rlo}{DEMO_EMAIL}").into_bytes(),
            format!("{DEMO_EMAIL}{rlo}").into_bytes(),
            format!("user{rlo}123@gmail.com").into_bytes(),
        ] {
            let (status, response) = status(&user);
            assert_eq!(
                status,
                401,
                "{framework}: {:?} must be refused: {response}",
                String::from_utf8_lossy(&user)
            );
        }
        server.stop();
    });
}

// 4. A client that leaves before its answer.

/// Holds SQLite's write lock on a database file (`BEGIN IMMEDIATE`) until dropped.
struct WriteLock {
    runtime: tokio::runtime::Runtime,
    connection: Option<endpoint_auth_sql::sqlx::SqliteConnection>,
}

impl WriteLock {
    fn take(url: &str) -> Self {
        use endpoint_auth_sql::sqlx::{Connection, Executor, SqliteConnection};
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let connection = runtime.block_on(async {
            let mut connection = SqliteConnection::connect(url)
                .await
                .expect("the database opens");
            connection
                .execute("BEGIN IMMEDIATE")
                .await
                .expect("the write lock");
            connection
        });
        Self {
            runtime,
            connection: Some(connection),
        }
    }
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        use endpoint_auth_sql::sqlx::{Connection, Executor};
        if let Some(mut connection) = self.connection.take() {
            self.runtime.block_on(async {
                let _ = connection.execute("ROLLBACK").await;
                let _ = connection.close().await;
            });
        }
    }
}

/// A right password whose client closes the connection while the request waits (held up by
/// another process's write lock on the database) is never verified: the login is not recorded
/// once the lock is gone. A second login, made the same way but awaited, is recorded: the
/// observable works.
fn abandoned_login_is_not_verified(framework: &'static str) {
    const PASSWORD: &str = "abandoned login password";
    let db = Db::sqlite();
    let (gone, awaited) = ("gone@example.com", "awaited@example.com");
    import_users(
        db.url(),
        db.dir(),
        &[gone.to_owned(), awaited.to_owned()],
        PASSWORD,
    );
    let server = Server::start(framework, db.url());
    let lock = WriteLock::take(db.url());
    let abandoned = server.login(ATTACKER, gone.as_bytes(), PASSWORD.as_bytes());
    let kept = server.login(OTHER_CLIENT, awaited.as_bytes(), PASSWORD.as_bytes());
    // Both are read and waiting for the database (its busy timeout is 5 s).
    thread::sleep(Duration::from_millis(500));
    abandoned.abandon();
    thread::sleep(Duration::from_millis(300));
    drop(lock);
    let kept = kept
        .response()
        .unwrap_or_else(|e| panic!("{framework}: {e}"));
    assert_eq!(kept.status, 200, "{framework}: {}", kept.describe());
    // Had the abandoned login gone on, it would be verified and recorded by now, as the other
    // one was.
    thread::sleep(Duration::from_secs(1));
    let users = users(db.url());
    assert!(
        users[awaited]["last_login"].is_string(),
        "{framework}: {}",
        users[awaited]
    );
    assert!(
        users[gone]["last_login"].is_null(),
        "{framework}: a login whose client had gone away was verified and recorded: {}",
        users[gone]
    );
    server.stop();
}

#[test]
fn abandoned_login_is_not_verified_axum() {
    abandoned_login_is_not_verified("axum");
}

#[test]
fn abandoned_login_is_not_verified_warp() {
    abandoned_login_is_not_verified("warp");
}

/// rocket served on its own drops nothing when a client leaves (each request runs in a task of
/// its own); `serve` runs rocket behind its own connection loop, which does.
#[test]
fn abandoned_login_is_not_verified_rocket() {
    abandoned_login_is_not_verified("rocket");
}

// 5. A write-locked database.

#[test]
fn a_write_locked_database_answers_unknown_and_real_users_alike() {
    on_every_framework(|framework| {
        let db = Db::sqlite();
        let server = Server::start(framework, db.url());
        let lock = WriteLock::take(db.url());
        // Both at once, each timed from its own send.
        let answers = thread::scope(|scope| {
            let threads = [
                ("unknown user", "nobody@example.com"),
                ("real user", DEMO_EMAIL),
            ]
            .map(|(label, user)| {
                let server = &server;
                scope.spawn(move || {
                    let started = Instant::now();
                    let response = server
                        .login(ATTACKER, user.as_bytes(), DEMO_PASSWORD.as_bytes())
                        .response()
                        .unwrap_or_else(|e| panic!("{framework}: {label}: {e}"));
                    (label, response, started.elapsed())
                })
            });
            threads.map(|thread| thread.join().expect("a request thread"))
        });
        drop(lock);
        server.stop();
        for (label, response, _) in &answers {
            assert_eq!(
                response.status,
                503,
                "{framework}: {label} while the database is write-locked: {}",
                response.describe()
            );
            assert!(
                response
                    .header("retry-after")
                    .and_then(|s| s.parse::<u64>().ok())
                    .is_some_and(|s| s >= 1),
                "{framework}: {label}: {}",
                response.describe()
            );
            assert!(
                response.header_values("www-authenticate").is_empty(),
                "{framework}: {label}: {}",
                response.describe()
            );
        }
        let (unknown, real) = (answers[0].2, answers[1].2);
        let (shorter, longer) = (unknown.min(real), unknown.max(real));
        assert!(
            longer - shorter <= longer / 5 + Duration::from_millis(200),
            "{framework}: an unknown user answered in {unknown:?}, a real one in {real:?}"
        );
    });
}

// 6. The users file replaced, deleted and put back under a running server.

/// A users file built beside the server's, as an operator prebuilds one: the demo user, enabled
/// or not. The CLI exits before this returns, so the file is checkpointed (no `-wal` beside it).
fn prebuilt_users_file(dir: &std::path::Path, name: &str, enabled: bool) -> std::path::PathBuf {
    let path = dir.join(name);
    let url = format!("sqlite://{}", path.display());
    let mut args = vec!["users", "add", DEMO_EMAIL, "--password-stdin", "--db", &url];
    if !enabled {
        args.push("--disabled");
    }
    let out = support::endpoint_auth(&args, Some(DEMO_PASSWORD), &[]);
    assert!(out.status.success(), "users add: {out:?}");
    path
}

/// Logs the demo user in until `wanted` answers, for at most `within`; the time it took.
fn answered_within(server: &Server, wanted: u16, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let response = server
            .login(ATTACKER, DEMO_EMAIL.as_bytes(), DEMO_PASSWORD.as_bytes())
            .response()
            .unwrap_or_else(|e| panic!("{}: {e}", server.framework));
        if response.status == wanted {
            if wanted == 503 {
                assert!(
                    response.header("retry-after").is_some(),
                    "{}: a 503 needs Retry-After: {}",
                    server.framework,
                    response.describe()
                );
            }
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "{}: still {} after {within:?}, expected {wanted}",
            server.framework,
            response.describe()
        );
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_users_file_replaced_deleted_and_put_back_under_a_running_server() {
    on_every_framework(|framework| {
        let db = Db::sqlite();
        let live = db.dir().join("users.db");
        let server = Server::start(framework, db.url());
        answered_within(&server, 200, Duration::from_secs(5));
        // Deployed by an atomic rename: the demo user is disabled in the new file.
        let disabled = prebuilt_users_file(db.dir(), "disabled.db", false);
        std::fs::rename(&disabled, &live).expect("renaming the new file into place");
        let took = answered_within(&server, 401, Duration::from_secs(3));
        assert!(
            took < Duration::from_millis(1500),
            "{framework}: the new file took {took:?}"
        );
        // Deleted: the store cannot answer, and must not recreate an empty file.
        std::fs::remove_file(&live).expect("deleting the users file");
        let took = answered_within(&server, 503, Duration::from_secs(3));
        assert!(
            took < Duration::from_millis(1500),
            "{framework}: the deletion took {took:?}"
        );
        assert!(!live.exists(), "{framework}: the users file was recreated");
        // Put back (with the user enabled): the server recovers by itself.
        let enabled = prebuilt_users_file(db.dir(), "enabled.db", true);
        std::fs::rename(&enabled, &live).expect("putting a users file back");
        answered_within(&server, 200, Duration::from_secs(3));
        server.stop();
    });
}

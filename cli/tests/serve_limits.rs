//! `endpoint-auth serve` under slow and abusive clients, on each framework: the real binary on
//! loopback, spoken to over raw sockets, every wait bounded. Each test runs every framework
//! side by side, each against its own server.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use support::server::Server;
use support::Db;

const FRAMEWORKS: [&str; 4] = ["axum", "warp", "rocket", "actix"];

/// Runs `check` once per framework, in parallel, and fails with every framework's failure.
fn on_every_framework(check: fn(&str)) {
    let runs: Vec<_> = FRAMEWORKS
        .iter()
        .map(|&framework| (framework, thread::spawn(move || check(framework))))
        .collect();
    let failed: Vec<&str> = runs
        .into_iter()
        .filter_map(|(framework, run)| run.join().is_err().then_some(framework))
        .collect();
    assert!(failed.is_empty(), "failed on {failed:?}");
}

/// What the server did with a request.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    /// A response with this status.
    Status(u16),
    /// The connection was closed without a response.
    Closed,
}

/// Sends `raw` on a fresh connection and reads the status line; panics when neither a status nor
/// a close comes within `within`.
fn send(addr: &str, raw: &[u8], within: Duration) -> Answer {
    let mut stream = TcpStream::connect(addr).expect("the server accepts connections");
    stream
        .set_read_timeout(Some(within))
        .expect("a read timeout");
    stream
        .set_write_timeout(Some(within))
        .expect("a write timeout");
    // The server may answer and close before reading everything; what it says still counts.
    let _ = stream.write_all(raw);
    let deadline = Instant::now() + within;
    let mut received = Vec::new();
    let mut chunk = [0; 4096];
    loop {
        if let Some(end) = received.windows(2).position(|w| w == b"\r\n") {
            let line = String::from_utf8_lossy(&received[..end]).into_owned();
            let status = line
                .split_whitespace()
                .nth(1)
                .and_then(|code| code.parse().ok())
                .unwrap_or_else(|| panic!("not a status line: {line:?}"));
            return Answer::Status(status);
        }
        assert!(
            Instant::now() < deadline,
            "no answer and no close within {within:?}"
        );
        match stream.read(&mut chunk) {
            Ok(0) => return Answer::Closed,
            Ok(n) => received.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("no answer and no close within {within:?}")
            }
            Err(_) => return Answer::Closed,
        }
    }
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").into_bytes()
}

/// Whether the server has closed `stream` (read end reached or reset); never blocks.
fn is_closed(stream: &mut TcpStream) -> bool {
    stream.set_nonblocking(true).expect("a non-blocking socket");
    let mut chunk = [0; 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return true,
            // Whatever the server said before closing (a 408, say) does not matter here.
            Ok(_) => continue,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

/// How many file descriptors process `pid` holds.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(Iterator::count)
        .unwrap_or(0)
}

/// 200 clients each sending one byte of a request head per second, plus one idle keep-alive
/// client: with `--header-timeout 2` all are closed 2 s after they connected (not before), and a
/// fresh client is served at once all along.
fn slowloris(framework: &str) {
    const CLIENTS: usize = 200;
    let db = Db::sqlite();
    let server = Server::start_with(framework, db.url(), &["--header-timeout", "2"]);
    let addr = server.addr().to_owned();

    let mut keep_alive = TcpStream::connect(&addr).expect("a connection");
    keep_alive
        .write_all(b"GET /open HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .expect("a request");
    keep_alive
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("a read timeout");
    let mut first = [0; 12];
    keep_alive.read_exact(&mut first).expect("a response");
    assert_eq!(&first, b"HTTP/1.1 200", "{framework}");

    let started = Instant::now();
    let mut slow: Vec<(TcpStream, Option<Duration>)> = (0..CLIENTS)
        .map(|_| (TcpStream::connect(&addr).expect("a connection"), None))
        .collect();
    let mut keep_alive_closed = None;
    let head = b"GET /open HTTP/1.1\r\nHost: localhost\r\nX-Slow: abcdefgh";
    let mut sent = 0;
    let mut slowest_fresh = Duration::ZERO;
    while started.elapsed() < Duration::from_millis(4500) {
        if started.elapsed() >= Duration::from_secs(sent as u64) {
            for (stream, closed) in slow.iter_mut().filter(|(_, closed)| closed.is_none()) {
                if stream.write_all(&head[sent..=sent]).is_err() {
                    *closed = Some(started.elapsed());
                }
            }
            sent += 1;
            let asked = Instant::now();
            let answer = send(&addr, &get("/open"), Duration::from_secs(5));
            assert_eq!(answer, Answer::Status(200), "{framework}");
            slowest_fresh = slowest_fresh.max(asked.elapsed());
        }
        for (stream, closed) in slow.iter_mut().filter(|(_, closed)| closed.is_none()) {
            if is_closed(stream) {
                *closed = Some(started.elapsed());
            }
        }
        if keep_alive_closed.is_none() && is_closed(&mut keep_alive) {
            keep_alive_closed = Some(started.elapsed());
        }
        thread::sleep(Duration::from_millis(50));
    }

    let closed: Vec<Duration> = slow.iter().filter_map(|(_, closed)| *closed).collect();
    assert_eq!(
        closed.len(),
        CLIENTS,
        "{framework}: only {} of {CLIENTS} slow clients were closed within 4.5 s",
        closed.len()
    );
    let earliest = closed.iter().min().copied().unwrap_or_default();
    assert!(
        earliest >= Duration::from_millis(1500),
        "{framework}: a slow client was closed after {earliest:?}, before its 2 s"
    );
    assert!(
        keep_alive_closed.is_some(),
        "{framework}: the idle keep-alive connection was kept past 4.5 s"
    );
    assert!(
        slowest_fresh < Duration::from_secs(1),
        "{framework}: a fresh client waited {slowest_fresh:?} during the attack"
    );
    let (exit, log) = server.stop();
    assert!(exit.success(), "{framework}: {exit}; log: {log}");
}

#[test]
fn slow_clients_are_closed_after_the_header_timeout_and_others_are_served() {
    on_every_framework(slowloris);
}

/// With `--max-connections 20`, 50 clients that connect and say nothing: the process holds at
/// most 20 of them (the rest wait in the listen backlog, costing it no file descriptor), frees
/// each slot after the header timeout, and so serves a client queued behind them within a few
/// header timeouts. A SIGTERM with clients still connected ends the process promptly.
fn connection_cap(framework: &str) {
    const CAP: usize = 20;
    const SLACK: usize = 8;
    let db = Db::sqlite();
    let server = Server::start_with(
        framework,
        db.url(),
        &["--max-connections", "20", "--header-timeout", "2"],
    );
    let addr = server.addr().to_owned();
    let pid = server.pid();
    for _ in 0..3 {
        assert_eq!(
            send(&addr, &get("/open"), Duration::from_secs(5)),
            Answer::Status(200)
        );
    }
    thread::sleep(Duration::from_millis(200));
    let baseline = open_fds(pid);

    let idle: Vec<TcpStream> = (0..50)
        .map(|_| TcpStream::connect(&addr).expect("the backlog takes the connection"))
        .collect();
    let queued = thread::spawn({
        let addr = addr.clone();
        move || {
            let asked = Instant::now();
            let answer = send(&addr, &get("/open"), Duration::from_secs(15));
            (answer, asked.elapsed())
        }
    });
    let mut most = 0;
    while !queued.is_finished() {
        most = most.max(open_fds(pid));
        thread::sleep(Duration::from_millis(50));
    }
    let (answer, waited) = queued.join().expect("the queued client");
    assert_eq!(answer, Answer::Status(200), "{framework}");
    // 51 clients through 20 slots freed every 2 s: served in the third round.
    assert!(
        waited < Duration::from_secs(10),
        "{framework}: the queued client waited {waited:?}"
    );
    assert!(
        most <= baseline + CAP + SLACK,
        "{framework}: {most} file descriptors open with 50 idle clients, {baseline} before"
    );

    let more: Vec<TcpStream> = (0..30)
        .map(|_| TcpStream::connect(&addr).expect("the backlog takes the connection"))
        .collect();
    thread::sleep(Duration::from_millis(200));
    let stopping = Instant::now();
    let (exit, log) = server.stop();
    assert!(exit.success(), "{framework}: {exit}; log: {log}");
    assert!(
        stopping.elapsed() < Duration::from_secs(5),
        "{framework}: SIGTERM took {:?} with idle clients connected",
        stopping.elapsed()
    );
    drop((idle, more));
}

#[test]
fn connections_past_the_cap_wait_in_the_backlog_and_cost_no_file_descriptors() {
    if !std::path::Path::new("/proc/self/fd").exists() {
        eprintln!("!!! SKIPPED: no /proc/PID/fd to count file descriptors with");
        return;
    }
    on_every_framework(connection_cap);
}

/// Under `ulimit -n 128` the default cap of 1024 connections is lowered to what the limit allows
/// beside the database and the runtime: 150 silent clients then never leave the process unable to
/// accept a connection or to open its database, and a login queued behind them succeeds.
#[test]
fn the_cap_fits_the_open_files_limit() {
    let db = Db::sqlite();
    let server = Server::start_with_open_files("axum", db.url(), &["--header-timeout", "2"], 128);
    let addr = server.addr().to_owned();
    let idle: Vec<TcpStream> = (0..150)
        .map(|_| TcpStream::connect(&addr).expect("the backlog takes the connection"))
        .collect();
    let login = format!(
        "GET /protected HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic {}\r\n\
         Connection: close\r\n\r\n",
        STANDARD.encode("user123@gmail.com:mySuperS3cretPassw0rd")
    );
    let asked = Instant::now();
    let answer = send(&addr, login.as_bytes(), Duration::from_secs(15));
    let waited = asked.elapsed();
    let (exit, log) = server.stop();
    drop(idle);
    assert_eq!(answer, Answer::Status(200), "{log}");
    assert!(waited < Duration::from_secs(10), "waited {waited:?}");
    assert!(exit.success(), "{exit}; log: {log}");
    assert!(
        log.contains("serving at most 64 connections, not 1024"),
        "the lowered cap is said: {log}"
    );
    assert!(
        !log.contains("could not accept") && !log.contains("Too many open files"),
        "{log}"
    );
}

/// A SIGTERM while a request is in flight lets it finish before the process exits. rocket reads a
/// body before dispatching, so a body sent in two halves keeps a request in flight on demand;
/// the drain itself is the same code for every framework.
#[test]
fn a_request_in_flight_finishes_after_sigterm() {
    let db = Db::sqlite();
    let server = Server::start("rocket", db.url());
    let mut stream = TcpStream::connect(server.addr()).expect("a connection");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a read timeout");
    stream
        .write_all(b"POST /open HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n\r\nab")
        .expect("the head and half the body");
    thread::sleep(Duration::from_millis(300));
    let pid = server.pid().to_string();
    let stopping = thread::spawn(move || server.stop());
    thread::sleep(Duration::from_millis(300));
    stream.write_all(b"cd").expect("the rest of the body");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let (exit, log) = stopping.join().expect("the server stops");
    assert!(
        response.starts_with("HTTP/1.1 404"),
        "the request in flight was answered (rocket has no POST /open): {response:?}; log: {log}"
    );
    assert!(exit.success(), "{pid}: {exit}; log: {log}");
}

/// A huge header field, too many fields, a declared or a streamed body over the limit: each gets
/// a refusal (or a close) at once, never a hang.
fn oversized(framework: &str) {
    let db = Db::sqlite();
    let server = Server::start(framework, db.url());
    let addr = server.addr().to_owned();
    let within = Duration::from_secs(5);

    let big_field = format!(
        "GET /open HTTP/1.1\r\nHost: localhost\r\nX-Big: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let answer = send(&addr, big_field.as_bytes(), within);
    assert!(
        matches!(answer, Answer::Status(431) | Answer::Closed),
        "{framework}: a 64 KiB field got {answer:?}"
    );

    let many_fields: String = (0..200).map(|i| format!("X-Field-{i}: {i}\r\n")).collect();
    let many = format!("GET /open HTTP/1.1\r\nHost: localhost\r\n{many_fields}\r\n");
    let answer = send(&addr, many.as_bytes(), within);
    assert!(
        matches!(answer, Answer::Status(431) | Answer::Closed),
        "{framework}: 200 fields got {answer:?}"
    );

    // Only the head is sent: the refusal must not wait for a megabyte that never comes.
    let declared =
        b"POST /open HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n".as_slice();
    let answer = send(&addr, declared, within);
    assert_eq!(answer, Answer::Status(413), "{framework}: a 1 MB body");

    let mut chunked =
        b"POST /open HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..5 {
        chunked.extend_from_slice(format!("{:x}\r\n", 32 * 1024).as_bytes());
        chunked.extend(std::iter::repeat_n(b'a', 32 * 1024));
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let answer = send(&addr, &chunked, within);
    // No route takes a POST: 405 when the body is not read, 413 when it is.
    assert!(
        matches!(answer, Answer::Status(405 | 413 | 404) | Answer::Closed),
        "{framework}: a 160 KiB chunked body got {answer:?}"
    );

    // The server is still there for everybody else.
    assert_eq!(send(&addr, &get("/open"), within), Answer::Status(200));
    let (exit, log) = server.stop();
    assert!(exit.success(), "{framework}: {exit}; log: {log}");
}

#[test]
fn oversized_requests_are_refused_not_waited_for() {
    on_every_framework(oversized);
}

/// 300 logins with a 2900-character user name while the users table is gone, each a 503 with a
/// warning: the log keeps a few of those warnings a second and counts the rest.
#[test]
fn a_storm_of_identical_warnings_is_rate_limited_in_the_log() {
    use endpoint_auth_sql::sqlx::{Connection, Executor, SqliteConnection};

    const REQUESTS: usize = 300;
    let db = Db::sqlite();
    let server = Server::start("axum", db.url());
    let addr = server.addr().to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut connection = SqliteConnection::connect(db.url())
            .await
            .expect("the database opens");
        connection
            .execute("ALTER TABLE users RENAME TO users_gone")
            .await
            .expect("the table is renamed");
        connection.close().await.expect("the connection closes");
    });

    let long_name = "n".repeat(2900);
    let token = STANDARD.encode(format!("{long_name}:password"));
    let request = format!(
        "GET /protected HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic {token}\r\n\
         Connection: close\r\n\r\n"
    );
    let started = Instant::now();
    for _ in 0..REQUESTS {
        let answer = send(&addr, request.as_bytes(), Duration::from_secs(10));
        assert_eq!(answer, Answer::Status(503));
    }
    let storm = started.elapsed();
    // The reporter says how many it left out once a second.
    thread::sleep(Duration::from_millis(1200));
    let (exit, log) = server.stop();
    assert!(exit.success(), "{exit}; log: {log}");

    let warnings = log
        .lines()
        .filter(|line| line.contains("authentication unavailable") && !line.contains("suppressed"))
        .count();
    let suppressed: u64 = log
        .lines()
        .filter(|line| line.contains("authentication unavailable"))
        .filter_map(|line| line.split("suppressed ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .filter_map(|count| count.parse::<u64>().ok())
        .sum();
    let windows = storm.as_secs() as usize + 2;
    assert!(
        warnings <= 5 * windows,
        "{warnings} warnings in {storm:?}:\n{log}"
    );
    assert_eq!(
        warnings as u64 + suppressed,
        REQUESTS as u64,
        "every warning is either logged or counted:\n{log}"
    );
    assert!(
        log.len() < 200 * 1024,
        "{} bytes of log for {REQUESTS} requests",
        log.len()
    );
}

//! A failing case says where and on what: its message carries the exact request the case sent,
//! the response it got, and the line of the case's failing check — not the runner's line.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use endpoint_auth_conformance::endpoint_auth::{Authenticator, User};
use endpoint_auth_conformance::{run, run_case_or_panic, CaseOutcome, Fixture, TestServer, CASES};

/// What the wrong server answers to everything: a 200 where the contract wants a 401.
const WRONG_ANSWER: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 7\r\nConnection: close\r\n\r\nwelcome";

/// A server that lets everyone in, whatever they send.
fn wrong_server(_: Authenticator<User>) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().expect("the bound address");
    let stopping = Arc::new(AtomicBool::new(false));
    let stop = stopping.clone();
    let server = std::thread::spawn(move || {
        for stream in listener.incoming() {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            if let Ok(stream) = stream {
                answer(stream);
            }
        }
    });
    TestServer::new(addr, move || {
        stopping.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(addr);
        let _ = server.join();
    })
}

/// Reads the request head, answers [`WRONG_ANSWER`], closes.
fn answer(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buffer = [0; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
    }
    let _ = stream.write_all(WRONG_ANSWER);
    let _ = stream.shutdown(Shutdown::Write);
}

/// The 1-based line, in `cases.rs`, of the first check of `case` that the wrong server fails:
/// the first line of its body that calls `check`.
fn line_of_first(case: &str, check: &str) -> usize {
    let source = include_str!("../src/cases.rs");
    let start = source
        .lines()
        .position(|line| line.starts_with(&format!("pub fn {case}(")))
        .expect("the case is in cases.rs");
    start
        + source
            .lines()
            .skip(start)
            .position(|line| line.contains(check))
            .expect("the check is in the case")
        + 1
}

const CASE: &str = "no_authorization_header";

fn assert_names_request_and_line(message: &str) {
    // The request exactly as sent, escaped: request line, the suite's fields, the empty line.
    assert!(
        message.contains(r#"b"GET /protected HTTP/1.1\r\nHost: 127.0.0.1:"#),
        "no request line in: {message}"
    );
    assert!(
        message.contains(r#"\r\nConnection: close\r\n\r\n""#),
        "the request is not shown whole: {message}"
    );
    // The response it got.
    assert!(
        message.contains("status 200") && message.contains(r#"body "welcome""#),
        "no response in: {message}"
    );
    // The case's own line, where its first check failed.
    let line = line_of_first(CASE, "expect_challenge(");
    assert!(
        message.contains(&format!("src/cases.rs:{line}:")),
        "not located at cases.rs:{line}: {message}"
    );
    assert!(
        !message.contains("src/lib.rs"),
        "located at the runner: {message}"
    );
}

#[test]
fn a_reported_failure_shows_the_request_the_response_and_the_case_line() {
    let others: Vec<(&str, &str)> = CASES
        .iter()
        .filter(|case| case.name != CASE)
        .map(|case| (case.name, "not this test's subject"))
        .collect();
    let report = run(&wrong_server, &Fixture::new, &others);
    let outcome = report
        .results
        .iter()
        .find(|(name, _)| *name == CASE)
        .map(|(_, outcome)| outcome.clone());
    let Some(CaseOutcome::Failed(message)) = outcome else {
        panic!("{CASE} passed against a server that lets everyone in: {report}");
    };
    assert_names_request_and_line(&message);
}

#[test]
fn a_failing_conformance_test_panics_with_the_request_and_the_case_line() {
    let panic = catch_unwind(AssertUnwindSafe(|| {
        run_case_or_panic(CASE, &wrong_server, &Fixture::new, &[]);
    }))
    .expect_err("the case fails against a server that lets everyone in");
    let message = panic
        .downcast_ref::<String>()
        .expect("a formatted panic message");
    assert_names_request_and_line(message);
}

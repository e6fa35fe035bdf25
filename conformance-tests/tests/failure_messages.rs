//! A failing case says where and on what: its message carries the exact request the case sent,
//! the response it got, and the line of the case's failing check — not the runner's line.

mod support;

use std::panic::{catch_unwind, AssertUnwindSafe};

use endpoint_auth_conformance::endpoint_auth::{Authenticator, User};
use endpoint_auth_conformance::{run_case_or_panic, CaseOutcome, Fixture, TestServer};
use support::{response, run_only, scripted_server};

/// A server that lets everyone in, whatever they send: a 200 where the contract wants a 401.
fn wrong_server(_: Authenticator<User>) -> TestServer {
    scripted_server(|_| response("200 OK", &["Content-Type: text/plain"], "welcome"))
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
    let CaseOutcome::Failed(message) = run_only(CASE, &wrong_server) else {
        panic!("{CASE} passed against a server that lets everyone in");
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

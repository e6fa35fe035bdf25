//! The CORS preflight case fails an adapter that does not let preflights reach the route, and
//! one that lets every `OPTIONS` through; it passes one that does what SPEC §7 says.

mod support;

use endpoint_auth_conformance::endpoint_auth::{Authenticator, User};
use endpoint_auth_conformance::{CaseOutcome, TestServer, EXPECTED_CHALLENGE};
use support::{response, run_only, scripted_server};

const CASE: &str = "cors_preflight_passes";

fn is_options(head: &[u8]) -> bool {
    head.starts_with(b"OPTIONS ")
}

fn is_preflight(head: &[u8]) -> bool {
    is_options(head)
        && head
            .to_ascii_lowercase()
            .windows(b"\r\naccess-control-request-method:".len())
            .any(|w| w == b"\r\naccess-control-request-method:")
}

/// The SPEC §3 401, as the suite's realm renders it.
fn challenge() -> Vec<u8> {
    response(
        "401 Unauthorized",
        &[
            &format!("WWW-Authenticate: {EXPECTED_CHALLENGE}"),
            "Content-Type: text/plain; charset=utf-8",
        ],
        "Unauthorized",
    )
}

/// Routes that serve `GET` only: a preflight gets the router's 405, as it did before the routes
/// had to serve `OPTIONS`.
fn get_only(_: Authenticator<User>) -> TestServer {
    scripted_server(|head| {
        if is_options(head) {
            response("405 Method Not Allowed", &[], "")
        } else {
            challenge()
        }
    })
}

/// Lets every `OPTIONS` through, preflight or not.
fn every_options_open(_: Authenticator<User>) -> TestServer {
    scripted_server(|head| {
        if is_options(head) {
            response("204 No Content", &[], "")
        } else {
            challenge()
        }
    })
}

/// Answers preflights, challenges everything else (no credentials are sent in this case).
fn conforming(_: Authenticator<User>) -> TestServer {
    scripted_server(|head| {
        if is_preflight(head) {
            response("204 No Content", &[], "")
        } else {
            challenge()
        }
    })
}

#[test]
fn a_preflight_that_does_not_reach_the_route_fails() {
    let CaseOutcome::Failed(message) = run_only(CASE, &get_only) else {
        panic!("{CASE} passed though preflights got a 405");
    };
    assert!(
        message.contains("CORS preflight to /protected") && message.contains("status 405"),
        "{message}"
    );
}

#[test]
fn an_options_request_that_is_no_preflight_must_be_challenged() {
    let CaseOutcome::Failed(message) = run_only(CASE, &every_options_open) else {
        panic!("{CASE} passed though a plain OPTIONS got in without credentials");
    };
    assert!(
        message.contains("without Access-Control-Request-Method is no preflight")
            && message.contains("status 204"),
        "{message}"
    );
}

#[test]
fn preflights_answered_and_other_options_challenged_pass() {
    assert_eq!(run_only(CASE, &conforming), CaseOutcome::Passed);
}

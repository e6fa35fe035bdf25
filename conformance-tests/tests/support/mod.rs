//! A scripted stand-in for an adapter under test: a loopback server that answers each request
//! head with whatever the test's function returns, so that a test can watch a case fail.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use endpoint_auth_conformance::endpoint_auth::{Authenticator, User};
use endpoint_auth_conformance::{run, CaseOutcome, Fixture, TestServer, CASES};

/// Serves on a fresh loopback port until dropped, answering every request head (request line
/// and fields, up to the empty line) with `answer(head)`, then closing the connection.
pub(crate) fn scripted_server(answer: fn(&[u8]) -> Vec<u8>) -> TestServer {
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
                respond(stream, answer);
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

fn respond(mut stream: TcpStream, answer: fn(&[u8]) -> Vec<u8>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buffer = [0; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
    }
    let _ = stream.write_all(&answer(&head));
    let _ = stream.shutdown(Shutdown::Write);
}

/// A complete response with `status_line` (e.g. `200 OK`), `fields` (each without CRLF) and
/// `body`.
pub(crate) fn response(status_line: &str, fields: &[&str], body: &str) -> Vec<u8> {
    let mut response = format!("HTTP/1.1 {status_line}\r\n");
    for field in fields {
        response.push_str(field);
        response.push_str("\r\n");
    }
    response.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    response.into_bytes()
}

/// What one case comes to against the server `start` starts (every other case skipped).
pub(crate) fn run_only(
    case: &str,
    start: &dyn Fn(Authenticator<User>) -> TestServer,
) -> CaseOutcome {
    let others: Vec<(&str, &str)> = CASES
        .iter()
        .filter(|other| other.name != case)
        .map(|other| (other.name, "not this test's subject"))
        .collect();
    let report = run(start, &Fixture::new, &others);
    report
        .results
        .into_iter()
        .find(|(name, _)| *name == case)
        .map(|(_, outcome)| outcome)
        .expect("the case is in the suite")
}

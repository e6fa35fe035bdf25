//! The HTTP contract every endpoint-auth adapter passes (SPEC.md), as a library that any adapter
//! — ours or yours, on any framework — can run.
//!
//! The suite starts nothing itself. Your test hands it a function that starts your server on
//! loopback, serving the SPEC §7 routes with the [`Authenticator`] the suite gives it; the suite
//! then sends raw HTTP/1.1 bytes over TCP — including what polite clients refuse to send (two
//! `Authorization` fields, a TAB separator, non-UTF-8 octets, a 20 KB value) — and checks
//! status, headers and body byte for byte.
//!
//! ```text
//!  suite ── Fixture::new() ──► users store + Authenticator (realm, lockout, CORS, fault switches)
//!    │                                 │
//!    │            your start(authenticator) ──► TestServer { 127.0.0.1:port }
//!    ▼                                 ▼
//!  raw TCP ──► GET /protected | /confirmed | /credentials | /open ──► status, headers, body
//!              OPTIONS /protected | /confirmed | /credentials (CORS preflights)
//! ```
//!
//! # Using it
//! One `#[test]` per case, named after the rule it checks:
//!
//! ```no_run
//! use endpoint_auth_conformance::{conformance_suite, TestServer};
//! use endpoint_auth::{Authenticator, User};
//!
//! fn start(authenticator: Authenticator<User>) -> TestServer {
//!     // Start your server on 127.0.0.1:0 serving the routes of `endpoint_auth_conformance::routes`
//!     // (`GET`, and `OPTIONS` for CORS preflights) with `authenticator`; return its address and
//!     // how to stop it.
//!     # let addr = "127.0.0.1:1".parse().unwrap();
//!     TestServer::new(addr, || { /* shut the server down */ })
//! }
//!
//! conformance_suite!(start);
//! ```
//!
//! Or call [`run`] and inspect the [`Report`] from another harness.
#![forbid(unsafe_code)]
// On docs.rs, items behind a feature say which.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

pub mod cases;
pub mod client;
mod faulty_store;
mod fixture;
pub mod routes;

use std::fmt;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};

pub use endpoint_auth;
use endpoint_auth::{Authenticator, User};
pub use faulty_store::FaultyStore;
pub use fixture::*;

/// A running server under test. Dropping it stops the server.
pub struct TestServer {
    addr: SocketAddr,
    stop: Option<Box<dyn FnOnce() + Send>>,
}

impl fmt::Debug for TestServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestServer")
            .field("addr", &self.addr)
            .finish()
    }
}

impl TestServer {
    /// A server listening on `addr` (loopback), stopped by calling `stop`.
    pub fn new(addr: SocketAddr, stop: impl FnOnce() + Send + 'static) -> Self {
        Self {
            addr,
            stop: Some(Box::new(stop)),
        }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Runs a server under test on a thread of its own with a tokio runtime, on a fresh loopback
    /// port: `serve` gets the bound listener and a future that resolves when the `TestServer` is
    /// dropped, and should shut down gracefully then. (Feature `tokio`.)
    ///
    /// ```no_run
    /// use endpoint_auth_conformance::TestServer;
    ///
    /// let server = TestServer::spawn_tokio(|listener, stop| async move {
    ///     // e.g. axum::serve(listener, app).with_graceful_shutdown(stop).await.unwrap();
    ///     # let _ = listener;
    ///     stop.await;
    /// });
    /// # let _ = server;
    /// ```
    ///
    /// # Panics
    /// When no loopback port can be bound or no runtime started: the test cannot run then.
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub fn spawn_tokio<F, Fut>(serve: F) -> Self
    where
        F: FnOnce(
                tokio::net::TcpListener,
                std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
            ) -> Fut
            + Send
            + 'static,
        Fut: std::future::Future<Output = ()>,
    {
        let listener = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
            .expect("a loopback port");
        let addr = listener.local_addr().expect("the bound address");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime for the server under test");
            runtime.block_on(async move {
                let listener =
                    tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                let stopped = Box::pin(async move {
                    let _ = stopped.await;
                });
                serve(listener, stopped).await;
            });
        });
        Self::new(addr, move || {
            let _ = stop.send(());
            let _ = server.join();
        })
    }
}

#[cfg(feature = "rocket")]
impl TestServer {
    /// Launches a rocket server under test on a thread of its own, on a fresh loopback port:
    /// `build` gets the configuration to build it with (loopback, port 0, no log output, no
    /// signal handlers, a short shutdown) and returns it unlaunched; it is shut down when the
    /// `TestServer` is dropped. (Feature `rocket`.)
    ///
    /// ```no_run
    /// use endpoint_auth_conformance::TestServer;
    ///
    /// let server = TestServer::spawn_rocket(|config| {
    ///     // e.g. .attach(BasicAuth::new(authenticator)).mount("/", routes![...])
    ///     rocket::custom(config)
    /// });
    /// # let _ = server;
    /// ```
    ///
    /// # Panics
    /// When rocket does not launch within a minute, with its error: the test cannot run then.
    #[cfg_attr(docsrs, doc(cfg(feature = "rocket")))]
    pub fn spawn_rocket<F>(build: F) -> Self
    where
        F: FnOnce(rocket::Config) -> rocket::Rocket<rocket::Build> + Send + 'static,
    {
        use rocket::config::{LogLevel, Shutdown as ShutdownConfig};
        use rocket::fairing::AdHoc;

        let config = rocket::Config {
            address: std::net::Ipv4Addr::LOCALHOST.into(),
            port: 0,
            workers: 2,
            log_level: LogLevel::Off,
            cli_colors: false,
            shutdown: ShutdownConfig {
                ctrlc: false,
                #[cfg(unix)]
                signals: Default::default(),
                grace: 1,
                mercy: 1,
                ..Default::default()
            },
            ..rocket::Config::debug_default()
        };
        let (listening, bound) = std::sync::mpsc::channel::<(u16, rocket::Shutdown)>();
        let server = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a tokio runtime for the server under test");
            runtime.block_on(async move {
                build(config)
                    // Liftoff runs once the listener is bound, with the port it got.
                    .attach(AdHoc::on_liftoff("report the bound port", move |rocket| {
                        Box::pin(async move {
                            let _ = listening.send((rocket.config().port, rocket.shutdown()));
                        })
                    }))
                    .launch()
                    .await
                    .map(drop)
                    // Displaying a rocket error marks it handled (rocket panics on dropping
                    // one unseen).
                    .map_err(|error| error.to_string())
            })
        });
        let (port, shutdown) = match bound.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(bound) => bound,
            Err(_) => match server.join() {
                Ok(Err(error)) => panic!("rocket did not launch: {error}"),
                _ => panic!("rocket did not report its port"),
            },
        };
        Self::new(
            SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, port)),
            move || {
                shutdown.notify();
                let _ = server.join();
            },
        )
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop();
        }
    }
}

/// One conformance case.
#[derive(Clone, Copy)]
pub struct Case {
    /// The case's name, also its `#[test]` name.
    pub name: &'static str,
    /// The check.
    pub run: fn(&mut cases::Context<'_>) -> cases::CaseResult,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// Calls `$callback!` with `[args]` followed by the name of every case: the single list from
/// which both [`CASES`] and [`conformance_suite!`]'s tests are made.
#[doc(hidden)]
#[macro_export]
macro_rules! __with_case_names {
    ($callback:ident [$($args:tt)*]) => {
        $crate::$callback! { [$($args)*]
            no_authorization_header
            two_authorization_fields
            header_longer_than_limit
            header_at_limit_is_read
            surrounding_whitespace_ignored
            scheme_lowercase_accepted
            scheme_uppercase_accepted
            several_spaces_after_scheme_accepted
            other_scheme_refused
            missing_space_refused
            tab_separator_refused
            bare_token_refused
            bare_scheme_refused
            data_after_token_refused
            unpadded_base64_refused
            non_canonical_base64_refused
            url_safe_base64_refused
            invalid_base64_refused
            no_colon_refused
            password_keeps_later_colons
            empty_username_and_password_allowed
            utf8_credentials_decoded
            rfc7617_aladdin_example
            latin1_fallback
            control_character_refused
            nfc_normalized
            nfc_password_authenticates
            authenticate_users_seed_user
            email_match_case_insensitive
            non_ascii_user_with_colon_in_password
            wrong_password_refused
            unknown_user_refused
            disabled_user_refused
            unconfirmed_user_refused_where_required
            unconfirmed_user_allowed_elsewhere
            bcrypt_hash_upgraded_to_argon2id
            require_credentials_hands_over_pair
            require_credentials_without_header_refused
            open_route_needs_nothing
            failures_answer_identically
            challenge_escapes_realm
            lockout_after_max_failures
            success_resets_failure_count
            store_unavailable_is_503
            verification_queue_full_is_503
            flooding_client_gets_429_while_another_waits
            too_many_requests_has_retry_after_and_no_challenge
            abandoned_request_is_not_verified
            cors_preflight_passes
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __case_table {
    ([] $($name:ident)*) => {
        /// Every case, in SPEC order.
        pub const CASES: &[Case] = &[$(Case { name: stringify!($name), run: cases::$name }),*];
    };
}

__with_case_names!(__case_table []);

#[doc(hidden)]
#[macro_export]
macro_rules! __case_tests {
    ([$start:expr, $fixture:expr, $expected_failures:expr] $($name:ident)*) => {
        $(
            #[test]
            fn $name() {
                $crate::run_case_or_panic(
                    stringify!($name),
                    &$start,
                    &$fixture,
                    $expected_failures,
                );
            }
        )*
    };
}

/// Stamps out one `#[test]` per conformance case, named after the case.
///
/// `conformance_suite!(start)` runs against the in-memory fixture store;
/// `conformance_suite!(start, fixture)` with `fixture: Fn() -> Fixture` runs against any store
/// (see [`Fixture::with_store`]).
///
/// `conformance_suite!(start, fixture, expected_failures: &[(case, reason)])` names cases the
/// adapter is known to fail, each with why (e.g. a limit of its framework). Their tests pass
/// while the case fails — printing the reason and the failure — and fail once it passes, so
/// that the entry is removed.
#[macro_export]
macro_rules! conformance_suite {
    ($start:expr) => {
        $crate::conformance_suite!($start, $crate::Fixture::new);
    };
    ($start:expr, $fixture:expr) => {
        $crate::conformance_suite!($start, $fixture, expected_failures: &[]);
    };
    ($start:expr, $fixture:expr, expected_failures: $expected_failures:expr) => {
        $crate::__with_case_names!(__case_tests [$start, $fixture, $expected_failures]);
    };
}

/// What happened to one case.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CaseOutcome {
    /// The adapter did what SPEC.md says.
    Passed,
    /// It did not; the text says how: the case's line (`file:line:column: `), what the adapter
    /// did, and the exact request that showed it where there was one
    /// ([`CaseFailure`](cases::CaseFailure)'s `Display`), or what the case panicked with.
    Failed(String),
    /// Not run, for the reason given in the skip list.
    Unsupported(String),
}

/// The result of [`run`].
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Every case with its outcome, in SPEC order.
    pub results: Vec<(&'static str, CaseOutcome)>,
}

impl Report {
    /// Whether no case failed.
    pub fn all_passed(&self) -> bool {
        self.failures().next().is_none()
    }

    /// The failed cases with their reasons.
    pub fn failures(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.results
            .iter()
            .filter_map(|(name, outcome)| match outcome {
                CaseOutcome::Failed(reason) => Some((*name, reason.as_str())),
                _ => None,
            })
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mut passed, mut failed, mut skipped) = (0, 0, 0);
        for (name, outcome) in &self.results {
            match outcome {
                CaseOutcome::Passed => passed += 1,
                CaseOutcome::Failed(reason) => {
                    failed += 1;
                    writeln!(f, "FAILED {name}: {reason}")?;
                }
                CaseOutcome::Unsupported(reason) => {
                    skipped += 1;
                    writeln!(f, "skipped {name}: {reason}")?;
                }
            }
        }
        write!(f, "{passed} passed, {failed} failed, {skipped} skipped")
    }
}

/// Runs every case except those in `skip` (`(case name, reason)`), each against a fresh fixture
/// and a fresh server, and reports.
pub fn run(
    start: &dyn Fn(Authenticator<User>) -> TestServer,
    fixture: &dyn Fn() -> Fixture,
    skip: &[(&str, &str)],
) -> Report {
    let results = CASES
        .iter()
        .map(|case| {
            let outcome = match skip.iter().find(|(name, _)| *name == case.name) {
                Some((_, reason)) => CaseOutcome::Unsupported((*reason).to_owned()),
                None => run_one(case, start, fixture),
            };
            (case.name, outcome)
        })
        .collect();
    Report { results }
}

fn run_one(
    case: &Case,
    start: &dyn Fn(Authenticator<User>) -> TestServer,
    fixture: &dyn Fn() -> Fixture,
) -> CaseOutcome {
    let attempt = catch_unwind(AssertUnwindSafe(|| {
        let fixture = fixture();
        let server = start(fixture.authenticator());
        let mut context = cases::Context {
            addr: server.addr(),
            fixture: &fixture,
        };
        (case.run)(&mut context)
    }));
    match attempt {
        Ok(Ok(())) => CaseOutcome::Passed,
        Ok(Err(failure)) => CaseOutcome::Failed(failure.to_string()),
        Err(panic) => CaseOutcome::Failed(format!("panicked: {}", panic_message(&panic))),
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "a non-string panic".to_owned())
}

/// Runs the named case and panics with its failure: what [`conformance_suite!`]'s tests call.
/// A case listed in `expected_failures` (`(case name, reason)`) must fail instead, and panics
/// if it passes.
///
/// # Panics
/// When the case fails (or passes, if it is expected to fail), with the reason; when no case
/// has that name, or an expected failure names no case. The panic is located at the caller (the
/// test [`conformance_suite!`] made), and the reason starts with the case's own line.
#[doc(hidden)]
#[track_caller]
pub fn run_case_or_panic<S, F>(
    name: &str,
    start: &S,
    fixture: &F,
    expected_failures: &[(&str, &str)],
) where
    S: Fn(Authenticator<User>) -> TestServer,
    F: Fn() -> Fixture,
{
    for (listed, _) in expected_failures {
        assert!(
            CASES.iter().any(|case| case.name == *listed),
            "expected failure {listed} names no conformance case"
        );
    }
    let case = CASES
        .iter()
        .find(|case| case.name == name)
        .unwrap_or_else(|| panic!("no conformance case named {name}"));
    let expected = expected_failures
        .iter()
        .find(|(listed, _)| *listed == name)
        .map(|(_, reason)| *reason);
    match (run_one(case, start, fixture), expected) {
        (CaseOutcome::Passed, None) => {}
        (CaseOutcome::Failed(reason), None) => {
            panic!("conformance case {name} failed: {reason}")
        }
        (CaseOutcome::Failed(failure), Some(why)) => {
            eprintln!("!!! EXPECTED FAILURE of conformance case {name} ({why}): {failure}");
        }
        (CaseOutcome::Passed, Some(why)) => panic!(
            "conformance case {name} passes although it is listed as an expected failure \
             ({why}): take it off the list"
        ),
        (CaseOutcome::Unsupported(reason), _) => {
            panic!("conformance case {name} unsupported: {reason}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_has_a_unique_name() {
        let mut names: Vec<_> = CASES.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CASES.len());
        assert!(CASES.len() >= 40);
    }

    #[test]
    fn the_fixture_realm_renders_the_expected_challenge() {
        let fixture = Fixture::new();
        assert_eq!(
            fixture.authenticator().realm().challenge(),
            EXPECTED_CHALLENGE
        );
    }
}

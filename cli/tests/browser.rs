//! `endpoint-auth serve` on each framework, visited by a real browser: headless Chromium driven
//! over the DevTools protocol.
//!
//! What a person at the browser would see, checked through the events behind it: the 401 is
//! recognised as a Basic login prompt for the server's realm (`Fetch.authRequired`, the event
//! behind the browser's login dialog); dismissing the prompt shows `Unauthorized`; wrong
//! credentials make the browser ask again; the right ones get the JSON; and the browser then
//! sends the remembered credentials on its own, byte for byte as typed.
//!
//! Needs Chromium (`/usr/bin/chromium` or `chromium` on the `PATH`); without it the tests say so
//! on stderr and pass.
#![cfg(unix)]

mod support;

#[path = "support/cdp.rs"]
mod cdp;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use cdp::Browser;
use support::Db;

const DEMO_EMAIL: &str = "user123@gmail.com";
const DEMO_PASSWORD: &str = "mySuperS3cretPassw0rd";
/// The realm `serve` uses without `--realm`.
const DEFAULT_REALM: &str = "endpoint-auth";

/// Everything one test does with the server and the browser ends within this.
const TEST_DEADLINE: Duration = Duration::from_secs(120);
/// How long the server may take to start (it may build a database first).
const STARTUP: Duration = Duration::from_secs(60);
/// How long the server may take to stop after SIGTERM.
const SHUTDOWN: Duration = Duration::from_secs(15);

/// Sends `signal` to the process `pid` (a child of this test).
fn signal(signal: &str, pid: u32) {
    let _ = Command::new("sh")
        .args(["-c", "kill -s \"$1\" \"$2\"", "sh", signal])
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// A running `endpoint-auth serve --demo`; dropping it stops the server.
struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`
    origin: String,
    /// Everything the server wrote to stderr (its access log), shown when a test fails.
    stderr: Arc<Mutex<String>>,
}

impl Server {
    fn start(db: &Db, framework: &str, realm: Option<&str>) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_endpoint-auth"));
        command
            .args(["serve", "--demo", "--bind", "127.0.0.1:0"])
            .args(["--framework", framework, "--db", db.url()])
            .env_remove("ENDPOINT_AUTH_DB")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(realm) = realm {
            command.args(["--realm", realm]);
        }
        let mut child = command.spawn().expect("the endpoint-auth binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr_pipe = child.stderr.take().expect("piped stderr");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut server = Self {
            child,
            origin: String::new(),
            stderr: Arc::clone(&stderr),
        };

        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = stderr_pipe.read(&mut chunk) {
                if let Ok(mut text) = stderr.lock() {
                    text.push_str(&String::from_utf8_lossy(&chunk[..n]));
                }
            }
        });
        // Keeps reading stdout for the server's whole life, so that it never blocks on a full pipe.
        let (lines_tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = lines_tx.send(line);
            }
        });

        let deadline = Instant::now() + STARTUP;
        let prefix = "endpoint-auth serving http://";
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix(prefix) {
                        let addr = rest.split(' ').next().unwrap_or_default();
                        assert!(
                            addr.starts_with("127.0.0.1:"),
                            "the server should listen on loopback: {line}"
                        );
                        assert!(
                            line.contains(&format!(" with {framework}, users in ")),
                            "{line}"
                        );
                        server.origin = format!("http://{addr}");
                        return server;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("the {framework} server did not announce its address within {STARTUP:?}")
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = server.child.wait().expect("waiting for the server");
                    panic!("the {framework} server exited ({status}) before serving");
                }
            }
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// SIGTERM, then up to `grace` for the process to exit; its status if it did.
    fn terminate(&mut self, grace: Duration) -> Option<ExitStatus> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Some(status);
        }
        signal("TERM", self.child.id());
        let deadline = Instant::now() + grace;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                _ => return None,
            }
        }
    }

    /// Stops the server with SIGTERM and returns how it exited.
    fn stop(mut self) -> ExitStatus {
        self.terminate(SHUTDOWN)
            .unwrap_or_else(|| panic!("the server did not stop within {SHUTDOWN:?} of SIGTERM"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.terminate(SHUTDOWN).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            let log = self.stderr.lock().map(|s| s.clone()).unwrap_or_default();
            eprintln!("--- server stderr ---\n{log}");
        }
    }
}

/// How the test answers one login prompt.
#[derive(Debug, Clone, Copy)]
enum Answer<'a> {
    /// Types these and presses "Sign in".
    Credentials(&'a str, &'a str),
    /// Dismisses the prompt.
    Cancel,
}

/// A tab, with requests intercepted and login prompts reported to the test.
struct Tab {
    session: String,
}

/// What one visit showed.
#[derive(Debug)]
struct Visit {
    /// The `authChallenge` of each login prompt, in order.
    prompts: Vec<Value>,
    /// The page's text once loaded.
    text: String,
}

impl Tab {
    fn open(browser: &mut Browser) -> Self {
        let session = browser.new_page();
        let s = Some(session.as_str());
        browser.call(
            s,
            "Fetch.enable",
            json!({ "handleAuthRequests": true, "patterns": [{ "urlPattern": "*" }] }),
        );
        browser.call(s, "Page.enable", json!({}));
        Self { session }
    }

    /// Navigates to `url`, answering its login prompts with `answers` in order (a prompt
    /// beyond them fails the test), and returns what the page shows once loaded.
    fn visit(&self, browser: &mut Browser, url: &str, answers: &[Answer<'_>]) -> Visit {
        let s = Some(self.session.as_str());
        let navigation = browser.send(s, "Page.navigate", json!({ "url": url }));
        let mut prompts = Vec::new();
        loop {
            let message = browser.next_message(&format!("{url} to load"));
            if message["id"].as_u64() == Some(navigation) {
                let result = &message["result"];
                assert!(
                    message.get("error").is_none() && result.get("errorText").is_none(),
                    "navigating to {url} failed: {message}"
                );
                continue;
            }
            if message["sessionId"].as_str() != s {
                continue;
            }
            let params = &message["params"];
            match message["method"].as_str().unwrap_or_default() {
                "Fetch.requestPaused" => {
                    browser.call(
                        s,
                        "Fetch.continueRequest",
                        json!({ "requestId": params["requestId"] }),
                    );
                }
                "Fetch.authRequired" => {
                    assert_eq!(params["request"]["url"], url, "{message}");
                    let challenge = params["authChallenge"].clone();
                    let Some(answer) = answers.get(prompts.len()) else {
                        panic!(
                            "the browser asked for credentials {} times, expected {}: {challenge}\n{}",
                            prompts.len() + 1,
                            answers.len(),
                            browser.recent()
                        );
                    };
                    let response = match *answer {
                        Answer::Credentials(username, password) => json!({
                            "response": "ProvideCredentials",
                            "username": username,
                            "password": password,
                        }),
                        Answer::Cancel => json!({ "response": "CancelAuth" }),
                    };
                    prompts.push(challenge);
                    browser.call(
                        s,
                        "Fetch.continueWithAuth",
                        json!({ "requestId": params["requestId"], "authChallengeResponse": response }),
                    );
                }
                // The previous visit consumed its page's load, so this is the new page's, or
                // the first about:blank's (which has another address).
                "Page.loadEventFired" => {
                    let page = browser.call(
                        s,
                        "Runtime.evaluate",
                        json!({
                            "expression": "({ href: location.href, state: document.readyState, \
                                           text: document.body ? document.body.innerText : '' })",
                            "returnByValue": true,
                        }),
                    );
                    assert!(page.get("exceptionDetails").is_none(), "{page}");
                    let value = &page["result"]["value"];
                    if value["href"] == url && value["state"] == "complete" {
                        let text = value["text"].as_str().unwrap_or_default().to_owned();
                        return Visit { prompts, text };
                    }
                }
                "Inspector.targetCrashed" | "Inspector.detached" => {
                    panic!("the tab went away: {message}\n{}", browser.recent());
                }
                _ => {}
            }
        }
    }
}

/// Checks that `challenge` is the server's Basic challenge for `realm`, as the browser parsed it.
///
/// The server sends a non-ASCII realm as its UTF-8 octets; Chromium reads a realm's octets as
/// ISO-8859-1 (the challenge's `charset` applies to credentials only, RFC 7617 §2.1), so it shows
/// e.g. `ë` as `Ã«`. Either reading of exactly those octets is accepted; anything else, such as a
/// realm left escaped or cut at the quote, is not.
fn assert_basic_prompt(challenge: &Value, realm: &str, origin: &str) {
    let scheme = challenge["scheme"].as_str().unwrap_or_default();
    assert!(
        scheme.eq_ignore_ascii_case("basic"),
        "not a Basic prompt: {challenge}"
    );
    let shown = challenge["realm"].as_str().unwrap_or_default();
    let octets_as_latin1: String = realm.bytes().map(char::from).collect();
    assert!(
        shown == realm || shown == octets_as_latin1,
        "the realm shown should be {realm:?}: {challenge}"
    );
    assert_eq!(challenge["source"], "Server", "{challenge}");
    assert_eq!(challenge["origin"], origin, "{challenge}");
}

/// The page's text as JSON.
fn json_page(visit: &Visit) -> Value {
    serde_json::from_str(visit.text.trim())
        .unwrap_or_else(|e| panic!("the page is not JSON ({e}): {:?}", visit.text))
}

/// Chromium, or a loud note on stderr (and `None`) when it is not installed.
fn chromium() -> Option<std::path::PathBuf> {
    let found = cdp::find_chromium();
    if found.is_none() {
        // Straight to the process's stderr: the test harness captures `eprintln!` of passing
        // tests, and this note must be seen.
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: Chromium is not installed (no /usr/bin/chromium, no chromium on PATH); \
             the browser tests did not run. Install the Debian package `chromium`. ***\n"
        );
    }
    found
}

/// The whole visit on one framework, as a person with a browser would make it.
fn log_in_with_a_browser(framework: &str, realm: Option<&str>) {
    let Some(chromium) = chromium() else { return };
    let deadline = Instant::now() + TEST_DEADLINE;
    let db = Db::sqlite();
    let server = Server::start(&db, framework, realm);
    let realm = realm.unwrap_or(DEFAULT_REALM);
    let protected = server.url("/protected");

    let mut browser = Browser::launch(&chromium, deadline);
    let tab = Tab::open(&mut browser);

    // Dismissing the login dialog shows the 401's body.
    let dismissed = tab.visit(&mut browser, &protected, &[Answer::Cancel]);
    assert_eq!(dismissed.prompts.len(), 1, "{dismissed:?}");
    assert_basic_prompt(&dismissed.prompts[0], realm, &server.origin);
    assert_eq!(dismissed.text.trim(), "Unauthorized", "{dismissed:?}");

    // Wrong credentials: the browser asks again, as it would show its dialog again.
    let login = tab.visit(
        &mut browser,
        &protected,
        &[
            Answer::Credentials(DEMO_EMAIL, "not-the-password"),
            Answer::Credentials(DEMO_EMAIL, DEMO_PASSWORD),
        ],
    );
    assert_eq!(login.prompts.len(), 2, "{login:?}");
    for prompt in &login.prompts {
        assert_basic_prompt(prompt, realm, &server.origin);
    }
    let user = json_page(&login);
    assert_eq!(user["email"], DEMO_EMAIL, "{user}");
    assert!(user["id"].is_number() || user["id"].is_string(), "{user}");
    assert!(user["signed_up"].is_string(), "{user}");

    // Logged in: the browser now sends the credentials itself, exactly as they were typed.
    let echo = tab.visit(&mut browser, &server.url("/credentials"), &[]);
    assert!(echo.prompts.is_empty(), "{echo:?}");
    assert_eq!(
        json_page(&echo),
        json!({ "username": DEMO_EMAIL, "password": DEMO_PASSWORD })
    );

    drop(browser);
    let status = server.stop();
    assert!(
        status.success(),
        "the server should stop cleanly on SIGTERM: {status}"
    );
}

/// Non-ASCII credentials typed into the prompt reach the handler unchanged: the challenge's
/// `charset="UTF-8"` makes the browser send UTF-8.
fn non_ascii_credentials(framework: &str) {
    let Some(chromium) = chromium() else { return };
    let deadline = Instant::now() + TEST_DEADLINE;
    let db = Db::sqlite();
    let server = Server::start(&db, framework, None);
    let mut browser = Browser::launch(&chromium, deadline);
    let tab = Tab::open(&mut browser);
    let (username, password) = ("zoë@example.com", "pässwörd €");
    let echo = tab.visit(
        &mut browser,
        &server.url("/credentials"),
        &[Answer::Credentials(username, password)],
    );
    assert_eq!(echo.prompts.len(), 1, "{echo:?}");
    assert_basic_prompt(&echo.prompts[0], DEFAULT_REALM, &server.origin);
    assert_eq!(
        json_page(&echo),
        json!({ "username": username, "password": password })
    );
}

#[test]
fn axum_login_prompt_in_a_browser() {
    log_in_with_a_browser("axum", None);
}

#[test]
fn warp_login_prompt_in_a_browser() {
    log_in_with_a_browser("warp", None);
}

#[test]
fn rocket_login_prompt_in_a_browser() {
    log_in_with_a_browser("rocket", None);
}

#[test]
fn actix_login_prompt_in_a_browser() {
    log_in_with_a_browser("actix", None);
}

/// A realm that needs escaping in the challenge and is not ASCII.
const UNUSUAL_REALM: &str = r#"Zoë's "staff" \ area"#;

#[test]
fn axum_unusual_realm_in_a_browser() {
    log_in_with_a_browser("axum", Some(UNUSUAL_REALM));
}

#[test]
fn warp_unusual_realm_in_a_browser() {
    log_in_with_a_browser("warp", Some(UNUSUAL_REALM));
}

#[test]
fn rocket_unusual_realm_in_a_browser() {
    log_in_with_a_browser("rocket", Some(UNUSUAL_REALM));
}

#[test]
fn actix_unusual_realm_in_a_browser() {
    log_in_with_a_browser("actix", Some(UNUSUAL_REALM));
}

#[test]
fn axum_non_ascii_credentials_in_a_browser() {
    non_ascii_credentials("axum");
}

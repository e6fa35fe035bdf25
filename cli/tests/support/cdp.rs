//! A small Chrome DevTools protocol client: starts headless Chromium on a throwaway profile and
//! talks to it over its WebSocket, blocking, with every wait bounded by one deadline.
//!
//! Only what the browser tests need: commands (`call`, or `send` when the answer comes later),
//! events in arrival order, and a guard that always takes the browser down again.

use std::collections::VecDeque;
use std::fs::File;
use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::{Message, WebSocket};

/// How long a graceful `Browser.close` may take before the browser is killed.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// How many recent protocol messages a failure report shows.
const HISTORY: usize = 40;

/// The Chromium executable: `/usr/bin/chromium`, else `chromium` on the `PATH`.
pub(crate) fn find_chromium() -> Option<PathBuf> {
    let packaged = Path::new("/usr/bin/chromium");
    if packaged.is_file() {
        return Some(packaged.to_owned());
    }
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join("chromium"))
        .find(|candidate| candidate.is_file())
}

/// The time left until `deadline`, or a panic naming what was being waited for.
fn remaining(deadline: Instant, waiting_for: &str) -> Duration {
    match deadline.checked_duration_since(Instant::now()) {
        Some(left) if !left.is_zero() => left,
        _ => panic!("timed out waiting for {waiting_for}"),
    }
}

/// The Chromium process and its throwaway directories; dropping it stops the browser.
struct Process {
    child: Child,
    profile: tempfile::TempDir,
    log: PathBuf,
    _logs: tempfile::TempDir,
}

impl Process {
    fn start(chromium: &Path) -> Self {
        let profile = tempfile::tempdir().expect("a temporary Chromium profile directory");
        let logs = tempfile::tempdir().expect("a temporary directory for the Chromium log");
        let log = logs.path().join("chromium.log");
        let out = File::create(&log).expect("the Chromium log file");
        let err = out
            .try_clone()
            .expect("a second handle on the Chromium log");
        let child = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--password-store=basic",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            // Its own process group, so that the helpers it forks can be stopped with it.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", chromium.display()));
        Self {
            child,
            profile,
            log,
            _logs: logs,
        }
    }

    /// The port and path of the browser's DevTools WebSocket, which Chromium writes to
    /// `DevToolsActivePort` in its profile once it listens.
    fn devtools_endpoint(&mut self, deadline: Instant) -> (u16, String) {
        let file = self.profile.path().join("DevToolsActivePort");
        loop {
            if let Ok(text) = std::fs::read_to_string(&file) {
                let mut lines = text.lines();
                if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                    let port = port
                        .trim()
                        .parse()
                        .unwrap_or_else(|e| panic!("DevToolsActivePort port {port:?}: {e}"));
                    assert!(
                        path.starts_with("/devtools/browser/"),
                        "unexpected DevTools path {path:?}"
                    );
                    return (port, path.trim().to_owned());
                }
            }
            if let Some(status) = self.child.try_wait().expect("polling the Chromium process") {
                panic!(
                    "Chromium exited ({status}) before it listened for DevTools:\n{}",
                    self.log_tail()
                );
            }
            remaining(deadline, "Chromium to write DevToolsActivePort");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The end of what Chromium printed, without its complaints about a missing D-Bus.
    fn log_tail(&self) -> String {
        let text = std::fs::read(&self.log).unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| !l.contains(":ERROR:dbus/"))
            .collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Signals Chromium's whole process group (the browser and the helpers it forked).
    fn signal_group(&self, signal: &str) {
        let _ = Command::new("sh")
            .args(["-c", "kill -s \"$1\" -- \"-$2\"", "sh", signal])
            .arg(self.child.id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    /// Waits up to `grace` for the browser to exit; true when it did.
    fn exited_within(&mut self, grace: Duration) -> bool {
        let deadline = Instant::now() + grace;
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => return true,
                Ok(None) if Instant::now() >= deadline => return false,
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if !self.exited_within(CLOSE_GRACE) {
            self.signal_group("TERM");
            if !self.exited_within(CLOSE_GRACE) {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
        // Helpers still running after the browser has gone are of no use to anyone.
        self.signal_group("KILL");
        if std::thread::panicking() {
            eprintln!("--- Chromium log (end) ---\n{}", self.log_tail());
        }
    }
}

/// A headless Chromium with a DevTools connection to the browser target.
///
/// Dropping it asks the browser to close, then makes sure it has (see [`Process`]).
pub(crate) struct Browser {
    socket: WebSocket<TcpStream>,
    deadline: Instant,
    next_id: u64,
    /// Messages read while waiting for something else, in arrival order.
    queued: VecDeque<Value>,
    /// The most recent messages, for failure reports.
    history: VecDeque<String>,
    // Last, so that it drops after the connection.
    _process: Process,
}

impl Browser {
    /// Starts `chromium` and connects to it; every later wait ends at `deadline`.
    pub(crate) fn launch(chromium: &Path, deadline: Instant) -> Self {
        let mut process = Process::start(chromium);
        let (port, path) = process.devtools_endpoint(deadline);
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let stream =
            TcpStream::connect_timeout(&addr, remaining(deadline, "a DevTools connection"))
                .unwrap_or_else(|e| panic!("connecting to DevTools at {addr}: {e}"));
        stream
            .set_read_timeout(Some(remaining(deadline, "the DevTools handshake")))
            .expect("a read timeout on the DevTools connection");
        stream
            .set_write_timeout(Some(Duration::from_secs(10)))
            .expect("a write timeout on the DevTools connection");
        let (socket, _) = tungstenite::client(format!("ws://{addr}{path}"), stream)
            .unwrap_or_else(|e| panic!("the DevTools WebSocket handshake at {addr} failed: {e}"));
        Self {
            socket,
            deadline,
            next_id: 0,
            queued: VecDeque::new(),
            history: VecDeque::new(),
            _process: process,
        }
    }

    /// Opens a new tab and attaches to it; returns the session id its commands go to.
    pub(crate) fn new_page(&mut self) -> String {
        let target = self.call(None, "Target.createTarget", json!({ "url": "about:blank" }));
        let target_id = target["targetId"]
            .as_str()
            .unwrap_or_else(|| panic!("Target.createTarget answered {target}"))
            .to_owned();
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({ "targetId": target_id, "flatten": true }),
        );
        attached["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("Target.attachToTarget answered {attached}"))
            .to_owned()
    }

    /// Sends a command without waiting for its answer; returns its id.
    pub(crate) fn send(&mut self, session: Option<&str>, method: &str, params: Value) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.remember(format!("-> {message}"));
        self.socket
            .send(Message::text(message.to_string()))
            .unwrap_or_else(|e| panic!("sending {method} to the browser: {e}"));
        id
    }

    /// Sends a command and waits for its result; a protocol error fails the test.
    pub(crate) fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = self.send(session, method, params);
        let position = self
            .queued
            .iter()
            .position(|message| message["id"].as_u64() == Some(id));
        let answer = match position.and_then(|i| self.queued.remove(i)) {
            Some(answer) => answer,
            None => loop {
                let message = self.read(method);
                if message["id"].as_u64() == Some(id) {
                    break message;
                }
                self.queued.push_back(message);
            },
        };
        if let Some(error) = answer.get("error") {
            panic!("{method} failed: {error}\n{}", self.recent());
        }
        answer["result"].clone()
    }

    /// The next event or answer to a [`Browser::send`], in arrival order.
    pub(crate) fn next_message(&mut self, waiting_for: &str) -> Value {
        match self.queued.pop_front() {
            Some(message) => message,
            None => self.read(waiting_for),
        }
    }

    /// The most recent messages both ways, for a failure report.
    pub(crate) fn recent(&self) -> String {
        let lines: Vec<&str> = self.history.iter().map(String::as_str).collect();
        format!("recent DevTools messages:\n{}", lines.join("\n"))
    }

    fn remember(&mut self, line: String) {
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        let mut line = line;
        if line.len() > 600 {
            let mut cut = 600;
            while !line.is_char_boundary(cut) {
                cut -= 1;
            }
            line.truncate(cut);
            line.push('…');
        }
        self.history.push_back(line);
    }

    /// Reads the next protocol message from the socket.
    fn read(&mut self, waiting_for: &str) -> Value {
        loop {
            let Some(left) = self
                .deadline
                .checked_duration_since(Instant::now())
                .filter(|left| !left.is_zero())
            else {
                panic!("timed out waiting for {waiting_for}\n{}", self.recent());
            };
            self.socket
                .get_mut()
                .set_read_timeout(Some(left))
                .expect("a read timeout on the DevTools connection");
            match self.socket.read() {
                Ok(Message::Text(text)) => {
                    self.remember(format!("<- {}", text.as_str()));
                    return serde_json::from_str(text.as_str()).unwrap_or_else(|e| {
                        panic!("the browser sent something other than JSON ({e}): {text}")
                    });
                }
                Ok(Message::Close(frame)) => {
                    panic!("the browser closed the DevTools connection ({frame:?}) while we waited for {waiting_for}\n{}", self.recent())
                }
                // Pings are answered by tungstenite; nothing else carries protocol messages.
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    panic!("timed out waiting for {waiting_for}\n{}", self.recent())
                }
                Err(e) => panic!(
                    "reading from DevTools while waiting for {waiting_for}: {e}\n{}",
                    self.recent()
                ),
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ask nicely; `Process` waits for the exit and forces it if need be.
        self.next_id += 1;
        let close = json!({ "id": self.next_id, "method": "Browser.close" });
        let _ = self.socket.send(Message::text(close.to_string()));
        if std::thread::panicking() {
            eprintln!("--- {}", self.recent());
        }
    }
}

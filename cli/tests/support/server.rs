//! A running `endpoint-auth serve`, as the serve tests start and stop it.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// A running `endpoint-auth serve`; killed if the test fails before stopping it.
pub struct Server {
    child: Option<Child>,
    base: String,
    /// Behind a mutex so that tests can share the server across threads.
    stderr: std::sync::Mutex<mpsc::Receiver<String>>,
}

impl Server {
    /// Starts `serve --demo` on a free loopback port and waits for it to listen.
    pub fn start(framework: &str, db: &str) -> Self {
        Self::start_with(framework, db, &[])
    }

    /// [`Server::start`] with `extra` arguments.
    pub fn start_with(framework: &str, db: &str, extra: &[&str]) -> Self {
        Self::spawn(
            Command::new(env!("CARGO_BIN_EXE_endpoint-auth")),
            framework,
            db,
            &with_demo(extra),
        )
    }

    /// Starts `serve` without `--demo`, with `extra` arguments: no demo user, no `/credentials`.
    pub fn start_without_demo(framework: &str, db: &str, extra: &[&str]) -> Self {
        Self::spawn(
            Command::new(env!("CARGO_BIN_EXE_endpoint-auth")),
            framework,
            db,
            extra,
        )
    }

    /// [`Server::start_with`] under an open-files limit of `open_files` (soft and hard), set by
    /// the shell that then becomes the server.
    pub fn start_with_open_files(
        framework: &str,
        db: &str,
        extra: &[&str],
        open_files: u32,
    ) -> Self {
        let mut shell = Command::new("sh");
        shell.args([
            "-c",
            &format!("ulimit -n {open_files} && exec \"$0\" \"$@\""),
            env!("CARGO_BIN_EXE_endpoint-auth"),
        ]);
        Self::spawn(shell, framework, db, &with_demo(extra))
    }

    /// [`Server::start_with`] with `env` variables set (every other `ENDPOINT_AUTH_*` is removed).
    pub fn start_with_env(framework: &str, db: &str, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_endpoint-auth"));
        command.envs(env.iter().copied());
        Self::spawn(command, framework, db, &with_demo(extra))
    }

    fn spawn(mut command: Command, framework: &str, db: &str, extra: &[&str]) -> Self {
        // The server's settings are the test's arguments, not the environment it runs in.
        let chosen: Vec<_> = command
            .get_envs()
            .map(|(name, _)| name.to_owned())
            .collect();
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("ENDPOINT_AUTH_") && !chosen.contains(&name) {
                command.env_remove(name);
            }
        }
        let mut child = command
            .args([
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--framework",
                framework,
                "--db",
                db,
            ])
            .args(extra)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the endpoint-auth binary starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (lines_tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stderr_pipe = child.stderr.take().expect("piped stderr");
        let (stderr_tx, stderr) = mpsc::channel();
        thread::spawn(move || {
            let mut all = String::new();
            let _ = stderr_pipe.read_to_string(&mut all);
            let _ = stderr_tx.send(all);
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = Vec::new();
        let base = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix("endpoint-auth serving ") {
                        break rest
                            .split_whitespace()
                            .next()
                            .expect("an address")
                            .to_owned();
                    }
                    seen.push(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!("serve --framework {framework} did not start; stdout so far: {seen:?}");
                }
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        thread::spawn(move || while lines.recv().is_ok() {});
        Self {
            child: Some(child),
            base,
            stderr: std::sync::Mutex::new(stderr),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `host:port`, for raw sockets.
    pub fn addr(&self) -> &str {
        self.base
            .trim_start_matches("http://")
            .trim_start_matches("https://")
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("still running").id()
    }

    /// Sends SIGTERM and returns the exit status and everything the server logged.
    pub fn stop(mut self) -> (std::process::ExitStatus, String) {
        let mut child = self.child.take().expect("still running");
        let terminated = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(terminated.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = child.try_wait().expect("waiting on the server") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("the server did not stop within 30 s of SIGTERM");
            }
            thread::sleep(Duration::from_millis(50));
        };
        let log = self
            .stderr
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_default();
        (status, log)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `--demo`, then `extra`.
fn with_demo<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--demo"];
    args.extend_from_slice(extra);
    args
}

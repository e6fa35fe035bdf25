//! Real reverse proxies (nginx, Caddy) in front of a recording upstream, for the forward
//! authentication tests. Each runs from a configuration in its own temporary directory, on a
//! free loopback port, and is stopped by its process id.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// A plain HTTP server answering `200 upstream` to everything, recording each request head.
pub struct Upstream {
    addr: SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Upstream {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        listener.set_nonblocking(true).expect("non-blocking accept");
        let addr = listener.local_addr().expect("the bound address");
        let heads = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (heads, stop) = (Arc::clone(&heads), Arc::clone(&stop));
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => answer(stream, &heads),
                        Err(_) => thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        Self {
            addr,
            heads,
            stop,
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The request heads received so far, lower-cased.
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().expect("not poisoned").clone()
    }
}

fn answer(mut stream: TcpStream, heads: &Mutex<Vec<String>>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut byte = [0; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 64 * 1024 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    heads
        .lock()
        .expect("not poisoned")
        .push(String::from_utf8_lossy(&head).to_ascii_lowercase());
    let _ = stream.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 8\r\nConnection: close\r\n\r\nupstream",
    );
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A free loopback port (released again for the proxy to take).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a loopback port")
        .port()
}

/// A running proxy; stopped (by its pid) when dropped.
pub struct Proxy {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
    log: &'static str,
}

impl Proxy {
    /// Whether `program` can be run (the test is skipped with a note when it cannot).
    pub fn available(program: &str) -> bool {
        let found = Command::new(program)
            .arg(if program == "nginx" { "-v" } else { "version" })
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !found {
            eprintln!("skipped: {program} is not installed (.ci/run installs it)");
        }
        found
    }

    /// nginx with `auth_request` to `auth` (an `endpoint-auth serve --forward-auth` address)
    /// in front of `upstream`, as the README configures it.
    pub fn nginx(auth: &str, upstream: SocketAddr) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let port = free_port();
        let root = dir.path().display().to_string();
        std::fs::create_dir_all(dir.path().join("temp")).expect("a temp directory");
        let config = format!(
            r#"
pid {root}/nginx.pid;
error_log {root}/error.log;
worker_processes 1;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {root}/temp/body;
    proxy_temp_path {root}/temp/proxy;
    fastcgi_temp_path {root}/temp/fastcgi;
    uwsgi_temp_path {root}/temp/uwsgi;
    scgi_temp_path {root}/temp/scgi;
    server {{
        listen 127.0.0.1:{port};
{locations}
        location / {{
            auth_request /endpoint-auth;
            auth_request_set $user $upstream_http_x_auth_user;
            proxy_set_header X-Auth-User $user;
            proxy_pass http://{upstream};
        }}
    }}
}}
"#,
            locations = NGINX_AUTH_LOCATION.replace("AUTH_ADDR", auth),
        );
        let conf = dir.path().join("nginx.conf");
        std::fs::write(&conf, config).expect("writing nginx.conf");
        let child = Command::new("nginx")
            .args(["-e", &format!("{root}/error.log"), "-p", &root, "-c"])
            .arg(&conf)
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts");
        Self::ready(child, port, dir, "error.log")
    }

    /// Caddy with `forward_auth` to `auth` in front of `upstream`, as the README configures it.
    pub fn caddy(auth: &str, upstream: SocketAddr) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let port = free_port();
        let config = format!(
            "{{\n    admin off\n    auto_https off\n}}\n\nhttp://127.0.0.1:{port} {{\n{}\n    reverse_proxy {upstream}\n}}\n",
            CADDY_FORWARD_AUTH.replace("AUTH_ADDR", auth)
        );
        let caddyfile = dir.path().join("Caddyfile");
        std::fs::write(&caddyfile, config).expect("writing the Caddyfile");
        let log = std::fs::File::create(dir.path().join("caddy.log")).expect("a log file");
        let child = Command::new("caddy")
            .args(["run", "--adapter", "caddyfile", "--config"])
            .arg(&caddyfile)
            .env("HOME", dir.path())
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("caddy starts");
        Self::ready(child, port, dir, "caddy.log")
    }

    fn ready(mut child: Child, port: u16, dir: tempfile::TempDir, log: &'static str) -> Self {
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
                let _ = child.kill();
                let _ = child.wait();
                let logged = std::fs::read_to_string(dir.path().join(log)).unwrap_or_default();
                panic!("the proxy did not start listening on {port}: {logged}");
            }
            thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            port,
            dir,
            log,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// What the proxy logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join(self.log)).unwrap_or_default()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // SIGTERM by pid: nginx's master stops its worker; Caddy exits.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The README's nginx `location` for the authentication subrequest (`AUTH_ADDR` replaced).
pub const NGINX_AUTH_LOCATION: &str = r#"        location = /endpoint-auth {
            internal;
            proxy_pass http://AUTH_ADDR/auth;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }"#;

/// The README's Caddy `forward_auth` block (`AUTH_ADDR` replaced).
pub const CADDY_FORWARD_AUTH: &str = "    forward_auth AUTH_ADDR {
        uri /auth
        copy_headers X-Auth-User
    }";

//! Loopback plumbing: free ports, a one-shot `GET` for readiness and sanity checks, and a
//! process's peak resident set.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use base64::Engine as _;

/// A loopback address with a port nothing listens on right now.
pub fn free_loopback_addr() -> io::Result<SocketAddr> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()
}

/// `Basic <base64(user:password)>`.
pub fn basic(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

/// Sends one `GET path` (with `Connection: close`) and returns the response status.
pub fn get_status(
    addr: SocketAddr,
    path: &str,
    authorization: Option<&str>,
    timeout: Duration,
) -> io::Result<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(value) = authorization {
        request.push_str(&format!("Authorization: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(2).any(|w| w == b"\r\n") {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    status_of(&head).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "the answer is not an HTTP/1.x status line",
        )
    })
}

/// The status code of an HTTP/1.x response head.
pub fn status_of(head: &[u8]) -> Option<u16> {
    let line = head.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim_end();
    let mut parts = line.split(' ');
    let version = parts.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    let code = parts.next()?;
    (code.len() == 3).then_some(())?;
    code.parse().ok()
}

/// The 1-minute load average (`/proc/loadavg`; Linux), to tell a busy machine's numbers apart.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// A process's peak resident set in KiB (`VmHWM` of `/proc/PID/status`; Linux).
pub fn peak_rss_kib(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    vm_hwm_kib(&status).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("no VmHWM line in /proc/{pid}/status"),
        )
    })
}

/// The `VmHWM` of a `/proc/PID/status` text, in KiB.
pub fn vm_hwm_kib(status: &str) -> Option<u64> {
    let rest = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?;
    let mut parts = rest.split_whitespace();
    let value: u64 = parts.next()?.parse().ok()?;
    match parts.next() {
        Some("kB") | None => Some(value),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(
            status_of(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n"),
            Some(200)
        );
        assert_eq!(
            status_of(b"HTTP/1.0 503 Service Unavailable\r\n"),
            Some(503)
        );
        assert_eq!(status_of(b"HTTP/1.1 401\r\n"), Some(401));
        assert_eq!(status_of(b"SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(status_of(b"HTTP/1.1 20 OK\r\n"), None);
        assert_eq!(status_of(b""), None);
    }

    #[test]
    fn vm_hwm() {
        let status = "Name:\tendpoint-auth\nVmPeak:\t  200000 kB\nVmHWM:\t   87040 kB\nVmRSS:\t   80000 kB\n";
        assert_eq!(vm_hwm_kib(status), Some(87_040));
        assert_eq!(vm_hwm_kib("VmRSS:\t 1 kB\n"), None);
        assert_eq!(vm_hwm_kib("VmHWM:\t 1 MB\n"), None);
    }

    #[test]
    fn own_peak_rss_is_readable() {
        assert!(peak_rss_kib(std::process::id()).unwrap() > 0);
    }

    #[test]
    fn basic_header() {
        assert_eq!(
            basic("user123@gmail.com", "mySuperS3cretPassw0rd"),
            "Basic dXNlcjEyM0BnbWFpbC5jb206bXlTdXBlclMzY3JldFBhc3N3MHJk"
        );
    }

    #[test]
    fn get_against_a_tiny_server() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let n = stream.read(&mut buf).unwrap();
            let request = String::from_utf8_lossy(&buf[..n]).into_owned();
            stream
                .write_all(b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n")
                .unwrap();
            request
        });
        let status = get_status(
            addr,
            "/protected",
            Some("Basic eDp5"),
            Duration::from_secs(5),
        );
        assert_eq!(status.unwrap(), 401);
        let request = server.join().unwrap();
        assert!(request.starts_with("GET /protected HTTP/1.1\r\n"));
        assert!(request.contains("\r\nAuthorization: Basic eDp5\r\n"));
    }
}

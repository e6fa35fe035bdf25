//! A deliberately impolite HTTP/1.1 client: it sends exactly the bytes it is given, including
//! what well-behaved clients refuse to send (duplicate fields, TABs, raw octets, huge values).

use std::io::{Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

/// How long the suite waits for any one response.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(20);

/// A response as it came off the wire, with the request it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawResponse {
    /// The exact bytes of the request this answers, as sent.
    pub request: Vec<u8>,
    /// The status code.
    pub status: u16,
    /// Header fields in order, names lower-cased, values as raw bytes.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// All values of the named header (name compared case-insensitively).
    pub fn header_values(&self, name: &str) -> Vec<&[u8]> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
            .collect()
    }

    /// The single value of the named header, as lossy text; `None` if absent.
    pub fn header(&self, name: &str) -> Option<String> {
        self.header_values(name)
            .first()
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    /// The body as lossy text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON.
    ///
    /// # Errors
    /// A message quoting the body when it is not JSON.
    pub fn json(&self) -> Result<serde_json::Value, String> {
        serde_json::from_slice(&self.body)
            .map_err(|e| format!("body is not JSON ({e}): {:?}", self.text()))
    }

    /// Status, headers and body, then the request they answer, escaped: what a failure message
    /// shows so that the exchange can be replayed byte for byte.
    pub fn describe(&self) -> String {
        format!(
            "status {}, headers {:?}, body {:?} in answer to {}",
            self.status,
            self.headers
                .iter()
                .map(|(n, v)| format!("{n}: {}", String::from_utf8_lossy(v)))
                .collect::<Vec<_>>(),
            self.text(),
            escaped(&self.request)
        )
    }
}

/// How much of a request a message shows in full; of a longer one (a 20 KB header), its start
/// and its end.
const SHOWN_IN_FULL: usize = 2048;

/// `bytes` as a Rust byte string literal (`b"GET / HTTP/1.1\r\n…"`): printable ASCII as is,
/// everything else escaped, so that what was sent can be read and replayed exactly.
pub fn escaped(bytes: &[u8]) -> String {
    if bytes.len() <= SHOWN_IN_FULL {
        return format!("b\"{}\"", bytes.escape_ascii());
    }
    let (head, tail) = (&bytes[..SHOWN_IN_FULL - 256], &bytes[bytes.len() - 256..]);
    format!(
        "b\"{}\" … {} bytes left out … b\"{}\"",
        head.escape_ascii(),
        bytes.len() - head.len() - tail.len(),
        tail.escape_ascii()
    )
}

/// Sends one request to `addr` with the given method, path and raw header lines (each without
/// its CRLF), and reads the whole response. `Host` and `Connection: close` are added.
///
/// # Errors
/// A message describing the I/O or parse failure.
pub fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    header_lines: &[&[u8]],
) -> Result<RawResponse, String> {
    start(addr, None, method, path, header_lines)?.response()
}

/// A request sent and not yet answered: read its response, or go away without reading it.
#[derive(Debug)]
pub struct Pending {
    stream: TcpStream,
    request: Vec<u8>,
    head: bool,
}

impl Pending {
    /// Reads the whole response, waiting up to [`RESPONSE_TIMEOUT`] for each read.
    ///
    /// # Errors
    /// A message describing the I/O or parse failure.
    pub fn response(self) -> Result<RawResponse, String> {
        self.response_within(RESPONSE_TIMEOUT)
    }

    /// Reads the whole response, waiting up to `timeout` for each read.
    ///
    /// # Errors
    /// A message describing the I/O or parse failure, or the timeout, and the request.
    pub fn response_within(mut self, timeout: Duration) -> Result<RawResponse, String> {
        let raw = self.read(timeout);
        let request = std::mem::take(&mut self.request);
        match raw.and_then(|raw| parse_response(&raw, self.head)) {
            Ok(response) => Ok(RawResponse {
                request,
                ..response
            }),
            Err(e) => Err(format!("{e}, in answer to {}", escaped(&request))),
        }
    }

    fn read(&mut self, timeout: Duration) -> Result<Vec<u8>, String> {
        self.stream
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))
            .map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        match self.stream.read_to_end(&mut raw) {
            Ok(_) => Ok(raw),
            // A server may reset after answering a request it did not like; keep what arrived.
            Err(e) if !raw.is_empty() && e.kind() == std::io::ErrorKind::ConnectionReset => Ok(raw),
            Err(e) => Err(format!("read response: {e}")),
        }
    }

    /// Closes the connection without reading anything: the client has gone away.
    pub fn abandon(self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

/// Sends one request as [`send`] does, from the loopback address `source` if given (any
/// `127.0.0.0/8` address works on Linux; the server then sees a client other than
/// `127.0.0.1`), and returns without waiting for the response.
///
/// # Errors
/// A message describing the I/O failure, and the request.
pub fn start(
    addr: SocketAddr,
    source: Option<IpAddr>,
    method: &str,
    path: &str,
    header_lines: &[&[u8]],
) -> Result<Pending, String> {
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n").into_bytes();
    for line in header_lines {
        request.extend_from_slice(line);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    match write(addr, source, &request) {
        Ok(stream) => Ok(Pending {
            stream,
            request,
            head: method == "HEAD",
        }),
        Err(e) => Err(format!("{e}, sending {}", escaped(&request))),
    }
}

fn write(addr: SocketAddr, source: Option<IpAddr>, request: &[u8]) -> Result<TcpStream, String> {
    let mut stream = connect(addr, source)?;
    stream
        .set_read_timeout(Some(RESPONSE_TIMEOUT))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(RESPONSE_TIMEOUT))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(request)
        .map_err(|e| format!("send request: {e}"))?;
    Ok(stream)
}

fn connect(addr: SocketAddr, source: Option<IpAddr>) -> Result<TcpStream, String> {
    let Some(source) = source else {
        return TcpStream::connect_timeout(&addr, RESPONSE_TIMEOUT)
            .map_err(|e| format!("connect to {addr}: {e}"));
    };
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .map_err(|e| format!("a socket: {e}"))?;
    socket
        .bind(&SocketAddr::new(source, 0).into())
        .map_err(|e| format!("bind to {source}: {e}"))?;
    socket
        .connect_timeout(&addr.into(), RESPONSE_TIMEOUT)
        .map_err(|e| format!("connect to {addr} from {source}: {e}"))?;
    Ok(socket.into())
}

fn parse_response(raw: &[u8], head: bool) -> Result<RawResponse, String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("no end of headers in {:?}", String::from_utf8_lossy(raw)))?;
    let head_text = &raw[..end];
    let mut lines = head_text
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let status_line = lines.next().ok_or("empty response")?;
    let status_line = String::from_utf8_lossy(status_line);
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let mut headers = Vec::new();
    for line in lines {
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or_else(|| format!("bad header line {:?}", String::from_utf8_lossy(line)))?;
        let name = String::from_utf8_lossy(&line[..colon]).to_ascii_lowercase();
        let value = trim(&line[colon + 1..]).to_vec();
        headers.push((name, value));
    }
    let rest = &raw[end + 4..];
    let chunked = headers.iter().any(|(n, v)| {
        n == "transfer-encoding"
            && String::from_utf8_lossy(v)
                .to_ascii_lowercase()
                .contains("chunked")
    });
    let body = if head {
        Vec::new()
    } else if chunked {
        dechunk(rest)?
    } else {
        rest.to_vec()
    };
    Ok(RawResponse {
        request: Vec::new(),
        status,
        headers,
        body,
    })
}

fn trim(value: &[u8]) -> &[u8] {
    let start = value
        .iter()
        .position(|b| !b" \t".contains(b))
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !b" \t".contains(b))
        .map_or(start, |i| i + 1);
    &value[start..end]
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("truncated chunk size")?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        if data.len() < size {
            return Err("truncated chunk".to_owned());
        }
        body.extend_from_slice(&data[..size]);
        data = data.get(size + 2..).ok_or("truncated chunk end")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_content_length_and_chunked_bodies() {
        let plain = b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\ncontent-length: 12\r\n\r\nUnauthorized";
        let r = parse_response(plain, false).unwrap();
        assert_eq!(r.status, 401);
        assert_eq!(r.header("www-authenticate").unwrap(), "Basic realm=\"x\"");
        assert_eq!(r.text(), "Unauthorized");
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        assert_eq!(
            parse_response(chunked, false).unwrap().text(),
            "hello world"
        );
    }
}

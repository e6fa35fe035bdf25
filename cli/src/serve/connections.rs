//! The one connection policy `serve` applies on every framework: the accept loop, its limits and
//! its graceful shutdown.
//!
//! ```text
//!  listen backlog ──► slot (≤ max_connections) ──► accept ──► [TLS handshake, rustls,
//!   (kernel queue,     taken before accept, so a                within header_timeout]
//!    no fd of ours)    waiting client costs us nothing               │
//!                                                              hyper HTTP/1.1 connection
//!                                                              head within header_timeout,
//!                                                              head ≤ max_head_bytes,
//!                                                              body ≤ max_body_bytes,
//!                                                              client reading its answers
//!                                                                   │ request + peer address
//!                                                                   ▼
//!                                                              Handler (axum | warp | rocket)
//! ```
//!
//! The frameworks' own servers are not used: none of them bounds how long a client may take to
//! send a request head (rocket 0.5 turns hyper's bound off), and none caps connections. Each
//! framework only turns a request into a response here (see `with_axum`, `with_warp`,
//! `with_rocket`).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::Sleep;
use tokio_rustls::TlsAcceptor;

use super::access_log;

/// An error inside a body.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The body a handler reads: the client's, cut off with an error past
/// [`ConnectionPolicy::max_body_bytes`].
pub(crate) type RequestBody = Limited<Incoming>;
/// The body a handler answers with.
pub(crate) type ResponseBody = UnsyncBoxBody<Bytes, BoxError>;
/// A handler's pending response.
pub(crate) type ResponseFuture = Pin<Box<dyn Future<Output = http::Response<ResponseBody>> + Send>>;
/// What a framework contributes: a request and its client's address in, a response out.
pub(crate) type Handler =
    Arc<dyn Fn(http::Request<RequestBody>, SocketAddr) -> ResponseFuture + Send + Sync>;

/// How `serve` treats connections, the same on every framework.
#[derive(Debug, Clone)]
pub struct ConnectionPolicy {
    /// A connection must deliver a complete request head within this time of being accepted or
    /// of its previous response, else it is closed: slow clients (slowloris) and idle keep-alive
    /// connections both end after it. A client that stops reading its responses for this long is
    /// closed too.
    pub header_timeout: Duration,
    /// Connections served at once. Further clients wait in the kernel's listen backlog, which
    /// costs this process no file descriptor.
    pub max_connections: usize,
    /// Largest request head (request line and header fields), in bytes; larger gets `431`.
    pub max_head_bytes: usize,
    /// Most header fields in one request; more gets `431`.
    pub max_headers: usize,
    /// Largest request body, in bytes; a larger declared `Content-Length` gets `413` at once, a
    /// larger chunked body an error when it is read.
    pub max_body_bytes: usize,
    /// How long a graceful shutdown waits for requests in flight before it stops anyway.
    pub drain_timeout: Duration,
    /// Serve HTTPS with this rustls configuration; `None` serves plain HTTP.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

impl PartialEq for ConnectionPolicy {
    fn eq(&self, other: &Self) -> bool {
        let same_tls = match (&self.tls, &other.tls) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        same_tls
            && self.header_timeout == other.header_timeout
            && self.max_connections == other.max_connections
            && self.max_head_bytes == other.max_head_bytes
            && self.max_headers == other.max_headers
            && self.max_body_bytes == other.max_body_bytes
            && self.drain_timeout == other.drain_timeout
    }
}

impl Eq for ConnectionPolicy {}

impl ConnectionPolicy {
    /// The default [`header_timeout`](Self::header_timeout).
    pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
    /// The default [`max_connections`](Self::max_connections).
    pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
    /// The default [`max_head_bytes`](Self::max_head_bytes): room for the longest `Authorization`
    /// field SPEC §1.2 still answers with a plain 401 (a 20 KB value) and the usual other fields.
    pub const DEFAULT_MAX_HEAD_BYTES: usize = 32 * 1024;
    /// The default [`max_headers`](Self::max_headers).
    pub const DEFAULT_MAX_HEADERS: usize = 100;
    /// The default [`max_body_bytes`](Self::max_body_bytes): the demo routes read no body.
    pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
    /// The default [`drain_timeout`](Self::drain_timeout).
    pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
}

impl Default for ConnectionPolicy {
    fn default() -> Self {
        Self {
            header_timeout: Self::DEFAULT_HEADER_TIMEOUT,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            max_head_bytes: Self::DEFAULT_MAX_HEAD_BYTES,
            max_headers: Self::DEFAULT_MAX_HEADERS,
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
            drain_timeout: Self::DEFAULT_DRAIN_TIMEOUT,
            tls: None,
        }
    }
}

/// Serves `listener` with `handler` under `policy` until `shutdown` resolves, then lets the
/// requests in flight finish (idle connections close at once), for at most
/// [`ConnectionPolicy::drain_timeout`].
pub(crate) async fn serve(
    listener: TcpListener,
    policy: &ConnectionPolicy,
    handler: Handler,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(policy.max_connections.max(1)));
    let http = http1(policy);
    let tls = policy.tls.clone().map(TlsAcceptor::from);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // The slot comes before the accept: a client beyond the cap stays in the kernel's backlog
        // instead of holding one of our file descriptors.
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = Arc::clone(&slots).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_closed) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(&error).await;
                    continue;
                }
            },
        };
        // Responses are small and written whole; Nagle would only delay them.
        let _ = stream.set_nodelay(true);
        let stream = StallGuard::new(stream, policy.header_timeout);
        let service = {
            let handler = Arc::clone(&handler);
            let max_body_bytes = policy.max_body_bytes;
            hyper::service::service_fn(move |request| {
                let response = respond(&handler, request, peer, max_body_bytes);
                async move { Ok::<_, Infallible>(response.await) }
            })
        };
        // The watcher holds the shutdown back while a handshake is under way, so that a request
        // which arrives on it is drained like the others.
        let watcher = graceful.watcher();
        let http = http.clone();
        let tls = tls.clone();
        let handshake_timeout = policy.header_timeout;
        tokio::spawn(async move {
            let served = match tls {
                None => {
                    watcher
                        .watch(http.serve_connection(TokioIo::new(stream), service))
                        .await
                }
                Some(acceptor) => {
                    match tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => {
                            watcher
                                .watch(http.serve_connection(TokioIo::new(stream), service))
                                .await
                        }
                        Ok(Err(error)) => {
                            tracing::debug!(%peer, %error, "TLS handshake failed");
                            Ok(())
                        }
                        Err(_elapsed) => {
                            tracing::debug!(%peer, "TLS handshake timed out");
                            Ok(())
                        }
                    }
                }
            };
            if let Err(error) = served {
                // Timeouts, resets and malformed requests are the client's business, and an
                // attacker's way to flood the log.
                tracing::debug!(%peer, %error, "connection closed");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(policy.drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "stopped with requests still in flight after {:?}",
            policy.drain_timeout
        );
    }
}

/// hyper's HTTP/1.1 connection settings for `policy`.
fn http1(policy: &ConnectionPolicy) -> hyper::server::conn::http1::Builder {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        // hyper starts this clock whenever it waits for a head, so it also ends idle keep-alive
        // connections.
        .header_read_timeout(policy.header_timeout)
        .max_header_size(policy.max_head_bytes)
        .max_headers(policy.max_headers)
        // The read buffer only ever holds a head or a piece of body; hyper's default (~400 KB)
        // times many connections would be memory an attacker chooses to fill.
        .max_buf_size((policy.max_head_bytes + 8 * 1024).max(8 * 1024))
        .keep_alive(true);
    http
}

/// Answers a request: `413` for a declared body over the limit, else whatever `handler` says.
fn respond(
    handler: &Handler,
    request: http::Request<Incoming>,
    peer: SocketAddr,
    max_body_bytes: usize,
) -> ResponseFuture {
    let declared = request
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max_body_bytes as u64) {
        access_log(
            Some(peer),
            request.method().as_str(),
            request.uri().path(),
            http::StatusCode::PAYLOAD_TOO_LARGE.as_u16(),
            Duration::ZERO,
            None,
            None,
        );
        return Box::pin(std::future::ready(plain_response(
            http::StatusCode::PAYLOAD_TOO_LARGE,
        )));
    }
    handler(request.map(|body| Limited::new(body, max_body_bytes)), peer)
}

/// A short plain-text response with `status`'s reason as its body, closing the connection (the
/// request it answers was not read to its end).
pub(crate) fn plain_response(status: http::StatusCode) -> http::Response<ResponseBody> {
    let text = status.canonical_reason().unwrap_or("Error");
    let mut response = http::Response::new(full_body(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    );
    response
}

/// `bytes` as a [`ResponseBody`].
pub(crate) fn full_body(bytes: Bytes) -> ResponseBody {
    Full::new(bytes)
        .map_err(|never: Infallible| match never {})
        .boxed_unsync()
}

/// Why a request body could not be read whole.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BodyError {
    /// It is longer than [`ConnectionPolicy::max_body_bytes`].
    #[error("the request body is larger than the limit")]
    TooLarge,
    /// It did not arrive in time.
    #[error("the request body did not arrive within {0:?}")]
    TooSlow(Duration),
    /// The connection failed while it was read.
    #[error("the request body could not be read: {0}")]
    Read(BoxError),
}

impl BodyError {
    /// The status that answers it.
    pub(crate) fn status(&self) -> http::StatusCode {
        match self {
            Self::TooLarge => http::StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooSlow(_) => http::StatusCode::REQUEST_TIMEOUT,
            Self::Read(_) => http::StatusCode::BAD_REQUEST,
        }
    }
}

/// Reads a whole request body, for a framework that wants it in memory, within `timeout`.
pub(crate) async fn read_body(body: RequestBody, timeout: Duration) -> Result<Bytes, BodyError> {
    match tokio::time::timeout(timeout, body.collect()).await {
        Err(_elapsed) => Err(BodyError::TooSlow(timeout)),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(error)) => match error.downcast::<http_body_util::LengthLimitError>() {
            Ok(_) => Err(BodyError::TooLarge),
            Err(error) => Err(BodyError::Read(error)),
        },
    }
}

/// Logs a failed `accept` and, when the process is out of file descriptors, pauses: the failing
/// connection stays queued, and retrying at once would spin.
async fn accept_failed(error: &io::Error) {
    match error.kind() {
        io::ErrorKind::ConnectionAborted
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionRefused
        | io::ErrorKind::Interrupted => {
            tracing::debug!(%error, "a connection ended before it was accepted");
        }
        _ => {
            tracing::error!(%error, "could not accept a connection");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A TCP stream that fails its writes once the client has read nothing for `timeout`, so that a
/// client that stops reading its responses cannot hold a connection slot forever (hyper has no
/// write timeout of its own).
struct StallGuard<T> {
    stream: T,
    timeout: Duration,
    /// Armed while a write waits for the client to read.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<T> StallGuard<T> {
    fn new(stream: T, timeout: Duration) -> Self {
        Self {
            stream,
            timeout,
            stalled: None,
        }
    }

    fn on_write<R>(
        &mut self,
        cx: &mut Context<'_>,
        written: Poll<io::Result<R>>,
    ) -> Poll<io::Result<R>> {
        if written.is_ready() {
            self.stalled = None;
            return written;
        }
        let timeout = self.timeout;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client stopped reading",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for StallGuard<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for StallGuard<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.on_write(cx, written)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.on_write(cx, written)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let flushed = Pin::new(&mut this.stream).poll_flush(cx);
        this.on_write(cx, flushed)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_client_that_stops_reading_is_dropped_after_the_timeout() {
        let (client, server) = tokio::io::duplex(64);
        let mut server = StallGuard::new(server, Duration::from_millis(200));
        let started = std::time::Instant::now();
        let failed = loop {
            if let Err(error) = server.write_all(&[0; 64]).await {
                break error;
            }
        };
        assert_eq!(failed.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_millis(200));
        assert!(started.elapsed() < Duration::from_secs(5));
        drop(client);
    }

    #[tokio::test]
    async fn a_slow_reader_that_keeps_reading_is_kept() {
        let (mut client, server) = tokio::io::duplex(64);
        let mut server = StallGuard::new(server, Duration::from_millis(300));
        let reader = tokio::spawn(async move {
            let mut chunk = [0; 64];
            let mut total = 0;
            while total < 64 * 8 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                total += client.read(&mut chunk).await.expect("reading");
            }
        });
        for _ in 0..8 {
            server
                .write_all(&[0; 64])
                .await
                .expect("each write waits less than the timeout");
        }
        reader.await.expect("the reader finishes");
    }
}

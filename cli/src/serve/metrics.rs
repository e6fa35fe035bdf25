//! `serve --metrics`: `GET /metrics` in Prometheus text format, on every framework.
//!
//! One process-wide recorder (`metrics-exporter-prometheus`, without an HTTP listener of its
//! own) collects what goes through the `metrics` facade: the request counts by status that the
//! access log adds (`endpoint_auth_http_requests_total{status="401"}`), and whatever the core
//! and the stores emit as `endpoint_auth_*`. The route is answered before the framework sees the
//! request, unauthenticated.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use http::{HeaderValue, Method, StatusCode};
use hyper::body::Bytes;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use super::connections::{full_body, Handler};
use super::log_response;
use crate::error::CliError;

/// The route.
pub const METRICS_PATH: &str = "/metrics";
/// Requests answered, by status: counted for every request the access log records.
pub const REQUESTS_TOTAL: &str = "endpoint_auth_http_requests_total";
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder (once) and returns its handle.
fn recorder() -> Result<PrometheusHandle, CliError> {
    if let Some(handle) = RECORDER.get() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| CliError::Serve(format!("could not start the metrics recorder: {e}")))?;
    metrics::describe_counter!(REQUESTS_TOTAL, "HTTP requests answered, by status");
    Ok(RECORDER.get_or_init(|| handle).clone())
}

/// Counts one answered request (a no-op until [`with_metrics`] installs the recorder).
pub(crate) fn count(status: u16) {
    metrics::counter!(REQUESTS_TOTAL, "status" => status.to_string()).increment(1);
}

/// `handler`, with `GET /metrics` answered in front of it.
pub(crate) fn with_metrics(handler: Handler) -> Result<Handler, CliError> {
    let recorder = recorder()?;
    Ok(Arc::new(move |request, peer| {
        if request.uri().path() != METRICS_PATH {
            return handler(request, peer);
        }
        let started = Instant::now();
        let method = request.method().clone();
        let recorder = recorder.clone();
        Box::pin(async move {
            let mut response = if method == Method::GET || method == Method::HEAD {
                let mut response = http::Response::new(full_body(Bytes::from(recorder.render())));
                response.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static(CONTENT_TYPE),
                );
                response
            } else {
                let mut response = http::Response::new(full_body(Bytes::new()));
                *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
                response
                    .headers_mut()
                    .insert(http::header::ALLOW, HeaderValue::from_static("GET, HEAD"));
                response
            };
            response.headers_mut().insert(
                http::header::CACHE_CONTROL,
                HeaderValue::from_static("no-store"),
            );
            log_response(Some(peer), &method, METRICS_PATH, started, &response);
            response
        })
    }))
}

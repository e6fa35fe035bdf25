//! A refused request, why it was refused, and the single mapping from a refusal to an HTTP
//! response. Only the core builds a [`Rejection`]; adapters answer with it.

use std::fmt;
use std::time::Duration;

use http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderName, HeaderValue, StatusCode};

use crate::hash::HashError;
use crate::lockout::Lock;
use crate::parse::ParseError;
use crate::store::StoreError;
use crate::verifier::VerifyError;

/// Why a request got the uniform 401. For logs, tracing and the audit hook only: it never reaches
/// the response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureReason {
    /// No usable `Authorization` header (missing or malformed).
    BadHeader(ParseError),
    /// No user has this login.
    UnknownUser,
    /// The password does not match.
    WrongPassword,
    /// The account is disabled.
    Disabled,
    /// The endpoint requires a confirmed email and this one is not.
    EmailNotConfirmed,
    /// Too many consecutive failures; the account is locked.
    LockedOut(Lock),
    /// The account has no password set.
    NoPassword,
    /// The stored hash cannot be verified (it should have been refused when stored).
    UnusableHash(HashError),
    /// A handler in `require_credentials` mode refused the credentials it was given.
    RefusedByHandler,
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureReason::BadHeader(error) => write!(f, "bad Authorization header: {error}"),
            FailureReason::UnknownUser => f.write_str("unknown user"),
            FailureReason::WrongPassword => f.write_str("wrong password"),
            FailureReason::Disabled => f.write_str("account disabled"),
            FailureReason::EmailNotConfirmed => f.write_str("email not confirmed"),
            FailureReason::LockedOut(_) => f.write_str("account locked after repeated failures"),
            FailureReason::NoPassword => f.write_str("account has no password"),
            FailureReason::UnusableHash(error) => write!(f, "stored hash unusable: {error}"),
            FailureReason::RefusedByHandler => f.write_str("credentials refused by the handler"),
        }
    }
}

/// Why a request got a 503: the server cannot decide right now.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum UnavailableReason {
    /// The users store could not answer.
    Store(StoreError),
    /// Password verification is overloaded or stopped.
    Verifier(VerifyError),
    /// The endpoint asks for users but the authenticator was built without a store.
    NoUserStore,
}

impl fmt::Display for UnavailableReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnavailableReason::Store(error) => error.fmt(f),
            UnavailableReason::Verifier(error) => error.fmt(f),
            UnavailableReason::NoUserStore => f.write_str(
                "authenticate_users endpoint on an authenticator without a users store; build it with Authenticator::builder(store)",
            ),
        }
    }
}

/// What kind of refusal a [`Rejection`] is.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RejectionKind {
    /// 401 with the `Basic` challenge: the same response for every reason (SPEC §3).
    Unauthorized(FailureReason),
    /// 503 with `Retry-After` (SPEC §5).
    Unavailable {
        /// Why.
        reason: UnavailableReason,
        /// Advised wait.
        retry_after: Duration,
    },
    /// 429 with `Retry-After`, from the per-client rate limit (SPEC §5).
    TooManyRequests {
        /// Advised wait.
        retry_after: Duration,
    },
}

/// A refused request: what to answer, and why (the latter for logs only).
///
/// [`Rejection::response`] is the one place a refusal becomes status, headers and body, so every
/// adapter answers byte for byte alike.
#[derive(Clone)]
pub struct Rejection {
    kind: RejectionKind,
    challenge: HeaderValue,
    format: RefusalFormat,
}

/// How refusal bodies are written: the application's choice (an API wants JSON). Status,
/// `WWW-Authenticate`, `Retry-After` and "nothing about the reason" stay the core's (SPEC §3):
/// both formats say only what the status says.
///
/// | status | [`PlainText`](Self::PlainText) (default) | [`Json`](Self::Json) |
/// |---|---|---|
/// | 401 | `Unauthorized` | `{"error":"unauthorized"}` |
/// | 429 | `Too Many Requests` | `{"error":"too_many_requests"}` |
/// | 503 | `Service Unavailable` | `{"error":"service_unavailable"}` |
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefusalFormat {
    /// `text/plain; charset=utf-8`.
    #[default]
    PlainText,
    /// `application/json`.
    Json,
}

impl RefusalFormat {
    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            RefusalFormat::PlainText => PLAIN_TEXT_CONTENT_TYPE,
            RefusalFormat::Json => "application/json",
        })
    }

    fn body(self, status: StatusCode) -> &'static str {
        match (self, status) {
            (RefusalFormat::PlainText, StatusCode::UNAUTHORIZED) => UNAUTHORIZED_BODY,
            (RefusalFormat::PlainText, StatusCode::TOO_MANY_REQUESTS) => TOO_MANY_REQUESTS_BODY,
            (RefusalFormat::PlainText, _) => UNAVAILABLE_BODY,
            (RefusalFormat::Json, StatusCode::UNAUTHORIZED) => r#"{"error":"unauthorized"}"#,
            (RefusalFormat::Json, StatusCode::TOO_MANY_REQUESTS) => {
                r#"{"error":"too_many_requests"}"#
            }
            (RefusalFormat::Json, _) => r#"{"error":"service_unavailable"}"#,
        }
    }
}

impl fmt::Debug for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejection")
            .field("status", &self.status())
            .field("kind", &self.kind)
            .finish()
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            RejectionKind::Unauthorized(reason) => write!(f, "401 Unauthorized ({reason})"),
            RejectionKind::Unavailable { reason, .. } => {
                write!(f, "503 Service Unavailable ({reason})")
            }
            RejectionKind::TooManyRequests { .. } => {
                f.write_str("429 Too Many Requests (client rate limit)")
            }
        }
    }
}

/// The chain goes on to what caused the refusal, where something did: a malformed header, an
/// unusable stored hash, a store or verifier that could not answer. For logs only: none of it
/// reaches the response.
impl std::error::Error for Rejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            RejectionKind::Unauthorized(FailureReason::BadHeader(error)) => Some(error),
            RejectionKind::Unauthorized(FailureReason::UnusableHash(error)) => Some(error),
            RejectionKind::Unavailable {
                reason: UnavailableReason::Store(error),
                ..
            } => Some(error),
            RejectionKind::Unavailable {
                reason: UnavailableReason::Verifier(error),
                ..
            } => Some(error),
            _ => None,
        }
    }
}

/// The body of every 401.
pub const UNAUTHORIZED_BODY: &str = "Unauthorized";
/// The body of every 503.
pub const UNAVAILABLE_BODY: &str = "Service Unavailable";
/// The body of every 429.
pub const TOO_MANY_REQUESTS_BODY: &str = "Too Many Requests";
/// The `Content-Type` of every refusal body.
pub const PLAIN_TEXT_CONTENT_TYPE: &str = "text/plain; charset=utf-8";

/// A refusal as HTTP: status, headers and body. Built by [`Rejection::response`].
#[derive(Debug, Clone)]
pub struct RejectionResponse {
    /// 401, 503 or 429.
    pub status: StatusCode,
    /// `WWW-Authenticate` (401), `Retry-After` (503, 429), and `Content-Type`.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// `Unauthorized`, `Service Unavailable` or `Too Many Requests`, or their JSON forms.
    pub body: &'static str,
}

impl RejectionResponse {
    /// As an [`http::Response`] with any body type that can be made from a `&'static str`.
    pub fn into_http<B: From<&'static str>>(self) -> http::Response<B> {
        let mut response = http::Response::new(B::from(self.body));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        for (name, value) in self.headers {
            headers.append(name, value);
        }
        response
    }
}

impl Rejection {
    /// A 401 for `reason`, challenging with `challenge` (a [`Realm`](crate::Realm)'s header
    /// value).
    pub(crate) fn unauthorized(challenge: HeaderValue, reason: FailureReason) -> Self {
        Self {
            kind: RejectionKind::Unauthorized(reason),
            challenge,
            format: RefusalFormat::PlainText,
        }
    }

    /// A 503 advising a retry after `retry_after`.
    pub(crate) fn unavailable(
        challenge: HeaderValue,
        reason: UnavailableReason,
        retry_after: Duration,
    ) -> Self {
        Self {
            kind: RejectionKind::Unavailable {
                reason,
                retry_after,
            },
            challenge,
            format: RefusalFormat::PlainText,
        }
    }

    /// A 429 advising a retry after `retry_after`.
    pub(crate) fn too_many_requests(challenge: HeaderValue, retry_after: Duration) -> Self {
        Self {
            kind: RejectionKind::TooManyRequests { retry_after },
            challenge,
            format: RefusalFormat::PlainText,
        }
    }

    /// The same refusal, its body written in `format`.
    pub fn with_format(mut self, format: RefusalFormat) -> Self {
        self.format = format;
        self
    }

    /// What kind of refusal this is, with its reason.
    pub fn kind(&self) -> &RejectionKind {
        &self.kind
    }

    /// The failure reason, for a 401.
    pub fn failure_reason(&self) -> Option<&FailureReason> {
        match &self.kind {
            RejectionKind::Unauthorized(reason) => Some(reason),
            _ => None,
        }
    }

    /// The status this refusal answers with.
    pub fn status(&self) -> StatusCode {
        match self.kind {
            RejectionKind::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            RejectionKind::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            RejectionKind::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// The response to send: SPEC §3 for a 401, §5 for 503 and 429, the body in the
    /// authenticator's [`RefusalFormat`].
    pub fn response(&self) -> RejectionResponse {
        let status = self.status();
        let content_type = (CONTENT_TYPE, self.format.content_type());
        let first = match &self.kind {
            RejectionKind::Unauthorized(_) => (WWW_AUTHENTICATE, self.challenge.clone()),
            RejectionKind::Unavailable { retry_after, .. }
            | RejectionKind::TooManyRequests { retry_after } => {
                (RETRY_AFTER, retry_after_value(*retry_after))
            }
        };
        RejectionResponse {
            status,
            headers: vec![first, content_type],
            body: self.format.body(status),
        }
    }

    /// `self.response().into_http()`, with a clone of this rejection in the response's
    /// extensions, so that middleware such as an access log can tell why a request was refused
    /// without the reason ever reaching the client.
    pub fn into_http_response<B: From<&'static str>>(&self) -> http::Response<B> {
        let mut response = self.response().into_http();
        response.extensions_mut().insert(self.clone());
        response
    }
}

/// `Retry-After` as whole seconds, rounded up, at least 1 (RFC 9110 §10.2.3).
fn retry_after_value(wait: Duration) -> HeaderValue {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    HeaderValue::from(seconds.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Realm;

    fn challenge() -> HeaderValue {
        Realm::new("r").unwrap().challenge().clone()
    }

    #[test]
    fn every_401_reason_gives_the_same_response() {
        let reasons = [
            FailureReason::BadHeader(ParseError::Missing),
            FailureReason::UnknownUser,
            FailureReason::WrongPassword,
            FailureReason::Disabled,
            FailureReason::EmailNotConfirmed,
            FailureReason::LockedOut(Lock::UntilReset),
            FailureReason::NoPassword,
        ];
        let responses: Vec<_> = reasons
            .into_iter()
            .map(|r| format!("{:?}", Rejection::unauthorized(challenge(), r).response()))
            .collect();
        assert!(responses.windows(2).all(|w| w[0] == w[1]), "{responses:#?}");
        let response = Rejection::unauthorized(challenge(), FailureReason::UnknownUser).response();
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
        assert_eq!(response.body, "Unauthorized");
        assert_eq!(response.headers[0].1, r#"Basic realm="r", charset="UTF-8""#);
        assert_eq!(response.headers[1].1, "text/plain; charset=utf-8");
    }

    #[test]
    fn unavailable_has_retry_after_and_no_challenge() {
        let rejection = Rejection::unavailable(
            challenge(),
            UnavailableReason::Store(StoreError::Timeout(Duration::from_secs(2))),
            Duration::from_millis(1500),
        );
        let response: http::Response<String> = rejection.into_http_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[RETRY_AFTER], "2");
        assert!(response.headers().get(WWW_AUTHENTICATE).is_none());
        assert_eq!(response.body(), "Service Unavailable");
        let carried = response
            .extensions()
            .get::<Rejection>()
            .expect("the reason rides along");
        assert!(matches!(carried.kind(), RejectionKind::Unavailable { .. }));
    }

    #[test]
    fn too_many_requests_has_retry_after() {
        let response: http::Response<String> =
            Rejection::too_many_requests(challenge(), Duration::ZERO).into_http_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[RETRY_AFTER], "1");
    }

    #[test]
    fn json_refusals_keep_status_and_headers_and_say_nothing_more() {
        for plain in [
            Rejection::unauthorized(challenge(), FailureReason::WrongPassword),
            Rejection::unavailable(
                challenge(),
                UnavailableReason::NoUserStore,
                Duration::from_secs(2),
            ),
            Rejection::too_many_requests(challenge(), Duration::from_secs(1)),
        ] {
            let json = plain.clone().with_format(RefusalFormat::Json).response();
            let plain = plain.response();
            assert_eq!(json.status, plain.status);
            assert_eq!(json.headers[0], plain.headers[0]);
            assert_eq!(json.headers[1].1, "application/json");
            let parsed: std::collections::BTreeMap<String, String> = serde_json_lite(json.body);
            assert_eq!(parsed.len(), 1, "{}", json.body);
            assert!(parsed.contains_key("error"));
        }
    }

    /// `{"error":"…"}` read back without a JSON dependency.
    fn serde_json_lite(body: &str) -> std::collections::BTreeMap<String, String> {
        let inner = body
            .strip_prefix("{\"")
            .and_then(|b| b.strip_suffix("\"}"))
            .expect(body);
        let (key, value) = inner.split_once("\":\"").expect(body);
        [(key.to_owned(), value.to_owned())].into_iter().collect()
    }

    #[test]
    fn the_error_chain_reaches_the_cause() {
        use std::error::Error as _;
        let bad_header =
            Rejection::unauthorized(challenge(), FailureReason::BadHeader(ParseError::Missing));
        assert_eq!(
            bad_header.source().map(ToString::to_string),
            Some(ParseError::Missing.to_string())
        );
        let store = Rejection::unavailable(
            challenge(),
            UnavailableReason::Store(StoreError::Timeout(Duration::from_secs(2))),
            Duration::from_secs(1),
        );
        assert!(store
            .source()
            .unwrap()
            .to_string()
            .contains("did not answer"));
        let wrong = Rejection::unauthorized(challenge(), FailureReason::WrongPassword);
        assert!(wrong.source().is_none());
    }
}

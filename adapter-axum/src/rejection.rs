//! [`AuthRejection`]: what the extractors answer when the core refuses a request, or when they
//! answer an exempt CORS preflight themselves.

use std::fmt;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use endpoint_auth::credentials::EXEMPT_PREFLIGHT_STATUS;
use endpoint_auth::{rejection::RejectionKind, Rejection};

/// Rejection of [`AuthUser`](crate::AuthUser), [`ConfirmedUser`](crate::ConfirmedUser) and
/// [`BasicCredentials`](crate::BasicCredentials), and what
/// [`BasicCredentials::challenge`](crate::BasicCredentials::challenge) hands a handler to refuse
/// with.
///
/// Mostly it wraps the core's [`Rejection`] and answers with exactly the response the core maps
/// it to ([`Rejection::response`]): the uniform 401 with the `Basic` challenge, or 503 / 429
/// with `Retry-After`. The reason (wrong password, unknown user, store down, ...) is available
/// for logs through [`kind`](Self::kind) and `Display`, and never reaches the response.
///
/// The other case is an exempt CORS preflight ([`is_preflight`](Self::is_preflight)): a request
/// the authenticator lets through without credentials
/// ([`Authenticator::is_exempt_preflight_request`](endpoint_auth::Authenticator::is_exempt_preflight_request))
/// that reached a route whose handler takes one of the extractors. There is no user or
/// credentials to hand the handler, so the extractor answers the preflight itself, `204 No
/// Content` with no challenge, and the handler does not run. To answer preflights with CORS
/// headers, put a CORS layer in front (it answers them before any extractor runs).
///
/// ```
/// use axum::response::IntoResponse;
/// use endpoint_auth_axum::AuthRejection;
/// use endpoint_auth_axum::endpoint_auth::Authenticator;
///
/// let authenticator = Authenticator::credentials_only("example").unwrap();
/// let rejection = AuthRejection::from(authenticator.challenge());
/// assert_eq!(rejection.status(), 401);
/// assert_eq!(rejection.body_text(), "Unauthorized");
/// let response = rejection.into_response();
/// assert!(response.headers().contains_key(axum::http::header::WWW_AUTHENTICATE));
/// ```
#[derive(Debug, Clone)]
pub struct AuthRejection {
    inner: Inner,
}

#[derive(Debug, Clone)]
enum Inner {
    /// The core refused the request.
    Core(Rejection),
    /// An exempt CORS preflight, answered by the extractor.
    Preflight,
}

impl AuthRejection {
    /// The answer to an exempt CORS preflight: `204 No Content`.
    pub(crate) fn preflight() -> Self {
        Self {
            inner: Inner::Preflight,
        }
    }

    /// The status the response carries.
    pub fn status(&self) -> StatusCode {
        match &self.inner {
            Inner::Core(rejection) => rejection.status(),
            Inner::Preflight => EXEMPT_PREFLIGHT_STATUS,
        }
    }

    /// The body the response carries (`Unauthorized`, `Service Unavailable`, ...; empty for a
    /// preflight).
    pub fn body_text(&self) -> &'static str {
        match &self.inner {
            Inner::Core(rejection) => rejection.response().body,
            Inner::Preflight => "",
        }
    }

    /// Whether this answers an exempt CORS preflight rather than refusing a request.
    pub fn is_preflight(&self) -> bool {
        matches!(self.inner, Inner::Preflight)
    }

    /// What kind of refusal this is, with its reason: for logs, never for the response. `None`
    /// for a preflight.
    pub fn kind(&self) -> Option<&RejectionKind> {
        self.rejection().map(Rejection::kind)
    }

    /// The core's rejection; `None` for a preflight.
    pub fn rejection(&self) -> Option<&Rejection> {
        match &self.inner {
            Inner::Core(rejection) => Some(rejection),
            Inner::Preflight => None,
        }
    }

    /// Unwraps the core's rejection; `None` for a preflight.
    pub fn into_rejection(self) -> Option<Rejection> {
        match self.inner {
            Inner::Core(rejection) => Some(rejection),
            Inner::Preflight => None,
        }
    }
}

impl From<Rejection> for AuthRejection {
    fn from(rejection: Rejection) -> Self {
        Self {
            inner: Inner::Core(rejection),
        }
    }
}

impl fmt::Display for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            // Transparent: the core's message already names the status and the reason.
            Inner::Core(rejection) => rejection.fmt(f),
            Inner::Preflight => f.write_str("204 No Content: an exempt CORS preflight"),
        }
    }
}

impl std::error::Error for AuthRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.inner {
            Inner::Core(rejection) => rejection.source(),
            Inner::Preflight => None,
        }
    }
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        match self.inner {
            Inner::Core(rejection) => rejection.into_http_response::<Body>(),
            Inner::Preflight => EXEMPT_PREFLIGHT_STATUS.into_response(),
        }
    }
}

#[cfg(test)]
mod tests {

    use axum::body::to_bytes;
    use axum::http::header::WWW_AUTHENTICATE;
    use endpoint_auth::{rejection::FailureReason, Authenticator, NoUser};

    use super::*;

    fn authenticator() -> Authenticator<NoUser> {
        Authenticator::credentials_only(r#"say "hi""#).unwrap()
    }

    #[tokio::test]
    async fn into_response_is_the_cores_response() {
        let core = authenticator().challenge();
        let expected: axum::http::Response<String> = core.into_http_response();
        let response = AuthRejection::from(core).into_response();
        assert_eq!(response.status(), expected.status());
        assert_eq!(response.headers(), expected.headers());
        let body = to_bytes(response.into_body(), 1024).await.unwrap();
        assert_eq!(body, expected.body().as_bytes());
    }

    #[tokio::test]
    async fn accessors_report_the_core_decision() {
        let rejection = AuthRejection::from(authenticator().challenge());
        assert_eq!(rejection.status(), 401);
        assert_eq!(rejection.body_text(), "Unauthorized");
        assert_eq!(
            rejection.rejection().and_then(Rejection::failure_reason),
            Some(&FailureReason::RefusedByHandler)
        );
        assert!(matches!(
            rejection.kind(),
            Some(RejectionKind::Unauthorized(_))
        ));
        assert!(!rejection.is_preflight());
        assert_eq!(
            rejection.to_string(),
            rejection.rejection().unwrap().to_string()
        );

        // The core's own 503: authenticate_users on an authenticator without a users store.
        let no_store = authenticator()
            .authenticate_user(
                [&b"Basic dTpw"[..]],
                endpoint_auth::ClientAddress::UNKNOWN,
                endpoint_auth::Requirements::new(),
            )
            .await
            .unwrap_err();
        let unavailable = AuthRejection::from(no_store);
        assert_eq!(unavailable.status(), 503);
        let response = unavailable.into_response();
        assert_eq!(response.headers()[axum::http::header::RETRY_AFTER], "1");
    }

    #[tokio::test]
    async fn a_preflight_is_answered_204_without_a_challenge() {
        let preflight = AuthRejection::preflight();
        assert!(preflight.is_preflight());
        assert_eq!(preflight.status(), 204);
        assert!(preflight.rejection().is_none() && preflight.kind().is_none());
        let response = preflight.into_response();
        assert_eq!(response.status(), 204);
        assert!(response.headers().get(WWW_AUTHENTICATE).is_none());
        assert!(to_bytes(response.into_body(), 1024)
            .await
            .unwrap()
            .is_empty());
    }
}

//! [`AuthRejection`]: what the extractors answer when the core refuses a request.

use std::fmt;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use endpoint_auth::{rejection::RejectionKind, Rejection};

/// Rejection of [`AuthUser`](crate::AuthUser), [`ConfirmedUser`](crate::ConfirmedUser) and
/// [`BasicCredentials`](crate::BasicCredentials), and what
/// [`BasicCredentials::challenge`](crate::BasicCredentials::challenge) hands a handler to refuse
/// with.
///
/// It wraps the core's [`Rejection`] and answers with exactly the response the core maps it to
/// ([`Rejection::response`]): the uniform 401 with the `Basic` challenge, or 503 / 429 with
/// `Retry-After`. The reason (wrong password, unknown user, store down, ...) is available for
/// logs through [`kind`](Self::kind) and `Display`, and never reaches the response.
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
    rejection: Rejection,
}

impl AuthRejection {
    /// The status the response carries.
    pub fn status(&self) -> StatusCode {
        self.rejection.status()
    }

    /// The body the response carries (`Unauthorized`, `Service Unavailable`, ...).
    pub fn body_text(&self) -> &'static str {
        self.rejection.response().body
    }

    /// What kind of refusal this is, with its reason: for logs, never for the response.
    pub fn kind(&self) -> &RejectionKind {
        self.rejection.kind()
    }

    /// The core's rejection.
    pub fn rejection(&self) -> &Rejection {
        &self.rejection
    }

    /// Unwraps the core's rejection.
    pub fn into_rejection(self) -> Rejection {
        self.rejection
    }
}

impl From<Rejection> for AuthRejection {
    fn from(rejection: Rejection) -> Self {
        Self { rejection }
    }
}

impl fmt::Display for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Transparent: the core's message already names the status and the reason.
        self.rejection.fmt(f)
    }
}

impl std::error::Error for AuthRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.rejection.source()
    }
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        self.rejection.into_http_response::<Body>()
    }
}

#[cfg(test)]
mod tests {

    use axum::body::to_bytes;
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
            rejection.rejection().failure_reason(),
            Some(&FailureReason::RefusedByHandler)
        );
        assert!(matches!(rejection.kind(), RejectionKind::Unauthorized(_)));
        assert_eq!(rejection.to_string(), rejection.rejection().to_string());

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
}

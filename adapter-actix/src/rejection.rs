//! [`AuthRejection`]: what the extractors and the middleware answer when the core refuses a
//! request, and what the extractors answer an exempt CORS preflight with.

use std::fmt;

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use endpoint_auth::credentials::EXEMPT_PREFLIGHT_STATUS;
use endpoint_auth::{
    rejection::{RejectionKind, RejectionResponse},
    Rejection,
};

/// The error of [`AuthUser`](crate::AuthUser), [`ConfirmedUser`](crate::ConfirmedUser),
/// [`BasicCredentials`](crate::BasicCredentials) and [`Optional`](crate::Optional), and what
/// [`BasicCredentials::challenge`](crate::BasicCredentials::challenge) hands a handler to refuse
/// with.
///
/// As a [`ResponseError`] it answers with exactly the response the core maps the refusal to
/// ([`Rejection::response`]): the uniform 401 with the `Basic` challenge, or 503 / 429 with
/// `Retry-After`, the core's `Content-Type` and body. The reason (wrong password, unknown user,
/// store down, …) is there for logs through [`rejection`](Self::rejection) and `Display`, and
/// never reaches the response. The response also carries the core's [`Rejection`] in its
/// extensions (`response.extensions().get::<Rejection>()`), so that an access-log middleware can
/// say why a request was refused.
///
/// Two more cases are not the core's refusals:
/// - An exempt CORS preflight ([`is_preflight`](Self::is_preflight)): a request the
///   authenticator lets through without credentials
///   ([`Authenticator::is_exempt_preflight`](endpoint_auth::Authenticator::is_exempt_preflight))
///   that reached a route whose handler takes one of the extractors. There is no user or
///   credentials to hand the handler, so the extractor answers the preflight itself, `204 No
///   Content` with no challenge, and the handler does not run. For CORS headers, wrap the app
///   in a CORS middleware (such as `actix-cors`), which answers preflights first.
/// - An extractor that finds no authenticator in the app data (neither
///   `web::Data<Authenticator<U>>` nor `Authenticator<U>`) is a configuration mistake,
///   answered `500 Internal Server Error` as actix answers a missing `web::Data`.
///
/// ```
/// use actix_web::ResponseError;
/// use endpoint_auth_actix::AuthRejection;
/// use endpoint_auth_actix::endpoint_auth::Authenticator;
///
/// let authenticator = Authenticator::credentials_only("example").unwrap();
/// let rejection = AuthRejection::from(authenticator.challenge());
/// assert_eq!(rejection.status_code().as_u16(), 401);
/// let response = rejection.error_response();
/// assert!(response.headers().contains_key("www-authenticate"));
/// ```
#[derive(Clone)]
pub struct AuthRejection {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    /// The core refused the request.
    Core(Rejection),
    /// An exempt CORS preflight, answered by the extractor.
    Preflight,
    /// No authenticator in the app data for this extractor's user type.
    NotConfigured { user_type: &'static str },
}

impl AuthRejection {
    pub(crate) fn not_configured<U>() -> Self {
        Self {
            inner: Inner::NotConfigured {
                user_type: std::any::type_name::<U>(),
            },
        }
    }

    /// The answer to an exempt CORS preflight: `204 No Content`.
    pub(crate) fn preflight() -> Self {
        Self {
            inner: Inner::Preflight,
        }
    }

    /// Whether this answers an exempt CORS preflight rather than refusing a request.
    pub fn is_preflight(&self) -> bool {
        matches!(self.inner, Inner::Preflight)
    }

    /// The core's rejection, with its reason; `None` when the extractor answered a preflight or
    /// found no authenticator to ask (then the status is a 500).
    pub fn rejection(&self) -> Option<&Rejection> {
        match &self.inner {
            Inner::Core(rejection) => Some(rejection),
            Inner::Preflight | Inner::NotConfigured { .. } => None,
        }
    }

    /// Unwraps the core's rejection, as [`rejection`](Self::rejection).
    pub fn into_rejection(self) -> Option<Rejection> {
        match self.inner {
            Inner::Core(rejection) => Some(rejection),
            Inner::Preflight | Inner::NotConfigured { .. } => None,
        }
    }

    /// What kind of refusal this is, with its reason: for logs, never for the response. `None`
    /// as for [`rejection`](Self::rejection).
    pub fn kind(&self) -> Option<&RejectionKind> {
        self.rejection().map(Rejection::kind)
    }
}

impl From<Rejection> for AuthRejection {
    fn from(rejection: Rejection) -> Self {
        Self {
            inner: Inner::Core(rejection),
        }
    }
}

impl fmt::Debug for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Inner::Core(rejection) => f.debug_tuple("AuthRejection").field(rejection).finish(),
            Inner::Preflight => f.write_str("AuthRejection(Preflight)"),
            Inner::NotConfigured { user_type } => f
                .debug_struct("AuthRejection")
                .field("not_configured", user_type)
                .finish(),
        }
    }
}

impl fmt::Display for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            // Transparent: the core's message names the status and the reason.
            Inner::Core(rejection) => rejection.fmt(f),
            Inner::Preflight => f.write_str("204 No Content: an exempt CORS preflight"),
            Inner::NotConfigured { user_type } => write!(
                f,
                "no Authenticator<{user_type}> in the app data: add it with App::app_data(web::Data::new(authenticator))"
            ),
        }
    }
}

impl std::error::Error for AuthRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.inner {
            Inner::Core(rejection) => rejection.source(),
            Inner::Preflight | Inner::NotConfigured { .. } => None,
        }
    }
}

impl ResponseError for AuthRejection {
    fn status_code(&self) -> StatusCode {
        match &self.inner {
            Inner::Core(rejection) => status_of(rejection),
            Inner::Preflight => preflight_status(),
            Inner::NotConfigured { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match &self.inner {
            Inner::Core(rejection) => rejection_response(rejection),
            Inner::Preflight => HttpResponse::build(preflight_status()).finish(),
            Inner::NotConfigured { .. } => HttpResponse::InternalServerError().finish(),
        }
    }
}

/// The actix status of a core rejection, translated (no status is chosen here).
/// The core's status for an exempt preflight nothing else answered, in actix's types.
fn preflight_status() -> StatusCode {
    StatusCode::from_u16(EXEMPT_PREFLIGHT_STATUS.as_u16()).unwrap_or(StatusCode::NO_CONTENT)
}

fn status_of(rejection: &Rejection) -> StatusCode {
    StatusCode::from_u16(rejection.status().as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The core's response for `rejection` in actix's types (`http` 0.2): its status, every header
/// it lists (repeated names kept) and its body, with the rejection in the
/// response's extensions.
pub(crate) fn rejection_response(rejection: &Rejection) -> HttpResponse {
    let RejectionResponse {
        status,
        headers,
        body,
    } = rejection.response();
    // The same bytes in the other `http` version's types: a valid name and value in one is valid
    // in the other.
    let headers: Vec<(HeaderName, HeaderValue)> = headers
        .iter()
        .filter_map(|(name, value)| {
            Some((
                HeaderName::from_bytes(name.as_str().as_bytes()).ok()?,
                HeaderValue::from_bytes(value.as_bytes()).ok()?,
            ))
        })
        .collect();
    let status = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status).body(body);
    *response.headers_mut() = to_map(&headers);
    response.extensions_mut().insert(rejection.clone());
    response
}

/// `headers` as actix's map, repeated names kept.
fn to_map(headers: &[(HeaderName, HeaderValue)]) -> HeaderMap {
    let mut map = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        map.append(name.clone(), value.clone());
    }
    map
}

#[cfg(test)]
mod tests {

    use actix_web::body::to_bytes;
    use endpoint_auth::{rejection::FailureReason, Authenticator, NoUser};

    use super::*;

    fn authenticator() -> Authenticator<NoUser> {
        Authenticator::credentials_only(r#"say "hi""#).unwrap()
    }

    #[actix_web::test]
    async fn every_field_of_the_cores_response_is_written() {
        let core = authenticator().challenge();
        let response = AuthRejection::from(core.clone()).error_response();
        for (name, value) in core.response().headers {
            let written = response.headers().get(name.as_str()).map(|v| v.as_bytes());
            assert_eq!(written, Some(value.as_bytes()), "{name}");
        }
    }

    /// Status, headers (lower-case names, sorted) and body.
    type Parts = (u16, Vec<(String, Vec<u8>)>, Vec<u8>);

    async fn actix_parts(response: HttpResponse) -> Parts {
        let status = response.status().as_u16();
        let mut headers: Vec<_> = response
            .headers()
            .iter()
            .map(|(name, value)| (name.to_string(), value.as_bytes().to_vec()))
            .collect();
        headers.sort();
        let body = to_bytes(response.into_body()).await.unwrap().to_vec();
        (status, headers, body)
    }

    fn core_parts(rejection: &Rejection) -> Parts {
        let response: endpoint_auth::http::Response<String> = rejection.into_http_response();
        let mut headers: Vec<_> = response
            .headers()
            .iter()
            .map(|(name, value)| (name.to_string(), value.as_bytes().to_vec()))
            .collect();
        headers.sort();
        (
            response.status().as_u16(),
            headers,
            response.body().as_bytes().to_vec(),
        )
    }

    #[actix_web::test]
    async fn error_response_is_the_cores_response() {
        let authenticator = authenticator();
        // The core's own 503: authenticate_users on an authenticator without a users store.
        let no_store = authenticator
            .authenticate_user(
                [&b"Basic dTpw"[..]],
                endpoint_auth::ClientAddress::UNKNOWN,
                endpoint_auth::Requirements::new(),
            )
            .await
            .unwrap_err();
        for core in [authenticator.challenge(), no_store] {
            let rejection = AuthRejection::from(core.clone());
            assert_eq!(rejection.status_code().as_u16(), core.status().as_u16());
            let response = rejection.error_response();
            let carried = response.extensions().get::<Rejection>().cloned();
            assert_eq!(actix_parts(response).await, core_parts(&core));
            assert_eq!(
                carried.map(|r| r.to_string()),
                Some(core.to_string()),
                "the reason rides along in the extensions"
            );
        }
    }

    #[test]
    fn accessors_report_the_core_decision() {
        let rejection = AuthRejection::from(authenticator().challenge());
        assert_eq!(
            rejection.rejection().and_then(Rejection::failure_reason),
            Some(&FailureReason::RefusedByHandler)
        );
        assert!(matches!(
            rejection.kind(),
            Some(RejectionKind::Unauthorized(_))
        ));
        assert_eq!(
            rejection.to_string(),
            rejection.rejection().unwrap().to_string()
        );
        assert!(rejection.clone().into_rejection().is_some());
    }

    #[actix_web::test]
    async fn a_preflight_is_answered_204_without_a_challenge() {
        let preflight = AuthRejection::preflight();
        assert!(preflight.is_preflight());
        assert!(preflight.rejection().is_none());
        assert_eq!(preflight.status_code(), StatusCode::NO_CONTENT);
        let (status, headers, body) = actix_parts(preflight.error_response()).await;
        assert_eq!(status, 204);
        assert!(!headers.iter().any(|(name, _)| name == "www-authenticate"));
        assert!(body.is_empty());
    }

    #[test]
    fn a_missing_authenticator_is_a_server_error() {
        let rejection = AuthRejection::not_configured::<endpoint_auth::User>();
        assert_eq!(rejection.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(rejection.rejection().is_none());
        assert!(rejection
            .to_string()
            .contains("Authenticator<endpoint_auth::"));
        assert!(rejection
            .error_response()
            .headers()
            .get("www-authenticate")
            .is_none());
    }
}

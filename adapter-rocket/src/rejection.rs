//! [`AuthRejection`]: the error of every endpoint-auth guard, and the responder that answers a
//! refusal exactly as the core maps it.
//!
//! ```
//! use endpoint_auth_rocket::{AuthRejection, BasicCredentials};
//! use rocket::get;
//!
//! // require_credentials: the handler checks the pair and refuses in one call.
//! #[get("/admin")]
//! fn admin(credentials: BasicCredentials) -> Result<&'static str, AuthRejection> {
//!     if !credentials.matches("admin", "correct horse battery staple") {
//!         return Err(credentials.challenge());
//!     }
//!     Ok("welcome")
//! }
//! ```

use std::fmt;
use std::io::Cursor;

use endpoint_auth::{rejection::RejectionResponse, Rejection};
use rocket::http::Status;
use rocket::response::{self, Responder};
use rocket::{Request, Response};

/// A refused request: the error of [`AuthUser`](crate::AuthUser),
/// [`ConfirmedUser`](crate::ConfirmedUser) and [`BasicCredentials`](crate::BasicCredentials),
/// and a [`Responder`] that answers with exactly the response the core maps the refusal to
/// ([`Rejection::response`]): the uniform `401` with the `Basic` challenge, or `503` / `429`
/// with `Retry-After`. The reason (wrong password, unknown user, store down, …) is there for
/// logs through [`rejection`](Self::rejection) and `Display`, and never reaches the response.
///
/// You meet it in three places:
/// - a handler taking `Result<AuthUser, AuthRejection>` receives it instead of the user, and may
///   return it as is;
/// - a `require_credentials` handler gets one from [`BasicCredentials::challenge`] to refuse the
///   credentials it was given;
/// - `From<Rejection>` wraps any other rejection of the core (401, 429, 503).
///
/// [`BasicCredentials::challenge`]: crate::BasicCredentials::challenge
#[derive(Clone)]
pub struct AuthRejection {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    /// The core refused the request.
    Core(Rejection),
    /// No [`BasicAuth`](crate::BasicAuth) fairing serves this guard: a configuration mistake,
    /// which rocket's sentinels catch at launch for every mounted route.
    NotConfigured { guard: &'static str },
}

impl AuthRejection {
    pub(crate) fn not_configured(guard: &'static str) -> Self {
        Self {
            inner: Inner::NotConfigured { guard },
        }
    }

    /// The status the response carries.
    pub fn status(&self) -> Status {
        match &self.inner {
            Inner::Core(rejection) => status_of(rejection),
            // What rocket's own `&State<T>` guard answers for unmanaged state.
            Inner::NotConfigured { .. } => Status::InternalServerError,
        }
    }

    /// The core's rejection, with its reason; `None` only when the guard found no
    /// [`BasicAuth`](crate::BasicAuth) fairing to ask (then the status is a 500).
    pub fn rejection(&self) -> Option<&Rejection> {
        match &self.inner {
            Inner::Core(rejection) => Some(rejection),
            Inner::NotConfigured { .. } => None,
        }
    }

    /// Unwraps the core's rejection, as [`rejection`](Self::rejection).
    pub fn into_rejection(self) -> Option<Rejection> {
        match self.inner {
            Inner::Core(rejection) => Some(rejection),
            Inner::NotConfigured { .. } => None,
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

impl fmt::Debug for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // rocket logs a failing guard's error with `Debug`: keep it to the point.
        match &self.inner {
            Inner::Core(rejection) => f.debug_tuple("AuthRejection").field(rejection).finish(),
            Inner::NotConfigured { guard } => f
                .debug_struct("AuthRejection")
                .field("not_configured", guard)
                .finish(),
        }
    }
}

impl fmt::Display for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            // Transparent: the core's message names the status and the reason.
            Inner::Core(rejection) => rejection.fmt(f),
            Inner::NotConfigured { guard } => write!(
                f,
                "the {guard} guard found no authenticator: attach endpoint_auth_rocket::BasicAuth::new(authenticator) to the rocket"
            ),
        }
    }
}

impl std::error::Error for AuthRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.inner {
            Inner::Core(rejection) => rejection.source(),
            Inner::NotConfigured { .. } => None,
        }
    }
}

impl<'r> Responder<'r, 'static> for AuthRejection {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        match self.inner {
            Inner::Core(rejection) => Ok(rejection_response(&rejection)),
            // rocket's 500 catcher answers a configuration mistake.
            Inner::NotConfigured { .. } => Err(Status::InternalServerError),
        }
    }
}

/// The rocket status of a core rejection, translated (no status is chosen here).
pub(crate) fn status_of(rejection: &Rejection) -> Status {
    Status::new(rejection.status().as_u16())
}

/// The core's response for `rejection` as a rocket response: its status, every header it lists
/// (in order, repeated names kept) and its body.
pub(crate) fn rejection_response(rejection: &Rejection) -> Response<'static> {
    let RejectionResponse {
        status,
        headers,
        body,
    } = rejection.response();
    let mut response = Response::build();
    response.status(Status::new(status.as_u16()));
    for (name, value) in headers {
        // rocket keeps header values as text. The core's are ASCII (a realm may add UTF-8), so
        // the lossy conversion never changes a byte.
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        response.raw_header_adjoin(name.as_str().to_owned(), value);
    }
    response.sized_body(body.len(), Cursor::new(body));
    response.finalize()
}

#[cfg(test)]
mod tests {
    use endpoint_auth::{Authenticator, Rejection};

    use super::*;

    /// What rocket will send, as (status, lower-cased headers in order, body).
    async fn rocket_parts(rejection: &Rejection) -> (u16, Vec<(String, String)>, String) {
        let mut response = rejection_response(rejection);
        let headers = response
            .headers()
            .iter()
            .map(|header| {
                (
                    header.name().as_str().to_lowercase(),
                    header.value().to_owned(),
                )
            })
            .collect();
        let body = response.body_mut().to_string().await.expect("a text body");
        (response.status().code, headers, body)
    }

    /// What the core says, in the same shape.
    fn core_parts(rejection: &Rejection) -> (u16, Vec<(String, String)>, String) {
        let response: endpoint_auth::http::Response<String> = rejection.into_http_response();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = value.to_str().expect("ASCII header values");
                (name.as_str().to_owned(), value.to_owned())
            })
            .collect();
        (response.status().as_u16(), headers, response.into_body())
    }

    #[rocket::async_test]
    async fn every_kind_of_rejection_converts_byte_for_byte() {
        let authenticator = Authenticator::credentials_only(r#"a "quoted" \ realm"#).unwrap();
        let malformed = authenticator
            .require_credentials([&b"Basic !!!"[..]])
            .unwrap_err();
        // The core's own 503: authenticate_users on an authenticator without a users store.
        let no_store = authenticator
            .authenticate_user(
                [&b"Basic dTpw"[..]],
                endpoint_auth::ClientAddress::UNKNOWN,
                endpoint_auth::Requirements::new(),
            )
            .await
            .unwrap_err();
        assert_eq!(no_store.status().as_u16(), 503);
        let rejections = [malformed, authenticator.challenge(), no_store];
        for rejection in &rejections {
            assert_eq!(rocket_parts(rejection).await, core_parts(rejection));
            assert_eq!(
                AuthRejection::from(rejection.clone()).status().code,
                rejection.status().as_u16()
            );
        }
    }

    #[test]
    fn not_configured_is_a_500_without_a_core_rejection() {
        let rejection = AuthRejection::not_configured("AuthUser");
        assert_eq!(rejection.status(), Status::InternalServerError);
        assert!(rejection.rejection().is_none());
        assert!(rejection.to_string().contains("BasicAuth::new"));
    }
}

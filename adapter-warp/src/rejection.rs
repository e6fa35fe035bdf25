//! [`AuthRejection`]: a refusal of the core as a warp rejection and as a reply; [`recover`],
//! which answers it; [`challenge`], the one-call 401 of a `require_credentials` handler.
//!
//! Every response built here is the core's [`Rejection::response`]: this module chooses no
//! status, header or body of its own.
//!
//! ```
//! use endpoint_auth_warp::endpoint_auth::Authenticator;
//! use endpoint_auth_warp::{challenge, recover};
//! use warp::Filter;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let auth = Authenticator::credentials_only("example")?;
//!
//! // A handler refusing on its own: the same 401 + challenge as every other failure.
//! let refusing = warp::path!("never")
//!     .and_then(move || {
//!         let refusal = challenge(&auth);
//!         async move { Err::<&str, _>(warp::reject::custom(refusal)) }
//!     })
//!     .recover(recover);
//!
//! let response = warp::test::request().path("/never").reply(&refusing).await;
//! assert_eq!(response.status(), 401);
//! assert!(response.headers().contains_key("www-authenticate"));
//! # Ok(())
//! # }
//! ```

use std::error::Error;
use std::fmt;

use endpoint_auth::{Authenticator, Rejection};
use warp::http::StatusCode;

/// A request refused by endpoint-auth: the 401 with the `Basic` challenge, or a 503 / 429 with
/// `Retry-After`, exactly as the core's [`Rejection::response`] has it.
///
/// The filters of this crate reject with it (wrapped in a [`warp::Rejection`]); answer it with
/// [`recover`]. It is also a [`warp::Reply`], so a handler can return it directly, e.g. as the
/// `Err` of a `Result<impl Reply, AuthRejection>` (see [`challenge`]).
///
/// `Display` gives the core's reason, for logs (`401 Unauthorized (wrong password)`). `Debug`
/// gives only the status: warp prints an unhandled rejection's `Debug` into a 500 response, and
/// the reason must never reach a client (it would tell whether an account exists).
#[derive(Clone)]
pub struct AuthRejection {
    rejection: Rejection,
}

impl AuthRejection {
    /// The core's rejection, with its [`kind`](Rejection::kind) and reason.
    pub fn rejection(&self) -> &Rejection {
        &self.rejection
    }

    /// The core's rejection, by value.
    pub fn into_rejection(self) -> Rejection {
        self.rejection
    }

    /// The status this refusal answers with (401, 503 or 429).
    pub fn status(&self) -> StatusCode {
        self.rejection.status()
    }

    /// The response to send: [`Rejection::into_http_response`] with warp's body type.
    pub fn response(&self) -> warp::reply::Response {
        self.rejection.into_http_response()
    }
}

impl From<Rejection> for AuthRejection {
    fn from(rejection: Rejection) -> Self {
        Self { rejection }
    }
}

impl fmt::Debug for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthRejection")
            .field("status", &self.status().as_u16())
            .finish_non_exhaustive()
    }
}

impl fmt::Display for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.rejection.fmt(f)
    }
}

impl Error for AuthRejection {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.rejection.source()
    }
}

impl warp::reject::Reject for AuthRejection {}

impl warp::Reply for AuthRejection {
    fn into_response(self) -> warp::reply::Response {
        self.response()
    }
}

/// An exempt CORS preflight an authentication filter stepped aside for. Ranked above "not
/// found" when warp combines rejections, so a route of yours that answers preflights still takes
/// it first; where none does, [`recover`] answers it `204`.
#[derive(Debug)]
pub(crate) struct PassedPreflight;

impl warp::reject::Reject for PassedPreflight {}

/// Answers an [`AuthRejection`] with the core's response, and an exempt CORS preflight that no
/// route answered with `204 No Content` (no challenge, as in every adapter); passes every other
/// rejection on unchanged (so `.or()` keeps trying other routes, and your own `recover` still
/// sees them).
///
/// Close each protected route with it: `route.recover(endpoint_auth_warp::recover)`. The
/// refusal is then answered where it happens, and no later `.or()` branch can take the request
/// instead (a catch-all fallback or a static-file route would otherwise answer a failed login
/// with its own 200).
///
/// It also works once on the combined routes, where warp collects every branch's rejection:
/// it finds the refusal among them, so a 404 or 405 of another branch never wins over it. That
/// is correct as long as no later branch accepts requests the protected routes refuse.
///
/// With a recovery function of your own, run this one first, or look the refusal up yourself
/// with `rejection.find::<AuthRejection>()` and answer [`AuthRejection::response`].
///
/// ```
/// use endpoint_auth_warp::recover;
/// use warp::Filter;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// // Not an authentication rejection: passed on, and warp answers its usual 404.
/// let route = warp::path!("here").map(|| "here").recover(recover);
/// let response = warp::test::request().path("/elsewhere").reply(&route).await;
/// assert_eq!(response.status(), 404);
/// # }
/// ```
///
/// # Errors
/// The rejection it was given, when it holds no [`AuthRejection`].
pub async fn recover(rejection: warp::Rejection) -> Result<warp::reply::Response, warp::Rejection> {
    if let Some(refusal) = rejection.find::<AuthRejection>() {
        return Ok(refusal.response());
    }
    if rejection.find::<PassedPreflight>().is_some() {
        let mut passed = warp::reply::Response::default();
        *passed.status_mut() = endpoint_auth::credentials::EXEMPT_PREFLIGHT_STATUS;
        return Ok(passed);
    }
    Err(rejection)
}

/// The one call a `require_credentials` handler makes to refuse the credentials it was given:
/// the same 401 + challenge as every other failure ([`Authenticator::challenge`]).
///
/// Return it as a reply (it is one), e.g. as the `Err` of a `Result<impl Reply, AuthRejection>`,
/// or reject with it: `Err(warp::reject::custom(challenge(&auth)))`.
///
/// ```
/// use endpoint_auth_warp::endpoint_auth::{Authenticator, Credentials};
/// use endpoint_auth_warp::{challenge, recover, require_credentials};
/// use warp::Filter;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let auth = Authenticator::credentials_only("admin area")?;
/// let checker = auth.clone();
/// let admin = warp::path!("admin")
///     .and(require_credentials(&auth))
///     .map(move |credentials: Credentials| {
///         if credentials.matches("admin", "correct horse battery staple") {
///             Ok("welcome")
///         } else {
///             Err(challenge(&checker))
///         }
///     })
///     .recover(recover);
///
/// let wrong = Credentials::new("admin", "guess")?.to_header_value();
/// let response = warp::test::request()
///     .path("/admin")
///     .header("authorization", wrong)
///     .reply(&admin)
///     .await;
/// assert_eq!(response.status(), 401);
/// # Ok(())
/// # }
/// ```
#[must_use = "return the refusal as the reply, or reject with it"]
pub fn challenge<U>(authenticator: &Authenticator<U>) -> AuthRejection
where
    U: Clone + Send + Sync + 'static,
{
    authenticator.challenge().into()
}

#[cfg(test)]
mod tests {
    use endpoint_auth::rejection::{FailureReason, UnavailableReason, UNAUTHORIZED_BODY};

    use super::*;

    fn auth() -> Authenticator<endpoint_auth::NoUser> {
        Authenticator::credentials_only("tests").unwrap()
    }

    #[test]
    fn debug_shows_the_status_but_not_the_reason() {
        let refusal = challenge(&auth());
        let shown = format!("{refusal:?}");
        assert_eq!(shown, "AuthRejection { status: 401, .. }");
        assert!(refusal.to_string().contains("refused by the handler"));
    }

    #[test]
    fn response_is_the_cores() {
        let refusal = challenge(&auth());
        let ours = refusal.response();
        let core: warp::http::Response<&'static str> = refusal.rejection().into_http_response();
        assert_eq!(ours.status(), core.status());
        assert_eq!(ours.headers(), core.headers());
        assert_eq!(*core.body(), UNAUTHORIZED_BODY);
        assert_eq!(refusal.status(), core.status());
    }

    #[test]
    fn keeps_the_core_rejection() {
        let refusal = challenge(&auth());
        assert_eq!(
            refusal.rejection().failure_reason(),
            Some(&FailureReason::RefusedByHandler)
        );
        let core = refusal.into_rejection();
        assert!(AuthRejection::from(core).source().is_none());
    }

    #[tokio::test]
    async fn recover_answers_only_auth_rejections() {
        let recovered = recover(warp::reject::custom(challenge(&auth()))).await;
        assert_eq!(
            recovered.map(|r| r.status()).ok(),
            Some(auth().challenge().status())
        );
        let passed_on = recover(warp::reject::not_found()).await;
        assert!(passed_on.is_err_and(|rejection| rejection.is_not_found()));
    }

    #[tokio::test]
    async fn unavailable_display_names_the_reason() {
        // The core's own 503: authenticate_users on an authenticator without a users store.
        let rejection = auth()
            .authenticate_user(
                [&b"Basic dTpw"[..]],
                endpoint_auth::ClientAddress::UNKNOWN,
                endpoint_auth::Requirements::new(),
            )
            .await
            .unwrap_err();
        assert!(matches!(
            rejection.kind(),
            endpoint_auth::rejection::RejectionKind::Unavailable {
                reason: UnavailableReason::NoUserStore,
                ..
            }
        ));
        let refusal = AuthRejection::from(rejection);
        assert!(refusal.to_string().contains("without a users store"));
        assert!(!format!("{refusal:?}").contains("store"));
    }
}

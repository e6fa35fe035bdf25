//! The request guards: [`AuthUser`] and [`ConfirmedUser`] (authenticate_users),
//! [`BasicCredentials`] (require_credentials), and [`Optional`] for endpoints that also serve
//! anonymous requests.
//!
//! ```
//! use endpoint_auth_rocket::{AuthUser, BasicCredentials, ConfirmedUser, Optional};
//! use rocket::get;
//!
//! #[get("/protected")]
//! fn protected(user: AuthUser) -> String {
//!     format!("Authenticated {}", user.email)
//! }
//!
//! #[get("/billing")]
//! fn billing(user: ConfirmedUser) -> String {
//!     format!("Invoices of {}", user.email)
//! }
//!
//! #[get("/greeting")]
//! fn greeting(user: Optional<AuthUser>) -> String {
//!     match user.0 {
//!         Some(user) => format!("Hello, {}", user.email),
//!         None => "Hello, stranger".to_owned(),
//!     }
//! }
//!
//! #[get("/echo")]
//! fn echo(credentials: BasicCredentials) -> String {
//!     format!("You sent {}", credentials.username())
//! }
//! ```

use std::any::type_name;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use endpoint_auth::http::header::{ACCESS_CONTROL_REQUEST_METHOD, AUTHORIZATION};
use endpoint_auth::{Authenticator, ClientAddress, Credentials, Rejection, Requirements, User};
use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest};
use rocket::{Ignite, Request, Rocket, Sentinel};

use crate::fairing::{
    abort_unless_managed, CredentialsAuthority, CredentialsGate, ForwardedPreflight, Managed, Stash,
};
use crate::rejection::{status_of, AuthRejection};

/// `authenticate_users`: the stored user whose credentials the request carries (Anvil's
/// `request.user`). `U` is the user type of the [`Authenticator`](endpoint_auth::Authenticator)
/// given to [`BasicAuth`](crate::BasicAuth); by default the core's [`User`].
///
/// The handler runs only for an enabled, unlocked user whose password verifies. Otherwise the
/// guard fails with an [`AuthRejection`] and the request is answered with the core's response:
/// `401` with the challenge for every failure reason alike, `503` + `Retry-After` when the users
/// store or the password verifier cannot answer.
///
/// Dereferences to `U`; the field is public, and [`into_inner`](Self::into_inner) moves it out.
///
/// The core runs once per request: a second `AuthUser<U>` on the same route (or an
/// [`Optional`] one) reuses the outcome from rocket's request-local cache. [`ConfirmedUser`] asks
/// the core with other requirements and is cached apart: give a route one of the two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser<U = User>(pub U);

/// `authenticate_users` with a confirmed email required: as [`AuthUser`], but a user whose email
/// is not confirmed gets the same `401` as a wrong password.
///
/// Use it instead of [`AuthUser`] on the routes that need it. A route holding both asks the core
/// twice (once per requirements), so a wrong password there would count twice towards the
/// lockout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmedUser<U = User>(pub U);

/// `require_credentials`: the username and password the request carries (Anvil's
/// `request.username` and `request.password`). Checking them is the handler's job; when it
/// refuses them, [`challenge`](Self::challenge) answers in one call with the same `401` and
/// challenge as every other failure.
///
/// A request without well-formed Basic credentials never reaches the handler: it gets the `401`.
///
/// Dereferences to [`Credentials`]: [`username`](Credentials::username),
/// [`password`](Credentials::password), and the constant-time [`matches`](Credentials::matches)
/// for comparing with a fixed pair.
///
/// ```
/// use endpoint_auth_rocket::{AuthRejection, BasicCredentials};
/// use rocket::get;
///
/// #[get("/deploy")]
/// fn deploy(credentials: BasicCredentials) -> Result<String, AuthRejection> {
///     if !credentials.matches("ci", "s3cret-token") {
///         return Err(credentials.challenge());
///     }
///     Ok(format!("deploying for {}", credentials.username()))
/// }
/// ```
///
/// It needs no user type: with no users store at all, attach a
/// `BasicAuth::new(Authenticator::credentials_only(realm)?)`.
pub struct BasicCredentials {
    credentials: Credentials,
    authority: Arc<dyn CredentialsAuthority>,
}

/// The optional form of a guard, for endpoints that also serve anonymous requests: `None` when
/// the request carries no `Authorization` field (the core is not asked), the guard's value when
/// the credentials are accepted, and the guard's refusal otherwise.
///
/// | request | `Optional<AuthUser>` | rocket's `Option<AuthUser>` |
/// |---|---|---|
/// | no `Authorization` field | `None` | `None` |
/// | accepted credentials | `Some(user)` | `Some(user)` |
/// | wrong password, malformed header, … | `401` + challenge | `None` |
/// | users store down, verifier busy | `503` + `Retry-After` | `None` |
///
/// So a client that tried to log in learns that it failed, and an outage is never served as an
/// anonymous `200`. rocket implements `FromRequest` for every `Option<G>` itself, turning every
/// failure into `None`; that is why this wrapper exists. For full control take
/// `Result<AuthUser, AuthRejection>` instead and return the [`AuthRejection`] (a responder)
/// where you want the core's answer.
///
/// Works with [`AuthUser`], [`ConfirmedUser`] and [`BasicCredentials`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Optional<G>(pub Option<G>);

impl<U> AuthUser<U> {
    /// Unwraps the user.
    pub fn into_inner(self) -> U {
        self.0
    }
}

impl<U> Deref for AuthUser<U> {
    type Target = U;

    fn deref(&self) -> &U {
        &self.0
    }
}

impl<U> DerefMut for AuthUser<U> {
    fn deref_mut(&mut self) -> &mut U {
        &mut self.0
    }
}

impl<U> ConfirmedUser<U> {
    /// Unwraps the user.
    pub fn into_inner(self) -> U {
        self.0
    }
}

impl<U> Deref for ConfirmedUser<U> {
    type Target = U;

    fn deref(&self) -> &U {
        &self.0
    }
}

impl<U> DerefMut for ConfirmedUser<U> {
    fn deref_mut(&mut self) -> &mut U {
        &mut self.0
    }
}

impl BasicCredentials {
    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Unwraps the credentials.
    pub fn into_credentials(self) -> Credentials {
        self.credentials
    }

    /// The rejection that refuses these credentials: the same `401` and `Basic` challenge as every
    /// other failure (SPEC §2, §3), recorded as "refused by the handler" for the audit hook.
    /// Return it from a handler whose error type is [`AuthRejection`].
    #[must_use = "return the rejection from the handler, or the request is not refused"]
    pub fn challenge(&self) -> AuthRejection {
        AuthRejection::from(self.authority.challenge())
    }
}

impl Deref for BasicCredentials {
    type Target = Credentials;

    fn deref(&self) -> &Credentials {
        &self.credentials
    }
}

impl fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Credentials`' own Debug redacts the password.
        f.debug_tuple("BasicCredentials")
            .field(&self.credentials)
            .finish()
    }
}

impl<G> Optional<G> {
    /// Unwraps the guard's value, if the request carried credentials.
    pub fn into_inner(self) -> Option<G> {
        self.0
    }
}

/// What a guard found, before it becomes a rocket outcome.
enum Resolution<G> {
    /// Authenticated: run the handler with this.
    Granted(G),
    /// The core refused the request.
    Rejected(Rejection),
    /// A CORS preflight the authenticator lets through.
    Exempt,
    /// No fairing serves this guard.
    NotConfigured,
}

impl<G> Resolution<G> {
    fn map<H>(self, f: impl FnOnce(G) -> H) -> Resolution<H> {
        match self {
            Resolution::Granted(value) => Resolution::Granted(f(value)),
            Resolution::Rejected(rejection) => Resolution::Rejected(rejection),
            Resolution::Exempt => Resolution::Exempt,
            Resolution::NotConfigured => Resolution::NotConfigured,
        }
    }

    /// The strict guard's outcome. A refusal is stashed for the fairing, which puts the core's
    /// response in place of whatever catcher rocket runs for it.
    fn into_outcome(
        self,
        request: &Request<'_>,
        guard: &'static str,
    ) -> request::Outcome<G, AuthRejection> {
        match self {
            Resolution::Granted(value) => Outcome::Success(value),
            // Pass the preflight on to whatever answers it (a CORS route or fairing); where
            // nothing does, the fairing answers it `204` as the other adapters do.
            Resolution::Exempt => {
                ForwardedPreflight::mark(request);
                Outcome::Forward(Status::NotFound)
            }
            Resolution::Rejected(rejection) => {
                let status = status_of(&rejection);
                Stash::put(request, rejection.clone());
                Outcome::Error((status, AuthRejection::from(rejection)))
            }
            Resolution::NotConfigured => {
                let rejection = AuthRejection::not_configured(guard);
                log::error!("{rejection}");
                Outcome::Error((rejection.status(), rejection))
            }
        }
    }
}

/// [`Optional`]'s outcome: `None` for a request without an `Authorization` field (without
/// asking the core, so an anonymous visit is no refusal in the audit log) or an exempt
/// preflight; otherwise the strict guard's outcome.
async fn optional_outcome<G>(
    request: &Request<'_>,
    guard: &'static str,
    resolve: impl Future<Output = Resolution<G>>,
) -> request::Outcome<Optional<G>, AuthRejection> {
    if endpoint_auth::credentials::is_anonymous(authorization(request)) {
        return Outcome::Success(Optional(None));
    }
    match resolve.await {
        Resolution::Exempt => Outcome::Success(Optional(None)),
        other => other
            .into_outcome(request, guard)
            .map(|value| Optional(Some(value))),
    }
}

/// Every `Authorization` field value, as bytes, in order: duplicates are the core's to refuse.
fn authorization<'a>(request: &'a Request<'_>) -> impl Iterator<Item = &'a [u8]> {
    request
        .headers()
        .get(AUTHORIZATION.as_str())
        .map(str::as_bytes)
}

/// The client the core admits the request for: the socket peer (never rocket's `client_ip()`,
/// which believes a header by default) and the forwarding fields; the core decides which to
/// trust.
fn client<U: Clone + Send + Sync + 'static>(
    authenticator: &Authenticator<U>,
    request: &Request<'_>,
) -> ClientAddress {
    let fields = |name: &'static str| request.headers().get(name).map(str::as_bytes);
    authenticator.client_address(
        request.remote().map(|peer| peer.ip()),
        fields("Forwarded"),
        fields("X-Forwarded-For"),
    )
}

/// The request line and header the core's preflight exemption looks at.
fn preflight_facts<'a>(request: &'a Request<'_>) -> (&'a [u8], bool) {
    (
        request.method().as_str().as_bytes(),
        request
            .headers()
            .contains(ACCESS_CONTROL_REQUEST_METHOD.as_str()),
    )
}

/// The requirements a user guard asks the core for; also the key of its cache slot.
trait Requirement: Send + Sync + 'static {
    const REQUIREMENTS: Requirements;
}

/// [`AuthUser`]'s requirements.
enum AnyEmail {}

impl Requirement for AnyEmail {
    const REQUIREMENTS: Requirements = Requirements::new();
}

/// [`ConfirmedUser`]'s requirements.
enum ConfirmedEmail {}

impl Requirement for ConfirmedEmail {
    const REQUIREMENTS: Requirements = Requirements::new().confirmed_email(true);
}

/// One request's authenticate_users outcome for the user type `U` and requirements `R`.
struct CachedUser<U, R> {
    result: Result<U, Rejection>,
    requirement: PhantomData<fn() -> R>,
}

/// Runs the core's authenticate_users at most once per request for `(U, R)`.
async fn resolve_user<U, R>(request: &Request<'_>) -> Resolution<U>
where
    U: Clone + Send + Sync + 'static,
    R: Requirement,
{
    let Some(Managed(authenticator)) = request.rocket().state::<Managed<U>>() else {
        return Resolution::NotConfigured;
    };
    let (method, has_request_method) = preflight_facts(request);
    if authenticator.is_exempt_preflight(method, has_request_method) {
        return Resolution::Exempt;
    }
    let cached = request
        .local_cache_async(async {
            let outcome = authenticator
                .authenticate_user(
                    authorization(request),
                    client(authenticator, request),
                    R::REQUIREMENTS,
                )
                .await;
            CachedUser::<U, R> {
                result: outcome,
                requirement: PhantomData,
            }
        })
        .await;
    match &cached.result {
        Ok(user) => Resolution::Granted(user.clone()),
        Err(rejection) => Resolution::Rejected(rejection.clone()),
    }
}

/// One request's require_credentials outcome.
struct CachedCredentials(Result<Credentials, Rejection>);

/// Runs the core's require_credentials at most once per request.
fn resolve_credentials(request: &Request<'_>) -> Resolution<BasicCredentials> {
    let Some(CredentialsGate(authority)) = request.rocket().state::<CredentialsGate>() else {
        return Resolution::NotConfigured;
    };
    let (method, has_request_method) = preflight_facts(request);
    if authority.is_exempt_preflight(method, has_request_method) {
        return Resolution::Exempt;
    }
    let cached = request.local_cache(|| {
        CachedCredentials(authority.require_credentials(&mut authorization(request)))
    });
    match &cached.0 {
        Ok(credentials) => Resolution::Granted(BasicCredentials {
            credentials: credentials.clone(),
            authority: authority.clone(),
        }),
        Err(rejection) => Resolution::Rejected(rejection.clone()),
    }
}

const AUTH_USER: &str = "AuthUser";
const CONFIRMED_USER: &str = "ConfirmedUser";
const BASIC_CREDENTIALS: &str = "BasicCredentials";

#[rocket::async_trait]
impl<'r, U: Clone + Send + Sync + 'static> FromRequest<'r> for AuthUser<U> {
    type Error = AuthRejection;

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, AuthRejection> {
        resolve_user::<U, AnyEmail>(request)
            .await
            .map(AuthUser)
            .into_outcome(request, AUTH_USER)
    }
}

#[rocket::async_trait]
impl<'r, U: Clone + Send + Sync + 'static> FromRequest<'r> for ConfirmedUser<U> {
    type Error = AuthRejection;

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, AuthRejection> {
        resolve_user::<U, ConfirmedEmail>(request)
            .await
            .map(ConfirmedUser)
            .into_outcome(request, CONFIRMED_USER)
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for BasicCredentials {
    type Error = AuthRejection;

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, AuthRejection> {
        resolve_credentials(request).into_outcome(request, BASIC_CREDENTIALS)
    }
}

#[rocket::async_trait]
impl<'r, U: Clone + Send + Sync + 'static> FromRequest<'r> for Optional<AuthUser<U>> {
    type Error = AuthRejection;

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, AuthRejection> {
        let resolve = async { resolve_user::<U, AnyEmail>(request).await.map(AuthUser) };
        optional_outcome(request, AUTH_USER, resolve).await
    }
}

#[rocket::async_trait]
impl<'r, U: Clone + Send + Sync + 'static> FromRequest<'r> for Optional<ConfirmedUser<U>> {
    type Error = AuthRejection;

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, AuthRejection> {
        let resolve = async {
            resolve_user::<U, ConfirmedEmail>(request)
                .await
                .map(ConfirmedUser)
        };
        optional_outcome(request, CONFIRMED_USER, resolve).await
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Optional<BasicCredentials> {
    type Error = AuthRejection;

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, AuthRejection> {
        let resolve = async { resolve_credentials(request) };
        optional_outcome(request, BASIC_CREDENTIALS, resolve).await
    }
}

/// The fairing's name for a user type, in launch errors.
fn fairing_for<U>() -> String {
    format!("BasicAuth<{}>", type_name::<U>())
}

impl<U: Send + Sync + 'static> Sentinel for AuthUser<U> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        abort_unless_managed::<Managed<U>>(rocket, AUTH_USER, &fairing_for::<U>())
    }
}

impl<U: Send + Sync + 'static> Sentinel for ConfirmedUser<U> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        abort_unless_managed::<Managed<U>>(rocket, CONFIRMED_USER, &fairing_for::<U>())
    }
}

impl Sentinel for BasicCredentials {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        abort_unless_managed::<CredentialsGate>(rocket, BASIC_CREDENTIALS, "a BasicAuth")
    }
}

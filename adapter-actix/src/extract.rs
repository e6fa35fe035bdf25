//! The extractors: [`AuthUser`] and [`ConfirmedUser`] (`authenticate_users`),
//! [`BasicCredentials`] (`require_credentials`), and [`Optional`] for routes that also serve
//! anonymous callers.
//!
//! Each finds the [`Authenticator`] in the app data, asks the core, and keeps the core's
//! decision in the request's extensions, so that two extractors (or the
//! [`AuthenticateUsers`](crate::AuthenticateUsers) middleware and an extractor) cost one store
//! read and one password verification per request.

use std::fmt;
use std::future::{ready, Future};
use std::ops::{Deref, DerefMut};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use endpoint_auth::{Authenticator, Credentials, Requirements, User};

use crate::cache;
use crate::rejection::AuthRejection;

/// The future of every extractor here: the core's decision (or the one already made for this
/// request), then the extractor or its [`AuthRejection`].
pub type ExtractFuture<T> = Pin<Box<dyn Future<Output = Result<T, AuthRejection>>>>;

/// `authenticate_users`: the stored user whose credentials the request carries (Anvil's
/// `request.user`).
///
/// The user must exist, be enabled and not locked out, and the password must verify. Anything
/// else answers with the core's response ([`AuthRejection`]) and the handler does not run.
///
/// A CORS preflight that the authenticator exempts (built with
/// [`cors_preflight(true)`](endpoint_auth::AuthenticatorBuilder::cors_preflight)) has no user to
/// give: the extractor answers it itself with `204 No Content`, no challenge, and the handler
/// does not run. The same holds for [`ConfirmedUser`] and [`BasicCredentials`]; [`Optional`]
/// gives `None` instead.
///
/// `U` is the application's user type ([`User`] unless the store hands out another). The app
/// data must hold an `Authenticator<U>`, as `web::Data<Authenticator<U>>` or as a plain
/// `Authenticator<U>` (see [the crate docs](crate#finding-the-authenticator)).
///
/// ```
/// use endpoint_auth_actix::AuthUser;
///
/// async fn protected(AuthUser(user): AuthUser) -> String {
///     format!("Authenticated {}", user.email)
/// }
/// ```
///
/// For a route that serves anonymous callers too, take [`Optional<AuthUser<U>>`](Optional),
/// **not** `Option<AuthUser<U>>`: actix's `Option` turns every refusal into `None`, so a wrong
/// password (or a store outage) would be served as anonymous.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthUser<U = User>(pub U);

/// `authenticate_users` on a route that also requires a confirmed email address: like
/// [`AuthUser`], and an unconfirmed user gets the same 401 as a wrong password.
///
/// ```
/// use endpoint_auth_actix::ConfirmedUser;
///
/// async fn billing(ConfirmedUser(user): ConfirmedUser) -> String {
///     format!("Invoices of {}", user.email)
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfirmedUser<U = User>(pub U);

/// `require_credentials`: the username and password the request carries (Anvil's
/// `request.username` and `request.password`). Checking them is the handler's job; to refuse
/// them with the same 401 and challenge as every other failure, return
/// [`challenge`](Self::challenge).
///
/// It dereferences to [`Credentials`]: `username()`, `password()`, and
/// [`matches`](Credentials::matches) for a constant-time comparison with a fixed pair.
///
/// ```
/// use endpoint_auth_actix::{AuthRejection, BasicCredentials};
///
/// async fn deploy(credentials: BasicCredentials) -> Result<String, AuthRejection> {
///     if !credentials.matches("ci", "s3cret") {
///         return Err(credentials.challenge());
///     }
///     Ok(format!("deploying for {}", credentials.username()))
/// }
/// ```
///
/// `U` only names the app data's `Authenticator<U>` (used for the realm, the header-reading
/// options and the audit hook). For an app with no users store, put an
/// [`Authenticator::credentials_only`] in the app data and extract `BasicCredentials<NoUser>`
/// ([`NoUser`](endpoint_auth::NoUser)).
pub struct BasicCredentials<U = User> {
    credentials: Credentials,
    authenticator: Authenticator<U>,
}

/// The optional form of an extractor here (`Optional<AuthUser<U>>`,
/// `Optional<ConfirmedUser<U>>`, `Optional<BasicCredentials<U>>`): `None` when the request has
/// **no** `Authorization` field (the core's [`is_anonymous`](endpoint_auth::credentials::is_anonymous)), and
/// the core is not asked then. A request that carries one is extracted as usual, and a refusal
/// is still answered: 401 for a wrong password or a malformed header (a mistyped password is
/// never served as anonymous), 503 while the store is down. An exempt CORS preflight is `None`
/// too, and the handler runs.
///
/// actix's own `Option<T>` cannot do this: it turns every error into `None`.
///
/// ```
/// use endpoint_auth_actix::{AuthUser, Optional};
///
/// async fn home(user: Optional<AuthUser>) -> String {
///     match user.into_inner() {
///         Some(AuthUser(user)) => format!("Welcome back, {}", user.email),
///         None => "Welcome, stranger".to_owned(),
///     }
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Optional<T>(pub Option<T>);

impl<T> Optional<T> {
    /// Unwraps the option.
    pub fn into_inner(self) -> Option<T> {
        self.0
    }
}

impl<T> Deref for Optional<T> {
    type Target = Option<T>;

    fn deref(&self) -> &Option<T> {
        &self.0
    }
}

impl<T> DerefMut for Optional<T> {
    fn deref_mut(&mut self) -> &mut Option<T> {
        &mut self.0
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

impl<U: Clone + Send + Sync + 'static> BasicCredentials<U> {
    /// The rejection that refuses these credentials: the same 401 and `Basic` challenge as every
    /// other failure, recorded as "refused by the handler" for the audit hook.
    #[must_use = "return the rejection from the handler, or the request is not refused"]
    pub fn challenge(&self) -> AuthRejection {
        self.authenticator.challenge().into()
    }
}

impl<U> BasicCredentials<U> {
    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// Unwraps the credentials.
    pub fn into_credentials(self) -> Credentials {
        self.credentials
    }
}

impl<U> Deref for BasicCredentials<U> {
    type Target = Credentials;

    fn deref(&self) -> &Credentials {
        &self.credentials
    }
}

impl<U> Clone for BasicCredentials<U> {
    fn clone(&self) -> Self {
        Self {
            credentials: self.credentials.clone(),
            authenticator: self.authenticator.clone(),
        }
    }
}

impl<U> fmt::Debug for BasicCredentials<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Credentials`' own `Debug` redacts the password.
        f.debug_struct("BasicCredentials")
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

/// The user for `requirements`: the decision already made or being made for this request, or a
/// new one by the app data's authenticator.
fn user<U, T>(
    request: &HttpRequest,
    requirements: Requirements,
    wrap: fn(U) -> T,
) -> ExtractFuture<T>
where
    U: Clone + Send + Sync + 'static,
    T: 'static,
{
    if cache::is_exempt_preflight::<U>(request) {
        return Box::pin(ready(Err(AuthRejection::preflight())));
    }
    let decision = match cache::cached_user::<U>(request, requirements) {
        Some(decision) => decision,
        None => match cache::authenticator::<U>(request) {
            Some(authenticator) => cache::authenticate(request, &authenticator, requirements),
            None => return Box::pin(ready(Err(AuthRejection::not_configured::<U>()))),
        },
    };
    Box::pin(async move { Ok(wrap(decision.await?)) })
}

impl<U: Clone + Send + Sync + 'static> FromRequest for AuthUser<U> {
    type Error = AuthRejection;
    type Future = ExtractFuture<Self>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        user(request, Requirements::new(), Self)
    }
}

impl<U: Clone + Send + Sync + 'static> FromRequest for ConfirmedUser<U> {
    type Error = AuthRejection;
    type Future = ExtractFuture<Self>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        user(request, Requirements::new().confirmed_email(true), Self)
    }
}

impl<U: Clone + Send + Sync + 'static> FromRequest for BasicCredentials<U> {
    type Error = AuthRejection;
    type Future = ExtractFuture<Self>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        if cache::is_exempt_preflight::<U>(request) {
            return Box::pin(ready(Err(AuthRejection::preflight())));
        }
        let extracted = match cache::authenticator::<U>(request) {
            None => Err(AuthRejection::not_configured::<U>()),
            Some(authenticator) => cache::credentials(request, &authenticator)
                .map(|credentials| Self {
                    credentials,
                    authenticator,
                })
                .map_err(AuthRejection::from),
        };
        Box::pin(ready(extracted))
    }
}

impl<T> FromRequest for Optional<T>
where
    T: FromRequest<Error = AuthRejection> + 'static,
    T::Future: 'static,
{
    type Error = AuthRejection;
    type Future = ExtractFuture<Self>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if endpoint_auth::credentials::is_anonymous(cache::authorization(request)) {
            return Box::pin(ready(Ok(Self(None))));
        }
        let extracting = T::from_request(request, payload);
        Box::pin(async move {
            match extracting.await {
                Ok(extracted) => Ok(Self(Some(extracted))),
                // Serving a preflight as anonymous lets the handler answer it.
                Err(rejection) if rejection.is_preflight() => Ok(Self(None)),
                Err(rejection) => Err(rejection),
            }
        })
    }
}

#[cfg(test)]
mod tests;

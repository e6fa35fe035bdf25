//! The extractors: [`AuthUser`] and [`ConfirmedUser`] (`authenticate_users`) and
//! [`BasicCredentials`] (`require_credentials`).
//!
//! Each finds the [`Authenticator`] through the router's state ([`FromRef`]), asks the core, and
//! keeps the core's decision in the request's extensions, so that two extractors (or the
//! [`AuthenticateUsersLayer`](crate::AuthenticateUsersLayer) and an extractor) cost one store
//! read and one password verification per request.

use std::fmt;
use std::ops::{Deref, DerefMut};

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderValue;
use endpoint_auth::{Authenticator, Credentials, Requirements, User};

use crate::cache;
use crate::rejection::AuthRejection;

/// `authenticate_users`: the stored user whose credentials the request carries (Anvil's
/// `request.user`).
///
/// The user must exist, be enabled and not locked out, and the password must verify. Anything
/// else answers with the core's response ([`AuthRejection`]) and the handler does not run.
///
/// A CORS preflight that the authenticator exempts (built with
/// [`cors_preflight(true)`](endpoint_auth::AuthenticatorBuilder::cors_preflight)) has no user to
/// give: the extractor answers it itself with `204 No Content`, no challenge, and the handler
/// does not run. The same holds for [`ConfirmedUser`] and [`BasicCredentials`].
///
/// `U` is the application's user type ([`User`] unless the store hands out another). The router's
/// state must provide an `Authenticator<U>`: it can *be* the state
/// (`.with_state(authenticator)`), or be part of it through [`FromRef`].
///
/// ```
/// use endpoint_auth_axum::AuthUser;
///
/// async fn protected(AuthUser(user): AuthUser) -> String {
///     format!("Authenticated {}", user.email)
/// }
/// ```
///
/// # `Option<AuthUser<U>>`
/// For routes that serve anonymous and logged-in callers alike: a request **without** an
/// `Authorization` field gets `None` and the core is not asked. A request **with** one is
/// authenticated as above, and a refusal is still answered (401 for a wrong password, so a
/// mistyped password is never silently served as anonymous; 503 while the store is down). An
/// exempt CORS preflight gets `None` too, and the handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthUser<U = User>(pub U);

/// `authenticate_users` on a route that also requires a confirmed email address: like
/// [`AuthUser`], and an unconfirmed user gets the same 401 as a wrong password.
///
/// `Option<ConfirmedUser<U>>` behaves as `Option<AuthUser<U>>` does.
///
/// ```
/// use endpoint_auth_axum::ConfirmedUser;
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
/// use endpoint_auth_axum::{AuthRejection, BasicCredentials};
///
/// async fn deploy(credentials: BasicCredentials) -> Result<String, AuthRejection> {
///     if !credentials.matches("ci", "s3cret") {
///         return Err(credentials.challenge());
///     }
///     Ok(format!("deploying for {}", credentials.username()))
/// }
/// ```
///
/// `U` only names the state's `Authenticator<U>` (used for the realm and the audit hook). For an
/// app with no users store, make the state an
/// [`Authenticator::credentials_only`] and extract `BasicCredentials<NoUser>`
/// ([`NoUser`](endpoint_auth::NoUser)).
///
/// # `Option<BasicCredentials<U>>`
/// `None` when the request has no `Authorization` field, or is an exempt CORS preflight; a
/// malformed one still gets the 401.
pub struct BasicCredentials<U = User> {
    credentials: Credentials,
    authenticator: Authenticator<U>,
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

/// The user for `requirements`, from the cache or the core; an exempt preflight is answered
/// instead.
async fn user<S, U>(
    parts: &mut Parts,
    state: &S,
    requirements: Requirements,
) -> Result<U, AuthRejection>
where
    U: Clone + Send + Sync + 'static,
    Authenticator<U>: FromRef<S>,
{
    let authenticator = Authenticator::<U>::from_ref(state);
    if is_exempt_preflight(parts, &authenticator) {
        return Err(AuthRejection::preflight());
    }
    Ok(cache::authenticate(parts, &authenticator, requirements).await?)
}

/// The core's decision whether the request is a CORS preflight to let through uncredentialed.
fn is_exempt_preflight<U>(parts: &Parts, authenticator: &Authenticator<U>) -> bool
where
    U: Clone + Send + Sync + 'static,
{
    authenticator.is_exempt_preflight_request(&parts.method, &parts.headers)
}

/// The optional forms ask the core whether the request is anonymous.
fn is_anonymous(parts: &Parts) -> bool {
    endpoint_auth::credentials::is_anonymous(
        parts
            .headers
            .get_all(AUTHORIZATION)
            .iter()
            .map(HeaderValue::as_bytes),
    )
}

impl<S, U> FromRequestParts<S> for AuthUser<U>
where
    S: Send + Sync,
    U: Clone + Send + Sync + 'static,
    Authenticator<U>: FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        user(parts, state, Requirements::new()).await.map(Self)
    }
}

impl<S, U> FromRequestParts<S> for ConfirmedUser<U>
where
    S: Send + Sync,
    U: Clone + Send + Sync + 'static,
    Authenticator<U>: FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        user(parts, state, Requirements::new().confirmed_email(true))
            .await
            .map(Self)
    }
}

impl<S, U> FromRequestParts<S> for BasicCredentials<U>
where
    S: Send + Sync,
    U: Clone + Send + Sync + 'static,
    Authenticator<U>: FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let authenticator = Authenticator::<U>::from_ref(state);
        if is_exempt_preflight(parts, &authenticator) {
            return Err(AuthRejection::preflight());
        }
        let credentials = cache::credentials(parts, &authenticator)?;
        Ok(Self {
            credentials,
            authenticator,
        })
    }
}

/// The optional form of each extractor: `None` for an anonymous request (the core's rule) or an
/// exempt preflight, the strict extractor's answer otherwise.
macro_rules! optional_extractor {
    ($($extractor:ident),*) => {$(
        impl<S, U> OptionalFromRequestParts<S> for $extractor<U>
        where
            S: Send + Sync,
            U: Clone + Send + Sync + 'static,
            Authenticator<U>: FromRef<S>,
        {
            type Rejection = AuthRejection;

            async fn from_request_parts(
                parts: &mut Parts,
                state: &S,
            ) -> Result<Option<Self>, Self::Rejection> {
                if is_anonymous(parts) {
                    return Ok(None);
                }
                match <Self as FromRequestParts<S>>::from_request_parts(parts, state).await {
                    Ok(extracted) => Ok(Some(extracted)),
                    // Serving a preflight as anonymous lets the handler answer it.
                    Err(rejection) if rejection.is_preflight() => Ok(None),
                    Err(rejection) => Err(rejection),
                }
            }
        }
    )*};
}

optional_extractor!(AuthUser, ConfirmedUser, BasicCredentials);

#[cfg(test)]
mod tests;

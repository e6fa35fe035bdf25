//! [`AuthenticateUsers`]: `authenticate_users` for a whole scope, resource or app.

use std::fmt;
use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::{Error, HttpMessage};
use endpoint_auth::{Authenticator, Requirements, User};

use crate::cache;
use crate::rejection::rejection_response;

/// Middleware that protects every request to what it wraps with `authenticate_users`.
///
/// For each request it:
/// 1. passes a CORS preflight through untouched when the core says it is exempt
///    ([`Authenticator::is_exempt_preflight`]: `OPTIONS` with `Access-Control-Request-Method`,
///    on an authenticator built with `cors_preflight(true)`): the route's `OPTIONS` handler
///    answers it, with no user in the extensions (an [`AuthUser`] extractor there answers it
///    `204` itself);
/// 2. otherwise asks the core for the user, with the middleware's [`Requirements`] (default:
///    none beyond a right password; see [`requirements`](Self::requirements));
/// 3. on success inserts the user (`U`) into the request's extensions and calls the wrapped
///    service: handlers take it with `web::ReqData<U>`. The decision is also kept for the
///    request, so an [`AuthUser`] (or, with the confirmed-email requirement, a
///    [`ConfirmedUser`]) extractor behind the middleware does not ask the core again;
/// 4. on a refusal answers the core's response itself (as
///    [`AuthRejection`](crate::AuthRejection) does) and never calls the wrapped service.
///
/// The middleware carries its own authenticator: the app data need not hold one, unless
/// extractors with other requirements (or [`BasicCredentials`](crate::BasicCredentials)) ask.
///
/// Wrap a `web::scope` or a `web::resource` to protect those routes; wrapping the whole `App`
/// also gives unknown paths a 401 instead of their 404.
///
/// ```
/// use actix_web::{web, App};
/// use endpoint_auth_actix::endpoint_auth::{Authenticator, Requirements, User};
/// use endpoint_auth_actix::AuthenticateUsers;
///
/// async fn dashboard(user: web::ReqData<User>) -> String {
///     format!("Hello {}", user.email)
/// }
///
/// # fn app(authenticator: Authenticator<User>) {
/// let app = App::new().service(
///     web::scope("/account")
///         .wrap(
///             AuthenticateUsers::new(authenticator)
///                 .requirements(Requirements::new().confirmed_email(true)),
///         )
///         .route("/dashboard", web::get().to(dashboard)),
/// );
/// # let _ = app;
/// # }
/// ```
///
/// [`AuthUser`]: crate::AuthUser
/// [`ConfirmedUser`]: crate::ConfirmedUser
pub struct AuthenticateUsers<U = User> {
    authenticator: Authenticator<U>,
    requirements: Requirements,
}

impl<U> AuthenticateUsers<U> {
    /// Middleware authenticating users with `authenticator` and no requirements beyond a right
    /// password.
    pub fn new(authenticator: Authenticator<U>) -> Self {
        Self {
            authenticator,
            requirements: Requirements::new(),
        }
    }

    /// What the user must satisfy besides a right password, e.g. a confirmed email:
    /// `Requirements::new().confirmed_email(true)`.
    pub fn requirements(mut self, requirements: Requirements) -> Self {
        self.requirements = requirements;
        self
    }
}

impl<U> Clone for AuthenticateUsers<U> {
    fn clone(&self) -> Self {
        Self {
            authenticator: self.authenticator.clone(),
            requirements: self.requirements,
        }
    }
}

impl<U> fmt::Debug for AuthenticateUsers<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthenticateUsers")
            .field("authenticator", &self.authenticator)
            .field("requirements", &self.requirements)
            .finish()
    }
}

impl<S, B, U> Transform<S, ServiceRequest> for AuthenticateUsers<U>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
    U: Clone + Send + Sync + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = AuthenticateUsersMiddleware<S, U>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(AuthenticateUsersMiddleware {
            service: Rc::new(service),
            authenticator: self.authenticator.clone(),
            requirements: self.requirements,
        }))
    }
}

/// The service [`AuthenticateUsers`] wraps around another; see there for what it does.
pub struct AuthenticateUsersMiddleware<S, U = User> {
    service: Rc<S>,
    authenticator: Authenticator<U>,
    requirements: Requirements,
}

impl<S, U> fmt::Debug for AuthenticateUsersMiddleware<S, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthenticateUsersMiddleware")
            .field("authenticator", &self.authenticator)
            .field("requirements", &self.requirements)
            .finish_non_exhaustive()
    }
}

impl<S, B, U> Service<ServiceRequest> for AuthenticateUsersMiddleware<S, U>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
    U: Clone + Send + Sync + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        if cache::exempts_preflight(&self.authenticator, request.request()) {
            cache::mark_exempt_preflight(request.request());
            return Box::pin(async move { Ok(service.call(request).await?.map_into_left_body()) });
        }
        // Joins a decision an outer middleware or extractor already started for these
        // requirements; else starts it (the header is read now).
        let decision =
            cache::authenticate(request.request(), &self.authenticator, self.requirements);
        Box::pin(async move {
            match decision.await {
                Ok(user) => {
                    request.extensions_mut().insert(user);
                    Ok(service.call(request).await?.map_into_left_body())
                }
                Err(rejection) => Ok(request
                    .into_response(rejection_response(&rejection))
                    .map_into_right_body()),
            }
        })
    }
}

#[cfg(test)]
mod tests;

//! [`AuthenticateUsersLayer`]: `authenticate_users` for a whole router, or for any tower HTTP
//! service (tonic, plain hyper).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use axum::http::{Request, Response};
use endpoint_auth::{AuthenticateFuture, Authenticator, Rejection, Requirements, User};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::cache;

/// Protects every request to the wrapped service with `authenticate_users`.
///
/// For each request the service:
/// 1. passes a CORS preflight through untouched when the core says it is exempt
///    ([`Authenticator::is_exempt_preflight_request`]): the route's `OPTIONS` handler answers
///    it, with no user in the extensions (an [`AuthUser`] extractor there answers it `204`
///    itself);
/// 2. otherwise asks the core for the user, with the layer's [`Requirements`] (default: none
///    beyond a right password; see [`requirements`](Self::requirements));
/// 3. on success inserts the user (`U`) into the request's extensions and calls the inner
///    service: axum handlers take it with `Extension<U>`, other services with
///    `request.extensions().get::<U>()`. The decision is also cached, so an [`AuthUser`] (or,
///    with the confirmed-email requirement, a [`ConfirmedUser`]) extractor behind the layer does
///    not ask the core again;
/// 4. on a rejection answers the core's response itself ([`Rejection::into_http_response`]) and
///    never calls the inner service.
///
/// The inner service's response body must be constructible from a `&'static str` (axum's
/// `Body`, `String`, `Full<Bytes>`, ...): refusals are answered in that body type.
///
/// With axum, prefer [`Router::route_layer`](axum::Router::route_layer): it protects the routes
/// but leaves unknown paths their 404 (with `layer` on the top-level router, those would get a
/// 401 too). Either way no CORS preflight gets a 401: under `route_layer` axum answers an
/// `OPTIONS` to a route without an `OPTIONS` handler itself (405, or a CORS layer's answer),
/// and under `layer` the request reaches the exemption above.
///
/// On an axum router:
///
/// ```
/// use axum::{routing::get, Extension, Router};
/// use endpoint_auth_axum::endpoint_auth::{Authenticator, Requirements, User};
/// use endpoint_auth_axum::AuthenticateUsersLayer;
///
/// async fn dashboard(Extension(user): Extension<User>) -> String {
///     format!("Hello {}", user.email)
/// }
///
/// # fn app(authenticator: Authenticator<User>) -> Router {
/// Router::new()
///     .route("/dashboard", get(dashboard))
///     .route("/billing", get(dashboard))
///     .route_layer(
///         AuthenticateUsersLayer::new(authenticator)
///             .requirements(Requirements::new().confirmed_email(true)),
///     )
/// # }
/// ```
///
/// On any other tower HTTP service, here a plain `service_fn` with `String` bodies:
///
/// ```
/// use std::convert::Infallible;
///
/// use axum::http::{Request, Response};
/// use endpoint_auth_axum::endpoint_auth::{Authenticator, User};
/// use endpoint_auth_axum::AuthenticateUsersLayer;
/// use tower::{service_fn, Layer};
///
/// # fn protect(authenticator: Authenticator<User>) {
/// let service = AuthenticateUsersLayer::new(authenticator).layer(service_fn(
///     |request: Request<String>| async move {
///         let user = request.extensions().get::<User>().expect("put there by the layer");
///         Ok::<_, Infallible>(Response::new(format!("Hello {}", user.email)))
///     },
/// ));
/// # let _ = service;
/// # }
/// ```
///
/// [`AuthUser`]: crate::AuthUser
/// [`ConfirmedUser`]: crate::ConfirmedUser
pub struct AuthenticateUsersLayer<U = User> {
    authenticator: Authenticator<U>,
    requirements: Requirements,
}

impl<U> AuthenticateUsersLayer<U> {
    /// A layer authenticating users with `authenticator` and no requirements beyond a right
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

impl<U> Clone for AuthenticateUsersLayer<U> {
    fn clone(&self) -> Self {
        Self {
            authenticator: self.authenticator.clone(),
            requirements: self.requirements,
        }
    }
}

impl<U> fmt::Debug for AuthenticateUsersLayer<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthenticateUsersLayer")
            .field("authenticator", &self.authenticator)
            .field("requirements", &self.requirements)
            .finish()
    }
}

impl<S, U> Layer<S> for AuthenticateUsersLayer<U> {
    type Service = AuthenticateUsers<S, U>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthenticateUsers {
            inner,
            authenticator: self.authenticator.clone(),
            requirements: self.requirements,
        }
    }
}

/// The service made by [`AuthenticateUsersLayer`]; see there for what it does.
pub struct AuthenticateUsers<S, U = User> {
    inner: S,
    authenticator: Authenticator<U>,
    requirements: Requirements,
}

impl<S, U> AuthenticateUsers<S, U> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Unwraps the wrapped service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Clone, U> Clone for AuthenticateUsers<S, U> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            authenticator: self.authenticator.clone(),
            requirements: self.requirements,
        }
    }
}

impl<S: fmt::Debug, U> fmt::Debug for AuthenticateUsers<S, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthenticateUsers")
            .field("inner", &self.inner)
            .field("authenticator", &self.authenticator)
            .field("requirements", &self.requirements)
            .finish()
    }
}

impl<S, U, ReqBody, ResBody> Service<Request<ReqBody>> for AuthenticateUsers<S, U>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    U: Clone + Send + Sync + 'static,
    ResBody: From<&'static str>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody, U>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let state = if self
            .authenticator
            .is_exempt_preflight_request(request.method(), request.headers())
        {
            State::Calling {
                future: self.inner.call(request),
            }
        } else {
            match cache::cached_user::<U>(request.extensions(), self.requirements) {
                // An outer layer or extractor with the same requirements already decided.
                Some(Ok(user)) => {
                    request.extensions_mut().insert(user);
                    State::Calling {
                        future: self.inner.call(request),
                    }
                }
                Some(Err(rejection)) => State::Refused {
                    rejection: Some(rejection),
                },
                None => {
                    let decision = self.authenticator.authenticate_headers(
                        request.headers(),
                        cache::peer(request.extensions()),
                        self.requirements,
                    );
                    // The instance `poll_ready` readied goes with the request; a clone stays.
                    let ready = self.inner.clone();
                    State::Authenticating {
                        decision,
                        request: Some(request),
                        service: std::mem::replace(&mut self.inner, ready),
                        requirements: self.requirements,
                    }
                }
            }
        };
        ResponseFuture { state }
    }
}

pin_project! {
    /// The response future of [`AuthenticateUsers`]: the core's decision, then the inner
    /// service's response (or the rejection's).
    pub struct ResponseFuture<S, ReqBody, U>
    where
        S: Service<Request<ReqBody>>,
    {
        #[pin]
        state: State<S, ReqBody, U>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, ReqBody, U>
    where
        S: Service<Request<ReqBody>>,
    {
        Authenticating {
            decision: AuthenticateFuture<U>,
            request: Option<Request<ReqBody>>,
            service: S,
            requirements: Requirements,
        },
        Calling {
            #[pin]
            future: S::Future,
        },
        Refused {
            rejection: Option<Rejection>,
        },
    }
}

impl<S, ReqBody, U> fmt::Debug for ResponseFuture<S, ReqBody, U>
where
    S: Service<Request<ReqBody>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Authenticating { .. } => "authenticating",
            State::Calling { .. } => "calling the inner service",
            State::Refused { .. } => "refused",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}

const POLLED_AFTER_COMPLETION: &str = "ResponseFuture polled after completion";

impl<S, U, ReqBody, ResBody> Future for ResponseFuture<S, ReqBody, U>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    U: Clone + Send + Sync + 'static,
    ResBody: From<&'static str>,
{
    type Output = Result<Response<ResBody>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            match state.as_mut().project() {
                StateProj::Authenticating {
                    decision,
                    request,
                    service,
                    requirements,
                } => {
                    let decision = ready!(Pin::new(decision).poll(cx));
                    let Some(mut request) = request.take() else {
                        panic!("{POLLED_AFTER_COMPLETION}");
                    };
                    match decision {
                        Ok(user) => {
                            let extensions = request.extensions_mut();
                            cache::remember_user(extensions, *requirements, &Ok(user.clone()));
                            extensions.insert(user);
                            let future = service.call(request);
                            state.set(State::Calling { future });
                        }
                        Err(rejection) => {
                            state.set(State::Refused {
                                rejection: Some(rejection),
                            });
                        }
                    }
                }
                StateProj::Calling { future } => return future.poll(cx),
                StateProj::Refused { rejection } => {
                    let Some(rejection) = rejection.take() else {
                        panic!("{POLLED_AFTER_COMPLETION}");
                    };
                    return Poll::Ready(Ok(rejection.into_http_response()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;

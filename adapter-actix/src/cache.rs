//! The core decides once per request: its decisions are kept in the request's extensions, where
//! every later extractor (and the middleware) finds them.
//!
//! actix creates all of a handler's extractors before it awaits any of them, so an
//! `authenticate_users` decision is kept while it is still being made: the first extractor
//! starts it, the others join it, and whichever is polled drives it. A decision is remembered per
//! user type and per [`Requirements`]; a rejection is remembered too, so that a second extractor
//! does not store or audit the same failure again.

use std::cell::RefCell;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use actix_web::http::header::HeaderValue;
use actix_web::http::header::{ACCESS_CONTROL_REQUEST_METHOD, AUTHORIZATION, FORWARDED};
use actix_web::{web, HttpMessage, HttpRequest};
use endpoint_auth::{AuthenticateFuture, Authenticator, Credentials, Rejection, Requirements};

/// One `authenticate_users` decision, being made or made, shared by everything in the request
/// that asks for it.
pub(crate) struct SharedDecision<U> {
    state: Rc<RefCell<State<U>>>,
}

enum State<U> {
    Deciding {
        future: AuthenticateFuture<U>,
        waiting: Arc<Waiting>,
    },
    Decided(Result<U, Rejection>),
}

impl<U> Clone for SharedDecision<U> {
    fn clone(&self) -> Self {
        Self {
            state: Rc::clone(&self.state),
        }
    }
}

impl<U: Clone> SharedDecision<U> {
    fn new(future: AuthenticateFuture<U>) -> Self {
        Self {
            state: Rc::new(RefCell::new(State::Deciding {
                future,
                waiting: Arc::new(Waiting::default()),
            })),
        }
    }
}

impl<U: Clone> Future for SharedDecision<U> {
    type Output = Result<U, Rejection>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.state.borrow_mut();
        let (future, waiting) = match &mut *state {
            State::Decided(decision) => return Poll::Ready(decision.clone()),
            State::Deciding { future, waiting } => (future, waiting),
        };
        // The core's future remembers one waker; it gets one that wakes every task waiting here.
        waiting.add(cx.waker());
        let waiting = Arc::clone(waiting);
        let waker = Waker::from(Arc::clone(&waiting));
        let Poll::Ready(outcome) = Pin::new(future).poll(&mut Context::from_waker(&waker)) else {
            return Poll::Pending;
        };
        let decision = outcome;
        *state = State::Decided(decision.clone());
        drop(state);
        waiting.wake_by_ref();
        Poll::Ready(decision)
    }
}

/// The tasks waiting for a decision.
#[derive(Default)]
struct Waiting(Mutex<Vec<Waker>>);

impl Waiting {
    fn add(&self, waker: &Waker) {
        let mut wakers = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if !wakers.iter().any(|known| known.will_wake(waker)) {
            wakers.push(waker.clone());
        }
    }
}

impl Wake for Waiting {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let wakers = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        for waker in wakers {
            waker.wake();
        }
    }
}

/// `authenticate_users` decisions of this request, per requirements.
struct UserDecisions<U> {
    decisions: Vec<(Requirements, SharedDecision<U>)>,
}

/// The `require_credentials` decision of this request.
struct CredentialsDecision(Result<Credentials, Rejection>);

/// The decision already started or made for `requirements`, if any.
pub(crate) fn cached_user<U>(
    request: &HttpRequest,
    requirements: Requirements,
) -> Option<SharedDecision<U>>
where
    U: Clone + 'static,
{
    request
        .extensions()
        .get::<UserDecisions<U>>()?
        .decisions
        .iter()
        .find(|(made_for, _)| *made_for == requirements)
        .map(|(_, decision)| decision.clone())
}

/// `authenticate_users`: the decision for `requirements`, joined when already started, else
/// started now with `authenticator` (and kept for the rest of the request).
pub(crate) fn authenticate<U>(
    request: &HttpRequest,
    authenticator: &Authenticator<U>,
    requirements: Requirements,
) -> SharedDecision<U>
where
    U: Clone + Send + Sync + 'static,
{
    if let Some(decision) = cached_user(request, requirements) {
        return decision;
    }
    let headers = request.headers();
    let client = authenticator.client_address(
        peer(request),
        headers.get_all(FORWARDED).map(HeaderValue::as_bytes),
        headers
            .get_all("x-forwarded-for")
            .map(HeaderValue::as_bytes),
    );
    let decision = SharedDecision::new(authenticator.authenticate_user(
        authorization(request),
        client,
        requirements,
    ));
    request
        .extensions_mut()
        .get_or_insert_with(|| UserDecisions::<U> {
            decisions: Vec::new(),
        })
        .decisions
        .push((requirements, decision.clone()));
    decision
}

/// `require_credentials`: the cached decision, or the core's (then cached).
pub(crate) fn credentials<U>(
    request: &HttpRequest,
    authenticator: &Authenticator<U>,
) -> Result<Credentials, Rejection>
where
    U: Clone + Send + Sync + 'static,
{
    if let Some(CredentialsDecision(decision)) = request.extensions().get() {
        return decision.clone();
    }
    let decision = authenticator.require_credentials(authorization(request));
    request
        .extensions_mut()
        .insert(CredentialsDecision(decision.clone()));
    decision
}

/// Left in a request by the middleware that let it through as an exempt CORS preflight.
struct PassedPreflight;

/// Records that the middleware let `request` through as an exempt preflight, so that an
/// extractor behind it (which may have no authenticator of its own) answers it too.
pub(crate) fn mark_exempt_preflight(request: &HttpRequest) {
    request.extensions_mut().insert(PassedPreflight);
}

/// Whether `authenticator` exempts `request` as a CORS preflight.
pub(crate) fn exempts_preflight<U>(authenticator: &Authenticator<U>, request: &HttpRequest) -> bool
where
    U: Clone + Send + Sync + 'static,
{
    authenticator.is_exempt_preflight(
        request.method().as_str().as_bytes(),
        request
            .headers()
            .contains_key(ACCESS_CONTROL_REQUEST_METHOD),
    )
}

/// Whether `request` is an exempt CORS preflight: a middleware let it through as one, or the app
/// data's authenticator for `U` exempts it.
pub(crate) fn is_exempt_preflight<U>(request: &HttpRequest) -> bool
where
    U: Clone + Send + Sync + 'static,
{
    request.extensions().contains::<PassedPreflight>()
        || authenticator::<U>(request)
            .is_some_and(|authenticator| exempts_preflight(&authenticator, request))
}

/// Every `Authorization` field value of the request, as bytes, in order.
pub(crate) fn authorization(request: &HttpRequest) -> impl Iterator<Item = &[u8]> {
    request
        .headers()
        .get_all(AUTHORIZATION)
        .map(HeaderValue::as_bytes)
}

/// The socket peer (never an address a header claims: the core decides which forwarding fields
/// to believe).
fn peer(request: &HttpRequest) -> Option<IpAddr> {
    request.peer_addr().map(|peer| peer.ip())
}

/// The authenticator for user type `U` from the app data: `web::Data<Authenticator<U>>`, or a
/// plain `Authenticator<U>`.
pub(crate) fn authenticator<U: 'static>(request: &HttpRequest) -> Option<Authenticator<U>> {
    request
        .app_data::<web::Data<Authenticator<U>>>()
        .map(|data| data.get_ref().clone())
        .or_else(|| request.app_data::<Authenticator<U>>().cloned())
}

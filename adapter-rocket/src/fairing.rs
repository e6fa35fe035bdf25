//! [`BasicAuth`]: the fairing that hands the guards their [`Authenticator`] and makes sure every
//! refusal a guard causes is answered with the core's response, whatever catcher rocket picks.
//!
//! ```
//! use endpoint_auth_rocket::endpoint_auth::Authenticator;
//! use endpoint_auth_rocket::BasicAuth;
//!
//! let authenticator = Authenticator::credentials_only("admin area")?;
//! let rocket = rocket::build().attach(BasicAuth::new(authenticator));
//! # let _ = rocket;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::{Arc, Mutex, PoisonError};

use endpoint_auth::{Authenticator, Credentials, Rejection};
use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::http::Status;
use rocket::{Build, Ignite, Request, Response, Rocket};

use crate::rejection::{rejection_response, status_of};

/// Serves an [`Authenticator`] to the endpoint-auth guards of a rocket. Attach it once per user
/// type:
///
/// ```no_run
/// # use endpoint_auth_rocket::{endpoint_auth::{Authenticator, MemoryStore}, BasicAuth};
/// # let authenticator = Authenticator::builder(MemoryStore::new()).build()?;
/// rocket::build().attach(BasicAuth::new(authenticator));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// It does three things:
/// - **at ignition** it manages the authenticator for [`AuthUser<U>`], [`ConfirmedUser<U>`] and
///   [`BasicCredentials`]. Those guards are [sentinels](rocket::Sentinel): a rocket that mounts a
///   route using them without this fairing refuses to launch.
/// - **on a CORS preflight** that a guard let through (the authenticator exempts it) and that
///   no route or fairing answered, it answers `204 No Content` instead of rocket's `404`.
/// - **on every response** to a request that an endpoint-auth guard refused, while the response
///   still has the refusal's status, it sets the core's `WWW-Authenticate` (401) or
///   `Retry-After` (503, 429). Where rocket's default catcher answered, the body and its
///   `Content-Type` are the core's too (plain text or JSON, per the authenticator's
///   [`RefusalFormat`](endpoint_auth::RefusalFormat)); where a catcher of yours answered (for
///   that status or a default one, at any base), its body and `Content-Type` stay. See
///   [How a refusal is answered](crate#how-a-refusal-is-answered).
///
/// One authenticator per user type: attaching a second `BasicAuth<U>` for the same `U` replaces
/// the first (it is a singleton fairing). [`BasicCredentials`] does not depend on the user type;
/// it uses the authenticator of the first `BasicAuth` attached.
///
/// [`AuthUser<U>`]: crate::AuthUser
/// [`ConfirmedUser<U>`]: crate::ConfirmedUser
/// [`BasicCredentials`]: crate::BasicCredentials
pub struct BasicAuth<U> {
    authenticator: Authenticator<U>,
}

impl<U> std::fmt::Debug for BasicAuth<U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicAuth")
            .field("authenticator", &self.authenticator)
            .finish()
    }
}

impl<U: Clone + Send + Sync + 'static> BasicAuth<U> {
    /// The fairing serving `authenticator`.
    pub fn new(authenticator: Authenticator<U>) -> Self {
        Self { authenticator }
    }
}

#[rocket::async_trait]
impl<U: Clone + Send + Sync + 'static> Fairing for BasicAuth<U> {
    fn info(&self) -> Info {
        Info {
            name: "endpoint-auth (HTTP Basic)",
            kind: Kind::Ignite | Kind::Response | Kind::Singleton,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let mut rocket = rocket.manage(Managed(self.authenticator.clone()));
        if rocket.state::<CredentialsGate>().is_none() {
            rocket = rocket.manage(CredentialsGate(Arc::new(self.authenticator.clone())));
        }
        Ok(rocket)
    }

    async fn on_response<'r>(&self, request: &'r Request<'_>, response: &mut Response<'r>) {
        if ForwardedPreflight::was_forwarded(request) && response.status() == Status::NotFound {
            // A guard let an exempt preflight through and no route or fairing answered it: the
            // preflight passes (SPEC §5) with `204` and no challenge, as in every adapter.
            let status = Status::new(endpoint_auth::credentials::EXEMPT_PREFLIGHT_STATUS.as_u16());
            *response = Response::build().status(status).finalize();
            return;
        }
        let Some(rejection) = Stash::get(request) else {
            return;
        };
        // Only while the response still is the refusal: a handler that received the refusal
        // (through `Result<Guard, AuthRejection>`) and answered otherwise has decided for itself.
        let status = status_of(&rejection);
        if response.status() != status {
            return;
        }
        let core = rejection_response(&rejection);
        if has_own_catcher(request, status) {
            // The application's catcher wrote the body (and its type): keep them, and set the
            // core's status-bearing headers (challenge, `Retry-After`) over whatever it set.
            let headers: Vec<(String, String)> = core
                .headers()
                .iter()
                .filter(|header| !header.name().as_str().eq_ignore_ascii_case("Content-Type"))
                .map(|header| (header.name().as_str().to_owned(), header.value().to_owned()))
                .collect();
            for (name, _) in &headers {
                response.remove_header(name);
            }
            for (name, value) in headers {
                response.adjoin_raw_header(name, value);
            }
        } else {
            // rocket's default catcher answered: the core's response, body included.
            response.merge(core);
        }
    }
}

/// Whether the application registered a catcher that rocket picks for `status` on `request`: one
/// for that status or a default one, at a base that is a prefix of the request's path (any
/// base). rocket 0.5 tries exactly these before falling back to its own default catcher, which
/// is not among `catchers()`.
fn has_own_catcher(request: &Request<'_>, status: Status) -> bool {
    let path = request.uri().path();
    request.rocket().catchers().any(|catcher| {
        catcher.code.is_none_or(|code| code == status.code)
            && catcher.base.path().segments().prefix_of(path.segments())
    })
}

/// The managed authenticator of the user type `U`, under a private type so that only the
/// fairing can install it (and a user's own `.manage(authenticator)` cannot bypass it).
pub(crate) struct Managed<U>(pub(crate) Authenticator<U>);

/// What [`BasicCredentials`](crate::BasicCredentials) needs of an authenticator, without its user
/// type.
pub(crate) trait CredentialsAuthority: Send + Sync + 'static {
    /// The core's `require_credentials`.
    fn require_credentials(
        &self,
        authorization: &mut dyn Iterator<Item = &[u8]>,
    ) -> Result<Credentials, Rejection>;
    /// The core's 401 for a handler refusing the credentials.
    fn challenge(&self) -> Rejection;
    /// The core's preflight exemption.
    fn is_exempt_preflight(&self, method: &[u8], has_access_control_request_method: bool) -> bool;
}

impl<U: Clone + Send + Sync + 'static> CredentialsAuthority for Authenticator<U> {
    fn require_credentials(
        &self,
        authorization: &mut dyn Iterator<Item = &[u8]>,
    ) -> Result<Credentials, Rejection> {
        Authenticator::require_credentials(self, authorization)
    }

    fn challenge(&self) -> Rejection {
        Authenticator::challenge(self)
    }

    fn is_exempt_preflight(&self, method: &[u8], has_access_control_request_method: bool) -> bool {
        Authenticator::is_exempt_preflight(self, method, has_access_control_request_method)
    }
}

/// The managed authenticator of [`BasicCredentials`](crate::BasicCredentials).
pub(crate) struct CredentialsGate(pub(crate) Arc<dyn CredentialsAuthority>);

/// Whether a guard forwarded this request as an exempt CORS preflight, for
/// [`BasicAuth::on_response`].
#[derive(Default)]
pub(crate) struct ForwardedPreflight(std::sync::atomic::AtomicBool);

impl ForwardedPreflight {
    pub(crate) fn mark(request: &Request<'_>) {
        request
            .local_cache(ForwardedPreflight::default)
            .0
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    fn was_forwarded(request: &Request<'_>) -> bool {
        request
            .local_cache(ForwardedPreflight::default)
            .0
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// The refusal of the guard that failed this request, for [`BasicAuth::on_response`]. Kept in the
/// request-local cache (one per request; the last refusal wins, and rocket stops at the first
/// failing guard anyway).
#[derive(Default)]
pub(crate) struct Stash(Mutex<Option<Rejection>>);

impl Stash {
    pub(crate) fn put(request: &Request<'_>, rejection: Rejection) {
        let stash = request.local_cache(Stash::default);
        *stash.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(rejection);
    }

    pub(crate) fn get(request: &Request<'_>) -> Option<Rejection> {
        let stash = request.local_cache(Stash::default);
        stash
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Why a guard refused `request`, if one did: for access logs and other fairings that run after
/// the response is made. The reason never reaches the client.
///
/// ```
/// use rocket::fairing::AdHoc;
///
/// let access_log = AdHoc::on_response("access log", |request, response| {
///     Box::pin(async move {
///         if let Some(refusal) = endpoint_auth_rocket::refusal(request) {
///             eprintln!("{} {} -> {} ({refusal})", request.method(), request.uri(), response.status());
///         }
///     })
/// });
/// # let _ = access_log;
/// ```
pub fn refusal(request: &Request<'_>) -> Option<Rejection> {
    Stash::get(request)
}

/// Sentinel check shared by the guards: whether a `T` is managed, i.e. whether a fairing that
/// `guard` needs (named by `fairing`) was attached.
pub(crate) fn abort_unless_managed<T: Send + Sync + 'static>(
    rocket: &Rocket<Ignite>,
    guard: &str,
    fairing: &str,
) -> bool {
    if rocket.state::<T>().is_some() {
        return false;
    }
    log::error!(
        "the {guard} request guard needs the endpoint-auth fairing: attach {fairing} (endpoint_auth_rocket::BasicAuth::new(authenticator)) to the rocket"
    );
    true
}

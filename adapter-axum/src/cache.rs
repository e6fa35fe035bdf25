//! The core decides once per request: its decisions are kept in the request's extensions, where
//! every later extractor (and an inner layer) finds them.
//!
//! A decision is remembered per user type and per [`Requirements`]; a rejection is remembered
//! too, so that a second extractor does not store or audit the same failure again.

use axum::http::request::Parts;
use axum::http::Extensions;
use endpoint_auth::{Authenticator, Credentials, Rejection, Requirements};

/// `authenticate_users` decisions made for this request.
#[derive(Clone)]
struct UserDecisions<U> {
    decided: Vec<(Requirements, Result<U, Rejection>)>,
}

/// The `require_credentials` decision made for this request.
#[derive(Clone)]
struct CredentialsDecision(Result<Credentials, Rejection>);

/// The decision already made for `requirements`, if any.
pub(crate) fn cached_user<U>(
    extensions: &Extensions,
    requirements: Requirements,
) -> Option<Result<U, Rejection>>
where
    U: Clone + Send + Sync + 'static,
{
    extensions
        .get::<UserDecisions<U>>()?
        .decided
        .iter()
        .find(|(made_for, _)| *made_for == requirements)
        .map(|(_, decision)| decision.clone())
}

/// Keeps `decision` for later extractors.
pub(crate) fn remember_user<U>(
    extensions: &mut Extensions,
    requirements: Requirements,
    decision: &Result<U, Rejection>,
) where
    U: Clone + Send + Sync + 'static,
{
    extensions
        .get_or_insert_with(|| UserDecisions::<U> {
            decided: Vec::new(),
        })
        .decided
        .push((requirements, decision.clone()));
}

/// The socket peer, as `axum::serve(…, app.into_make_service_with_connect_info::<SocketAddr>())`
/// records it; without that every request counts as one unknown client for fair admission.
pub(crate) fn peer(extensions: &Extensions) -> Option<std::net::IpAddr> {
    extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip())
}

/// `authenticate_users`: the cached decision, or the core's (then cached).
pub(crate) async fn authenticate<U>(
    parts: &mut Parts,
    authenticator: &Authenticator<U>,
    requirements: Requirements,
) -> Result<U, Rejection>
where
    U: Clone + Send + Sync + 'static,
{
    if let Some(decision) = cached_user(&parts.extensions, requirements) {
        return decision;
    }
    let decision = authenticator
        .authenticate_headers(&parts.headers, peer(&parts.extensions), requirements)
        .await;
    remember_user(&mut parts.extensions, requirements, &decision);
    decision
}

/// `require_credentials`: the cached decision, or the core's (then cached).
pub(crate) fn credentials<U>(
    parts: &mut Parts,
    authenticator: &Authenticator<U>,
) -> Result<Credentials, Rejection>
where
    U: Clone + Send + Sync + 'static,
{
    if let Some(CredentialsDecision(decision)) = parts.extensions.get() {
        return decision.clone();
    }
    let decision = authenticator.require_credentials_from_headers(&parts.headers);
    parts
        .extensions
        .insert(CredentialsDecision(decision.clone()));
    decision
}

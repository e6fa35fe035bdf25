//! The audit hook: one call per authentication decision, with the reason but never the password.

use crate::rejection::{FailureReason, UnavailableReason};

/// One authentication decision, as the audit hook sees it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum AuditEvent<'a> {
    /// A user logged in (`authenticate_users`).
    Authenticated {
        /// The username as sent.
        username: &'a str,
    },
    /// A request got the uniform 401.
    Refused {
        /// The username as sent, when the header could be read.
        username: Option<&'a str>,
        /// Why.
        reason: &'a FailureReason,
    },
    /// A wrong password brought the account to the lockout limit.
    LockedOut {
        /// The account's login.
        login: &'a str,
        /// Its consecutive failures now.
        failures: u32,
    },
    /// A request got a 429: other clients were waiting for verification and this client was
    /// over its share (SPEC §5).
    Throttled {
        /// The username as sent.
        username: &'a str,
        /// Whose share it was.
        client: crate::client::ClientAddress,
    },
    /// A request got a 503.
    Unavailable {
        /// The username as sent, when the header could be read.
        username: Option<&'a str>,
        /// Why.
        reason: &'a UnavailableReason,
    },
}

/// Receives every [`AuditEvent`]. Called inline on the request path: keep it fast (hand the event
/// to a channel if it needs I/O).
///
/// Any `Fn(&AuditEvent)` closure is a hook:
///
/// ```
/// use endpoint_auth::audit::{AuditEvent, AuditHook};
///
/// let hook = |event: &AuditEvent<'_>| {
///     if let AuditEvent::Refused { username, reason } = event {
///         eprintln!("refused {username:?}: {reason}");
///     }
/// };
/// fn takes_hook(_: impl AuditHook) {}
/// takes_hook(hook);
/// ```
pub trait AuditHook: Send + Sync + 'static {
    /// Called once per decision.
    fn record(&self, event: &AuditEvent<'_>);
}

impl<F> AuditHook for F
where
    F: Fn(&AuditEvent<'_>) + Send + Sync + 'static,
{
    fn record(&self, event: &AuditEvent<'_>) {
        self(event)
    }
}

//! Metrics, through the [`metrics`](https://docs.rs/metrics) facade: the core records, the
//! application installs whatever exporter it likes (Prometheus, StatsD, …); without one, each
//! record is a no-op costing a load and a branch.
//!
//! The names are listed in the crate documentation's "Metrics" section.

use crate::rejection::{FailureReason, UnavailableReason};

pub(crate) fn authenticated() {
    metrics::counter!("endpoint_auth_outcomes_total", "outcome" => "authenticated").increment(1);
}

pub(crate) fn unauthorized(reason: &FailureReason) {
    let reason = match reason {
        FailureReason::BadHeader(_) => "bad_header",
        FailureReason::UnknownUser => "unknown_user",
        FailureReason::WrongPassword => "wrong_password",
        FailureReason::Disabled => "disabled",
        FailureReason::EmailNotConfirmed => "email_not_confirmed",
        FailureReason::LockedOut(_) => "locked_out",
        FailureReason::NoPassword => "no_password",
        FailureReason::UnusableHash(_) => "unusable_hash",
        FailureReason::RefusedByHandler => "refused_by_handler",
    };
    metrics::counter!("endpoint_auth_outcomes_total", "outcome" => "unauthorized", "reason" => reason)
        .increment(1);
}

pub(crate) fn unavailable(reason: &UnavailableReason) {
    let reason = match reason {
        UnavailableReason::Store(_) => "store",
        UnavailableReason::Verifier(_) => "verifier",
        UnavailableReason::NoUserStore => "no_user_store",
    };
    metrics::counter!("endpoint_auth_outcomes_total", "outcome" => "unavailable", "reason" => reason)
        .increment(1);
}

pub(crate) fn too_many_requests() {
    metrics::counter!("endpoint_auth_outcomes_total", "outcome" => "too_many_requests")
        .increment(1);
    metrics::counter!("endpoint_auth_throttled_total").increment(1);
}

pub(crate) fn shed() {
    metrics::counter!("endpoint_auth_shed_total").increment(1);
}

pub(crate) fn verification(dummy: bool) {
    let against = if dummy { "dummy_hash" } else { "stored_hash" };
    metrics::counter!("endpoint_auth_verifications_total", "against" => against).increment(1);
}

pub(crate) fn cache(hit: bool) {
    if hit {
        metrics::counter!("endpoint_auth_cache_hits_total").increment(1);
    } else {
        metrics::counter!("endpoint_auth_cache_misses_total").increment(1);
    }
}

pub(crate) fn queue(waiting: usize, busy: usize) {
    metrics::gauge!("endpoint_auth_queue_waiting").set(waiting as f64);
    metrics::gauge!("endpoint_auth_workers_busy").set(busy as f64);
}

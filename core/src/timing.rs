//! The failure-time floor (SPEC §3): every 401 that follows a store lookup is answered no
//! earlier than the time the dearest wrong password known to this process takes, so response
//! time does not tell an unknown, disabled, unconfirmed or locked account, or an imported
//! bcrypt one, from a default argon2id account with a wrong password. Padding is waiting on the
//! timer thread, not work: it holds no hashing worker and burns no CPU.
//!
//! The floor is learned, not configured: how long a unit of each hash family's work takes here
//! (bcrypt rounds, argon2 blocks × passes) is measured from every verification, and how many
//! units the dearest hash holds is read from each stored hash the moment its record is found
//! (before it is verified), so it covers that very request. Plus the store work of a wrong
//! password (the failure slot is a write; an unknown account's probe writes nothing).

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::password::{work_units, HashKind};

/// Weight of a new observation in the running averages.
const ALPHA: f64 = 0.1;
/// Headroom over the estimate, so that the dearest kind is padded too rather than left to
/// show through when it runs a little slow.
const MARGIN: f64 = 1.10;
/// Covers waking from the timer and scheduling jitter.
const SLACK: Duration = Duration::from_micros(500);

#[derive(Debug, Clone, Copy, Default)]
struct Family {
    /// Nanoseconds per unit of work, once measured.
    ns_per_unit: Option<f64>,
    /// The most units any hash of this family seen so far takes.
    dearest_units: f64,
}

#[derive(Debug, Default)]
struct State {
    argon2: Family,
    bcrypt: Family,
    /// Running average of the store work (lookup + failure slot) of a wrong password.
    store_ns: f64,
}

impl State {
    fn family(&mut self, kind: HashKind) -> &mut Family {
        match kind {
            HashKind::Bcrypt => &mut self.bcrypt,
            _ => &mut self.argon2,
        }
    }
}

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct FailureFloor {
    state: Mutex<State>,
}

impl FailureFloor {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A stored hash is about to be verified (or was found): the floor covers its cost from now.
    pub(crate) fn note_hash(&self, stored: &str) {
        if let Some((kind, units)) = work_units(stored) {
            let mut state = self.state();
            let family = state.family(kind);
            family.dearest_units = family.dearest_units.max(units);
        }
    }

    /// Verifying `stored` took `took`: refines the family's cost per unit.
    pub(crate) fn observe_verification(&self, stored: &str, took: Duration) {
        let Some((kind, units)) = work_units(stored) else {
            return;
        };
        if units <= 0.0 {
            return;
        }
        let sample = took.as_nanos() as f64 / units;
        let mut state = self.state();
        let family = state.family(kind);
        family.dearest_units = family.dearest_units.max(units);
        family.ns_per_unit = Some(match family.ns_per_unit {
            Some(average) => average + ALPHA * (sample - average),
            None => sample,
        });
    }

    /// The store work of a wrong password took `took`.
    pub(crate) fn observe_store(&self, took: Duration) {
        let sample = took.as_nanos() as f64;
        let mut state = self.state();
        state.store_ns = if state.store_ns == 0.0 {
            sample
        } else {
            state.store_ns + ALPHA * (sample - state.store_ns)
        };
    }

    /// How long, from the start of its store lookup, a refusal takes at the least.
    pub(crate) fn floor(&self) -> Duration {
        let state = self.state();
        let cost = |family: &Family| {
            family
                .ns_per_unit
                .map_or(0.0, |ns| ns * family.dearest_units)
        };
        let verify = cost(&state.argon2).max(cost(&state.bcrypt));
        let nanos = MARGIN * verify + 1.5 * state.store_ns;
        Duration::from_nanos(nanos.min(60e9) as u64) + SLACK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BCRYPT_5: &str = "$2b$05$abcdefghijklmnopqrstuuR3Xe3yM7K2C8hJ1cPz3t4b8yHnpTQW2";
    const BCRYPT_12: &str = "$2b$12$abcdefghijklmnopqrstuuR3Xe3yM7K2C8hJ1cPz3t4b8yHnpTQW2";

    fn argon2(m: u32, t: u32) -> String {
        crate::password::HashPolicy::argon2id(m, t, 1)
            .unwrap()
            .hash("pw")
            .unwrap()
    }

    #[test]
    fn a_dearer_hash_raises_the_floor_as_soon_as_it_is_seen() {
        let floor = FailureFloor::default();
        let default = argon2(64, 2);
        floor.observe_verification(&default, Duration::from_millis(20));
        floor.observe_verification(BCRYPT_5, Duration::from_millis(2));
        let before = floor.floor();
        assert!(before >= Duration::from_millis(22), "{before:?}");
        assert!(before < Duration::from_millis(23), "{before:?}");
        // bcrypt 12 is 2^7 times bcrypt 5: 256 ms, padded by the margin.
        floor.note_hash(BCRYPT_12);
        let after = floor.floor();
        assert!(after >= Duration::from_millis(281), "{after:?}");
        assert!(after < Duration::from_millis(283), "{after:?}");
    }

    #[test]
    fn measurements_are_averaged_per_family_and_the_dearest_is_kept() {
        let floor = FailureFloor::default();
        let cheap = argon2(64, 1);
        let dear = argon2(64, 4);
        floor.observe_verification(&dear, Duration::from_millis(40));
        floor.observe_verification(&cheap, Duration::from_millis(10));
        // Both measure 10 ms per (64 blocks × 1 pass); the dearest takes four passes.
        let floor = floor.floor();
        assert!(floor >= Duration::from_millis(44), "{floor:?}");
        assert!(floor < Duration::from_millis(45), "{floor:?}");
    }

    #[test]
    fn store_work_is_added() {
        let floor = FailureFloor::default();
        floor.observe_store(Duration::from_millis(4));
        assert!(floor.floor() >= Duration::from_millis(6));
    }

    #[test]
    fn unknown_formats_change_nothing() {
        let floor = FailureFloor::default();
        floor.note_hash("$apr1$x$y");
        floor.observe_verification("plain", Duration::from_secs(5));
        assert_eq!(floor.floor(), SLACK);
    }
}

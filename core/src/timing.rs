//! The failure-time floor (SPEC §3): every 401 that follows a store lookup is answered no
//! earlier than the time the dearest wrong password known to this process takes, so response
//! time does not tell an unknown, disabled, unconfirmed or locked account, or an imported
//! bcrypt one, from a default argon2id account with a wrong password. Padding is waiting on the
//! timer thread, not work: it holds no hashing worker and burns no CPU.
//!
//! The floor is learned, not configured: what a verification of each cost class (bcrypt cost,
//! argon2 memory × passes) takes here is measured from every verification, and the class of
//! each stored hash is noted the moment its record is found (before it is verified), so the
//! floor covers that very request — a class not measured yet is estimated from its family's
//! dearest measured one, scaled by work. Plus the store work of a wrong password (the failure
//! slot is a write; an unknown account's probe writes nothing).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::hash::{work_units, HashKind};

/// Weight of a new observation in the running averages, once the first few have settled them.
const ALPHA: f64 = 0.1;
/// Headroom over the estimate, so that the dearest kind is padded too rather than left to
/// show through when it runs a little slow.
const MARGIN: f64 = 1.10;
/// Covers waking from the timer and scheduling jitter.
const SLACK: Duration = Duration::from_micros(500);

/// A running average that settles fast: the first samples are averaged plainly, later ones
/// weigh `ALPHA`, so it follows the machine's load.
#[derive(Debug, Clone, Copy, Default)]
struct Average {
    value: f64,
    samples: u32,
}

impl Average {
    fn add(&mut self, sample: f64) {
        self.samples = self.samples.saturating_add(1);
        let weight = (1.0 / f64::from(self.samples)).max(ALPHA);
        self.value += weight * (sample - self.value);
    }

    fn get(&self) -> Option<f64> {
        (self.samples > 0).then_some(self.value)
    }
}

/// Hashes that cost the same: one family, the same work units (bcrypt cost, argon2 m × t).
type CostClass = (u8, u64);

fn class_of(kind: HashKind, units: f64) -> CostClass {
    let family = match kind {
        HashKind::Bcrypt => 1,
        _ => 0,
    };
    (family, units as u64)
}

#[derive(Debug, Default)]
struct State {
    /// Time of a verification per cost class seen; `None` average for classes only noted.
    classes: HashMap<CostClass, Average>,
    /// Store work (lookup + failure slot) of a wrong password.
    store: Average,
}

impl State {
    /// What a class costs: measured, or scaled by work units from the dearest measured class of
    /// its family (whose fixed costs weigh least).
    fn cost(&self, class: CostClass) -> Option<f64> {
        if let Some(measured) = self.classes.get(&class).and_then(Average::get) {
            return Some(measured);
        }
        let (units, nanos) = self
            .classes
            .iter()
            .filter(|((family, units), _)| *family == class.0 && *units > 0)
            .filter_map(|((_, units), average)| Some((*units, average.get()?)))
            .max_by_key(|(units, _)| *units)?;
        Some(nanos * class.1 as f64 / units as f64)
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
            self.state()
                .classes
                .entry(class_of(kind, units))
                .or_default();
        }
    }

    /// Verifying `stored` took `took`.
    pub(crate) fn observe_verification(&self, stored: &str, took: Duration) {
        if let Some((kind, units)) = work_units(stored) {
            self.state()
                .classes
                .entry(class_of(kind, units))
                .or_default()
                .add(took.as_nanos() as f64);
        }
    }

    /// The application's credential check took `took` (it is a class of its own).
    pub(crate) fn observe_check(&self, took: Duration) {
        self.state()
            .classes
            .entry((2, 0))
            .or_default()
            .add(took.as_nanos() as f64);
    }

    /// The store work of a wrong password took `took`.
    pub(crate) fn observe_store(&self, took: Duration) {
        self.state().store.add(took.as_nanos() as f64);
    }

    /// How long, from the start of its store lookup, a refusal takes at the least.
    pub(crate) fn floor(&self) -> Duration {
        let state = self.state();
        let verify = state
            .classes
            .keys()
            .filter_map(|class| state.cost(*class))
            .fold(0.0, f64::max);
        let nanos = MARGIN * verify + 1.5 * state.store.get().unwrap_or(0.0);
        Duration::from_nanos(nanos.min(60e9) as u64) + SLACK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BCRYPT_5: &str = "$2b$05$abcdefghijklmnopqrstuuR3Xe3yM7K2C8hJ1cPz3t4b8yHnpTQW2";
    const BCRYPT_12: &str = "$2b$12$abcdefghijklmnopqrstuuR3Xe3yM7K2C8hJ1cPz3t4b8yHnpTQW2";

    fn argon2(m: u32, t: u32) -> String {
        crate::hash::HashPolicy::argon2id(m, t, 1)
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
    fn the_dearest_measured_class_sets_the_floor() {
        let floor = FailureFloor::default();
        let cheap = argon2(64, 1);
        let dear = argon2(64, 4);
        floor.observe_verification(&dear, Duration::from_millis(40));
        floor.observe_verification(&cheap, Duration::from_millis(30));
        let at = floor.floor();
        assert!(at >= Duration::from_millis(44), "{at:?}");
        assert!(at < Duration::from_millis(45), "{at:?}");
        // Measurements of one class average out.
        floor.observe_verification(&dear, Duration::from_millis(20));
        let at = floor.floor();
        assert!(at >= Duration::from_millis(33), "{at:?}");
        assert!(at < Duration::from_millis(34), "{at:?}");
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

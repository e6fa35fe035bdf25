//! Lockout after consecutive wrong passwords (SPEC §4, Anvil's `n_password_failures`).
//!
//! Pure arithmetic over what the store records (the failure count and the time of the last
//! failure), with `now` passed in: no clock is read here.

use std::time::{Duration, SystemTime};

use crate::store::SlotRule;

/// How long a lock lasts once the failure limit is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LockDuration {
    /// The lock lifts this long after the failure that reached (or last extended) it.
    For(Duration),
    /// The lock holds until an administrator unlocks the account (Anvil's behaviour).
    UntilReset,
}

/// When an account is locked.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use endpoint_auth::LockoutPolicy;
///
/// let policy = LockoutPolicy::new(); // 10 failures, 15 minutes
/// let failed_at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
/// assert!(policy.locked_until(10, Some(failed_at), failed_at).is_some());
/// assert!(policy.locked_until(9, Some(failed_at), failed_at).is_none());
/// let later = failed_at + Duration::from_secs(15 * 60);
/// assert!(policy.locked_until(10, Some(failed_at), later).is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub(crate) max_failures: u32,
    pub(crate) duration: LockDuration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self::new()
    }
}

/// The state of a locked account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lock {
    /// Locked until this time.
    Until(SystemTime),
    /// Locked until an administrator unlocks it.
    UntilReset,
}

impl LockoutPolicy {
    /// Anvil's limit of 10 consecutive failures, with a 15-minute lock.
    pub const fn new() -> Self {
        Self {
            max_failures: 10,
            duration: LockDuration::For(Duration::from_secs(15 * 60)),
        }
    }

    /// Never lock (failures are still counted).
    pub const fn disabled() -> Self {
        Self {
            max_failures: u32::MAX,
            duration: LockDuration::For(Duration::ZERO),
        }
    }

    /// Lock after `failures` consecutive wrong passwords (at least 1).
    pub const fn max_failures(mut self, failures: u32) -> Self {
        self.max_failures = if failures == 0 { 1 } else { failures };
        self
    }

    /// How long the lock lasts.
    pub const fn duration(mut self, duration: LockDuration) -> Self {
        self.duration = duration;
        self
    }

    /// The rule a store grants failure slots by at `now` (SPEC §4): below the limit, or once the
    /// lock has expired.
    pub fn slot_rule(&self, now: SystemTime) -> SlotRule {
        let expired_before = match self.duration {
            LockDuration::UntilReset => None,
            LockDuration::For(duration) => {
                Some(now.checked_sub(duration).unwrap_or(SystemTime::UNIX_EPOCH))
            }
        };
        SlotRule::new(self.max_failures, expired_before)
    }

    /// Whether, and until when, an account with `failures` consecutive failures, the last at
    /// `last_failure`, is locked at `now`.
    ///
    /// A timed lock runs from the last recorded failure. While locked, the core does not check
    /// passwords and records nothing, so the lock lifts on time; after it lifts, one more wrong
    /// password locks the account again straight away, because the count is still at the limit.
    /// An account at the limit with no recorded failure time (e.g. imported) is not time-locked.
    pub fn locked_until(
        &self,
        failures: u32,
        last_failure: Option<SystemTime>,
        now: SystemTime,
    ) -> Option<Lock> {
        if failures < self.max_failures {
            return None;
        }
        match self.duration {
            LockDuration::UntilReset => Some(Lock::UntilReset),
            LockDuration::For(duration) => {
                let until = last_failure?.checked_add(duration)?;
                (now < until).then_some(Lock::Until(until))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
    }

    #[test]
    fn below_the_limit_is_never_locked() {
        let policy = LockoutPolicy::new().max_failures(3);
        for failures in 0..3 {
            assert_eq!(policy.locked_until(failures, Some(at(0)), at(0)), None);
        }
    }

    #[test]
    fn at_the_limit_locks_for_the_duration_from_the_last_failure() {
        let policy = LockoutPolicy::new()
            .max_failures(3)
            .duration(LockDuration::For(Duration::from_secs(60)));
        assert_eq!(
            policy.locked_until(3, Some(at(0)), at(0)),
            Some(Lock::Until(at(60)))
        );
        assert_eq!(
            policy.locked_until(3, Some(at(0)), at(59)),
            Some(Lock::Until(at(60)))
        );
        assert_eq!(policy.locked_until(3, Some(at(0)), at(60)), None);
        assert_eq!(
            policy.locked_until(4, Some(at(70)), at(100)),
            Some(Lock::Until(at(130)))
        );
    }

    #[test]
    fn until_reset_holds_forever() {
        let policy = LockoutPolicy::new()
            .max_failures(2)
            .duration(LockDuration::UntilReset);
        assert_eq!(
            policy.locked_until(2, Some(at(0)), at(10_000_000)),
            Some(Lock::UntilReset)
        );
        assert_eq!(policy.locked_until(2, None, at(0)), Some(Lock::UntilReset));
        assert_eq!(policy.locked_until(1, Some(at(0)), at(0)), None);
    }

    #[test]
    fn defaults_are_anvils() {
        let policy = LockoutPolicy::default();
        assert_eq!(policy.max_failures, 10);
        assert_eq!(
            policy.locked_until(10, Some(at(0)), at(899)),
            Some(Lock::Until(at(900)))
        );
        assert_eq!(policy.locked_until(10, Some(at(0)), at(900)), None);
    }

    #[test]
    fn no_failure_time_means_no_timed_lock() {
        assert_eq!(LockoutPolicy::new().locked_until(50, None, at(0)), None);
    }

    #[test]
    fn disabled_never_locks() {
        assert_eq!(
            LockoutPolicy::disabled().locked_until(u32::MAX - 1, Some(at(0)), at(0)),
            None
        );
    }

    /// The store's rule and the core's lock check agree at every count and age.
    #[test]
    fn slot_rule_grants_exactly_when_not_locked() {
        let timed = LockoutPolicy::new()
            .max_failures(3)
            .duration(LockDuration::For(Duration::from_secs(60)));
        let forever = timed.duration(LockDuration::UntilReset);
        for policy in [timed, forever, LockoutPolicy::new()] {
            for failures in [0, 1, 2, 3, 4, 9, 10, 11, u32::MAX] {
                for last in [None, Some(at(0)), Some(at(59)), Some(at(60)), Some(at(61))] {
                    let now = at(120);
                    let locked = policy.locked_until(failures, last, now).is_some();
                    assert_eq!(
                        policy.slot_rule(now).grants(failures, last),
                        !locked,
                        "{policy:?} {failures} {last:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn zero_limit_means_one() {
        assert_eq!(LockoutPolicy::new().max_failures(0).max_failures, 1);
    }
}

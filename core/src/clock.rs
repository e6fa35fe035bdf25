//! Where the current time comes from: the system clock, or a fixed one in tests.

use std::time::SystemTime;

/// Where the current time comes from. The default reads the system clock; tests pass a fixed one
/// so that lockout and caching are testable without sleeping.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

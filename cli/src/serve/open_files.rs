//! Keeping the connection cap within the process's open-files limit, so that a full house of
//! clients never leaves `serve` unable to accept, to open its database or to log.

/// File descriptors kept for everything but client connections: the listener, the runtime, the
/// users database (a pool of connections, each a file or a socket, SQLite's with its journal).
pub(crate) const RESERVED: u64 = 64;

/// The connection cap to use for `wanted` under this process's open-files limit: `wanted` when the
/// limit allows it (raising the soft limit toward the hard one first), else what the limit leaves
/// after [`RESERVED`]. The second value is the limit that forced a lower cap, if one did.
pub(crate) fn fit(wanted: usize) -> (usize, Option<u64>) {
    match soft_limit(wanted as u64 + RESERVED) {
        None => (wanted, None),
        Some(limit) => {
            let cap = cap_within(wanted, limit);
            (cap, (cap < wanted).then_some(limit))
        }
    }
}

/// At most `wanted`, leaving [`RESERVED`] descriptors of `limit` free (or half of a limit too small
/// for that).
fn cap_within(wanted: usize, limit: u64) -> usize {
    let allowed = limit.saturating_sub(RESERVED).max(limit / 2).max(1);
    usize::try_from(allowed).map_or(wanted, |allowed| wanted.min(allowed))
}

/// The soft open-files limit after trying to raise it to `needed` (never above the hard limit);
/// `None` when unlimited or unknown.
#[cfg(unix)]
fn soft_limit(needed: u64) -> Option<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

    let limit = getrlimit(Resource::Nofile);
    let soft = limit.current?;
    if soft >= needed {
        return Some(soft);
    }
    let raised = limit.maximum.map_or(needed, |hard| hard.min(needed));
    if raised > soft
        && setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(raised),
                maximum: limit.maximum,
            },
        )
        .is_ok()
    {
        return Some(raised);
    }
    Some(soft)
}

#[cfg(not(unix))]
fn soft_limit(_needed: u64) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_room_for_the_database_and_the_runtime() {
        assert_eq!(cap_within(1024, 256), 192);
        assert_eq!(cap_within(1024, 1 << 20), 1024);
        assert_eq!(cap_within(20, 256), 20);
    }

    #[test]
    fn a_tiny_limit_still_serves() {
        assert_eq!(cap_within(1024, 100), 50);
        assert_eq!(cap_within(1024, 1), 1);
        assert_eq!(cap_within(1024, 0), 1);
    }

    #[test]
    fn a_small_cap_fits_any_usual_limit() {
        assert_eq!(fit(4), (4, None));
    }
}

//! Dates as the command prints them: RFC 3339, UTC, whole seconds.

use std::time::{SystemTime, UNIX_EPOCH};

use time::format_description::well_known::Rfc3339;
use time::macros::datetime;
use time::OffsetDateTime;

/// `time` as an RFC 3339 UTC timestamp with whole seconds, e.g. `2024-01-02T03:04:05Z`.
/// Times outside the years 0 to 9999, which RFC 3339 cannot write, are clamped to them.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let earliest = datetime!(0000-01-01 00:00:00 UTC);
    let latest = datetime!(9999-12-31 23:59:59 UTC);
    // Listings and bodies carry whole seconds; a fraction is dropped towards the past, as a
    // clock shows it.
    let seconds = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => {
            let before = before.duration();
            let whole = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            -whole - i64::from(before.subsec_nanos() > 0)
        }
    };
    let at = OffsetDateTime::from_unix_timestamp(seconds)
        .unwrap_or(if seconds < 0 { earliest } else { latest })
        .clamp(earliest, latest);
    at.format(&Rfc3339)
        .expect("every time from year 0 to 9999 has an RFC 3339 form")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_704_164_645)),
            "2024-01-02T03:04:05Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(4_107_542_399)),
            "2100-02-28T23:59:59Z"
        );
    }

    #[test]
    fn whole_seconds_towards_the_past() {
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::new(1_704_164_645, 999_999_999)),
            "2024-01-02T03:04:05Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH - Duration::from_millis(500)),
            "1969-12-31T23:59:59Z"
        );
    }

    #[test]
    fn clamps_what_it_cannot_write() {
        let far = Duration::from_secs(400_000 * 366 * 86_400);
        assert_eq!(rfc3339(UNIX_EPOCH + far), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(UNIX_EPOCH - far), "0000-01-01T00:00:00Z");
    }
}

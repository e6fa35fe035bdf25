//! Timestamps: `std::time::SystemTime` in Rust, `TIMESTAMPTZ` in PostgreSQL, RFC 3339 text in
//! SQLite, microsecond precision in both.
//!
//! SQLite has no date type. Text in a fixed form (`2024-05-01T12:34:56.789012Z`: UTC, always six
//! fraction digits) reads well in the `sqlite3` shell, sorts chronologically as plain text, and is
//! understood by SQLite's own date functions. Reading is lenient: any RFC 3339 text, SQLite's
//! `YYYY-MM-DD HH:MM:SS[.fff]` (what `CURRENT_TIMESTAMP` writes, taken as UTC) and integer Unix
//! seconds are accepted, so rows written by other tools decode too.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::error::BoxDynError;
use sqlx::types::time::OffsetDateTime;
#[cfg(any(feature = "sqlite", test))]
use time::{format_description::BorrowedFormatItem, macros::format_description, PrimitiveDateTime};

/// A `SystemTime` as the users table stores it. Encoding truncates to whole microseconds (what
/// PostgreSQL keeps), so both backends round-trip the same value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DbTime(pub(crate) SystemTime);

#[derive(Debug, thiserror::Error)]
#[error("timestamp out of the range the users table can store (years 0 to 9999)")]
struct OutOfRange;

const NANOS_PER_SEC: i128 = 1_000_000_000;

/// `time`, truncated towards the past to a whole microsecond, as a UTC date-time.
fn to_offset(time: SystemTime) -> Result<OffsetDateTime, OutOfRange> {
    let nanos = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i128::try_from(after.as_nanos()).map_err(|_| OutOfRange)?,
        Err(before) => -i128::try_from(before.duration().as_nanos()).map_err(|_| OutOfRange)?,
    };
    let micros = nanos.div_euclid(1_000) * 1_000;
    let at = OffsetDateTime::from_unix_timestamp_nanos(micros).map_err(|_| OutOfRange)?;
    if (0..=9999).contains(&at.year()) {
        Ok(at)
    } else {
        Err(OutOfRange)
    }
}

fn from_offset(at: OffsetDateTime) -> Result<SystemTime, OutOfRange> {
    let nanos = at.unix_timestamp_nanos();
    let secs =
        u64::try_from(nanos.div_euclid(NANOS_PER_SEC).unsigned_abs()).map_err(|_| OutOfRange)?;
    let subsec = u32::try_from(nanos.rem_euclid(NANOS_PER_SEC)).map_err(|_| OutOfRange)?;
    let whole = if nanos >= 0 {
        UNIX_EPOCH.checked_add(Duration::from_secs(secs))
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_secs(secs))
    };
    whole
        .and_then(|t| t.checked_add(Duration::from_nanos(u64::from(subsec))))
        .ok_or(OutOfRange)
}

/// The fixed text form written to SQLite: UTC, always six fraction digits.
#[cfg(any(feature = "sqlite", test))]
const SQLITE_TEXT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// The fixed text form written to SQLite.
#[cfg(any(feature = "sqlite", test))]
fn to_sqlite_text(time: SystemTime) -> Result<String, OutOfRange> {
    // Years 0 to 9999 (all `to_offset` gives) always format.
    to_offset(time)?.format(SQLITE_TEXT).map_err(|_| OutOfRange)
}

/// Text in exactly the fixed form this store writes; `None` for anything else, which is left to
/// sqlx's more lenient decoding.
#[cfg(any(feature = "sqlite", test))]
pub(crate) fn from_sqlite_text(text: &str) -> Option<SystemTime> {
    // `[year]` also takes a leading sign, which the written form never has.
    if !text.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let at = PrimitiveDateTime::parse(text, SQLITE_TEXT).ok()?;
    from_offset(at.assume_utc()).ok()
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use sqlx::encode::IsNull;
    use sqlx::sqlite::{Sqlite, SqliteArgumentValue, SqliteTypeInfo, SqliteValueRef};
    use sqlx::{Decode, Encode, Type};

    use super::*;

    impl Type<Sqlite> for DbTime {
        fn type_info() -> SqliteTypeInfo {
            <OffsetDateTime as Type<Sqlite>>::type_info()
        }

        fn compatible(ty: &SqliteTypeInfo) -> bool {
            <OffsetDateTime as Type<Sqlite>>::compatible(ty)
        }
    }

    impl<'q> Encode<'q, Sqlite> for DbTime {
        fn encode_by_ref(
            &self,
            buf: &mut Vec<SqliteArgumentValue<'q>>,
        ) -> Result<IsNull, BoxDynError> {
            <String as Encode<'q, Sqlite>>::encode(to_sqlite_text(self.0)?, buf)
        }
    }

    impl<'r> Decode<'r, Sqlite> for DbTime {
        fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
            let at = <OffsetDateTime as Decode<'r, Sqlite>>::decode(value)?;
            Ok(Self(from_offset(at)?))
        }
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use sqlx::encode::IsNull;
    use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef, Postgres};
    use sqlx::{Decode, Encode, Type};

    use super::*;

    impl Type<Postgres> for DbTime {
        fn type_info() -> PgTypeInfo {
            <OffsetDateTime as Type<Postgres>>::type_info()
        }

        fn compatible(ty: &PgTypeInfo) -> bool {
            <OffsetDateTime as Type<Postgres>>::compatible(ty)
        }
    }

    impl Encode<'_, Postgres> for DbTime {
        fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
            <OffsetDateTime as Encode<'_, Postgres>>::encode(to_offset(self.0)?, buf)
        }

        fn size_hint(&self) -> usize {
            8
        }
    }

    impl<'r> Decode<'r, Postgres> for DbTime {
        fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
            let at = <OffsetDateTime as Decode<'r, Postgres>>::decode(value)?;
            Ok(Self(from_offset(at)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, nanos: u32) -> SystemTime {
        UNIX_EPOCH + Duration::new(secs, nanos)
    }

    #[test]
    fn truncates_to_microseconds_and_round_trips() {
        let t = at(1_700_000_000, 123_456_789);
        let back = from_offset(to_offset(t).unwrap()).unwrap();
        assert_eq!(back, at(1_700_000_000, 123_456_000));
        let whole = at(1_700_000_000, 0);
        assert_eq!(from_offset(to_offset(whole).unwrap()).unwrap(), whole);
    }

    #[test]
    fn before_the_epoch_truncates_towards_the_past() {
        let t = UNIX_EPOCH - Duration::new(10, 500);
        let back = from_offset(to_offset(t).unwrap()).unwrap();
        assert_eq!(back, UNIX_EPOCH - Duration::new(10, 1_000));
    }

    #[test]
    fn sqlite_text_is_fixed_width_utc() {
        assert_eq!(
            to_sqlite_text(at(1_700_000_000, 5_000)).unwrap(),
            "2023-11-14T22:13:20.000005Z"
        );
        assert_eq!(
            to_sqlite_text(UNIX_EPOCH).unwrap(),
            "1970-01-01T00:00:00.000000Z"
        );
    }

    #[test]
    fn sqlite_text_parses_to_the_microsecond() {
        assert_eq!(
            from_sqlite_text("2023-11-14T22:13:20.000005Z"),
            Some(at(1_700_000_000, 5_000))
        );
        assert_eq!(
            from_sqlite_text("1970-01-01T00:00:00.000000Z"),
            Some(UNIX_EPOCH)
        );
        assert_eq!(
            from_sqlite_text("2024-02-29T00:00:00.000000Z"),
            Some(at(1_709_164_800, 0))
        );
        assert_eq!(
            from_sqlite_text("0000-01-01T00:00:00.000000Z"),
            Some(UNIX_EPOCH - Duration::from_secs(62_167_219_200))
        );
        assert_eq!(
            from_sqlite_text("1969-12-31T23:59:59.500000Z"),
            Some(UNIX_EPOCH - Duration::from_millis(500))
        );
    }

    #[test]
    fn sqlite_text_round_trips() {
        for t in [
            at(1_700_000_000, 123_456_000),
            UNIX_EPOCH,
            UNIX_EPOCH - Duration::new(10, 1_000),
        ] {
            assert_eq!(from_sqlite_text(&to_sqlite_text(t).unwrap()), Some(t));
        }
    }

    #[test]
    fn other_text_is_left_to_sqlx() {
        for other in [
            "2024-01-02 03:04:05",
            "2023-11-14T22:13:20Z",
            "2023-11-14T22:13:20.000005+00:00",
            "2023-11-14T22:13:20.000005Z ",
            "2023-11-14T22:13:20.0000050Z",
            "2023-02-30T22:13:20.000005Z",
            "2023-02-29T22:13:20.000005Z",
            "2023-11-14T24:13:20.000005Z",
            "2023-11-14T22:13:2x.000005Z",
            "+023-11-14T22:13:20.000005Z",
            "+2023-11-14T22:13:20.000005Z",
        ] {
            assert_eq!(from_sqlite_text(other), None, "{other}");
        }
    }

    #[test]
    fn far_future_is_refused_not_panicking() {
        let far = UNIX_EPOCH + Duration::from_secs(400_000 * 365 * 86_400);
        assert!(to_offset(far).is_err());
    }
}

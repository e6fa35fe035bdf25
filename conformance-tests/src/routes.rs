//! The SPEC §7 routes an adapter under test serves, and their exact 200 bodies.
//!
//! | route | mode | 200 body (JSON) |
//! |---|---|---|
//! | `GET /protected` | authenticate_users | [`user_body`] |
//! | `GET /confirmed` | authenticate_users, confirmed email required | [`user_body`] |
//! | `GET /credentials` | require_credentials | [`credentials_body`] |
//! | `GET /open` | none | [`OPEN_BODY`] |
//!
//! Serve bodies with `Content-Type: application/json`.
//!
//! Serve `/protected`, `/confirmed` and `/credentials` for `OPTIONS` too, authenticated as their
//! `GET`. The fixture's authenticator exempts CORS preflights (`OPTIONS` with
//! `Access-Control-Request-Method`): one must reach the route without credentials and be
//! answered with a 2xx status and no challenge — by the handler, or by the adapter where the
//! handler takes a user or credentials a preflight cannot give (e.g. an extractor answering
//! `204`). Any other `OPTIONS` without credentials gets the 401.

use std::time::{SystemTime, UNIX_EPOCH};

use endpoint_auth::{Credentials, Requirements, User};

/// `GET` and `OPTIONS /protected`: authenticate_users.
pub const PROTECTED: &str = "/protected";
/// `GET` and `OPTIONS /confirmed`: authenticate_users with a confirmed email.
pub const CONFIRMED: &str = "/confirmed";
/// `GET` and `OPTIONS /credentials`: require_credentials.
pub const CREDENTIALS: &str = "/credentials";
/// `GET /open`: no authentication.
pub const OPEN: &str = "/open";

/// The requirements of `/protected`.
pub const PROTECTED_REQUIREMENTS: Requirements = Requirements::new();
/// The requirements of `/confirmed`.
pub const CONFIRMED_REQUIREMENTS: Requirements = Requirements::new().confirmed_email(true);

/// The body of `/open`.
pub const OPEN_BODY: &str = r#"{"ok":true}"#;

/// The body of `/protected` and `/confirmed`: `{"id": …, "email": "…", "signed_up": "<RFC 3339>"}`.
pub fn user_body(user: &User) -> String {
    serde_json::json!({
        "id": user.id,
        "email": user.email,
        "signed_up": rfc3339(user.signed_up),
    })
    .to_string()
}

/// The body of `/credentials`: `{"username": "…", "password": "…"}`.
pub fn credentials_body(credentials: &Credentials) -> String {
    serde_json::json!({
        "username": credentials.username(),
        "password": credentials.password(),
    })
    .to_string()
}

/// `time` as an RFC 3339 UTC timestamp with whole seconds, e.g. `2024-01-02T03:04:05Z`.
/// Times before 1970 are clamped to the epoch.
pub fn rfc3339(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shift the epoch to 0000-03-01 so leap days fall at the end of each 400-year era.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn rfc3339_known_dates() {
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
}

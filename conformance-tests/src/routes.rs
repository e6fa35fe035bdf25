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
//! These build an adapter's answers; the suite checks them against expectations written out in
//! its cases, so a mistake here fails the suite instead of agreeing with itself.
//!
//! Serve `/protected`, `/confirmed` and `/credentials` for `OPTIONS` too, authenticated as their
//! `GET`. The fixture's authenticator exempts CORS preflights (`OPTIONS` with
//! `Access-Control-Request-Method`): one must reach the route without credentials and be
//! answered with a 2xx status and no challenge — by the handler, or by the adapter where the
//! handler takes a user or credentials a preflight cannot give (e.g. an extractor answering
//! `204`). Any other `OPTIONS` without credentials gets the 401.

use std::time::SystemTime;

use endpoint_auth::{Credentials, Requirements, User};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

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

/// `time` as the bodies write it: RFC 3339, UTC, whole seconds (`2024-01-02T03:04:05Z`). The
/// suite's users signed up in 2024; a time RFC 3339 cannot write (outside the years 0 to 9999)
/// is written as the epoch rather than failing a test route.
fn rfc3339(time: SystemTime) -> String {
    OffsetDateTime::from(time)
        .replace_nanosecond(0)
        .ok()
        .and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn rfc3339_writes_whole_seconds_in_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::new(1_704_164_645, 999_999_999)),
            "2024-01-02T03:04:05Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH - Duration::from_millis(500)),
            "1969-12-31T23:59:59Z"
        );
    }
}

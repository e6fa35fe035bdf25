//! The SPEC §7 routes `serve` mounts, their requirements and their JSON bodies: one definition
//! that every framework's routes use, so the four answer alike.
//!
//! | route | mode | 200 body (JSON) |
//! |---|---|---|
//! | `GET /protected` | authenticate_users | [`user_body`] |
//! | `GET /confirmed` | authenticate_users, confirmed email required | [`user_body`] |
//! | `GET /credentials` | require_credentials | [`credentials_body`] |
//! | `GET /open` | none | [`open_body`] |
//!
//! `/credentials` echoes the password it receives: it exists to test decoding, so only
//! [`Routes::Demo`] (`serve --demo`) mounts it.

use endpoint_auth::{Credentials, Requirements, User};
use serde_json::json;

use crate::dates::rfc3339;

/// Which of the SPEC §7 routes `serve` mounts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Routes {
    /// `/protected`, `/confirmed` and `/open`: what `serve` mounts.
    #[default]
    Standard,
    /// Those and `/credentials`, which answers with the password it was sent: what
    /// `serve --demo` mounts, and what the conformance suite calls.
    Demo,
}

impl Routes {
    /// Whether `/credentials` is mounted.
    pub(crate) fn credentials(self) -> bool {
        self == Self::Demo
    }
}

/// `GET /protected`: authenticate_users.
pub(crate) const PROTECTED: &str = "/protected";
/// `GET /confirmed`: authenticate_users with a confirmed email.
pub(crate) const CONFIRMED: &str = "/confirmed";
/// `GET /credentials`: require_credentials.
pub(crate) const CREDENTIALS: &str = "/credentials";
/// `GET /open`: no authentication.
pub(crate) const OPEN: &str = "/open";

/// The requirements of `/protected`.
pub(crate) const PROTECTED_REQUIREMENTS: Requirements = Requirements::new();
/// The requirements of `/confirmed`.
pub(crate) const CONFIRMED_REQUIREMENTS: Requirements = Requirements::new().confirmed_email(true);

/// The body of `/protected` and `/confirmed`: `{"id": …, "email": "…", "signed_up": "<RFC 3339>"}`.
pub(crate) fn user_body(user: &User) -> String {
    json!({
        "id": user.id,
        "email": user.email,
        "signed_up": rfc3339(user.signed_up),
    })
    .to_string()
}

/// The body of `/credentials`: `{"username": "…", "password": "…"}`.
pub(crate) fn credentials_body(credentials: &Credentials) -> String {
    json!({
        "username": credentials.username(),
        "password": credentials.password(),
    })
    .to_string()
}

/// The body of `/open`: `{"ok": true}`.
pub(crate) fn open_body() -> String {
    json!({ "ok": true }).to_string()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use serde_json::Value;

    use super::*;

    fn parsed(body: &str) -> Value {
        serde_json::from_str(body).expect("JSON")
    }

    #[test]
    fn bodies_are_the_spec_json() {
        let signed_up = UNIX_EPOCH + Duration::new(1_704_164_645, 500_000_000);
        let user = User::new(7, "j\u{f6}rg@example.com", signed_up);
        assert_eq!(
            parsed(&user_body(&user)),
            json!({"id": 7, "email": "j\u{f6}rg@example.com", "signed_up": "2024-01-02T03:04:05Z"})
        );
        let credentials = Credentials::new("someone", "pa:ss").expect("valid credentials");
        assert_eq!(
            parsed(&credentials_body(&credentials)),
            json!({"username": "someone", "password": "pa:ss"})
        );
        assert_eq!(parsed(&open_body()), json!({"ok": true}));
    }
}

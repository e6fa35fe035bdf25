//! [`Credentials`]: a user-id and password pair that cleans up after itself.

use std::fmt;

use base64::Engine as _;
use http::HeaderValue;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::secret::SecretString;

/// A user-id and password, as read from (or to be sent in) a `Basic` `Authorization` header.
///
/// Both parts are stored in one buffer, `user-id ":" password`, the way they travel on the wire,
/// so a parsed header costs a single allocation.
///
/// - The buffer is zeroized when the value is dropped.
/// - `Debug` prints the username and `"[redacted]"` for the password.
/// - [`Credentials::matches`] compares in constant time; `Credentials` deliberately has no
///   `PartialEq`, so a secret cannot be compared with `==` by accident.
///
/// ```
/// use endpoint_auth::Credentials;
///
/// let credentials = Credentials::new("Aladdin", "open sesame").unwrap();
/// assert_eq!(credentials.username(), "Aladdin");
/// assert_eq!(credentials.password(), "open sesame");
/// assert!(!format!("{credentials:?}").contains("sesame"));
/// ```
#[derive(Clone)]
pub struct Credentials {
    joined: SecretString,
    colon: usize,
}

/// Why [`Credentials::new`] refused a username or password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// RFC 7617 §2: the user-id cannot contain a colon, because the first colon ends it.
    #[error("the username contains ':', which Basic authentication cannot carry; choose a username without a colon")]
    ColonInUsername,
    /// RFC 7617 §2: neither part may contain control characters.
    #[error("the {0} contains a control character (U+0000-U+001F, U+007F-U+009F), which Basic authentication forbids")]
    ControlCharacter(Part),
    /// SPEC §1.8: a user-id must display as what it is.
    #[error("the username contains a bidirectional formatting character (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069); remove it")]
    BidiFormatting,
}

/// Which half of a credential pair a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Part {
    /// The user-id.
    Username,
    /// The password.
    Password,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Username => "username",
            Part::Password => "password",
        })
    }
}

/// Appends `part` in NFC.
fn push_nfc(text: &mut crate::secret::SecretBuilder, part: &str) {
    if crate::normalize::is_nfc(part) {
        text.push_str(part);
    } else {
        unicode_normalization::UnicodeNormalization::nfc(part).for_each(|c| text.push(c));
    }
}

/// RFC 7617 §2 forbids control characters: C0 (U+0000-U+001F), DEL (U+007F) and C1
/// (U+0080-U+009F).
pub(crate) fn is_forbidden_control(c: char) -> bool {
    c <= '\u{1f}' || ('\u{7f}'..='\u{9f}').contains(&c)
}

/// Bidirectional formatting characters (SPEC §1.8): a user-id holding one would display as
/// something other than what it is, e.g. in an administrator's list of users.
pub(crate) fn is_bidi_formatting(c: char) -> bool {
    matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

impl Credentials {
    /// Credentials from a username and password, for clients and tests.
    ///
    /// Both parts are normalized to Unicode NFC, as the server side does when it parses them
    /// (SPEC §1.9), so what you build is what a server reads.
    ///
    /// # Errors
    /// [`CredentialsError`] when the username contains `:` or either part contains a control
    /// character: Basic authentication cannot carry those.
    pub fn new(username: &str, password: &str) -> Result<Self, CredentialsError> {
        if username.contains(':') {
            return Err(CredentialsError::ColonInUsername);
        }
        if username.chars().any(is_forbidden_control) {
            return Err(CredentialsError::ControlCharacter(Part::Username));
        }
        if password.chars().any(is_forbidden_control) {
            return Err(CredentialsError::ControlCharacter(Part::Password));
        }
        if username.chars().any(is_bidi_formatting) {
            return Err(CredentialsError::BidiFormatting);
        }
        Ok(Self::from_checked_parts(username, password))
    }

    /// Joins two parts already checked for `:` and control characters, normalizing to NFC.
    pub(crate) fn from_checked_parts(username: &str, password: &str) -> Self {
        let exact = username.len() + 1 + password.len();
        // NFC expands text at most threefold: reserving that up front means the buffer never
        // has to move (were it to, the builder would wipe the old one).
        let capacity = if crate::normalize::is_nfc(username) && crate::normalize::is_nfc(password) {
            exact
        } else {
            exact * 3
        };
        let (joined, colon) = SecretString::build(capacity, |text| {
            push_nfc(text, username);
            let colon = text.len();
            text.push(':');
            push_nfc(text, password);
            colon
        });
        Self { joined, colon }
    }

    /// Wraps an already-joined, already-validated, NFC `user-id:password` buffer.
    pub(crate) fn from_joined(joined: SecretString, colon: usize) -> Self {
        debug_assert_eq!(joined.as_str().as_bytes().get(colon), Some(&b':'));
        Self { joined, colon }
    }

    /// The user-id, NFC-normalized.
    pub fn username(&self) -> &str {
        &self.joined.as_str()[..self.colon]
    }

    /// The password, NFC-normalized. Treat it as a secret: do not log or store it.
    pub fn password(&self) -> &str {
        &self.joined.as_str()[self.colon + 1..]
    }

    /// Whether these credentials equal `username` and `password` (both NFC-normalized first), in
    /// time that depends neither on where they differ nor on their lengths.
    ///
    /// This is what a `require_credentials` handler checking a fixed pair should use instead of
    /// `==`.
    pub fn matches(&self, username: &str, password: &str) -> bool {
        let expected = Self::from_checked_parts(username, password);
        // Hashing first makes the comparison independent of the lengths too.
        let ours = Sha256::digest(self.joined.as_str());
        let theirs = Sha256::digest(expected.joined.as_str());
        let same_split = (self.colon as u64).ct_eq(&(expected.colon as u64));
        bool::from(ours.as_slice().ct_eq(theirs.as_slice()) & same_split)
    }

    /// The `Authorization` header value that carries these credentials:
    /// `Basic base64(user-id ":" password)`, UTF-8 encoded, marked sensitive so that `http`
    /// and HPACK-aware stacks neither log nor index it.
    pub fn to_header_value(&self) -> HeaderValue {
        let encoded =
            Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(self.joined.as_str()));
        let mut line = Zeroizing::new(String::with_capacity(6 + encoded.len()));
        line.push_str("Basic ");
        line.push_str(&encoded);
        // Base64 output is always a valid header value.
        let mut value =
            HeaderValue::from_str(&line).unwrap_or_else(|_| HeaderValue::from_static(""));
        value.set_sensitive(true);
        value
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username())
            .field("password", &"[redacted]")
            .finish()
    }
}

/// The status of the answer to an exempt CORS preflight
/// ([`Authenticator::is_exempt_preflight`](crate::Authenticator::is_exempt_preflight)) that no
/// route of the application answers: `204 No Content`, with no body and no challenge. An
/// application's own preflight route (with its CORS headers) comes first; this is what every
/// adapter answers where there is none, so that they all agree.
pub const EXEMPT_PREFLIGHT_STATUS: http::StatusCode = http::StatusCode::NO_CONTENT;

/// The rule of the adapters' optional forms (`Option<AuthUser>` and the like), decided here so
/// that every adapter agrees: a request without any `Authorization` field is anonymous and served
/// as such, without asking the store; a request with one, even a malformed one, is authenticated
/// and refused if that fails, so a wrong password is never served as anonymous.
///
/// Pass every `Authorization` field value of the request, as for
/// [`Authenticator::authenticate_user`](crate::Authenticator::authenticate_user).
///
/// ```
/// assert!(endpoint_auth::credentials::is_anonymous(std::iter::empty::<&[u8]>()));
/// assert!(!endpoint_auth::credentials::is_anonymous([&b"Basic !!"[..]]));
/// ```
pub fn is_anonymous<'a, I>(authorization: I) -> bool
where
    I: IntoIterator<Item = &'a [u8]>,
{
    authorization.into_iter().next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_password() {
        let c = Credentials::new("alice", "hunter2-secret").unwrap();
        let shown = format!("{c:?} {c:#?}");
        assert!(shown.contains("alice"));
        assert!(!shown.contains("hunter2"));
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn rfc7617_aladdin_header_value() {
        let c = Credentials::new("Aladdin", "open sesame").unwrap();
        let v = c.to_header_value();
        assert_eq!(v, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert!(v.is_sensitive());
    }

    #[test]
    fn rfc7617_utf8_header_value() {
        // RFC 7617 §2.1: "test" / "123£" with charset UTF-8.
        let c = Credentials::new("test", "123\u{a3}").unwrap();
        assert_eq!(c.to_header_value(), "Basic dGVzdDoxMjPCow==");
    }

    #[test]
    fn password_may_contain_colons_and_parts_may_be_empty() {
        let c = Credentials::new("", "a:b:c").unwrap();
        assert_eq!(c.username(), "");
        assert_eq!(c.password(), "a:b:c");
        let c = Credentials::new("u", "").unwrap();
        assert_eq!(c.password(), "");
    }

    #[test]
    fn refuses_colon_in_username_and_control_characters() {
        assert_eq!(
            Credentials::new("a:b", "p").unwrap_err(),
            CredentialsError::ColonInUsername
        );
        assert_eq!(
            Credentials::new("a\u{7f}", "p").unwrap_err(),
            CredentialsError::ControlCharacter(Part::Username)
        );
        assert_eq!(
            Credentials::new("a", "p\n").unwrap_err(),
            CredentialsError::ControlCharacter(Part::Password)
        );
    }

    #[test]
    fn matches_is_exact_and_normalizes() {
        let c = Credentials::new("caf\u{e9}", "pw").unwrap();
        assert!(c.matches("cafe\u{301}", "pw"));
        assert!(!c.matches("caf\u{e9}", "pw "));
        let c = Credentials::new("a", "b:c").unwrap();
        assert!(!c.matches("a:b", "c"), "the split point matters");
        assert!(c.matches("a", "b:c"));
        assert!(!c.matches("", ""));
    }

    #[test]
    fn builds_nfc() {
        let c = Credentials::new("e\u{301}", "e\u{301}").unwrap();
        assert_eq!(c.username(), "\u{e9}");
        assert_eq!(c.password(), "\u{e9}");
    }
}

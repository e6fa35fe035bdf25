//! The `WWW-Authenticate: Basic realm="…", charset="UTF-8"` challenge (RFC 7617 §2, §2.1).

use std::fmt;

use http::HeaderValue;

/// Why a realm was refused when an endpoint was configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RealmError {
    /// The realm contains a control character, which a quoted-string cannot carry.
    #[error("the realm {realm:?} contains a control character (U+0000-U+001F or U+007F); use printable text")]
    ControlCharacter {
        /// The refused realm.
        realm: String,
    },
}

/// A protection space name, validated and pre-rendered into its challenge header value.
///
/// The challenge is rendered once, when the endpoint is configured, so every 401 clones a
/// ready-made header value.
///
/// ```
/// use endpoint_auth::Realm;
///
/// let realm = Realm::new(r#"my "app" \ admin"#).unwrap();
/// assert_eq!(
///     realm.challenge(),
///     r#"Basic realm="my \"app\" \\ admin", charset="UTF-8""#,
/// );
/// assert!(Realm::new("bad\nrealm").is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Realm {
    name: String,
    challenge: HeaderValue,
}

impl Realm {
    /// Validates `name` and renders its challenge.
    ///
    /// Any printable text is accepted, including non-ASCII (sent as UTF-8 octets); `\` and `"`
    /// are escaped with a backslash as RFC 9110 §5.6.4 requires. Prefer ASCII: HTTP gives
    /// non-ASCII header octets no charset, and Chromium, for one, shows a UTF-8 realm read as
    /// ISO-8859-1 (`Zoë` as `ZoÃ«`) in its login dialog.
    ///
    /// # Errors
    /// [`RealmError::ControlCharacter`] when `name` contains U+0000–U+001F or U+007F.
    pub fn new(name: impl Into<String>) -> Result<Self, RealmError> {
        let name = name.into();
        if name.chars().any(crate::credentials::is_forbidden_control) {
            return Err(RealmError::ControlCharacter { realm: name });
        }
        let mut rendered = String::with_capacity(name.len() + 40);
        rendered.push_str("Basic realm=\"");
        for c in name.chars() {
            if c == '\\' || c == '"' {
                rendered.push('\\');
            }
            rendered.push(c);
        }
        rendered.push_str("\", charset=\"UTF-8\"");
        let challenge = HeaderValue::from_bytes(rendered.as_bytes()).map_err(|_| {
            RealmError::ControlCharacter {
                realm: name.clone(),
            }
        })?;
        Ok(Self { name, challenge })
    }

    /// The realm as configured, unescaped.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `WWW-Authenticate` header value for this realm.
    pub fn challenge(&self) -> &HeaderValue {
        &self.challenge
    }
}

impl fmt::Debug for Realm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Realm").field(&self.name).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_realm() {
        let realm = Realm::new("WallyWorld").unwrap();
        assert_eq!(
            realm.challenge(),
            r#"Basic realm="WallyWorld", charset="UTF-8""#
        );
        assert_eq!(realm.name(), "WallyWorld");
    }

    #[test]
    fn conformance_realm_is_escaped() {
        let realm = Realm::new(r#"endpoint-auth "conformance" \ realm"#).unwrap();
        assert_eq!(
            realm.challenge().as_bytes(),
            br#"Basic realm="endpoint-auth \"conformance\" \\ realm", charset="UTF-8""#
        );
    }

    #[test]
    fn non_ascii_realm_is_sent_as_utf8() {
        let realm = Realm::new("caf\u{e9}").unwrap();
        assert_eq!(
            realm.challenge().as_bytes(),
            "Basic realm=\"caf\u{e9}\", charset=\"UTF-8\"".as_bytes()
        );
    }

    #[test]
    fn control_characters_are_refused() {
        for bad in ["a\rb", "a\nb", "\0", "tab\there", "del\u{7f}"] {
            assert!(
                matches!(Realm::new(bad), Err(RealmError::ControlCharacter { .. })),
                "{bad:?}"
            );
        }
        let message = Realm::new("x\ny").unwrap_err().to_string();
        assert!(message.contains("control character"), "{message}");
    }
}

//! Shared pieces of the fuzz targets: how an input becomes `Authorization` fields, SPEC §1
//! written out plainly as a reference to compare the core's parser with, and a strict reader of
//! the `WWW-Authenticate` challenge.
//!
//! Everything here is the obvious, slow way on purpose: the targets compare the core's optimized
//! code with it.
#![forbid(unsafe_code)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use unicode_normalization::UnicodeNormalization;

/// The separator between `Authorization` field values in an input. A field value never holds a
/// line feed on the wire, so the split loses no interesting value.
pub const FIELD_SEPARATOR: u8 = b'\n';

/// The `Authorization` field values an input stands for: none for the empty input, otherwise the
/// input split on [`FIELD_SEPARATOR`] (so `a\nb` is two fields and `a\n` is `a` and an empty one).
pub fn split_fields(data: &[u8]) -> Vec<&[u8]> {
    if data.is_empty() {
        Vec::new()
    } else {
        data.split(|&b| b == FIELD_SEPARATOR).collect()
    }
}

/// C0 (U+0000–U+001F) or DEL: refused in both parts by RFC 7617 §2 and SPEC §1.8.
pub fn is_c0_or_del(c: char) -> bool {
    c <= '\u{1f}' || c == '\u{7f}'
}

/// C1 (U+0080–U+009F): refused in both parts by SPEC §1.8.
pub fn is_c1(c: char) -> bool {
    ('\u{80}'..='\u{9f}').contains(&c)
}

/// A bidirectional formatting character (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069):
/// refused in the user-id by SPEC §1.8.
pub fn is_bidi_format(c: char) -> bool {
    matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The first character of `username` that SPEC §1.8 forbids in a user-id: C0, DEL, C1 and
/// bidirectional formatting characters.
pub fn forbidden_in_username(username: &str) -> Option<char> {
    username
        .chars()
        .find(|&c| is_c0_or_del(c) || is_c1(c) || is_bidi_format(c))
}

/// The first character of `password` that SPEC §1.8 forbids: C0, DEL and C1.
pub fn forbidden_in_password(password: &str) -> Option<char> {
    password.chars().find(|&c| is_c0_or_del(c) || is_c1(c))
}

/// What SPEC §1 says one field value (already within the length limit) carries: the NFC
/// user-id and password, or `None` for no credentials.
pub fn reference_credentials(value: &[u8], latin1_fallback: bool) -> Option<(String, String)> {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value.iter().position(|b| !is_ows(b))?;
    let end = value.iter().rposition(|b| !is_ows(b))? + 1;
    let value = &value[start..end];
    // `<scheme> 1*SP <token68>`, the scheme `Basic` in any case.
    let (scheme, rest) = value.split_at_checked(5)?;
    if !scheme.eq_ignore_ascii_case(b"Basic") || rest.first() != Some(&b' ') {
        return None;
    }
    let token = &rest[rest.iter().position(|&b| b != b' ')?..];
    // Canonical, padded, standard alphabet; any other byte (a space, a TAB) fails here.
    let octets = STANDARD.decode(token).ok()?;
    let text: String = match std::str::from_utf8(&octets) {
        Ok(text) => text.to_owned(),
        Err(_) if latin1_fallback => octets.iter().map(|&b| char::from(b)).collect(),
        Err(_) => return None,
    };
    let (username, password) = text.split_once(':')?;
    if forbidden_in_username(username).is_some() || forbidden_in_password(password).is_some() {
        return None;
    }
    Some((username.nfc().collect(), password.nfc().collect()))
}

/// `Basic base64(username ":" password)`, UTF-8 encoded.
pub fn basic_header(username: &str, password: &str) -> Vec<u8> {
    let mut joined = String::with_capacity(username.len() + 1 + password.len());
    joined.push_str(username);
    joined.push(':');
    joined.push_str(password);
    format!("Basic {}", STANDARD.encode(joined)).into_bytes()
}

/// The realm a `Basic realm="…", charset="UTF-8"` challenge names, read strictly as RFC 9110
/// §5.6.4 quoted-string (qdtext or quoted-pair, nothing else), or `None` when the challenge is
/// not exactly of that form.
pub fn realm_of_challenge(challenge: &[u8]) -> Option<Vec<u8>> {
    let rest = challenge.strip_prefix(b"Basic realm=\"")?;
    let mut realm = Vec::with_capacity(rest.len());
    let mut bytes = rest.iter().enumerate();
    while let Some((i, &b)) = bytes.next() {
        match b {
            b'"' => {
                return (&rest[i + 1..] == b", charset=\"UTF-8\"").then_some(realm);
            }
            b'\\' => {
                let (_, &escaped) = bytes.next()?;
                // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
                if !(escaped == b'\t' || escaped >= 0x20) || escaped == 0x7f {
                    return None;
                }
                realm.push(escaped);
            }
            // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
            b'\t' | b' ' | 0x21 | 0x23..=0x5b | 0x5d..=0x7e | 0x80..=0xff => realm.push(b),
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        assert!(split_fields(b"").is_empty());
        assert_eq!(split_fields(b"a"), [&b"a"[..]]);
        assert_eq!(split_fields(b"a\nb"), [&b"a"[..], b"b"]);
        assert_eq!(split_fields(b"a\n"), [&b"a"[..], b""]);
    }

    #[test]
    fn reference_reads_the_rfc_examples() {
        let aladdin = Some(("Aladdin".to_owned(), "open sesame".to_owned()));
        for value in [
            &b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="[..],
            b"basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
            b" \tBASIC   QWxhZGRpbjpvcGVuIHNlc2FtZQ== \t",
        ] {
            assert_eq!(reference_credentials(value, true), aladdin);
        }
        let pound = Some(("test".to_owned(), "123\u{a3}".to_owned()));
        assert_eq!(
            reference_credentials(b"Basic dGVzdDoxMjPCow==", false),
            pound
        );
        assert_eq!(reference_credentials(b"Basic dGVzdDoxMjOj", true), pound);
        assert_eq!(reference_credentials(b"Basic dGVzdDoxMjOj", false), None);
    }

    #[test]
    fn reference_refuses_what_the_spec_refuses() {
        for value in [
            &b""[..],
            b"Basic",
            b"Basic ",
            b"Basic\tQWxhZGRpbjpvcGVuIHNlc2FtZQ==",
            b"Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
            b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ",
            b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ== x",
            b"Basic QWxhZGRpbg==",
            b"Basic YQph",
        ] {
            assert_eq!(reference_credentials(value, true), None, "{value:?}");
        }
    }

    #[test]
    fn reference_normalizes_to_nfc() {
        let header = basic_header("e\u{301}", "e\u{301}");
        assert_eq!(
            reference_credentials(&header, true),
            Some(("\u{e9}".to_owned(), "\u{e9}".to_owned()))
        );
    }

    #[test]
    fn spec_1_8_characters() {
        assert!(is_c0_or_del('\0') && is_c0_or_del('\u{1f}') && is_c0_or_del('\u{7f}'));
        assert!(!is_c0_or_del(' ') && !is_c0_or_del('\u{80}'));
        assert!(is_c1('\u{80}') && is_c1('\u{9f}') && !is_c1('\u{a0}'));
        for c in [
            '\u{61c}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}',
        ] {
            assert!(is_bidi_format(c), "{c:?}");
        }
        assert!(!is_bidi_format('\u{200d}') && !is_bidi_format('\u{2065}'));
        assert_eq!(forbidden_in_username("a\u{7f}"), Some('\u{7f}'));
        assert_eq!(forbidden_in_password("a\nb"), Some('\n'));
    }

    #[test]
    fn challenge_reader() {
        assert_eq!(
            realm_of_challenge(br#"Basic realm="a \"b\" \\ c", charset="UTF-8""#).as_deref(),
            Some(&br#"a "b" \ c"#[..])
        );
        assert_eq!(
            realm_of_challenge(br#"Basic realm="", charset="UTF-8""#),
            Some(Vec::new())
        );
        for bad in [
            &br#"Basic realm="a"b", charset="UTF-8""#[..],
            br#"Basic realm="a\", charset="UTF-8""#,
            br#"Basic realm="a", charset="UTF-8" "#,
            br#"Basic realm="a""#,
            b"Basic realm=\"a\x01\", charset=\"UTF-8\"",
        ] {
            assert_eq!(realm_of_challenge(bad), None, "{bad:?}");
        }
    }
}

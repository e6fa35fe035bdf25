//! Reading `Basic` credentials from `Authorization` header values (SPEC §1, RFC 7617).
//!
//! ```text
//! credentials = auth-scheme 1*SP token68        ; RFC 9110 §11.4, §11.2
//! auth-scheme = "Basic"                         ; case-insensitive
//! token68     = base64(user-id ":" password)    ; RFC 4648 §4, padded, canonical
//! ```
//!
//! Everything here works on bytes, so header values from `http` 0.2, `http` 1.x or any other
//! framework's own types fit without conversion.

use zeroize::Zeroizing;

use crate::base64_canonical::{all_in_alphabet, decode, decoded_len, ROOM};
use crate::credentials::{is_bidi_formatting, is_forbidden_control, Credentials, Part};
use crate::normalize::is_nfc;
use crate::octets::OctetScan;
use crate::secret::{SecretString, StackScratch};

/// Default for [`ParseOptions::max_header_len`]: 4096 bytes.
pub const DEFAULT_MAX_HEADER_LEN: usize = 4096;

/// How strictly to read an `Authorization` header.
///
/// ```
/// use endpoint_auth::ParseOptions;
///
/// let strict = ParseOptions::new().latin1_fallback(false).max_header_len(1024);
/// assert_ne!(strict, ParseOptions::default());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    pub(crate) max_header_len: usize,
    pub(crate) latin1_fallback: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl ParseOptions {
    /// The SPEC defaults: 4096-byte limit, ISO-8859-1 fallback on.
    pub const fn new() -> Self {
        Self {
            max_header_len: DEFAULT_MAX_HEADER_LEN,
            latin1_fallback: true,
        }
    }

    /// Refuse header values longer than `bytes` (measured before trimming), without decoding
    /// them.
    pub const fn max_header_len(mut self, bytes: usize) -> Self {
        self.max_header_len = bytes;
        self
    }

    /// Whether octets that are not valid UTF-8 are read as ISO-8859-1 (RFC 7617 Appendix B),
    /// which is what several clients send for non-ASCII input. On by default.
    pub const fn latin1_fallback(mut self, enabled: bool) -> Self {
        self.latin1_fallback = enabled;
        self
    }
}

/// Why a request has no usable `Basic` credentials. Bad client input: it always leads to the
/// uniform 401 challenge, and exists for logs and audit only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The request has no `Authorization` field.
    #[error("no Authorization header")]
    Missing,
    /// The request has more than one `Authorization` field.
    #[error("{count} Authorization header fields; exactly one is allowed")]
    MultipleFields {
        /// How many fields were present.
        count: usize,
    },
    /// The field value is longer than the configured limit.
    #[error("Authorization header of {len} bytes exceeds the {max}-byte limit")]
    TooLong {
        /// The value's length in bytes.
        len: usize,
        /// The configured limit.
        max: usize,
    },
    /// The scheme is not `Basic` (compared case-insensitively).
    #[error("the Authorization scheme is not Basic")]
    NotBasic,
    /// The value is not `Basic 1*SP token68`: a bare scheme or token, a TAB separator, or
    /// anything after the token.
    #[error("the Authorization value is not of the form `Basic <base64>`")]
    Malformed,
    /// The token is not canonical, padded, standard-alphabet base64.
    #[error("the Basic token is not canonical padded base64")]
    InvalidBase64,
    /// The decoded token has no `:` separating user-id and password.
    #[error("the decoded Basic token has no ':' between user-id and password")]
    MissingColon,
    /// The decoded octets are not UTF-8 and the ISO-8859-1 fallback is off.
    #[error("the decoded Basic token is not valid UTF-8")]
    InvalidUtf8,
    /// A part contains a control character: C0, DEL or C1 (RFC 7617 §2).
    #[error("the {0} contains a control character")]
    ControlCharacter(Part),
    /// The user-id contains a bidirectional formatting character (SPEC §1.8).
    #[error("the username contains a bidirectional formatting character")]
    BidiFormatting,
}

/// Reads `Basic` credentials from all `Authorization` field values of a request.
///
/// Pass every value the request carries, in order; more than one is refused (SPEC §1.1).
///
/// ```
/// use endpoint_auth::{ParseOptions, parse::parse_authorization};
///
/// let values: [&[u8]; 1] = [b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="];
/// let credentials = parse_authorization(values, &ParseOptions::new()).unwrap();
/// assert_eq!(credentials.username(), "Aladdin");
/// assert_eq!(credentials.password(), "open sesame");
/// ```
///
/// # Errors
/// A [`ParseError`] naming the first SPEC §1 rule the input breaks.
pub fn parse_authorization<'a, I>(
    values: I,
    options: &ParseOptions,
) -> Result<Credentials, ParseError>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let mut values = values.into_iter();
    let first = values.next().ok_or(ParseError::Missing)?;
    let extra = values.count();
    if extra > 0 {
        return Err(ParseError::MultipleFields { count: extra + 1 });
    }
    parse_value(first, options)
}

/// Reads `Basic` credentials from an [`http::HeaderMap`]: the convenience for servers on
/// `http` 1.x (axum, warp, hyper).
///
/// # Errors
/// As [`parse_authorization`].
pub fn parse_header_map(
    headers: &http::HeaderMap,
    options: &ParseOptions,
) -> Result<Credentials, ParseError> {
    parse_authorization(
        headers
            .get_all(http::header::AUTHORIZATION)
            .iter()
            .map(|v| v.as_bytes()),
        options,
    )
}

/// Reads `Basic` credentials from a single `Authorization` field value.
///
/// # Errors
/// As [`parse_authorization`], except that it cannot see duplicate fields.
pub fn parse_value(value: &[u8], options: &ParseOptions) -> Result<Credentials, ParseError> {
    if value.len() > options.max_header_len {
        return Err(ParseError::TooLong {
            len: value.len(),
            max: options.max_header_len,
        });
    }
    let token = basic_token(trim_ows(value))?;
    let Some(len) = decoded_len(token) else {
        return Err(invalid_token(token));
    };
    // Decoded into whole words with room after the octets (see `decode`), the padding zero.
    let padded_len = (len + ROOM).next_multiple_of(8);
    let mut stack = StackScratch::new();
    if let Some(scratch) = stack.words(padded_len / 8) {
        // Nearly all credentials: decoded on the stack, then copied once, with the zeros up to a
        // whole word, into the allocation `Credentials` keeps.
        let out: &mut [u8] = bytemuck::cast_slice_mut(scratch);
        let octets = decode_checked(token, len, out)?;
        if !octets.all_ascii() {
            return not_ascii(&out[..len], &octets, options);
        }
        let colon = ascii_colon(&octets, &out[..len])?;
        let padded = &out[..len.next_multiple_of(8)];
        return match std::str::from_utf8(padded) {
            Ok(text) => Ok(Credentials::from_joined(
                SecretString::copy_of_padded(text, len),
                colon,
            )),
            Err(_) => Err(ParseError::InvalidUtf8), // ASCII always is UTF-8
        };
    }
    long_credentials(token, len, padded_len, options)
}

/// [`parse_value`] for credentials too long for the stack scratch space: decoded on the heap,
/// into the allocation that becomes the credentials'. Out of line, so that the common path stays
/// small.
#[cold]
#[inline(never)]
fn long_credentials(
    token: &[u8],
    len: usize,
    padded_len: usize,
    options: &ParseOptions,
) -> Result<Credentials, ParseError> {
    let mut out = Zeroizing::new(vec![0u8; padded_len]);
    let octets = decode_checked(token, len, &mut out)?;
    if !octets.all_ascii() {
        return not_ascii(&out[..len], &octets, options);
    }
    let colon = ascii_colon(&octets, &out[..len])?;
    match String::from_utf8(std::mem::take(&mut *out)) {
        Ok(padded) => Ok(Credentials::from_joined(
            SecretString::from_padded(padded, len),
            colon,
        )),
        Err(not_utf8) => {
            *out = not_utf8.into_bytes(); // wiped as it is dropped
            Err(ParseError::InvalidUtf8) // ASCII always is UTF-8
        }
    }
}

/// Decodes `token`, `len` octets, into `out` (see [`decode`] for the room it needs) and scans
/// them.
#[inline(always)]
fn decode_checked(token: &[u8], len: usize, out: &mut [u8]) -> Result<OctetScan, ParseError> {
    if !decode(token, out) {
        return Err(invalid_token(token));
    }
    Ok(OctetScan::of_padded(&out[..len.next_multiple_of(8)], len))
}

/// Where ASCII octets split into user-id and password, if they do and hold no control
/// character. ASCII is UTF-8 and already NFC, so these are the only checks left for it.
#[inline(always)]
fn ascii_colon(octets: &OctetScan, decoded: &[u8]) -> Result<usize, ParseError> {
    let colon = octets.first_colon().ok_or(ParseError::MissingColon)?;
    if octets.has_control() {
        return Err(control_character(decoded, colon));
    }
    Ok(colon)
}

/// The rest of [`parse_value`] for octets that are not all ASCII: UTF-8 (normalized to NFC) or,
/// if allowed, ISO-8859-1.
#[cold]
fn not_ascii(
    decoded: &[u8],
    octets: &OctetScan,
    options: &ParseOptions,
) -> Result<Credentials, ParseError> {
    let (text, colon) = match std::str::from_utf8(decoded) {
        Ok(text) => (
            SecretString::copy_of_padded(text, text.len()),
            octets.first_colon(),
        ),
        Err(_) => {
            // Each octet above 0x7F becomes two bytes of text, so the colon moves.
            let text = latin1(decoded, options)?;
            let colon = text.as_str().find(':');
            (text, colon)
        }
    };
    let colon = colon.ok_or(ParseError::MissingColon)?;
    let (username, password) = text.as_str().split_at(colon);
    let password = &password[1..];
    // Beyond ASCII, C1 controls and bidi formatting characters are possible too.
    if username.chars().any(is_forbidden_control) {
        return Err(ParseError::ControlCharacter(Part::Username));
    }
    if password.chars().any(is_forbidden_control) {
        return Err(ParseError::ControlCharacter(Part::Password));
    }
    if username.chars().any(is_bidi_formatting) {
        return Err(ParseError::BidiFormatting);
    }
    if is_nfc(username) && is_nfc(password) {
        Ok(Credentials::from_joined(text, colon))
    } else {
        Ok(Credentials::from_checked_parts(username, password))
    }
}

/// Why a token did not decode, worked out on the failure path only: one that is not even token68
/// (a second token, auth-params, a TAB) is malformed; anything else is bad base64.
#[cold]
fn invalid_token(token: &[u8]) -> ParseError {
    if is_token68(token) {
        ParseError::InvalidBase64
    } else {
        ParseError::Malformed
    }
}

/// Which part holds the control character `text` is known to contain.
#[cold]
fn control_character(text: &[u8], colon: usize) -> ParseError {
    if text[..colon].iter().any(|&b| is_control_byte(b)) {
        ParseError::ControlCharacter(Part::Username)
    } else {
        ParseError::ControlCharacter(Part::Password)
    }
}

/// Octets that are not UTF-8, read as ISO-8859-1 (RFC 7617 Appendix B) if that is allowed.
#[cold]
fn latin1(octets: &[u8], options: &ParseOptions) -> Result<SecretString, ParseError> {
    if !options.latin1_fallback {
        return Err(ParseError::InvalidUtf8);
    }
    // Each octet is the code point of the same value; reserving the worst case up front keeps
    // the buffer from reallocating and leaving a copy of the secret behind.
    let (text, ()) = SecretString::build(octets.len() * 2, |text| {
        octets.iter().for_each(|&b| text.push(char::from(b)));
    });
    Ok(text)
}

fn is_control_byte(b: u8) -> bool {
    b < 0x20 || b == 0x7f
}

/// Strips leading and trailing optional whitespace (SP, HTAB).
fn trim_ows(value: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    // Nearly always there is none.
    if !value.first().is_some_and(is_ows) && !value.last().is_some_and(is_ows) {
        return value;
    }
    let start = value.iter().position(|b| !is_ows(b)).unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |i| i + 1);
    &value[start..end]
}

/// Splits `Basic 1*SP token68` and returns the token.
fn basic_token(value: &[u8]) -> Result<&[u8], ParseError> {
    let space = if starts_with_basic_and_space(value) {
        5
    } else {
        // No space at all: a bare scheme, a bare token, or a TAB where the space belongs.
        let space = value
            .iter()
            .position(|&b| b == b' ')
            .ok_or(ParseError::Malformed)?;
        if !value[..space].eq_ignore_ascii_case(b"Basic") {
            return Err(ParseError::NotBasic);
        }
        space
    };
    let token = &value[space..];
    let token = &token[token.iter().position(|&b| b != b' ').unwrap_or(token.len())..];
    if token.is_empty() {
        return Err(ParseError::Malformed);
    }
    Ok(token)
}

/// Whether `value` starts with `Basic` (in any case) and one space: what nearly every client
/// sends, checked as one word.
#[inline]
fn starts_with_basic_and_space(value: &[u8]) -> bool {
    let Some(&start) = value.first_chunk::<6>() else {
        return false;
    };
    // Setting bit 0x20 lowercases a letter; only 'B' and 'b' become 'b', and so on. The space
    // is compared as it is, or NUL would pass for it.
    const LETTERS: u64 = 0x20_2020_2020;
    let mut word = [0u8; 8];
    word[..6].copy_from_slice(&start);
    (u64::from_le_bytes(word) | LETTERS) == u64::from_le_bytes(*b"basic \0\0")
}

/// `token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`, restricted to the
/// standard base64 alphabet (RFC 4648 §4), which is all Basic uses.
fn is_token68(token: &[u8]) -> bool {
    let body_end = token.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    body_end > 0 && all_in_alphabet(&token[..body_end])
}

#[cfg(test)]
mod reference;
#[cfg(test)]
mod tests;

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

use crate::credentials::{is_bidi_formatting, is_forbidden_control, Credentials, Part};
use crate::normalize::is_nfc;
use crate::secret::{SecretOctets, SecretString};

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
    // Decoded into a slice sized up front (three octets a group, and the byte past them that
    // the decoder's word stores run over), which cannot grow: no reallocation can leave an
    // unwiped copy of the secret behind.
    let mut octets = SecretOctets::zeroed(token.len() / 4 * 3 + 1);
    let len = decode(token, octets.as_mut_slice()).ok_or_else(|| invalid_token(token))?;
    let text = match SecretString::from_utf8(octets, len) {
        Ok(text) => text,
        Err(octets) => latin1(octets.as_slice(), options)?,
    };
    let (username, password) = text
        .as_str()
        .split_once(':')
        .ok_or(ParseError::MissingColon)?;
    let colon = username.len();
    // Printable ASCII, what nearly every client sends, holds no control character and is NFC
    // already. Checked in a pass with no early exit, which the compiler runs many bytes at a time.
    let printable = |ok, b| ok & (b' '..=b'~').contains(&b);
    if text.as_str().bytes().fold(true, printable) {
        return Ok(Credentials::from_joined(text, colon));
    }
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

/// For each position in a group of four characters, each byte's six bits shifted into place,
/// or [`INVALID`] for bytes outside the standard alphabet (RFC 4648 §4): a group decodes with
/// four lookups and three ORs.
const SHIFTED: [[u32; 256]; 4] = {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut tables = [[INVALID; 256]; 4];
    let mut position = 0;
    while position < 4 {
        let mut value = 0;
        while value < alphabet.len() {
            tables[position][alphabet[value] as usize] = (value as u32) << (18 - 6 * position);
            value += 1;
        }
        position += 1;
    }
    tables
};

/// Above the 24 bits a group carries: ORed over a token's groups, it says whether any byte was
/// outside the alphabet.
const INVALID: u32 = 1 << 24;

/// Decodes `token`, canonical padded base64, into `out`, three octets per group of four
/// characters and one more byte; how many octets, or `None` if it is anything else.
///
/// The `base64` crate's strict decoder reads the same tokens (the tests check that they agree),
/// but takes 1.7 times as long on a typical token: enough to make this parse, which checks more
/// than the `headers` crate's, slower than it, when the point is that it is not.
fn decode(token: &[u8], out: &mut [u8]) -> Option<usize> {
    let (groups, []) = token.as_chunks::<4>() else {
        return None;
    };
    let (&last, body) = groups.split_last()?;
    let bits = |group: [u8; 4]| {
        let [a, b, c, d] = group.map(usize::from);
        SHIFTED[0][a] | SHIFTED[1][b] | SHIFTED[2][c] | SHIFTED[3][d]
    };
    let mut seen = 0;
    let (pairs, odd) = body.as_chunks::<2>();
    // Two groups a step, stored together: fewer, wider stores.
    for (&[x, y], octets) in pairs.iter().zip(out.as_chunks_mut::<6>().0) {
        let (x, y) = (bits(x), bits(y));
        seen |= x | y;
        let [_, _, pair @ ..] = (u64::from(x) << 24 | u64::from(y)).to_be_bytes();
        *octets = pair;
    }
    if let [group] = odd {
        let group = bits(*group);
        seen |= group;
        let at = pairs.len() * 6;
        out.get_mut(at..at + 4)?
            .copy_from_slice(&(group << 8).to_be_bytes());
    }
    // `xyz=` carries two octets and `xy==` one; the padding reads as 'A', zero bits, and
    // canonical form leaves the bits past the octets clear too. A '=' anywhere else is invalid.
    let (last, kept) = match last {
        [a, b, b'=', b'='] => ([a, b, b'A', b'A'], 1),
        [a, b, c, b'='] => ([a, b, c, b'A'], 2),
        group => (group, 3),
    };
    let last = bits(last);
    if (seen | last) & INVALID != 0 || last & (0xFF_FFFF >> (8 * kept)) != 0 {
        return None;
    }
    let at = body.len() * 3;
    out.get_mut(at..at + 4)?
        .copy_from_slice(&(last << 8).to_be_bytes());
    Some(at + kept)
}

/// Octets that are not UTF-8, read as ISO-8859-1 (RFC 7617 Appendix B) if that is allowed.
fn latin1(octets: &[u8], options: &ParseOptions) -> Result<SecretString, ParseError> {
    if !options.latin1_fallback {
        return Err(ParseError::InvalidUtf8);
    }
    // Each octet is the code point of the same value, at most two bytes of UTF-8: reserving
    // that keeps the builder from having to move the text.
    let (text, ()) = SecretString::build(octets.len() * 2, |text| {
        octets.iter().for_each(|&b| text.push(char::from(b)));
    });
    Ok(text)
}

/// Why a token did not decode, worked out on the failure path only: one that is not even token68
/// (a second token, auth-params, a TAB) is malformed; anything else is bad base64.
#[cold]
fn invalid_token(token: &[u8]) -> ParseError {
    // token68, restricted to the standard base64 alphabet, which is all Basic uses.
    let body = &token[..token.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1)];
    let seen = body
        .iter()
        .fold(0, |seen, &b| seen | SHIFTED[0][usize::from(b)]);
    if body.is_empty() || seen & INVALID != 0 {
        ParseError::Malformed
    } else {
        ParseError::InvalidBase64
    }
}

/// Strips leading and trailing optional whitespace: SP and HTAB only, not all ASCII whitespace.
fn trim_ows(value: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value.iter().position(|b| !is_ows(b)).unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |i| i + 1);
    &value[start..end]
}

/// Splits `Basic 1*SP token68` and returns the token. Only SP separates: a TAB is left in the
/// token, which then fails as malformed.
fn basic_token(value: &[u8]) -> Result<&[u8], ParseError> {
    let space = match value.first_chunk::<6>() {
        // What nearly every client sends, checked without a search: a tenth of the parse.
        Some(start) if start.map(|b| b.to_ascii_lowercase()) == *b"basic " => 5,
        _ => {
            let space = value
                .iter()
                .position(|&b| b == b' ')
                .ok_or(ParseError::Malformed)?;
            if !value[..space].eq_ignore_ascii_case(b"Basic") {
                return Err(ParseError::NotBasic);
            }
            space
        }
    };
    let rest = &value[space..];
    let token = &rest[rest.iter().position(|&b| b != b' ').unwrap_or(rest.len())..];
    if token.is_empty() {
        return Err(ParseError::Malformed);
    }
    Ok(token)
}

#[cfg(test)]
mod reference;
#[cfg(test)]
mod tests;

//! SPEC §1 written out the plain way — the `base64` crate's strict decoder, one check after
//! another, byte by byte — as the reference the parser is compared against.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use proptest::prelude::*;

use super::*;

/// What [`parse_value`] should answer for `value`, reached by the obvious route.
fn reference(value: &[u8], options: &ParseOptions) -> Result<(String, String), ParseError> {
    if value.len() > options.max_header_len {
        return Err(ParseError::TooLong {
            len: value.len(),
            max: options.max_header_len,
        });
    }
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value.iter().position(|b| !is_ows(b)).unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |i| i + 1);
    let value = &value[start..end];
    let space = value
        .iter()
        .position(|&b| b == b' ')
        .ok_or(ParseError::Malformed)?;
    if !value[..space].eq_ignore_ascii_case(b"Basic") {
        return Err(ParseError::NotBasic);
    }
    let token: Vec<u8> = value[space..]
        .iter()
        .copied()
        .skip_while(|&b| b == b' ')
        .collect();
    if token.is_empty() {
        return Err(ParseError::Malformed);
    }
    let octets = STANDARD.decode(&token).map_err(|_| {
        let body: Vec<u8> = {
            let end = token.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
            token[..end].to_vec()
        };
        let alphabet = |b: &u8| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/';
        if !body.is_empty() && body.iter().all(alphabet) {
            ParseError::InvalidBase64
        } else {
            ParseError::Malformed
        }
    })?;
    let text = match String::from_utf8(octets) {
        Ok(text) => text,
        Err(_) if !options.latin1_fallback => return Err(ParseError::InvalidUtf8),
        Err(not_utf8) => not_utf8.as_bytes().iter().map(|&b| char::from(b)).collect(),
    };
    let (username, password) = text.split_once(':').ok_or(ParseError::MissingColon)?;
    let control = |part: &str| {
        part.chars()
            .any(|c| c < ' ' || ('\u{7f}'..='\u{9f}').contains(&c))
    };
    if control(username) {
        return Err(ParseError::ControlCharacter(Part::Username));
    }
    if control(password) {
        return Err(ParseError::ControlCharacter(Part::Password));
    }
    let bidi = [
        '\u{61c}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}',
        '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
    ];
    if username.chars().any(|c| bidi.contains(&c)) {
        return Err(ParseError::BidiFormatting);
    }
    Ok((
        crate::normalize::to_nfc(username),
        crate::normalize::to_nfc(password),
    ))
}

fn ours(value: &[u8], options: &ParseOptions) -> Result<(String, String), ParseError> {
    parse_value(value, options).map(|c| (c.username().to_owned(), c.password().to_owned()))
}

/// Header values near the grammar: schemes in several cases and some not Basic, separators
/// right and wrong, tokens encoded properly and then perhaps damaged, things after the token.
fn header_values() -> impl Strategy<Value = Vec<u8>> {
    let ows = prop::sample::select(vec!["", " ", "\t", " \t "]);
    let scheme = prop::sample::select(vec![
        "Basic", "basic", "BASIC", "bAsIc", "Bearer", "Basi", "",
    ]);
    let separator = prop::sample::select(vec!["", " ", "   ", "\t", " \t"]);
    let octets = prop::collection::vec(
        prop_oneof![
            any::<u8>(),
            prop::sample::select(b"a:\x7f\x00\xc3\xa9".to_vec())
        ],
        0..140,
    );
    let damage = (
        0..6u8,
        any::<prop::sample::Index>(),
        prop::sample::select(b"=-_! A\t/+".to_vec()),
    );
    let suffix = prop::sample::select(vec!["", " ", " x", ",", "\t", "="]);
    (ows.clone(), scheme, separator, octets, damage, suffix, ows).prop_map(
        |(lead, scheme, separator, octets, (kind, at, byte), suffix, trail)| {
            let mut token = STANDARD.encode(&octets).into_bytes();
            if !token.is_empty() {
                let at = at.index(token.len());
                match kind {
                    0 => token[at] = byte,
                    1 => token.truncate(at),
                    2 => token.insert(at, byte),
                    _ => {}
                }
            }
            let mut value = Vec::new();
            for part in [
                lead.as_bytes(),
                scheme.as_bytes(),
                separator.as_bytes(),
                &token,
            ] {
                value.extend_from_slice(part);
            }
            value.extend_from_slice(suffix.as_bytes());
            value.extend_from_slice(trail.as_bytes());
            value
        },
    )
}

#[test]
fn agrees_with_the_reference_on_every_byte_of_the_scheme_and_separator() {
    // Where the shortcut for `Basic ` decides, as what the search for the space would find.
    let options = ParseOptions::new();
    for position in 0..6 {
        for byte in 0..=255u8 {
            let mut value = *b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==";
            value[position] = byte;
            let value = &value[..];
            assert_eq!(
                ours(value, &options),
                reference(value, &options),
                "{value:?}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn agrees_with_the_reference_on_values_near_the_grammar(value in header_values(), latin1 in any::<bool>()) {
        let options = ParseOptions::new().latin1_fallback(latin1);
        prop_assert_eq!(ours(&value, &options), reference(&value, &options), "{:?}", String::from_utf8_lossy(&value));
    }

    #[test]
    fn agrees_with_the_reference_on_any_decoded_octets(octets in prop::collection::vec(any::<u8>(), 0..300), latin1 in any::<bool>()) {
        let options = ParseOptions::new().latin1_fallback(latin1);
        let value = [b"Basic ".as_slice(), STANDARD.encode(&octets).as_bytes()].concat();
        prop_assert_eq!(ours(&value, &options), reference(&value, &options));
    }

    #[test]
    fn agrees_with_the_reference_on_ascii_octets(octets in prop::collection::vec(prop_oneof![40 => 0x20..0x7Fu8, 3 => Just(b':'), 1 => 0..0x20u8, 1 => Just(0x7F)], 0..140)) {
        // Where the control-character checks on ASCII alone decide.
        let options = ParseOptions::new();
        let value = [b"Basic ".as_slice(), STANDARD.encode(&octets).as_bytes()].concat();
        prop_assert_eq!(ours(&value, &options), reference(&value, &options));
    }

    #[test]
    fn agrees_with_the_reference_on_arbitrary_bytes(value in prop::collection::vec(any::<u8>(), 0..100)) {
        let options = ParseOptions::new().max_header_len(64);
        prop_assert_eq!(ours(&value, &options), reference(&value, &options));
    }
}

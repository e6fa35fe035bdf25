//! Inputs on which the fuzz targets (`fuzz/`, see its README) found the core breaking an
//! invariant, pinned as named tests so that `cargo test` guards them without a fuzzer. Each input
//! is also in the seed corpus of the target that found it.
//!
//! Each test pins an input a fuzz target once found misread.

use endpoint_auth::{
    credentials::Part,
    parse::{parse_value, ParseError},
    Credentials, ParseOptions,
};

fn parse(value: &str) -> Result<Credentials, ParseError> {
    parse_value(value.as_bytes(), &ParseOptions::new())
}

/// `header` with `--features spec-c1-bidi`, seed `c1-in-username`: U+0085 (NEL, a C1 control)
/// in a UTF-8 user-id is accepted.
#[test]
fn regression_c1_control_in_username() {
    // "a\u{85}b:pw", UTF-8.
    let parsed = parse("Basic YcKFYjpwdw==");
    assert_eq!(
        parsed.err(),
        Some(ParseError::ControlCharacter(Part::Username))
    );
}

/// `header` with `--features spec-c1-bidi`, seed `c1-latin1`: octet 0x85 read through the
/// ISO-8859-1 fallback becomes U+0085, and is accepted.
#[test]
fn regression_c1_control_in_username_latin1() {
    // "a\x85b:pw", ISO-8859-1.
    let parsed = parse("Basic YYViOnB3");
    assert_eq!(
        parsed.err(),
        Some(ParseError::ControlCharacter(Part::Username))
    );
}

/// `header` with `--features spec-c1-bidi`: U+009F in the password is accepted.
#[test]
fn regression_c1_control_in_password() {
    // "user:p\u{9f}", UTF-8.
    let parsed = parse("Basic dXNlcjpwwp8=");
    assert_eq!(
        parsed.err(),
        Some(ParseError::ControlCharacter(Part::Password))
    );
}

/// `header` with `--features spec-c1-bidi`, seed `bidi-in-username`: a user-id with U+202E
/// (RIGHT-TO-LEFT OVERRIDE) displays as something it is not, and is accepted. Every other bidi
/// formatting character SPEC §1.8 names is refused the same way, and only in the user-id.
#[test]
fn regression_bidi_formatting_in_username() {
    // "admin\u{202e}gnp.exe:pw", UTF-8: shown as "adminexe.png".
    assert!(parse("Basic YWRtaW7igK5nbnAuZXhlOnB3").is_err());
    for c in [
        '\u{61c}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}',
        '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
    ] {
        let in_username = Credentials::new(&format!("a{c}b"), "pw")
            .map(|credentials| credentials.to_header_value());
        if let Ok(header) = in_username {
            let parsed = parse_value(header.as_bytes(), &ParseOptions::new());
            assert!(parsed.is_err(), "{c:?} in the user-id accepted");
        }
        let in_password = Credentials::new("user", &format!("a{c}b"))
            .expect("SPEC §1.8 allows bidi characters in passwords")
            .to_header_value();
        let parsed = parse_value(in_password.as_bytes(), &ParseOptions::new());
        assert!(parsed.is_ok(), "{c:?} in the password refused");
    }
}

//! `Authorization` parsing (SPEC §1): arbitrary bytes, split on `\n` into zero or more field
//! values, through `parse_authorization` and `parse_value` with the ISO-8859-1 fallback on and
//! off.
//!
//! Checked beyond "no panic":
//! - zero fields is `Missing`, two or more is `MultipleFields` with the right count;
//! - the core accepts exactly what the plain reference of SPEC §1 accepts, with the same
//!   user-id and password;
//! - accepted credentials hold no control character (C0, DEL, C1) and no bidi formatting
//!   character in the user-id, no `:` in the user-id, and are NFC;
//! - `Basic base64(user-id ":" password)` parses back to the same credentials, with the fallback
//!   on or off, and is what `Credentials::to_header_value` sends;
//! - the length limit is exact: a value of `len` bytes passes a limit of `len`, not `len - 1`.
#![no_main]
#![forbid(unsafe_code)]

use endpoint_auth::parse::{parse_authorization, parse_value, ParseError, DEFAULT_MAX_HEADER_LEN};
use endpoint_auth::{Credentials, ParseOptions};
use endpoint_auth_fuzz::{
    basic_header, forbidden_in_password, forbidden_in_username, reference_credentials, split_fields,
};
use libfuzzer_sys::fuzz_target;
use unicode_normalization::is_nfc;

fuzz_target!(|data: &[u8]| {
    let fields = split_fields(data);
    for latin1_fallback in [true, false] {
        let options = ParseOptions::new().latin1_fallback(latin1_fallback);
        let all = parse_authorization(fields.iter().copied(), &options);
        match fields.len() {
            0 => assert!(matches!(all, Err(ParseError::Missing)), "{all:?}"),
            1 => assert_same(&all, &parse_value(fields[0], &options)),
            n => assert!(
                matches!(all, Err(ParseError::MultipleFields { count }) if count == n),
                "{n} fields: {all:?}"
            ),
        }
        for field in &fields {
            check_value(field, &options, latin1_fallback);
        }
    }
});

/// Every invariant of one field value under `options` (the default length limit, the fallback
/// as given).
fn check_value(value: &[u8], options: &ParseOptions, latin1_fallback: bool) {
    let parsed = parse_value(value, options);
    if value.len() > DEFAULT_MAX_HEADER_LEN {
        assert!(
            matches!(parsed, Err(ParseError::TooLong { len, .. }) if len == value.len()),
            "{parsed:?}"
        );
        return;
    }
    // The limit is exact.
    let at_limit = options.max_header_len(value.len());
    assert_same(&parsed, &parse_value(value, &at_limit));
    if let Some(below) = value.len().checked_sub(1) {
        let below_limit = options.max_header_len(below);
        assert!(matches!(
            parse_value(value, &below_limit),
            Err(ParseError::TooLong { .. })
        ));
    }

    let expected = reference_credentials(value, latin1_fallback);
    let credentials = match (&parsed, expected) {
        (Err(_), None) => return,
        (Ok(credentials), Some((username, password))) => {
            assert_eq!(credentials.username(), username);
            assert!(credentials.password() == password, "password differs");
            credentials
        }
        (Ok(credentials), None) => panic!("accepted what SPEC §1 refuses: {credentials:?}"),
        (Err(error), Some((username, _))) => {
            panic!("refused ({error:?}) what SPEC §1 accepts, user-id {username:?}")
        }
    };
    check_credentials(credentials);
}

/// What holds for any credentials the parser hands out.
fn check_credentials(credentials: &Credentials) {
    let username = credentials.username();
    let password = credentials.password();
    assert!(!username.contains(':'), "{username:?}");
    if let Some(c) = forbidden_in_username(username) {
        panic!("user-id {username:?} holds {c:?}");
    }
    if let Some(c) = forbidden_in_password(password) {
        panic!("password holds {c:?}");
    }
    assert!(is_nfc(username), "user-id {username:?} is not NFC");
    assert!(is_nfc(password), "password is not NFC");
    assert!(credentials.matches(username, password));

    // Sent again as UTF-8, the credentials read back the same, whatever the fallback setting.
    let header = basic_header(username, password);
    assert_eq!(credentials.to_header_value().as_bytes(), header.as_slice());
    for latin1_fallback in [true, false] {
        let options = ParseOptions::new()
            .latin1_fallback(latin1_fallback)
            .max_header_len(usize::MAX);
        let again = parse_value(&header, &options);
        let Ok(again) = again else {
            panic!("re-encoded credentials refused: {again:?}")
        };
        assert_eq!(again.username(), username);
        assert!(
            again.password() == password,
            "password changed on re-encoding"
        );
    }
}

/// Two parses of the same field agree: the same credentials or the same error.
fn assert_same(a: &Result<Credentials, ParseError>, b: &Result<Credentials, ParseError>) {
    match (a, b) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.username(), b.username());
            assert!(a.password() == b.password(), "passwords differ");
        }
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("{a:?} vs {b:?}"),
    }
}

//! One test per SPEC §1 rule, accept and reject side, plus the RFC 7617 examples.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::*;

fn parse(value: &[u8]) -> Result<Credentials, ParseError> {
    parse_value(value, &ParseOptions::new())
}

fn header(decoded: &[u8]) -> Vec<u8> {
    let mut value = b"Basic ".to_vec();
    value.extend_from_slice(STANDARD.encode(decoded).as_bytes());
    value
}

fn ok(value: &[u8]) -> (String, String) {
    let c = parse(value)
        .unwrap_or_else(|e| panic!("{:?} refused: {e}", String::from_utf8_lossy(value)));
    (c.username().to_owned(), c.password().to_owned())
}

// RFC 7617 examples

#[test]
fn rfc7617_section2_aladdin() {
    assert_eq!(
        ok(b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
        ("Aladdin".into(), "open sesame".into())
    );
}

#[test]
fn rfc7617_section2_1_test_123_pound_utf8() {
    assert_eq!(
        ok(b"Basic dGVzdDoxMjPCow=="),
        ("test".into(), "123\u{a3}".into())
    );
}

// Rule 1: exactly one field

#[test]
fn rule1_missing_header() {
    let none: [&[u8]; 0] = [];
    assert_eq!(
        parse_authorization(none, &ParseOptions::new()).unwrap_err(),
        ParseError::Missing
    );
}

#[test]
fn rule1_two_fields_refused_even_if_both_valid() {
    let v: &[u8] = b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==";
    assert_eq!(
        parse_authorization([v, v], &ParseOptions::new()).unwrap_err(),
        ParseError::MultipleFields { count: 2 }
    );
}

#[test]
fn rule1_header_map_convenience_sees_duplicates() {
    let mut map = http::HeaderMap::new();
    map.append(
        http::header::AUTHORIZATION,
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==".parse().unwrap(),
    );
    assert!(parse_header_map(&map, &ParseOptions::new()).is_ok());
    map.append(
        http::header::AUTHORIZATION,
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==".parse().unwrap(),
    );
    assert_eq!(
        parse_header_map(&map, &ParseOptions::new()).unwrap_err(),
        ParseError::MultipleFields { count: 2 }
    );
}

// Rule 2: size limit

#[test]
fn rule2_at_the_limit_is_read_and_past_it_refused() {
    let options = ParseOptions::new().max_header_len(40);
    let mut value = header(b"u:");
    let pad = 40 - value.len();
    value.extend(std::iter::repeat_n(b' ', pad)); // trailing OWS up to exactly the limit
    assert!(parse_value(&value, &options).is_ok());
    value.push(b' ');
    assert_eq!(
        parse_value(&value, &options).unwrap_err(),
        ParseError::TooLong { len: 41, max: 40 }
    );
}

#[test]
fn rule2_default_limit_is_4096() {
    let long = header(&vec![b'a'; 5000]);
    assert!(matches!(
        parse(&long),
        Err(ParseError::TooLong { max: 4096, .. })
    ));
}

// Rule 3: optional whitespace around the value

#[test]
fn rule3_leading_and_trailing_ows_ignored() {
    assert_eq!(
        ok(b" \t Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ== \t ").0,
        "Aladdin"
    );
}

// Rule 4: scheme and separator

#[test]
fn rule4_scheme_is_case_insensitive() {
    for scheme in ["basic", "BASIC", "bAsIc"] {
        let value = format!("{scheme} QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert_eq!(ok(value.as_bytes()).0, "Aladdin", "{scheme}");
    }
}

#[test]
fn rule4_several_spaces_after_scheme() {
    assert_eq!(ok(b"Basic    QWxhZGRpbjpvcGVuIHNlc2FtZQ==").0, "Aladdin");
}

#[test]
fn rule4_other_schemes_refused() {
    for value in [
        "Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        "Digest username=\"a\"",
        "Basics QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
    ] {
        assert_eq!(
            parse(value.as_bytes()).unwrap_err(),
            ParseError::NotBasic,
            "{value}"
        );
    }
}

#[test]
fn rule4_tab_separator_refused() {
    assert_eq!(
        parse(b"Basic\tQWxhZGRpbjpvcGVuIHNlc2FtZQ==").unwrap_err(),
        ParseError::Malformed
    );
}

#[test]
fn rule4_bare_scheme_or_token_refused() {
    for value in ["Basic", "Basic ", "QWxhZGRpbjpvcGVuIHNlc2FtZQ==", ""] {
        assert_eq!(
            parse(value.as_bytes()).unwrap_err(),
            ParseError::Malformed,
            "{value:?}"
        );
    }
}

#[test]
fn rule4_anything_after_the_token_refused() {
    for value in [
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ== extra",
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==,",
        "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\tx",
        "Basic realm=\"x\"",
    ] {
        assert_eq!(
            parse(value.as_bytes()).unwrap_err(),
            ParseError::Malformed,
            "{value:?}"
        );
    }
}

// Rule 5: canonical padded base64

#[test]
fn rule5_padding_required() {
    assert!(parse(b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ").is_err());
}

#[test]
fn rule5_non_canonical_trailing_bits_refused() {
    // "QQ==" is canonical for "A"; "QR==" decodes to the same byte with non-zero trailing bits.
    assert!(parse(&header(b"A:")).is_ok());
    assert_eq!(parse(b"Basic QTp=").unwrap_err(), ParseError::InvalidBase64);
}

#[test]
fn rule5_url_safe_alphabet_refused() {
    // "??>" encodes to "Pz8+" in the standard alphabet and "Pz8-" in the URL-safe one.
    assert!(parse(&header(b"?:?>")).is_ok());
    let url_safe = format!(
        "Basic {}",
        base64::engine::general_purpose::URL_SAFE.encode(b"?:?>")
    );
    assert!(parse(url_safe.as_bytes()).is_err());
}

#[test]
fn rule5_garbage_refused() {
    for value in ["Basic !!!!", "Basic ====", "Basic Q", "Basic QWxh=ZGRp"] {
        assert!(parse(value.as_bytes()).is_err(), "{value}");
    }
}

// Rule 6: first colon splits

#[test]
fn rule6_no_colon_refused() {
    assert_eq!(
        parse(&header(b"justauser")).unwrap_err(),
        ParseError::MissingColon
    );
}

#[test]
fn rule6_first_colon_splits_and_parts_may_be_empty() {
    assert_eq!(
        ok(&header(b"user:pa:ss:")),
        ("user".into(), "pa:ss:".into())
    );
    assert_eq!(ok(&header(b":")), (String::new(), String::new()));
    assert_eq!(ok(&header(b":pw")), (String::new(), "pw".into()));
    assert_eq!(ok(&header(b"user:")), ("user".into(), String::new()));
}

// Rule 7: UTF-8, ISO-8859-1 fallback

#[test]
fn rule7_utf8_decoded() {
    assert_eq!(
        ok(&header("j\u{f6}rg:p\u{e4}ss".as_bytes())),
        ("j\u{f6}rg".into(), "p\u{e4}ss".into())
    );
}

#[test]
fn rule7_latin1_fallback_for_invalid_utf8() {
    // "jörg:pässword" as ISO-8859-1 octets, as e.g. Python requests sends it.
    let latin1 = b"j\xf6rg:p\xe4ssword";
    assert_eq!(
        ok(&header(latin1)),
        ("j\u{f6}rg".into(), "p\u{e4}ssword".into())
    );
}

#[test]
fn rule7_fallback_can_be_turned_off() {
    let options = ParseOptions::new().latin1_fallback(false);
    assert_eq!(
        parse_value(&header(b"j\xf6rg:pw"), &options).unwrap_err(),
        ParseError::InvalidUtf8
    );
    assert!(parse_value(&header("j\u{f6}rg:pw".as_bytes()), &options).is_ok());
}

// Rule 8: no control characters

#[test]
fn rule8_control_characters_refused_in_either_part() {
    for (decoded, part) in [
        (&b"us\x00er:pw"[..], Part::Username),
        (b"user\n:pw", Part::Username),
        (b"user:p\rw", Part::Password),
        (b"user:pw\x7f", Part::Password),
        (b"user:\x1f", Part::Password),
        (b"\tuser:pw", Part::Username),
    ] {
        assert_eq!(
            parse(&header(decoded)).unwrap_err(),
            ParseError::ControlCharacter(part),
            "{decoded:?}"
        );
    }
}

#[test]
fn rule8_c1_controls_refused_in_utf8_and_latin1() {
    // U+0085 (NEXT LINE) in UTF-8, and the octet 0x85 read as ISO-8859-1.
    for (decoded, part) in [
        ("us\u{85}er:pw".as_bytes(), Part::Username),
        ("user:p\u{9f}w".as_bytes(), Part::Password),
        (&b"us\x85er:pw"[..], Part::Username),
        (b"user:\x80", Part::Password),
    ] {
        assert_eq!(
            parse(&header(decoded)).unwrap_err(),
            ParseError::ControlCharacter(part),
            "{decoded:?}"
        );
    }
}

#[test]
fn rule8_bidi_formatting_refused_in_the_username_only() {
    for bidi in [
        '\u{61c}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}',
    ] {
        let decoded = format!("admin{bidi}gpj.exe:pw");
        assert_eq!(
            parse(&header(decoded.as_bytes())).unwrap_err(),
            ParseError::BidiFormatting,
            "{bidi:?}"
        );
        let in_password = format!("admin:p{bidi}w");
        assert_eq!(ok(&header(in_password.as_bytes())).1, format!("p{bidi}w"));
    }
}

#[test]
fn rule8_space_and_non_ascii_are_not_control_characters() {
    assert_eq!(
        ok(&header("a b:\u{a0}x y\u{1f600}".as_bytes())).1,
        "\u{a0}x y\u{1f600}"
    );
}

// Rule 9: NFC

#[test]
fn rule9_both_parts_normalized_to_nfc() {
    let decomposed = "Jose\u{301}:cafe\u{301}";
    assert_eq!(
        ok(&header(decomposed.as_bytes())),
        ("Jos\u{e9}".into(), "caf\u{e9}".into())
    );
}

#[test]
fn rule9_already_nfc_is_unchanged() {
    assert_eq!(
        ok(&header("Jos\u{e9}:caf\u{e9}".as_bytes())),
        ("Jos\u{e9}".into(), "caf\u{e9}".into())
    );
}

// Round trip with the builder

#[test]
fn header_value_builder_round_trips() {
    let c = Credentials::new("user123@gmail.com", "mySuperS3cretPassw0rd").unwrap();
    let parsed = parse(c.to_header_value().as_bytes()).unwrap();
    assert_eq!(parsed.username(), "user123@gmail.com");
    assert_eq!(parsed.password(), "mySuperS3cretPassw0rd");
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn username() -> impl Strategy<Value = String> {
        any::<String>().prop_map(|s| {
            s.chars()
                .filter(|&c| c != ':' && !crate::credentials::is_forbidden_control(c))
                .collect()
        })
    }

    fn password() -> impl Strategy<Value = String> {
        any::<String>().prop_map(|s| {
            s.chars()
                .filter(|&c| !crate::credentials::is_forbidden_control(c))
                .collect()
        })
    }

    proptest! {
        #[test]
        fn encode_then_parse_round_trips(user in username(), pass in password()) {
            let built = Credentials::new(&user, &pass).unwrap();
            let parsed = parse(built.to_header_value().as_bytes()).unwrap();
            prop_assert_eq!(parsed.username(), crate::normalize::to_nfc(&user));
            prop_assert_eq!(parsed.password(), crate::normalize::to_nfc(&pass));
        }

        #[test]
        fn ascii_credentials_of_every_length_round_trip(user in "[ -9;-~]{0,200}", pass in "[ -~]{0,300}") {
            let built = Credentials::new(&user, &pass).unwrap();
            let parsed = parse(built.to_header_value().as_bytes()).unwrap();
            prop_assert_eq!(parsed.username(), user.as_str());
            prop_assert_eq!(parsed.password(), pass.as_str());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse(&bytes);
            let mut prefixed = b"Basic ".to_vec();
            prefixed.extend_from_slice(&bytes);
            let _ = parse(&prefixed);
        }

        #[test]
        fn arbitrary_decoded_octets_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(c) = parse(&header(&bytes)) {
                prop_assert!(!c.username().contains(':'));
                prop_assert!(!c.username().chars().any(crate::credentials::is_forbidden_control));
                prop_assert!(!c.password().chars().any(crate::credentials::is_forbidden_control));
            }
        }
    }
}

#[test]
fn credentials_of_many_lengths_parse_alike() {
    // Every length over a range of whole and partial base64 groups, and one near the header
    // size limit.
    for len in (4..=140).chain([3000]) {
        for password in [
            "p".repeat(len - 2),
            format!("{}\u{e9}", "p".repeat(len - 4)),
        ] {
            let header = header(format!("u:{password}").as_bytes());
            let parsed = parse(&header).unwrap();
            assert_eq!(parsed.username(), "u");
            assert_eq!(parsed.password(), password, "{len}");
        }
    }
}

mod decoding {
    use proptest::prelude::*;

    use super::*;

    fn ours(token: &[u8]) -> Option<Vec<u8>> {
        let mut out = vec![0; token.len() / 4 * 3 + 1];
        let len = super::super::decode(token, &mut out)?;
        out.truncate(len);
        Some(out)
    }

    /// The `base64` crate's strict decoder, except that the empty token (a bare scheme) is
    /// refused.
    fn reference(token: &[u8]) -> Option<Vec<u8>> {
        STANDARD.decode(token).ok().filter(|_| !token.is_empty())
    }

    #[test]
    fn rfc4648_test_vectors() {
        for (encoded, decoded) in [
            ("Zg==", "f"),
            ("Zm8=", "fo"),
            ("Zm9v", "foo"),
            ("Zm9vYg==", "foob"),
            ("Zm9vYmE=", "fooba"),
            ("Zm9vYmFy", "foobar"),
        ] {
            assert_eq!(ours(encoded.as_bytes()), Some(decoded.as_bytes().to_vec()));
        }
    }

    #[test]
    fn refuses_what_is_not_canonical_padded_standard_base64() {
        for bad in [
            "", "Zg", "Zg=", "Zm9", "Zg===", "====", "Z===", "Zh==", "Zm9=", "Zm-v", "Zm_v",
            "Zm9v\n", "Zm 9v", "Zg==Zm9v", "Zm=v", "=m9v", "Z=m=",
        ] {
            assert_eq!(ours(bad.as_bytes()), None, "{bad:?}");
            assert_eq!(
                reference(bad.as_bytes()),
                None,
                "the reference agrees on {bad:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn agrees_with_the_base64_crate_on_encoded_data(data in prop::collection::vec(any::<u8>(), 0..200)) {
            let token = STANDARD.encode(&data);
            prop_assert_eq!(ours(token.as_bytes()), reference(token.as_bytes()));
        }

        #[test]
        fn agrees_on_every_variant_of_the_last_character(data in prop::collection::vec(any::<u8>(), 1..60), replacement in "[A-Za-z0-9+/]") {
            // Where canonical form is decided: the bits the padding leaves unused.
            let token = STANDARD.encode(&data);
            let last = token.trim_end_matches('=').len() - 1;
            let mut variant = token.into_bytes();
            variant[last] = replacement.as_bytes()[0];
            prop_assert_eq!(ours(&variant), reference(&variant));
        }

        #[test]
        fn agrees_with_the_base64_crate_on_arbitrary_tokens(token in "[A-Za-z0-9+/=_ -]{0,24}") {
            prop_assert_eq!(ours(token.as_bytes()), reference(token.as_bytes()));
        }

        #[test]
        fn agrees_with_the_base64_crate_on_arbitrary_bytes(token in prop::collection::vec(any::<u8>(), 0..40)) {
            prop_assert_eq!(ours(&token), reference(&token));
        }
    }
}

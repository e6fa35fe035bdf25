//! One function per SPEC rule. Each gets a running server and its fixture, sends raw HTTP, and
//! returns `Err` with what the adapter did wrong.

use std::net::SocketAddr;

use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine as _;
use serde_json::json;

use crate::client::{send, RawResponse};
use crate::fixture::*;
use crate::routes::{rfc3339, CONFIRMED, CREDENTIALS, OPEN, PROTECTED};

/// What a case returns: `Err` explains the violation.
pub type CaseResult = Result<(), String>;

/// What a case works with.
#[derive(Debug)]
pub struct Context<'a> {
    /// Where the adapter under test listens.
    pub addr: SocketAddr,
    /// The fixture it serves.
    pub fixture: &'a Fixture,
}

impl Context<'_> {
    fn get(&self, path: &str, headers: &[&[u8]]) -> Result<RawResponse, String> {
        send(self.addr, "GET", path, headers)
    }

    fn get_basic(&self, path: &str, user: &str, password: &str) -> Result<RawResponse, String> {
        self.get(path, &[&basic(user.as_bytes(), password.as_bytes())])
    }
}

/// `Authorization: Basic base64(user ":" password)` over raw octets.
fn basic(user: &[u8], password: &[u8]) -> Vec<u8> {
    let mut decoded = user.to_vec();
    decoded.push(b':');
    decoded.extend_from_slice(password);
    authorization(format!("Basic {}", STANDARD.encode(decoded)).as_bytes())
}

fn authorization(value: &[u8]) -> Vec<u8> {
    let mut line = b"Authorization: ".to_vec();
    line.extend_from_slice(value);
    line
}

fn describe(response: &RawResponse) -> String {
    format!(
        "status {}, headers {:?}, body {:?}",
        response.status,
        response
            .headers
            .iter()
            .map(|(n, v)| format!("{n}: {}", String::from_utf8_lossy(v)))
            .collect::<Vec<_>>(),
        response.text()
    )
}

/// The exact SPEC §3 401.
fn expect_challenge(response: &RawResponse) -> CaseResult {
    let fail = |what: &str| {
        Err(format!(
            "expected the SPEC §3 401 ({what}); got {}",
            describe(response)
        ))
    };
    if response.status != 401 {
        return fail("status 401");
    }
    let challenges = response.header_values("www-authenticate");
    if challenges != [EXPECTED_CHALLENGE.as_bytes()] {
        return fail(&format!(
            "exactly one WWW-Authenticate: {EXPECTED_CHALLENGE}"
        ));
    }
    match response.header("content-type") {
        Some(ct) if ct.eq_ignore_ascii_case("text/plain; charset=utf-8") => {}
        _ => return fail("Content-Type: text/plain; charset=utf-8"),
    }
    if response.body != b"Unauthorized" {
        return fail("body `Unauthorized`");
    }
    Ok(())
}

fn expect_status(response: &RawResponse, status: u16) -> CaseResult {
    if response.status == status {
        Ok(())
    } else {
        Err(format!(
            "expected status {status}; got {}",
            describe(response)
        ))
    }
}

fn expect_json(response: &RawResponse, expected: &serde_json::Value) -> CaseResult {
    expect_status(response, 200)?;
    let body = response.json()?;
    if &body == expected {
        Ok(())
    } else {
        Err(format!("expected body {expected}; got {body}"))
    }
}

fn expect_credentials(response: &RawResponse, username: &str, password: &str) -> CaseResult {
    expect_json(
        response,
        &json!({ "username": username, "password": password }),
    )
}

/// `/protected` answering with the fixture user `email` (its stored spelling).
fn expect_user(response: &RawResponse, email: &str) -> CaseResult {
    expect_status(response, 200)?;
    let body = response.json()?;
    if body["email"] != email {
        return Err(format!("expected the user {email:?}; got {body}"));
    }
    if !body["id"].is_i64() {
        return Err(format!("expected a numeric id; got {body}"));
    }
    if body["signed_up"] != rfc3339(signed_up()) {
        return Err(format!(
            "expected signed_up {:?}; got {body}",
            rfc3339(signed_up())
        ));
    }
    Ok(())
}

fn expect_unavailable(response: &RawResponse) -> CaseResult {
    expect_status(response, 503)?;
    let retry = response.header("retry-after").unwrap_or_default();
    if retry.parse::<u64>().map_or(true, |s| s == 0) {
        return Err(format!(
            "503 needs Retry-After in whole seconds ≥ 1; got {}",
            describe(response)
        ));
    }
    if !response.header_values("www-authenticate").is_empty() {
        return Err(format!(
            "503 must not challenge (clients would drop good credentials); got {}",
            describe(response)
        ));
    }
    Ok(())
}

// §1.1 exactly one Authorization field

/// No `Authorization` field: 401.
pub fn no_authorization_header(cx: &mut Context<'_>) -> CaseResult {
    expect_challenge(&cx.get(PROTECTED, &[])?)?;
    expect_challenge(&cx.get(CREDENTIALS, &[])?)
}

/// Two `Authorization` fields, both valid: 401.
pub fn two_authorization_fields(cx: &mut Context<'_>) -> CaseResult {
    let field = basic(SEED_EMAIL.as_bytes(), SEED_PASSWORD.as_bytes());
    expect_challenge(&cx.get(PROTECTED, &[&field, &field])?)?;
    expect_challenge(&cx.get(CREDENTIALS, &[&field, &field])?)
}

// §1.2 size limit

/// A 20 KB value: 401, not 400, 431 or 500.
pub fn header_longer_than_limit(cx: &mut Context<'_>) -> CaseResult {
    let long_password = "x".repeat(15_000);
    expect_challenge(&cx.get_basic(CREDENTIALS, SEED_EMAIL, &long_password)?)?;
    expect_challenge(&cx.get_basic(PROTECTED, SEED_EMAIL, &long_password)?)
}

/// A value of exactly 4096 bytes is read.
pub fn header_at_limit_is_read(cx: &mut Context<'_>) -> CaseResult {
    // "Basic" + 3 spaces + 4088 base64 characters (3066 octets: "u:" + 3064 × 'a') = 4096.
    let password = "a".repeat(3064);
    let value = format!("Basic   {}", STANDARD.encode(format!("u:{password}")));
    if value.len() != 4096 {
        return Err(format!("suite bug: built a {}-byte value", value.len()));
    }
    expect_credentials(
        &cx.get(CREDENTIALS, &[&authorization(value.as_bytes())])?,
        "u",
        &password,
    )
}

// §1.3 optional whitespace

/// Leading and trailing SP / HTAB around the value are ignored.
pub fn surrounding_whitespace_ignored(cx: &mut Context<'_>) -> CaseResult {
    let line = b"Authorization: \t  Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ== \t ";
    expect_credentials(&cx.get(CREDENTIALS, &[line])?, "Aladdin", "open sesame")
}

// §1.4 scheme and separator

/// `basic` in lower case is accepted.
pub fn scheme_lowercase_accepted(cx: &mut Context<'_>) -> CaseResult {
    let line = authorization(b"basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    expect_credentials(&cx.get(CREDENTIALS, &[&line])?, "Aladdin", "open sesame")
}

/// `BASIC` in upper case is accepted.
pub fn scheme_uppercase_accepted(cx: &mut Context<'_>) -> CaseResult {
    let encoded = STANDARD.encode(format!("{SEED_EMAIL}:{SEED_PASSWORD}"));
    let line = authorization(format!("BASIC {encoded}").as_bytes());
    expect_user(&cx.get(PROTECTED, &[&line])?, SEED_EMAIL)
}

/// Several spaces between scheme and token (`1*SP`) are accepted.
pub fn several_spaces_after_scheme_accepted(cx: &mut Context<'_>) -> CaseResult {
    let line = authorization(b"Basic    QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    expect_credentials(&cx.get(CREDENTIALS, &[&line])?, "Aladdin", "open sesame")
}

/// Another scheme (`Bearer`, `Digest`) is a failure.
pub fn other_scheme_refused(cx: &mut Context<'_>) -> CaseResult {
    for value in [
        &b"Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ=="[..],
        b"Digest username=\"Aladdin\"",
    ] {
        expect_challenge(&cx.get(CREDENTIALS, &[&authorization(value)])?)?;
    }
    Ok(())
}

/// No space between scheme and token.
pub fn missing_space_refused(cx: &mut Context<'_>) -> CaseResult {
    expect_challenge(&cx.get(
        CREDENTIALS,
        &[&authorization(b"BasicQWxhZGRpbjpvcGVuIHNlc2FtZQ==")],
    )?)
}

/// A TAB as the separator.
pub fn tab_separator_refused(cx: &mut Context<'_>) -> CaseResult {
    expect_challenge(&cx.get(
        CREDENTIALS,
        &[&authorization(b"Basic\tQWxhZGRpbjpvcGVuIHNlc2FtZQ==")],
    )?)
}

/// A bare token without a scheme.
pub fn bare_token_refused(cx: &mut Context<'_>) -> CaseResult {
    expect_challenge(&cx.get(
        CREDENTIALS,
        &[&authorization(b"QWxhZGRpbjpvcGVuIHNlc2FtZQ==")],
    )?)
}

/// A bare scheme without a token.
pub fn bare_scheme_refused(cx: &mut Context<'_>) -> CaseResult {
    expect_challenge(&cx.get(CREDENTIALS, &[&authorization(b"Basic")])?)
}

/// Anything after the token (a second token, auth-params).
pub fn data_after_token_refused(cx: &mut Context<'_>) -> CaseResult {
    for value in [
        &b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ== QWxhZGRpbjpvcGVuIHNlc2FtZQ=="[..],
        b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==, realm=\"x\"",
    ] {
        expect_challenge(&cx.get(CREDENTIALS, &[&authorization(value)])?)?;
    }
    Ok(())
}

// §1.5 canonical base64

/// Missing `=` padding.
pub fn unpadded_base64_refused(cx: &mut Context<'_>) -> CaseResult {
    expect_challenge(&cx.get(
        CREDENTIALS,
        &[&authorization(b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ")],
    )?)
}

/// Non-zero trailing bits (`QTp=` instead of the canonical `QTo=` for `A:`).
pub fn non_canonical_base64_refused(cx: &mut Context<'_>) -> CaseResult {
    expect_credentials(
        &cx.get(CREDENTIALS, &[&authorization(b"Basic QTo=")])?,
        "A",
        "",
    )?;
    expect_challenge(&cx.get(CREDENTIALS, &[&authorization(b"Basic QTp=")])?)
}

/// The URL-safe alphabet (`-`, `_`).
pub fn url_safe_base64_refused(cx: &mut Context<'_>) -> CaseResult {
    let decoded = b"?:?>~";
    expect_credentials(&cx.get(CREDENTIALS, &[&basic(b"?", b"?>~")])?, "?", "?>~")?;
    let url_safe = format!("Basic {}", URL_SAFE.encode(decoded));
    expect_challenge(&cx.get(CREDENTIALS, &[&authorization(url_safe.as_bytes())])?)
}

/// Characters outside base64 altogether.
pub fn invalid_base64_refused(cx: &mut Context<'_>) -> CaseResult {
    for value in [&b"Basic !!!!"[..], b"Basic ====", b"Basic QWxh=ZGRp"] {
        expect_challenge(&cx.get(CREDENTIALS, &[&authorization(value)])?)?;
    }
    Ok(())
}

// §1.6 first colon

/// No `:` in the decoded token.
pub fn no_colon_refused(cx: &mut Context<'_>) -> CaseResult {
    let value = format!("Basic {}", STANDARD.encode(SEED_EMAIL));
    expect_challenge(&cx.get(CREDENTIALS, &[&authorization(value.as_bytes())])?)?;
    expect_challenge(&cx.get(PROTECTED, &[&authorization(value.as_bytes())])?)
}

/// The first `:` splits; the password keeps later ones.
pub fn password_keeps_later_colons(cx: &mut Context<'_>) -> CaseResult {
    expect_credentials(
        &cx.get_basic(CREDENTIALS, "user", "pa:ss:word:")?,
        "user",
        "pa:ss:word:",
    )
}

/// Either part may be empty.
pub fn empty_username_and_password_allowed(cx: &mut Context<'_>) -> CaseResult {
    expect_credentials(&cx.get_basic(CREDENTIALS, "", "")?, "", "")?;
    expect_credentials(
        &cx.get_basic(CREDENTIALS, "", "only-password")?,
        "",
        "only-password",
    )?;
    expect_credentials(
        &cx.get_basic(CREDENTIALS, "only-user", "")?,
        "only-user",
        "",
    )
}

// §1.7 UTF-8, ISO-8859-1 fallback

/// RFC 7617 §2.1's example: `test` / `123£` in UTF-8.
pub fn utf8_credentials_decoded(cx: &mut Context<'_>) -> CaseResult {
    expect_credentials(
        &cx.get(CREDENTIALS, &[&authorization(b"Basic dGVzdDoxMjPCow==")])?,
        "test",
        "123\u{a3}",
    )
}

/// RFC 7617 §2's example: `Aladdin` / `open sesame`.
pub fn rfc7617_aladdin_example(cx: &mut Context<'_>) -> CaseResult {
    expect_credentials(
        &cx.get(
            CREDENTIALS,
            &[&authorization(b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")],
        )?,
        "Aladdin",
        "open sesame",
    )
}

/// Octets that are not UTF-8 are read as ISO-8859-1.
pub fn latin1_fallback(cx: &mut Context<'_>) -> CaseResult {
    expect_credentials(
        &cx.get(CREDENTIALS, &[&basic(b"j\xf6rg", b"p\xe4ss")])?,
        "j\u{f6}rg",
        "p\u{e4}ss",
    )
}

// §1.8 control characters

/// A control character in either part: 401.
pub fn control_character_refused(cx: &mut Context<'_>) -> CaseResult {
    for (user, password) in [
        (&b"us\x01er"[..], &b"pw"[..]),
        (b"user", b"p\x7fw"),
        (b"user\x00", b"pw"),
        (b"user", b"pw\n"),
    ] {
        expect_challenge(&cx.get(CREDENTIALS, &[&basic(user, password)])?)?;
    }
    let mut seed_with_control = SEED_PASSWORD.as_bytes().to_vec();
    seed_with_control.push(0x1f);
    expect_challenge(&cx.get(
        PROTECTED,
        &[&basic(SEED_EMAIL.as_bytes(), &seed_with_control)],
    )?)
}

// §1.9 NFC

/// Decomposed input is handed over composed.
pub fn nfc_normalized(cx: &mut Context<'_>) -> CaseResult {
    expect_credentials(
        &cx.get_basic(CREDENTIALS, "Jose\u{301}", "cafe\u{301}")?,
        "Jos\u{e9}",
        "caf\u{e9}",
    )
}

/// A password typed decomposed verifies against one stored composed.
pub fn nfc_password_authenticates(cx: &mut Context<'_>) -> CaseResult {
    let decomposed_password = "pa\u{308}ss:wo\u{308}rd e\u{301}te\u{301}";
    let decomposed_email = "jo\u{308}rg@example.com";
    expect_user(
        &cx.get_basic(PROTECTED, decomposed_email, decomposed_password)?,
        NON_ASCII_EMAIL,
    )
}

// §2 authenticate_users

/// The seed's user gets in and the handler gets the stored user.
pub fn authenticate_users_seed_user(cx: &mut Context<'_>) -> CaseResult {
    expect_user(
        &cx.get_basic(PROTECTED, SEED_EMAIL, SEED_PASSWORD)?,
        SEED_EMAIL,
    )?;
    expect_user(
        &cx.get_basic(CONFIRMED, SEED_EMAIL, SEED_PASSWORD)?,
        SEED_EMAIL,
    )
}

/// Email matching ignores case and surrounding whitespace.
pub fn email_match_case_insensitive(cx: &mut Context<'_>) -> CaseResult {
    expect_user(
        &cx.get_basic(PROTECTED, "mixed.case@example.com", SEED_PASSWORD)?,
        MIXED_CASE_EMAIL,
    )?;
    expect_user(
        &cx.get_basic(PROTECTED, "USER123@GMAIL.COM", SEED_PASSWORD)?,
        SEED_EMAIL,
    )?;
    expect_user(
        &cx.get_basic(PROTECTED, " user123@gmail.com ", SEED_PASSWORD)?,
        SEED_EMAIL,
    )
}

/// Non-ASCII email, non-ASCII password containing `:`.
pub fn non_ascii_user_with_colon_in_password(cx: &mut Context<'_>) -> CaseResult {
    expect_user(
        &cx.get_basic(PROTECTED, NON_ASCII_EMAIL, NON_ASCII_PASSWORD)?,
        NON_ASCII_EMAIL,
    )
}

/// A wrong password: 401.
pub fn wrong_password_refused(cx: &mut Context<'_>) -> CaseResult {
    expect_challenge(&cx.get_basic(PROTECTED, SEED_EMAIL, "mySuperS3cretPassw0rD")?)?;
    expect_challenge(&cx.get_basic(PROTECTED, SEED_EMAIL, "")?)
}

/// An unknown user: 401.
pub fn unknown_user_refused(cx: &mut Context<'_>) -> CaseResult {
    expect_challenge(&cx.get_basic(PROTECTED, "nobody@example.com", SEED_PASSWORD)?)
}

/// A disabled user with the right password: 401.
pub fn disabled_user_refused(cx: &mut Context<'_>) -> CaseResult {
    expect_challenge(&cx.get_basic(PROTECTED, DISABLED_EMAIL, SEED_PASSWORD)?)
}

/// An unconfirmed user on an endpoint requiring confirmation: 401.
pub fn unconfirmed_user_refused_where_required(cx: &mut Context<'_>) -> CaseResult {
    expect_challenge(&cx.get_basic(CONFIRMED, UNCONFIRMED_EMAIL, SEED_PASSWORD)?)
}

/// An unconfirmed user on an endpoint not requiring confirmation: 200.
pub fn unconfirmed_user_allowed_elsewhere(cx: &mut Context<'_>) -> CaseResult {
    expect_user(
        &cx.get_basic(PROTECTED, UNCONFIRMED_EMAIL, SEED_PASSWORD)?,
        UNCONFIRMED_EMAIL,
    )
}

/// A bcrypt user logs in and its hash is replaced by argon2id, which then works.
pub fn bcrypt_hash_upgraded_to_argon2id(cx: &mut Context<'_>) -> CaseResult {
    expect_user(
        &cx.get_basic(PROTECTED, BCRYPT_EMAIL, SEED_PASSWORD)?,
        BCRYPT_EMAIL,
    )?;
    match cx.fixture.replaced_hash(BCRYPT_EMAIL) {
        Some(hash) if hash.starts_with("$argon2id$") => {}
        other => {
            return Err(format!(
                "expected the bcrypt hash to be replaced by argon2id; store saw {other:?}"
            ))
        }
    }
    expect_user(
        &cx.get_basic(PROTECTED, BCRYPT_EMAIL, SEED_PASSWORD)?,
        BCRYPT_EMAIL,
    )?;
    expect_challenge(&cx.get_basic(PROTECTED, BCRYPT_EMAIL, "wrong")?)
}

// §2 require_credentials

/// The handler receives username and password as sent.
pub fn require_credentials_hands_over_pair(cx: &mut Context<'_>) -> CaseResult {
    expect_credentials(
        &cx.get_basic(CREDENTIALS, "any user", "any password")?,
        "any user",
        "any password",
    )
}

/// No credentials on a require_credentials route: 401.
pub fn require_credentials_without_header_refused(cx: &mut Context<'_>) -> CaseResult {
    expect_challenge(&cx.get(CREDENTIALS, &[])?)
}

/// `/open` needs nothing.
pub fn open_route_needs_nothing(cx: &mut Context<'_>) -> CaseResult {
    expect_json(&cx.get(OPEN, &[])?, &json!({ "ok": true }))
}

// §3 the uniform 401

/// Every failure reason answers with the same status, headers (but `Date`) and body.
pub fn failures_answer_identically(cx: &mut Context<'_>) -> CaseResult {
    let requests: Vec<(&str, Vec<Vec<u8>>)> = vec![
        ("no header", vec![]),
        ("malformed", vec![authorization(b"Basic !!!")]),
        (
            "unknown user",
            vec![basic(b"nobody@example.com", SEED_PASSWORD.as_bytes())],
        ),
        (
            "wrong password",
            vec![basic(SEED_EMAIL.as_bytes(), b"wrong")],
        ),
        (
            "disabled",
            vec![basic(DISABLED_EMAIL.as_bytes(), SEED_PASSWORD.as_bytes())],
        ),
    ];
    let mut first: Option<(&str, RawResponse)> = None;
    for (label, headers) in requests {
        let lines: Vec<&[u8]> = headers.iter().map(Vec::as_slice).collect();
        let mut response = cx.get(PROTECTED, &lines)?;
        expect_challenge(&response).map_err(|e| format!("{label}: {e}"))?;
        response.headers.retain(|(name, _)| name != "date");
        match &first {
            None => first = Some((label, response)),
            Some((first_label, first_response)) if *first_response != response => {
                return Err(format!(
                    "{first_label:?} and {label:?} answer differently: {} vs {}",
                    describe(first_response),
                    describe(&response)
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The challenge escapes `"` and `\` in the realm, byte for byte.
pub fn challenge_escapes_realm(cx: &mut Context<'_>) -> CaseResult {
    let response = cx.get(CONFIRMED, &[])?;
    expect_challenge(&response)?;
    let challenge = response.header_values("www-authenticate")[0];
    if challenge != br#"Basic realm="endpoint-auth \"conformance\" \\ realm", charset="UTF-8""# {
        return Err(format!(
            "challenge {:?}",
            String::from_utf8_lossy(challenge)
        ));
    }
    Ok(())
}

// §4 lockout

/// After the failure limit even the right password gets the 401.
pub fn lockout_after_max_failures(cx: &mut Context<'_>) -> CaseResult {
    for attempt in 1..=MAX_PASSWORD_FAILURES {
        expect_challenge(&cx.get_basic(PROTECTED, LOCKOUT_EMAIL, &format!("wrong {attempt}"))?)?;
    }
    if cx.fixture.observed_failures(LOCKOUT_EMAIL) != Some(MAX_PASSWORD_FAILURES) {
        return Err(format!(
            "expected {MAX_PASSWORD_FAILURES} recorded failures; store saw {:?}",
            cx.fixture.observed_failures(LOCKOUT_EMAIL)
        ));
    }
    expect_challenge(&cx.get_basic(PROTECTED, LOCKOUT_EMAIL, SEED_PASSWORD)?)
        .map_err(|e| format!("a locked account must refuse the right password: {e}"))?;
    // Other accounts are unaffected.
    expect_user(
        &cx.get_basic(PROTECTED, SEED_EMAIL, SEED_PASSWORD)?,
        SEED_EMAIL,
    )
}

/// A success before the limit resets the count.
pub fn success_resets_failure_count(cx: &mut Context<'_>) -> CaseResult {
    for _ in 0..3 {
        expect_challenge(&cx.get_basic(PROTECTED, LOCKOUT_EMAIL, "wrong")?)?;
    }
    expect_user(
        &cx.get_basic(PROTECTED, LOCKOUT_EMAIL, SEED_PASSWORD)?,
        LOCKOUT_EMAIL,
    )?;
    match cx.fixture.observed_failures(LOCKOUT_EMAIL) {
        Some(0) => Ok(()),
        other => Err(format!(
            "expected the failure count reset to 0; store saw {other:?}"
        )),
    }
}

// §5 other statuses

/// A store that cannot answer: 503 + Retry-After, never 401; it recovers.
pub fn store_unavailable_is_503(cx: &mut Context<'_>) -> CaseResult {
    cx.fixture.faults().set_store_down(true);
    let down = cx.get_basic(PROTECTED, SEED_EMAIL, SEED_PASSWORD);
    let open = cx.get(OPEN, &[]);
    let credentials = cx.get_basic(CREDENTIALS, "u", "p");
    cx.fixture.faults().set_store_down(false);
    expect_unavailable(&down?)?;
    expect_json(&open?, &json!({ "ok": true }))?;
    expect_credentials(&credentials?, "u", "p")?;
    expect_user(
        &cx.get_basic(PROTECTED, SEED_EMAIL, SEED_PASSWORD)?,
        SEED_EMAIL,
    )
}

/// A full verification queue: 503 + Retry-After.
pub fn verification_queue_full_is_503(cx: &mut Context<'_>) -> CaseResult {
    cx.fixture.faults().set_verifier_busy(true);
    let busy = cx.get_basic(PROTECTED, SEED_EMAIL, SEED_PASSWORD);
    let unknown = cx.get_basic(PROTECTED, "nobody@example.com", SEED_PASSWORD);
    cx.fixture.faults().set_verifier_busy(false);
    let busy = busy?;
    expect_unavailable(&busy)?;
    if busy.header("retry-after").as_deref() != Some("2") {
        return Err(format!(
            "expected the verifier's Retry-After: 2; got {}",
            describe(&busy)
        ));
    }
    expect_unavailable(&unknown?)?;
    expect_user(
        &cx.get_basic(PROTECTED, SEED_EMAIL, SEED_PASSWORD)?,
        SEED_EMAIL,
    )
}

/// A CORS preflight passes without credentials (no 401, no challenge).
pub fn cors_preflight_passes(cx: &mut Context<'_>) -> CaseResult {
    let response = send(
        cx.addr,
        "OPTIONS",
        PROTECTED,
        &[
            b"Origin: http://example.com",
            b"Access-Control-Request-Method: GET",
        ],
    )?;
    if response.status == 401
        || response.status >= 500
        || !response.header_values("www-authenticate").is_empty()
    {
        return Err(format!(
            "a preflight must pass without credentials; got {}",
            describe(&response)
        ));
    }
    Ok(())
}

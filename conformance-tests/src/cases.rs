//! One function per SPEC rule. Each gets a running server and its fixture, sends raw HTTP, and
//! returns `Err` with what the adapter did wrong, the exchange that showed it, and the line of the
//! case that saw it.
//!
//! The checks (`expect_…`) return a bare message; a case turns it into a [`CaseFailure`] with
//! `?`, which records the case's own line, so that a failure points at the check that failed
//! and not at a helper or the runner.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::panic::Location;
use std::thread::sleep;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine as _;
use serde_json::json;

use crate::client::{send, start, Pending, RawResponse};
use crate::fixture::*;
use crate::routes::{CONFIRMED, CREDENTIALS, OPEN, PROTECTED};

/// What a case returns: `Err` explains the violation.
pub type CaseResult = Result<(), CaseFailure>;

/// What a check returns: `Err` explains the violation, and the case's `?` adds where.
type Check<T = ()> = Result<T, String>;

/// How a case failed: what the adapter did (with the exact request bytes and the response, where
/// a response shows it) and the source line of the case that saw it.
///
/// `Display` writes `file:line:column: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFailure {
    message: String,
    location: &'static Location<'static>,
}

impl CaseFailure {
    /// A failure with `message`, located where this is called (or where the `#[track_caller]`
    /// chain calling it starts).
    #[track_caller]
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            location: Location::caller(),
        }
    }

    /// What went wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The line of the case that saw it.
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }
}

impl From<String> for CaseFailure {
    /// Located at the `?` that converts it: the case's line.
    #[track_caller]
    fn from(message: String) -> Self {
        Self::new(message)
    }
}

impl fmt::Display for CaseFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

impl std::error::Error for CaseFailure {}

/// Fails the case at the caller's line.
#[track_caller]
fn fail(message: String) -> CaseResult {
    Err(CaseFailure::new(message))
}

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

    /// Sends `GET /protected` with these credentials from the loopback address `source`, without
    /// waiting for the answer.
    fn start_protected(
        &self,
        source: IpAddr,
        user: &str,
        password: &str,
    ) -> Result<Pending, String> {
        start(
            self.addr,
            Some(source),
            "GET",
            PROTECTED,
            &[&basic(user.as_bytes(), password.as_bytes())],
        )
    }

    /// Waits up to `within` until `condition` holds, polling.
    fn wait_until(
        &self,
        within: Duration,
        what: &str,
        mut condition: impl FnMut(&Fixture) -> bool,
    ) -> Check {
        let deadline = Instant::now() + within;
        while !condition(self.fixture) {
            if Instant::now() > deadline {
                return Err(format!("waited {within:?} for {what}"));
            }
            sleep(Duration::from_millis(5));
        }
        Ok(())
    }

    /// Waits until `n` verifications have started.
    fn wait_for_verifications(&self, n: usize) -> Check {
        self.wait_until(
            SETTLE_LIMIT,
            &format!("{n} verification(s) to start"),
            |f| f.verified_passwords().len() >= n,
        )
    }
}

/// The client the admission cases flood from.
const FLOODER: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// Another client, as the server sees it: a second loopback address.
const OTHER_CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
/// How long the admission cases give the server to read requests they sent (so that they are
/// queued): far less than the 2 s a request waits for verification before its 503.
const QUEUE_SETTLE: Duration = Duration::from_millis(300);
/// How long the suite waits for something the server should do promptly.
const SETTLE_LIMIT: Duration = Duration::from_secs(5);
/// How soon a request over its client's share must be refused: at once, not after waiting.
const AT_ONCE: Duration = Duration::from_secs(1);

/// Holds the fixture's verifications while alive (each started one waits, keeping its
/// verification permit); lets them go when dropped, whatever the case returns.
struct HeldVerifications<'a>(&'a Fixture);

impl<'a> HeldVerifications<'a> {
    fn new(fixture: &'a Fixture) -> Self {
        fixture.faults().set_hold_verifications(true);
        Self(fixture)
    }
}

impl Drop for HeldVerifications<'_> {
    fn drop(&mut self) {
        self.0.faults().set_hold_verifications(false);
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

/// The exact SPEC §3 401.
fn expect_challenge(response: &RawResponse) -> Check {
    let wrong = |what: &str| {
        Err(format!(
            "expected the SPEC §3 401 ({what}); got {}",
            response.describe()
        ))
    };
    if response.status != 401 {
        return wrong("status 401");
    }
    let challenges = response.header_values("www-authenticate");
    if challenges != [EXPECTED_CHALLENGE.as_bytes()] {
        return wrong(&format!(
            "exactly one WWW-Authenticate: {EXPECTED_CHALLENGE}"
        ));
    }
    match response.header("content-type") {
        Some(ct) if ct.eq_ignore_ascii_case("text/plain; charset=utf-8") => {}
        _ => return wrong("Content-Type: text/plain; charset=utf-8"),
    }
    if response.body != b"Unauthorized" {
        return wrong("body `Unauthorized`");
    }
    Ok(())
}

fn expect_status(response: &RawResponse, status: u16) -> Check {
    if response.status == status {
        Ok(())
    } else {
        Err(format!(
            "expected status {status}; got {}",
            response.describe()
        ))
    }
}

/// The body as JSON, or what the response was instead.
fn json_body(response: &RawResponse) -> Check<serde_json::Value> {
    response
        .json()
        .map_err(|e| format!("{e}; got {}", response.describe()))
}

fn expect_json(response: &RawResponse, expected: &serde_json::Value) -> Check {
    expect_status(response, 200)?;
    if &json_body(response)? == expected {
        Ok(())
    } else {
        Err(format!(
            "expected body {expected}; got {}",
            response.describe()
        ))
    }
}

fn expect_credentials(response: &RawResponse, username: &str, password: &str) -> Check {
    expect_json(
        response,
        &json!({ "username": username, "password": password }),
    )
}

/// When every fixture user signed up ([`signed_up`]), as SPEC §7's bodies write it.
const FIXTURE_SIGNED_UP: &str = "2024-01-02T03:04:05Z";

/// `/protected` answering with the fixture user `email` (its stored spelling): exactly
/// `{"id": <integer>, "email": email, "signed_up": "2024-01-02T03:04:05Z"}`. The store picks the
/// id, so only its type is known.
fn expect_user(response: &RawResponse, email: &str) -> Check {
    expect_status(response, 200)?;
    let body = json_body(response)?;
    let Some(id) = body["id"].as_i64() else {
        return Err(format!(
            "expected a numeric id; got {}",
            response.describe()
        ));
    };
    expect_json(
        response,
        &json!({ "id": id, "email": email, "signed_up": FIXTURE_SIGNED_UP }),
    )
}

fn expect_unavailable(response: &RawResponse) -> Check {
    expect_status(response, 503)?;
    let retry = response.header("retry-after").unwrap_or_default();
    if retry.parse::<u64>().map_or(true, |s| s == 0) {
        return Err(format!(
            "503 needs Retry-After in whole seconds ≥ 1; got {}",
            response.describe()
        ));
    }
    if !response.header_values("www-authenticate").is_empty() {
        return Err(format!(
            "503 must not challenge (clients would drop good credentials); got {}",
            response.describe()
        ));
    }
    Ok(())
}

/// The SPEC §5 429: `Retry-After` in whole seconds ≥ 1, no challenge (it is not a verdict on
/// the credentials), and a body that says nothing about the account.
fn expect_too_many_requests(response: &RawResponse) -> Check {
    expect_status(response, 429)?;
    let retry = response.header("retry-after").unwrap_or_default();
    if retry.parse::<u64>().map_or(true, |s| s == 0) {
        return Err(format!(
            "429 needs Retry-After in whole seconds ≥ 1; got {}",
            response.describe()
        ));
    }
    if !response.header_values("www-authenticate").is_empty() {
        return Err(format!(
            "429 must not challenge (clients would drop good credentials); got {}",
            response.describe()
        ));
    }
    match response.header("content-type") {
        Some(ct) if ct.eq_ignore_ascii_case("text/plain; charset=utf-8") => {}
        _ => {
            return Err(format!(
                "429 needs Content-Type: text/plain; charset=utf-8; got {}",
                response.describe()
            ))
        }
    }
    if response.body != b"Too Many Requests" {
        return Err(format!(
            "429 needs the body `Too Many Requests`; got {}",
            response.describe()
        ));
    }
    Ok(())
}

// §1.1 exactly one Authorization field

/// No `Authorization` field: 401.
pub fn no_authorization_header(cx: &mut Context<'_>) -> CaseResult {
    expect_challenge(&cx.get(PROTECTED, &[])?)?;
    expect_challenge(&cx.get(CREDENTIALS, &[])?)?;
    Ok(())
}

/// Two `Authorization` fields, both valid: 401.
pub fn two_authorization_fields(cx: &mut Context<'_>) -> CaseResult {
    let field = basic(SEED_EMAIL.as_bytes(), SEED_PASSWORD.as_bytes());
    expect_challenge(&cx.get(PROTECTED, &[&field, &field])?)?;
    expect_challenge(&cx.get(CREDENTIALS, &[&field, &field])?)?;
    Ok(())
}

// §1.2 size limit

/// A 20 KB value: 401, not 400, 431 or 500.
pub fn header_longer_than_limit(cx: &mut Context<'_>) -> CaseResult {
    let long_password = "x".repeat(15_000);
    expect_challenge(&cx.get_basic(CREDENTIALS, SEED_EMAIL, &long_password)?)?;
    expect_challenge(&cx.get_basic(PROTECTED, SEED_EMAIL, &long_password)?)?;
    Ok(())
}

/// A value of exactly 4096 bytes is read.
pub fn header_at_limit_is_read(cx: &mut Context<'_>) -> CaseResult {
    // "Basic" + 3 spaces + 4088 base64 characters (3066 octets: "u:" + 3064 × 'a') = 4096.
    let password = "a".repeat(3064);
    let value = format!("Basic   {}", STANDARD.encode(format!("u:{password}")));
    if value.len() != 4096 {
        return fail(format!("suite bug: built a {}-byte value", value.len()));
    }
    expect_credentials(
        &cx.get(CREDENTIALS, &[&authorization(value.as_bytes())])?,
        "u",
        &password,
    )?;
    Ok(())
}

// §1.3 optional whitespace

/// Leading and trailing SP / HTAB around the value are ignored.
pub fn surrounding_whitespace_ignored(cx: &mut Context<'_>) -> CaseResult {
    let line = b"Authorization: \t  Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ== \t ";
    expect_credentials(&cx.get(CREDENTIALS, &[line])?, "Aladdin", "open sesame")?;
    Ok(())
}

// §1.4 scheme and separator

/// `basic` in lower case is accepted.
pub fn scheme_lowercase_accepted(cx: &mut Context<'_>) -> CaseResult {
    let line = authorization(b"basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    expect_credentials(&cx.get(CREDENTIALS, &[&line])?, "Aladdin", "open sesame")?;
    Ok(())
}

/// `BASIC` in upper case is accepted.
pub fn scheme_uppercase_accepted(cx: &mut Context<'_>) -> CaseResult {
    let encoded = STANDARD.encode(format!("{SEED_EMAIL}:{SEED_PASSWORD}"));
    let line = authorization(format!("BASIC {encoded}").as_bytes());
    expect_user(&cx.get(PROTECTED, &[&line])?, SEED_EMAIL)?;
    Ok(())
}

/// Several spaces between scheme and token (`1*SP`) are accepted.
pub fn several_spaces_after_scheme_accepted(cx: &mut Context<'_>) -> CaseResult {
    let line = authorization(b"Basic    QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    expect_credentials(&cx.get(CREDENTIALS, &[&line])?, "Aladdin", "open sesame")?;
    Ok(())
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
    )?)?;
    Ok(())
}

/// A TAB as the separator.
pub fn tab_separator_refused(cx: &mut Context<'_>) -> CaseResult {
    expect_challenge(&cx.get(
        CREDENTIALS,
        &[&authorization(b"Basic\tQWxhZGRpbjpvcGVuIHNlc2FtZQ==")],
    )?)?;
    Ok(())
}

/// A bare token without a scheme.
pub fn bare_token_refused(cx: &mut Context<'_>) -> CaseResult {
    expect_challenge(&cx.get(
        CREDENTIALS,
        &[&authorization(b"QWxhZGRpbjpvcGVuIHNlc2FtZQ==")],
    )?)?;
    Ok(())
}

/// A bare scheme without a token.
pub fn bare_scheme_refused(cx: &mut Context<'_>) -> CaseResult {
    expect_challenge(&cx.get(CREDENTIALS, &[&authorization(b"Basic")])?)?;
    Ok(())
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
    )?)?;
    Ok(())
}

/// Non-zero trailing bits (`QTp=` instead of the canonical `QTo=` for `A:`).
pub fn non_canonical_base64_refused(cx: &mut Context<'_>) -> CaseResult {
    expect_credentials(
        &cx.get(CREDENTIALS, &[&authorization(b"Basic QTo=")])?,
        "A",
        "",
    )?;
    expect_challenge(&cx.get(CREDENTIALS, &[&authorization(b"Basic QTp=")])?)?;
    Ok(())
}

/// The URL-safe alphabet (`-`, `_`).
pub fn url_safe_base64_refused(cx: &mut Context<'_>) -> CaseResult {
    let decoded = b"?:?>~";
    expect_credentials(&cx.get(CREDENTIALS, &[&basic(b"?", b"?>~")])?, "?", "?>~")?;
    let url_safe = format!("Basic {}", URL_SAFE.encode(decoded));
    expect_challenge(&cx.get(CREDENTIALS, &[&authorization(url_safe.as_bytes())])?)?;
    Ok(())
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
    expect_challenge(&cx.get(PROTECTED, &[&authorization(value.as_bytes())])?)?;
    Ok(())
}

/// The first `:` splits; the password keeps later ones.
pub fn password_keeps_later_colons(cx: &mut Context<'_>) -> CaseResult {
    expect_credentials(
        &cx.get_basic(CREDENTIALS, "user", "pa:ss:word:")?,
        "user",
        "pa:ss:word:",
    )?;
    Ok(())
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
    )?;
    Ok(())
}

// §1.7 UTF-8, ISO-8859-1 fallback

/// RFC 7617 §2.1's example: `test` / `123£` in UTF-8.
pub fn utf8_credentials_decoded(cx: &mut Context<'_>) -> CaseResult {
    expect_credentials(
        &cx.get(CREDENTIALS, &[&authorization(b"Basic dGVzdDoxMjPCow==")])?,
        "test",
        "123\u{a3}",
    )?;
    Ok(())
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
    )?;
    Ok(())
}

/// Octets that are not UTF-8 are read as ISO-8859-1.
pub fn latin1_fallback(cx: &mut Context<'_>) -> CaseResult {
    expect_credentials(
        &cx.get(CREDENTIALS, &[&basic(b"j\xf6rg", b"p\xe4ss")])?,
        "j\u{f6}rg",
        "p\u{e4}ss",
    )?;
    Ok(())
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
    )?)?;
    Ok(())
}

// §1.9 NFC

/// Decomposed input is handed over composed.
pub fn nfc_normalized(cx: &mut Context<'_>) -> CaseResult {
    expect_credentials(
        &cx.get_basic(CREDENTIALS, "Jose\u{301}", "cafe\u{301}")?,
        "Jos\u{e9}",
        "caf\u{e9}",
    )?;
    Ok(())
}

/// A password typed decomposed verifies against one stored composed.
pub fn nfc_password_authenticates(cx: &mut Context<'_>) -> CaseResult {
    let decomposed_password = "pa\u{308}ss:wo\u{308}rd e\u{301}te\u{301}";
    let decomposed_email = "jo\u{308}rg@example.com";
    expect_user(
        &cx.get_basic(PROTECTED, decomposed_email, decomposed_password)?,
        NON_ASCII_EMAIL,
    )?;
    Ok(())
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
    )?;
    Ok(())
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
    )?;
    Ok(())
}

/// Non-ASCII email, non-ASCII password containing `:`.
pub fn non_ascii_user_with_colon_in_password(cx: &mut Context<'_>) -> CaseResult {
    expect_user(
        &cx.get_basic(PROTECTED, NON_ASCII_EMAIL, NON_ASCII_PASSWORD)?,
        NON_ASCII_EMAIL,
    )?;
    Ok(())
}

/// A wrong password: 401.
pub fn wrong_password_refused(cx: &mut Context<'_>) -> CaseResult {
    expect_challenge(&cx.get_basic(PROTECTED, SEED_EMAIL, "mySuperS3cretPassw0rD")?)?;
    expect_challenge(&cx.get_basic(PROTECTED, SEED_EMAIL, "")?)?;
    Ok(())
}

/// An unknown user: 401.
pub fn unknown_user_refused(cx: &mut Context<'_>) -> CaseResult {
    expect_challenge(&cx.get_basic(PROTECTED, "nobody@example.com", SEED_PASSWORD)?)?;
    Ok(())
}

/// A disabled user with the right password: 401.
pub fn disabled_user_refused(cx: &mut Context<'_>) -> CaseResult {
    expect_challenge(&cx.get_basic(PROTECTED, DISABLED_EMAIL, SEED_PASSWORD)?)?;
    Ok(())
}

/// An unconfirmed user on an endpoint requiring confirmation: 401.
pub fn unconfirmed_user_refused_where_required(cx: &mut Context<'_>) -> CaseResult {
    expect_challenge(&cx.get_basic(CONFIRMED, UNCONFIRMED_EMAIL, SEED_PASSWORD)?)?;
    Ok(())
}

/// An unconfirmed user on an endpoint not requiring confirmation: 200.
pub fn unconfirmed_user_allowed_elsewhere(cx: &mut Context<'_>) -> CaseResult {
    expect_user(
        &cx.get_basic(PROTECTED, UNCONFIRMED_EMAIL, SEED_PASSWORD)?,
        UNCONFIRMED_EMAIL,
    )?;
    Ok(())
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
            return fail(format!(
                "expected the bcrypt hash to be replaced by argon2id; store saw {other:?}"
            ))
        }
    }
    expect_user(
        &cx.get_basic(PROTECTED, BCRYPT_EMAIL, SEED_PASSWORD)?,
        BCRYPT_EMAIL,
    )?;
    expect_challenge(&cx.get_basic(PROTECTED, BCRYPT_EMAIL, "wrong")?)?;
    Ok(())
}

// §2 require_credentials

/// The handler receives username and password as sent.
pub fn require_credentials_hands_over_pair(cx: &mut Context<'_>) -> CaseResult {
    expect_credentials(
        &cx.get_basic(CREDENTIALS, "any user", "any password")?,
        "any user",
        "any password",
    )?;
    Ok(())
}

/// No credentials on a require_credentials route: 401.
pub fn require_credentials_without_header_refused(cx: &mut Context<'_>) -> CaseResult {
    expect_challenge(&cx.get(CREDENTIALS, &[])?)?;
    Ok(())
}

/// `/open` needs nothing.
pub fn open_route_needs_nothing(cx: &mut Context<'_>) -> CaseResult {
    expect_json(&cx.get(OPEN, &[])?, &json!({ "ok": true }))?;
    Ok(())
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
        let response = cx.get(PROTECTED, &lines)?;
        expect_challenge(&response).map_err(|e| format!("{label}: {e}"))?;
        match &first {
            None => first = Some((label, response)),
            Some((first_label, first_response))
                if comparable(first_response) != comparable(&response) =>
            {
                return fail(format!(
                    "{first_label:?} and {label:?} answer differently: {} vs {}",
                    first_response.describe(),
                    response.describe()
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// A header field as the client read it: lower-cased name, raw value.
type Field = (String, Vec<u8>);

/// What two answers to different requests must share: status, fields and body, without `Date`
/// (it changes by the second) and with fields of different names in name order (they may come
/// in any order, RFC 9110 §5.3, and some frameworks write them in hash order). Fields of one
/// name keep theirs (a stable sort).
fn comparable(response: &RawResponse) -> (u16, Vec<&Field>, &[u8]) {
    let mut headers: Vec<_> = response
        .headers
        .iter()
        .filter(|(name, _)| name != "date")
        .collect();
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    (response.status, headers, &response.body)
}

/// The challenge escapes `"` and `\` in the realm, byte for byte.
pub fn challenge_escapes_realm(cx: &mut Context<'_>) -> CaseResult {
    let response = cx.get(CONFIRMED, &[])?;
    expect_challenge(&response)?;
    let challenge = response.header_values("www-authenticate")[0];
    if challenge != br#"Basic realm="endpoint-auth \"conformance\" \\ realm", charset="UTF-8""# {
        return fail(format!(
            "expected the challenge {EXPECTED_CHALLENGE}; got {}",
            response.describe()
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
        return fail(format!(
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
    )?;
    Ok(())
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
        other => fail(format!(
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
    )?;
    Ok(())
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
        return fail(format!(
            "expected the verifier's Retry-After: 2; got {}",
            busy.describe()
        ));
    }
    expect_unavailable(&unknown?)?;
    expect_user(
        &cx.get_basic(PROTECTED, SEED_EMAIL, SEED_PASSWORD)?,
        SEED_EMAIL,
    )?;
    Ok(())
}

/// Fair admission: while another client waits, a client flooding with logins gets 429 at once
/// for every request over its share, and the other client's login is served in its turn —
/// round-robin, not behind the whole flood.
pub fn flooding_client_gets_429_while_another_waits(cx: &mut Context<'_>) -> CaseResult {
    let held = HeldVerifications::new(cx.fixture);
    // The flood: distinct unknown users (no two requests can share a verification). The first
    // holds the only verification permit; the others queue.
    let flood = (0..12)
        .map(|i| {
            cx.start_protected(
                FLOODER,
                &format!("flood{i}@example.com"),
                &flood_password(i),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    cx.wait_for_verifications(1)?;
    sleep(QUEUE_SETTLE);
    let login = cx.start_protected(OTHER_CLIENT, SEED_EMAIL, SEED_PASSWORD)?;
    sleep(QUEUE_SETTLE);
    // More from the flooder while the other client waits: over its share, refused at once.
    for i in 12..16 {
        let response = cx
            .start_protected(
                FLOODER,
                &format!("flood{i}@example.com"),
                &flood_password(i),
            )?
            .response_within(AT_ONCE)
            .map_err(|e| {
                format!(
                    "a flooding client over its share while another client waits must get 429 \
                     at once (is the adapter handing the core the socket peer?): {e}"
                )
            })?;
        expect_too_many_requests(&response)
            .map_err(|e| format!("flood request {i} while another client waited: {e}"))?;
    }
    drop(held);
    let login = login.response()?;
    expect_user(&login, SEED_EMAIL)
        .map_err(|e| format!("the other client's login during a flood: {e}"))?;
    // Round-robin from the flooder's first queued request: the held one, the flooder's next,
    // then the other client's.
    let order = cx.fixture.verified_passwords();
    match order.iter().position(|p| p == SEED_PASSWORD) {
        Some(turn) if turn <= 2 => {}
        turn => {
            return fail(format!(
                "the other client's login was verified as number {:?} of {} (expected at most \
                 third: queues are served round-robin per client, not first come first served)",
                turn.map(|t| t + 1),
                order.len()
            ))
        }
    }
    for (i, pending) in flood.into_iter().enumerate() {
        let response = pending.response()?;
        if ![401, 503].contains(&response.status) {
            return fail(format!(
                "flood request {i} (unknown user, queued while the flooder was alone): expected \
                 401 (or 503 after waiting too long); got {}",
                response.describe()
            ));
        }
    }
    Ok(())
}

fn flood_password(i: usize) -> String {
    format!("flood password {i}")
}

/// The 429 of a client over its share is the same whatever the account (unknown user, or a
/// real one with a wrong password): `Retry-After`, no challenge, nothing about the reason.
pub fn too_many_requests_has_retry_after_and_no_challenge(cx: &mut Context<'_>) -> CaseResult {
    let held = HeldVerifications::new(cx.fixture);
    let queued = (0..3)
        .map(|i| cx.start_protected(FLOODER, &format!("queued{i}@example.com"), "pw"))
        .collect::<Result<Vec<_>, _>>()?;
    cx.wait_for_verifications(1)?;
    sleep(QUEUE_SETTLE);
    let waiting = cx.start_protected(OTHER_CLIENT, "waiting@example.com", "pw")?;
    sleep(QUEUE_SETTLE);
    let mut refusals = Vec::new();
    for (label, user, password) in [
        ("unknown user", "nobody@example.com", SEED_PASSWORD),
        ("wrong password", SEED_EMAIL, "wrong"),
    ] {
        let response = cx
            .start_protected(FLOODER, user, password)?
            .response_within(AT_ONCE)
            .map_err(|e| format!("{label}: expected 429 at once: {e}"))?;
        expect_too_many_requests(&response).map_err(|e| format!("{label}: {e}"))?;
        refusals.push((label, response));
    }
    if comparable(&refusals[0].1) != comparable(&refusals[1].1) {
        return fail(format!(
            "the 429s of an unknown user and of a real one differ: {} vs {}",
            refusals[0].1.describe(),
            refusals[1].1.describe()
        ));
    }
    drop(held);
    for pending in queued.into_iter().chain([waiting]) {
        expect_challenge(&pending.response()?)?;
    }
    Ok(())
}

/// A request whose client has gone away while it waited for verification is never verified —
/// neither a real account's (whose failure slot shows it reached the queue) nor an unknown
/// user's sent and abandoned at once.
pub fn abandoned_request_is_not_verified(cx: &mut Context<'_>) -> CaseResult {
    const GONE_REAL: &str = "abandoned wrong password";
    const GONE_UNKNOWN: &str = "abandoned unknown user";
    let held = HeldVerifications::new(cx.fixture);
    let blocker = cx.start_protected(FLOODER, "blocker@example.com", "blocker")?;
    cx.wait_for_verifications(1)?;
    // A real account: once its failure slot is taken it waits for the permit; then it leaves.
    let real = cx.start_protected(FLOODER, LOCKOUT_EMAIL, GONE_REAL)?;
    cx.wait_until(SETTLE_LIMIT, "the abandoned request's failure slot", |f| {
        f.observed_failures(LOCKOUT_EMAIL) == Some(1)
    })?;
    real.abandon();
    // An unknown user, closed right after sending.
    cx.start_protected(FLOODER, "gone@example.com", GONE_UNKNOWN)?
        .abandon();
    sleep(QUEUE_SETTLE);
    // Queued after both: once it is answered, they would have been verified before it.
    let after = cx.start_protected(FLOODER, "after@example.com", "after")?;
    sleep(QUEUE_SETTLE);
    drop(held);
    expect_challenge(&blocker.response()?)?;
    expect_challenge(&after.response()?)?;
    let verified = cx.fixture.verified_passwords();
    for gone in [GONE_REAL, GONE_UNKNOWN] {
        if verified.iter().any(|p| p == gone) {
            return fail(format!(
                "a request whose client had gone away was verified ({gone:?}); verifications \
                 in order: {verified:?}"
            ));
        }
    }
    if !verified.iter().any(|p| p == "after") {
        return fail(format!(
            "the request after the abandoned ones was not verified: {verified:?}"
        ));
    }
    Ok(())
}

// §5 CORS preflights, on the routes of §7

/// A CORS preflight (`OPTIONS` with `Access-Control-Request-Method`) to a protected route
/// reaches it without credentials: answered with a 2xx status and no challenge (by the route's
/// handler, or by the adapter's extractor on its behalf). An `OPTIONS` without
/// `Access-Control-Request-Method` is no preflight, and gets the §3 401 without credentials.
pub fn cors_preflight_passes(cx: &mut Context<'_>) -> CaseResult {
    const ORIGIN: &[u8] = b"Origin: http://example.com";
    for path in [PROTECTED, CONFIRMED, CREDENTIALS] {
        let preflight = send(
            cx.addr,
            "OPTIONS",
            path,
            &[ORIGIN, b"Access-Control-Request-Method: GET"],
        )?;
        if !(200..300).contains(&preflight.status)
            || !preflight.header_values("www-authenticate").is_empty()
        {
            return fail(format!(
                "a CORS preflight to {path} must reach the route without credentials (a 2xx, no \
                 challenge; is OPTIONS {path} served, and does the adapter let exempt \
                 preflights through?); got {}",
                preflight.describe()
            ));
        }
        let plain = send(cx.addr, "OPTIONS", path, &[ORIGIN])?;
        expect_challenge(&plain).map_err(|e| {
            format!("OPTIONS {path} without Access-Control-Request-Method is no preflight: {e}")
        })?;
    }
    Ok(())
}

//! What is particular to the rocket adapter: per-request caching, the optional and `Result`
//! forms, how refusals survive catchers, the one-call refusal of require_credentials, preflights,
//! and sentinels. rocket's local client runs the same request pipeline as a server, fairings and
//! catchers included, without a socket.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use endpoint_auth::{
    audit::AuditEvent, rejection::FailureReason, Authenticator, HashPolicy, MemoryStore, NewUser,
    PoolConfig, RefusalFormat, User,
};
use endpoint_auth_conformance::FaultyStore;
use endpoint_auth_rocket::{
    AuthRejection, AuthUser, BasicAuth, BasicCredentials, ConfirmedUser, Optional,
};
use rocket::config::LogLevel;
use rocket::http::ContentType;
use rocket::http::{Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use rocket::request::{FromRequest, Outcome};
use rocket::response::{Redirect, Responder};
use rocket::{catch, catchers, get, options, routes, Build, Config, Request, Response, Rocket};

const EMAIL: &str = "user123@gmail.com";
const PASSWORD: &str = "mySuperS3cretPassw0rd";
const UNCONFIRMED: &str = "unconfirmed@example.com";
const REALM: &str = "adapter tests";
const CHALLENGE: &str = r#"Basic realm="adapter tests", charset="UTF-8""#;

/// `Authorization: Basic …` for `user:password`.
fn basic(user: &str, password: &str) -> Header<'static> {
    let credentials = endpoint_auth::Credentials::new(user, password).expect("valid credentials");
    let value = credentials.to_header_value();
    let value = value.to_str().expect("base64 is ASCII").to_owned();
    Header::new("Authorization", value)
}

/// An authenticator over two users, what the audit hook saw, and the outage switch.
struct Setup {
    authenticator: Authenticator<User>,
    decisions: Arc<AtomicUsize>,
    handler_refusals: Arc<AtomicUsize>,
    /// The store, switched off by the outage tests.
    store: FaultyStore<MemoryStore>,
}

fn setup(cors_preflight: bool) -> Setup {
    setup_with(cors_preflight, RefusalFormat::PlainText)
}

fn setup_with(cors_preflight: bool, format: RefusalFormat) -> Setup {
    let policy = HashPolicy::argon2id(64, 1, 1).expect("cheap argon2 parameters");
    let store = MemoryStore::new();
    let hash = policy.hash(PASSWORD).expect("hashing");
    store
        .insert(NewUser::new(EMAIL, Some(hash.clone())))
        .expect("seed user");
    store
        .insert(NewUser::new(UNCONFIRMED, Some(hash)).confirmed_email(false))
        .expect("unconfirmed user");
    let store = FaultyStore::new(store);
    let decisions = Arc::new(AtomicUsize::new(0));
    let handler_refusals = Arc::new(AtomicUsize::new(0));
    let (counted, refused_by_handler) = (decisions.clone(), handler_refusals.clone());
    let authenticator = Authenticator::builder(store.clone())
        .realm(REALM)
        .hash_policy(policy)
        .pool(PoolConfig::new().workers(1))
        .cors_preflight(cors_preflight)
        .refusal_format(format)
        .audit(move |event: &AuditEvent<'_>| {
            counted.fetch_add(1, Ordering::SeqCst);
            if let AuditEvent::Refused {
                reason: FailureReason::RefusedByHandler,
                ..
            } = event
            {
                refused_by_handler.fetch_add(1, Ordering::SeqCst);
            }
        })
        .build()
        .expect("authenticator");
    Setup {
        authenticator,
        decisions,
        handler_refusals,
        store,
    }
}

fn quiet() -> Config {
    Config {
        log_level: LogLevel::Off,
        cli_colors: false,
        ..Config::debug_default()
    }
}

fn rocket_with(authenticator: Authenticator<User>) -> Rocket<Build> {
    rocket::custom(quiet()).attach(BasicAuth::new(authenticator))
}

async fn client(rocket: Rocket<Build>) -> Client {
    Client::tracked(rocket).await.expect("a valid rocket")
}

/// The core's 401, exactly.
async fn assert_challenge(response: LocalResponse<'_>) {
    assert_eq!(response.status(), Status::Unauthorized);
    let headers = response.headers();
    let challenges: Vec<_> = headers.get("WWW-Authenticate").collect();
    assert_eq!(challenges, [CHALLENGE]);
    assert_eq!(
        headers.get_one("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(
        response.into_string().await.as_deref(),
        Some("Unauthorized")
    );
}

/// The core's 503 for a store outage, exactly.
async fn assert_unavailable(response: LocalResponse<'_>) {
    assert_eq!(response.status(), Status::ServiceUnavailable);
    let headers = response.headers();
    assert_eq!(headers.get_one("Retry-After"), Some("1"));
    assert_eq!(headers.get_one("WWW-Authenticate"), None);
    assert_eq!(
        headers.get_one("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(
        response.into_string().await.as_deref(),
        Some("Service Unavailable")
    );
}

// once per request

#[get("/twice")]
fn twice(first: AuthUser, second: AuthUser) -> String {
    format!("{} {}", first.email, second.email)
}

#[get("/strict-and-optional")]
fn strict_and_optional(strict: AuthUser, optional: Optional<AuthUser>) -> String {
    format!("{} {}", strict.email, optional.0.is_some())
}

#[tokio::test]
async fn two_guards_call_the_core_once() {
    let setup = setup(false);
    let client =
        client(rocket_with(setup.authenticator).mount("/", routes![twice, strict_and_optional]))
            .await;

    let response = client
        .get("/twice")
        .header(basic(EMAIL, PASSWORD))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(
        response.into_string().await.as_deref(),
        Some("user123@gmail.com user123@gmail.com")
    );
    assert_eq!(setup.decisions.load(Ordering::SeqCst), 1);

    let response = client
        .get("/strict-and-optional")
        .header(basic(EMAIL, PASSWORD))
        .dispatch()
        .await;
    assert_eq!(
        response.into_string().await.as_deref(),
        Some("user123@gmail.com true")
    );
    assert_eq!(setup.decisions.load(Ordering::SeqCst), 2);

    assert_challenge(
        client
            .get("/twice")
            .header(basic(EMAIL, "wrong"))
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(setup.decisions.load(Ordering::SeqCst), 3);
}

#[get("/credentials-twice")]
fn credentials_twice(first: BasicCredentials, second: BasicCredentials) -> String {
    format!("{} {}", first.username(), second.username())
}

#[tokio::test]
async fn refused_credentials_are_audited_once_with_two_guards() {
    let setup = setup(false);
    let client =
        client(rocket_with(setup.authenticator).mount("/", routes![credentials_twice])).await;
    assert_challenge(client.get("/credentials-twice").dispatch().await).await;
    assert_eq!(setup.decisions.load(Ordering::SeqCst), 1);
}

// optional and Result forms

#[get("/maybe")]
fn maybe(user: Optional<AuthUser>) -> String {
    match user.into_inner() {
        Some(user) => format!("hello {}", user.email),
        None => "hello stranger".to_owned(),
    }
}

#[get("/maybe-credentials")]
fn maybe_credentials(credentials: Optional<BasicCredentials>) -> String {
    match credentials.0 {
        Some(credentials) => format!("sent {}", credentials.username()),
        None => "sent nothing".to_owned(),
    }
}

#[get("/rocket-option")]
fn rocket_option(user: Option<AuthUser>) -> &'static str {
    if user.is_some() {
        "user"
    } else {
        "none"
    }
}

#[tokio::test]
async fn optional_is_none_only_without_an_authorization_field() {
    let setup = setup(false);
    let client =
        client(rocket_with(setup.authenticator).mount("/", routes![maybe, maybe_credentials]))
            .await;

    let response = client.get("/maybe").dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(
        response.into_string().await.as_deref(),
        Some("hello stranger")
    );

    let response = client
        .get("/maybe")
        .header(basic(EMAIL, PASSWORD))
        .dispatch()
        .await;
    assert_eq!(
        response.into_string().await.as_deref(),
        Some("hello user123@gmail.com")
    );

    // A client that tried to log in learns that it failed.
    assert_challenge(
        client
            .get("/maybe")
            .header(basic(EMAIL, "wrong"))
            .dispatch()
            .await,
    )
    .await;
    assert_challenge(
        client
            .get("/maybe")
            .header(Header::new("Authorization", "Bearer abc"))
            .dispatch()
            .await,
    )
    .await;

    let response = client.get("/maybe-credentials").dispatch().await;
    assert_eq!(
        response.into_string().await.as_deref(),
        Some("sent nothing")
    );
    let response = client
        .get("/maybe-credentials")
        .header(basic("u", "p"))
        .dispatch()
        .await;
    assert_eq!(response.into_string().await.as_deref(), Some("sent u"));
    assert_challenge(
        client
            .get("/maybe-credentials")
            .header(Header::new("Authorization", "Basic !!!"))
            .dispatch()
            .await,
    )
    .await;
}

#[tokio::test]
async fn optional_answers_an_outage_with_503_where_rocket_option_says_none() {
    let setup = setup(false);
    let client =
        client(rocket_with(setup.authenticator).mount("/", routes![maybe, rocket_option])).await;
    setup.store.set_failing(true);

    let response = client
        .get("/maybe")
        .header(basic(EMAIL, PASSWORD))
        .dispatch()
        .await;
    assert_unavailable(response).await;
    // Without credentials there is nothing to look up: still anonymous.
    let response = client.get("/maybe").dispatch().await;
    assert_eq!(
        response.into_string().await.as_deref(),
        Some("hello stranger")
    );

    // The documented pitfall: rocket's Option turns the outage into an anonymous 200.
    let response = client
        .get("/rocket-option")
        .header(basic(EMAIL, PASSWORD))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.into_string().await.as_deref(), Some("none"));
}

#[get("/result")]
fn result(user: Result<AuthUser, AuthRejection>) -> Result<String, AuthRejection> {
    Ok(format!("hello {}", user?.email))
}

#[get("/result-guest")]
fn result_guest(user: Result<AuthUser, AuthRejection>) -> String {
    match user {
        Ok(user) => format!("hello {}", user.email),
        Err(refused) => format!("guest after a {}", refused.status().code),
    }
}

#[tokio::test]
async fn result_form_hands_the_refusal_to_the_handler() {
    let setup = setup(false);
    let client =
        client(rocket_with(setup.authenticator).mount("/", routes![result, result_guest])).await;

    assert_challenge(client.get("/result").dispatch().await).await;
    let response = client
        .get("/result")
        .header(basic(EMAIL, PASSWORD))
        .dispatch()
        .await;
    assert_eq!(
        response.into_string().await.as_deref(),
        Some("hello user123@gmail.com")
    );

    // A handler that answers otherwise has decided for itself: nothing is rewritten.
    let response = client.get("/result-guest").dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.headers().get_one("WWW-Authenticate"), None);
    assert_eq!(
        response.into_string().await.as_deref(),
        Some("guest after a 401")
    );
}

// catchers

#[get("/protected")]
fn protected(user: AuthUser) -> String {
    format!("hello {}", user.email)
}

#[get("/confirmed")]
fn confirmed(user: ConfirmedUser) -> String {
    format!("hello {}", user.email)
}

#[catch(401)]
fn my_unauthorized() -> (Status, (rocket::http::ContentType, &'static str)) {
    (
        Status::Unauthorized,
        (rocket::http::ContentType::HTML, "<h1>please log in</h1>"),
    )
}

#[catch(default)]
fn my_default(status: Status, _: &Request<'_>) -> String {
    format!("my default catcher for {}", status.code)
}

#[catch(401)]
fn to_login_page() -> Redirect {
    Redirect::to("/login")
}

#[tokio::test]
async fn rocket_default_catcher_gets_the_core_response() {
    let setup = setup(false);
    let client = client(rocket_with(setup.authenticator).mount("/", routes![protected])).await;
    let response = client.get("/protected").dispatch().await;
    // rocket's Shield headers survive the merge.
    assert_eq!(
        response.headers().get_one("X-Content-Type-Options"),
        Some("nosniff")
    );
    assert_challenge(response).await;
}

/// A catcher that sets a challenge of its own, which the core's replaces.
struct BearerChallenge;

impl<'r> Responder<'r, 'static> for BearerChallenge {
    fn respond_to(self, _: &'r Request<'_>) -> rocket::response::Result<'static> {
        let body = "token required";
        Response::build()
            .status(Status::Unauthorized)
            .raw_header("WWW-Authenticate", "Bearer")
            .header(ContentType::Plain)
            .sized_body(body.len(), std::io::Cursor::new(body))
            .ok()
    }
}

#[catch(401)]
fn bearer() -> BearerChallenge {
    BearerChallenge
}

/// A catcher's own 401: its body and type, with the core's challenge (once).
async fn assert_own_401(response: LocalResponse<'_>, content_type: &str, body: &str) {
    assert_eq!(response.status(), Status::Unauthorized);
    let headers = response.headers();
    let challenges: Vec<_> = headers.get("WWW-Authenticate").collect();
    assert_eq!(challenges, [CHALLENGE]);
    let content_types: Vec<_> = headers.get("Content-Type").collect();
    assert_eq!(content_types, [content_type]);
    assert_eq!(response.into_string().await.as_deref(), Some(body));
}

#[tokio::test]
async fn own_catchers_keep_their_body_and_get_the_challenge() {
    let setup = setup(false);
    let rocket = rocket_with(setup.authenticator)
        .mount("/", routes![protected])
        .mount("/api", routes![confirmed])
        .mount("/bearer", routes![protected])
        .register("/", catchers![my_unauthorized])
        .register("/api", catchers![my_default])
        .register("/bearer", catchers![bearer]);
    let client = client(rocket).await;

    // A 401 catcher at `/`, for every reason alike.
    let html = "text/html; charset=utf-8";
    let page = "<h1>please log in</h1>";
    assert_own_401(client.get("/protected").dispatch().await, html, page).await;
    let wrong = client
        .get("/protected")
        .header(basic(EMAIL, "wrong"))
        .dispatch()
        .await;
    assert_own_401(wrong, html, page).await;
    // A default catcher at `/api` (longer base than the 401 catcher at `/`).
    let unconfirmed = client
        .get("/api/confirmed")
        .header(basic(UNCONFIRMED, PASSWORD))
        .dispatch()
        .await;
    let text = "text/plain; charset=utf-8";
    assert_own_401(unconfirmed, text, "my default catcher for 401").await;
    // A catcher's own challenge gives way to the core's.
    let bearer = client.get("/bearer/protected").dispatch().await;
    assert_own_401(bearer, text, "token required").await;

    // Statuses that are not a refusal still reach the user's catchers untouched.
    let response = client.get("/api/nowhere").dispatch().await;
    assert_eq!(response.status(), Status::NotFound);
    assert_eq!(
        response.into_string().await.as_deref(),
        Some("my default catcher for 404")
    );
}

#[tokio::test]
async fn an_outage_through_an_own_catcher_keeps_its_body_with_retry_after() {
    let setup = setup(false);
    let rocket = rocket_with(setup.authenticator)
        .mount("/api", routes![protected])
        .register("/api", catchers![my_default]);
    let client = client(rocket).await;
    setup.store.set_failing(true);
    let response = client
        .get("/api/protected")
        .header(basic(EMAIL, PASSWORD))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::ServiceUnavailable);
    assert_eq!(response.headers().get_one("Retry-After"), Some("1"));
    assert_eq!(response.headers().get_one("WWW-Authenticate"), None);
    assert_eq!(
        response.into_string().await.as_deref(),
        Some("my default catcher for 503")
    );
}

#[tokio::test]
async fn json_refusals_fill_only_the_default_catchers_body() {
    let setup = setup_with(false, RefusalFormat::Json);
    let rocket = rocket_with(setup.authenticator)
        .mount("/", routes![protected])
        .mount("/api", routes![protected])
        .register("/api", catchers![my_unauthorized]);
    let client = client(rocket).await;

    // rocket's default catcher: the core's JSON.
    let response = client.get("/protected").dispatch().await;
    assert_eq!(response.status(), Status::Unauthorized);
    assert_eq!(
        response.headers().get_one("WWW-Authenticate"),
        Some(CHALLENGE)
    );
    assert_eq!(
        response.headers().get_one("Content-Type"),
        Some("application/json")
    );
    assert_eq!(
        response.into_string().await.as_deref(),
        Some(r#"{"error":"unauthorized"}"#)
    );
    // A catcher of the application's: its own page.
    let response = client.get("/api/protected").dispatch().await;
    assert_own_401(
        response,
        "text/html; charset=utf-8",
        "<h1>please log in</h1>",
    )
    .await;
}

#[tokio::test]
async fn a_catcher_that_changes_the_status_is_left_alone() {
    let setup = setup(false);
    let rocket = rocket_with(setup.authenticator)
        .mount("/", routes![protected])
        .register("/", catchers![to_login_page]);
    let client = client(rocket).await;
    let response = client.get("/protected").dispatch().await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(response.headers().get_one("Location"), Some("/login"));
}

#[get("/own-401")]
fn own_401() -> Status {
    Status::Unauthorized
}

#[tokio::test]
async fn a_401_no_guard_caused_is_left_alone() {
    let setup = setup(false);
    let client = client(rocket_with(setup.authenticator).mount("/", routes![own_401])).await;
    let response = client.get("/own-401").dispatch().await;
    assert_eq!(response.status(), Status::Unauthorized);
    assert_eq!(response.headers().get_one("WWW-Authenticate"), None);
    assert_eq!(setup.decisions.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn store_outage_through_the_catcher_is_503() {
    let setup = setup(false);
    let client = client(rocket_with(setup.authenticator).mount("/", routes![protected])).await;
    setup.store.set_failing(true);
    let response = client
        .get("/protected")
        .header(basic(EMAIL, PASSWORD))
        .dispatch()
        .await;
    assert_unavailable(response).await;
}

// require_credentials

#[get("/deploy")]
fn deploy(credentials: BasicCredentials) -> Result<String, AuthRejection> {
    if !credentials.matches("ci", "s3cret") {
        return Err(credentials.challenge());
    }
    Ok(format!("deploying for {}", credentials.username()))
}

#[tokio::test]
async fn require_credentials_refuses_in_one_call() {
    let setup = setup(false);
    let client = client(rocket_with(setup.authenticator).mount("/", routes![deploy])).await;

    let response = client
        .get("/deploy")
        .header(basic("ci", "s3cret"))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(
        response.into_string().await.as_deref(),
        Some("deploying for ci")
    );
    assert_eq!(setup.handler_refusals.load(Ordering::SeqCst), 0);

    assert_challenge(
        client
            .get("/deploy")
            .header(basic("ci", "guess"))
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(setup.handler_refusals.load(Ordering::SeqCst), 1);

    // Identical to the 401 for a request without credentials.
    assert_challenge(client.get("/deploy").dispatch().await).await;
}

#[tokio::test]
async fn credentials_only_authenticator_serves_basic_credentials() {
    let authenticator = Authenticator::credentials_only(REALM).expect("realm");
    let client = client(
        rocket::custom(quiet())
            .attach(BasicAuth::new(authenticator))
            .mount("/", routes![deploy]),
    )
    .await;
    assert_challenge(
        client
            .get("/deploy")
            .header(basic("ci", "guess"))
            .dispatch()
            .await,
    )
    .await;
    let response = client
        .get("/deploy")
        .header(basic("ci", "s3cret"))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok);
}

#[tokio::test]
async fn every_authorization_field_reaches_the_core() {
    let setup = setup(false);
    let client =
        client(rocket_with(setup.authenticator).mount("/", routes![protected, deploy])).await;
    for path in ["/protected", "/deploy"] {
        let response = client
            .get(path)
            .header(basic(EMAIL, PASSWORD))
            .header(basic(EMAIL, PASSWORD))
            .dispatch()
            .await;
        assert_challenge(response).await;
    }
}

// preflights

#[options("/protected")]
fn guarded_preflight(user: AuthUser) -> String {
    format!("preflight as {}", user.email)
}

#[options("/protected", rank = 2)]
fn cors_preflight() -> Status {
    Status::NoContent
}

#[options("/maybe")]
fn optional_preflight(user: Optional<AuthUser>) -> &'static str {
    if user.0.is_some() {
        "user"
    } else {
        "anonymous preflight"
    }
}

/// Guarded, with no lower-ranked route to answer the preflights it forwards.
#[options("/only-guarded")]
fn only_guarded_preflight(user: AuthUser) -> String {
    format!("options as {}", user.email)
}

fn preflight_rocket(authenticator: Authenticator<User>) -> Rocket<Build> {
    rocket_with(authenticator).mount(
        "/",
        routes![
            guarded_preflight,
            cors_preflight,
            optional_preflight,
            only_guarded_preflight
        ],
    )
}

#[tokio::test]
async fn exempt_preflights_are_forwarded_not_challenged() {
    let setup = setup(true);
    let client = client(preflight_rocket(setup.authenticator)).await;
    let preflight = |path| {
        client
            .options(path)
            .header(Header::new("Origin", "http://example.com"))
            .header(Header::new("Access-Control-Request-Method", "GET"))
            .dispatch()
    };
    let response = preflight("/protected").await;
    assert_eq!(response.status(), Status::NoContent);
    assert_eq!(response.headers().get_one("WWW-Authenticate"), None);

    let response = preflight("/maybe").await;
    assert_eq!(
        response.into_string().await.as_deref(),
        Some("anonymous preflight")
    );
    assert_eq!(setup.decisions.load(Ordering::SeqCst), 0);

    // Forwarded with nothing to answer it, the preflight still passes: the fairing answers 204
    // (where rocket alone would say 404), as the other adapters do.
    let response = preflight("/only-guarded").await;
    assert_eq!(response.status(), Status::NoContent);
    assert_eq!(response.headers().get_one("WWW-Authenticate"), None);
    assert_eq!(response.into_string().await.unwrap_or_default(), "");
    // An unrouted path is still unrouted.
    assert_eq!(preflight("/nowhere").await.status(), Status::NotFound);

    // Only a real preflight is exempt.
    assert_challenge(client.options("/protected").dispatch().await).await;
    assert_challenge(client.options("/only-guarded").dispatch().await).await;
}

#[tokio::test]
async fn preflights_are_challenged_when_the_core_does_not_exempt_them() {
    let setup = setup(false);
    let client = client(preflight_rocket(setup.authenticator)).await;
    let response = client
        .options("/protected")
        .header(Header::new("Access-Control-Request-Method", "GET"))
        .dispatch()
        .await;
    assert_challenge(response).await;
}

// configuration mistakes

#[get("/credentials")]
fn credentials_route(credentials: BasicCredentials) -> String {
    credentials.username().to_owned()
}

#[get("/maybe-confirmed")]
fn maybe_confirmed(user: Optional<ConfirmedUser>) -> String {
    format!("{}", user.0.is_some())
}

#[tokio::test]
async fn a_guard_without_its_fairing_stops_the_launch() {
    let bare = || rocket::custom(quiet());
    for rocket in [
        bare().mount("/", routes![protected]),
        bare().mount("/", routes![credentials_route]),
        bare().mount("/", routes![maybe_confirmed]),
    ] {
        let error = rocket.ignite().await.expect_err("a sentinel aborts");
        assert!(
            matches!(error.kind(), rocket::error::ErrorKind::SentinelAborts(_)),
            "{error}"
        );
    }

    // A fairing for another user type does not serve `AuthUser<User>`.
    let other = Authenticator::credentials_only(REALM).expect("realm");
    let rocket = bare()
        .attach(BasicAuth::new(other))
        .mount("/", routes![protected, credentials_route]);
    let error = rocket.ignite().await.expect_err("a sentinel aborts");
    assert!(matches!(
        error.kind(),
        rocket::error::ErrorKind::SentinelAborts(aborts) if aborts.len() == 1
    ));
}

/// A guard of the application's that asks for a user type no fairing serves, out of sight of
/// rocket's sentinels.
struct Probe;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Probe {
    type Error = AuthRejection;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, AuthRejection> {
        request.guard::<AuthUser<u64>>().await.map(|_| Probe)
    }
}

#[get("/probe")]
fn probe(_probe: Probe) -> &'static str {
    "unreachable"
}

#[tokio::test]
async fn a_guard_without_its_fairing_at_run_time_is_a_500() {
    let setup = setup(false);
    let client = client(rocket_with(setup.authenticator).mount("/", routes![probe])).await;
    let response = client
        .get("/probe")
        .header(basic(EMAIL, PASSWORD))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::InternalServerError);
    assert_eq!(response.headers().get_one("WWW-Authenticate"), None);
}

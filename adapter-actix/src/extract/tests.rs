use actix_web::http::header::{ACCESS_CONTROL_REQUEST_METHOD, RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::http::Method;
use actix_web::test::{call_service, init_service};
use actix_web::{web, App};
use endpoint_auth::{Authenticator, NoUser, User};

use crate::test_support::{basic, get as request, parts, Harness, EMAIL, PASSWORD, UNCONFIRMED};
use crate::{AuthRejection, AuthUser, BasicCredentials, ConfirmedUser, Optional};

async fn user_email(AuthUser(user): AuthUser) -> String {
    user.email
}

async fn maybe_user(user: Optional<AuthUser>) -> String {
    user.into_inner()
        .map_or_else(|| "anonymous".to_owned(), |AuthUser(user)| user.email)
}

async fn two_extractors(AuthUser(first): AuthUser, second: Optional<AuthUser>) -> String {
    assert_eq!(Some(&first), second.as_ref().map(|user| &user.0));
    first.email
}

async fn two_results(
    first: Result<AuthUser, AuthRejection>,
    second: Result<AuthUser, AuthRejection>,
) -> String {
    let show = |extracted: Result<AuthUser, AuthRejection>| {
        extracted.map_or_else(|e| e.to_string(), |AuthUser(user)| user.email)
    };
    format!("{} | {}", show(first), show(second))
}

async fn confirmed(ConfirmedUser(user): ConfirmedUser) -> String {
    user.email
}

async fn plain_and_confirmed(
    AuthUser(plain): AuthUser,
    ConfirmedUser(confirmed): ConfirmedUser,
) -> String {
    assert_eq!(plain.id, confirmed.id);
    plain.email
}

async fn echo_credentials(credentials: BasicCredentials) -> String {
    format!("{}:{}", credentials.username(), credentials.password())
}

async fn maybe_credentials(credentials: Optional<BasicCredentials>) -> String {
    credentials
        .as_ref()
        .map_or_else(|| "none".to_owned(), |c| c.username().to_owned())
}

async fn refuse_credentials(credentials: BasicCredentials) -> Result<String, AuthRejection> {
    Err(credentials.challenge())
}

async fn two_credential_results(
    first: Result<BasicCredentials, AuthRejection>,
    second: Result<BasicCredentials, AuthRejection>,
) -> String {
    format!("{} {}", first.is_ok(), second.is_ok())
}

/// The test app over a harness's authenticator (a macro: the service type cannot be named).
macro_rules! app {
    ($harness:expr) => {
        init_service(
            App::new()
                .app_data(web::Data::new($harness.authenticator.clone()))
                .route("/user", web::get().to(user_email))
                .route("/maybe", web::get().to(maybe_user))
                .route("/two", web::get().to(two_extractors))
                .route("/two-results", web::get().to(two_results))
                .route("/confirmed", web::get().to(confirmed))
                .route("/plain-and-confirmed", web::get().to(plain_and_confirmed))
                .route("/credentials", web::get().to(echo_credentials))
                .route("/maybe-credentials", web::get().to(maybe_credentials))
                .route("/refuse", web::get().to(refuse_credentials))
                .route("/two-credentials", web::get().to(two_credential_results)),
        )
        .await
    };
}

/// The core's response for `rejection`, as the tests compare responses.
fn expected(rejection: &endpoint_auth::Rejection) -> (u16, Vec<(String, String)>, String) {
    let response: endpoint_auth::http::Response<String> = rejection.into_http_response();
    let mut headers: Vec<_> = response
        .headers()
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect();
    headers.sort();
    (response.status().as_u16(), headers, response.body().clone())
}

#[actix_web::test]
async fn auth_user_gets_the_stored_user() {
    let harness = Harness::new();
    let app = app!(harness);
    let response = call_service(
        &app,
        request("/user", Some(&basic(EMAIL, PASSWORD))).to_request(),
    )
    .await;
    let (status, _, body) = parts(response).await;
    assert_eq!((status, body.as_str()), (200, EMAIL));
}

#[actix_web::test]
async fn auth_user_rejection_is_the_cores_response() {
    let harness = Harness::new();
    let app = app!(harness);
    let response = call_service(
        &app,
        request("/user", Some(&basic(EMAIL, "wrong"))).to_request(),
    )
    .await;
    assert_eq!(
        parts(response).await,
        expected(&harness.authenticator.challenge())
    );
}

#[actix_web::test]
async fn the_rejection_rides_along_in_the_response_extensions() {
    let harness = Harness::new();
    let app = app!(harness);
    let response = call_service(
        &app,
        request("/user", Some(&basic(EMAIL, "wrong"))).to_request(),
    )
    .await;
    let carried = response
        .response()
        .extensions()
        .get::<endpoint_auth::Rejection>()
        .map(ToString::to_string);
    assert_eq!(
        carried.as_deref(),
        Some("401 Unauthorized (wrong password)")
    );
}

#[actix_web::test]
async fn two_extractors_ask_the_core_once() {
    let harness = Harness::new();
    let app = app!(harness);
    let response = call_service(
        &app,
        request("/two", Some(&basic(EMAIL, PASSWORD))).to_request(),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(harness.decisions(), 1);
}

#[actix_web::test]
async fn a_rejection_is_shared_too() {
    let harness = Harness::new();
    let app = app!(harness);
    let response = call_service(
        &app,
        request("/two-results", Some(&basic(EMAIL, "wrong"))).to_request(),
    )
    .await;
    assert_eq!(
        parts(response).await.2,
        "401 Unauthorized (wrong password) | 401 Unauthorized (wrong password)"
    );
    assert_eq!(harness.decisions(), 1);
    assert_eq!(
        harness.failures(EMAIL),
        Some(1),
        "one wrong password, one failure counted"
    );
}

#[actix_web::test]
async fn different_requirements_are_decided_separately() {
    let harness = Harness::new();
    let app = app!(harness);
    let response = call_service(
        &app,
        request("/plain-and-confirmed", Some(&basic(EMAIL, PASSWORD))).to_request(),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(harness.decisions(), 2);
}

#[actix_web::test]
async fn confirmed_user_refuses_an_unconfirmed_email() {
    let harness = Harness::new();
    let app = app!(harness);
    let refused = call_service(
        &app,
        request("/confirmed", Some(&basic(UNCONFIRMED, PASSWORD))).to_request(),
    )
    .await;
    assert_eq!(refused.status(), 401);
    let allowed = call_service(
        &app,
        request("/user", Some(&basic(UNCONFIRMED, PASSWORD))).to_request(),
    )
    .await;
    assert_eq!(allowed.status(), 200);
    let confirmed = call_service(
        &app,
        request("/confirmed", Some(&basic(EMAIL, PASSWORD))).to_request(),
    )
    .await;
    assert_eq!(parts(confirmed).await.2, EMAIL);
}

#[actix_web::test]
async fn optional_user_without_header_is_none_and_asks_nothing() {
    let harness = Harness::new();
    let app = app!(harness);
    let response = call_service(&app, request("/maybe", None).to_request()).await;
    assert_eq!(parts(response).await.2, "anonymous");
    assert_eq!(harness.decisions(), 0);
}

#[actix_web::test]
async fn optional_user_with_right_password_is_some() {
    let harness = Harness::new();
    let app = app!(harness);
    let response = call_service(
        &app,
        request("/maybe", Some(&basic(EMAIL, PASSWORD))).to_request(),
    )
    .await;
    assert_eq!(parts(response).await.2, EMAIL);
}

#[actix_web::test]
async fn optional_user_with_wrong_password_is_refused_not_anonymous() {
    let harness = Harness::new();
    let app = app!(harness);
    let wrong = call_service(
        &app,
        request("/maybe", Some(&basic(EMAIL, "wrong"))).to_request(),
    )
    .await;
    assert_eq!(
        parts(wrong).await,
        expected(&harness.authenticator.challenge())
    );
    let malformed = call_service(&app, request("/maybe", Some("Basic !!!")).to_request()).await;
    assert_eq!(malformed.status(), 401);
    let empty = call_service(&app, request("/maybe", Some("")).to_request()).await;
    assert_eq!(
        empty.status(),
        401,
        "an empty Authorization field is not anonymous"
    );
}

#[actix_web::test]
async fn optional_user_with_two_fields_is_refused() {
    let harness = Harness::new();
    let app = app!(harness);
    let field = basic(EMAIL, PASSWORD);
    let two = request("/maybe", Some(&field))
        .append_header(("authorization", field.as_str()))
        .to_request();
    assert_eq!(call_service(&app, two).await.status(), 401);
}

#[actix_web::test]
async fn optional_user_with_store_down_is_unavailable() {
    let harness = Harness::new();
    harness.store.set_failing(true);
    let app = app!(harness);
    let response = call_service(
        &app,
        request("/maybe", Some(&basic(EMAIL, PASSWORD))).to_request(),
    )
    .await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key(RETRY_AFTER));
    assert!(!response.headers().contains_key(WWW_AUTHENTICATE));
}

#[actix_web::test]
async fn credentials_are_handed_over() {
    let harness = Harness::new();
    let app = app!(harness);
    let response = call_service(
        &app,
        request("/credentials", Some(&basic("any user", "pa:ss"))).to_request(),
    )
    .await;
    assert_eq!(parts(response).await.2, "any user:pa:ss");
}

#[actix_web::test]
async fn handler_challenge_answers_like_every_other_401() {
    let harness = Harness::new();
    let app = app!(harness);
    let refused_by_handler = call_service(
        &app,
        request("/refuse", Some(&basic("u", "p"))).to_request(),
    )
    .await;
    let no_header = call_service(&app, request("/credentials", None).to_request()).await;
    let refused = parts(refused_by_handler).await;
    assert_eq!(refused, parts(no_header).await);
    assert_eq!(refused, expected(&harness.authenticator.challenge()));
}

#[actix_web::test]
async fn optional_credentials() {
    let harness = Harness::new();
    let app = app!(harness);
    let none = call_service(&app, request("/maybe-credentials", None).to_request()).await;
    assert_eq!(parts(none).await.2, "none");
    let some = call_service(
        &app,
        request("/maybe-credentials", Some(&basic("u", "p"))).to_request(),
    )
    .await;
    assert_eq!(parts(some).await.2, "u");
    let malformed = call_service(
        &app,
        request("/maybe-credentials", Some("Bearer x")).to_request(),
    )
    .await;
    assert_eq!(malformed.status(), 401);
}

#[actix_web::test]
async fn credentials_are_decided_once() {
    let harness = Harness::new();
    let app = app!(harness);
    let response = call_service(
        &app,
        request("/two-credentials", Some("Basic !!!")).to_request(),
    )
    .await;
    assert_eq!(parts(response).await.2, "false false");
    assert_eq!(harness.decisions(), 1, "one refusal audited, not two");
}

#[actix_web::test]
async fn a_plain_authenticator_in_the_app_data_is_found() {
    let harness = Harness::new();
    let app = init_service(
        App::new()
            .app_data(harness.authenticator.clone())
            .route("/user", web::get().to(user_email)),
    )
    .await;
    let response = call_service(
        &app,
        request("/user", Some(&basic(EMAIL, PASSWORD))).to_request(),
    )
    .await;
    assert_eq!(parts(response).await.2, EMAIL);
}

#[actix_web::test]
async fn credentials_only_authenticator() {
    async fn pair(credentials: BasicCredentials<NoUser>) -> Result<String, AuthRejection> {
        if credentials.matches("ci", "s3cret") {
            Ok("deploying".to_owned())
        } else {
            Err(credentials.challenge())
        }
    }
    let app = init_service(
        App::new()
            .app_data(web::Data::new(
                Authenticator::credentials_only("deploys").unwrap(),
            ))
            .route("/", web::get().to(pair)),
    )
    .await;
    let allowed = call_service(
        &app,
        request("/", Some(&basic("ci", "s3cret"))).to_request(),
    )
    .await;
    assert_eq!(parts(allowed).await.2, "deploying");
    let refused = call_service(&app, request("/", Some(&basic("ci", "guess"))).to_request()).await;
    assert_eq!(refused.status(), 401);
}

#[actix_web::test]
async fn no_authenticator_in_the_app_data_is_a_server_error() {
    let app = init_service(App::new().route("/user", web::get().to(user_email))).await;
    let response = call_service(
        &app,
        request("/user", Some(&basic(EMAIL, PASSWORD))).to_request(),
    )
    .await;
    assert_eq!(response.status(), 500);
    assert!(!response.headers().contains_key(WWW_AUTHENTICATE));
}

#[actix_web::test]
async fn the_socket_peer_is_the_client_not_a_forwarded_header() {
    // With no trusted proxies, a forged X-Forwarded-For changes nothing: the request is
    // authenticated for its socket peer (the decision is the same either way; this checks that
    // the header does not make the extractor fail).
    let harness = Harness::new();
    let app = app!(harness);
    let response = call_service(
        &app,
        request("/user", Some(&basic(EMAIL, PASSWORD)))
            .insert_header(("x-forwarded-for", "203.0.113.9"))
            .insert_header(("forwarded", "for=203.0.113.9"))
            .to_request(),
    )
    .await;
    assert_eq!(response.status(), 200);
}

#[test]
fn basic_credentials_debug_redacts_the_password() {
    let harness = Harness::new();
    let request = request("/", Some(&basic("alice", "hunter2")))
        .app_data(web::Data::new(harness.authenticator.clone()))
        .to_http_request();
    let credentials = crate::cache::credentials(&request, &harness.authenticator).unwrap();
    let extracted = BasicCredentials::<User> {
        credentials,
        authenticator: harness.authenticator.clone(),
    };
    let shown = format!("{extracted:?}");
    assert!(shown.contains("alice"));
    assert!(!shown.contains("hunter2"));
}

/// `OPTIONS path` from a client, a CORS preflight when `preflight`.
fn options(path: &str, preflight: bool) -> actix_web::test::TestRequest {
    let request = request(path, None).method(actix_web::http::Method::OPTIONS);
    if preflight {
        request.insert_header((ACCESS_CONTROL_REQUEST_METHOD, "GET"))
    } else {
        request
    }
}

/// Routes that serve `OPTIONS` through the extractors, as an application without a CORS
/// middleware writes them.
macro_rules! options_app {
    ($harness:expr) => {
        init_service(
            App::new()
                .app_data(web::Data::new($harness.authenticator.clone()))
                .route("/user", web::method(Method::OPTIONS).to(user_email))
                .route("/confirmed", web::method(Method::OPTIONS).to(confirmed))
                .route(
                    "/credentials",
                    web::method(Method::OPTIONS).to(echo_credentials),
                )
                .route("/maybe", web::method(Method::OPTIONS).to(maybe_user)),
        )
        .await
    };
}

#[actix_web::test]
async fn extractors_answer_an_exempt_preflight_with_204_without_the_handler() {
    let harness = Harness::new();
    let app = options_app!(harness);
    for path in ["/user", "/confirmed", "/credentials"] {
        let response = call_service(&app, options(path, true).to_request()).await;
        let (status, headers, body) = parts(response).await;
        assert_eq!(status, 204, "{path}");
        assert!(
            !headers.iter().any(|(name, _)| name == "www-authenticate"),
            "{path}: {headers:?}"
        );
        assert_eq!(body, "", "{path}: the handler did not run");
    }
    assert_eq!(harness.decisions(), 0, "the core was not asked");
}

#[actix_web::test]
async fn optional_serves_an_exempt_preflight_as_anonymous() {
    let harness = Harness::new();
    let app = options_app!(harness);
    let response = call_service(&app, options("/maybe", true).to_request()).await;
    assert_eq!(parts(response).await.2, "anonymous");
}

#[actix_web::test]
async fn options_without_the_preflight_header_is_authenticated_by_extractors() {
    let harness = Harness::new();
    let app = options_app!(harness);
    for path in ["/user", "/confirmed", "/credentials"] {
        let response = call_service(&app, options(path, false).to_request()).await;
        assert_eq!(response.status(), 401, "{path}");
        assert!(response.headers().contains_key(WWW_AUTHENTICATE), "{path}");
    }
}

#[actix_web::test]
async fn extractors_challenge_preflights_the_authenticator_does_not_exempt() {
    let harness = Harness::with_preflight(false);
    let app = options_app!(harness);
    for path in ["/user", "/credentials"] {
        let response = call_service(&app, options(path, true).to_request()).await;
        assert_eq!(response.status(), 401, "{path}");
    }
}

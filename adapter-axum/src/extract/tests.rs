use axum::extract::FromRef;
use axum::http::header::{
    ACCESS_CONTROL_REQUEST_METHOD, AUTHORIZATION, RETRY_AFTER, WWW_AUTHENTICATE,
};
use axum::http::HeaderValue;
use axum::routing::get;
use axum::Router;
use endpoint_auth::User;
use tower::ServiceExt as _;

use crate::test_support::{basic, get as request, parts, Harness, EMAIL, PASSWORD, UNCONFIRMED};
use crate::{AuthRejection, AuthUser, BasicCredentials, ConfirmedUser};

async fn user_email(AuthUser(user): AuthUser) -> String {
    user.email
}

async fn maybe_user(user: Option<AuthUser>) -> String {
    user.map_or_else(|| "anonymous".to_owned(), |AuthUser(user)| user.email)
}

async fn two_extractors(AuthUser(first): AuthUser, second: Option<AuthUser>) -> String {
    assert_eq!(Some(&first), second.as_deref());
    first.email
}

async fn two_results(
    first: Result<AuthUser, AuthRejection>,
    second: Result<AuthUser, AuthRejection>,
) -> String {
    format!(
        "{} {}",
        first.map_or_else(|e| e.status().to_string(), |u| u.0.email),
        second.map_or_else(|e| e.status().to_string(), |u| u.0.email)
    )
}

async fn confirmed(ConfirmedUser(user): ConfirmedUser) -> String {
    user.email
}

async fn plain_and_confirmed(AuthUser(plain): AuthUser, ConfirmedUser(confirmed): ConfirmedUser) {
    // Two decisions, two reads of the record: the second sees the first one's `last_login`.
    assert_eq!(plain.id, confirmed.id);
}

async fn echo_credentials(credentials: BasicCredentials) -> String {
    format!("{}:{}", credentials.username(), credentials.password())
}

async fn maybe_credentials(credentials: Option<BasicCredentials>) -> String {
    credentials.map_or_else(|| "none".to_owned(), |c| c.username().to_owned())
}

async fn refuse_credentials(credentials: BasicCredentials) -> Result<(), AuthRejection> {
    Err(credentials.challenge())
}

async fn two_credential_results(
    first: Result<BasicCredentials, AuthRejection>,
    second: Result<BasicCredentials, AuthRejection>,
) -> String {
    format!("{} {}", first.is_ok(), second.is_ok())
}

fn app(harness: &Harness) -> Router {
    Router::new()
        .route("/user", get(user_email))
        .route("/maybe", get(maybe_user))
        .route("/two", get(two_extractors))
        .route("/two-results", get(two_results))
        .route("/confirmed", get(confirmed))
        .route("/plain-and-confirmed", get(plain_and_confirmed))
        .route("/credentials", get(echo_credentials))
        .route("/maybe-credentials", get(maybe_credentials))
        .route("/refuse", get(refuse_credentials))
        .route("/two-credentials", get(two_credential_results))
        .with_state(harness.authenticator.clone())
}

#[tokio::test]
async fn auth_user_gets_the_stored_user() {
    let harness = Harness::new();
    let response = app(&harness)
        .oneshot(request("/user", Some(basic(EMAIL, PASSWORD))))
        .await
        .unwrap();
    let (status, _, body) = parts(response).await;
    assert_eq!((status, body.as_str()), (200, EMAIL));
}

#[tokio::test]
async fn auth_user_rejection_is_the_cores_response() {
    let harness = Harness::new();
    let response = app(&harness)
        .oneshot(request("/user", Some(basic(EMAIL, "wrong"))))
        .await
        .unwrap();
    let expected: axum::http::Response<String> =
        harness.authenticator.challenge().into_http_response();
    let (status, headers, body) = parts(response).await;
    assert_eq!(status, 401);
    assert_eq!(
        headers[0],
        (
            WWW_AUTHENTICATE.to_string(),
            expected.headers()[WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .into()
        )
    );
    assert_eq!(body, *expected.body());
}

#[tokio::test]
async fn two_extractors_ask_the_core_once() {
    let harness = Harness::new();
    let response = app(&harness)
        .oneshot(request("/two", Some(basic(EMAIL, PASSWORD))))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(harness.decisions(), 1);
}

#[tokio::test]
async fn a_rejection_is_cached_too() {
    let harness = Harness::new();
    let response = app(&harness)
        .oneshot(request("/two-results", Some(basic(EMAIL, "wrong"))))
        .await
        .unwrap();
    assert_eq!(parts(response).await.2, "401 Unauthorized 401 Unauthorized");
    assert_eq!(harness.decisions(), 1);
    assert_eq!(
        harness
            .store
            .inner()
            .users()
            .iter()
            .find(|u| u.email == EMAIL)
            .map(|u| u.n_password_failures),
        Some(1),
        "one wrong password, one failure counted"
    );
}

#[tokio::test]
async fn different_requirements_are_decided_separately() {
    let harness = Harness::new();
    let response = app(&harness)
        .oneshot(request(
            "/plain-and-confirmed",
            Some(basic(EMAIL, PASSWORD)),
        ))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(harness.decisions(), 2);
}

#[tokio::test]
async fn confirmed_user_refuses_an_unconfirmed_email() {
    let harness = Harness::new();
    let app = app(&harness);
    let refused = app
        .clone()
        .oneshot(request("/confirmed", Some(basic(UNCONFIRMED, PASSWORD))))
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let allowed = app
        .clone()
        .oneshot(request("/user", Some(basic(UNCONFIRMED, PASSWORD))))
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
    let confirmed = app
        .oneshot(request("/confirmed", Some(basic(EMAIL, PASSWORD))))
        .await
        .unwrap();
    assert_eq!(parts(confirmed).await.2, EMAIL);
}

#[tokio::test]
async fn optional_user_without_header_is_none_and_asks_nothing() {
    let harness = Harness::new();
    let response = app(&harness)
        .oneshot(request("/maybe", None))
        .await
        .unwrap();
    assert_eq!(parts(response).await.2, "anonymous");
    assert_eq!(harness.decisions(), 0);
}

#[tokio::test]
async fn optional_user_with_right_password_is_some() {
    let harness = Harness::new();
    let response = app(&harness)
        .oneshot(request("/maybe", Some(basic(EMAIL, PASSWORD))))
        .await
        .unwrap();
    assert_eq!(parts(response).await.2, EMAIL);
}

#[tokio::test]
async fn optional_user_with_wrong_password_is_refused() {
    let harness = Harness::new();
    let response = app(&harness)
        .oneshot(request("/maybe", Some(basic(EMAIL, "wrong"))))
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let malformed = app(&harness)
        .oneshot(request(
            "/maybe",
            Some(HeaderValue::from_static("Basic !!!")),
        ))
        .await
        .unwrap();
    assert_eq!(malformed.status(), 401);
}

#[tokio::test]
async fn optional_user_with_store_down_is_unavailable() {
    let harness = Harness::new();
    harness.store.set_failing(true);
    let response = app(&harness)
        .oneshot(request("/maybe", Some(basic(EMAIL, PASSWORD))))
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key(RETRY_AFTER));
    assert!(!response.headers().contains_key(WWW_AUTHENTICATE));
}

#[tokio::test]
async fn credentials_are_handed_over() {
    let harness = Harness::new();
    let response = app(&harness)
        .oneshot(request("/credentials", Some(basic("any user", "pa:ss"))))
        .await
        .unwrap();
    assert_eq!(parts(response).await.2, "any user:pa:ss");
}

#[tokio::test]
async fn credentials_without_header_get_the_challenge() {
    let harness = Harness::new();
    let response = app(&harness)
        .oneshot(request("/credentials", None))
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(response.headers().contains_key(WWW_AUTHENTICATE));
}

#[tokio::test]
async fn handler_challenge_answers_like_every_other_401() {
    let harness = Harness::new();
    let app = app(&harness);
    let refused_by_handler = app
        .clone()
        .oneshot(request("/refuse", Some(basic("u", "p"))))
        .await
        .unwrap();
    let no_header = app.oneshot(request("/credentials", None)).await.unwrap();
    assert_eq!(parts(refused_by_handler).await, parts(no_header).await);
}

#[tokio::test]
async fn optional_credentials() {
    let harness = Harness::new();
    let app = app(&harness);
    let none = app
        .clone()
        .oneshot(request("/maybe-credentials", None))
        .await
        .unwrap();
    assert_eq!(parts(none).await.2, "none");
    let some = app
        .clone()
        .oneshot(request("/maybe-credentials", Some(basic("u", "p"))))
        .await
        .unwrap();
    assert_eq!(parts(some).await.2, "u");
    let malformed = app
        .oneshot(request(
            "/maybe-credentials",
            Some(HeaderValue::from_static("Bearer x")),
        ))
        .await
        .unwrap();
    assert_eq!(malformed.status(), 401);
}

#[tokio::test]
async fn credentials_are_decided_once() {
    let harness = Harness::new();
    let response = app(&harness)
        .oneshot(request(
            "/two-credentials",
            Some(HeaderValue::from_static("Basic !!!")),
        ))
        .await
        .unwrap();
    assert_eq!(parts(response).await.2, "false false");
    assert_eq!(harness.decisions(), 1, "one refusal audited, not two");
}

#[tokio::test]
async fn authenticator_found_in_a_larger_state() {
    #[derive(Clone)]
    struct AppState {
        authenticator: endpoint_auth::Authenticator<User>,
        greeting: &'static str,
    }
    impl FromRef<AppState> for endpoint_auth::Authenticator<User> {
        fn from_ref(state: &AppState) -> Self {
            state.authenticator.clone()
        }
    }
    async fn greet(
        axum::extract::State(state): axum::extract::State<AppState>,
        AuthUser(user): AuthUser,
    ) -> String {
        format!("{} {}", state.greeting, user.email)
    }

    let harness = Harness::new();
    let app = Router::new().route("/", get(greet)).with_state(AppState {
        authenticator: harness.authenticator.clone(),
        greeting: "hello",
    });
    let response = app
        .oneshot(request("/", Some(basic(EMAIL, PASSWORD))))
        .await
        .unwrap();
    assert_eq!(parts(response).await.2, format!("hello {EMAIL}"));
}

#[test]
fn basic_credentials_debug_redacts_the_password() {
    let harness = Harness::new();
    let mut parts = request("/", Some(basic("alice", "hunter2"))).into_parts().0;
    let credentials = crate::cache::credentials(&mut parts, &harness.authenticator).unwrap();
    let extracted = BasicCredentials {
        credentials,
        authenticator: harness.authenticator.clone(),
    };
    let shown = format!("{extracted:?}");
    assert!(shown.contains("alice"));
    assert!(!shown.contains("hunter2"));
    assert!(parts.headers.contains_key(AUTHORIZATION));
}

/// `OPTIONS path`, a CORS preflight when `preflight` (with `Access-Control-Request-Method`).
fn options(path: &str, preflight: bool) -> axum::http::Request<axum::body::Body> {
    let mut request = axum::http::Request::options(path);
    if preflight {
        request = request.header(ACCESS_CONTROL_REQUEST_METHOD, "GET");
    }
    request.body(axum::body::Body::empty()).unwrap()
}

/// Routes that serve `OPTIONS` through the extractors, as an application without a CORS layer
/// writes them.
fn options_app(harness: &Harness) -> Router {
    Router::new()
        .route("/user", get(user_email).options(user_email))
        .route("/confirmed", get(confirmed).options(confirmed))
        .route(
            "/credentials",
            get(echo_credentials).options(echo_credentials),
        )
        .route("/maybe", get(maybe_user).options(maybe_user))
        .with_state(harness.authenticator.clone())
}

#[tokio::test]
async fn extractors_answer_an_exempt_preflight_with_204_without_the_handler() {
    let harness = Harness::new();
    for path in ["/user", "/confirmed", "/credentials"] {
        let response = options_app(&harness)
            .oneshot(options(path, true))
            .await
            .unwrap();
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

#[tokio::test]
async fn optional_extractors_serve_an_exempt_preflight_as_anonymous() {
    let harness = Harness::new();
    let response = options_app(&harness)
        .oneshot(options("/maybe", true))
        .await
        .unwrap();
    assert_eq!(parts(response).await.2, "anonymous");
}

#[tokio::test]
async fn options_without_the_preflight_header_is_authenticated_by_extractors() {
    let harness = Harness::new();
    for path in ["/user", "/confirmed", "/credentials"] {
        let response = options_app(&harness)
            .oneshot(options(path, false))
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{path}");
        assert!(response.headers().contains_key(WWW_AUTHENTICATE), "{path}");
    }
}

#[tokio::test]
async fn extractors_challenge_preflights_the_authenticator_does_not_exempt() {
    let harness = Harness::with_preflight(false);
    for path in ["/user", "/credentials"] {
        let response = options_app(&harness)
            .oneshot(options(path, true))
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{path}");
    }
}

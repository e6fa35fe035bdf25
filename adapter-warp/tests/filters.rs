//! What is particular to the warp adapter: the optional forms, rejection recovery among other
//! routes and `.or()` branches, the one-call 401 of `require_credentials`, CORS preflights.
//! (SPEC behaviour itself is the conformance suite's, in `conformance.rs`.)

use endpoint_auth_conformance::FaultyStore;
use endpoint_auth_warp::endpoint_auth::{
    Authenticator, Credentials, HashPolicy, MemoryStore, NewUser, PoolConfig, Requirements, User,
};
use endpoint_auth_warp::{
    authenticate_users, challenge, optional_credentials, optional_user, preflight, recover,
    require_credentials, AuthRejection,
};
use warp::http::{HeaderValue, Response, StatusCode};
use warp::hyper::body::Bytes;
use warp::test::RequestBuilder;
use warp::{Filter, Rejection, Reply};

const EMAIL: &str = "user123@gmail.com";
const PASSWORD: &str = "mySuperS3cretPassw0rd";

/// Cheap argon2 parameters: these tests are about wiring, not hashing.
fn cheap() -> HashPolicy {
    HashPolicy::argon2id(64, 1, 1).expect("valid argon2 parameters")
}

/// A users store with the one user, which the outage tests switch off.
fn store() -> FaultyStore<MemoryStore> {
    let hash = cheap().hash(PASSWORD).expect("hashing the test password");
    let store = MemoryStore::new();
    store
        .insert(NewUser::new(EMAIL, Some(hash)))
        .expect("an empty store takes the user");
    FaultyStore::new(store)
}

fn authenticator(store: &FaultyStore<MemoryStore>, cors_preflight: bool) -> Authenticator<User> {
    Authenticator::builder(store.clone())
        .realm("warp tests")
        .hash_policy(cheap())
        .pool(PoolConfig::new().workers(1))
        .cors_preflight(cors_preflight)
        .build()
        .expect("a valid authenticator")
}

fn basic(username: &str, password: &str) -> HeaderValue {
    Credentials::new(username, password)
        .expect("valid test credentials")
        .to_header_value()
}

fn get(path: &str) -> RequestBuilder {
    warp::test::request().path(path)
}

fn login(path: &str, password: &str) -> RequestBuilder {
    get(path).header("authorization", basic(EMAIL, password))
}

/// The core's 401, with warp's body type: what every refusal must look like.
fn the_401(auth: &Authenticator<User>) -> Response<&'static str> {
    auth.challenge().into_http_response()
}

#[track_caller]
fn assert_is(response: &Response<Bytes>, expected: &Response<&'static str>) {
    assert_eq!(response.status(), expected.status());
    assert_eq!(response.headers(), expected.headers());
    assert_eq!(response.body(), expected.body().as_bytes());
}

/// `/protected` for users, closed with `recover`.
fn protected(
    auth: &Authenticator<User>,
) -> impl Filter<Extract = impl Reply, Error = Rejection> + Clone {
    warp::path!("protected")
        .and(warp::get())
        .and(authenticate_users(auth, Requirements::new()))
        .map(|user: User| format!("Authenticated {}", user.email))
        .recover(recover)
}

// authenticate_users

#[tokio::test]
async fn authenticated_user_reaches_the_handler() {
    let auth = authenticator(&store(), false);
    let response = login("/protected", PASSWORD).reply(&protected(&auth)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.body(), "Authenticated user123@gmail.com");
}

#[tokio::test]
async fn refusals_are_the_cores_401() {
    let auth = authenticator(&store(), false);
    let route = protected(&auth);
    assert_is(&get("/protected").reply(&route).await, &the_401(&auth));
    assert_is(
        &login("/protected", "wrong").reply(&route).await,
        &the_401(&auth),
    );
}

#[tokio::test]
async fn store_outage_is_the_cores_503() {
    let store = store();
    let auth = authenticator(&store, false);
    store.set_failing(true);
    let response = login("/protected", PASSWORD).reply(&protected(&auth)).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    assert!(!response.headers().contains_key("www-authenticate"));
}

// recovery among other routes

#[tokio::test]
async fn route_recovery_keeps_404_and_405_of_other_requests() {
    let auth = authenticator(&store(), false);
    let open = warp::path!("open").map(|| "open");
    let routes = protected(&auth).or(open);
    assert_eq!(
        get("/nowhere").reply(&routes).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get("/protected")
            .method("DELETE")
            .reply(&routes)
            .await
            .status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(get("/open").reply(&routes).await.body(), "open");
}

#[tokio::test]
async fn route_recovery_answers_before_a_catch_all_fallback() {
    let auth = authenticator(&store(), false);
    let fallback = warp::any().map(|| "index.html");
    let routes = protected(&auth).or(fallback);
    assert_is(&get("/protected").reply(&routes).await, &the_401(&auth));
    assert_eq!(get("/elsewhere").reply(&routes).await.body(), "index.html");
}

/// Why the docs recommend recovering on the route: otherwise the refusal loses to any later
/// branch that accepts the request (behind a catch-all, there is not even a rejection left for a
/// final `recover` to see).
#[tokio::test]
async fn without_route_recovery_a_fallback_takes_the_refused_request() {
    let auth = authenticator(&store(), false);
    let unrecovered = warp::path!("protected")
        .and(warp::get())
        .and(authenticate_users(&auth, Requirements::new()))
        .map(|user: User| user.email);
    let routes = unrecovered.or(warp::any().map(|| "index.html".to_owned()));
    let response = get("/protected").reply(&routes).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.body(), "index.html");
}

#[tokio::test]
async fn recovery_at_the_end_finds_the_refusal_among_404_and_405() {
    let auth = authenticator(&store(), false);
    let unrecovered = warp::path!("protected")
        .and(warp::get())
        .and(authenticate_users(&auth, Requirements::new()))
        .map(|user: User| user.email);
    // Same path, another method: rejects this GET with 405; `/open` rejects it with 404.
    let post = warp::path!("protected")
        .and(warp::post())
        .map(|| "posted".to_owned());
    let open = warp::path!("open").map(|| "open".to_owned());
    let routes = unrecovered.or(post).or(open).recover(recover);

    assert_is(&get("/protected").reply(&routes).await, &the_401(&auth));
    assert_eq!(
        get("/protected")
            .method("PUT")
            .reply(&routes)
            .await
            .status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        get("/nowhere").reply(&routes).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        login("/protected", PASSWORD).reply(&routes).await.body(),
        EMAIL
    );
}

#[tokio::test]
async fn an_application_recover_can_answer_the_refusal_itself() {
    async fn handle(rejection: Rejection) -> Result<warp::reply::Response, Rejection> {
        if let Some(refusal) = rejection.find::<AuthRejection>() {
            return Ok(refusal.response());
        }
        Ok(warp::reply::with_status("custom", StatusCode::IM_A_TEAPOT).into_response())
    }
    let auth = authenticator(&store(), false);
    let unrecovered = warp::path!("protected")
        .and(authenticate_users(&auth, Requirements::new()))
        .map(|user: User| user.email);
    let routes = unrecovered.recover(handle);
    assert_is(&get("/protected").reply(&routes).await, &the_401(&auth));
    assert_eq!(
        get("/nowhere").reply(&routes).await.status(),
        StatusCode::IM_A_TEAPOT
    );
}

#[tokio::test]
async fn forgotten_recovery_fails_closed_without_the_reason() {
    let auth = authenticator(&store(), false);
    let unrecovered = warp::path!("protected")
        .and(authenticate_users(&auth, Requirements::new()))
        .map(|user: User| user.email);
    let response = login("/protected", "wrong").reply(&unrecovered).await;
    assert!(response.status().is_server_error());
    let body = String::from_utf8_lossy(response.body()).into_owned();
    assert!(
        !body.contains("wrong") && !body.contains("password"),
        "{body}"
    );
    assert!(!body.contains(EMAIL), "{body}");
}

// require_credentials

/// An admin route that accepts one fixed pair and refuses others with one call.
fn admin(
    auth: &Authenticator<User>,
) -> impl Filter<Extract = impl Reply, Error = Rejection> + Clone {
    let checker = auth.clone();
    warp::path!("admin")
        .and(require_credentials(auth))
        .map(move |credentials: Credentials| {
            if credentials.matches("admin", "s3cret") {
                Ok(format!("Hello, {}", credentials.username()))
            } else {
                Err(challenge(&checker))
            }
        })
        .recover(recover)
}

#[tokio::test]
async fn require_credentials_hands_over_the_pair() {
    let auth = authenticator(&store(), false);
    let response = get("/admin")
        .header("authorization", basic("admin", "s3cret"))
        .reply(&admin(&auth))
        .await;
    assert_eq!(response.body(), "Hello, admin");
}

#[tokio::test]
async fn a_handler_refusal_is_the_same_401_as_missing_credentials() {
    let auth = authenticator(&store(), false);
    let route = admin(&auth);
    let refused = get("/admin")
        .header("authorization", basic("admin", "guess"))
        .reply(&route)
        .await;
    let missing = get("/admin").reply(&route).await;
    assert_is(&refused, &the_401(&auth));
    assert_is(&missing, &the_401(&auth));
}

#[tokio::test]
async fn a_handler_can_also_reject_with_the_challenge() {
    let auth = Authenticator::credentials_only("warp tests").unwrap();
    let checker = auth.clone();
    let route = warp::path!("admin")
        .and(require_credentials(&auth))
        .and_then(move |_: Credentials| {
            let refusal = challenge(&checker);
            async move { Err::<String, _>(warp::reject::custom(refusal)) }
        })
        .recover(recover);
    let response = get("/admin")
        .header("authorization", basic("admin", "guess"))
        .reply(&route)
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()["www-authenticate"],
        auth.realm().challenge()
    );
}

// optional forms

fn maybe_user(
    auth: &Authenticator<User>,
) -> impl Filter<Extract = impl Reply, Error = Rejection> + Clone {
    warp::path!("home")
        .and(optional_user(auth, Requirements::new()))
        .map(|user: Option<User>| match user {
            Some(user) => format!("Hello, {}", user.email),
            None => "Hello, stranger".to_owned(),
        })
        .recover(recover)
}

#[tokio::test]
async fn optional_user_is_none_without_an_authorization_field() {
    let auth = authenticator(&store(), false);
    let route = maybe_user(&auth);
    assert_eq!(get("/home").reply(&route).await.body(), "Hello, stranger");
    assert_eq!(
        login("/home", PASSWORD).reply(&route).await.body(),
        "Hello, user123@gmail.com"
    );
}

#[tokio::test]
async fn optional_user_refuses_failed_credentials_instead_of_serving_anonymously() {
    let auth = authenticator(&store(), false);
    let route = maybe_user(&auth);
    assert_is(
        &login("/home", "wrong").reply(&route).await,
        &the_401(&auth),
    );
    let malformed = get("/home")
        .header("authorization", "Basic !!!")
        .reply(&route)
        .await;
    assert_is(&malformed, &the_401(&auth));
}

#[tokio::test]
async fn optional_user_answers_503_when_the_store_is_down() {
    let store = store();
    let auth = authenticator(&store, false);
    let route = maybe_user(&auth);
    store.set_failing(true);
    let response = login("/home", PASSWORD).reply(&route).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    // No credentials: nothing to look up, so the outage does not matter.
    assert_eq!(get("/home").reply(&route).await.body(), "Hello, stranger");
}

#[tokio::test]
async fn optional_credentials_none_some_or_401() {
    let auth = authenticator(&store(), false);
    let route = warp::path!("echo")
        .and(optional_credentials(&auth))
        .map(|credentials: Option<Credentials>| {
            credentials.map_or_else(|| "none".to_owned(), |c| c.username().to_owned())
        })
        .recover(recover);
    assert_eq!(get("/echo").reply(&route).await.body(), "none");
    let some = get("/echo")
        .header("authorization", basic("alice", "pw"))
        .reply(&route)
        .await;
    assert_eq!(some.body(), "alice");
    let other_scheme = get("/echo")
        .header("authorization", "Bearer token")
        .reply(&route)
        .await;
    assert_is(&other_scheme, &the_401(&auth));
}

// CORS preflights

fn preflight_request(path: &str) -> RequestBuilder {
    warp::test::request()
        .method("OPTIONS")
        .path(path)
        .header("origin", "https://app.example")
        .header("access-control-request-method", "GET")
}

/// A route taking any method, so that preflights reach the authentication filter.
fn any_method(
    auth: &Authenticator<User>,
) -> impl Filter<Extract = impl Reply, Error = Rejection> + Clone {
    warp::path!("api")
        .and(authenticate_users(auth, Requirements::new()))
        .map(|user: User| user.email)
        .recover(recover)
}

#[tokio::test]
async fn exempt_preflights_pass_with_204_where_no_route_answers_them() {
    let auth = authenticator(&store(), true);
    let response = preflight_request("/api").reply(&any_method(&auth)).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(!response.headers().contains_key("www-authenticate"));
    assert!(response.body().is_empty());

    let credentials = warp::path!("api")
        .and(require_credentials(&auth))
        .map(|c: Credentials| c.username().to_owned())
        .recover(recover);
    let response = preflight_request("/api").reply(&credentials).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    // Elsewhere, warp's usual 404.
    let response = preflight_request("/elsewhere")
        .reply(&any_method(&auth))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn preflights_are_challenged_unless_the_authenticator_exempts_them() {
    let auth = authenticator(&store(), false);
    let response = preflight_request("/api").reply(&any_method(&auth)).await;
    assert_is(&response, &the_401(&auth));
}

#[tokio::test]
async fn the_preflight_route_answers_what_the_core_exempts() {
    let auth = authenticator(&store(), true);
    let routes = preflight(&auth)
        .map(|| warp::reply::with_header(warp::reply(), "access-control-allow-origin", "*"))
        .or(any_method(&auth));
    let response = preflight_request("/api").reply(&routes).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");

    // A plain OPTIONS is no preflight: it goes to the route, which wants credentials.
    let plain = warp::test::request().method("OPTIONS").path("/api");
    assert_is(&plain.reply(&routes).await, &the_401(&auth));

    // Not exempt: the preflight route does not match.
    let strict = authenticator(&store(), false);
    assert!(!preflight_request("/api").matches(&preflight(&strict)).await);
}

#[tokio::test]
async fn optional_forms_serve_exempt_preflights_anonymously() {
    let auth = authenticator(&store(), true);
    let response = preflight_request("/home").reply(&maybe_user(&auth)).await;
    assert_eq!(response.body(), "Hello, stranger");
}

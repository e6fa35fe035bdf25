use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::http::header::{ACCESS_CONTROL_REQUEST_METHOD, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{Method, Request, Response};
use axum::routing::get;
use axum::{Extension, Router};
use endpoint_auth::{Requirements, User};
use tower::{service_fn, Layer as _, ServiceExt as _};

use crate::test_support::{basic, get as request, parts, Harness, EMAIL, PASSWORD, UNCONFIRMED};
use crate::{AuthUser, AuthenticateUsersLayer};

/// A plain tower service (no axum) with `String` bodies that greets the user the layer put in
/// the extensions, and counts its calls.
fn greeter(
    calls: Arc<AtomicUsize>,
) -> impl tower::Service<
    Request<String>,
    Response = Response<String>,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    service_fn(move |request: Request<String>| {
        calls.fetch_add(1, Ordering::SeqCst);
        let who = request
            .extensions()
            .get::<User>()
            .map_or_else(|| "nobody".to_owned(), |user| user.email.clone());
        async move { Ok::<_, Infallible>(Response::new(format!("hello {who}"))) }
    })
}

fn string_request(method: Method, authorization: Option<(&str, &str)>) -> Request<String> {
    let mut request = Request::builder().method(method).uri("/anything");
    if let Some((username, password)) = authorization {
        request = request.header("authorization", basic(username, password));
    }
    request.body(String::new()).unwrap()
}

#[tokio::test]
async fn layer_protects_a_plain_tower_service() {
    let harness = Harness::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let service =
        AuthenticateUsersLayer::new(harness.authenticator.clone()).layer(greeter(calls.clone()));

    let response = service
        .clone()
        .oneshot(string_request(Method::GET, Some((EMAIL, PASSWORD))))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.body(), &format!("hello {EMAIL}"));
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let refused = service
        .oneshot(string_request(Method::GET, Some((EMAIL, "wrong"))))
        .await
        .unwrap();
    let expected: Response<String> = harness.authenticator.challenge().into_http_response();
    assert_eq!(refused.status(), expected.status());
    assert_eq!(refused.headers(), expected.headers());
    assert_eq!(refused.body(), expected.body());
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the inner service never ran"
    );
}

#[tokio::test]
async fn layer_answers_store_outage_with_503() {
    let harness = Harness::new();
    harness.store.set_failing(true);
    let calls = Arc::new(AtomicUsize::new(0));
    let response = AuthenticateUsersLayer::new(harness.authenticator.clone())
        .layer(greeter(calls.clone()))
        .oneshot(string_request(Method::GET, Some((EMAIL, PASSWORD))))
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key(RETRY_AFTER));
    assert!(!response.headers().contains_key(WWW_AUTHENTICATE));
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn preflight_passes_through_the_layer() {
    let harness = Harness::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let mut preflight = string_request(Method::OPTIONS, None);
    preflight
        .headers_mut()
        .insert(ACCESS_CONTROL_REQUEST_METHOD, "GET".parse().unwrap());
    let response = AuthenticateUsersLayer::new(harness.authenticator.clone())
        .layer(greeter(calls.clone()))
        .oneshot(preflight)
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.body(), "hello nobody");
    assert_eq!(harness.decisions(), 0, "the core was not asked");
}

#[tokio::test]
async fn preflight_is_refused_when_the_authenticator_does_not_exempt_it() {
    let harness = Harness::with_preflight(false);
    let calls = Arc::new(AtomicUsize::new(0));
    let mut preflight = string_request(Method::OPTIONS, None);
    preflight
        .headers_mut()
        .insert(ACCESS_CONTROL_REQUEST_METHOD, "GET".parse().unwrap());
    let response = AuthenticateUsersLayer::new(harness.authenticator.clone())
        .layer(greeter(calls.clone()))
        .oneshot(preflight)
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn options_without_preflight_header_is_authenticated() {
    let harness = Harness::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let response = AuthenticateUsersLayer::new(harness.authenticator.clone())
        .layer(greeter(calls.clone()))
        .oneshot(string_request(Method::OPTIONS, None))
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

async fn from_extension(Extension(user): Extension<User>) -> String {
    user.email
}

async fn from_extractor(AuthUser(user): AuthUser) -> String {
    user.email
}

fn router(harness: &Harness, layer: AuthenticateUsersLayer) -> Router {
    Router::new()
        .route("/extension", get(from_extension))
        .route("/extractor", get(from_extractor))
        .route_layer(layer)
        .route("/open", get(|| async { "open" }))
        .with_state(harness.authenticator.clone())
}

#[tokio::test]
async fn layer_on_a_router_hands_the_user_to_handlers() {
    let harness = Harness::new();
    let app = router(
        &harness,
        AuthenticateUsersLayer::new(harness.authenticator.clone()),
    );
    let response = app
        .clone()
        .oneshot(request("/extension", Some(basic(EMAIL, PASSWORD))))
        .await
        .unwrap();
    assert_eq!(parts(response).await.2, EMAIL);
    let refused = app
        .clone()
        .oneshot(request("/extension", None))
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let open = app.oneshot(request("/open", None)).await.unwrap();
    assert_eq!(parts(open).await.2, "open");
}

#[tokio::test]
async fn extractor_behind_the_layer_reuses_its_decision() {
    let harness = Harness::new();
    let app = router(
        &harness,
        AuthenticateUsersLayer::new(harness.authenticator.clone()),
    );
    let response = app
        .oneshot(request("/extractor", Some(basic(EMAIL, PASSWORD))))
        .await
        .unwrap();
    assert_eq!(parts(response).await.2, EMAIL);
    assert_eq!(harness.decisions(), 1);
}

#[tokio::test]
async fn nested_layers_decide_once() {
    let harness = Harness::new();
    let layer = AuthenticateUsersLayer::new(harness.authenticator.clone());
    let app = router(&harness, layer.clone()).layer(layer);
    let response = app
        .oneshot(request("/extractor", Some(basic(EMAIL, PASSWORD))))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(harness.decisions(), 1);
}

#[tokio::test]
async fn layer_requirements_apply() {
    let harness = Harness::new();
    let confirmed = AuthenticateUsersLayer::new(harness.authenticator.clone())
        .requirements(Requirements::new().confirmed_email(true));
    let app = router(&harness, confirmed);
    let refused = app
        .clone()
        .oneshot(request("/extension", Some(basic(UNCONFIRMED, PASSWORD))))
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let allowed = app
        .oneshot(request("/extension", Some(basic(EMAIL, PASSWORD))))
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
}

#[tokio::test]
async fn preflight_through_a_layered_router() {
    let harness = Harness::new();
    // `layer` (not `route_layer`) also wraps the 405 answer for methods the route lacks.
    let app: Router = Router::new()
        .route("/protected", get(from_extension))
        .layer(AuthenticateUsersLayer::new(harness.authenticator.clone()));
    let options = |preflight: bool| {
        let mut request = Request::options("/protected");
        if preflight {
            request = request.header(ACCESS_CONTROL_REQUEST_METHOD, "GET");
        }
        request.body(axum::body::Body::empty()).unwrap()
    };
    let plain = app.clone().oneshot(options(false)).await.unwrap();
    assert_eq!(plain.status(), 401, "the layer saw the OPTIONS request");
    let preflight = app.oneshot(options(true)).await.unwrap();
    assert_eq!(
        preflight.status(),
        405,
        "passed through to axum's method router"
    );
    assert!(!preflight.headers().contains_key(WWW_AUTHENTICATE));
}

#[tokio::test]
async fn a_preflight_reaches_the_routes_options_handler_behind_route_layer() {
    let harness = Harness::new();
    let app: Router = Router::new()
        .route(
            "/protected",
            get(from_extension).options(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
        .route("/extractor", get(from_extension).options(from_extractor))
        .route_layer(AuthenticateUsersLayer::new(harness.authenticator.clone()))
        .with_state(harness.authenticator.clone());
    let options = |path: &str, preflight: bool| {
        let mut request = Request::options(path);
        if preflight {
            request = request.header(ACCESS_CONTROL_REQUEST_METHOD, "GET");
        }
        request.body(axum::body::Body::empty()).unwrap()
    };
    for path in ["/protected", "/extractor"] {
        let preflight = app.clone().oneshot(options(path, true)).await.unwrap();
        assert_eq!(preflight.status(), 204, "{path}");
        assert!(
            !preflight.headers().contains_key(WWW_AUTHENTICATE),
            "{path}"
        );
        let plain = app.clone().oneshot(options(path, false)).await.unwrap();
        assert_eq!(plain.status(), 401, "{path}: not a preflight");
    }
    assert_eq!(
        harness.decisions(),
        2,
        "only the plain OPTIONS asked the core"
    );
}

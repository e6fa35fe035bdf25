use actix_web::http::header::{ACCESS_CONTROL_REQUEST_METHOD, RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::test::{call_service, init_service, TestRequest};
use actix_web::{web, App, HttpResponse};
use endpoint_auth::{Requirements, User};

use crate::test_support::{basic, get as request, parts, Harness, EMAIL, PASSWORD, UNCONFIRMED};
use crate::{AuthUser, AuthenticateUsers};

async fn from_extension(user: web::ReqData<User>) -> String {
    user.email.clone()
}

async fn from_extractor(AuthUser(user): AuthUser) -> String {
    user.email
}

async fn two_extractors(AuthUser(first): AuthUser, AuthUser(second): AuthUser) -> String {
    assert_eq!(first, second);
    first.email
}

/// `/scope/…` behind the middleware, `/open` not; no authenticator in the app data, so the
/// extractors can only reuse the middleware's decision.
macro_rules! app {
    ($middleware:expr) => {
        init_service(
            App::new()
                .service(
                    web::scope("/scope")
                        .wrap($middleware)
                        .route("/extension", web::get().to(from_extension))
                        .route("/extractor", web::get().to(from_extractor))
                        .route("/two", web::get().to(two_extractors)),
                )
                .route("/open", web::get().to(|| async { "open" })),
        )
        .await
    };
}

#[actix_web::test]
async fn middleware_hands_the_user_to_handlers() {
    let harness = Harness::new();
    let app = app!(AuthenticateUsers::new(harness.authenticator.clone()));
    let response = call_service(
        &app,
        request("/scope/extension", Some(&basic(EMAIL, PASSWORD))).to_request(),
    )
    .await;
    assert_eq!(parts(response).await.2, EMAIL);
    let open = call_service(&app, request("/open", None).to_request()).await;
    assert_eq!(parts(open).await.2, "open");
    assert_eq!(harness.decisions(), 1, "the open route asked nothing");
}

#[actix_web::test]
async fn middleware_refusal_is_the_cores_response_and_the_handler_never_runs() {
    let harness = Harness::new();
    let app = app!(AuthenticateUsers::new(harness.authenticator.clone()));
    let refused = call_service(
        &app,
        request("/scope/two", Some(&basic(EMAIL, "wrong"))).to_request(),
    )
    .await;
    let carried = refused
        .response()
        .extensions()
        .get::<endpoint_auth::Rejection>()
        .map(ToString::to_string);
    assert_eq!(
        carried.as_deref(),
        Some("401 Unauthorized (wrong password)")
    );
    let core: endpoint_auth::http::Response<String> =
        harness.authenticator.challenge().into_http_response();
    let (status, headers, body) = parts(refused).await;
    assert_eq!(status, core.status().as_u16());
    assert_eq!(&body, core.body());
    assert_eq!(
        headers,
        vec![
            (
                "content-type".to_owned(),
                "text/plain; charset=utf-8".to_owned()
            ),
            (
                "www-authenticate".to_owned(),
                core.headers()["www-authenticate"]
                    .to_str()
                    .unwrap()
                    .to_owned()
            ),
        ]
    );
    assert_eq!(harness.failures(EMAIL), Some(1));
}

#[actix_web::test]
async fn middleware_answers_store_outage_with_503() {
    let harness = Harness::new();
    harness.store.set_failing(true);
    let app = app!(AuthenticateUsers::new(harness.authenticator.clone()));
    let response = call_service(
        &app,
        request("/scope/extension", Some(&basic(EMAIL, PASSWORD))).to_request(),
    )
    .await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key(RETRY_AFTER));
    assert!(!response.headers().contains_key(WWW_AUTHENTICATE));
}

#[actix_web::test]
async fn extractors_behind_the_middleware_reuse_its_decision() {
    let harness = Harness::new();
    let app = app!(AuthenticateUsers::new(harness.authenticator.clone()));
    let response = call_service(
        &app,
        request("/scope/two", Some(&basic(EMAIL, PASSWORD))).to_request(),
    )
    .await;
    assert_eq!(parts(response).await.2, EMAIL);
    assert_eq!(harness.decisions(), 1);
}

#[actix_web::test]
async fn nested_middleware_decides_once() {
    let harness = Harness::new();
    let middleware = AuthenticateUsers::new(harness.authenticator.clone());
    let app = init_service(
        App::new().wrap(middleware.clone()).service(
            web::scope("/scope")
                .wrap(middleware)
                .route("/extractor", web::get().to(from_extractor)),
        ),
    )
    .await;
    let response = call_service(
        &app,
        request("/scope/extractor", Some(&basic(EMAIL, PASSWORD))).to_request(),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(harness.decisions(), 1);
}

#[actix_web::test]
async fn middleware_requirements_apply() {
    let harness = Harness::new();
    let app = app!(AuthenticateUsers::new(harness.authenticator.clone())
        .requirements(Requirements::new().confirmed_email(true)));
    let refused = call_service(
        &app,
        request("/scope/extension", Some(&basic(UNCONFIRMED, PASSWORD))).to_request(),
    )
    .await;
    assert_eq!(refused.status(), 401);
    let allowed = call_service(
        &app,
        request("/scope/extension", Some(&basic(EMAIL, PASSWORD))).to_request(),
    )
    .await;
    assert_eq!(allowed.status(), 200);
}

fn options(path: &str, preflight: bool) -> TestRequest {
    let request = TestRequest::default()
        .method(actix_web::http::Method::OPTIONS)
        .uri(path);
    if preflight {
        request.insert_header((ACCESS_CONTROL_REQUEST_METHOD, "GET"))
    } else {
        request
    }
}

/// An app answering every request itself, behind the middleware.
macro_rules! catch_all {
    ($harness:expr) => {
        init_service(
            App::new()
                .wrap(AuthenticateUsers::new($harness.authenticator.clone()))
                .default_service(web::to(|| async { HttpResponse::NoContent().finish() })),
        )
        .await
    };
}

#[actix_web::test]
async fn preflight_passes_through_the_middleware() {
    let harness = Harness::new();
    let app = catch_all!(harness);
    let response = call_service(&app, options("/anything", true).to_request()).await;
    assert_eq!(response.status(), 204);
    assert_eq!(harness.decisions(), 0, "the core was not asked");
}

#[actix_web::test]
async fn preflight_is_refused_when_the_authenticator_does_not_exempt_it() {
    let harness = Harness::with_preflight(false);
    let app = catch_all!(harness);
    let response = call_service(&app, options("/anything", true).to_request()).await;
    assert_eq!(response.status(), 401);
}

#[actix_web::test]
async fn options_without_preflight_header_is_authenticated() {
    let harness = Harness::new();
    let app = catch_all!(harness);
    let response = call_service(&app, options("/anything", false).to_request()).await;
    assert_eq!(response.status(), 401);
}

#[actix_web::test]
async fn preflight_to_a_protected_get_route_gets_actix_s_answer_not_a_401() {
    let harness = Harness::new();
    let app = init_service(
        App::new().service(
            web::resource("/protected")
                .wrap(AuthenticateUsers::new(harness.authenticator.clone()))
                .route(web::get().to(from_extension)),
        ),
    )
    .await;
    let response = call_service(&app, options("/protected", true).to_request()).await;
    assert_eq!(response.status(), 405);
    assert!(!response.headers().contains_key(WWW_AUTHENTICATE));
}

#[actix_web::test]
async fn a_preflight_reaches_the_resources_options_handler() {
    let harness = Harness::new();
    // No authenticator in the app data: the extractor knows the preflight from the middleware.
    let app = init_service(
        App::new()
            .service(
                web::resource("/protected")
                    .wrap(AuthenticateUsers::new(harness.authenticator.clone()))
                    .route(web::get().to(from_extension))
                    .route(
                        web::method(actix_web::http::Method::OPTIONS)
                            .to(|| async { HttpResponse::NoContent().finish() }),
                    ),
            )
            .service(
                web::resource("/extractor")
                    .wrap(AuthenticateUsers::new(harness.authenticator.clone()))
                    .route(web::method(actix_web::http::Method::OPTIONS).to(from_extractor)),
            ),
    )
    .await;
    for path in ["/protected", "/extractor"] {
        let preflight = call_service(&app, options(path, true).to_request()).await;
        assert_eq!(preflight.status(), 204, "{path}");
        assert!(
            !preflight.headers().contains_key(WWW_AUTHENTICATE),
            "{path}"
        );
        let plain = call_service(&app, options(path, false).to_request()).await;
        assert_eq!(plain.status(), 401, "{path}: not a preflight");
    }
    assert_eq!(
        harness.decisions(),
        2,
        "only the plain OPTIONS asked the core"
    );
}

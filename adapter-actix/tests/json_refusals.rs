//! The `json_refusals` example's application, driven through actix's service: a wrong password
//! gets the JSON 401 with the challenge, the right one gets the user.

use actix_web::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use actix_web::http::StatusCode;
use actix_web::{test, web, App};
use endpoint_auth_actix::endpoint_auth::Credentials;

#[allow(dead_code)] // its `main` serves; the test takes the application only
#[path = "../examples/json_refusals.rs"]
mod example;

async fn get_protected(user: &str, password: &str) -> (StatusCode, Option<String>, String, String) {
    let app = test::init_service(
        App::new()
            .app_data(example::authenticator().expect("the example's authenticator"))
            .route("/protected", web::get().to(example::protected)),
    )
    .await;
    let header = Credentials::new(user, password)
        .expect("valid credentials")
        .to_header_value();
    let request = test::TestRequest::get()
        .uri("/protected")
        .insert_header((AUTHORIZATION, header.to_str().expect("ASCII")))
        .peer_addr("127.0.0.1:40000".parse().expect("an address"))
        .to_request();
    let response = test::call_service(&app, request).await;
    let status = response.status();
    let text = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (challenge, content_type) = (text(WWW_AUTHENTICATE), text(CONTENT_TYPE));
    let body = test::read_body(response).await;
    (
        status,
        challenge,
        content_type.unwrap_or_default(),
        String::from_utf8(body.to_vec()).expect("UTF-8"),
    )
}

#[actix_web::test]
async fn a_wrong_password_gets_the_json_401_with_the_challenge() {
    let (status, challenge, content_type, body) = get_protected(example::EMAIL, "wrong").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge.as_deref(),
        Some(format!(r#"Basic realm="{}", charset="UTF-8""#, example::REALM).as_str())
    );
    assert_eq!(content_type, "application/json");
    assert_eq!(body, r#"{"error":"unauthorized"}"#);
}

#[actix_web::test]
async fn the_right_password_gets_the_user() {
    let (status, _, content_type, body) = get_protected(example::EMAIL, example::PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(content_type, "application/json");
    assert!(body.contains(r#""email":"user123@gmail.com""#), "{body}");
}

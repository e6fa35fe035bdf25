//! The `json_refusals` example's application, driven through its whole router: a wrong password
//! gets the JSON 401 with the challenge, the right one gets the user.

use axum::body::Body;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{Request, StatusCode};
use endpoint_auth_axum::endpoint_auth::Credentials;
use tower::ServiceExt;

#[allow(dead_code)] // its `main` serves; the test takes the application only
#[path = "../examples/json_refusals.rs"]
mod example;

async fn get_protected(user: &str, password: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let app = example::app().expect("the example's application");
    let header = Credentials::new(user, password)
        .expect("valid credentials")
        .to_header_value();
    let request = Request::get("/protected")
        .header(AUTHORIZATION, header)
        .body(Body::empty())
        .expect("a request");
    let response = app.oneshot(request).await.expect("infallible");
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, 1 << 16).await.expect("a body");
    let body = String::from_utf8(body.to_vec()).expect("UTF-8");
    (parts.status, parts.headers, body)
}

#[tokio::test]
async fn a_wrong_password_gets_the_json_401_with_the_challenge() {
    let (status, headers, body) = get_protected(example::EMAIL, "wrong").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        headers[WWW_AUTHENTICATE],
        format!(r#"Basic realm="{}", charset="UTF-8""#, example::REALM)
    );
    assert_eq!(headers[CONTENT_TYPE], "application/json");
    assert_eq!(body, r#"{"error":"unauthorized"}"#);
}

#[tokio::test]
async fn the_right_password_gets_the_user() {
    let (status, headers, body) = get_protected(example::EMAIL, example::PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers[CONTENT_TYPE], "application/json");
    let user: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(user["email"], example::EMAIL);
}

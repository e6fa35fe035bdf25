//! The `json_refusals` example's routes, driven through warp's test client: a wrong password gets
//! the JSON 401 with the challenge, the right one gets the user.

use endpoint_auth_warp::endpoint_auth::Credentials;
use warp::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use warp::http::StatusCode;

#[allow(dead_code)] // its `main` serves; the test takes the routes only
#[path = "../examples/json_refusals.rs"]
mod example;

async fn get_protected(
    user: &str,
    password: &str,
) -> warp::http::Response<warp::hyper::body::Bytes> {
    let routes = example::routes().expect("the example's routes");
    let header = Credentials::new(user, password)
        .expect("valid credentials")
        .to_header_value();
    warp::test::request()
        .path("/protected")
        .header("authorization", header)
        .reply(&routes)
        .await
}

#[tokio::test]
async fn a_wrong_password_gets_the_json_401_with_the_challenge() {
    let response = get_protected(example::EMAIL, "wrong").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()[WWW_AUTHENTICATE],
        format!(r#"Basic realm="{}", charset="UTF-8""#, example::REALM)
    );
    assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    assert_eq!(response.body(), r#"{"error":"unauthorized"}"#);
}

#[tokio::test]
async fn the_right_password_gets_the_user() {
    let response = get_protected(example::EMAIL, example::PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK, "{:?}", response.body());
    assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    let user: serde_json::Value = serde_json::from_slice(response.body()).expect("JSON");
    assert_eq!(user["email"], example::EMAIL);
}

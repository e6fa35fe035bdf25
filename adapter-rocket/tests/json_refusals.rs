//! The `json_refusals` example's application, driven through rocket's local client (fairings and
//! catchers included): a wrong password gets the JSON 401 with the challenge, the right one gets
//! the user.

use endpoint_auth_rocket::endpoint_auth::Credentials;
use rocket::config::LogLevel;
use rocket::http::{Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};

#[allow(dead_code)] // its `main` serves; the test takes the application only
#[path = "../examples/json_refusals.rs"]
mod example;

async fn get_protected<'c>(client: &'c Client, user: &str, password: &str) -> LocalResponse<'c> {
    let header = Credentials::new(user, password)
        .expect("valid credentials")
        .to_header_value();
    let header = header.to_str().expect("base64 is ASCII").to_owned();
    client
        .get("/protected")
        .header(Header::new("Authorization", header))
        .dispatch()
        .await
}

async fn client() -> Client {
    let config = rocket::Config {
        log_level: LogLevel::Off,
        ..rocket::Config::debug_default()
    };
    let rocket = example::app(rocket::custom(config)).expect("the example's application");
    Client::tracked(rocket).await.expect("a valid rocket")
}

#[rocket::async_test]
async fn a_wrong_password_gets_the_json_401_with_the_challenge() {
    let client = client().await;
    let response = get_protected(&client, example::EMAIL, "wrong").await;
    assert_eq!(response.status(), Status::Unauthorized);
    let challenges: Vec<_> = response.headers().get("WWW-Authenticate").collect();
    let expected = format!(r#"Basic realm="{}", charset="UTF-8""#, example::REALM);
    assert_eq!(challenges, [expected.as_str()]);
    assert_eq!(
        response.headers().get_one("Content-Type"),
        Some("application/json")
    );
    assert_eq!(
        response.into_string().await.as_deref(),
        Some(r#"{"error":"unauthorized"}"#)
    );
}

#[rocket::async_test]
async fn the_right_password_gets_the_user() {
    let client = client().await;
    let response = get_protected(&client, example::EMAIL, example::PASSWORD).await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(
        response.headers().get_one("Content-Type"),
        Some("application/json")
    );
    let body = response.into_string().await.expect("a body");
    let user: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(user["email"], example::EMAIL);
}

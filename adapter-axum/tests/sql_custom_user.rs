//! The `sql_custom_user` example's application over in-memory SQLite, driven through its whole
//! router: the handler greets the member by the display name read from the application's own
//! column; a wrong password gets the 401.

use axum::body::Body;
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{Request, StatusCode};
use endpoint_auth_axum::endpoint_auth::Credentials;
use tower::ServiceExt;

const GREETING: &str = "Hello, Alex Example! You log in as user123@gmail.com.";

#[allow(dead_code)] // its `main` serves; the test takes the application only
#[path = "../examples/sql_custom_user.rs"]
mod example;

async fn get_protected(
    app: axum::Router,
    user: &str,
    password: &str,
) -> (StatusCode, bool, String) {
    let header = Credentials::new(user, password)
        .expect("valid credentials")
        .to_header_value();
    let request = Request::get("/protected")
        .header(AUTHORIZATION, header)
        .body(Body::empty())
        .expect("a request");
    let response = app.oneshot(request).await.expect("infallible");
    let challenged = response.headers().contains_key(WWW_AUTHENTICATE);
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .expect("a body");
    (
        status,
        challenged,
        String::from_utf8(body.to_vec()).expect("UTF-8"),
    )
}

#[tokio::test]
async fn the_member_is_greeted_by_display_name() {
    let app = example::app("sqlite::memory:")
        .await
        .expect("the example's application");
    let (status, _, body) =
        get_protected(app.clone(), "User123@Gmail.com", example::PASSWORD).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, GREETING));

    let (status, challenged, _) = get_protected(app, example::EMAIL, "wrong").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenged);
}

#[tokio::test]
async fn a_database_file_survives_a_restart() {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "endpoint-auth-sql-custom-user-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let url = format!("sqlite://{}", dir.join("members.db").display());
    for _start in 0..2 {
        // The second start finds the column and the member already there.
        let app = example::app(&url).await.expect("the example's application");
        let (status, _, body) = get_protected(app, example::EMAIL, example::PASSWORD).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, GREETING));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

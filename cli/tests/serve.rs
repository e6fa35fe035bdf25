//! `endpoint-auth serve` as a user runs it: the real binary on each framework, over SQLite and
//! over PostgreSQL, called with real `curl`, stopped with SIGTERM.

mod support;

use support::pg::PgDatabase;
use support::server::Server;
use support::{curl, Db};

const EMAIL: &str = "user123@gmail.com";
const PASSWORD: &str = "mySuperS3cretPassw0rd";

fn exercise(framework: &str, db: &str) {
    let server = Server::start(framework, db);

    // The seed's command.
    let (status, _, body) = curl(&[
        "-u",
        &format!("{EMAIL}:{PASSWORD}"),
        &server.url("/protected"),
    ]);
    assert_eq!(status, 200, "{framework}: {body}");
    let user: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(user["email"], EMAIL);
    assert!(
        user["id"].is_i64() && user["signed_up"].is_string(),
        "{user}"
    );

    // No credentials, wrong password: the challenge a browser turns into a login dialog.
    for args in [
        vec![server.url("/protected")],
        vec![
            "-u".into(),
            format!("{EMAIL}:wrong"),
            server.url("/protected"),
        ],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (status, head, body) = curl(&args);
        assert_eq!(status, 401, "{framework}: {head}");
        assert!(
            head.to_ascii_lowercase()
                .contains(r#"www-authenticate: basic realm="endpoint-auth", charset="utf-8""#),
            "{framework}: {head}"
        );
        assert_eq!(body, "Unauthorized");
    }

    // require_credentials, with curl's own encoding of a password with a colon.
    let (status, _, body) = curl(&["-u", "someone:pa:ss", &server.url("/credentials")]);
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).expect("JSON"),
        serde_json::json!({"username": "someone", "password": "pa:ss"})
    );
    let (status, _, _) = curl(&[&server.url("/open")]);
    assert_eq!(status, 200);

    let (exit, log) = server.stop();
    assert!(
        exit.success(),
        "{framework}: SIGTERM is a graceful stop, got {exit}; log: {log}"
    );
    assert!(
        log.lines().any(|line| line.contains("127.0.0.1:")
            && line.contains("GET /protected 200")
            && line.contains(r#"user="user123@gmail.com""#)),
        "{framework}: the access log names the client's address and the user: {log}"
    );
    assert!(
        log.contains("GET /protected 401") && log.contains("wrong password"),
        "{log}"
    );
    assert!(
        !log.contains(PASSWORD) && !log.contains("pa:ss"),
        "a password reached the log: {log}"
    );
}

fn sqlite(framework: &str) {
    let db = Db::sqlite();
    exercise(framework, db.url());
}

fn postgres(framework: &str) {
    let Some(db) = PgDatabase::create() else {
        return;
    };
    exercise(framework, &db.url);
}

#[test]
fn axum_over_sqlite() {
    sqlite("axum");
}

#[test]
fn warp_over_sqlite() {
    sqlite("warp");
}

#[test]
fn rocket_over_sqlite() {
    sqlite("rocket");
}

#[test]
fn actix_over_sqlite() {
    sqlite("actix");
}

#[test]
fn axum_over_postgres() {
    postgres("axum");
}

#[test]
fn warp_over_postgres() {
    postgres("warp");
}

#[test]
fn rocket_over_postgres() {
    postgres("rocket");
}

#[test]
fn actix_over_postgres() {
    postgres("actix");
}

/// `/credentials` answers with the password it was sent, so only `--demo` mounts it.
#[test]
fn credentials_route_only_with_demo() {
    for framework in ["axum", "warp", "rocket", "actix"] {
        let db = Db::sqlite();

        let server = Server::start_without_demo(framework, db.url(), &[]);
        let (status, head, body) = curl(&["-u", "someone:pa:ss", &server.url("/credentials")]);
        assert_eq!(status, 404, "{framework} without --demo: {head}");
        assert!(!body.contains("pa:ss"), "{framework}: {body}");
        let (status, _, _) = curl(&[&server.url("/open")]);
        assert_eq!(status, 200, "{framework}: the other routes are served");
        let (status, _, _) = curl(&[&server.url("/protected")]);
        assert_eq!(status, 401, "{framework}: the other routes are served");
        let (exit, log) = server.stop();
        assert!(exit.success(), "{framework}: {log}");

        let server = Server::start(framework, db.url());
        let (status, head, body) = curl(&["-u", "someone:pa:ss", &server.url("/credentials")]);
        assert_eq!(status, 200, "{framework} with --demo: {head}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body).expect("JSON"),
            serde_json::json!({"username": "someone", "password": "pa:ss"}),
            "{framework}"
        );
        let (exit, log) = server.stop();
        assert!(exit.success(), "{framework}: {log}");
    }
}

#[test]
fn demo_user_is_created_once_and_the_database_file_on_first_use() {
    let db = Db::sqlite();
    let first = Server::start("axum", db.url());
    let _ = first.stop();
    let out = db.ok(&["users", "list", "--json"], None);
    assert_eq!(out.matches(EMAIL).count(), 1, "{out}");
    let second = Server::start("axum", db.url());
    let _ = second.stop();
    let out = db.ok(&["users", "list", "--json"], None);
    assert_eq!(out.matches(EMAIL).count(), 1, "{out}");
}

#[test]
fn an_address_in_use_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let addr = taken.local_addr().expect("its address").to_string();
    let db = Db::sqlite();
    for framework in ["axum", "warp", "rocket", "actix"] {
        let out = support::endpoint_auth(
            &[
                "serve",
                "--bind",
                &addr,
                "--framework",
                framework,
                "--db",
                db.url(),
            ],
            None,
            &[],
        );
        assert!(!out.status.success(), "{framework}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("error: "), "{framework}: {err}");
        assert!(!err.contains("panicked"), "{framework}: {err}");
    }
}

#[test]
fn a_header_timeout_past_30_seconds_or_of_zero_is_refused() {
    let db = Db::sqlite();
    for (args, env) in [
        (vec!["--header-timeout", "31"], vec![]),
        (vec![], vec![("ENDPOINT_AUTH_HEADER_TIMEOUT", "0")]),
        (vec!["--max-connections", "0"], vec![]),
    ] {
        let mut all = vec!["serve", "--bind", "127.0.0.1:0", "--db", db.url()];
        all.extend(&args);
        let out = support::endpoint_auth(&all, None, &env);
        assert!(!out.status.success(), "{args:?} {env:?} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("header-timeout") || err.contains("max-connections"),
            "{args:?} {env:?}: {err}"
        );
    }
}

//! `serve --forward-auth` (SPEC §8) behind real nginx (`auth_request`) and Caddy
//! (`forward_auth`), configured as the README shows, in front of a recording upstream.

mod support;

use support::proxy::{Proxy, Upstream};
use support::server::Server;
use support::Db;

const EMAIL: &str = "user123@gmail.com";
const PASSWORD: &str = "mySuperS3cretPassw0rd";
const CHALLENGE: &str = r#"www-authenticate: basic realm="endpoint-auth", charset="utf-8""#;
/// Runs curl; returns (status code, lower-cased headers, body).
fn curl(args: &[&str]) -> (u16, String, String) {
    let (status, head, body) = support::curl(args);
    (status, head.to_ascii_lowercase(), body)
}

fn forward_auth_server(db: &Db) -> Server {
    Server::start_with(
        "axum",
        db.url(),
        &["--forward-auth", "--trusted-proxy", "127.0.0.1"],
    )
}

/// What both proxies must do: the user reaches the upstream in `X-Auth-User` (a forged one
/// never does), refusals reach the client with our challenge and never the upstream.
fn behind(proxy: &Proxy, upstream: &Upstream, name: &str) {
    let (status, head, body) = curl(&[
        "-u",
        &format!("{EMAIL}:{PASSWORD}"),
        "-H",
        "X-Auth-User: admin@example.com",
        &proxy.url("/app/page"),
    ]);
    assert_eq!(status, 200, "{name}: {head}{body}\n{}", proxy.log());
    assert_eq!(body, "upstream", "{name}");
    let heads = upstream.heads();
    assert_eq!(heads.len(), 1, "{name}: {heads:#?}");
    let user_lines: Vec<&str> = heads[0]
        .lines()
        .filter(|line| line.starts_with("x-auth-user:"))
        .collect();
    assert_eq!(
        user_lines,
        [format!("x-auth-user: {EMAIL}")],
        "{name}: {}",
        heads[0]
    );

    for args in [
        vec![proxy.url("/app/page")],
        vec![
            "-u".into(),
            format!("{EMAIL}:wrong"),
            proxy.url("/app/page"),
        ],
        vec![
            "-H".into(),
            format!("X-Auth-User: {EMAIL}"),
            proxy.url("/app/page"),
        ],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (status, head, _) = curl(&args);
        assert_eq!(status, 401, "{name} {args:?}: {head}");
        assert!(head.contains(CHALLENGE), "{name} {args:?}: {head}");
    }
    assert_eq!(
        upstream.heads().len(),
        1,
        "{name}: refused requests reached the upstream"
    );
}

#[test]
fn nginx_auth_request() {
    if !Proxy::available("nginx") {
        return;
    }
    let db = Db::sqlite();
    let server = forward_auth_server(&db);
    let upstream = Upstream::start();
    let proxy = Proxy::nginx(server.addr(), upstream.addr());
    behind(&proxy, &upstream, "nginx");
    drop(proxy);
    let (status, log) = server.stop();
    assert!(status.success(), "{log}");
}

#[test]
fn caddy_forward_auth() {
    if !Proxy::available("caddy") {
        return;
    }
    let db = Db::sqlite();
    let server = forward_auth_server(&db);
    let upstream = Upstream::start();
    let proxy = Proxy::caddy(server.addr(), upstream.addr());
    behind(&proxy, &upstream, "caddy");
    drop(proxy);
    let (status, log) = server.stop();
    assert!(status.success(), "{log}");
}

#[test]
fn auth_answers_any_method_and_serves_nothing_else() {
    let db = Db::sqlite();
    db.ok(
        &[
            "users",
            "add",
            "new@example.com",
            "--unconfirmed",
            "--password-stdin",
        ],
        Some("unconfirmed-pw\n"),
    );
    let server = Server::start_with(
        "warp",
        db.url(),
        &["--forward-auth", "--confirmed-email", "--metrics"],
    );
    let right = format!("{EMAIL}:{PASSWORD}");
    for method in ["GET", "POST", "HEAD", "DELETE"] {
        let mut args = vec!["-X", method, "-u", &right];
        if method == "HEAD" {
            args = vec!["--head", "-u", &right];
        }
        let url = server.url("/auth");
        args.push(&url);
        let (status, head, _) = curl(&args);
        assert_eq!(status, 200, "{method}: {head}");
        assert!(head.contains(&format!("x-auth-user: {EMAIL}")), "{head}");
        assert!(head.contains(&format!("remote-user: {EMAIL}")), "{head}");
    }
    // --confirmed-email: the unconfirmed user's right password is refused like any failure.
    let (status, head, body) =
        curl(&["-u", "new@example.com:unconfirmed-pw", &server.url("/auth")]);
    assert_eq!((status, body.as_str()), (401, "Unauthorized"), "{head}");
    assert!(head.contains(CHALLENGE), "{head}");
    assert!(!head.contains("x-auth-user"), "{head}");
    // The demo routes are not served in this mode; /metrics is, when asked for.
    for path in ["/protected", "/open", "/credentials"] {
        let (status, _, _) = curl(&["-u", &right, &server.url(path)]);
        assert_eq!(status, 404, "{path}");
    }
    let (status, _, metrics) = curl(&[&server.url("/metrics")]);
    assert_eq!(status, 200);
    assert!(
        metrics.contains(r#"endpoint_auth_http_requests_total{status="200"} 4"#)
            && metrics.contains(r#"endpoint_auth_http_requests_total{status="401"} 1"#)
            && metrics.contains(r#"endpoint_auth_http_requests_total{status="404"} 3"#),
        "{metrics}"
    );
    let (status, log) = server.stop();
    assert!(status.success(), "{log}");
    assert!(
        !log.contains(PASSWORD) && !log.contains("unconfirmed-pw"),
        "{log}"
    );
}

#[test]
fn a_trusted_proxy_that_is_not_an_address_is_refused() {
    let out = support::endpoint_auth(
        &[
            "serve",
            "--forward-auth",
            "--bind",
            "127.0.0.1:0",
            "--db",
            "sqlite::memory:",
        ],
        None,
        &[("ENDPOINT_AUTH_TRUSTED_PROXY", "10.0.0.0/8,proxy.example")],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("proxy.example"), "{err}");
}

//! `serve` over HTTPS (rustls) on every framework, settings from `ENDPOINT_AUTH_*` variables,
//! `--help` naming them, and `completions`.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use support::server::Server;
use support::Db;

const EMAIL: &str = "user123@gmail.com";
const PASSWORD: &str = "mySuperS3cretPassw0rd";

/// A certificate for `127.0.0.1` and `localhost`, with its key, as PEM files in `db`'s directory.
struct Certificate {
    cert: PathBuf,
    key: PathBuf,
    der: Vec<u8>,
}

impl Certificate {
    fn generate(dir: &std::path::Path) -> Self {
        let rcgen::CertifiedKey { cert, signing_key } = rcgen::generate_simple_self_signed(vec![
            "127.0.0.1".to_owned(),
            "localhost".to_owned(),
        ])
        .expect("a self-signed certificate");
        let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert_path, cert.pem()).expect("writing the certificate");
        std::fs::write(&key_path, signing_key.serialize_pem()).expect("writing the key");
        Self {
            cert: cert_path,
            key: key_path,
            der: cert.der().to_vec(),
        }
    }

    fn cert(&self) -> &str {
        self.cert.to_str().expect("a UTF-8 path")
    }

    fn key(&self) -> &str {
        self.key.to_str().expect("a UTF-8 path")
    }
}
/// Runs curl; returns (status code, lower-cased headers, body), or curl's error.
fn curl(args: &[&str]) -> Result<(u16, String, String), String> {
    support::try_curl(args).map(|(status, head, body)| (status, head.to_ascii_lowercase(), body))
}

#[test]
fn https_on_every_framework() {
    let db = Db::sqlite();
    let certificate = Certificate::generate(db.dir());
    for framework in ["axum", "warp", "rocket"] {
        let server = Server::start_with(
            framework,
            db.url(),
            &[
                "--tls-cert",
                certificate.cert(),
                "--tls-key",
                certificate.key(),
            ],
        );
        let url = server.url("/protected");
        assert!(url.starts_with("https://127.0.0.1:"), "{url}");
        let right = format!("{EMAIL}:{PASSWORD}");
        let (status, _, body) =
            curl(&["--cacert", certificate.cert(), "-u", &right, &url]).expect("HTTPS works");
        assert_eq!(status, 200, "{framework}: {body}");
        assert!(body.contains(EMAIL), "{framework}: {body}");
        let (status, head, _) = curl(&["--cacert", certificate.cert(), &url]).expect("HTTPS works");
        assert_eq!(status, 401, "{framework}");
        assert!(head.contains("www-authenticate: basic realm="), "{head}");
        // Not without the certificate, and not in clear.
        assert!(curl(&["-u", &right, &url]).is_err(), "{framework}");
        let plain = url.replacen("https://", "http://", 1);
        assert!(curl(&["-u", &right, &plain]).is_err(), "{framework}");
        let (status, log) = server.stop();
        assert!(status.success(), "{framework}: {log}");
        assert!(!log.contains(PASSWORD), "{log}");
    }
}

/// A SIGTERM while a request is in flight over TLS lets it finish: rocket reads the body before
/// dispatching, so a body sent in two halves keeps the request in flight.
#[test]
fn a_tls_request_in_flight_finishes_after_sigterm() {
    let db = Db::sqlite();
    let certificate = Certificate::generate(db.dir());
    let server = Server::start_with(
        "rocket",
        db.url(),
        &[
            "--tls-cert",
            certificate.cert(),
            "--tls-key",
            certificate.key(),
        ],
    );
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(certificate.der.clone().into())
        .expect("the test certificate");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("a server name");
    let connection = rustls::ClientConnection::new(Arc::new(config), name).expect("a TLS client");
    let socket = TcpStream::connect(server.addr()).expect("a connection");
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a read timeout");
    let mut stream = rustls::StreamOwned::new(connection, socket);
    stream
        .write_all(b"POST /open HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n\r\nab")
        .expect("the head and half the body");
    stream.flush().expect("sent");
    thread::sleep(Duration::from_millis(300));
    let stopping = thread::spawn(move || server.stop());
    thread::sleep(Duration::from_millis(300));
    stream.write_all(b"cd").expect("the rest of the body");
    stream.flush().expect("sent");
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response);
    let (exit, log) = stopping.join().expect("the server stops");
    assert!(
        response.starts_with("HTTP/1.1 404"),
        "the request in flight was answered (rocket has no POST /open): {response:?}; log: {log}"
    );
    assert!(exit.success(), "{exit}; log: {log}");
}

#[test]
fn settings_come_from_endpoint_auth_variables() {
    let db = Db::sqlite();
    let certificate = Certificate::generate(db.dir());
    let server = Server::start_with_env(
        "axum",
        db.url(),
        &[],
        &[
            ("ENDPOINT_AUTH_TLS_CERT", certificate.cert()),
            ("ENDPOINT_AUTH_TLS_KEY", certificate.key()),
            ("ENDPOINT_AUTH_REALM", "from the environment"),
            ("ENDPOINT_AUTH_FORWARD_AUTH", "true"),
            ("ENDPOINT_AUTH_TRUSTED_PROXY", "127.0.0.1,10.0.0.0/8"),
            ("ENDPOINT_AUTH_METRICS", "1"),
        ],
    );
    let (status, head, _) =
        curl(&["--cacert", certificate.cert(), &server.url("/auth")]).expect("HTTPS works");
    assert_eq!(status, 401);
    assert!(
        head.contains(r#"www-authenticate: basic realm="from the environment", charset="utf-8""#),
        "{head}"
    );
    let (status, _, metrics) =
        curl(&["--cacert", certificate.cert(), &server.url("/metrics")]).expect("HTTPS works");
    assert_eq!(status, 200);
    assert!(
        metrics.contains(r#"endpoint_auth_http_requests_total{status="401"} 1"#),
        "{metrics}"
    );
    let (status, log) = server.stop();
    assert!(status.success(), "{log}");
}

#[test]
fn help_names_every_variable() {
    let out = support::endpoint_auth(&["serve", "--help"], None, &[]);
    let help = String::from_utf8(out.stdout).expect("UTF-8 help");
    for variable in [
        "ENDPOINT_AUTH_DB",
        "ENDPOINT_AUTH_BIND",
        "ENDPOINT_AUTH_FRAMEWORK",
        "ENDPOINT_AUTH_REALM",
        "ENDPOINT_AUTH_DEMO",
        "ENDPOINT_AUTH_FORWARD_AUTH",
        "ENDPOINT_AUTH_CONFIRMED_EMAIL",
        "ENDPOINT_AUTH_TRUSTED_PROXY",
        "ENDPOINT_AUTH_TLS_CERT",
        "ENDPOINT_AUTH_TLS_KEY",
        "ENDPOINT_AUTH_METRICS",
        "ENDPOINT_AUTH_HEADER_TIMEOUT",
        "ENDPOINT_AUTH_MAX_CONNECTIONS",
    ] {
        assert!(help.contains(variable), "{variable} missing from:\n{help}");
    }
    // A database URL may hold a password: --help never shows the variable's value.
    let out = support::endpoint_auth(
        &["serve", "--help"],
        None,
        &[("ENDPOINT_AUTH_DB", "postgres://app:s3cret@db/x")],
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("s3cret"));
}

#[test]
fn tls_needs_both_files_and_readable_ones() {
    let db = Db::sqlite();
    let out = support::endpoint_auth(
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--tls-cert",
            "cert.pem",
            "--db",
            db.url(),
        ],
        None,
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tls-key"));
    let missing = db.dir().join("missing.pem");
    let missing = missing.to_str().expect("a UTF-8 path");
    let err = db.fails(
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--tls-cert",
            missing,
            "--tls-key",
            missing,
        ],
        None,
    );
    assert!(err.contains("TLS") && err.contains("missing.pem"), "{err}");
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = support::endpoint_auth(&["completions", shell], None, &[]);
        assert!(out.status.success(), "{shell}: {out:?}");
        let script = String::from_utf8(out.stdout).expect("UTF-8 script");
        for word in ["endpoint-auth", "serve", "users", "import", "completions"] {
            assert!(script.contains(word), "{shell}: no {word:?} in the script");
        }
    }
}

//! `users import --allow-legacy-hashes`: Apache's apr1-MD5 and `{SHA}` htpasswd lines, imported
//! only when asked, listed as legacy, verified at login and replaced there by argon2id.

mod support;

use std::process::Command;

use serde_json::Value;
use support::pg::PgDatabase;
use support::server::Server;
use support::{endpoint_auth, Db};

const PASSWORD: &str = "myPassword";

/// `md5:` and `sha:` lines for [`PASSWORD`], made by Apache's own `htpasswd` when it is installed,
/// else the outputs printed in Apache's "Password Formats" documentation.
fn htpasswd_lines() -> String {
    let made = |flag: &str, user: &str| {
        Command::new("htpasswd")
            .args(["-nb", flag, user, PASSWORD])
            .output()
            .ok()
            .filter(|out| out.status.success())
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .map(|line| line.trim().to_owned())
    };
    match (made("-m", "md5@example.com"), made("-s", "sha@example.com")) {
        (Some(md5), Some(sha)) => format!("{md5}\n{sha}\n"),
        _ => "md5@example.com:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/\n\
              sha@example.com:{SHA}VBPuJHI7uixaa6LQGWx4s+5GKNE=\n"
            .to_owned(),
    }
}

fn formats(db_url: &str) -> Vec<(String, String, bool)> {
    let out = endpoint_auth(&["users", "list", "--json", "--db", db_url], None, &[]);
    assert!(out.status.success(), "{out:?}");
    let Value::Array(users) = serde_json::from_slice(&out.stdout).expect("JSON") else {
        panic!("an array")
    };
    users
        .iter()
        .map(|user| {
            (
                user["email"].as_str().expect("an email").to_owned(),
                user["password_format"]
                    .as_str()
                    .expect("a format")
                    .to_owned(),
                user["legacy_hash"].as_bool().expect("a flag"),
            )
        })
        .collect()
}

fn import(db_url: &str, lines: &str, allow: bool) -> std::process::Output {
    let mut args = vec![
        "users", "import", "-", "--format", "htpasswd", "--db", db_url,
    ];
    if allow {
        args.push("--allow-legacy-hashes");
    }
    endpoint_auth(&args, Some(lines), &[])
}

fn curl_status(userinfo: &str, url: &str) -> String {
    let out = Command::new("curl")
        .args(["--silent", "--max-time", "20", "--output", "/dev/null"])
        .args(["--write-out", "%{http_code}", "-u", userinfo, url])
        .output()
        .expect("curl is installed (.ci/run installs it)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn legacy_round_trip(db_url: &str, password_hash: impl Fn(&str) -> String) {
    let lines = htpasswd_lines();
    let refused = import(db_url, &lines, false);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("line 1: md5@example.com")
            && err.contains("line 2: sha@example.com")
            && err.contains("--allow-legacy-hashes"),
        "{err}"
    );

    let imported = import(db_url, &lines, true);
    assert!(imported.status.success(), "{imported:?}");
    let said = String::from_utf8_lossy(&imported.stdout);
    assert!(
        said.contains("imported 2 users from standard input"),
        "{said}"
    );
    assert!(said.contains("2 of them hold a legacy hash"), "{said}");
    assert_eq!(
        formats(db_url),
        [
            ("md5@example.com".to_owned(), "apr1-md5".to_owned(), true),
            ("sha@example.com".to_owned(), "sha1".to_owned(), true),
        ]
    );

    // The first successful login replaces the legacy hash with argon2id; a wrong one does not.
    let server = Server::start("axum", db_url);
    let url = server.url("/protected");
    assert_eq!(curl_status("sha@example.com:mypassword", &url), "401");
    assert_eq!(
        curl_status(&format!("md5@example.com:{PASSWORD}"), &url),
        "200"
    );
    assert_eq!(
        curl_status(&format!("sha@example.com:{PASSWORD}"), &url),
        "200"
    );
    let (status, log) = server.stop();
    assert!(status.success(), "{log}");
    for email in ["md5@example.com", "sha@example.com"] {
        let hash = password_hash(email);
        assert!(hash.starts_with("$argon2id$"), "{email}: {hash}");
    }
    let after = formats(db_url);
    assert!(
        after
            .iter()
            .filter(|(email, _, _)| email != "user123@gmail.com")
            .all(|(_, format, legacy)| format == "argon2" && !legacy),
        "{after:?}"
    );
}

#[test]
fn legacy_hashes_over_sqlite() {
    let db = Db::sqlite();
    legacy_round_trip(db.url(), |email| db.password_hash(email));
}

#[test]
fn legacy_hashes_over_postgres() {
    let Some(pg) = PgDatabase::create() else {
        return;
    };
    let url = pg.url.clone();
    legacy_round_trip(&url, |email| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            use endpoint_auth::UserStore as _;
            let store = endpoint_auth_sql::SqlStore::connect(&url)
                .await
                .expect("the database opens");
            let record = store.find_user(email).await.expect("the store answers");
            store.close().await;
            record
                .and_then(|r| r.password_hash)
                .expect("the user has a password")
        })
    });
}

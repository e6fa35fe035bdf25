//! `endpoint-auth users …` and `endpoint-auth hash`, driven as an operator would: the real binary,
//! a real SQLite file, passwords on stdin.

mod support;

use std::fs;

use serde_json::Value;
use support::{endpoint_auth, Db};

const BCRYPT_PW: &str = "secret";

fn bcrypt_hash() -> String {
    bcrypt::hash(BCRYPT_PW, 4).expect("bcrypt hashes")
}

fn list(db: &Db) -> Vec<Value> {
    let out = db.ok(&["users", "list", "--json"], None);
    let Value::Array(users) = serde_json::from_str(&out).expect("list --json prints JSON") else {
        panic!("list --json prints an array: {out}")
    };
    users
}

fn find<'a>(users: &'a [Value], email: &str) -> &'a Value {
    users
        .iter()
        .find(|u| u["email"] == email)
        .unwrap_or_else(|| panic!("{email} not in {users:?}"))
}

#[test]
fn add_then_list_shows_the_users_table_columns_without_the_hash() {
    let db = Db::sqlite();
    db.ok(
        &["users", "add", "alice@example.com", "--password-stdin"],
        Some("pw-alice\n"),
    );
    db.ok(
        &[
            "users",
            "add",
            "bob@example.com",
            "--unconfirmed",
            "--disabled",
            "--password-stdin",
        ],
        Some("pw-bob\n"),
    );
    let users = list(&db);
    assert_eq!(users.len(), 2);
    let alice = find(&users, "alice@example.com");
    assert_eq!(alice["enabled"], true);
    assert_eq!(alice["confirmed_email"], true);
    assert_eq!(alice["n_password_failures"], 0);
    assert!(alice["signed_up"].as_str().unwrap().ends_with('Z'));
    assert_eq!(alice["last_login"], Value::Null);
    let bob = find(&users, "bob@example.com");
    assert_eq!(bob["enabled"], false);
    assert_eq!(bob["confirmed_email"], false);
    let raw = db.ok(&["users", "list", "--json"], None);
    assert!(
        !raw.contains("$argon2") && !raw.contains("password_hash"),
        "{raw}"
    );
    let table = db.ok(&["users", "list"], None);
    assert!(
        table.contains("alice@example.com") && table.contains("bob@example.com"),
        "{table}"
    );
}

#[test]
fn db_flag_goes_before_or_after_the_subcommand_and_env_stands_in() {
    let db = Db::sqlite();
    let out = endpoint_auth(
        &[
            "--db",
            db.url(),
            "users",
            "add",
            "a@example.com",
            "--password-stdin",
        ],
        Some("pw\n"),
        &[],
    );
    assert!(out.status.success(), "{out:?}");
    let out = endpoint_auth(
        &["users", "list", "--json"],
        None,
        &[("ENDPOINT_AUTH_DB", db.url())],
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("a@example.com"),
        "{out:?}"
    );
}

#[test]
fn enable_disable_confirm_unlock_remove() {
    let db = Db::sqlite();
    db.ok(
        &[
            "users",
            "add",
            "c@example.com",
            "--unconfirmed",
            "--password-stdin",
        ],
        Some("pw\n"),
    );
    db.ok(&["users", "disable", "c@example.com"], None);
    assert_eq!(find(&list(&db), "c@example.com")["enabled"], false);
    db.ok(&["users", "enable", "C@EXAMPLE.COM"], None);
    assert_eq!(find(&list(&db), "c@example.com")["enabled"], true);
    db.ok(&["users", "confirm", "c@example.com"], None);
    assert_eq!(find(&list(&db), "c@example.com")["confirmed_email"], true);
    db.ok(&["users", "unlock", "c@example.com"], None);
    db.ok(&["users", "remove", "c@example.com"], None);
    assert!(list(&db).is_empty());
}

#[test]
fn passwd_changes_the_password() {
    let db = Db::sqlite();
    db.ok(
        &["users", "add", "d@example.com", "--password-stdin"],
        Some("old password\n"),
    );
    db.ok(
        &["users", "passwd", "d@example.com", "--password-stdin"],
        Some("new password\n"),
    );
    let hash = db.password_hash("d@example.com");
    let policy = endpoint_auth::HashPolicy::owasp();
    assert!(policy.verify("new password", &hash).unwrap().matched);
    assert!(!policy.verify("old password", &hash).unwrap().matched);
}

#[test]
fn errors_are_one_clear_line_and_a_failure_status() {
    let db = Db::sqlite();
    db.ok(
        &["users", "add", "e@example.com", "--password-stdin"],
        Some("pw\n"),
    );
    for (args, stdin, expected) in [
        (
            &["users", "add", "E@example.com", "--password-stdin"][..],
            Some("pw\n"),
            "already exists",
        ),
        (&["users", "disable", "nobody@example.com"], None, "no user"),
        (
            &["users", "passwd", "nobody@example.com", "--password-stdin"],
            Some("pw\n"),
            "no user",
        ),
        (&["users", "remove", "nobody@example.com"], None, "no user"),
        (
            &["users", "add", "f@example.com", "--password-stdin"],
            Some("\n"),
            "empty",
        ),
        (
            &["users", "add", "bad:email", "--password-stdin"],
            Some("pw\n"),
            "invalid email",
        ),
        (
            &[
                "users",
                "import",
                "/nonexistent/users.csv",
                "--format",
                "anvil-csv",
            ],
            None,
            "could not read",
        ),
    ] {
        let err = db.fails(args, stdin);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert_eq!(
            err.trim().lines().count(),
            1,
            "{args:?}: one line, got {err}"
        );
        assert!(
            !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
            "{err}"
        );
    }
}

#[test]
fn unreachable_database_is_a_clear_error() {
    let out = endpoint_auth(
        &[
            "users",
            "list",
            "--db",
            "postgres://postgres@127.0.0.1:1/nothing",
        ],
        None,
        &[],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: ") && err.contains("connect"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    let out = endpoint_auth(&["users", "list", "--db", "mysql://x"], None, &[]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unsupported"),
        "{out:?}"
    );
}

#[test]
fn no_terminal_and_no_password_stdin_says_what_to_do() {
    let db = Db::sqlite();
    let err = db.fails(&["users", "add", "g@example.com"], Some(""));
    assert!(err.contains("--password-stdin"), "{err}");
}

#[test]
fn hash_prints_an_argon2id_phc_string() {
    let out = endpoint_auth(&["hash", "--password-stdin"], Some("hunter2\n"), &[]);
    assert!(out.status.success(), "{out:?}");
    let hash = String::from_utf8(out.stdout).unwrap();
    let hash = hash.trim();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(
        endpoint_auth::HashPolicy::owasp()
            .verify("hunter2", hash)
            .unwrap()
            .matched
    );
}

#[test]
fn import_htpasswd_then_the_users_exist() {
    let db = Db::sqlite();
    let file = db.dir().join("users.htpasswd");
    fs::write(
        &file,
        format!("# team\nalice:{}\nbob:{}\n", bcrypt_hash(), bcrypt_hash()),
    )
    .unwrap();
    let out = db.ok(
        &[
            "users",
            "import",
            file.to_str().unwrap(),
            "--format",
            "htpasswd",
        ],
        None,
    );
    assert!(out.contains("imported 2"), "{out}");
    let users = list(&db);
    assert_eq!(users.len(), 2);
    assert!(db.password_hash("alice").starts_with("$2"));
}

#[test]
fn import_anvil_csv_reads_columns_in_any_order() {
    let db = Db::sqlite();
    let file = db.dir().join("users.csv");
    fs::write(
        &file,
        format!(
            "password_hash,signed_up,email,confirmed_email,enabled,remembered_logins\n\
             {},2023-05-01 10:11:12.123456+00:00,anvil@example.com,True,True,[]\n\
             {},2023-05-02T00:00:00Z,off@example.com,false,false,[]\n",
            bcrypt_hash(),
            bcrypt_hash()
        ),
    )
    .unwrap();
    db.ok(
        &[
            "users",
            "import",
            file.to_str().unwrap(),
            "--format",
            "anvil-csv",
        ],
        None,
    );
    let users = list(&db);
    assert_eq!(
        find(&users, "anvil@example.com")["signed_up"],
        "2023-05-01T10:11:12Z"
    );
    assert_eq!(find(&users, "off@example.com")["enabled"], false);
}

#[test]
fn a_rejected_import_lists_offending_lines_and_leaves_the_database_untouched() {
    let db = Db::sqlite();
    db.ok(
        &["users", "add", "existing@example.com", "--password-stdin"],
        Some("pw\n"),
    );
    let before = db.ok(&["users", "list", "--json"], None);

    let file = db.dir().join("bad.htpasswd");
    fs::write(
        &file,
        format!(
            "good:{}\nmd5:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/\nsha:{{SHA}}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\nplain:password\n",
            bcrypt_hash()
        ),
    )
    .unwrap();
    let err = db.fails(
        &[
            "users",
            "import",
            file.to_str().unwrap(),
            "--format",
            "htpasswd",
        ],
        None,
    );
    for line in ["line 2: md5", "line 3: sha", "line 4: plain"] {
        assert!(err.contains(line), "{line} missing from: {err}");
    }
    assert_eq!(db.ok(&["users", "list", "--json"], None), before);

    // A valid file whose user clashes with an existing one is refused whole too.
    let clash = db.dir().join("clash.htpasswd");
    fs::write(
        &clash,
        format!(
            "new:{}\nEXISTING@example.com:{}\n",
            bcrypt_hash(),
            bcrypt_hash()
        ),
    )
    .unwrap();
    let err = db.fails(
        &[
            "users",
            "import",
            clash.to_str().unwrap(),
            "--format",
            "htpasswd",
        ],
        None,
    );
    assert!(
        err.contains("existing@example.com") || err.contains("EXISTING@example.com"),
        "{err}"
    );
    assert_eq!(db.ok(&["users", "list", "--json"], None), before);
}

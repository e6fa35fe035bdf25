//! Reading users to import: nginx/Apache `htpasswd` files and Anvil Users table CSV exports.
//!
//! Both readers check every entry and report every problem at once, with line numbers, so an
//! operator can fix a file in one pass; nothing is imported unless everything is valid.

use std::time::SystemTime;

use endpoint_auth::{
    admin::validate_email,
    hash::{identify_hash, identify_hash_allowing_legacy, HashError},
    NewUser,
};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// Why a file cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file has no users.
    #[error("{0} contains no users")]
    Empty(String),
    /// One or more entries are unusable; every one is listed.
    #[error("{file}: {} problem(s), nothing imported:\n  {}", .problems.len(), .problems.join("\n  "))]
    Invalid {
        /// The file's name as given.
        file: String,
        /// One line per problem: `line N: …`.
        problems: Vec<String>,
    },
}

/// A hash format explained for an operator: what it is and why it is refused.
fn explain_hash_error(error: &HashError) -> String {
    match error {
        HashError::UnsupportedFormat { found } => {
            let hint = if found.contains("$apr1$") {
                " (MD5-crypt is broken; re-create the password with bcrypt: `htpasswd -B`, or import with --allow-legacy-hashes to have it replaced by argon2id at the user's first login)"
            } else if found.contains("$1$") {
                " (MD5-crypt is broken; re-create the password with bcrypt: `htpasswd -B`)"
            } else if found.contains("{SHA}") {
                " (unsalted SHA-1 is broken; re-create the password with bcrypt: `htpasswd -B`, or import with --allow-legacy-hashes to have it replaced by argon2id at the user's first login)"
            } else if found.contains("crypt(3)") {
                " (DES crypt or plain text; re-create the password with bcrypt: `htpasswd -B`)"
            } else {
                ""
            };
            format!("{error}{hint}")
        }
        other => other.to_string(),
    }
}

/// Which hash formats an import accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Hashes {
    /// argon2 and bcrypt only (SPEC §6).
    #[default]
    Current,
    /// Also Apache's legacy apr1-MD5 and `{SHA}`, to be replaced at each user's first login.
    AllowLegacy,
}

impl Hashes {
    fn check(self, hash: &str) -> Result<(), HashError> {
        match self {
            Self::Current => identify_hash(hash).map(drop),
            Self::AllowLegacy => identify_hash_allowing_legacy(hash).map(drop),
        }
    }

    fn user(self, email: &str, hash: Option<String>) -> NewUser {
        NewUser::new(email, hash).allow_legacy_hash(self == Self::AllowLegacy)
    }
}

/// Reads an htpasswd file: `user:hash` lines; blank lines and `#` comments are skipped.
/// bcrypt (`$2a$ $2b$ $2x$ $2y$`) and argon2 PHC hashes are accepted, apr1-MD5 and `{SHA}` only
/// with [`Hashes::AllowLegacy`]; crypt and plain text are refused.
///
/// # Errors
/// [`ImportError`] listing every unusable line.
pub fn read_htpasswd(file: &str, text: &str, hashes: Hashes) -> Result<Vec<NewUser>, ImportError> {
    let mut users = Vec::new();
    let mut problems = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let Some((user, hash)) = line.split_once(':') else {
            problems.push(format!("line {number}: expected `user:hash`"));
            continue;
        };
        if let Err(error) = validate_email(user) {
            problems.push(format!("line {number}: {error}"));
            continue;
        }
        match hashes.check(hash) {
            Ok(()) => users.push(hashes.user(user, Some(hash.to_owned()))),
            Err(error) => problems.push(format!(
                "line {number}: {user}: {}",
                explain_hash_error(&error)
            )),
        }
    }
    finish(file, users, problems)
}

fn finish(
    file: &str,
    users: Vec<NewUser>,
    problems: Vec<String>,
) -> Result<Vec<NewUser>, ImportError> {
    if !problems.is_empty() {
        return Err(ImportError::Invalid {
            file: file.to_owned(),
            problems,
        });
    }
    if users.is_empty() {
        return Err(ImportError::Empty(file.to_owned()));
    }
    Ok(users)
}

/// The Anvil Users table columns the importer reads; others are ignored.
const EMAIL: &str = "email";
const PASSWORD_HASH: &str = "password_hash";
const ENABLED: &str = "enabled";
const CONFIRMED_EMAIL: &str = "confirmed_email";
const SIGNED_UP: &str = "signed_up";
const LAST_LOGIN: &str = "last_login";
const N_PASSWORD_FAILURES: &str = "n_password_failures";

/// Reads an Anvil Users table CSV export. A header row names the columns, in any order; `email`
/// is required; `password_hash`, `enabled`, `confirmed_email`, `signed_up`, `last_login` and
/// `n_password_failures` are read when present; other columns are ignored. Booleans are
/// `True`/`False`/`true`/`false` (empty is false); times are ISO 8601.
///
/// # Errors
/// [`ImportError`] listing every unusable row (numbered as lines of the file, the header being
/// line 1).
pub fn read_anvil_csv(file: &str, text: &str, hashes: Hashes) -> Result<Vec<NewUser>, ImportError> {
    let invalid = |problems: Vec<String>| ImportError::Invalid {
        file: file.to_owned(),
        problems,
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::Fields)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| invalid(vec![format!("line 1: unreadable header row: {e}")]))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let Some(email_column) = column(EMAIL) else {
        return Err(invalid(vec![format!(
            "line 1: no `email` column (columns: {})",
            headers.iter().collect::<Vec<_>>().join(", ")
        )]));
    };
    let columns = Columns {
        email: email_column,
        password_hash: column(PASSWORD_HASH),
        enabled: column(ENABLED),
        confirmed_email: column(CONFIRMED_EMAIL),
        signed_up: column(SIGNED_UP),
        last_login: column(LAST_LOGIN),
        n_password_failures: column(N_PASSWORD_FAILURES),
    };
    let mut users = Vec::new();
    let mut problems = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let fallback_line = index + 2;
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                problems.push(format!("line {fallback_line}: {error}"));
                continue;
            }
        };
        let line = record
            .position()
            .map_or(fallback_line as u64, csv::Position::line);
        match columns.read(&record, hashes) {
            Ok(user) => users.push(user),
            Err(problem) => problems.push(format!("line {line}: {problem}")),
        }
    }
    finish(file, users, problems)
}

struct Columns {
    email: usize,
    password_hash: Option<usize>,
    enabled: Option<usize>,
    confirmed_email: Option<usize>,
    signed_up: Option<usize>,
    last_login: Option<usize>,
    n_password_failures: Option<usize>,
}

impl Columns {
    fn read(&self, record: &csv::StringRecord, hashes: Hashes) -> Result<NewUser, String> {
        let field = |column: Option<usize>| column.and_then(|c| record.get(c)).unwrap_or("");
        let email = field(Some(self.email));
        validate_email(email).map_err(|e| e.to_string())?;
        let hash = field(self.password_hash);
        let password_hash = if hash.is_empty() {
            None
        } else {
            hashes
                .check(hash)
                .map_err(|e| format!("{email}: {}", explain_hash_error(&e)))?;
            Some(hash.to_owned())
        };
        let mut user = hashes.user(email, password_hash);
        user.enabled =
            parse_bool(ENABLED, field(self.enabled)).map_err(|e| format!("{email}: {e}"))?;
        user.confirmed_email = parse_bool(CONFIRMED_EMAIL, field(self.confirmed_email))
            .map_err(|e| format!("{email}: {e}"))?;
        user.signed_up =
            parse_time(SIGNED_UP, field(self.signed_up)).map_err(|e| format!("{email}: {e}"))?;
        user.last_login =
            parse_time(LAST_LOGIN, field(self.last_login)).map_err(|e| format!("{email}: {e}"))?;
        let failures = field(self.n_password_failures);
        user.n_password_failures = if failures.is_empty() {
            0
        } else {
            failures.parse().map_err(|_| {
                format!("{email}: n_password_failures {failures:?} is not a whole number")
            })?
        };
        Ok(user)
    }
}

fn parse_bool(column: &str, value: &str) -> Result<bool, String> {
    match value {
        "True" | "true" | "TRUE" => Ok(true),
        "False" | "false" | "FALSE" | "" => Ok(false),
        other => Err(format!("{column} {other:?} is not True/False/true/false")),
    }
}

/// ISO 8601: `2024-01-02T03:04:05Z`, `2024-01-02 03:04:05.123456+00:00` (Python's `str()`),
/// without an offset (read as UTC), or a bare date. Empty means absent.
fn parse_time(column: &str, value: &str) -> Result<Option<SystemTime>, String> {
    if value.is_empty() || value.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let normalized = value.replacen(' ', "T", 1);
    if let Ok(at) = OffsetDateTime::parse(&normalized, &Rfc3339) {
        return Ok(Some(at.into()));
    }
    let with_offset = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]][offset_hour sign:mandatory]:[offset_minute]"
    );
    if let Ok(at) = OffsetDateTime::parse(&normalized, &with_offset) {
        return Ok(Some(at.into()));
    }
    let without_offset = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    if let Ok(at) = PrimitiveDateTime::parse(&normalized, &without_offset) {
        return Ok(Some(at.assume_offset(UtcOffset::UTC).into()));
    }
    if let Ok(day) = Date::parse(value, &format_description!("[year]-[month]-[day]")) {
        return Ok(Some(day.midnight().assume_offset(UtcOffset::UTC).into()));
    }
    Err(format!("{column} {value:?} is not an ISO 8601 time"))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    const BCRYPT: &str = "$2b$04$JwRjGgHUosEFdnflLGn7z.ZPwz9Mlq3G46mLS50ynUzrTGd3TD1ha";

    #[test]
    fn htpasswd_accepts_bcrypt_and_argon2_and_skips_comments() {
        let argon2 = endpoint_auth::HashPolicy::argon2id(64, 1, 1)
            .unwrap()
            .hash("pw")
            .unwrap();
        let text = format!("# users\n\nalice:{BCRYPT}\r\nbob:{argon2}\n");
        let users = read_htpasswd("users.htpasswd", &text, Hashes::Current).unwrap();
        assert_eq!(users.len(), 2);
        assert_eq!(users[0].email, "alice");
        assert_eq!(users[1].password_hash.as_deref(), Some(argon2.as_str()));
    }

    #[test]
    fn htpasswd_lists_every_insecure_line() {
        let text = format!(
            "ok:{BCRYPT}\nmd5:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/\nsha:{{SHA}}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\ncrypt:rqXexS6ZhobKA\nplain:secret\nnocolon\n"
        );
        let ImportError::Invalid { problems, .. } =
            read_htpasswd("f", &text, Hashes::Current).unwrap_err()
        else {
            panic!("expected problems")
        };
        assert_eq!(problems.len(), 5, "{problems:#?}");
        assert!(
            problems[0].starts_with("line 2: md5:") && problems[0].contains("MD5"),
            "{}",
            problems[0]
        );
        assert!(problems[1].starts_with("line 3: sha:") && problems[1].contains("SHA-1"));
        assert!(problems[2].starts_with("line 4: crypt:"));
        assert!(problems[3].starts_with("line 5: plain:"));
        assert!(problems[4].starts_with("line 6:"));
    }

    #[test]
    fn htpasswd_legacy_lines_only_with_the_flag() {
        let text =
            "md5:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/\nsha:{SHA}VBPuJHI7uixaa6LQGWx4s+5GKNE=\n";
        let ImportError::Invalid { problems, .. } =
            read_htpasswd("f", text, Hashes::Current).unwrap_err()
        else {
            panic!("expected problems")
        };
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(problems.iter().all(|p| p.contains("--allow-legacy-hashes")));
        let users = read_htpasswd("f", text, Hashes::AllowLegacy).unwrap();
        assert_eq!(users.len(), 2);
        assert!(users.iter().all(|u| u.allow_legacy_hash));
        endpoint_auth::admin::validate_import(&users).unwrap();
        let damaged = read_htpasswd("f", "md5:$apr1$x$y\n", Hashes::AllowLegacy).unwrap_err();
        assert!(damaged.to_string().contains("malformed"), "{damaged}");
    }

    #[test]
    fn anvil_csv_with_columns_in_any_order_and_extras() {
        let text = format!(
            "signed_up,email,extra,password_hash,enabled,confirmed_email,last_login,n_password_failures\n\
             2024-01-02 03:04:05.123456+00:00,a@example.com,x,{BCRYPT},True,False,,0\n\
             2024-01-02T03:04:05Z,b@example.com,y,,false,true,2024-02-01,3\n"
        );
        let users = read_anvil_csv("users.csv", &text, Hashes::Current).unwrap();
        assert_eq!(users.len(), 2);
        assert!(users[0].enabled && !users[0].confirmed_email);
        assert_eq!(users[0].password_hash.as_deref(), Some(BCRYPT));
        let jan2 = UNIX_EPOCH + Duration::from_secs(1_704_164_645);
        assert_eq!(
            users[0].signed_up,
            Some(jan2 + Duration::from_micros(123_456))
        );
        assert_eq!(users[1].signed_up, Some(jan2));
        assert!(!users[1].enabled && users[1].confirmed_email);
        assert_eq!(users[1].password_hash, None);
        assert_eq!(users[1].n_password_failures, 3);
        assert_eq!(
            users[1].last_login,
            Some(UNIX_EPOCH + Duration::from_secs(1_706_745_600))
        );
    }

    #[test]
    fn anvil_csv_reports_every_bad_row_with_its_line() {
        let text = format!(
            "email,password_hash,enabled\n\
             good@example.com,{BCRYPT},True\n\
             md5@example.com,$apr1$x$y,True\n\
             ,{BCRYPT},True\n\
             flag@example.com,{BCRYPT},maybe\n"
        );
        let ImportError::Invalid { problems, .. } =
            read_anvil_csv("u.csv", &text, Hashes::Current).unwrap_err()
        else {
            panic!()
        };
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(
            problems[0].starts_with("line 3: md5@example.com"),
            "{}",
            problems[0]
        );
        assert!(problems[1].starts_with("line 4:"));
        assert!(
            problems[2].starts_with("line 5: flag@example.com") && problems[2].contains("maybe")
        );
    }

    #[test]
    fn anvil_csv_needs_an_email_column() {
        let err =
            read_anvil_csv("u.csv", "name,password_hash\nx,y\n", Hashes::Current).unwrap_err();
        assert!(err.to_string().contains("no `email` column"), "{err}");
    }

    #[test]
    fn empty_files_are_refused() {
        assert!(matches!(
            read_htpasswd("f", "# nothing\n", Hashes::Current),
            Err(ImportError::Empty(_))
        ));
        assert!(matches!(
            read_anvil_csv("f", "email\n", Hashes::Current),
            Err(ImportError::Empty(_))
        ));
    }
}

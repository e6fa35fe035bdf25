//! `endpoint-auth users …` and `endpoint-auth hash`.

use std::collections::HashMap;
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use endpoint_auth::{hash::identify_hash_allowing_legacy, HashPolicy, NewUser, User, UserAdmin};
use endpoint_auth_sql::SqlStore;
use serde_json::json;

use crate::args::{ImportFormat, PasswordSource, UsersCommand};
use crate::dates::rfc3339;
use crate::error::CliError;
use crate::import::{read_anvil_csv, read_htpasswd, Hashes};
use crate::password::read_new_password;

/// Imports of more entries than this show a progress spinner (on a terminal).
const PROGRESS_ABOVE: usize = 300;

/// Runs one `users` subcommand against `store`, writing its report to `out`.
pub async fn run(
    store: &SqlStore,
    command: UsersCommand,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    match command {
        UsersCommand::Add {
            email,
            unconfirmed,
            disabled,
            password,
        } => {
            let hash = new_hash(password, &format!("Password for {email}"))?;
            let user = NewUser::new(email, Some(hash))
                .enabled(!disabled)
                .confirmed_email(!unconfirmed);
            let user = store.create_user(user).await?;
            report(out, format_args!("added {} (id {})", user.email, user.id))
        }
        UsersCommand::Passwd { email, password } => {
            // Fail on an unknown user before asking for a password.
            let user = store.get_user(&email).await?;
            let hash = new_hash(password, &format!("New password for {}", user.email))?;
            store.set_password_hash(&user.email, &hash).await?;
            report(out, format_args!("password of {} changed", user.email))
        }
        UsersCommand::Enable { email } => {
            store.set_enabled(&email, true).await?;
            report(out, format_args!("{email} enabled"))
        }
        UsersCommand::Disable { email } => {
            store.set_enabled(&email, false).await?;
            report(out, format_args!("{email} disabled"))
        }
        UsersCommand::Confirm { email } => {
            store.set_confirmed_email(&email, true).await?;
            report(out, format_args!("{email} confirmed"))
        }
        UsersCommand::Unlock { email } => {
            store.unlock(&email).await?;
            report(out, format_args!("{email} unlocked"))
        }
        UsersCommand::Remove { email } => {
            store.remove_user(&email).await?;
            report(out, format_args!("{email} removed"))
        }
        UsersCommand::List { json } => {
            let users = store.list_users().await?;
            if json {
                let formats = password_formats(store).await?;
                let listing = serde_json::Value::Array(
                    users
                        .iter()
                        .map(|user| {
                            let format = formats.get(&user.id).copied().unwrap_or("none");
                            user_json(user, format)
                        })
                        .collect(),
                );
                report(out, format_args!("{listing:#}"))
            } else {
                list_table(&users, out)
            }
        }
        UsersCommand::Import {
            file,
            format,
            allow_legacy_hashes,
        } => {
            let (name, text) = read_input(&file)?;
            let hashes = if allow_legacy_hashes {
                Hashes::AllowLegacy
            } else {
                Hashes::Current
            };
            let users = match format {
                ImportFormat::Htpasswd => read_htpasswd(&name, &text, hashes)?,
                ImportFormat::AnvilCsv => read_anvil_csv(&name, &text, hashes)?,
            };
            let legacy = users
                .iter()
                .filter_map(|user| user.password_hash.as_deref())
                .filter(|hash| identify_hash_allowing_legacy(hash).is_ok_and(|k| k.is_legacy()))
                .count();
            let progress = progress(users.len());
            let count = store.import_users(users).await;
            if let Some(progress) = progress {
                progress.finish_and_clear();
            }
            let count = count?;
            report(out, format_args!("imported {count} users from {name}"))?;
            if legacy > 0 {
                report(
                    out,
                    format_args!(
                        "{legacy} of them hold a legacy hash (apr1-MD5 or {{SHA}}), replaced by \
                         argon2id at each one's first successful login; `users list --json` \
                         shows who still has one"
                    ),
                )?;
            }
            Ok(())
        }
    }
}

/// The text to import and the name to report it by: the file, or standard input for `-`.
fn read_input(file: &Path) -> Result<(String, String), CliError> {
    if file == Path::new("-") {
        let name = "standard input".to_owned();
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|source| CliError::Read {
                path: name.clone(),
                source,
            })?;
        return Ok((name, text));
    }
    let name = file.display().to_string();
    let text = std::fs::read_to_string(file).map_err(|source| CliError::Read {
        path: name.clone(),
        source,
    })?;
    Ok((name, text))
}

/// A spinner on standard error while a large import is written, when standard error is a
/// terminal. The store writes the batch in one transaction, so it shows that work goes on and
/// for how long, not a fraction done.
fn progress(entries: usize) -> Option<indicatif::ProgressBar> {
    if entries <= PROGRESS_ABOVE || !std::io::stderr().is_terminal() {
        return None;
    }
    let spinner =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        spinner.set_style(style);
    }
    spinner.set_message(format!("importing {entries} users in one transaction"));
    spinner.enable_steady_tick(Duration::from_millis(120));
    Some(spinner)
}

/// Each user's password hash format by id (`argon2`, `bcrypt`, `apr1-md5`, `sha1`, `none`),
/// read straight from the users table: [`UserAdmin`] never hands out hashes.
async fn password_formats(store: &SqlStore) -> Result<HashMap<i64, &'static str>, CliError> {
    const SQL: &str = "SELECT id, password_hash FROM users";
    let pool = store.pool();
    let rows: Result<Vec<(i64, Option<String>)>, sqlx::Error> = if let Some(pool) = pool.as_sqlite()
    {
        sqlx::query_as(SQL).fetch_all(pool).await
    } else if let Some(pool) = pool.as_postgres() {
        sqlx::query_as(SQL).fetch_all(pool).await
    } else {
        Ok(Vec::new())
    };
    let rows = rows.map_err(|e| {
        CliError::Database(format!("could not read the users' password formats: {e}"))
    })?;
    Ok(rows
        .into_iter()
        .map(|(id, hash)| {
            let format = hash.map_or("none", |hash| {
                identify_hash_allowing_legacy(&hash).map_or("unrecognized", |kind| kind.name())
            });
            (id, format)
        })
        .collect())
}

/// `endpoint-auth hash`: an argon2id PHC string of a password.
pub fn hash(source: PasswordSource, out: &mut dyn Write) -> Result<(), CliError> {
    let hash = new_hash(source, "Password")?;
    report(out, format_args!("{hash}"))
}

fn new_hash(source: PasswordSource, prompt: &str) -> Result<String, CliError> {
    let password = read_new_password(source, prompt)?;
    Ok(HashPolicy::owasp().hash(&password)?)
}

fn report(out: &mut dyn Write, line: std::fmt::Arguments<'_>) -> Result<(), CliError> {
    writeln!(out, "{line}")
        .map_err(|e| CliError::Serve(format!("could not write to standard output: {e}")))
}

/// The Users table columns of a user and its password's format, never its password hash.
fn user_json(user: &User, password_format: &str) -> serde_json::Value {
    json!({
        "id": user.id,
        "email": user.email,
        "enabled": user.enabled,
        "confirmed_email": user.confirmed_email,
        "signed_up": rfc3339(user.signed_up),
        "last_login": user.last_login.map(rfc3339),
        "n_password_failures": user.n_password_failures,
        "password_format": password_format,
        "legacy_hash": matches!(password_format, "apr1-md5" | "sha1"),
    })
}

fn list_table(users: &[User], out: &mut dyn Write) -> Result<(), CliError> {
    let width = users
        .iter()
        .map(|u| u.email.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    report(
        out,
        format_args!(
            "{:>4}  {:<width$}  {:<7}  {:<9}  {:<20}  {:<20}  failures",
            "id", "email", "enabled", "confirmed", "signed_up", "last_login"
        ),
    )?;
    for user in users {
        let yes_no = |flag: bool| if flag { "yes" } else { "no" };
        report(
            out,
            format_args!(
                "{:>4}  {:<width$}  {:<7}  {:<9}  {:<20}  {:<20}  {}",
                user.id,
                user.email,
                yes_no(user.enabled),
                yes_no(user.confirmed_email),
                rfc3339(user.signed_up),
                user.last_login.map_or_else(|| "never".to_owned(), rfc3339),
                user.n_password_failures
            ),
        )?;
    }
    if users.is_empty() {
        report(out, format_args!("(no users)"))?;
    }
    Ok(())
}

/// The seed's demo user, created by `serve --demo` when missing.
pub const DEMO_EMAIL: &str = "user123@gmail.com";
/// The demo user's password.
pub const DEMO_PASSWORD: &str = "mySuperS3cretPassw0rd";

/// Makes sure the demo user exists; returns whether it was created.
pub async fn ensure_demo_user(store: &dyn UserAdmin) -> Result<bool, CliError> {
    match store.get_user(DEMO_EMAIL).await {
        Ok(_) => Ok(false),
        Err(endpoint_auth::admin::AdminError::UnknownUser(_)) => {
            let hash = HashPolicy::owasp().hash(DEMO_PASSWORD)?;
            let user = NewUser::new(DEMO_EMAIL, Some(hash)).signed_up(SystemTime::now());
            store.create_user(user).await?;
            Ok(true)
        }
        Err(other) => Err(other.into()),
    }
}

//! `endpoint-auth users …` and `endpoint-auth hash`.

use std::io::Write;
use std::time::SystemTime;

use endpoint_auth::{HashPolicy, NewUser, User, UserAdmin};
use serde_json::json;

use crate::args::{ImportFormat, PasswordSource, UsersCommand};
use crate::error::CliError;
use crate::import::{read_anvil_csv, read_htpasswd};
use crate::password::read_new_password;
use endpoint_auth_conformance::routes::rfc3339;

/// Runs one `users` subcommand against `store`, writing its report to `out`.
pub async fn run(
    store: &dyn UserAdmin,
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
                let listing = serde_json::Value::Array(users.iter().map(user_json).collect());
                report(out, format_args!("{listing:#}"))
            } else {
                list_table(&users, out)
            }
        }
        UsersCommand::Import { file, format } => {
            let name = file.display().to_string();
            let text = std::fs::read_to_string(&file).map_err(|source| CliError::Read {
                path: name.clone(),
                source,
            })?;
            let users = match format {
                ImportFormat::Htpasswd => read_htpasswd(&name, &text)?,
                ImportFormat::AnvilCsv => read_anvil_csv(&name, &text)?,
            };
            let count = store.import_users(users).await?;
            report(out, format_args!("imported {count} users from {name}"))
        }
    }
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

/// The Users table columns of a user, never its password hash.
fn user_json(user: &User) -> serde_json::Value {
    json!({
        "id": user.id,
        "email": user.email,
        "enabled": user.enabled,
        "confirmed_email": user.confirmed_email,
        "signed_up": rfc3339(user.signed_up),
        "last_login": user.last_login.map(rfc3339),
        "n_password_failures": user.n_password_failures,
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
        Err(endpoint_auth::AdminError::UnknownUser(_)) => {
            let hash = HashPolicy::owasp().hash(DEMO_PASSWORD)?;
            let user = NewUser::new(DEMO_EMAIL, Some(hash)).signed_up(SystemTime::now());
            store.create_user(user).await?;
            Ok(true)
        }
        Err(other) => Err(other.into()),
    }
}

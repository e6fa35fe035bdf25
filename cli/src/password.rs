//! Reading a password from a terminal prompt (without echo) or from standard input.

use std::io::BufRead;

use zeroize::Zeroizing;

use crate::args::PasswordSource;
use crate::error::CliError;

/// Reads a new password: from the first line of stdin with `--password-stdin`, otherwise from
/// the terminal, asked twice.
pub(crate) fn read_new_password(
    source: PasswordSource,
    prompt: &str,
) -> Result<Zeroizing<String>, CliError> {
    let password = if source.password_stdin {
        read_stdin_line()?
    } else {
        let first = prompt_hidden(&format!("{prompt}: "))?;
        let second = prompt_hidden("Repeat it: ")?;
        if *first != *second {
            return Err(CliError::Password("the two passwords differ".into()));
        }
        first
    };
    if password.is_empty() {
        return Err(CliError::Password("the password is empty".into()));
    }
    if password.chars().any(|c| c <= '\u{1f}' || c == '\u{7f}') {
        return Err(CliError::Password(
            "the password contains a control character, which HTTP Basic authentication cannot carry".into(),
        ));
    }
    Ok(password)
}

fn read_stdin_line() -> Result<Zeroizing<String>, CliError> {
    let mut line = Zeroizing::new(String::new());
    std::io::stdin().lock().read_line(&mut line).map_err(|e| {
        CliError::Password(format!(
            "could not read the password from standard input: {e}"
        ))
    })?;
    let trimmed = line.trim_end_matches(['\n', '\r']).len();
    line.truncate(trimmed);
    Ok(line)
}

fn prompt_hidden(prompt: &str) -> Result<Zeroizing<String>, CliError> {
    rpassword::prompt_password(prompt).map(Zeroizing::new).map_err(|e| {
        CliError::Password(format!(
            "could not prompt for a password ({e}); with no terminal, pass --password-stdin and pipe it in"
        ))
    })
}

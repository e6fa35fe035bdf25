//! Rows of the users table, and the hook through which an application reads its own columns
//! into its own user type.

use std::time::SystemTime;

use endpoint_auth::{User, UserRecord};
use sqlx::{ColumnIndex, Decode, Row, Type};

use crate::timestamp::DbTime;

/// A user type an application reads from the users table, with columns of its own.
///
/// The store always reads the standard columns (Anvil's: id, email, enabled, confirmed_email,
/// signed_up, last_login, n_password_failures, plus the password hash and last failure time the
/// core needs), builds the standard [`User`] from them, and hands it to
/// [`from_row`](Self::from_row) together with the row, from which the extra
/// [`COLUMNS`](Self::COLUMNS) can be read. [`User`] itself implements this trait and reads nothing
/// more.
///
/// The application adds its columns to the `users` table with its own migration (after the
/// store's: call [`SqlStore::migrate`](crate::SqlStore::migrate) first), and gets a store of its
/// type with [`SqlStore::with_user_type`](crate::SqlStore::with_user_type).
///
/// ```
/// use endpoint_auth::User;
/// use endpoint_auth_sql::{SqlUser, UserRow};
///
/// /// What the handlers of this application receive.
/// #[derive(Debug, Clone)]
/// struct Member {
///     user: User,
///     display_name: String,
///     plan: Option<String>,
/// }
///
/// impl SqlUser for Member {
///     const COLUMNS: &'static [&'static str] = &["display_name", "plan"];
///
///     fn from_row(user: User, row: &UserRow<'_>) -> Result<Self, endpoint_auth_sql::sqlx::Error> {
///         Ok(Member {
///             user,
///             display_name: row.try_get("display_name")?,
///             plan: row.try_get("plan")?,
///         })
///     }
/// }
/// ```
pub trait SqlUser: Clone + Send + Sync + 'static {
    /// The extra columns of the `users` table that [`from_row`](Self::from_row) reads.
    ///
    /// Each name is quoted as an SQL identifier, so write it exactly as the database has it
    /// (PostgreSQL folds unquoted names to lower case: write those in lower case).
    const COLUMNS: &'static [&'static str] = &[];

    /// Builds the value from the standard user and the row it was read from.
    ///
    /// # Errors
    /// A decoding error from [`UserRow::try_get`]; the store reports it as
    /// [`StoreError::InvalidData`](endpoint_auth::StoreError::InvalidData), which the core
    /// answers with 503.
    fn from_row(user: User, row: &UserRow<'_>) -> Result<Self, sqlx::Error>;
}

impl SqlUser for User {
    fn from_row(user: User, _row: &UserRow<'_>) -> Result<Self, sqlx::Error> {
        Ok(user)
    }
}

/// A value that can be read from a column of every enabled backend.
///
/// Implemented for every type that all enabled backends' sqlx drivers decode: `String`, `i64`,
/// `i32`, `bool`, `f64`, `Vec<u8>`, their `Option`s, and so on. (With both the `sqlite` and the
/// `postgres` feature on, a type only one driver knows, such as `u32` for SQLite, does not
/// qualify; read it as a common type and convert.)
#[cfg(all(feature = "sqlite", feature = "postgres"))]
pub trait ColumnValue:
    for<'r> Decode<'r, sqlx::Sqlite>
    + Type<sqlx::Sqlite>
    + for<'r> Decode<'r, sqlx::Postgres>
    + Type<sqlx::Postgres>
{
}

#[cfg(all(feature = "sqlite", feature = "postgres"))]
impl<T> ColumnValue for T where
    T: for<'r> Decode<'r, sqlx::Sqlite>
        + Type<sqlx::Sqlite>
        + for<'r> Decode<'r, sqlx::Postgres>
        + Type<sqlx::Postgres>
{
}

/// A value that can be read from a column of every enabled backend (here: SQLite).
#[cfg(all(feature = "sqlite", not(feature = "postgres")))]
pub trait ColumnValue: for<'r> Decode<'r, sqlx::Sqlite> + Type<sqlx::Sqlite> {}

#[cfg(all(feature = "sqlite", not(feature = "postgres")))]
impl<T> ColumnValue for T where T: for<'r> Decode<'r, sqlx::Sqlite> + Type<sqlx::Sqlite> {}

/// A value that can be read from a column of every enabled backend (here: PostgreSQL).
#[cfg(all(feature = "postgres", not(feature = "sqlite")))]
pub trait ColumnValue: for<'r> Decode<'r, sqlx::Postgres> + Type<sqlx::Postgres> {}

#[cfg(all(feature = "postgres", not(feature = "sqlite")))]
impl<T> ColumnValue for T where T: for<'r> Decode<'r, sqlx::Postgres> + Type<sqlx::Postgres> {}

/// One row of the `users` table, as [`SqlUser::from_row`] sees it.
pub struct UserRow<'r> {
    inner: RowRef<'r>,
}

impl std::fmt::Debug for UserRow<'_> {
    /// The backend only: a row holds the password hash.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend = match self.inner {
            #[cfg(feature = "sqlite")]
            RowRef::Sqlite(_) => crate::Backend::Sqlite,
            #[cfg(feature = "postgres")]
            RowRef::Postgres(_) => crate::Backend::Postgres,
        };
        f.debug_struct("UserRow")
            .field("backend", &backend)
            .finish_non_exhaustive()
    }
}

enum RowRef<'r> {
    #[cfg(feature = "sqlite")]
    Sqlite(&'r sqlx::sqlite::SqliteRow),
    #[cfg(feature = "postgres")]
    Postgres(&'r sqlx::postgres::PgRow),
}

impl UserRow<'_> {
    /// The value of `column`, decoded as `T`.
    ///
    /// # Errors
    /// [`sqlx::Error::ColumnNotFound`] when the row has no such column (is it listed in
    /// [`SqlUser::COLUMNS`]?), [`sqlx::Error::ColumnDecode`] when the value is not a `T` (a `NULL`
    /// needs an `Option<T>`).
    pub fn try_get<T: ColumnValue>(&self, column: &str) -> Result<T, sqlx::Error> {
        match self.inner {
            #[cfg(feature = "sqlite")]
            RowRef::Sqlite(row) => row.try_get(column),
            #[cfg(feature = "postgres")]
            RowRef::Postgres(row) => row.try_get(column),
        }
    }

    /// The underlying SQLite row, for types only SQLite decodes.
    #[cfg(feature = "sqlite")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
    pub fn as_sqlite(&self) -> Option<&sqlx::sqlite::SqliteRow> {
        match self.inner {
            RowRef::Sqlite(row) => Some(row),
            #[cfg(feature = "postgres")]
            RowRef::Postgres(_) => None,
        }
    }

    /// The underlying PostgreSQL row, for types only PostgreSQL decodes.
    #[cfg(feature = "postgres")]
    #[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
    pub fn as_postgres(&self) -> Option<&sqlx::postgres::PgRow> {
        match self.inner {
            RowRef::Postgres(row) => Some(row),
            #[cfg(feature = "sqlite")]
            RowRef::Sqlite(_) => None,
        }
    }
}

#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
impl<'r> From<&'r sqlx::sqlite::SqliteRow> for UserRow<'r> {
    fn from(row: &'r sqlx::sqlite::SqliteRow) -> Self {
        Self {
            inner: RowRef::Sqlite(row),
        }
    }
}

#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
impl<'r> From<&'r sqlx::postgres::PgRow> for UserRow<'r> {
    fn from(row: &'r sqlx::postgres::PgRow) -> Self {
        Self {
            inner: RowRef::Postgres(row),
        }
    }
}

/// The standard columns, in the order every query selects them.
pub(crate) const BASE_COLUMNS: &str = "id, email, password_hash, enabled, confirmed_email, \
     signed_up, last_login, n_password_failures, last_password_failure";

/// The select list for `U`: the standard columns, then `U`'s own, quoted and qualified with the
/// table. Qualified, because SQLite reads an unqualified double-quoted name it does not know as a
/// string literal: a pooled connection whose schema predates the application's `ALTER TABLE`
/// prepared the column as that literal, and the lookup failed ("no column found") with a 503. A
/// qualified unknown name is an error instead, on which SQLite reloads the schema and prepares
/// again.
pub(crate) fn select_list<U: SqlUser>() -> String {
    let mut list = BASE_COLUMNS.to_owned();
    for column in U::COLUMNS {
        list.push_str(", users.\"");
        list.push_str(&column.replace('"', "\"\""));
        list.push('"');
    }
    list
}

/// The standard columns of a row.
pub(crate) struct BaseRow {
    pub(crate) user: User,
    pub(crate) password_hash: Option<String>,
    pub(crate) last_failure: Option<SystemTime>,
}

/// Reads the standard columns of any backend's row.
pub(crate) fn read_base<'r, R>(row: &'r R) -> Result<BaseRow, sqlx::Error>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    DbTime: Decode<'r, R::Database> + Type<R::Database>,
{
    let signed_up: DbTime = row.try_get("signed_up")?;
    let mut user = User::new(
        row.try_get("id")?,
        row.try_get::<String, _>("email")?,
        signed_up.0,
    );
    user.enabled = row.try_get("enabled")?;
    user.confirmed_email = row.try_get("confirmed_email")?;
    user.last_login = row.try_get::<Option<DbTime>, _>("last_login")?.map(|t| t.0);
    let failures: i64 = row.try_get("n_password_failures")?;
    user.n_password_failures = u32::try_from(failures.max(0)).unwrap_or(u32::MAX);
    Ok(BaseRow {
        user,
        password_hash: row.try_get("password_hash")?,
        last_failure: row
            .try_get::<Option<DbTime>, _>("last_password_failure")?
            .map(|t| t.0),
    })
}

/// The record the core decides on, with the application's user value.
pub(crate) fn read_record<'r, U, R>(row: &'r R) -> Result<UserRecord<U>, sqlx::Error>
where
    U: SqlUser,
    R: Row,
    &'r R: Into<UserRow<'r>>,
    &'static str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    DbTime: Decode<'r, R::Database> + Type<R::Database>,
{
    let base = read_base(row)?;
    let user = U::from_row(base.user.clone(), &row.into())?;
    Ok(UserRecord {
        login: base.user.email,
        password_hash: base.password_hash,
        enabled: base.user.enabled,
        confirmed_email: base.user.confirmed_email,
        n_password_failures: base.user.n_password_failures,
        last_failure: base.last_failure,
        last_login: base.user.last_login,
        user,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone)]
    struct Odd;

    impl SqlUser for Odd {
        const COLUMNS: &'static [&'static str] = &["plan", "we\"ird"];
        fn from_row(_: User, _: &UserRow<'_>) -> Result<Self, sqlx::Error> {
            Ok(Odd)
        }
    }

    #[test]
    fn extra_columns_are_quoted_identifiers() {
        assert_eq!(select_list::<User>(), BASE_COLUMNS);
        assert_eq!(
            select_list::<Odd>(),
            format!("{BASE_COLUMNS}, users.\"plan\", users.\"we\"\"ird\"")
        );
    }
}

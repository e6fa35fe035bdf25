//! An axum service over `SqlStore` (SQLite) whose handlers receive the application's own user
//! type: `Member`, the standard user plus a `display_name` column that the application adds to
//! the `users` table with a migration of its own and reads through `SqlUser`.
//!
//! - `GET /protected` (authenticate_users): "Hello, <display name>! You log in as <email>."
//!
//! ```sh
//! cargo run -p endpoint-auth-axum --example sql_custom_user
//! curl -u user123@gmail.com:mySuperS3cretPassw0rd http://127.0.0.1:8080/protected
//! # Hello, Alex Example! You log in as user123@gmail.com.
//! ```
//!
//! `DATABASE_URL` picks the database (default `sqlite::memory:`; e.g. `sqlite://members.db` to
//! keep it). Listens on 127.0.0.1 at `PORT` (default 8080). Plain HTTP, for trying it out: Basic
//! authentication sends the password in clear, so serve it over HTTPS anywhere else.

use std::net::SocketAddr;

use axum::routing::get;
use axum::Router;
use endpoint_auth_axum::endpoint_auth::{
    admin::AdminError, store::login_key, Authenticator, HashPolicy, NewUser, User, UserAdmin,
};
use endpoint_auth_axum::AuthUser;
use endpoint_auth_sql::{sqlx, SqlStore, SqlUser, UserRow};

pub(crate) const EMAIL: &str = "user123@gmail.com";
pub(crate) const PASSWORD: &str = "mySuperS3cretPassw0rd";
pub(crate) const DISPLAY_NAME: &str = "Alex Example";

/// What the handlers of this application receive: the standard user (email, sign-up date, …)
/// and the application's own column.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub(crate) user: User,
    pub(crate) display_name: String,
}

impl SqlUser for Member {
    const COLUMNS: &'static [&'static str] = &["display_name"];

    fn from_row(user: User, row: &UserRow<'_>) -> Result<Self, sqlx::Error> {
        Ok(Member {
            user,
            display_name: row.try_get("display_name")?,
        })
    }
}

/// `GET /protected`: greets the member by name.
async fn protected(AuthUser(member): AuthUser<Member>) -> String {
    format!(
        "Hello, {}! You log in as {}.",
        member.display_name, member.user.email
    )
}

/// The application's own migration, after the store's: adds `display_name` where missing.
async fn migrate(store: &SqlStore) -> Result<(), Box<dyn std::error::Error>> {
    store.migrate().await?;
    let pool = store.pool();
    let pool = pool.as_sqlite().ok_or("this example is for SQLite")?;
    let present: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM pragma_table_info('users') WHERE name = 'display_name'",
    )
    .fetch_one(pool)
    .await?;
    if present == 0 {
        sqlx::query("ALTER TABLE users ADD COLUMN display_name TEXT NOT NULL DEFAULT ''")
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// The application over the database at `url`, with the seed member in it.
pub(crate) async fn app(url: &str) -> Result<Router, Box<dyn std::error::Error>> {
    let store = SqlStore::connect(url).await?;
    migrate(&store).await?;

    // Administration (create, passwords, …) stays on the standard store.
    let policy = HashPolicy::owasp();
    match store
        .create_user(NewUser::new(EMAIL, Some(policy.hash(PASSWORD)?)))
        .await
    {
        Ok(_) | Err(AdminError::DuplicateUser(_)) => {}
        Err(error) => return Err(error.into()),
    }
    let pool = store.pool();
    let pool = pool.as_sqlite().ok_or("this example is for SQLite")?;
    sqlx::query("UPDATE users SET display_name = ?1 WHERE email_key = ?2")
        .bind(DISPLAY_NAME)
        .bind(login_key(EMAIL))
        .execute(pool)
        .await?;

    // The same table, read as `Member`s.
    let members: SqlStore<Member> = store.with_user_type();
    let authenticator = Authenticator::builder(members)
        .realm("members")
        .hash_policy(policy)
        .build()?;
    Ok(Router::new()
        .route("/protected", get(protected))
        .with_state(authenticator))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite::memory:".to_owned());
    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port.parse()?,
        Err(_) => 8080,
    };
    let app = app(&url).await?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    println!(
        "try: curl -u {EMAIL}:{PASSWORD} http://{}/protected",
        listener.local_addr()?
    );
    // The socket peer in each request, for fair admission per client.
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

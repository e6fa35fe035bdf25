-- The users table, after Anvil's Users table.
--
-- email_key is email.trim().to_lowercase(), computed by the store in Rust: SQLite's lower() only
-- folds ASCII, so a UNIQUE index on lower(email) would let `ÉVA@x` and `éva@x` coexist.
-- Timestamps are RFC 3339 UTC text with microseconds, e.g. 2024-05-01T12:34:56.789012Z.
CREATE TABLE users (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    email                 TEXT    NOT NULL,
    email_key             TEXT    NOT NULL,
    password_hash         TEXT,
    enabled               BOOLEAN NOT NULL DEFAULT TRUE CHECK (enabled IN (0, 1)),
    confirmed_email       BOOLEAN NOT NULL DEFAULT FALSE CHECK (confirmed_email IN (0, 1)),
    signed_up             TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_login            TEXT,
    n_password_failures   INTEGER NOT NULL DEFAULT 0
                                  CHECK (n_password_failures BETWEEN 0 AND 4294967295),
    last_password_failure TEXT
);

CREATE UNIQUE INDEX users_email_key ON users (email_key);

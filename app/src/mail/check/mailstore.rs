//! Mailbox storage shared by the console, Postfix and Dovecot.
//!
//! Postfix and Dovecot read these tables directly (lookup files and
//! `dovecot-sql.conf.ext` from [`crate::mail::check::serverconf`]), so adding a mailbox
//! in the console takes effect without reloading either daemon. Three
//! tables, identical in SQLite and PostgreSQL apart from types:
//!
//! - `mail_domain(name, active)`: domains this server receives mail for;
//! - `mailbox(address, domain, password, quota_bytes, active, maildir)`:
//!   `password` is a Dovecot scheme-prefixed hash (see
//!   [`crate::mail::check::password`]), `quota_bytes` 0 means no limit, `maildir` is
//!   relative to the mail root (`example.org/alice/`);
//! - `mail_alias(source, destination, active)`: `source` may be
//!   `@example.org` for a catch-all; one row per destination.
//!
//! Names and addresses are stored in lower case (the schema enforces it)
//! because both daemons look up lower-cased keys. With SQLite, foreign
//! keys are only enforced when the writer runs `PRAGMA foreign_keys = ON`
//! on its connection.
//!
//! Stackyard's own database gets these tables from migration
//! `m20261124_000006_mail` (the same columns, plus timestamps, check
//! settings on `mail_domain`, an `id` and `domain` on `mail_alias`, and the
//! DKIM keys); the DDL below is for a separate mail database.
//!
//! The row types validate before anything reaches SQL, and the insert
//! statements are parameterised, so no value is ever spliced into SQL text.

use crate::dns::zone::Name;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Which SQL the statements are written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqlDialect {
    Sqlite,
    Postgres,
}

/// DDL for SQLite (3.23 or later).
pub const SQLITE_SCHEMA: &str = r#"-- Stackyard mail storage (SQLite). Read by Postfix and Dovecot.
CREATE TABLE IF NOT EXISTS mail_domain (
    name   TEXT    NOT NULL PRIMARY KEY CHECK (name <> '' AND name = lower(name)),
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);

CREATE TABLE IF NOT EXISTS mailbox (
    address     TEXT    NOT NULL PRIMARY KEY CHECK (address = lower(address)),
    domain      TEXT    NOT NULL REFERENCES mail_domain (name)
                        ON UPDATE CASCADE ON DELETE CASCADE,
    -- Dovecot scheme-prefixed hash, e.g. {ARGON2ID}$argon2id$v=19$...
    password    TEXT    NOT NULL CHECK (password LIKE '{%}%'),
    -- 0 = no limit
    quota_bytes INTEGER NOT NULL DEFAULT 0 CHECK (quota_bytes >= 0),
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    -- relative to the mail root, e.g. example.org/alice/
    maildir     TEXT    NOT NULL UNIQUE CHECK (maildir LIKE '%/'),
    CHECK (substr(address, -(length(domain) + 1)) = '@' || domain)
);
CREATE INDEX IF NOT EXISTS mailbox_domain_idx ON mailbox (domain);

CREATE TABLE IF NOT EXISTS mail_alias (
    -- user@example.org, or @example.org for a catch-all
    source      TEXT    NOT NULL CHECK (source = lower(source) AND source LIKE '%@_%'),
    destination TEXT    NOT NULL CHECK (destination LIKE '%_@_%'),
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    PRIMARY KEY (source, destination)
);
"#;

/// DDL for PostgreSQL.
pub const POSTGRES_SCHEMA: &str = r#"-- Stackyard mail storage (PostgreSQL). Read by Postfix and Dovecot.
CREATE TABLE IF NOT EXISTS mail_domain (
    name   TEXT    NOT NULL PRIMARY KEY CHECK (name <> '' AND name = lower(name)),
    active BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE IF NOT EXISTS mailbox (
    address     TEXT    NOT NULL PRIMARY KEY CHECK (address = lower(address)),
    domain      TEXT    NOT NULL REFERENCES mail_domain (name)
                        ON UPDATE CASCADE ON DELETE CASCADE,
    -- Dovecot scheme-prefixed hash, e.g. {ARGON2ID}$argon2id$v=19$...
    password    TEXT    NOT NULL CHECK (password LIKE '{%}%'),
    -- 0 = no limit
    quota_bytes BIGINT  NOT NULL DEFAULT 0 CHECK (quota_bytes >= 0),
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    -- relative to the mail root, e.g. example.org/alice/
    maildir     TEXT    NOT NULL UNIQUE CHECK (maildir LIKE '%/'),
    CHECK (right(address, length(domain) + 1) = '@' || domain)
);
CREATE INDEX IF NOT EXISTS mailbox_domain_idx ON mailbox (domain);

CREATE TABLE IF NOT EXISTS mail_alias (
    -- user@example.org, or @example.org for a catch-all
    source      TEXT    NOT NULL CHECK (source = lower(source) AND source LIKE '%@_%'),
    destination TEXT    NOT NULL CHECK (destination LIKE '%_@_%'),
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY (source, destination)
);
"#;

impl SqlDialect {
    pub fn schema(self) -> &'static str {
        match self {
            SqlDialect::Sqlite => SQLITE_SCHEMA,
            SqlDialect::Postgres => POSTGRES_SCHEMA,
        }
    }

    /// The literal for "true" in queries on `active`: SQLite stores 0/1.
    pub fn true_literal(self) -> &'static str {
        match self {
            SqlDialect::Sqlite => "1",
            SqlDialect::Postgres => "TRUE",
        }
    }

    fn params(self, n: usize) -> String {
        let p: Vec<String> = (1..=n)
            .map(|i| match self {
                SqlDialect::Sqlite => format!("?{i}"),
                SqlDialect::Postgres => format!("${i}"),
            })
            .collect();
        p.join(", ")
    }

    /// Parameters: name, active.
    pub fn insert_domain_sql(self) -> String {
        format!(
            "INSERT INTO mail_domain (name, active) VALUES ({})",
            self.params(2)
        )
    }

    /// Parameters: address, domain, password, quota_bytes, active, maildir.
    pub fn insert_mailbox_sql(self) -> String {
        format!(
            "INSERT INTO mailbox (address, domain, password, quota_bytes, active, maildir) \
             VALUES ({})",
            self.params(6)
        )
    }

    /// Parameters: source, destination, active.
    pub fn insert_alias_sql(self) -> String {
        format!(
            "INSERT INTO mail_alias (source, destination, active) VALUES ({})",
            self.params(3)
        )
    }

    /// Parameters: password, address. For password changes.
    pub fn update_password_sql(self) -> String {
        let p = |i| match self {
            SqlDialect::Sqlite => format!("?{i}"),
            SqlDialect::Postgres => format!("${i}"),
        };
        format!(
            "UPDATE mailbox SET password = {} WHERE address = {}",
            p(1),
            p(2)
        )
    }
}

/// Why a row was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailstoreError {
    #[error("\"{domain}\" is not a valid mail domain: {reason}")]
    BadDomain { domain: String, reason: String },
    #[error("\"{address}\" is not a valid mail address: {reason}")]
    BadAddress { address: String, reason: String },
    /// Not a Dovecot `{SCHEME}...` string.
    #[error(
        "the password must be stored as a Dovecot scheme-prefixed hash such as \
         {{ARGON2ID}}$argon2id$...; hash it with password::hash_password"
    )]
    BadPasswordHash,
    #[error("a quota of {0} bytes does not fit a signed 64-bit column")]
    QuotaTooLarge(u64),
}

/// Checks a mail domain, a host name of two labels or more
/// ([`Name::host`]), and returns it in lower case without a trailing dot,
/// as addresses and the mail tables write it.
pub fn valid_domain(domain: &str) -> Result<String, MailstoreError> {
    Name::host(domain, 2)
        .map(|name| name.without_dot().to_string())
        .map_err(|e| MailstoreError::BadDomain {
            domain: domain.to_string(),
            reason: e.to_string(),
        })
}

/// Checks a local part. Deliberately narrower than RFC 5321 (letters,
/// digits, `.`, `_`, `+`, `-`): the local part becomes a directory name
/// in the maildir path, so `/` and friends must never get in.
fn valid_local(address: &str, local: &str) -> Result<(), MailstoreError> {
    let bad = |reason: &str| MailstoreError::BadAddress {
        address: address.to_string(),
        reason: reason.to_string(),
    };
    if local.is_empty() || local.len() > 64 {
        return Err(bad("the part before @ must have 1 to 64 characters"));
    }
    if !local
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-'))
    {
        return Err(bad(
            "the part before @ may contain only letters, digits, '.', '_', '+' and '-'",
        ));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(bad("dots cannot start, end or repeat in the part before @"));
    }
    Ok(())
}

/// Checks `local@domain` and returns it in lower case with its domain.
pub fn valid_address(address: &str) -> Result<(String, String), MailstoreError> {
    let a = address.trim().to_ascii_lowercase();
    let Some((local, domain)) = a.rsplit_once('@') else {
        return Err(MailstoreError::BadAddress {
            address: address.to_string(),
            reason: "it has no @".to_string(),
        });
    };
    valid_local(address, local)?;
    let domain = valid_domain(domain)?;
    Ok((format!("{local}@{domain}"), domain))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailDomain {
    pub name: String,
    pub active: bool,
}

impl MailDomain {
    pub fn new(name: &str) -> Result<Self, MailstoreError> {
        Ok(Self {
            name: valid_domain(name)?,
            active: true,
        })
    }
}

/// A mailbox row. Not `Serialize`: the hash must not leak into API
/// responses by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub address: String,
    pub domain: String,
    /// Dovecot scheme-prefixed hash.
    pub password: String,
    /// 0 = no limit.
    pub quota_bytes: u64,
    pub active: bool,
    /// `domain/local/`, relative to the mail root.
    pub maildir: String,
}

impl fmt::Debug for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailbox")
            .field("address", &self.address)
            .field("quota_bytes", &self.quota_bytes)
            .field("active", &self.active)
            .field("maildir", &self.maildir)
            .field("password", &"<hash>")
            .finish()
    }
}

impl Mailbox {
    /// `password_hash` comes from [`crate::mail::check::password::hash_password`].
    pub fn new(
        address: &str,
        password_hash: &str,
        quota_bytes: u64,
    ) -> Result<Self, MailstoreError> {
        let (address, domain) = valid_address(address)?;
        let scheme_prefixed = password_hash.starts_with('{')
            && password_hash
                .find('}')
                .is_some_and(|end| end > 1 && end + 1 < password_hash.len());
        if !scheme_prefixed {
            return Err(MailstoreError::BadPasswordHash);
        }
        if i64::try_from(quota_bytes).is_err() {
            return Err(MailstoreError::QuotaTooLarge(quota_bytes));
        }
        let local = address.split('@').next().unwrap_or_default().to_string();
        Ok(Self {
            maildir: format!("{domain}/{local}/"),
            address,
            domain,
            password: password_hash.to_string(),
            quota_bytes,
            active: true,
        })
    }

    /// `quota_bytes` as stored (the constructor guarantees it fits).
    pub fn quota_i64(&self) -> i64 {
        i64::try_from(self.quota_bytes).unwrap_or(i64::MAX)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailAlias {
    pub source: String,
    pub destination: String,
    pub active: bool,
}

impl MailAlias {
    /// `source` is `local@domain` or `@domain` (catch-all); `destination`
    /// any address, local or remote.
    pub fn new(source: &str, destination: &str) -> Result<Self, MailstoreError> {
        let source = match source.trim().strip_prefix('@') {
            Some(domain) => format!("@{}", valid_domain(domain)?),
            None => valid_address(source)?.0,
        };
        let destination = valid_address(destination)?.0;
        Ok(Self {
            source,
            destination,
            active: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_validated_and_lowercased() {
        let mb = Mailbox::new("Alice@Example.TEST", "{ARGON2ID}$argon2id$x", 1 << 30).unwrap();
        assert_eq!(mb.address, "alice@example.test");
        assert_eq!(mb.domain, "example.test");
        assert_eq!(mb.maildir, "example.test/alice/");
        assert!(!format!("{mb:?}").contains("argon2id"));
        assert_eq!(
            Mailbox::new("../etc@example.test", "{PLAIN}x", 0)
                .unwrap_err()
                .to_string(),
            "\"../etc@example.test\" is not a valid mail address: the part before @ may \
             contain only letters, digits, '.', '_', '+' and '-'"
        );
        assert_eq!(
            Mailbox::new("a@example.test", "plaintext", 0),
            Err(MailstoreError::BadPasswordHash)
        );
        assert_eq!(
            Mailbox::new("a@example.test", "{PLAIN}x", u64::MAX),
            Err(MailstoreError::QuotaTooLarge(u64::MAX))
        );
        assert!(matches!(
            MailDomain::new("-bad.example"),
            Err(MailstoreError::BadDomain { .. })
        ));
        assert!(MailDomain::new("localhost").is_err());
        let catch_all = MailAlias::new("@Example.test", "Bob@Elsewhere.example").unwrap();
        assert_eq!(catch_all.source, "@example.test");
        assert_eq!(catch_all.destination, "bob@elsewhere.example");
    }

    #[test]
    fn statements_use_each_dialects_placeholders() {
        assert_eq!(
            SqlDialect::Sqlite.insert_alias_sql(),
            "INSERT INTO mail_alias (source, destination, active) VALUES (?1, ?2, ?3)"
        );
        assert_eq!(
            SqlDialect::Postgres.insert_domain_sql(),
            "INSERT INTO mail_domain (name, active) VALUES ($1, $2)"
        );
        assert!(SqlDialect::Postgres.schema().contains("BOOLEAN"));
        assert!(SqlDialect::Sqlite.schema().contains("substr(address"));
    }
}

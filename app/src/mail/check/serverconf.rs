//! Postfix lookup tables and Dovecot's SQL configuration for the tables of
//! [`crate::mail::check::mailstore`].
//!
//! - [`postfix_maps`] writes the three `sqlite:`/`pgsql:` table files for
//!   `virtual_mailbox_domains`, `virtual_mailbox_maps` and
//!   `virtual_alias_maps` (`dbpath =`/`hosts =` … and `query =`);
//! - [`dovecot_sql_conf`] writes `dovecot-sql.conf.ext` (driver, connect,
//!   `default_pass_scheme = ARGON2ID`, password, user and iterate queries).
//!
//! The queries quote `%s`/`%u` themselves; both daemons escape the
//! substituted value for SQL, which is why they appear inside `'…'`.
//! Inactive mailboxes, aliases and domains are invisible to both, so
//! deactivating a row in the console disables it at once.
//!
//! The files may contain the database password: install them readable by
//! root and the daemon's group only (`0640 root:postfix`, `0640
//! root:dovecot`).

use std::fmt;
use std::path::PathBuf;

use crate::mail::check::mailstore::SqlDialect;

/// Where the mail tables live.
#[derive(Clone, PartialEq, Eq)]
pub enum SqlBackend {
    /// An absolute path to the database file (readable by the `postfix`
    /// and `dovecot` users; Postfix's `proxy:` is not needed for SQLite).
    Sqlite {
        path: PathBuf,
    },
    Postgres(PgConnection),
}

impl fmt::Debug for SqlBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqlBackend::Sqlite { path } => f.debug_struct("Sqlite").field("path", path).finish(),
            SqlBackend::Postgres(pg) => f.debug_tuple("Postgres").field(pg).finish(),
        }
    }
}

/// PostgreSQL connection settings for a read-only role.
#[derive(Clone, PartialEq, Eq)]
pub struct PgConnection {
    pub host: String,
    pub port: Option<u16>,
    pub dbname: String,
    pub user: String,
    pub password: String,
}

impl fmt::Debug for PgConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgConnection")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("dbname", &self.dbname)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl SqlBackend {
    pub fn dialect(&self) -> SqlDialect {
        match self {
            SqlBackend::Sqlite { .. } => SqlDialect::Sqlite,
            SqlBackend::Postgres(_) => SqlDialect::Postgres,
        }
    }
}

/// A value that cannot be written into a configuration file safely.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ServerConfError(pub String);

/// Both file formats are line-based: a newline would start a new setting
/// that an attacker controls; `#` would cut the value short.
fn config_value(what: &str, value: &str) -> Result<String, ServerConfError> {
    if value.is_empty() {
        return Err(ServerConfError(format!("{what} is empty")));
    }
    if value.chars().any(|c| c.is_control() || c == '#') {
        return Err(ServerConfError(format!(
            "{what} contains a control character or '#', which the configuration file \
             cannot hold"
        )));
    }
    if value.trim() != value {
        return Err(ServerConfError(format!(
            "{what} has leading or trailing spaces, which the daemons would strip"
        )));
    }
    Ok(value.to_string())
}

/// Postfix's table files, ready to write.
#[derive(Clone, PartialEq, Eq)]
pub struct PostfixMaps {
    /// `sqlite` or `pgsql`: the table type in `main.cf`.
    pub table_type: &'static str,
    pub virtual_mailbox_domains: String,
    pub virtual_mailbox_maps: String,
    pub virtual_alias_maps: String,
}

impl fmt::Debug for PostfixMaps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostfixMaps")
            .field("table_type", &self.table_type)
            .finish_non_exhaustive()
    }
}

impl PostfixMaps {
    /// `(file name, contents)` for each table.
    pub fn files(&self) -> [(&'static str, &str); 3] {
        [
            ("virtual_mailbox_domains.cf", &self.virtual_mailbox_domains),
            ("virtual_mailbox_maps.cf", &self.virtual_mailbox_maps),
            ("virtual_alias_maps.cf", &self.virtual_alias_maps),
        ]
    }

    /// The `main.cf` lines that use the files once written to `dir`.
    pub fn main_cf(&self, dir: &str) -> String {
        let dir = dir.trim_end_matches('/');
        self.files()
            .iter()
            .map(|(file, _)| {
                let param = file.trim_end_matches(".cf");
                format!("{param} = {}:{dir}/{file}\n", self.table_type)
            })
            .collect()
    }
}

/// Connection lines of a Postfix table file.
fn postfix_connection(backend: &SqlBackend) -> Result<String, ServerConfError> {
    match backend {
        SqlBackend::Sqlite { path } => {
            if !path.is_absolute() {
                return Err(ServerConfError(
                    "the SQLite path must be absolute: Postfix daemons run in their own \
                     directory (or chroot)"
                        .to_string(),
                ));
            }
            let p = config_value("the SQLite path", &path.to_string_lossy())?;
            Ok(format!("dbpath = {p}\n"))
        }
        SqlBackend::Postgres(pg) => {
            let host = config_value("the PostgreSQL host", &pg.host)?;
            let host = match pg.port {
                Some(port) if host.contains(':') && !host.starts_with('[') => {
                    format!("inet:[{host}]:{port}")
                }
                Some(port) => format!("inet:{host}:{port}"),
                None => host,
            };
            Ok(format!(
                "hosts = {host}\nuser = {}\npassword = {}\ndbname = {}\n",
                config_value("the PostgreSQL user", &pg.user)?,
                config_value("the PostgreSQL password", &pg.password)?,
                config_value("the PostgreSQL database", &pg.dbname)?,
            ))
        }
    }
}

/// The three Postfix table files for `backend`.
pub fn postfix_maps(backend: &SqlBackend) -> Result<PostfixMaps, ServerConfError> {
    let connection = postfix_connection(backend)?;
    let t = backend.dialect().true_literal();
    let active_domain = format!("domain IN (SELECT name FROM mail_domain WHERE active = {t})");
    let header = "# Generated by Stackyard; edits are overwritten.\n";
    let file =
        |what: &str, query: String| format!("{header}# {what}\n{connection}query = {query}\n");
    Ok(PostfixMaps {
        table_type: match backend {
            SqlBackend::Sqlite { .. } => "sqlite",
            SqlBackend::Postgres(_) => "pgsql",
        },
        virtual_mailbox_domains: file(
            "virtual_mailbox_domains: domains with mailboxes on this server",
            format!("SELECT name FROM mail_domain WHERE name = '%s' AND active = {t}"),
        ),
        virtual_mailbox_maps: file(
            "virtual_mailbox_maps: existing mailboxes (result: maildir under virtual_mailbox_base)",
            format!(
                "SELECT maildir FROM mailbox WHERE address = '%s' AND active = {t} AND \
                 {active_domain}"
            ),
        ),
        // The second half maps every mailbox to itself: without it a
        // catch-all alias (@domain) would swallow mail for real mailboxes,
        // since Postfix applies virtual_alias_maps first.
        virtual_alias_maps: file(
            "virtual_alias_maps: aliases (one row per destination; @domain is a catch-all)",
            format!(
                "SELECT destination FROM mail_alias WHERE source = '%s' AND active = {t} \
                 UNION SELECT address FROM mailbox WHERE address = '%s' AND active = {t} AND \
                 {active_domain}"
            ),
        ),
    })
}

/// Where Dovecot keeps mail and as whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DovecotMailSettings {
    /// Root of all maildirs; `mailbox.maildir` is relative to it. Use the
    /// same directory as Postfix's `virtual_mailbox_base`.
    pub mail_root: String,
    pub uid: u32,
    pub gid: u32,
}

impl Default for DovecotMailSettings {
    fn default() -> Self {
        Self {
            mail_root: "/var/vmail".to_string(),
            uid: 5000,
            gid: 5000,
        }
    }
}

/// Quotes a value for Dovecot's `connect =` string when needed.
fn connect_value(what: &str, value: &str) -> Result<String, ServerConfError> {
    let v = config_value(what, value)?;
    if v.contains(['"', '\\']) {
        return Err(ServerConfError(format!(
            "{what} contains a quote or backslash; choose one without for the Dovecot connect \
             string"
        )));
    }
    Ok(if v.contains(' ') {
        format!("\"{v}\"")
    } else {
        v
    })
}

/// `dovecot-sql.conf.ext` for `backend`.
///
/// Logins are looked up lower-cased (`%Lu`) because addresses are stored
/// lower-cased. The quota rule uses the `quota_bytes` column (Dovecot
/// treats a limit of 0 as "no limit"); it needs the quota plugin enabled
/// in Dovecot to have any effect.
pub fn dovecot_sql_conf(
    backend: &SqlBackend,
    mail: &DovecotMailSettings,
) -> Result<String, ServerConfError> {
    let (driver, connect) = match backend {
        SqlBackend::Sqlite { path } => {
            if !path.is_absolute() {
                return Err(ServerConfError(
                    "the SQLite path must be absolute".to_string(),
                ));
            }
            (
                "sqlite",
                config_value("the SQLite path", &path.to_string_lossy())?,
            )
        }
        SqlBackend::Postgres(pg) => {
            let mut parts = vec![format!(
                "host={}",
                connect_value("the PostgreSQL host", &pg.host)?
            )];
            if let Some(port) = pg.port {
                parts.push(format!("port={port}"));
            }
            parts.push(format!(
                "dbname={}",
                connect_value("the PostgreSQL database", &pg.dbname)?
            ));
            parts.push(format!(
                "user={}",
                connect_value("the PostgreSQL user", &pg.user)?
            ));
            parts.push(format!(
                "password={}",
                connect_value("the PostgreSQL password", &pg.password)?
            ));
            ("pgsql", parts.join(" "))
        }
    };
    let root = config_value("the mail root", mail.mail_root.trim_end_matches('/'))?;
    if !root.starts_with('/') || root.contains('\'') {
        return Err(ServerConfError(
            "the mail root must be an absolute path without quotes".to_string(),
        ));
    }
    let t = backend.dialect().true_literal();
    let active =
        format!("active = {t} AND domain IN (SELECT name FROM mail_domain WHERE active = {t})");
    let (uid, gid) = (mail.uid, mail.gid);
    Ok(format!(
        "# Generated by Stackyard; edits are overwritten.\n\
         driver = {driver}\n\
         connect = {connect}\n\
         default_pass_scheme = ARGON2ID\n\
         \n\
         password_query = SELECT address AS user, password FROM mailbox \
         WHERE address = '%Lu' AND {active}\n\
         \n\
         user_query = SELECT '{root}/' || maildir AS home, 'maildir:{root}/' || maildir AS mail, \
         {uid} AS uid, {gid} AS gid, '*:bytes=' || quota_bytes AS quota_rule FROM mailbox \
         WHERE address = '%Lu' AND {active}\n\
         \n\
         iterate_query = SELECT address AS user FROM mailbox WHERE {active}\n"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite() -> SqlBackend {
        SqlBackend::Sqlite {
            path: PathBuf::from("/var/lib/stackyard/mail.sqlite"),
        }
    }

    fn pg() -> PgConnection {
        PgConnection {
            host: "127.0.0.1".to_string(),
            port: Some(5432),
            dbname: "mail".to_string(),
            user: "mailreader".to_string(),
            password: "s3cret pass".to_string(),
        }
    }

    #[test]
    fn postfix_sqlite_files() {
        let maps = postfix_maps(&sqlite()).unwrap();
        assert_eq!(
            maps.virtual_mailbox_maps,
            "# Generated by Stackyard; edits are overwritten.\n\
             # virtual_mailbox_maps: existing mailboxes (result: maildir under virtual_mailbox_base)\n\
             dbpath = /var/lib/stackyard/mail.sqlite\n\
             query = SELECT maildir FROM mailbox WHERE address = '%s' AND active = 1 AND domain \
             IN (SELECT name FROM mail_domain WHERE active = 1)\n"
        );
        assert_eq!(
            maps.main_cf("/etc/postfix/sql/"),
            "virtual_mailbox_domains = sqlite:/etc/postfix/sql/virtual_mailbox_domains.cf\n\
             virtual_mailbox_maps = sqlite:/etc/postfix/sql/virtual_mailbox_maps.cf\n\
             virtual_alias_maps = sqlite:/etc/postfix/sql/virtual_alias_maps.cf\n"
        );
        assert!(!format!("{maps:?}").contains("dbpath"));
    }

    #[test]
    fn postfix_pgsql_files() {
        let maps = postfix_maps(&SqlBackend::Postgres(pg())).unwrap();
        assert_eq!(maps.table_type, "pgsql");
        assert!(maps.virtual_alias_maps.contains(
            "hosts = inet:127.0.0.1:5432\nuser = mailreader\npassword = s3cret pass\ndbname = mail\n"
        ));
        assert!(maps.virtual_mailbox_domains.ends_with(
            "query = SELECT name FROM mail_domain WHERE name = '%s' AND active = TRUE\n"
        ));
    }

    #[test]
    fn dovecot_files() {
        let conf = dovecot_sql_conf(&sqlite(), &DovecotMailSettings::default()).unwrap();
        assert!(conf.contains("driver = sqlite\nconnect = /var/lib/stackyard/mail.sqlite\n"));
        assert!(conf.contains("default_pass_scheme = ARGON2ID\n"));
        assert!(conf.contains(
            "user_query = SELECT '/var/vmail/' || maildir AS home, 'maildir:/var/vmail/' || \
             maildir AS mail, 5000 AS uid, 5000 AS gid, '*:bytes=' || quota_bytes AS quota_rule"
        ));
        let conf =
            dovecot_sql_conf(&SqlBackend::Postgres(pg()), &DovecotMailSettings::default()).unwrap();
        assert!(conf.contains(
            "driver = pgsql\nconnect = host=127.0.0.1 port=5432 dbname=mail user=mailreader \
             password=\"s3cret pass\"\n"
        ));
        assert!(conf.contains("active = TRUE"));
    }

    #[test]
    fn unsafe_values_are_refused() {
        let mut bad = pg();
        bad.password = "x\npassword_query = SELECT 1".to_string();
        assert!(postfix_maps(&SqlBackend::Postgres(bad.clone())).is_err());
        assert!(
            dovecot_sql_conf(&SqlBackend::Postgres(bad), &DovecotMailSettings::default()).is_err()
        );
        let relative = SqlBackend::Sqlite {
            path: PathBuf::from("mail.sqlite"),
        };
        assert!(postfix_maps(&relative).is_err());
    }
}

//! The Postfix and Dovecot configuration files for this database, from the
//! server-configuration form (the SQL itself is [`crate::mail::check::serverconf`]'s).

use super::Result;
use crate::mail::{ConfigFile, DomainError, ServerConfigForm};

/// The three Postfix lookup tables, the `main.cf` lines that use them and
/// `dovecot-sql.conf.ext`. `own_file` is Stackyard's own SQLite file, which
/// the daemons may not be pointed at: it holds every account's hashes and
/// the sealed secrets.
pub fn files(r: &ServerConfigForm, own_file: Option<&str>) -> Result<Vec<ConfigFile>> {
    use crate::mail::check::serverconf::{
        dovecot_sql_conf, postfix_maps, DovecotMailSettings, PgConnection, SqlBackend,
    };
    let backend = match r.backend.trim() {
        "sqlite" => {
            if r.sqlite_path.trim().is_empty() {
                return Err(DomainError::invalid(
                    "sqlite_path",
                    "Start Stackyard with --mail-db PATH (a file it keeps for Postfix and \
                     Dovecot, such as /var/lib/stackyard-mail/mail.db) and give that path here.",
                ));
            }
            if own_file.is_some_and(|own| same_file(own, r.sqlite_path.trim())) {
                return Err(DomainError::invalid(
                    "sqlite_path",
                    "This is Stackyard's own database, which holds every account's password \
                     hashes and the sealed secrets: the mail daemons may not read it. Start \
                     Stackyard with --mail-db PATH and give that path here.",
                ));
            }
            let path = std::path::PathBuf::from(r.sqlite_path.trim());
            if !path.is_absolute() {
                return Err(DomainError::invalid(
                    "sqlite_path",
                    "Give the database file's absolute path as the mail server sees it, such \
                     as /var/lib/stackyard/stackyard.db.",
                ));
            }
            SqlBackend::Sqlite { path }
        }
        "pgsql" => {
            let port = match r.pg_port.trim() {
                "" => None,
                p => Some(p.parse::<u16>().map_err(|_| {
                    DomainError::invalid("pg_port", format!("\"{p}\" is not a port number."))
                })?),
            };
            let need = |field: &str, v: &str, what: &str| {
                if v.trim().is_empty() {
                    Err(DomainError::invalid(field, format!("Enter the {what}.")))
                } else {
                    Ok(v.trim().to_owned())
                }
            };
            SqlBackend::Postgres(PgConnection {
                host: need("pg_host", &r.pg_host, "PostgreSQL host")?,
                port,
                dbname: need("pg_dbname", &r.pg_dbname, "database name")?,
                user: need("pg_user", &r.pg_user, "read-only role the daemons use")?,
                password: need("pg_password", &r.pg_password, "role's password")?,
            })
        }
        other => {
            return Err(DomainError::invalid(
                "backend",
                format!("\"{other}\" is not offered: choose sqlite or pgsql."),
            ))
        }
    };
    let field = if matches!(backend, SqlBackend::Sqlite { .. }) {
        "sqlite_path"
    } else {
        "pg_password"
    };
    let maps = postfix_maps(&backend).map_err(|e| DomainError::invalid(field, e.to_string()))?;
    let mail = DovecotMailSettings {
        mail_root: match r.mail_root.trim() {
            "" => DovecotMailSettings::default().mail_root,
            root => root.to_owned(),
        },
        ..DovecotMailSettings::default()
    };
    // The connection is checked first with the default mail root, so a
    // failure of the second call can only be the mail root's.
    dovecot_sql_conf(&backend, &DovecotMailSettings::default())
        .map_err(|e| DomainError::invalid(field, e.to_string()))?;
    let dovecot = dovecot_sql_conf(&backend, &mail)
        .map_err(|e| DomainError::invalid("mail_root", e.to_string()))?;
    let mut files: Vec<ConfigFile> = maps
        .files()
        .iter()
        .map(|(name, text)| ConfigFile {
            name: (*name).to_owned(),
            contents: (*text).to_owned(),
        })
        .collect();
    files.push(ConfigFile {
        name: "main.cf.snippet".to_owned(),
        contents: format!(
            "# Add to /etc/postfix/main.cf (tables in /etc/postfix/sql/):\n{}",
            maps.main_cf("/etc/postfix/sql")
        ),
    });
    files.push(ConfigFile {
        name: "dovecot-sql.conf.ext".to_owned(),
        contents: dovecot,
    });
    Ok(files)
}

/// Whether two paths name one file (the same text, or one file on disk).
fn same_file(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

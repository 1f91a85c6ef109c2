//! The mail database: what Postfix and Dovecot read, apart from Stackyard's
//! own. Stackyard's database holds the password and session hashes of its
//! accounts and the sealed TSIG and DKIM secrets, and stays readable by its
//! owner only; the daemons get a SQLite file (`--mail-db`) with the three
//! tables their lookups need (the active domains, the mailboxes with their
//! Dovecot hashes, the aliases) and nothing else.
//!
//! Stackyard writes it after every mail change and once a minute, in one
//! transaction each time, so a lookup sees the whole old state or the whole
//! new one. It uses SQLite's rollback journal, not WAL: a reader then needs
//! read access to the file only, not write access to a shared-memory file.
//!
//! On PostgreSQL, the daemons read Stackyard's database through a role that
//! may select these columns only (`scripts/mail-reader.sql`).

use crate::mail::entity::{mail_alias, mail_domain, mailbox};
use crate::mail::DomainError;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, EntityTrait,
    QueryOrder, Statement, TransactionTrait, Value,
};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::{Mutex, OnceCell};

/// The tables, as the generated Postfix and Dovecot queries name them.
const SCHEMA: [&str; 3] = [
    "CREATE TABLE IF NOT EXISTS mail_domain (name TEXT PRIMARY KEY NOT NULL, \
     active BOOLEAN NOT NULL)",
    "CREATE TABLE IF NOT EXISTS mailbox (address TEXT PRIMARY KEY NOT NULL, \
     domain TEXT NOT NULL, password TEXT NOT NULL, maildir TEXT NOT NULL, \
     quota_bytes INTEGER NOT NULL, active BOOLEAN NOT NULL)",
    "CREATE TABLE IF NOT EXISTS mail_alias (id INTEGER PRIMARY KEY NOT NULL, \
     source TEXT NOT NULL, destination TEXT NOT NULL, active BOOLEAN NOT NULL)",
];

/// The mail database at a path, kept in step with Stackyard's.
#[derive(Clone, Debug)]
pub struct MailDb(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    conn: OnceCell<DatabaseConnection>,
    /// One writer at a time: a change and the minute's sync.
    writing: Mutex<()>,
}

/// What the last sync wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Synced {
    pub domains: usize,
    pub mailboxes: usize,
    pub aliases: usize,
}

impl MailDb {
    pub fn new(path: impl Into<PathBuf>) -> MailDb {
        MailDb(Arc::new(Inner {
            path: path.into(),
            conn: OnceCell::new(),
            writing: Mutex::new(()),
        }))
    }

    pub fn path(&self) -> &Path {
        &self.0.path
    }

    /// Writes the mail tables of `db` into the mail database, replacing
    /// what it held, in one transaction.
    pub async fn sync(&self, db: &DatabaseConnection) -> Result<Synced, DomainError> {
        let _writing = self.0.writing.lock().await;
        let domains = mail_domain::Entity::find()
            .order_by_asc(mail_domain::Column::Name)
            .all(db)
            .await?;
        let boxes = mailbox::Entity::find()
            .order_by_asc(mailbox::Column::Address)
            .all(db)
            .await?;
        let aliases = mail_alias::Entity::find()
            .order_by_asc(mail_alias::Column::Id)
            .all(db)
            .await?;
        let conn = self.connection().await?;
        let txn = conn.begin().await?;
        for table in ["mail_alias", "mailbox", "mail_domain"] {
            txn.execute_unprepared(&format!("DELETE FROM {table}"))
                .await?;
        }
        let insert = |sql: &str, values: Vec<Value>| {
            Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
        };
        for d in &domains {
            txn.execute(insert(
                "INSERT INTO mail_domain (name, active) VALUES (?, ?)",
                vec![d.name.clone().into(), d.active.into()],
            ))
            .await?;
        }
        for m in &boxes {
            txn.execute(insert(
                "INSERT INTO mailbox (address, domain, password, maildir, quota_bytes, active) \
                 VALUES (?, ?, ?, ?, ?, ?)",
                vec![
                    m.address.clone().into(),
                    m.domain.clone().into(),
                    m.password.clone().into(),
                    m.maildir.clone().into(),
                    m.quota_bytes.into(),
                    m.active.into(),
                ],
            ))
            .await?;
        }
        for a in &aliases {
            txn.execute(insert(
                "INSERT INTO mail_alias (id, source, destination, active) VALUES (?, ?, ?, ?)",
                vec![
                    a.id.into(),
                    a.source.clone().into(),
                    a.destination.clone().into(),
                    a.active.into(),
                ],
            ))
            .await?;
        }
        txn.commit().await?;
        Ok(Synced {
            domains: domains.len(),
            mailboxes: boxes.len(),
            aliases: aliases.len(),
        })
    }

    async fn connection(&self) -> Result<&DatabaseConnection, DomainError> {
        self.0
            .conn
            .get_or_try_init(|| async {
                let failed = |e: std::io::Error| {
                    DomainError::Failed(format!(
                        "cannot create the mail database {}: {e}",
                        self.0.path.display()
                    ))
                };
                if let Some(dir) = self.0.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    // Group members (the mail daemons' group) may enter it.
                    std::fs::DirBuilder::new()
                        .recursive(true)
                        .mode(0o750)
                        .create(dir)
                        .map_err(failed)?;
                }
                // Readable by the owner and the group it is given to (such
                // as `chgrp dovecot`), never by everyone.
                match std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o640)
                    .open(&self.0.path)
                {
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(failed(e)),
                }
                let mut options =
                    ConnectOptions::new(format!("sqlite://{}?mode=rwc", self.0.path.display()));
                options
                    .max_connections(1)
                    .acquire_timeout(std::time::Duration::from_secs(10))
                    .sqlx_logging(false);
                let conn = Database::connect(options).await?;
                conn.execute_unprepared("PRAGMA journal_mode=DELETE")
                    .await?;
                for table in SCHEMA {
                    conn.execute_unprepared(table).await?;
                }
                Ok(conn)
            })
            .await
    }
}

/// After a mail change: brings the mail database (when there is one) up to
/// date. The change itself is already committed, so a failure here is
/// logged and left to the next minute's sync rather than reported as a
/// failed change.
pub async fn changed(state: &crate::state::AppState) {
    if let Some(mail_db) = &state.mail_db {
        if let Err(e) = mail_db.sync(&state.db).await {
            tracing::warn!(
                "the mail database {} is behind (retried within a minute): {e}",
                mail_db.path().display()
            );
        }
    }
}

/// Syncs the mail database now and then every minute, for changes this
/// process did not make (another tool, a restore) and failed syncs.
pub async fn keep_in_step(mail_db: MailDb, db: DatabaseConnection) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
    let mut failing = false;
    loop {
        every.tick().await;
        match mail_db.sync(&db).await {
            Ok(_) if failing => {
                failing = false;
                tracing::info!(
                    "the mail database {} is in step again",
                    mail_db.path().display()
                );
            }
            Ok(_) => {}
            Err(e) if !failing => {
                failing = true;
                tracing::warn!("the mail database {}: {e}", mail_db.path().display());
            }
            Err(_) => {}
        }
    }
}

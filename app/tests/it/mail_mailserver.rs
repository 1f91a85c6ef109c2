#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(feature = "ssr")]
//! Mailbox storage against the real daemons: an SQLite database made from
//! the schema, read by Postfix (`postmap -q` through the generated
//! `sqlite:` tables) and Dovecot (`doveadm pw` on the stored hash, and a
//! throwaway Dovecot authenticating through the generated
//! `dovecot-sql.conf.ext`).
//!
//! Ignored by default; run with `cargo test -- --ignored` on a machine with
//! `DEBIAN_FRONTEND=noninteractive apt-get install -y dovecot-core
//! dovecot-sqlite postfix postfix-sqlite`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use app::mail::check::mailstore::{MailAlias, MailDomain, Mailbox, SqlDialect, SQLITE_SCHEMA};
use app::mail::check::password::{hash_password, Argon2Cost};
use app::mail::check::serverconf::{
    dovecot_sql_conf, postfix_maps, DovecotMailSettings, SqlBackend,
};
use rusqlite::{params, Connection};

const PASSWORD: &str = "correct horse battery staple";

/// A scratch directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mailcheck-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A database with one domain, one mailbox, one alias and one inactive
/// mailbox; returns the stored hash.
fn make_db(path: &Path, cost: &Argon2Cost) -> String {
    let db = Connection::open(path).expect("open sqlite");
    db.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
    db.execute_batch(SQLITE_SCHEMA).expect("schema");
    // Applying the schema twice is harmless (IF NOT EXISTS).
    db.execute_batch(SQLITE_SCHEMA).expect("schema again");
    let d = SqlDialect::Sqlite;
    let domain = MailDomain::new("Example.TEST").unwrap();
    db.execute(&d.insert_domain_sql(), params![domain.name, domain.active])
        .unwrap();
    let hash = hash_password(PASSWORD, cost).unwrap();
    for (address, active) in [("user@example.test", true), ("gone@example.test", false)] {
        let mut mb = Mailbox::new(address, &hash, 1 << 30).unwrap();
        mb.active = active;
        db.execute(
            &d.insert_mailbox_sql(),
            params![
                mb.address,
                mb.domain,
                mb.password,
                mb.quota_i64(),
                mb.active,
                mb.maildir
            ],
        )
        .unwrap();
    }
    let alias = MailAlias::new("alias@example.test", "user@example.test").unwrap();
    db.execute(
        &d.insert_alias_sql(),
        params![alias.source, alias.destination, alias.active],
    )
    .unwrap();
    // The schema itself refuses what the row types would refuse.
    assert!(db
        .execute(
            &d.insert_mailbox_sql(),
            params![
                "x@other.test",
                "other.test",
                "{PLAIN}x",
                0,
                true,
                "other.test/x/"
            ],
        )
        .is_err());
    assert!(db
        .execute(
            &d.insert_mailbox_sql(),
            params![
                "y@example.test",
                "example.test",
                "plaintext",
                0,
                true,
                "example.test/y/"
            ],
        )
        .is_err());
    // Readable by the daemons' own users (postfix, dovecot).
    let _ = Command::new("chmod").arg("0644").arg(path).status();
    hash
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[test]
#[ignore = "needs nsd, dovecot, postfix: apt-get install -y dovecot-core"]
fn doveadm_accepts_the_stored_hash() {
    let dir = TempDir::new("doveadm");
    let db_path = dir.0.join("mail.sqlite");
    // The production cost once, and the cheap test cost.
    for cost in [Argon2Cost::default(), Argon2Cost::INSECURE_TEST] {
        let hash = make_db(&db_path, &cost);
        let db = Connection::open(&db_path).unwrap();
        let stored: String = db
            .query_row(
                "SELECT password FROM mailbox WHERE address = ?1",
                ["user@example.test"],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(stored, hash);
        assert!(stored.starts_with("{ARGON2ID}$argon2id$v=19$"), "{stored}");

        let ok = run(Command::new("doveadm").args(["pw", "-t", &stored, "-p", PASSWORD]));
        assert!(ok.status.success(), "{ok:?}");
        assert!(stdout(&ok).ends_with("(verified)"), "{ok:?}");
        let wrong = run(Command::new("doveadm").args(["pw", "-t", &stored, "-p", "wrong"]));
        assert!(!wrong.status.success(), "{wrong:?}");
        let _ = std::fs::remove_file(&db_path);
    }
}

#[test]
#[ignore = "needs nsd, dovecot, postfix: apt-get install -y postfix postfix-sqlite"]
fn postmap_reads_the_generated_sqlite_tables() {
    let dir = TempDir::new("postmap");
    let db_path = dir.0.join("mail.sqlite");
    make_db(&db_path, &Argon2Cost::INSECURE_TEST);
    let maps = postfix_maps(&SqlBackend::Sqlite {
        path: db_path.clone(),
    })
    .unwrap();
    for (file, text) in maps.files() {
        std::fs::write(dir.0.join(file), text).unwrap();
    }
    let table = |file: &str| format!("sqlite:{}", dir.0.join(file).display());
    // Postfix's own configuration directory is the test's: a machine where
    // Postfix was installed with "No configuration" has no main.cf.
    std::fs::write(dir.0.join("main.cf"), "").unwrap();
    let config = dir.0.display().to_string();
    let query = |key: &str, file: &str| {
        run(Command::new("postmap").args(["-c", &config, "-q", key, &table(file)]))
    };

    let mailbox = query("user@example.test", "virtual_mailbox_maps.cf");
    assert!(mailbox.status.success(), "{mailbox:?}");
    assert_eq!(stdout(&mailbox), "example.test/user/");

    let alias = query("alias@example.test", "virtual_alias_maps.cf");
    assert!(alias.status.success(), "{alias:?}");
    assert_eq!(stdout(&alias), "user@example.test");

    let domain = query("example.test", "virtual_mailbox_domains.cf");
    assert_eq!(stdout(&domain), "example.test");

    // Not found: postmap exits 1 and prints nothing.
    for (key, file) in [
        ("nobody@example.test", "virtual_mailbox_maps.cf"),
        ("gone@example.test", "virtual_mailbox_maps.cf"),
        ("other.test", "virtual_mailbox_domains.cf"),
        ("nobody@example.test", "virtual_alias_maps.cf"),
    ] {
        let miss = query(key, file);
        assert_eq!(miss.status.code(), Some(1), "{key} in {file}: {miss:?}");
        assert_eq!(stdout(&miss), "", "{key} in {file}");
    }
    // Postfix quotes the key itself: an injection attempt is just a miss.
    let inject = query("x' OR '1'='1", "virtual_mailbox_maps.cf");
    assert_eq!(inject.status.code(), Some(1), "{inject:?}");
}

/// A Dovecot with only its auth service, configured from the generated
/// `dovecot-sql.conf.ext`; stopped on drop.
struct Dovecot {
    child: Child,
    conf: PathBuf,
    log: PathBuf,
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Dovecot {
    fn start(dir: &Path, sql_conf: &Path) -> Dovecot {
        let d = dir.display();
        let conf = dir.join("dovecot.conf");
        std::fs::create_dir_all(dir.join("run")).unwrap();
        std::fs::write(
            &conf,
            format!(
                "base_dir = {d}/run\n\
                 state_dir = {d}/state\n\
                 log_path = {d}/dovecot.log\n\
                 protocols =\n\
                 listen = 127.0.0.1\n\
                 ssl = no\n\
                 auth_mechanisms = plain\n\
                 passdb {{\n  driver = sql\n  args = {sql}\n}}\n\
                 userdb {{\n  driver = sql\n  args = {sql}\n}}\n",
                sql = sql_conf.display()
            ),
        )
        .unwrap();
        let child = Command::new("dovecot")
            .args(["-F", "-c"])
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dovecot");
        let mut dovecot = Dovecot {
            child,
            conf,
            log: dir.join("dovecot.log"),
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while !(dir.join("run/auth-client").exists() && dir.join("run/auth-userdb").exists()) {
            if let Ok(Some(status)) = dovecot.child.try_wait() {
                let log = std::fs::read_to_string(dir.join("dovecot.log")).unwrap_or_default();
                panic!("dovecot exited with {status}: {log}");
            }
            assert!(Instant::now() < deadline, "dovecot did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        dovecot
    }

    /// Its log, for assertion messages.
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Retries briefly while the auth service is still starting up (its
    /// sockets exist before it accepts).
    fn doveadm(&self, args: &[&str]) -> Output {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = run(Command::new("doveadm").arg("-c").arg(&self.conf).args(args));
            // A fatal error in the log (e.g. a missing SQL driver) will
            // not go away by waiting.
            let starting = String::from_utf8_lossy(&out.stderr).contains("Couldn't connect")
                && !self.log().contains("Fatal:");
            if !starting || Instant::now() > deadline {
                return out;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

#[test]
#[ignore = "needs nsd, dovecot, postfix: apt-get install -y dovecot-core dovecot-sqlite"]
fn dovecot_authenticates_through_the_generated_sql_conf() {
    let dir = TempDir::new("dovecot");
    let db_path = dir.0.join("mail.sqlite");
    make_db(&db_path, &Argon2Cost::INSECURE_TEST);
    let sql_conf = dir.0.join("dovecot-sql.conf.ext");
    let text = dovecot_sql_conf(
        &SqlBackend::Sqlite {
            path: db_path.clone(),
        },
        &DovecotMailSettings::default(),
    )
    .unwrap();
    std::fs::write(&sql_conf, text).unwrap();
    let dovecot = Dovecot::start(&dir.0, &sql_conf);

    let ok = dovecot.doveadm(&["auth", "test", "User@Example.test", PASSWORD]);
    assert!(ok.status.success(), "{ok:?}\n{}", dovecot.log());
    let bad = dovecot.doveadm(&["auth", "test", "user@example.test", "wrong"]);
    assert!(!bad.status.success(), "{bad:?}");
    let inactive = dovecot.doveadm(&["auth", "test", "gone@example.test", PASSWORD]);
    assert!(!inactive.status.success(), "{inactive:?}");

    let user = dovecot.doveadm(&["user", "user@example.test"]);
    assert!(user.status.success(), "{user:?}");
    let fields = stdout(&user);
    for want in [
        "home\t/var/vmail/example.test/user/",
        "mail\tmaildir:/var/vmail/example.test/user/",
        "uid\t5000",
        "gid\t5000",
        "quota_rule\t*:bytes=1073741824",
    ] {
        assert!(fields.contains(want), "missing {want:?} in:\n{fields}");
    }
}

//! Mail over HTTP and against the real daemons: mail domains, mailboxes and
//! aliases added through the console's server functions land in Stackyard's
//! own database file, where Dovecot (`doveadm pw -t`) accepts the stored
//! hash and Postfix (`postmap -q` through the generated `sqlite:` tables)
//! finds the mailbox and the alias; `stackyard mail check` against a real
//! NSD on loopback passes for a good domain and names each failure of a
//! broken one; roles and the audit trail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use app::auth::Role;
use common::{form, TestApp};
use http::StatusCode;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const MAILBOX_PASSWORD: &str = "correct horse battery staple";

async fn admin(app: &TestApp) -> String {
    app.with_user("root", Role::Admin).await
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[tokio::test]
async fn mailboxes_and_aliases_by_form_with_roles_and_audit() {
    let app = TestApp::sqlite().await;
    let root = admin(&app).await;
    let op = app.with_user("olga", Role::Operator).await;
    let viewer = app.with_user("vic", Role::Viewer).await;

    let r = app
        .post(
            "/api/mail/add_domain",
            &form(&[("name", "Example.TEST.")]),
            Some(&op),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json(), "example.test");
    let again = app
        .post(
            "/api/mail/add_domain",
            &form(&[("name", "example.test")]),
            Some(&op),
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again.json()["Invalid"]["field"], "name");
    let bad = app
        .post(
            "/api/mail/add_domain",
            &form(&[("name", "localhost")]),
            Some(&op),
        )
        .await;
    assert_eq!(bad.json()["Invalid"]["field"], "name", "{}", bad.body);

    // Operators may not create mailboxes (they hold passwords).
    let mb = form(&[
        ("domain", "example.test"),
        ("address", "alice"),
        ("password", MAILBOX_PASSWORD),
        ("quota_mib", "1024"),
    ]);
    let denied = app.post("/api/mail/add_mailbox", &mb, Some(&op)).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let ok = app.post("/api/mail/add_mailbox", &mb, Some(&root)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.json()["address"], "alice@example.test");
    assert_eq!(ok.json()["quota_bytes"], 1024u64 * 1024 * 1024);
    assert!(!ok.body.contains("ARGON2"), "hash leaked: {}", ok.body);

    for (fields, field) in [
        (
            form(&[
                ("domain", "example.test"),
                ("address", "bad/name"),
                ("password", MAILBOX_PASSWORD),
                ("quota_mib", ""),
            ]),
            "address",
        ),
        (
            form(&[
                ("domain", "example.test"),
                ("address", "bob"),
                ("password", "short"),
                ("quota_mib", ""),
            ]),
            "password",
        ),
        (
            form(&[
                ("domain", "example.test"),
                ("address", "bob"),
                ("password", MAILBOX_PASSWORD),
                ("quota_mib", "lots"),
            ]),
            "quota_mib",
        ),
        (
            form(&[
                ("domain", "example.test"),
                ("address", "bob@other.test"),
                ("password", MAILBOX_PASSWORD),
                ("quota_mib", ""),
            ]),
            "address",
        ),
    ] {
        let r = app
            .post("/api/mail/add_mailbox", &fields, Some(&root))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.json()["Invalid"]["field"], field, "{}", r.body);
    }

    let alias = app
        .post(
            "/api/mail/add_alias",
            &form(&[
                ("domain", "example.test"),
                ("source", "postmaster"),
                ("destination", "Alice@Example.test"),
            ]),
            Some(&op),
        )
        .await;
    assert_eq!(alias.status, StatusCode::OK, "{}", alias.body);
    assert_eq!(alias.json()["source"], "postmaster@example.test");
    assert_eq!(alias.json()["destination"], "alice@example.test");
    let outside = app
        .post(
            "/api/mail/add_alias",
            &form(&[
                ("domain", "example.test"),
                ("source", "x@elsewhere.test"),
                ("destination", "alice@example.test"),
            ]),
            Some(&op),
        )
        .await;
    assert_eq!(
        outside.json()["Invalid"]["field"],
        "source",
        "{}",
        outside.body
    );

    let d = app
        .post("/api/mail/get", "domain=example.test", Some(&viewer))
        .await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.body);
    let d = d.json();
    assert_eq!(d["mailboxes"][0]["address"], "alice@example.test");
    assert_eq!(d["aliases"][0]["source"], "postmaster@example.test");
    assert_eq!(d["settings"]["dnsbl_zones"][0], "zen.spamhaus.org");

    let settings = app
        .post(
            "/api/mail/settings",
            &form(&[
                ("domain", "example.test"),
                ("mail_host", "mail.example.test"),
                ("mail_ip", "192.0.2.300"),
                ("dnsbl_zones", "bl.test"),
                ("resolver", ""),
            ]),
            Some(&op),
        )
        .await;
    assert_eq!(settings.json()["Invalid"]["field"], "mail_ip");
    // A layout's VM as the mail host: one that is not there, or has no
    // address yet, is refused by its field and nothing is saved.
    for (vm, says) in [
        ("999/mail", "Layout 999 was not found"),
        ("Paper/mail", "is not a layout's VM (LAYOUT_ID/VM)"),
        ("1/mail", "has no name in DNS"),
    ] {
        let r = app
            .post(
                "/api/mail/settings",
                &form(&[
                    ("domain", "example.test"),
                    ("mail_vm", vm),
                    ("mail_host", ""),
                    ("mail_ip", ""),
                    ("dnsbl_zones", "bl.test"),
                    ("resolver", ""),
                ]),
                Some(&op),
            )
            .await;
        assert_eq!(r.json()["Invalid"]["field"], "mail_vm", "{vm}: {}", r.body);
        assert!(r.body.contains(says), "{vm}: {}", r.body);
    }
    let d = app
        .post("/api/mail/get", "domain=example.test", Some(&viewer))
        .await
        .json();
    assert_eq!(d["settings"]["mail_vm"], "");
    assert_eq!(d["settings"]["dnsbl_zones"][0], "zen.spamhaus.org");
    // Not even an admin points the check at the server's own neighbourhood
    // unless the server's configuration says so.
    for (resolver, says) in [
        ("127.0.0.1:5353", "loopback"),
        ("169.254.169.254", "link-local"),
        ("192.0.2.53:6379", "Port 6379"),
    ] {
        let r = app
            .post(
                "/api/mail/settings",
                &form(&[
                    ("domain", "example.test"),
                    ("mail_host", ""),
                    ("mail_ip", ""),
                    ("dnsbl_zones", ""),
                    ("resolver", resolver),
                ]),
                Some(&root),
            )
            .await;
        assert_eq!(r.json()["Invalid"]["field"], "resolver", "{}", r.body);
        assert!(r.body.contains(says), "{resolver}: {}", r.body);
    }

    let actions: Vec<(String, String)> = app
        .audit_rows()
        .await
        .into_iter()
        .map(|r| (r.action, r.outcome))
        .collect();
    for want in [
        "mail.add_domain",
        "mail.add_mailbox",
        "mail.add_alias",
        "mail.settings",
    ] {
        assert!(
            actions.iter().any(|(a, o)| a == want && o == "success")
                || actions.iter().any(|(a, _)| a == want),
            "{want} not audited: {actions:?}"
        );
    }
    assert!(actions
        .iter()
        .any(|(a, o)| a == "mail.add_mailbox" && o == "success"));
}

#[tokio::test]
#[ignore = "needs dovecot and postfix: apt-get install -y dovecot-core postfix postfix-sqlite"]
async fn daemons_read_what_the_console_stored() {
    // The daemons read a mail database of their own, never Stackyard's.
    let mail_dir = tempfile::tempdir().unwrap();
    let mail_db = mail_dir.path().join("mail").join("mail.db");
    let app = TestApp::sqlite_with_state(|state| {
        state.mail_db = Some(app::mail::mirror::MailDb::new(&mail_db));
    })
    .await;
    let root = admin(&app).await;
    for (path, fields) in [
        ("/api/mail/add_domain", form(&[("name", "example.test")])),
        (
            "/api/mail/add_mailbox",
            form(&[
                ("domain", "example.test"),
                ("address", "user"),
                ("password", MAILBOX_PASSWORD),
                ("quota_mib", "1024"),
            ]),
        ),
        (
            "/api/mail/add_alias",
            form(&[
                ("domain", "example.test"),
                ("source", "alias"),
                ("destination", "user@example.test"),
            ]),
        ),
    ] {
        let r = app.post(path, &fields, Some(&root)).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    }

    // The hash as stored through the service: Dovecot verifies it.
    let stored = {
        use sea_orm::EntityTrait;
        app::mail::entity::mailbox::Entity::find_by_id("user@example.test".to_owned())
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .password
    };
    assert!(stored.starts_with("{ARGON2ID}$argon2id$v=19$"), "{stored}");
    let ok = run(Command::new("doveadm").args(["pw", "-t", &stored, "-p", MAILBOX_PASSWORD]));
    assert!(ok.status.success(), "{ok:?}");
    assert!(stdout(&ok).ends_with("(verified)"), "{ok:?}");
    let wrong = run(Command::new("doveadm").args(["pw", "-t", &stored, "-p", "wrong"]));
    assert!(!wrong.status.success());

    // The lookup tables as the admin downloads them, against the mail
    // database: owner and group may read it, others not even enter its
    // directory, and it holds the mail tables only.
    let defaults = app
        .post("/api/mail/config_defaults", "", Some(&root))
        .await
        .json();
    let db_path = defaults["sqlite_path"].as_str().unwrap().to_owned();
    assert_eq!(Path::new(&db_path), mail_db);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&mail_db), 0o640);
    assert_eq!(mode(mail_db.parent().unwrap()), 0o750);
    let tables: Vec<String> = {
        use sea_orm::{ConnectionTrait, Statement};
        let conn = sea_orm::Database::connect(format!("sqlite://{db_path}?mode=ro"))
            .await
            .unwrap();
        let sql = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name";
        conn.query_all(Statement::from_string(conn.get_database_backend(), sql))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get_by_index::<String>(0).unwrap())
            .collect()
    };
    assert_eq!(tables, ["mail_alias", "mail_domain", "mailbox"]);
    let config = |path: &str| {
        form(&[
            ("backend", "sqlite"),
            ("sqlite_path", path),
            ("pg_host", ""),
            ("pg_port", ""),
            ("pg_dbname", ""),
            ("pg_user", ""),
            ("pg_password", ""),
            ("mail_root", "/var/vmail"),
        ])
    };
    // Stackyard's own file is refused, by its field.
    let own = app.data_dir().join("stackyard.db");
    let refused = app
        .post(
            "/api/mail/server_config",
            &config(&own.display().to_string()),
            Some(&root),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(refused.json()["Invalid"]["field"], "sqlite_path");
    assert!(refused.body.contains("--mail-db"), "{}", refused.body);
    let files = app
        .post("/api/mail/server_config", &config(&db_path), Some(&root))
        .await;
    assert_eq!(files.status, StatusCode::OK, "{}", files.body);
    let dir = tempfile::tempdir().unwrap();
    for f in files.json().as_array().unwrap() {
        std::fs::write(
            dir.path().join(f["name"].as_str().unwrap()),
            f["contents"].as_str().unwrap(),
        )
        .unwrap();
    }
    assert!(dir.path().join("dovecot-sql.conf.ext").exists());
    // Postfix's own configuration directory is the test's: a machine where
    // Postfix was installed with "No configuration" has no main.cf.
    std::fs::write(dir.path().join("main.cf"), "").unwrap();
    let query = |key: &str, file: &str| {
        run(Command::new("postmap").args([
            "-c",
            &dir.path().display().to_string(),
            "-q",
            key,
            &format!("sqlite:{}", dir.path().join(file).display()),
        ]))
    };
    let mailbox = query("user@example.test", "virtual_mailbox_maps.cf");
    assert!(mailbox.status.success(), "{mailbox:?}");
    assert_eq!(stdout(&mailbox), "example.test/user/");
    let alias = query("alias@example.test", "virtual_alias_maps.cf");
    assert!(alias.status.success(), "{alias:?}");
    assert_eq!(stdout(&alias), "user@example.test");
    assert_eq!(
        stdout(&query("example.test", "virtual_mailbox_domains.cf")),
        "example.test"
    );
    let miss = query("nobody@example.test", "virtual_mailbox_maps.cf");
    assert_eq!(miss.status.code(), Some(1), "{miss:?}");

    // Deactivated in the console: invisible to Postfix at once.
    let r = app
        .post(
            "/api/mail/update_mailbox",
            &form(&[
                ("address", "user@example.test"),
                ("quota_mib", "1024"),
                ("active", "false"),
            ]),
            Some(&root),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let gone = query("user@example.test", "virtual_mailbox_maps.cf");
    assert_eq!(gone.status.code(), Some(1), "{gone:?}");

    let audit: Vec<String> = app
        .audit_rows()
        .await
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert!(audit.iter().any(|a| a == "mail.server_config"), "{audit:?}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL (STACKYARD_TEST_POSTGRES_URL) and postfix-pgsql"]
async fn postfix_reads_the_pgsql_tables_of_a_postgres_console() {
    let pg = migrations::testing::PostgresDb::create().await.unwrap();
    let app = TestApp::with_url(&pg.url, tempfile::tempdir().unwrap()).await;
    let root = admin(&app).await;
    for (path, fields) in [
        ("/api/mail/add_domain", form(&[("name", "example.test")])),
        (
            "/api/mail/add_mailbox",
            form(&[
                ("domain", "example.test"),
                ("address", "user"),
                ("password", MAILBOX_PASSWORD),
                ("quota_mib", ""),
            ]),
        ),
        (
            "/api/mail/add_alias",
            form(&[
                ("domain", "example.test"),
                ("source", "alias"),
                ("destination", "user@example.test"),
            ]),
        ),
    ] {
        let r = app.post(path, &fields, Some(&root)).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    }
    let defaults = app
        .post("/api/mail/config_defaults", "", Some(&root))
        .await
        .json();
    assert_eq!(defaults["backend"], "pgsql");
    assert_eq!(defaults["pg_dbname"], pg.name.as_str());
    // The daemons' role, as the shipped script grants it: the mail columns
    // and nothing else.
    use sea_orm::ConnectionTrait as _;
    let script = include_str!("../../../scripts/mail-reader.sql");
    app.db.execute_unprepared(script).await.unwrap();
    let (user, password) = (format!("reader_{}", pg.name), "reader-password");
    app.db
        .execute_unprepared(&format!(
            "CREATE ROLE {user} LOGIN PASSWORD '{password}' IN ROLE stackyard_mail"
        ))
        .await
        .unwrap();
    let reader = {
        let (scheme, rest) = pg.url.split_once("://").unwrap();
        let host = rest.split_once('@').unwrap().1;
        sea_orm::Database::connect(format!("{scheme}://{user}:{password}@{host}"))
            .await
            .unwrap()
    };
    for secret in [
        "SELECT secret FROM dns_tsig_key",
        "SELECT private_key FROM mail_dkim_key",
        "SELECT * FROM mailbox",
        "SELECT mail_host FROM mail_domain",
    ] {
        let e = reader.execute_unprepared(secret).await.unwrap_err();
        assert!(e.to_string().contains("permission denied"), "{secret}: {e}");
    }
    reader.close().await.unwrap();
    let user = user.as_str();
    let files = app
        .post(
            "/api/mail/server_config",
            &form(&[
                ("backend", "pgsql"),
                ("sqlite_path", ""),
                ("pg_host", defaults["pg_host"].as_str().unwrap()),
                ("pg_port", defaults["pg_port"].as_str().unwrap()),
                ("pg_dbname", &pg.name),
                ("pg_user", user),
                ("pg_password", password),
                ("mail_root", ""),
            ]),
            Some(&root),
        )
        .await;
    assert_eq!(files.status, StatusCode::OK, "{}", files.body);
    let dir = tempfile::tempdir().unwrap();
    for f in files.json().as_array().unwrap() {
        std::fs::write(
            dir.path().join(f["name"].as_str().unwrap()),
            f["contents"].as_str().unwrap(),
        )
        .unwrap();
    }
    // Postfix's own configuration directory is the test's: a machine where
    // Postfix was installed with "No configuration" has no main.cf.
    std::fs::write(dir.path().join("main.cf"), "").unwrap();
    let query = |key: &str, file: &str| {
        run(Command::new("postmap").args([
            "-c",
            &dir.path().display().to_string(),
            "-q",
            key,
            &format!("pgsql:{}", dir.path().join(file).display()),
        ]))
    };
    let mailbox = query("user@example.test", "virtual_mailbox_maps.cf");
    assert!(mailbox.status.success(), "{mailbox:?}");
    assert_eq!(stdout(&mailbox), "example.test/user/");
    let alias = query("alias@example.test", "virtual_alias_maps.cf");
    assert_eq!(stdout(&alias), "user@example.test", "{alias:?}");
    let miss = query("nobody@example.test", "virtual_mailbox_maps.cf");
    assert_eq!(miss.status.code(), Some(1), "{miss:?}");
    app.db
        .execute_unprepared(&format!("DROP ROLE {user}"))
        .await
        .unwrap();
    drop(app);
    pg.drop().await.unwrap();
}

// --- the readiness check on the command line, against a real NSD --------------

/// The shared NSD fixture serving `zones` on a loopback port (stopped on
/// drop), and where it listens.
struct Nsd {
    addr: SocketAddr,
    _server: app::testing::nsd::Nsd,
}

impl Nsd {
    fn start(zones: &[(String, String)]) -> Nsd {
        let server = app::testing::nsd::Nsd::serving(zones);
        Nsd {
            addr: server.addr(),
            _server: server,
        }
    }
}

/// The `stackyard` binary this test build belongs to.
fn stackyard() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_stackyard"))
}

fn soa(origin: &str) -> String {
    format!(
        "$ORIGIN {origin}.\n$TTL 60\n@ IN SOA ns1.good.test. hostmaster.good.test. 1 3600 600 \
         86400 60\n@ IN NS ns1.good.test.\n"
    )
}

/// Zones as text: a good domain, a broken one, the reverse zone and a
/// blocklist listing the broken domain's address.
fn text_zones() -> Vec<(String, String)> {
    vec![
        (
            "good.test".into(),
            format!(
                "{}ns1 IN A 127.0.0.1\n@ IN MX 10 mail.good.test.\nmail IN A 192.0.2.10\n\
                 @ IN TXT \"v=spf1 mx -all\"\n_dmarc IN TXT \"v=DMARC1; p=reject\"\n",
                soa("good.test")
            ),
        ),
        (
            "broken.test".into(),
            format!(
                "{}@ IN MX 10 mail.broken.test.\nmail IN A 192.0.2.66\n\
                 @ IN TXT \"v=spf1 ip4:192.0.2.10 -all\"\n_dmarc IN TXT \"v=DMARC1; p=none\"\n",
                soa("broken.test")
            ),
        ),
        (
            "2.0.192.in-addr.arpa".into(),
            format!("{}10 IN PTR mail.good.test.\n", soa("2.0.192.in-addr.arpa")),
        ),
        (
            "bl.test".into(),
            format!("{}66.2.0.192 IN A 127.0.0.2\n", soa("bl.test")),
        ),
    ]
}

fn cli_check(nsd: &Nsd, domain: &str, extra: &[&str]) -> Output {
    run(Command::new(stackyard())
        .args(["mail", "check", domain, "--resolver"])
        .arg(nsd.addr.to_string())
        .args(["--dnsbl", "bl.test"])
        .args(extra))
}

#[test]
#[ignore = "needs nsd and dig: apt-get install -y nsd bind9-dnsutils"]
fn cli_check_passes_a_good_domain_and_names_each_failure() {
    let nsd = Nsd::start(&text_zones());
    let good = cli_check(&nsd, "good.test", &[]);
    let text = stdout(&good);
    assert_eq!(good.status.code(), Some(0), "{text}");
    assert!(text.contains("Every check passed."), "{text}");

    let broken = cli_check(&nsd, "broken.test", &[]);
    let text = stdout(&broken);
    assert_eq!(broken.status.code(), Some(1), "{text}");
    assert!(text.contains("[FAIL] ") && text.contains("(ptr)"), "{text}");
    assert!(text.contains("192.0.2.66 has no PTR record"), "{text}");
    assert!(text.contains("(spf)"), "{text}");
    assert!(
        text.contains("does not authorise the mail server 192.0.2.66"),
        "{text}"
    );
    assert!(
        text.contains("192.0.2.66 is listed on bl.test (return code 127.0.0.2)"),
        "{text}"
    );
    assert!(text.contains("3 checks did not pass."), "{text}");

    let json = cli_check(&nsd, "broken.test", &["--json"]);
    assert_eq!(json.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let failed: Vec<&str> = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["status"] == "fail")
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["ptr", "spf", "dnsbl:bl.test"]);

    let usage = run(Command::new(stackyard()).args([
        "mail",
        "check",
        "good.test",
        "--resolver",
        "nowhere",
    ]));
    assert_eq!(usage.status.code(), Some(2), "{usage:?}");
}

#[tokio::test]
async fn dkim_keys_and_tokens_are_removed_with_their_records() {
    let app = TestApp::sqlite().await;
    let op = app.with_user("olga", Role::Operator).await;
    let viewer = app.with_user("vera", Role::Viewer).await;
    let domain = "example.test";
    ok(&app, &op, "/api/mail/add_domain", &[("name", domain)]).await;
    ok(&app, &op, "/api/mail/create_zone", &[("domain", domain)]).await;
    ok(
        &app,
        &op,
        "/api/mail/publish_spf",
        &[("domain", domain), ("record", "v=spf1 mx -all")],
    )
    .await;
    let first = "google-site-verification=-Aqw1jSo8lsOZwbwd-cQ5bQvtm-M1DqVEHEIKXZ1z6U";
    let second = "google-site-verification=rXOxyZounnZasA8Z7oaD3c14JdjS9aKSWvsR1EbUSIQ";
    for token in [first, second] {
        ok(
            &app,
            &op,
            "/api/mail/publish_verification",
            &[("domain", domain), ("value", token)],
        )
        .await;
    }
    ok(
        &app,
        &op,
        "/api/mail/generate_dkim",
        &[
            ("domain", domain),
            ("selector", "s1"),
            ("algorithm", "ed25519"),
        ],
    )
    .await;
    let serial = |d: &serde_json::Value| d["zone"]["serial"].as_u64().unwrap();
    let before = ok(&app, &op, "/api/mail/get", &[("domain", domain)]).await;
    assert_eq!(before["dkim"].as_array().unwrap().len(), 1);

    // The private key: an admin's, with the password again; it is stored
    // sealed, and comes back as the PEM the signer needs.
    let root = admin(&app).await;
    let key = |password: &'static str| {
        form(&[
            ("domain", domain),
            ("selector", "s1"),
            ("confirm_password", password),
        ])
    };
    let wrong = app
        .post("/api/mail/dkim_private_key", &key("guess"), Some(&root))
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.body
    );
    assert_eq!(wrong.json()["Invalid"]["field"], "confirm_password");
    assert!(!wrong.body.contains("PRIVATE KEY"));
    let pem = ok(
        &app,
        &root,
        "/api/mail/dkim_private_key",
        &[
            ("domain", domain),
            ("selector", "s1"),
            ("confirm_password", common::PASSWORD),
        ],
    )
    .await;
    assert!(
        pem["contents"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----"),
        "{pem}"
    );
    let stored = {
        use sea_orm::EntityTrait;
        app::mail::entity::mail_dkim_key::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .remove(0)
            .private_key
    };
    assert!(app::sealed::is_sealed(&stored) && !stored.contains("PRIVATE KEY"));

    // A viewer may not; nothing changes.
    let refused = app
        .post(
            "/api/mail/remove_verification",
            &form(&[("domain", domain), ("value", first)]),
            Some(&viewer),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);

    // One token goes; the other token and the SPF record at the apex stay.
    ok(
        &app,
        &op,
        "/api/mail/remove_verification",
        &[("domain", domain), ("value", first)],
    )
    .await;
    let d = ok(&app, &op, "/api/mail/get", &[("domain", domain)]).await;
    assert_eq!(d["zone"]["verification"], serde_json::json!([second]));
    assert_eq!(d["zone"]["spf"], "v=spf1 mx -all");
    assert!(serial(&d) > serial(&before));
    let again = app
        .post(
            "/api/mail/remove_verification",
            &form(&[("domain", domain), ("value", first)]),
            Some(&op),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.body);
    assert!(again.body.contains("is not published"), "{}", again.body);

    // The DKIM key and its record go together.
    let owner = app::dns::zone::Name::parse("s1._domainkey.example.test").unwrap();
    let zone_id = app::dns::store::zone_containing(&app.db, &owner)
        .await
        .unwrap()
        .unwrap()
        .id;
    let txt_at_selector = || async {
        app::dns::store::load_zone(&app.db, zone_id)
            .await
            .unwrap()
            .records
            .iter()
            .filter(|r| r.owner == owner)
            .count()
    };
    assert_eq!(txt_at_selector().await, 1);
    ok(
        &app,
        &op,
        "/api/mail/remove_dkim",
        &[("domain", domain), ("selector", "s1")],
    )
    .await;
    let after = ok(&app, &op, "/api/mail/get", &[("domain", domain)]).await;
    assert_eq!(after["dkim"], serde_json::json!([]));
    assert_eq!(txt_at_selector().await, 0);
    assert!(serial(&after) > serial(&d));
    let again = app
        .post(
            "/api/mail/remove_dkim",
            &form(&[("domain", domain), ("selector", "s1")]),
            Some(&op),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.body);

    let actions: Vec<String> = app
        .audit_rows()
        .await
        .into_iter()
        .map(|r| format!("{} {} {}", r.action, r.target, r.outcome))
        .collect();
    assert!(
        actions
            .iter()
            .any(|a| a == "mail.remove_dkim s1._domainkey.example.test success"),
        "{actions:?}"
    );
    assert!(
        actions
            .iter()
            .any(|a| a == "mail.remove_verification example.test success"),
        "{actions:?}"
    );
}

// --- the same, with every zone from Stackyard's own store ----------------------

async fn ok(app: &TestApp, cookie: &str, path: &str, fields: &[(&str, &str)]) -> serde_json::Value {
    let r = app.post(path, &form(fields), Some(cookie)).await;
    assert_eq!(r.status, StatusCode::OK, "{path} {fields:?}: {}", r.body);
    r.json()
}

async fn set_rrset(app: &TestApp, owner: &str, rdata: app::dns::zone::RData) {
    use app::dns::{store, zone::Name};
    let owner = Name::parse(owner).unwrap();
    let zone = store::zone_containing(&app.db, &owner)
        .await
        .unwrap()
        .unwrap();
    store::replace_rrset(
        &app.db,
        "test",
        zone.id,
        &owner,
        rdata.rtype(),
        app::dns::zone::Ttl(60),
        vec![rdata],
    )
    .await
    .unwrap();
}

/// Every zone in the store, rendered as Stackyard renders them for NSD.
async fn rendered_zones(app: &TestApp) -> Vec<(String, String)> {
    use app::dns::{store, zone::render_zone};
    let mut out = Vec::new();
    for z in store::list_zones(&app.db).await.unwrap() {
        let zone = store::load_zone(&app.db, z.id).await.unwrap();
        out.push((
            z.origin.as_str().trim_end_matches('.').to_owned(),
            render_zone(&zone),
        ));
    }
    // The NSD helper waits for the first zone's SOA.
    out.sort_by_key(|(o, _)| o != "good.test");
    out
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs nsd and dig: apt-get install -y nsd bind9-dnsutils"]
async fn readiness_check_over_zones_from_the_store() {
    use app::dns::zone::{Name, RData};
    let app = TestApp::sqlite_any_resolver().await;
    let op = app.with_user("olga", Role::Operator).await;
    let root = admin(&app).await;

    for domain in ["good.test", "broken.test"] {
        ok(&app, &op, "/api/mail/add_domain", &[("name", domain)]).await;
        // Offered on the page when Stackyard serves no zone for the domain.
        let d = ok(&app, &op, "/api/mail/get", &[("domain", domain)]).await;
        assert_eq!(d["zone"]["zone"], serde_json::Value::Null);
        let refused = app
            .post(
                "/api/mail/publish_mx",
                &form(&[("domain", domain), ("mx", "10 mail")]),
                Some(&op),
            )
            .await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
        ok(&app, &op, "/api/mail/create_zone", &[("domain", domain)]).await;
        ok(
            &app,
            &op,
            "/api/mail/publish_mx",
            &[("domain", domain), ("mx", "10 mail")],
        )
        .await;
    }
    for origin in ["2.0.192.in-addr.arpa", "bl.test"] {
        app::dns::store::create_zone(&app.db, "test", &Name::parse(origin).unwrap())
            .await
            .unwrap();
    }
    let ns1 = Name::parse("ns1.good.test").unwrap();
    for origin in [
        "good.test",
        "broken.test",
        "2.0.192.in-addr.arpa",
        "bl.test",
    ] {
        set_rrset(&app, origin, RData::Ns(ns1.clone())).await;
    }
    set_rrset(
        &app,
        "ns1.good.test",
        RData::A("127.0.0.1".parse().unwrap()),
    )
    .await;
    set_rrset(
        &app,
        "mail.good.test",
        RData::A("192.0.2.10".parse().unwrap()),
    )
    .await;
    set_rrset(
        &app,
        "mail.broken.test",
        RData::A("192.0.2.66".parse().unwrap()),
    )
    .await;
    set_rrset(
        &app,
        "10.2.0.192.in-addr.arpa",
        RData::Ptr(Name::parse("mail.good.test").unwrap()),
    )
    .await;
    set_rrset(
        &app,
        "66.2.0.192.bl.test",
        RData::A("127.0.0.2".parse().unwrap()),
    )
    .await;

    // good.test: SPF built from choices, a DKIM key, DMARC from its fields, a
    // verification token.
    let spf = ok(
        &app,
        &op,
        "/api/mail/spf_build",
        &[("domain", "good.test"), ("mx", "on"), ("all", "-")],
    )
    .await;
    assert_eq!(spf["record"], "v=spf1 mx -all");
    assert_eq!(spf["valid"], true, "{spf}");
    assert_eq!(spf["lookups"], "1 lookups, within the limit of 10");
    ok(
        &app,
        &op,
        "/api/mail/publish_spf",
        &[("domain", "good.test"), ("record", "v=spf1 mx -all")],
    )
    .await;
    let dkim = ok(
        &app,
        &op,
        "/api/mail/generate_dkim",
        &[
            ("domain", "good.test"),
            ("selector", "mail"),
            ("algorithm", "rsa2048"),
        ],
    )
    .await;
    assert_eq!(dkim["owner"], "mail._domainkey.good.test");
    assert_eq!(dkim["txt_strings"].as_array().unwrap().len(), 2, "{dkim}");
    assert!(!dkim.to_string().contains("PRIVATE KEY"));
    let dmarc = ok(
        &app,
        &op,
        "/api/mail/dmarc_build",
        &[
            ("domain", "good.test"),
            ("p", "reject"),
            ("rua", "dmarc@good.test"),
        ],
    )
    .await;
    assert_eq!(
        dmarc["record"],
        "v=DMARC1; p=reject; rua=mailto:dmarc@good.test"
    );
    ok(
        &app,
        &op,
        "/api/mail/publish_dmarc",
        &[
            ("domain", "good.test"),
            ("record", dmarc["record"].as_str().unwrap()),
        ],
    )
    .await;
    ok(
        &app,
        &op,
        "/api/mail/publish_verification",
        &[
            ("domain", "good.test"),
            (
                "value",
                "google-site-verification=-Aqw1jSo8lsOZwbwd-cQ5bQvtm-M1DqVEHEIKXZ1z6U",
            ),
        ],
    )
    .await;
    // The SPF record and the token share the apex; both stay.
    let d = ok(&app, &op, "/api/mail/get", &[("domain", "good.test")]).await;
    assert_eq!(d["zone"]["spf"], "v=spf1 mx -all");
    assert_eq!(d["zone"]["mx"][0], "10 mail.good.test.");
    assert_eq!(d["zone"]["verification"].as_array().unwrap().len(), 1);
    assert_eq!(
        d["zone"]["dmarc"],
        "v=DMARC1; p=reject; rua=mailto:dmarc@good.test"
    );

    // broken.test: SPF pasted without the server's address, DMARC p=none.
    let pasted = ok(
        &app,
        &op,
        "/api/mail/spf_build",
        &[
            ("domain", "broken.test"),
            ("pasted", "v=spf1 ip4:192.0.2.10 include:good.test -all"),
        ],
    )
    .await;
    // include:good.test is counted from Stackyard's own zone: 1 + its mx.
    assert_eq!(
        pasted["lookups"], "2 lookups, within the limit of 10",
        "{pasted}"
    );
    let bad = app
        .post(
            "/api/mail/publish_spf",
            &form(&[
                ("domain", "broken.test"),
                ("record", "v=spf1 ip4:192.0.2.300 -all"),
            ]),
            Some(&op),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert_eq!(bad.json()["Invalid"]["field"], "record");
    ok(
        &app,
        &op,
        "/api/mail/publish_spf",
        &[
            ("domain", "broken.test"),
            ("record", "v=spf1 ip4:192.0.2.10 -all"),
        ],
    )
    .await;
    ok(
        &app,
        &op,
        "/api/mail/publish_dmarc",
        &[("domain", "broken.test"), ("record", "v=DMARC1; p=none")],
    )
    .await;

    let nsd = Nsd::start(&rendered_zones(&app).await);
    // Whom the check asks is an admin's choice.
    let refused = app
        .post(
            "/api/mail/settings",
            &form(&[
                ("domain", "good.test"),
                ("mail_host", ""),
                ("mail_ip", ""),
                ("dnsbl_zones", "bl.test"),
                ("resolver", &nsd.addr.to_string()),
            ]),
            Some(&op),
        )
        .await;
    assert_eq!(
        refused.json()["Invalid"]["field"],
        "resolver",
        "{}",
        refused.body
    );
    for domain in ["good.test", "broken.test"] {
        ok(
            &app,
            &root,
            "/api/mail/settings",
            &[
                ("domain", domain),
                ("mail_host", ""),
                ("mail_ip", ""),
                ("dnsbl_zones", "bl.test"),
                ("resolver", &nsd.addr.to_string()),
            ],
        )
        .await;
    }

    let good = ok(&app, &op, "/api/mail/check", &[("domain", "good.test")]).await;
    assert_eq!(good["all_passed"], true, "{good:#}");
    let dkim_item = good["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "dkim:mail")
        .unwrap();
    assert!(
        dkim_item["detail"]
            .as_str()
            .unwrap()
            .ends_with("matching the stored private key"),
        "{dkim_item}"
    );

    let broken = ok(&app, &op, "/api/mail/check", &[("domain", "broken.test")]).await;
    assert_eq!(broken["all_passed"], false);
    let failed: Vec<(&str, &str)> = broken["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["status"] == "fail")
        .map(|i| (i["id"].as_str().unwrap(), i["fix"].as_str().unwrap_or("")))
        .collect();
    let ids: Vec<&str> = failed.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, ["ptr", "spf", "dnsbl:bl.test"], "{broken:#}");
    assert!(failed.iter().all(|(_, fix)| !fix.is_empty()), "{failed:?}");

    // The command line agrees, on the same zones.
    let cli = cli_check(&nsd, "good.test", &["--dkim", "mail"]);
    assert_eq!(cli.status.code(), Some(0), "{}", stdout(&cli));
    let cli = cli_check(&nsd, "broken.test", &[]);
    assert_eq!(cli.status.code(), Some(1), "{}", stdout(&cli));
}

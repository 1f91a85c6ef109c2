//! Stackyard's files at rest, as the real binary leaves them: the data
//! directory and everything in it readable by its owner only (an older,
//! wider install is tightened), the TSIG secret sealed with the key file,
//! and a start with another key file refused without touching anything.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// `stackyard serve` on a free loopback port, logging to a pipe.
pub(crate) fn serve(data: &Path, extra: &[&str]) -> Command {
    serve_on(data, "127.0.0.1:0", extra)
}

/// `stackyard serve --listen LISTEN`, logging to a pipe.
pub(crate) fn serve_on(data: &Path, listen: &str, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stackyard"));
    cmd.args(["serve", "--listen", listen, "--log", "info"])
        .arg("--data-dir")
        .arg(data)
        .args(extra)
        .env_remove("STACKYARD_SECRET_KEY_FILE")
        .env_remove("STACKYARD_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Starts the server and waits until it listens (its log says so).
fn start(data: &Path) -> Child {
    started(serve(data, &[]))
}

/// Runs `cmd` (from [`serve_on`]) and waits until the server listens.
pub(crate) fn started(mut cmd: Command) -> Child {
    let mut child = cmd.stderr(Stdio::null()).spawn().unwrap();
    // The log goes to standard output.
    let log = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(log).lines().map_while(Result::ok) {
            if line.contains("Stackyard listening") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the server listens within 30 s");
    child
}

/// SIGTERM, and the exit it brings.
fn stop(mut child: Child) {
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(15);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn database(data: &Path) -> sea_orm::DatabaseConnection {
    let url = format!("sqlite://{}", data.join("stackyard.db").display());
    sea_orm::Database::connect(url).await.unwrap()
}

#[tokio::test]
async fn the_data_directory_is_owner_only_and_secrets_are_sealed_with_the_key_file() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    // An install from before: a directory and a database anyone could read.
    std::fs::DirBuilder::new()
        .mode(0o755)
        .create(&data)
        .unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(data.join("stackyard.db"))
        .unwrap();

    let server = start(&data);
    assert_eq!(mode(&data), 0o700);
    for file in [
        "stackyard.db",
        "stackyard.db-wal",
        "stackyard.db-shm",
        "secret.key",
        "setup-url.txt",
    ] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    stop(server);

    // A TSIG secret from before sealing, in clear.
    let clear = "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXowMTIzNDU=";
    let db = database(&data).await;
    app::dns::entity::tsig_key::ActiveModel {
        name: Set("stackyard-xfr".into()),
        algorithm: Set("hmac-sha256".into()),
        secret: Set(clear.into()),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&db)
    .await
    .unwrap();
    db.close().await.unwrap();

    // The next start seals it with the key file.
    stop(start(&data));
    let db = database(&data).await;
    let stored = app::dns::entity::tsig_key::Entity::find()
        .one(&db)
        .await
        .unwrap()
        .unwrap()
        .secret;
    db.close().await.unwrap();
    assert!(app::sealed::is_sealed(&stored), "{stored}");
    assert!(!stored.contains(clear));
    let key_text = std::fs::read_to_string(data.join("secret.key")).unwrap();
    let (key, _) = app::sealed::SealingKey::load_or_create(&data.join("secret.key")).unwrap();
    assert_eq!(key.open("dns_tsig_key.secret", &stored).unwrap(), clear);

    // Another key file does not start the server, says what to do, and is
    // not left behind; the stored secret is as it was.
    let other = root.path().join("other.key");
    let out = serve(&data, &["--secret-key-file", &other.display().to_string()])
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("--secret-key-file"), "{said}");
    assert!(!other.exists());
    assert_eq!(
        std::fs::read_to_string(data.join("secret.key")).unwrap(),
        key_text
    );
    let db = database(&data).await;
    let after = app::dns::entity::tsig_key::Entity::find()
        .one(&db)
        .await
        .unwrap()
        .unwrap()
        .secret;
    assert_eq!(after, stored);
}

//! An image fetched by the server from an address, into a real libvirtd's
//! pool: the address (a small HTTP server of the test's own on loopback)
//! is followed through a redirect, the bytes arrive in the background with
//! their progress in the list, the SHA-256 is the file's. What the address
//! answers wrongly is refused by the `url` field with nothing made; what
//! goes wrong after the start leaves a failed row with its reason and no
//! volume; removing a fetch under way stops it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::TestApp;
use app::auth::Role;
use app::images::entity::image;
use app::testing::libvirt::{guest_images, ScratchPool, DAEMON, SYSTEM_URI};
use axum::http::StatusCode;
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A file server on loopback, written out by hand so that each answer
/// can be wrong in its own way:
/// - `/grub.iso`: the file, 64 KiB every 15 ms, with its length;
/// - `/slow.iso`: the same, 64 KiB every 300 ms;
/// - `/moved`: 302 to `/grub.iso`;
/// - `/short.iso`: announces the whole length, sends 100,000 bytes, closes;
/// - `/unsized.iso`: the file without a length (closed at the end);
/// - anything else: 404.
async fn file_server(file: Arc<Vec<u8>>) -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let file = file.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let send = |pause: u64, upto: usize, length: bool| {
                    let file = file.clone();
                    async move {
                        let mut answer = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n".to_owned();
                        if length {
                            answer.push_str(&format!("Content-Length: {}\r\n", file.len()));
                        }
                        answer.push_str("\r\n");
                        (answer, file, pause, upto)
                    }
                };
                let (answer, body, pause, upto) = match path.as_str() {
                    "/grub.iso" => send(15, usize::MAX, true).await,
                    "/slow.iso" => send(300, usize::MAX, true).await,
                    "/short.iso" => send(0, 100_000, true).await,
                    "/unsized.iso" => send(0, usize::MAX, false).await,
                    "/moved" => (
                        "HTTP/1.1 302 Found\r\nLocation: /grub.iso\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned(),
                        Arc::new(Vec::new()),
                        0,
                        0,
                    ),
                    _ => (
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_owned(),
                        Arc::new(Vec::new()),
                        0,
                        0,
                    ),
                };
                if sock.write_all(answer.as_bytes()).await.is_err() {
                    return;
                }
                let body = &body[..body.len().min(upto)];
                for chunk in body.chunks(64 * 1024) {
                    if sock.write_all(chunk).await.is_err() {
                        return;
                    }
                    if pause > 0 {
                        tokio::time::sleep(Duration::from_millis(pause)).await;
                    }
                }
                let _ = sock.shutdown().await;
            });
        }
    });
    (base, task)
}

/// The local daemon as a host of the test app.
async fn local_host(app: &TestApp) -> i32 {
    let row = app::hosts::store::insert(&app.db, "local".into(), SYSTEM_URI.into(), String::new())
        .await
        .unwrap();
    app.hosts.start(row.clone());
    let (_, handle) = app.hosts.get(row.id).unwrap();
    assert!(handle.wait_reachable(Duration::from_secs(15)).await);
    handle.capacity().await.unwrap();
    row.id
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            let v: String = v
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            format!("{k}={v}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The image `id` as the list has it, waited for until `done` says so.
async fn wait_for(
    app: &TestApp,
    cookie: &str,
    host: i32,
    id: i64,
    mut seen: impl FnMut(&serde_json::Value),
    done: impl Fn(Option<&serde_json::Value>) -> bool,
) -> Option<serde_json::Value> {
    let start = Instant::now();
    loop {
        let r = app
            .post("/api/images/list", &format!("host_id={host}"), Some(cookie))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let list = r.json();
        let img = list
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"].as_i64() == Some(id) || (i["state"] == "failed" && id < 0))
            .cloned();
        if let Some(img) = &img {
            seen(img);
        }
        if done(img.as_ref()) {
            return img;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "image {id} never got there: {list}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
#[ignore = "needs a running libvirtd with qemu (run with --include-ignored)"]
async fn an_image_is_fetched_from_an_address_with_its_progress() {
    let _daemon = DAEMON.lock().await;
    let iso_path = guest_images().join("grub-rescue.iso");
    let iso = Arc::new(std::fs::read(&iso_path).unwrap());
    let sum = {
        let out = std::process::Command::new("sha256sum")
            .arg(&iso_path)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)[..64].to_owned()
    };
    let (base, server) = file_server(iso.clone()).await;
    let pool = ScratchPool::new("stackyard-fetch");
    let app = TestApp::sqlite().await;
    let op = app.with_user("op", Role::Operator).await;
    let viewer = app.with_user("viewer", Role::Viewer).await;
    let host = local_host(&app).await;
    let host_s = host.to_string();
    let fetch = |url: String, name: &'static str, kind: &'static str, sha: String| {
        let (op, host_s, pool) = (op.clone(), host_s.clone(), pool.name.clone());
        let app = &app;
        async move {
            app.post(
                "/api/images/fetch",
                &form(&[
                    ("host_id", &host_s),
                    ("url", &url),
                    ("name", name),
                    ("kind", kind),
                    ("pool", &pool),
                    ("sha256", &sha),
                ]),
                Some(&op),
            )
            .await
        }
    };
    let rows = || async { image::Entity::find().count(&app.db).await.unwrap() };

    // A viewer may not fetch.
    let r = app
        .post(
            "/api/images/fetch",
            &form(&[
                ("host_id", &host_s),
                ("url", &format!("{base}/grub.iso")),
                ("name", "x"),
                ("kind", "installer"),
                ("pool", &pool.name),
                ("sha256", ""),
            ]),
            Some(&viewer),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    // Refused at once, by field, with nothing made.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    for (url, name, kind, field, says) in [
        (
            "ftp://127.0.0.1/x.iso".to_owned(),
            "x",
            "installer",
            "url",
            "not ftp://",
        ),
        (
            format!("{base}/missing.iso"),
            "x",
            "installer",
            "url",
            "404 Not Found",
        ),
        (
            format!("{base}/unsized.iso"),
            "x",
            "installer",
            "url",
            "does not say the file's length",
        ),
        (
            format!("http://{closed}/x.iso"),
            "x",
            "installer",
            "url",
            "Could not fetch from 127.0.0.1",
        ),
        (
            format!("{base}/grub.iso"),
            "a/b",
            "installer",
            "name",
            "'/'",
        ),
        (
            format!("{base}/grub.iso"),
            "x",
            "floppy",
            "kind",
            "installer ISO or a cloud image",
        ),
    ] {
        let r = fetch(url.clone(), name, kind, String::new()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{url}: {}",
            r.body
        );
        let e = r.json();
        assert_eq!(e["Invalid"]["field"], field, "{url}: {}", r.body);
        let m = e["Invalid"]["message"].as_str().unwrap();
        assert!(m.contains(says), "{url}: {m}");
        assert!(pool.volumes().is_empty(), "{url} left a volume");
        assert_eq!(rows().await, 0, "{url} left a row");
    }

    // Through a redirect, in the background, with its progress.
    let r = fetch(
        format!("{base}/moved"),
        "grub rescue",
        "installer",
        sum.to_uppercase(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let started = r.json();
    assert_eq!(started["state"], "uploading");
    assert_eq!(started["source_url"], format!("{base}/moved"));
    assert_eq!(started["size_bytes"], iso.len() as u64);
    let id = started["id"].as_i64().unwrap();
    let mut partway = Vec::new();
    let img = wait_for(
        &app,
        &viewer,
        host,
        id,
        |i| {
            let n = i["received_bytes"].as_u64().unwrap();
            if i["state"] == "uploading" && n > 0 && n < iso.len() as u64 {
                partway.push(n);
            }
        },
        |i| i.is_some_and(|i| i["state"] != "uploading"),
    )
    .await
    .unwrap();
    assert_eq!(img["state"], "ready", "{img}");
    assert_eq!(img["sha256"], sum.as_str());
    assert_eq!(img["format"], "iso");
    assert_eq!(img["received_bytes"], iso.len() as u64);
    assert!(
        !partway.is_empty(),
        "the list never showed the fetch part-way"
    );
    assert!(partway.windows(2).all(|w| w[0] <= w[1]), "{partway:?}");
    let volume = img["volume"].as_str().unwrap().to_owned();
    assert_eq!(pool.volumes(), vec![volume.clone()]);
    let on_disk = std::fs::read(pool.dir.join(&volume)).unwrap();
    assert!(
        on_disk == *iso,
        "the volume holds other bytes than the file"
    );
    println!(
        "fetched {} bytes; the list showed it part-way {} times: {partway:?}",
        iso.len(),
        partway.len()
    );

    // Failing after the start: a failed row says why; no volume is left.
    for (path, name, kind, sha, says) in [
        (
            "/grub.iso",
            "wrong sum",
            "installer",
            "0".repeat(64),
            "SHA-256 is",
        ),
        ("/short.iso", "cut", "installer", String::new(), "broke off"),
        (
            "/grub.iso",
            "not cloud",
            "cloud",
            String::new(),
            "a CD image",
        ),
    ] {
        let r = fetch(format!("{base}{path}"), name, kind, sha).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        let failed = wait_for(&app, &viewer, host, -1, |_| {}, |i| i.is_some())
            .await
            .unwrap();
        assert_eq!(failed["name"], name, "{failed}");
        let error = failed["error"].as_str().unwrap();
        assert!(error.contains(says), "{path}: {error}");
        assert_eq!(pool.volumes(), vec![volume.clone()], "{path} left a volume");
        // Removing the failed row takes nothing else.
        let r = app
            .post(
                "/api/images/delete",
                &format!("host_id={host}&id={}", failed["id"]),
                Some(&op),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(rows().await, 1);
    }

    // A failed fetch's name is free to try again.
    let r = fetch(
        format!("{base}/short.iso"),
        "again",
        "installer",
        String::new(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    wait_for(&app, &viewer, host, -1, |_| {}, |i| i.is_some()).await;
    let r = fetch(
        format!("{base}/grub.iso"),
        "again",
        "installer",
        sum.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let again = r.json()["id"].as_i64().unwrap();
    let img = wait_for(
        &app,
        &viewer,
        host,
        again,
        |_| {},
        |i| i.is_some_and(|i| i["state"] != "uploading"),
    )
    .await
    .unwrap();
    assert_eq!(img["state"], "ready", "{img}");
    assert_eq!(rows().await, 2, "the failed row was replaced");

    // Removing a fetch under way stops it: no row, no volume, no failure.
    let r = fetch(
        format!("{base}/slow.iso"),
        "slow",
        "installer",
        String::new(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let slow = r.json()["id"].as_i64().unwrap();
    wait_for(
        &app,
        &viewer,
        host,
        slow,
        |_| {},
        |i| i.is_some_and(|i| i["received_bytes"].as_u64().unwrap_or(0) > 0),
    )
    .await;
    let r = app
        .post(
            "/api/images/delete",
            &format!("host_id={host}&id={slow}"),
            Some(&op),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(rows().await, 2, "the stopped fetch left a row");
    assert_eq!(
        pool.volumes().len(),
        2,
        "the stopped fetch left its volume: {:?}",
        pool.volumes()
    );

    // A fetch the server's stop cut off (a row under way, its partial
    // volume, no task): found at the next start, failed, its volume gone.
    let partial = "stackyard-cut-off-99.iso";
    app::testing::libvirt::virsh(&["vol-create-as", &pool.name, partial, "1M"]).unwrap();
    let cut = image::ActiveModel {
        host_id: Set(host),
        name: Set("cut off".into()),
        kind: Set("installer".into()),
        format: Set("iso".into()),
        pool: Set(pool.name.clone()),
        volume: Set(partial.into()),
        path: Set(pool.dir.join(partial).display().to_string()),
        size_bytes: Set(iso.len() as i64),
        sha256: Set(String::new()),
        state: Set("uploading".into()),
        created_by: Set("op".into()),
        created_at: Set(chrono::Utc::now()),
        source_url: Set(format!("{base}/grub.iso")),
        received_bytes: Set(65536),
        error: Set(String::new()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    assert_eq!(pool.volumes().len(), 3);
    app::images::service::recover_stopped(&app.db, &app.hosts, Duration::from_millis(200)).await;
    let row = image::Entity::find_by_id(cut.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.state, "failed");
    assert!(
        row.error
            .contains("stopped during the fetch, after 65536 of"),
        "{}",
        row.error
    );
    assert_eq!(pool.volumes().len(), 2, "{:?}", pool.volumes());

    let audit: Vec<String> = app
        .audit_rows()
        .await
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert!(audit.iter().any(|a| a == "image.fetch"), "{audit:?}");
    server.abort();
}

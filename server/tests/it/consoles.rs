//! The console's WebSocket refuses what it must, before any stream: a
//! viewer asking for a ticket, a handshake without the console's `Origin`,
//! a ticket used twice, another session's ticket, an expired one, a
//! caller who is not signed in. Each refusal is a plain HTTP answer (never
//! `101 Switching Protocols`) and the denials are audited. The consoles
//! themselves, against a real libvirtd and QEMU, are the app crate's
//! `consoles_real` tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{TestApp, ORIGIN};
use app::auth::Role;
use axum::http::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use stackyard_server::{listen, web};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The test app served over TCP, for real WebSocket handshakes.
async fn serve(app: &TestApp) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let router = web::router_with(app.state.clone(), web::RequestLimits::default());
    tokio::spawn(listen::serve(
        listener,
        router,
        std::future::pending(),
        listen::Limits::default(),
    ));
    addr
}

/// A WebSocket handshake for `path`; the answer's head and body as text.
async fn handshake(addr: &str, path: &str, cookie: Option<&str>, origin: Option<&str>) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    );
    if let Some(c) = cookie {
        request.push_str(&format!("Cookie: {c}\r\n"));
    }
    if let Some(o) = origin {
        request.push_str(&format!("Origin: {o}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut out = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut out))
        .await
        .expect("an answer")
        .unwrap();
    String::from_utf8_lossy(&out[..n]).into_owned()
}

/// A ticket's path for the demo host's running `ns1`, or the answer.
async fn ticket(app: &TestApp, cookie: &str, kind: &str) -> (StatusCode, String) {
    let r = app
        .post(
            "/api/consoles/ticket",
            &format!("host_id=1&vm=ns1&kind={kind}"),
            Some(cookie),
        )
        .await;
    let path = r.json()["path"].as_str().unwrap_or_default().to_owned();
    (r.status, if path.is_empty() { r.body } else { path })
}

#[tokio::test]
async fn console_handshakes_are_refused_without_a_stream() {
    let app = TestApp::sqlite().await;
    let op = app.with_user("op", Role::Operator).await;
    let op_id = app.account("op2", Role::Operator).await;
    let other_session = app.session(op_id).await;
    let viewer = app.with_user("viewer", Role::Viewer).await;
    let addr = serve(&app).await;

    // A viewer gets no ticket.
    let (status, body) = ticket(&app, &viewer, "screen").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // A VM that does not exist, a console that is not one.
    let r = app
        .post(
            "/api/consoles/ticket",
            "host_id=1&vm=nope&kind=serial",
            Some(&op),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = app
        .post(
            "/api/consoles/ticket",
            "host_id=1&vm=ns1&kind=audio",
            Some(&op),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);

    // Not signed in: the gate answers, no handler runs.
    let (_, path) = ticket(&app, &op, "serial").await;
    assert!(path.starts_with("/consoles/ws?ticket="), "{path}");
    let anonymous = handshake(&addr, &path, None, Some(ORIGIN)).await;
    assert!(anonymous.starts_with("HTTP/1.1 401"), "{anonymous}");
    // A viewer's session on an operator's ticket: the role is refused.
    let as_viewer = handshake(&addr, &path, Some(&viewer), Some(ORIGIN)).await;
    assert!(as_viewer.starts_with("HTTP/1.1 403"), "{as_viewer}");

    // No Origin, or another site's: refused, and the ticket still unspent.
    let no_origin = handshake(&addr, &path, Some(&op), None).await;
    assert!(no_origin.starts_with("HTTP/1.1 403"), "{no_origin}");
    assert!(
        no_origin.contains("Cross-origin console refused"),
        "{no_origin}"
    );
    let foreign = handshake(&addr, &path, Some(&op), Some("http://evil.example")).await;
    assert!(foreign.starts_with("HTTP/1.1 403"), "{foreign}");

    // Another session of an operator cannot use this session's ticket
    // (and has spent it by trying).
    let stolen = handshake(&addr, &path, Some(&other_session), Some(ORIGIN)).await;
    assert!(stolen.starts_with("HTTP/1.1 403"), "{stolen}");
    assert!(stolen.contains("another session"), "{stolen}");
    let after = handshake(&addr, &path, Some(&op), Some(ORIGIN)).await;
    assert!(after.starts_with("HTTP/1.1 403"), "{after}");
    assert!(after.contains("used already"), "{after}");

    // A fresh ticket, used: the demo host has no screens (a refusal with
    // the reason, no stream); used again: gone.
    let (_, path) = ticket(&app, &op, "screen").await;
    let first = handshake(&addr, &path, Some(&op), Some(ORIGIN)).await;
    assert!(first.starts_with("HTTP/1.1 409"), "{first}");
    assert!(first.contains("runs nothing"), "{first}");
    let twice = handshake(&addr, &path, Some(&op), Some(ORIGIN)).await;
    assert!(twice.starts_with("HTTP/1.1 403"), "{twice}");
    assert!(twice.contains("used already"), "{twice}");

    // An expired ticket.
    use app::consoles::entity::console_ticket as row;
    let (_, path) = ticket(&app, &op, "serial").await;
    row::Entity::update_many()
        .col_expr(
            row::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)),
        )
        .exec(&app.db)
        .await
        .unwrap();
    let expired = handshake(&addr, &path, Some(&op), Some(ORIGIN)).await;
    assert!(expired.starts_with("HTTP/1.1 403"), "{expired}");
    assert!(expired.contains("expired"), "{expired}");

    for answer in [
        &anonymous, &as_viewer, &no_origin, &foreign, &stolen, &after, &first, &twice, &expired,
    ] {
        assert!(!answer.contains("101 Switching Protocols"), "{answer}");
        assert!(
            !answer.to_ascii_lowercase().contains("sec-websocket-accept"),
            "{answer}"
        );
    }

    // The tickets were audited, and so were the refusals.
    let rows = app.audit_rows().await;
    let opened = rows.iter().filter(|r| r.action == "console.open").count();
    assert!(opened >= 4, "{rows:?}");
    let denied: Vec<_> = rows
        .iter()
        .filter(|r| r.action == "console.connect" && r.outcome == "denied")
        .map(|r| r.reason.clone())
        .collect();
    for why in ["cross-origin", "another session", "used already", "expired"] {
        assert!(
            denied.iter().any(|d| d.contains(why)),
            "{why} not audited: {denied:?}"
        );
    }
    // No ticket is left in the database.
    let left = row::Entity::find()
        .filter(row::Column::HostId.eq(1))
        .all(&app.db)
        .await
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
}

/// A VM's page may admit nonce'd `<style>` elements (xterm.js makes them)
/// and names its WebSocket's origin; every other page keeps the stricter
/// policy.
#[tokio::test]
async fn only_a_vm_page_admits_nonced_styles_and_names_its_websocket() {
    let app = TestApp::sqlite().await;
    let op = app.with_user("op", Role::Operator).await;
    let r = app.get("/hosts/1/vms/ns1", Some(&op)).await;
    assert_eq!(r.status, StatusCode::OK);
    let csp = r.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap();
    assert!(
        csp.contains(&format!("style-src 'self' 'nonce-{nonce}';")),
        "{csp}"
    );
    assert!(
        csp.contains("connect-src 'self' ws://console.test wss://console.test;"),
        "{csp}"
    );
    // Neither scripts nor style elements inline without the nonce, no eval.
    for directive in csp.split(';').map(str::trim) {
        if directive.starts_with("script-src ") || directive.starts_with("style-src ") {
            assert!(!directive.contains("'unsafe-inline'"), "{csp}");
            assert!(!directive.contains(" 'unsafe-eval'"), "{csp}");
        }
    }
    assert!(r.body.contains("Console"), "{}", r.body);

    let host = app.get("/hosts/1", Some(&op)).await;
    let csp = host.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("style-src 'self';"), "{csp}");
    assert!(csp.contains("connect-src 'self';"), "{csp}");
    // The host page links each VM to its page, for a full load.
    assert!(
        host.body
            .contains("href=\"/hosts/1/vms/ns1\" rel=\"external\""),
        "{}",
        host.body
    );
}

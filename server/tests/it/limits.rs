//! The server's limits, over real TCP where they concern connections: a
//! slow client's headers, requests in flight, bodies, event streams and a
//! shutdown with streams open. Each answer comes at once, and a shutdown
//! ends within its grace period whatever is still open.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::TestApp;
use stackyard_server::{listen, web};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A server on a loopback port with these limits; stops when `stop` fires.
async fn server(
    app: &TestApp,
    request: web::RequestLimits,
    connection: listen::Limits,
) -> (
    String,
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (stopping, stop) = tokio::sync::watch::channel(false);
    let router = web::router_with(app.state.clone(), request)
        .layer(axum::Extension(web::ShuttingDown(stop.clone())));
    let mut signal = stop;
    let shutdown = async move {
        let _ = signal.wait_for(|s| *s).await;
    };
    let task = tokio::spawn(listen::serve(listener, router, shutdown, connection));
    (addr, stopping, task)
}

/// Everything the server sends until it closes, or `None` if it is still
/// open after `limit`.
async fn read_to_close(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut out = Vec::new();
    let read = tokio::time::timeout(limit, stream.read_to_end(&mut out)).await;
    read.ok()
        .map(|_| String::from_utf8_lossy(&out).into_owned())
}

async fn request(addr: &str, text: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(text.as_bytes()).await.unwrap();
    read_to_close(&mut stream, Duration::from_secs(10))
        .await
        .expect("an answer and a closed connection")
}

/// `GET /healthz` by the server's address, on a connection of its own.
async fn healthz(addr: &str) -> String {
    request(
        addr,
        &format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
    .await
}

/// A POST that announced 10 octets of body and sent 2: the server holds
/// the request (and its connection) open while it waits for the rest.
async fn body_still_coming(addr: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("POST /api/auth/me HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 10\r\n\r\nab")
                .as_bytes(),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stream
}

fn status(answer: &str) -> &str {
    answer.lines().next().unwrap_or_default()
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_closed() {
    let app = TestApp::sqlite().await;
    let limits = listen::Limits {
        header_read: Duration::from_millis(500),
        ..listen::Limits::default()
    };
    let (addr, _stop, _task) = server(&app, web::RequestLimits::default(), limits).await;
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    slow.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n").as_bytes())
        .await
        .unwrap();
    let started = Instant::now();
    let closed = read_to_close(&mut slow, Duration::from_secs(5)).await;
    assert!(closed.is_some(), "still open after 5 s");
    assert!(started.elapsed() < Duration::from_secs(3));
    // A client that sends its request in time is answered.
    let ok = healthz(&addr).await;
    assert_eq!(status(&ok), "HTTP/1.1 200 OK", "{ok}");
}

#[tokio::test]
async fn requests_beyond_the_limit_in_flight_are_refused_at_once() {
    let app = TestApp::sqlite().await;
    let limits = web::RequestLimits::new(1, 8, Duration::from_secs(30));
    let (addr, _stop, _task) = server(&app, limits, listen::Limits::default()).await;
    // A request whose body is still coming holds the one place.
    let holding = body_still_coming(&addr).await;
    let started = Instant::now();
    let refused = healthz(&addr).await;
    assert_eq!(
        status(&refused),
        "HTTP/1.1 503 Service Unavailable",
        "{refused}"
    );
    assert!(refused.contains("busy"), "{refused}");
    assert!(started.elapsed() < Duration::from_secs(2));
    drop(holding);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ok = healthz(&addr).await;
    assert_eq!(status(&ok), "HTTP/1.1 200 OK", "{ok}");
}

#[tokio::test]
async fn a_body_over_its_routes_limit_gets_413() {
    let app = TestApp::sqlite().await;
    let (addr, _stop, _task) = server(
        &app,
        web::RequestLimits::default(),
        listen::Limits::default(),
    )
    .await;
    let origin = format!("http://{addr}");
    let big = "x".repeat(web::body_limit("/api/auth/login") + 1);
    // Announced by its length: refused before it is read.
    let declared = request(
        &addr,
        &format!(
            "POST /api/auth/login HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            big.len() + 9
        ),
    )
    .await;
    assert_eq!(
        status(&declared),
        "HTTP/1.1 413 Payload Too Large",
        "{declared}"
    );
    // Chunked, with no length: refused when the limit is passed.
    let chunked = request(
        &addr,
        &format!(
            "POST /api/auth/login HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\
             Connection: close\r\n\r\n{:x}\r\nusername=a&password={big}\r\n0\r\n\r\n",
            big.len() + 20
        ),
    )
    .await;
    assert_eq!(
        status(&chunked),
        "HTTP/1.1 413 Payload Too Large",
        "{chunked}"
    );
    // A zone file may be far larger than a form.
    assert!(web::body_limit("/api/dns/import") >= 4 * 1024 * 1024);
    assert_eq!(web::body_limit("/hosts"), 0);
}

/// Opens `/events/hosts` with the session `cookie`; returns the stream
/// after its headers.
async fn open_events(addr: &str, cookie: &str) -> (TcpStream, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!("GET /events/hosts HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let mut head = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut head))
        .await
        .unwrap()
        .unwrap();
    (stream, String::from_utf8_lossy(&head[..n]).into_owned())
}

#[tokio::test]
async fn event_streams_are_bounded_and_end_with_the_server() {
    let app = TestApp::sqlite().await;
    let admin = app.account("root", app::auth::Role::Admin).await;
    let cookie = app.session(admin).await;
    let limits = web::RequestLimits::new(16, 2, Duration::from_secs(30));
    let connection = listen::Limits {
        shutdown_grace: Duration::from_secs(5),
        ..listen::Limits::default()
    };
    let (addr, stop, task) = server(&app, limits, connection).await;
    let (mut first, head) = open_events(&addr, &cookie).await;
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    let (mut second, head) = open_events(&addr, &cookie).await;
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    let (_third, head) = open_events(&addr, &cookie).await;
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");

    // The shutdown ends both streams and the server, well within its grace.
    let started = Instant::now();
    stop.send(true).unwrap();
    assert!(read_to_close(&mut first, Duration::from_secs(3))
        .await
        .is_some());
    assert!(read_to_close(&mut second, Duration::from_secs(3))
        .await
        .is_some());
    tokio::time::timeout(Duration::from_secs(3), task)
        .await
        .expect("the server stopped")
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_shutdown_closes_what_is_still_open_after_its_grace() {
    let app = TestApp::sqlite().await;
    let connection = listen::Limits {
        shutdown_grace: Duration::from_millis(500),
        ..listen::Limits::default()
    };
    let (addr, stop, task) = server(&app, web::RequestLimits::default(), connection).await;
    // A request that never finishes sending its body keeps its connection.
    let _stuck = body_still_coming(&addr).await;
    let started = Instant::now();
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(3), task)
        .await
        .expect("the server stopped after its grace")
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_name_that_is_not_the_consoles_is_refused() {
    let app = TestApp::sqlite().await;
    let (addr, _stop, _task) = server(
        &app,
        web::RequestLimits::default(),
        listen::Limits::default(),
    )
    .await;
    // A page of evil.example whose DNS now points here (DNS rebinding).
    let port = addr.rsplit(':').next().unwrap_or_default();
    let rebound = request(
        &addr,
        &format!("GET /healthz HTTP/1.1\r\nHost: evil.example:{port}\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert_eq!(
        status(&rebound),
        "HTTP/1.1 421 Misdirected Request",
        "{rebound}"
    );
    assert!(rebound.contains("--public-url"), "{rebound}");
    // By its address, or by the public URL's name, it answers.
    let ok = healthz(&addr).await;
    assert_eq!(status(&ok), "HTTP/1.1 200 OK", "{ok}");
    let named = request(
        &addr,
        "GET /healthz HTTP/1.1\r\nHost: console.test\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status(&named), "HTTP/1.1 200 OK", "{named}");
}

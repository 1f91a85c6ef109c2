//! The server as a browser or a monitoring check sees it: pages, server
//! functions, `/healthz`, headers and compression, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::{body::Body, Router};
use http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use migrations::testing::PostgresDb;
use sea_orm::DatabaseConnection;
use stackyard_server::{db, web};
use tower::ServiceExt;

/// One server on a database of its own.
struct TestApp {
    router: Router,
    db: DatabaseConnection,
    _dir: tempfile::TempDir,
}

impl TestApp {
    async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("stackyard.db").display()
        );
        Self::with_url(&url, dir).await
    }

    async fn with_url(url: &str, dir: tempfile::TempDir) -> Self {
        let db = db::connect(url).await.unwrap();
        migrations::migrate(&db).await.unwrap();
        let options = web::leptos_options(&dir.path().join("site"), "127.0.0.1:0".parse().unwrap());
        let state = app::state::AppState::new(db.clone(), options);
        Self {
            router: web::router(state),
            db,
            _dir: dir,
        }
    }

    async fn send(&self, request: Request<Body>) -> (http::response::Parts, Vec<u8>) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes().to_vec();
        (parts, bytes)
    }

    async fn get(&self, path: &str) -> (http::response::Parts, String) {
        let (parts, body) = self
            .send(Request::get(path).body(Body::empty()).unwrap())
            .await;
        (parts, String::from_utf8(body).unwrap())
    }
}

#[tokio::test]
async fn healthz_answers_200_then_503_when_the_database_is_gone() {
    let app = TestApp::sqlite().await;
    let (parts, body) = app.get("/healthz").await;
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(body, "ok\n");
    assert_eq!(parts.headers[header::CACHE_CONTROL], "no-store");

    // Closing the pool is what the server sees when SQLite's file system
    // fails under it: no connection can be had.
    app.db.get_sqlite_connection_pool().close().await;
    let (parts, body) = app.get("/healthz").await;
    assert_eq!(parts.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, "database unavailable\n");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: `make test` starts it and sets STACKYARD_TEST_POSTGRES_URL"]
async fn healthz_on_postgres_turns_503_when_the_database_is_dropped() {
    let pg = PostgresDb::create().await.unwrap();
    let app = TestApp::with_url(&pg.url, tempfile::tempdir().unwrap()).await;
    let (parts, _) = app.get("/healthz").await;
    assert_eq!(parts.status, StatusCode::OK);
    let (_, body) = app
        .send(
            Request::post("/api/dashboard/status")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let status: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status["database"], "PostgreSQL");

    pg.drop().await.unwrap();
    let (parts, _) = app.get("/healthz").await;
    assert_eq!(parts.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn the_dashboard_renders_with_a_nonce_policy() {
    let app = TestApp::sqlite().await;
    let (parts, body) = app.get("/").await;
    assert_eq!(parts.status, StatusCode::OK);
    assert!(parts.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(
        body.contains("<title>Dashboard · Stackyard</title>"),
        "{body}"
    );
    assert!(body.contains("<h1>Dashboard</h1>"), "{body}");

    let csp = parts.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(!csp.contains("'unsafe-eval'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the policy");
    assert!(
        nonce.len() >= 16,
        "nonce {nonce:?} is too short to be unguessable"
    );
    assert!(
        body.contains(&format!("nonce=\"{nonce}\"")),
        "inline scripts must carry the nonce"
    );
    assert_eq!(parts.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(parts.headers[header::REFERRER_POLICY], "same-origin");
    assert_eq!(parts.headers[header::X_FRAME_OPTIONS], "DENY");

    // Each response gets a fresh nonce.
    let (again, _) = app.get("/").await;
    assert_ne!(
        again.headers[header::CONTENT_SECURITY_POLICY],
        parts.headers[header::CONTENT_SECURITY_POLICY]
    );
}

#[tokio::test]
async fn unknown_paths_get_the_404_page_inside_the_shell() {
    let app = TestApp::sqlite().await;
    let (parts, body) = app.get("/no/such/page").await;
    assert_eq!(parts.status, StatusCode::NOT_FOUND);
    assert!(body.contains("Page not found"), "{body}");
    assert!(
        body.contains("main-nav"),
        "the 404 page keeps the navigation: {body}"
    );
}

#[tokio::test]
async fn pages_are_compressed_with_brotli_or_gzip() {
    let app = TestApp::sqlite().await;
    for (accept, expected) in [("br", "br"), ("gzip", "gzip"), ("gzip, br", "br")] {
        let request = Request::get("/")
            .header(header::ACCEPT_ENCODING, accept)
            .body(Body::empty())
            .unwrap();
        let (parts, _) = app.send(request).await;
        assert_eq!(
            parts
                .headers
                .get(header::CONTENT_ENCODING)
                .map(|v| v.to_str().unwrap()),
            Some(expected),
            "Accept-Encoding: {accept}"
        );
    }
    let (parts, _) = app.get("/").await;
    assert!(parts.headers.get(header::CONTENT_ENCODING).is_none());
}

#[tokio::test]
async fn the_status_server_function_answers_at_its_stable_url() {
    let app = TestApp::sqlite().await;
    let (parts, body) = app
        .send(
            Request::post("/api/dashboard/status")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(parts.status, StatusCode::OK);
    let status: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status["database"], "SQLite");
    assert_eq!(status["database_ok"], true);
    assert_eq!(
        status["schema"],
        serde_json::json!(migrations::known_migrations().last())
    );
}

//! The server as a browser or a monitoring check sees it: pages, server
//! functions, `/healthz`, headers and compression, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use app::auth::Role;
use axum::body::Body;
use common::TestApp;
use http::{header, Request, StatusCode};
use migrations::testing::PostgresDb;

#[tokio::test]
async fn healthz_answers_200_then_503_when_the_database_is_gone() {
    let app = TestApp::sqlite().await;
    let r = app.get("/healthz", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, "ok\n");
    assert_eq!(r.headers[header::CACHE_CONTROL], "no-store");

    // Closing the pool is what the server sees when SQLite's file system
    // fails under it: no connection can be had.
    app.db.get_sqlite_connection_pool().close().await;
    let r = app.get("/healthz", None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.body, "database unavailable\n");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: `make test` starts it and sets STACKYARD_TEST_POSTGRES_URL"]
async fn healthz_on_postgres_turns_503_when_the_database_is_dropped() {
    let pg = PostgresDb::create().await.unwrap();
    let app = TestApp::with_url(&pg.url, tempfile::tempdir().unwrap()).await;
    assert_eq!(app.get("/healthz", None).await.status, StatusCode::OK);
    let id = app.account("viewer", Role::Viewer).await;
    let cookie = app.session(id).await;
    let r = app.post("/api/dashboard/status", "", Some(&cookie)).await;
    assert_eq!(r.json()["database"], "PostgreSQL");

    pg.drop().await.unwrap();
    assert_eq!(
        app.get("/healthz", None).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn the_dashboard_renders_with_a_nonce_policy() {
    let app = TestApp::sqlite().await;
    let id = app.account("viewer", Role::Viewer).await;
    let cookie = app.session(id).await;
    let r = app.get("/", Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::OK);
    let body = &r.body;
    assert!(r.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(
        body.contains("<title>Dashboard · Stackyard</title>"),
        "{body}"
    );
    assert!(body.contains("<h1>Dashboard</h1>"), "{body}");

    let csp = r.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
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
    assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(r.headers[header::REFERRER_POLICY], "same-origin");
    assert_eq!(r.headers[header::X_FRAME_OPTIONS], "DENY");

    // Each response gets a fresh nonce.
    let again = app.get("/", Some(&cookie)).await;
    assert_ne!(
        again.headers[header::CONTENT_SECURITY_POLICY],
        r.headers[header::CONTENT_SECURITY_POLICY]
    );
}

/// Pages and server-function answers carry accounts, keys and audit rows:
/// no browser or proxy may keep them. The bundle is revalidated instead.
#[tokio::test]
async fn pages_and_answers_are_never_stored_by_caches() {
    let app = TestApp::sqlite().await;
    let id = app.account("root", Role::Admin).await;
    let cookie = app.session(id).await;
    let page = app.get("/users", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");
    let refused = app.get("/users", None).await;
    assert_eq!(refused.headers[header::CACHE_CONTROL], "no-store");
    let answer = app.post("/api/users/list", "", Some(&cookie)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store");
}

#[tokio::test]
async fn pages_need_a_session_and_show_the_sign_in_form_in_place() {
    let app = TestApp::sqlite().await;
    let r = app.get("/hosts", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("<h1>Sign in</h1>"), "{}", r.body);
    assert!(!r.body.contains("<h1>Hosts</h1>"));
}

#[tokio::test]
async fn a_page_path_with_a_trailing_slash_goes_to_the_page_itself() {
    let app = TestApp::sqlite().await;
    let r = app.get("/hosts/?x=1", None).await;
    assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(r.headers["location"], "/hosts?x=1");
    // Never a protocol-relative redirect to another site.
    let r = app.get("//elsewhere.example/", None).await;
    assert_eq!(r.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(r.headers["location"], "/elsewhere.example");
}

#[tokio::test]
async fn unknown_paths_get_the_404_page_inside_the_shell() {
    let app = TestApp::sqlite().await;
    let r = app.get("/no/such/page", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("Page not found"), "{}", r.body);
    assert!(
        r.body.contains("main-nav"),
        "the 404 page keeps the navigation: {}",
        r.body
    );
}

#[tokio::test]
async fn pages_are_compressed_with_brotli_or_gzip() {
    let app = TestApp::sqlite().await;
    for (accept, expected) in [("br", "br"), ("gzip", "gzip"), ("gzip, br", "br")] {
        let request = Request::get("/login")
            .header(header::ACCEPT_ENCODING, accept)
            .body(Body::empty())
            .unwrap();
        let r = app.send(request).await;
        assert_eq!(
            r.headers
                .get(header::CONTENT_ENCODING)
                .map(|v| v.to_str().unwrap()),
            Some(expected),
            "Accept-Encoding: {accept}"
        );
    }
    assert!(app
        .get("/login", None)
        .await
        .headers
        .get(header::CONTENT_ENCODING)
        .is_none());
}

#[tokio::test]
async fn the_status_server_function_answers_at_its_stable_url() {
    let app = TestApp::sqlite().await;
    let id = app.account("viewer", Role::Viewer).await;
    let cookie = app.session(id).await;
    let r = app.post("/api/dashboard/status", "", Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::OK);
    let status = r.json();
    assert_eq!(status["database"], "SQLite");
    assert_eq!(status["database_ok"], true);
    assert_eq!(
        status["schema"],
        serde_json::json!(migrations::known_migrations().last())
    );
}

#[tokio::test]
async fn bundle_files_are_served_precompressed_and_revalidated() {
    let app = TestApp::sqlite().await;
    let pkg = app.site_root().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("bundle.js"), "plain javascript ".repeat(100)).unwrap();
    std::fs::write(pkg.join("bundle.js.br"), "the brotli file").unwrap();
    std::fs::write(pkg.join("bundle.js.gz"), "the gzip file").unwrap();

    for (accept, encoding, body) in [
        ("gzip, deflate, br", Some("br"), "the brotli file"),
        ("gzip", Some("gzip"), "the gzip file"),
    ] {
        let request = Request::get("/pkg/bundle.js")
            .header(header::ACCEPT_ENCODING, accept)
            .body(Body::empty())
            .unwrap();
        let r = app.send(request).await;
        assert_eq!(r.status, StatusCode::OK, "Accept-Encoding: {accept}");
        assert_eq!(
            r.headers
                .get(header::CONTENT_ENCODING)
                .map(|v| v.to_str().unwrap()),
            encoding,
            "Accept-Encoding: {accept}"
        );
        assert_eq!(r.body, body, "the prebuilt file, not compressed again");
        assert_eq!(r.headers.get(header::CACHE_CONTROL).unwrap(), "no-cache");
        assert_eq!(
            r.headers.get(header::CONTENT_TYPE).unwrap(),
            "text/javascript"
        );
    }

    // Without Accept-Encoding: the file itself.
    let r = app.get("/pkg/bundle.js", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers.get(header::CONTENT_ENCODING).is_none());
    assert_eq!(r.body, "plain javascript ".repeat(100));
    let modified = r.headers.get(header::LAST_MODIFIED).unwrap().clone();

    // A file without prebuilt siblings is still compressed on the fly.
    std::fs::write(pkg.join("style.css"), "body { margin: 0 } ".repeat(100)).unwrap();
    let request = Request::get("/pkg/style.css")
        .header(header::ACCEPT_ENCODING, "br")
        .body(Body::empty())
        .unwrap();
    let r = app.send(request).await;
    assert_eq!(r.headers.get(header::CONTENT_ENCODING).unwrap(), "br");

    // The same build again: 304, nothing sent.
    let request = Request::get("/pkg/bundle.js")
        .header(header::IF_MODIFIED_SINCE, modified)
        .body(Body::empty())
        .unwrap();
    let r = app.send(request).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert!(r.body.is_empty());

    let r = app.get("/pkg/missing.wasm", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn over_https_the_cookie_is_host_only_and_secure_and_hsts_is_sent() {
    let app = TestApp::sqlite_with(|config| {
        config.public_origin = Some("https://console.test".to_owned());
        config.secure_cookies = true;
    })
    .await;
    app.account("heidi", Role::Viewer).await;
    let r = app
        .post_from(
            "/api/auth/login",
            "username=heidi&password=correct+horse+battery",
            None,
            Some("https://console.test"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let cookie = r
        .headers
        .get(http::header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("__Host-stackyard_session="), "{cookie}");
    assert!(
        cookie.contains("; Secure") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Domain"), "{cookie}");
    assert_eq!(
        r.headers
            .get(http::header::STRICT_TRANSPORT_SECURITY)
            .unwrap(),
        "max-age=31536000"
    );
    // The prefixed cookie is the session; the plain name is not.
    let token = cookie.split(';').next().unwrap().to_owned();
    let me = app
        .post_from(
            "/api/auth/me",
            "",
            Some(&token),
            Some("https://console.test"),
        )
        .await;
    assert_eq!(me.json()["username"], "heidi", "{}", me.body);
    let plain = token.replacen("__Host-", "", 1);
    let me = app
        .post_from(
            "/api/auth/me",
            "",
            Some(&plain),
            Some("https://console.test"),
        )
        .await;
    assert_eq!(me.json(), serde_json::Value::Null, "{}", me.body);

    // Over plain http: the plain name, and no HSTS.
    let plain_app = TestApp::sqlite().await;
    let r = plain_app.get("/login", None).await;
    assert!(r
        .headers
        .get(http::header::STRICT_TRANSPORT_SECURITY)
        .is_none());
}

//! A layout file's import preview and export run on the server (the browser
//! carries no TOML reader or writer): the preview reads as the import does
//! and saves nothing, the export writes what the import reads back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{self, form, TestApp};

use app::auth::Role;
use axum::body::Body;
use http::{header, Request, StatusCode};

const LAYOUT: &str = r#"name = "paper"
description = "Table 2 on one server"

[[vm]]
name = "dns-1"
template = "Master DNS"
vcpus = 1
memory_mib = 512
disk_gib = 4
host = "auto"

[[vm]]
name = "mail"
vcpus = 1
memory_mib = 2000
disk_gib = 100
"#;

async fn layouts(app: &TestApp, cookie: &str) -> usize {
    let list = app.post("/api/layouts/list", "", Some(cookie)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    list.json().as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_preview_reads_as_the_import_does_and_saves_nothing() {
    let app = TestApp::sqlite().await;
    let operator = app.with_user("otto", Role::Operator).await;
    let viewer = app.with_user("vera", Role::Viewer).await;
    let before = layouts(&app, &operator).await;

    let preview = app
        .post(
            "/api/layouts/import_preview",
            &form(&[("file_name", "paper.toml"), ("text", LAYOUT)]),
            Some(&operator),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert_eq!(
        preview.json(),
        serde_json::json!({"name": "paper", "vms": 2})
    );

    // A problem comes back under `text`, with its line and field.
    let bad = LAYOUT.replace("memory_mib = 2000", "memory_mib = \"lots\"");
    let refused = app
        .post(
            "/api/layouts/import_preview",
            &form(&[("file_name", "paper.toml"), ("text", &bad)]),
            Some(&operator),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    let message = refused.json()["Invalid"].clone();
    assert_eq!(message["field"], "text", "{message}");
    let message = message["message"].as_str().unwrap();
    assert!(message.contains("line 15"), "{message}");
    assert!(message.contains("memory_mib"), "{message}");
    // Reading is not a change: nothing saved, nothing in the audit log.
    assert_eq!(layouts(&app, &operator).await, before);
    assert_eq!(app.audit_count().await, 0);

    // Like the import, it is an operator's.
    let forbidden = app
        .post(
            "/api/layouts/import_preview",
            &form(&[("file_name", "paper.toml"), ("text", LAYOUT)]),
            Some(&viewer),
        )
        .await;
    assert_eq!(
        forbidden.status,
        StatusCode::FORBIDDEN,
        "{}",
        forbidden.body
    );
    assert_eq!(layouts(&app, &operator).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_export_writes_what_the_import_reads_back() {
    let app = TestApp::sqlite().await;
    let viewer = app.with_user("vera", Role::Viewer).await;
    let operator = app.with_user("otto", Role::Operator).await;
    let spec = app::layouts::file::parse_layout(Some("paper.toml"), LAYOUT).unwrap();

    for (format, starts) in [("toml", "name = \"paper\""), ("json", "{")] {
        let body = serde_json::json!({ "spec": spec, "format": format }).to_string();
        let request = Request::post("/api/layouts/export")
            .header(header::HOST, common::HOST)
            .header(header::ORIGIN, common::ORIGIN)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, &viewer)
            .body(Body::from(body))
            .unwrap();
        let exported = app.send(request).await;
        assert_eq!(exported.status, StatusCode::OK, "{}", exported.body);
        let text: String = serde_json::from_str(&exported.body).unwrap();
        assert!(text.trim_start().starts_with(starts), "{format}: {text}");

        let back = app
            .post(
                "/api/layouts/import_preview",
                &form(&[("file_name", &format!("paper.{format}")), ("text", &text)]),
                Some(&operator),
            )
            .await;
        assert_eq!(back.status, StatusCode::OK, "{}", back.body);
        assert_eq!(back.json(), serde_json::json!({"name": "paper", "vms": 2}));
    }
}

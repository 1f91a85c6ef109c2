//! A layout's page opens with one answer (`/api/layouts/editor`): the
//! layout, the hosts and templates it is weighed against, and its
//! evaluation made on the server, which the page draws before any of the
//! placement code reaches the browser.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{form, TestApp};

use app::auth::Role;
use http::StatusCode;

/// The id of the paper's layout (Table 2), which a new database holds.
async fn table2(app: &TestApp, cookie: &str) -> String {
    let list = app.post("/api/layouts/list", "", Some(cookie)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    list.json()
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "Paper, Table 2")
        .expect("the paper's layout")["id"]
        .as_i64()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_editor_opens_with_the_layout_and_the_servers_evaluation_of_it() {
    let app = TestApp::sqlite().await;
    let viewer = app.with_user("vera", Role::Viewer).await;
    let id = table2(&app, &viewer).await;

    // A viewer reads it: the paper's 15 VMs, all on the demo host, which
    // they fit (eq. 1), with eq. (3) for every template.
    let editor = app
        .post("/api/layouts/editor", &form(&[("id", &id)]), Some(&viewer))
        .await;
    assert_eq!(editor.status, StatusCode::OK, "{}", editor.body);
    let v = editor.json();
    assert_eq!(v["spec"]["name"], "Paper, Table 2");
    let vms = v["spec"]["vm"].as_array().unwrap();
    assert_eq!(vms.len(), 15);
    let e = &v["evaluation"];
    assert_eq!(e["fits"], true, "{e}");
    let placed = e["vms"].as_array().unwrap();
    assert_eq!(placed.len(), 15);
    for (vm, p) in vms.iter().zip(placed) {
        assert_eq!(p["vm"], vm["name"]);
        assert_eq!(p["host"], "demo", "{p}");
        assert!(p["broken"].as_array().unwrap().is_empty(), "{p}");
    }
    let demo = &e["hosts"][0];
    assert_eq!(demo["host"], "demo");
    assert_eq!(demo["memory"], 32768);
    assert_eq!(demo["fits"], true);
    let templates = v["templates"].as_array().unwrap().len();
    assert!(templates > 0);
    assert_eq!(demo["more"].as_array().unwrap().len(), templates);
    assert_eq!(v["hosts"]["hosts"][0]["name"], "demo");
    // Reading changes nothing.
    assert_eq!(app.audit_count().await, 0);

    // A layout that is not there is said so; nobody signed in is refused.
    let missing = app
        .post(
            "/api/layouts/editor",
            &form(&[("id", "999999")]),
            Some(&viewer),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    let anonymous = app
        .post("/api/layouts/editor", &form(&[("id", &id)]), None)
        .await;
    assert_eq!(
        anonymous.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        anonymous.body
    );
}

/// The page opens with the layout in words (`/api/layouts/read`): each VM's
/// line, the hosts' figures and settings, as the server evaluated them; the
/// editor's answer is fetched only on Edit.
#[tokio::test(flavor = "multi_thread")]
async fn the_page_opens_with_the_layout_to_read_and_exports_it_as_saved() {
    let app = TestApp::sqlite().await;
    let viewer = app.with_user("vera", Role::Viewer).await;
    let id = table2(&app, &viewer).await;
    let editor = app
        .post("/api/layouts/editor", &form(&[("id", &id)]), Some(&viewer))
        .await
        .json();

    let read = app
        .post("/api/layouts/read", &form(&[("id", &id)]), Some(&viewer))
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    let r = read.json();
    assert_eq!(r["name"], "Paper, Table 2");
    // The same evaluation the editor opens with.
    assert_eq!(r["evaluation"], editor["evaluation"]);
    let lines = r["vms"].as_array().unwrap();
    let vms = editor["spec"]["vm"].as_array().unwrap();
    assert_eq!(lines.len(), vms.len());
    for (line, vm) in lines.iter().zip(vms) {
        assert_eq!(line["name"], vm["name"]);
        let vcpus = vm["vcpus"].as_u64().unwrap();
        let size = format!(
            "{vcpus} vCPU{} · {} MiB · {} GiB",
            if vcpus == 1 { "" } else { "s" },
            vm["memory_mib"],
            vm["disk_gib"]
        );
        assert_eq!(line["size"], size.as_str());
        let template = vm["template"].as_str().unwrap_or("custom size");
        assert_eq!(line["template"], template);
        assert!(
            line["host_and_network"]
                .as_str()
                .unwrap()
                .starts_with("auto · "),
            "{line}"
        );
        assert_eq!(line["placement"], "→ placed on demo", "{line}");
        assert_eq!(line["bad"], false);
    }
    // The demo host with the settings its form opens with: no reserve set,
    // the default one for its 32 GiB.
    let demo = &r["hosts"][0];
    assert_eq!(demo["name"], "demo");
    assert_eq!(demo["settings"]["os_reserve"], serde_json::Value::Null);
    assert!(demo["settings"]["default_reserve"].as_u64().unwrap() > 0);
    assert_eq!(
        r["evaluation"]["hosts"][0]["os_reserve"],
        demo["settings"]["default_reserve"]
    );

    // Export of the layout as saved, for a viewer; a missing one is 404.
    let toml = app
        .post(
            "/api/layouts/export-saved",
            &form(&[("id", &id), ("format", "toml")]),
            Some(&viewer),
        )
        .await;
    assert_eq!(toml.status, StatusCode::OK, "{}", toml.body);
    let text = toml.json();
    let text = text.as_str().unwrap();
    assert!(text.contains("name = \"Paper, Table 2\""), "{text}");
    assert_eq!(text.matches("[[vm]]").count(), 15, "{text}");
    let missing = app
        .post(
            "/api/layouts/read",
            &form(&[("id", "999999")]),
            Some(&viewer),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    assert_eq!(app.audit_count().await, 0);
    let anonymous = app
        .post("/api/layouts/read", &form(&[("id", &id)]), None)
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

//! A layout's page opens with one answer (`/api/layouts/editor`): the
//! layout, the hosts and templates it is weighed against, and its
//! evaluation made on the server, which the page draws before any of the
//! placement code reaches the browser.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{form, TestApp};

use app::auth::Role;
use http::StatusCode;

#[tokio::test(flavor = "multi_thread")]
async fn the_editor_opens_with_the_layout_and_the_servers_evaluation_of_it() {
    let app = TestApp::sqlite().await;
    let viewer = app.with_user("vera", Role::Viewer).await;
    let list = app.post("/api/layouts/list", "", Some(&viewer)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let id = list
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "Paper, Table 2")
        .expect("the paper's layout")["id"]
        .as_i64()
        .unwrap()
        .to_string();

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

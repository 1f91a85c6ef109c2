//! The dashboard over HTTP: the overview's hosts (the demo host with its
//! memory and VMs), zones never applied, mail domains with their last
//! readiness check as the check itself records it, and the recent changes,
//! which reach operators and admins and never a viewer, neither through the
//! server function nor in the rendered page.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use app::auth::Role;
use common::TestApp;
use http::StatusCode;
use std::time::Duration;

const OVERVIEW: &str = "/api/dashboard/overview";

/// The overview once the demo host's worker has reported its VMs.
async fn overview_with_demo(app: &TestApp, cookie: &str) -> serde_json::Value {
    for _ in 0..50 {
        let o = app.post(OVERVIEW, "", Some(cookie)).await;
        assert_eq!(o.status, StatusCode::OK, "{}", o.body);
        let o = o.json();
        if o["hosts"][0]["reachable"] == true && o["hosts"][0]["vms_total"] != 0 {
            return o;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the demo host never came up");
}

#[tokio::test(flavor = "multi_thread")]
async fn recent_changes_reach_operators_and_admins_but_never_viewers() {
    let app = TestApp::sqlite().await;
    let admin = app.with_user("root", Role::Admin).await;
    let op = app.with_user("olga", Role::Operator).await;
    let viewer = app.with_user("vic", Role::Viewer).await;

    let anonymous = app.post(OVERVIEW, "", None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    // Eleven audited changes: the dashboard shows the newest ten.
    for i in 0..11 {
        let r = app
            .post(
                "/api/mail/add_domain",
                &format!("name=d{i}.test"),
                Some(&op),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }

    let seen = overview_with_demo(&app, &viewer).await;
    assert!(seen["recent_changes"].is_null(), "{seen:#}");
    let raw = app.post(OVERVIEW, "", Some(&viewer)).await.body;
    assert!(!raw.contains("mail.add_domain"), "{raw}");

    for cookie in [&op, &admin] {
        let o = app.post(OVERVIEW, "", Some(cookie)).await.json();
        let recent = o["recent_changes"].as_array().unwrap();
        assert_eq!(recent.len(), 10, "{o:#}");
        assert_eq!(recent[0]["action"], "mail.add_domain");
        assert_eq!(recent[0]["target"], "d10.test");
        assert_eq!(recent[0]["username"], "olga");
        assert_eq!(recent[0]["outcome"], "success");
    }

    // The page as the server renders it: the panel for the operator only.
    let page = app.get("/", Some(&op)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Recent changes"), "{}", page.body);
    assert!(page.body.contains("d10.test"));
    let page = app.get("/", Some(&viewer)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("This instance"), "{}", page.body);
    assert!(!page.body.contains("Recent changes"), "{}", page.body);
    assert!(!page.body.contains("mail.add_domain"), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn hosts_zones_and_mail_checks_as_the_dashboard_shows_them() {
    let app = TestApp::sqlite_any_resolver().await;
    let admin = app.with_user("root", Role::Admin).await;
    let op = app.with_user("olga", Role::Operator).await;
    let o = overview_with_demo(&app, &op).await;

    // The demo host: the paper's 32 GiB server, y_os by the default policy
    // (max(2048 MiB, 5 %)), and every VM's memory as existing demand.
    let host = &o["hosts"][0];
    let id = host["id"].as_i64().unwrap();
    assert_eq!(host["name"], "demo");
    assert_eq!(host["reachable"], true);
    assert!(host["last_error"].is_null());
    assert_eq!(host["memory_mib"], 32768);
    assert_eq!(host["os_mib"], 2048);
    let detail = app
        .post("/api/hosts/get", &format!("id={id}"), Some(&op))
        .await
        .json();
    let vms = detail["vms"].as_array().unwrap();
    let memory: u64 = vms.iter().map(|v| v["memory_mib"].as_u64().unwrap()).sum();
    let running = vms.iter().filter(|v| v["state"] == "running").count();
    assert_eq!(host["vms_memory_mib"], memory);
    assert_eq!(host["vms_total"], vms.len());
    assert_eq!(host["vms_running"], running);

    // A zone never applied; with no secondary entered, nothing is asked.
    let z = app
        .post(
            "/api/dns/create_zone",
            "kind=forward&origin=example.test",
            Some(&op),
        )
        .await;
    assert_eq!(z.status, StatusCode::OK, "{}", z.body);
    let dns = &app.post(OVERVIEW, "", Some(&op)).await.json()["dns"];
    assert_eq!(dns["zones"], 1);
    assert_eq!(dns["secondaries"], 0);
    assert_eq!(dns["attention"][0]["origin"], "example.test.");
    assert_eq!(dns["attention"][0]["id"], z.json()["id"]);
    assert_eq!(dns["attention"][0]["issues"][0], "NeverApplied");

    // A mail domain is "never checked" until its readiness check runs; the
    // check's own server function records the run (here against a resolver
    // that is not there, so items warn rather than pass).
    let r = app
        .post("/api/mail/add_domain", "name=example.test", Some(&op))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mail = &app.post(OVERVIEW, "", Some(&op)).await.json()["mail"];
    assert_eq!(mail[0]["domain"], "example.test");
    assert!(mail[0]["last_check"].is_null(), "{mail}");

    let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let resolver = closed.local_addr().unwrap().to_string();
    drop(closed);
    let s = app
        .post(
            "/api/mail/settings",
            &format!(
                "domain=example.test&mail_host=mail.example.test&mail_ip=192.0.2.10\
                 &dnsbl_zones=bl.test&resolver={resolver}"
            ),
            Some(&admin),
        )
        .await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.body);
    let before = chrono::Utc::now();
    let check = app
        .post("/api/mail/check", "domain=example.test", Some(&op))
        .await;
    assert_eq!(check.status, StatusCode::OK, "{}", check.body);
    let items = check.json()["items"].as_array().unwrap().clone();
    let count = |status: &str| items.iter().filter(|i| i["status"] == status).count();

    let mail = &app.post(OVERVIEW, "", Some(&op)).await.json()["mail"];
    let run = &mail[0]["last_check"];
    assert_eq!(run["passed"], count("pass"), "{mail}");
    assert_eq!(run["failed"], count("fail"), "{mail}");
    assert_eq!(run["warned"], count("warn"), "{mail}");
    assert!(count("warn") > 0, "{items:?}");
    // Whole seconds since the epoch.
    let ran_at = run["ran_at"].as_i64().unwrap();
    assert!(
        ran_at >= before.timestamp() && ran_at <= chrono::Utc::now().timestamp(),
        "{run}"
    );

    // Removing the domain takes its runs along.
    let r = app
        .post(
            "/api/mail/remove_domain",
            "domain=example.test",
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mail = &app.post(OVERVIEW, "", Some(&op)).await.json()["mail"];
    assert_eq!(mail.as_array().map(Vec::len), Some(0), "{mail}");
}

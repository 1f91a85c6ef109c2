//! Plan and apply over HTTP on the demo host: viewers see the plan and the
//! runs, operators apply; the run is followed step by step as the page
//! does, and audited.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use app::auth::Role;
use app::layouts::{HostChoice, LayoutSpec, LayoutVm, Nic};
use common::TestApp;
use http::StatusCode;
use std::time::Duration;

fn vm(name: &str, memory_mib: u64, host: &str) -> LayoutVm {
    LayoutVm {
        fqdn: None,
        image: None,
        packages: Vec::new(),
        commands: Vec::new(),
        user_data: None,
        name: name.into(),
        template: Some("Master DNS".into()),
        vcpus: 1,
        memory_mib,
        disk_gib: 4,
        host: HostChoice::from(host.to_string()),
        network: Nic::Network("br0".into()),
        ip: None,
        start: true,
    }
}

/// Layout `id`'s plan, as `cookie`'s caller sees it.
async fn plan_of(app: &TestApp, id: i32, cookie: &str) -> serde_json::Value {
    let r = app
        .post(
            "/api/layouts/plan",
            &format!("layout_id={id}"),
            Some(cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

async fn wait_demo(app: &TestApp) {
    let (_, handle) = app.hosts.all().into_iter().next().unwrap();
    assert!(handle.wait_reachable(Duration::from_secs(10)).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn viewers_plan_operators_apply_and_the_page_follows_the_steps() {
    let app = TestApp::sqlite().await;
    wait_demo(&app).await;
    let spec = LayoutSpec {
        zone: None,
        networks: Vec::new(),
        cloud_init: Default::default(),
        name: "http".into(),
        description: String::new(),
        vms: vec![vm("dns-a", 512, "demo"), vm("dns-b", 512, "auto")],
    };
    let id = app::layouts::store::save(&app.db, None, &spec)
        .await
        .unwrap();
    let viewer = app.with_user("vera", Role::Viewer).await;
    let operator = app.with_user("otto", Role::Operator).await;

    let plan = plan_of(&app, id, &viewer).await;
    assert_eq!(plan["can_apply"], false);
    assert_eq!(plan["missing_images"], serde_json::json!([]));
    assert_eq!(plan["plan"]["resolved"]["fits"], true, "{plan}");
    assert_eq!(plan["plan"]["items"][0]["action"]["kind"], "create");
    assert_eq!(plan["plan"]["items"][1]["host"], "demo");
    let extras: Vec<&str> = plan["plan"]["extra"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["vm"].as_str().unwrap())
        .collect();
    assert!(extras.contains(&"web"), "{extras:?}");

    let denied = app
        .post(
            "/api/layouts/apply",
            &format!("layout_id={id}"),
            Some(&viewer),
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let missing = app
        .post("/api/layouts/apply", "layout_id=9999", Some(&operator))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);

    let started = app
        .post(
            "/api/layouts/apply",
            &format!("layout_id={id}"),
            Some(&operator),
        )
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let mut run = serde_json::Value::Null;
    for _ in 0..100 {
        run = app
            .post(
                "/api/layouts/apply_status",
                &format!("layout_id={id}"),
                Some(&viewer),
            )
            .await
            .json();
        if run["outcome"] != "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(run["outcome"], "succeeded", "{run}");
    let steps: Vec<String> = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| format!("{} {} {}", s["vm"], s["step"], s["status"]))
        .collect();
    assert_eq!(
        steps,
        [
            "\"\" \"check\" \"done\"",
            "\"dns-a\" \"volume\" \"done\"",
            "\"dns-a\" \"define\" \"done\"",
            "\"dns-a\" \"start\" \"done\"",
            "\"dns-b\" \"volume\" \"done\"",
            "\"dns-b\" \"define\" \"done\"",
            "\"dns-b\" \"start\" \"done\"",
        ]
    );

    // The plan now says nothing is left to do, and the apply is audited
    // once (the task writes the row just after the run is finished).
    let plan = plan_of(&app, id, &operator).await;
    assert_eq!(plan["can_apply"], true);
    let kinds: Vec<&str> = plan["plan"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["action"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["unchanged", "unchanged"]);
    let mut audited = Vec::new();
    for _ in 0..50 {
        audited = app
            .audit_rows()
            .await
            .into_iter()
            .filter(|r| r.action == "layouts.apply")
            .collect();
        if audited.iter().any(|r| r.outcome == "success") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ok: Vec<_> = audited.iter().filter(|r| r.outcome == "success").collect();
    assert_eq!(ok.len(), 1, "{audited:?}");
    assert_eq!(ok[0].target, "http");
    assert_eq!(ok[0].username, "otto");
    assert!(
        ok[0].summary.contains("dns-b on demo: start: started"),
        "{}",
        ok[0].summary
    );
}

/// A VM to be made from an image its host's library does not hold: the
/// plan says so before anything runs (the run would stop at its image
/// step); once the library holds it (ready), the plan says nothing more.
#[tokio::test(flavor = "multi_thread")]
async fn the_plan_names_the_vms_whose_image_the_host_does_not_hold() {
    use sea_orm::{ActiveModelTrait, Set};
    let app = TestApp::sqlite().await;
    wait_demo(&app).await;
    let mut from_image = vm("cloud-a", 512, "demo");
    from_image.image = Some("debian-12".into());
    let spec = LayoutSpec {
        zone: None,
        networks: Vec::new(),
        cloud_init: Default::default(),
        name: "images".into(),
        description: String::new(),
        vms: vec![from_image, vm("blank-b", 512, "demo")],
    };
    let id = app::layouts::store::save(&app.db, None, &spec)
        .await
        .unwrap();
    let viewer = app.with_user("vera", Role::Viewer).await;
    let p = plan_of(&app, id, &viewer).await;
    assert_eq!(
        p["missing_images"],
        serde_json::json!([
            "cloud-a is to be made from the image debian-12, which demo's image library does not hold \
             (ready): upload it on the host's Images page, or choose another image or host"
        ]),
        "{p}"
    );

    // An upload still under way does not count; a ready one does.
    let (demo, _) = app.hosts.all().into_iter().next().unwrap();
    let row = app::images::entity::image::ActiveModel {
        host_id: Set(demo.id),
        name: Set("debian-12".into()),
        kind: Set("cloud".into()),
        format: Set("qcow2".into()),
        pool: Set("default".into()),
        volume: Set("debian-12.qcow2".into()),
        path: Set("/var/lib/libvirt/images/debian-12.qcow2".into()),
        size_bytes: Set(1 << 20),
        sha256: Set(String::new()),
        state: Set("uploading".into()),
        created_by: Set("tester".into()),
        created_at: Set(chrono::Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .unwrap();
    let p = plan_of(&app, id, &viewer).await;
    assert_eq!(p["missing_images"].as_array().unwrap().len(), 1, "{p}");
    let mut ready: app::images::entity::image::ActiveModel = row.into();
    ready.state = Set("ready".into());
    ready.sha256 = Set("00".repeat(32));
    ready.update(&app.db).await.unwrap();
    let p = plan_of(&app, id, &viewer).await;
    assert_eq!(p["missing_images"], serde_json::json!([]), "{p}");
}

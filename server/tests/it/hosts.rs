//! Hosts and VMs over HTTP, on the demo host (libvirt's test driver with the
//! paper's server): capacity, the VM list, actions, the audit trail, live
//! events, and a host whose URI does not work.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use app::auth::Role;
use common::TestApp;
use http::StatusCode;
use std::time::Duration;

async fn demo(app: &TestApp) -> (i32, String) {
    let id = app.account("op", Role::Operator).await;
    let cookie = app.session(id).await;
    let list = app.post("/api/hosts/list", "", Some(&cookie)).await.json();
    let host = list[0]["id"].as_i64().unwrap() as i32;
    // The worker connects in the background; wait for its first snapshot.
    for _ in 0..50 {
        let d = app
            .post("/api/hosts/get", &format!("id={host}"), Some(&cookie))
            .await
            .json();
        if d["summary"]["reachable"] == true && d["vms"].as_array().is_some_and(|v| !v.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (host, cookie)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_host_shows_the_papers_server_and_its_vms() {
    let app = TestApp::sqlite().await;
    let (host, cookie) = demo(&app).await;
    let d = app
        .post("/api/hosts/get", &format!("id={host}"), Some(&cookie))
        .await
        .json();
    assert_eq!(d["summary"]["name"], "demo");
    assert_eq!(
        d["summary"]["label"],
        "demo: libvirt test driver, nothing real runs"
    );
    assert_eq!(d["capacity"]["memory_total_mib"], 32768);
    assert_eq!(d["capacity"]["cpus"], 16);
    assert!(
        d["capacity"]["cpu_model"]
            .as_str()
            .unwrap()
            .contains("E5620"),
        "{d}"
    );
    assert_eq!(d["capacity"]["pools"][0]["name"], "default");
    assert_eq!(d["capacity"]["networks"][0]["name"], "br0");
    let names: Vec<&str> = d["vms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["mail", "ns1", "web"]);

    // The host page renders them, server-side.
    let page = app.get(&format!("/hosts/{host}"), Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Virtual machines") && page.body.contains("ns1"),
        "{}",
        page.body
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn vm_actions_change_state_are_audited_and_announced() {
    let app = TestApp::sqlite().await;
    let (host, cookie) = demo(&app).await;
    let mut changes = app.hosts.subscribe();
    let state = |d: &serde_json::Value, vm: &str| {
        d["vms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == vm)
            .unwrap()["state"]
            .clone()
    };

    for (action, expected) in [
        ("start", "running"),
        ("pause", "paused"),
        ("resume", "running"),
        ("force_off", "shut_off"),
    ] {
        let r = app
            .post(
                "/api/hosts/vm_action",
                &format!("host={host}&vm=mail&action={action}"),
                Some(&cookie),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{action}: {}", r.body);
        let d = app
            .post("/api/hosts/get", &format!("id={host}"), Some(&cookie))
            .await
            .json();
        assert_eq!(state(&d, "mail"), expected, "after {action}");
    }
    // Every change reached the stream that open pages follow.
    let change = tokio::time::timeout(Duration::from_secs(2), changes.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(change.host_id, host);

    // A refused action comes back with libvirt's reason, not a bare 500.
    let r = app
        .post(
            "/api/hosts/vm_action",
            &format!("host={host}&vm=mail&action=pause"),
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.json()["Refused"].as_str().unwrap().contains("shut off"),
        "{}",
        r.body
    );
    let r = app
        .post(
            "/api/hosts/vm_action",
            &format!("host={host}&vm=mail&action=explode"),
            Some(&cookie),
        )
        .await;
    assert_eq!(r.json()["Invalid"]["field"], "action");

    let rows = app.audit_rows().await;
    let vm_rows: Vec<_> = rows.iter().filter(|r| r.action == "vm.action").collect();
    assert_eq!(vm_rows.len(), 6);
    assert_eq!(vm_rows[0].target, "demo/mail");
    assert_eq!(vm_rows[0].summary, "start: shut off → running");
    assert_eq!(vm_rows[4].outcome, "failed");

    // Autostart and delete (keeping and then with volumes).
    let r = app
        .post(
            "/api/hosts/vm_action",
            &format!("host={host}&vm=mail&action=autostart_on"),
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .post(
            "/api/hosts/vm_delete",
            &format!("host={host}&vm=mail&delete_volumes=true"),
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let d = app
        .post("/api/hosts/get", &format!("id={host}"), Some(&cookie))
        .await
        .json();
    assert!(d["vms"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v["name"] != "mail"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_that_does_not_answer_is_not_saved() {
    // The test driver is allowed here, as in the browser tests.
    let app = TestApp::sqlite_with_state(|state| {
        let mut policy = (*state.policy).clone();
        policy.libvirt.transports.push("test".into());
        state.policy = std::sync::Arc::new(policy);
    })
    .await;
    let admin = app.account("root", Role::Admin).await;
    let cookie = app.session(admin).await;
    let r = app
        .post(
            "/api/hosts/add",
            "name=ghost&uri=qemu%2Bssh%3A%2F%2Fnobody%40127.0.0.1%3A1%2Fsystem&confirm_password=correct+horse+battery",
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["Invalid"]["field"], "uri");
    assert!(!r.json()["Invalid"]["message"].as_str().unwrap().is_empty());
    let r = app
        .post(
            "/api/hosts/add",
            "name=bad+name&uri=test%3A%2F%2F%2Fdefault&confirm_password=correct+horse+battery",
            Some(&cookie),
        )
        .await;
    assert_eq!(r.json()["Invalid"]["field"], "name");
    let r = app
        .post(
            "/api/hosts/add",
            "name=demo&uri=test%3A%2F%2F%2Fdefault&confirm_password=correct+horse+battery",
            Some(&cookie),
        )
        .await;
    assert_eq!(
        r.json()["Invalid"]["message"],
        "A host is already called demo."
    );
    let list = app.post("/api/hosts/list", "", Some(&cookie)).await.json();
    assert_eq!(list.as_array().map(Vec::len), Some(1));

    // Editing: a URI that does not answer changes nothing; a rename does.
    let demo_id = list[0]["id"].as_i64().unwrap();
    let r = app
        .post(
            "/api/hosts/edit",
            &format!(
                "id={demo_id}&name=demo&uri=qemu%2Bssh%3A%2F%2Fnobody%40127.0.0.1%3A1%2Fsystem&\
                 confirm_password=correct+horse+battery"
            ),
            Some(&cookie),
        )
        .await;
    assert_eq!(r.json()["Invalid"]["field"], "uri", "{}", r.body);
    let list = app.post("/api/hosts/list", "", Some(&cookie)).await.json();
    assert!(list[0]["uri"].as_str().unwrap().starts_with("test:///"));
    let uri = list[0]["uri"].as_str().unwrap().to_owned();
    let form = format!(
        "id={demo_id}&name=proliant-demo&uri={}&confirm_password=correct+horse+battery",
        uri.replace(':', "%3A").replace('/', "%2F")
    );
    let r = app.post("/api/hosts/edit", &form, Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["name"], "proliant-demo");
    assert!(app
        .audit_rows()
        .await
        .iter()
        .any(|a| a.action == "hosts.edit" && a.outcome == "success"));

    // A working URI is saved and watched.
    let r = app
        .post(
            "/api/hosts/add",
            "name=second&uri=test%3A%2F%2F%2Fdefault&confirm_password=correct+horse+battery",
            Some(&cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["reachable"], true);
    let id = r.json()["id"].as_i64().unwrap();
    let r = app
        .post("/api/hosts/remove", &format!("id={id}"), Some(&cookie))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let list = app.post("/api/hosts/list", "", Some(&cookie)).await.json();
    assert_eq!(list.as_array().map(Vec::len), Some(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn uris_the_configuration_does_not_allow_are_refused_before_any_connection() {
    let app = TestApp::sqlite().await;
    let cookie = app.with_user("root", Role::Admin).await;
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    for (uri, says) in [
        (
            format!(
                "qemu+ext:///system?command=/usr/bin/touch {}",
                marker.display()
            ),
            "qemu+ext:// is not allowed",
        ),
        ("test:///etc/shadow".to_owned(), "demo host only"),
        (
            "qemu+ssh://root@127.0.0.1/system?keyfile=/root/.ssh/id_rsa".to_owned(),
            "\"keyfile\"",
        ),
        ("qemu:///system?socket=/tmp/x.sock".to_owned(), "\"socket\""),
        (
            "qemu+tls://h/system?no_verify=1".to_owned(),
            "TLS certificate check",
        ),
    ] {
        let r = app
            .post(
                "/api/hosts/add",
                &format!(
                    "name=evil&uri={}&confirm_password=correct+horse+battery",
                    enc(&uri)
                ),
                Some(&cookie),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{uri}: {}",
            r.body
        );
        assert_eq!(r.json()["Invalid"]["field"], "uri", "{uri}");
        let message = r.json()["Invalid"]["message"].as_str().unwrap().to_owned();
        assert!(message.contains(says), "{uri}: {message}");
        assert!(!message.contains("root:"), "{uri}: {message}");
    }
    assert!(!marker.exists(), "no program ran");
    // And without the password again, nothing is tried at all.
    let r = app
        .post(
            "/api/hosts/add",
            "name=local&uri=qemu%3A%2F%2F%2Fsystem&confirm_password=nope",
            Some(&cookie),
        )
        .await;
    assert_eq!(
        r.json()["Invalid"]["field"],
        "confirm_password",
        "{}",
        r.body
    );
    let list = app.post("/api/hosts/list", "", Some(&cookie)).await.json();
    assert_eq!(list.as_array().map(Vec::len), Some(1), "only the demo host");
}

#[tokio::test(flavor = "multi_thread")]
async fn protected_vms_are_an_admins_to_act_on() {
    let app = TestApp::sqlite().await;
    let (host, op) = demo(&app).await;
    let root = app.with_user("root", Role::Admin).await;
    let action = |vm: &str, action: &str| format!("host={host}&vm={vm}&action={action}");

    // Operators may not protect; a VM that does not exist cannot be.
    let r = app
        .post(
            "/api/hosts/vm_protect",
            &format!("host={host}&vm=mail&protected=true"),
            Some(&op),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = app
        .post(
            "/api/hosts/vm_protect",
            &format!("host={host}&vm=nothere&protected=true"),
            Some(&root),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = app
        .post(
            "/api/hosts/vm_protect",
            &format!("host={host}&vm=mail&protected=true"),
            Some(&root),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let d = app
        .post("/api/hosts/get", &format!("id={host}"), Some(&op))
        .await
        .json();
    assert_eq!(d["protected"], serde_json::json!(["mail"]));

    // The operator is refused on the protected VM, not on the others.
    for a in ["start", "force_off"] {
        let r = app
            .post("/api/hosts/vm_action", &action("mail", a), Some(&op))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{a}: {}", r.body);
        assert!(r.body.contains("mail is protected"), "{}", r.body);
    }
    let r = app
        .post(
            "/api/hosts/vm_delete",
            &format!("host={host}&vm=mail&delete_volumes=false"),
            Some(&op),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = app
        .post(
            "/api/hosts/vm_action",
            &action("web", "autostart_on"),
            Some(&op),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // The admin may; lifted, the operator may again.
    let r = app
        .post(
            "/api/hosts/vm_action",
            &action("mail", "autostart_on"),
            Some(&root),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .post(
            "/api/hosts/vm_protect",
            &format!("host={host}&vm=mail&protected=false"),
            Some(&root),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .post(
            "/api/hosts/vm_action",
            &action("mail", "autostart_off"),
            Some(&op),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let audit: Vec<(String, String)> = app
        .audit_rows()
        .await
        .into_iter()
        .map(|r| (r.action, r.outcome))
        .collect();
    assert!(audit
        .iter()
        .any(|(a, o)| a == "vm.protect" && o == "success"));
    assert!(
        audit
            .iter()
            .any(|(a, o)| a == "vm.action" && o != "success"),
        "{audit:?}"
    );
}

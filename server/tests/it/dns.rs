//! The DNS forms over HTTP: the record and server forms post their fields
//! flat (`owner=…&rtype=…`, `name=…&role=…`, as the README's API table lists
//! them), refusals come back by field, and every change is audited with what
//! changed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::TestApp;
use app::auth::Role;
use http::StatusCode;

#[tokio::test(flavor = "multi_thread")]
async fn record_and_server_forms_post_flat_fields() {
    let app = TestApp::sqlite().await;
    let admin = app.with_user("root", Role::Admin).await;
    let op = app.with_user("olga", Role::Operator).await;

    // A server entry, refused by its field, then added.
    let server = "name=ns1&role=primary&ns_name=ns1.example.test&address=192.0.2&port=&\
                  zones_dir=/etc/nsd/zones&reload_kind=command&reload_value=true&\
                  confirm_password=correct+horse+battery";
    let r = app.post("/api/dns/add_server", server, Some(&admin)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["Invalid"]["field"], "address", "{}", r.body);
    let server = server.replace("address=192.0.2&", "address=192.0.2.53&");
    // Only a reload command the server's configuration names is run.
    let r = app.post("/api/dns/add_server", &server, Some(&admin)).await;
    assert_eq!(r.json()["Invalid"]["field"], "reload_value", "{}", r.body);
    let message = r.json()["Invalid"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("systemctl reload nsd"), "{message}");
    let server = server.replace("reload_value=true", "reload_value=systemctl+reload+nsd");
    // The admin's password again, by its field; a wrong one counts as a
    // failed sign-in.
    for (password, says) in [("", "Enter your password"), ("wrong", "not your password")] {
        let typed = server.replace(
            "confirm_password=correct+horse+battery",
            &format!("confirm_password={password}"),
        );
        let r = app.post("/api/dns/add_server", &typed, Some(&admin)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert_eq!(r.json()["Invalid"]["field"], "confirm_password");
        assert!(r.body.contains(says), "{}", r.body);
    }
    assert_eq!(app.failed_logins("root").await, 1);
    let r = app.post("/api/dns/add_server", &server, Some(&admin)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let id = r.json()["id"].clone();
    assert_eq!(r.json()["port"], 53);
    let r = app
        .post(
            "/api/dns/update_server",
            &format!("id={id}&{}", server.replace("port=&", "port=5353&")),
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["port"], 5353);
    // Operators may not.
    let r = app.post("/api/dns/add_server", &server, Some(&op)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // The TSIG secret and nsd.conf: the password again, every time.
    for path in ["/api/dns/reveal_key", "/api/dns/rotate_key"] {
        let r = app.post(path, "confirm_password=guess", Some(&admin)).await;
        assert_eq!(r.json()["Invalid"]["field"], "confirm_password", "{path}");
    }
    let r = app
        .post(
            "/api/dns/server_conf",
            &format!("id={id}&confirm_password=guess"),
            Some(&admin),
        )
        .await;
    assert!(!r.body.contains("secret:"), "{}", r.body);
    assert_eq!(r.json()["Invalid"]["field"], "confirm_password");
    let r = app
        .post(
            "/api/dns/reveal_key",
            "confirm_password=correct+horse+battery",
            Some(&admin),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let secret = r.json().as_str().unwrap().to_owned();
    let r = app
        .post(
            "/api/dns/server_conf",
            &format!("id={id}&confirm_password=correct+horse+battery"),
            Some(&admin),
        )
        .await;
    assert!(r.json().as_str().unwrap().contains(&secret), "{}", r.body);

    let z = app
        .post(
            "/api/dns/create_zone",
            "kind=forward&origin=example.test",
            Some(&op),
        )
        .await;
    assert_eq!(z.status, StatusCode::OK, "{}", z.body);
    let zone = z.json()["id"].clone();

    // A bad TTL, by its field; then the record with its PTR.
    let record = format!(
        "zone_id={zone}&original=&owner=www&rtype=A&ttl=x&address=192.0.2.10&target=&\
         exchange=&preference=&priority=&weight=&port=&value=&flags=&tag="
    );
    let r = app.post("/api/dns/save_record", &record, Some(&op)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["Invalid"]["field"], "ttl", "{}", r.body);
    let record = record.replace("ttl=x", "ttl=300") + "&also_ptr=on&create_reverse=on";
    let r = app.post("/api/dns/save_record", &record, Some(&op)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.json()["ptr"],
        "PTR 10.2.0.192.in-addr.arpa. → www.example.test. in 2.0.192.in-addr.arpa."
    );
    // Fields left out are empty: an MX with only what it needs.
    let r = app
        .post(
            "/api/dns/save_record",
            &format!("zone_id={zone}&owner=@&rtype=MX&preference=10&exchange=www"),
            Some(&op),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let rows = app.audit_rows().await;
    let saves: Vec<_> = rows
        .iter()
        .filter(|r| r.action == "dns.record.save")
        .map(|r| (r.target.as_str(), r.outcome.as_str(), r.summary.as_str()))
        .collect();
    // The refused save names the zone by id, the saved one by its origin.
    let by_id = format!("zone {zone}");
    assert!(
        saves.iter().any(|s| s.0 == by_id && s.2 == "www A added"),
        "{saves:?}"
    );
    assert!(
        saves.iter().any(|s| s.0 == "example.test."
            && s.2
                == "www A added; PTR 10.2.0.192.in-addr.arpa. → www.example.test. in 2.0.192.in-addr.arpa."),
        "{saves:?}"
    );
    assert!(
        rows.iter().any(|r| r.action == "dns.server.add"
            && r.target == "ns1"
            && r.summary == "primary 192.0.2.53: (ns1.example.test)"),
        "{rows:?}"
    );
}

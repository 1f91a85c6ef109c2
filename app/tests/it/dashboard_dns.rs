#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(feature = "ssr")]
//! The dashboard's DNS panel against real NSD: a zone never applied, a
//! change not applied yet, a secondary in step (by NOTIFY and AXFR from the
//! primary), a server still serving an older serial, and a secondary that
//! has gone away, which costs the view no more than the deadline.
//!
//! Needs `nsd`, `nsd-control` and `dig`, so it is ignored by default:
//! `cargo test -- --include-ignored`.

use app::testing::database;
use app::testing::nsd as nsd_common;

use app::dashboard::{service, soa, ZoneAttention, ZoneIssue};
use app::dns::service::{self as dns, PtrChoice, ServerForm};
use app::dns::{store, RecordForm};
use nsd_common::*;
use sea_orm::DatabaseConnection;
use std::time::{Duration, Instant};

fn server(name: &str, role: &str, port: u16, zones_dir: &str, reload: (&str, &str)) -> ServerForm {
    ServerForm {
        name: name.into(),
        role: role.into(),
        ns_name: format!("{name}.example.test"),
        address: "127.0.0.1".into(),
        port: port.to_string(),
        zones_dir: zones_dir.into(),
        reload_kind: reload.0.into(),
        reload_value: reload.1.into(),
    }
}

fn mail_a(address: &str) -> RecordForm {
    RecordForm {
        owner: "mail".into(),
        rtype: "A".into(),
        address: address.into(),
        ..RecordForm::default()
    }
}

/// The zones the panel lists, as (origin, issues).
async fn attention(
    db: &DatabaseConnection,
    serials: &soa::Serials,
) -> Vec<(String, Vec<ZoneIssue>)> {
    service::dns(db, serials)
        .await
        .unwrap()
        .attention
        .into_iter()
        .map(|ZoneAttention { origin, issues, .. }| (origin, issues))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs nsd: apt-get install nsd dnsutils; run with --include-ignored"]
async fn the_dns_panel_compares_the_store_the_primary_and_each_secondary() {
    let work = tempfile::tempdir().unwrap();
    let db = database(work.path()).await;
    let keys = app::sealed::SealingKey::generate();
    let commands = app::dns::nsd::ReloadCommands::new(["true"]);
    let allowed = app::dns::service::Allowed {
        keys: &keys,
        commands: &commands,
    };
    // Nothing is kept between views here: every call asks again.
    let serials = soa::Serials::new(Duration::ZERO);
    let (pdir, pcfg) = Nsd::prepare(free_port());
    let (sdir, scfg) = Nsd::prepare(free_port());
    // A server that keeps serving the zone as first applied: a secondary
    // that stopped transferring.
    let (tdir, tcfg) = Nsd::prepare(free_port());
    let pconf = pdir.path().join("nsd.conf");

    let primary = dns::add_server(
        &db,
        allowed,
        &server(
            "ns1",
            "primary",
            pcfg.port,
            &pcfg.zonesdir.display().to_string(),
            ("nsd_control", &pconf.display().to_string()),
        ),
    )
    .await
    .unwrap();
    let secondary = dns::add_server(
        &db,
        allowed,
        &server("ns2", "secondary", scfg.port, "", ("command", "true")),
    )
    .await
    .unwrap();
    dns::add_server(
        &db,
        allowed,
        &server("ns3", "secondary", tcfg.port, "", ("command", "true")),
    )
    .await
    .unwrap();

    let zone = dns::create_forward(&db, "alice", "example.test")
        .await
        .unwrap();
    dns::save_record(
        &db,
        "alice",
        zone.id,
        None,
        &mail_a("192.0.2.25"),
        PtrChoice::default(),
    )
    .await
    .unwrap();

    // Never applied: only that, and no secondary is asked about it.
    let overview = service::dns(&db, &serials).await.unwrap();
    assert_eq!((overview.zones, overview.secondaries), (1, 2));
    assert_eq!(
        attention(&db, &serials).await,
        [("example.test.".to_owned(), vec![ZoneIssue::NeverApplied])]
    );

    let p = Nsd::start(
        pdir,
        pcfg,
        &dns::server_conf(&db, &keys, primary.id).await.unwrap(),
    );
    let s = Nsd::start(
        sdir,
        scfg,
        &dns::server_conf(&db, &keys, secondary.id).await.unwrap(),
    );
    let checker: std::sync::Arc<dyn app::dns::nsd::ZoneChecker> =
        std::sync::Arc::new(app::dns::nsd::NsdCheckzone::default());
    let report = dns::apply(&db, None, checker.clone()).await.unwrap();
    assert!(report.zones.iter().all(|z| z.installed), "{report:?}");
    wait_for(&s, "mail.example.test.", "A", &["192.0.2.25"]);
    let first = store::get_zone(&db, zone.id).await.unwrap().serial;

    // ns3 serves the file the primary got first, as a primary of its own.
    std::fs::copy(
        p.zonesdir().join("example.test.zone"),
        tcfg.zonesdir.join("example.test.zone"),
    )
    .unwrap();
    let t = Nsd::start(
        tdir,
        tcfg,
        "zone:\n\tname: \"example.test.\"\n\tzonefile: \"example.test.zone\"\n",
    );
    assert_eq!(serial(t.port(), "example.test."), Some(first));

    // Applied, and both secondaries serve the applied serial.
    assert_eq!(attention(&db, &serials).await, []);

    // A change not applied yet; the secondaries still match the primary.
    let row = dns::detail(&db, zone.id)
        .await
        .unwrap()
        .records
        .into_iter()
        .find(|r| r.name == "mail")
        .unwrap();
    dns::save_record(
        &db,
        "bob",
        zone.id,
        Some(&row.key),
        &mail_a("192.0.2.26"),
        PtrChoice::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        attention(&db, &serials).await,
        [(
            "example.test.".to_owned(),
            vec![ZoneIssue::NotApplied { changes: 1 }]
        )]
    );

    // Applied: ns2 follows by NOTIFY, ns3 stays behind.
    let report = dns::apply(&db, None, checker.clone()).await.unwrap();
    assert!(report.zones.iter().all(|z| z.installed), "{report:?}");
    wait_for(&s, "mail.example.test.", "A", &["192.0.2.26"]);
    let second = store::get_zone(&db, zone.id).await.unwrap().serial;
    let behind = ZoneIssue::SecondaryBehind {
        server: "ns3".into(),
        serial: first,
        primary: second,
    };
    assert_eq!(
        attention(&db, &serials).await,
        [("example.test.".to_owned(), vec![behind.clone()])]
    );

    // ns2 goes away: named, with why, and the view does not wait for it
    // beyond the deadline.
    drop(s);
    let started = Instant::now();
    let found = attention(&db, &serials).await;
    let took = started.elapsed();
    assert!(took < soa::DEADLINE + Duration::from_secs(1), "{took:?}");
    let [(origin, issues)] = found.as_slice() else {
        panic!("{found:?}");
    };
    assert_eq!(origin, "example.test.");
    assert!(
        matches!(
            issues.as_slice(),
            [ZoneIssue::SecondaryFailing { server, reason }, b]
                if server == "ns2" && !reason.is_empty() && *b == behind
        ),
        "{issues:?}"
    );
    drop((p, t));
}

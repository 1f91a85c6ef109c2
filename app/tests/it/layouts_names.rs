#![cfg(feature = "ssr")]
//! A layout's addresses and names, applied for real: VMs on the demo host
//! (libvirt's test driver), their records in Stackyard's zones, published
//! to a real NSD primary on loopback. `auto` takes the next free address of
//! the network's range (not one a record holds, not one another layout
//! has); the plan lists the records; with NSD stopped the VM steps succeed
//! and the DNS step fails with NSD's message, then with NSD back only the
//! DNS step runs; a record changed by hand is a conflict that stops the
//! apply before anything is made; a VM taken out of the layout takes its
//! records with it.
//!
//! Needs `nsd`, `nsd-control` and `dig` (ignored by default, like the other
//! NSD tests: `cargo test -- --include-ignored`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use app::testing::libvirt as common;
use app::testing::nsd::{dig, free_port, wait_for, Nsd};

use std::time::Duration;

use super::layouts_apply::{lines, registry, run};
use app::dns::service::{self as dns, PtrChoice};
use app::dns::zone::{Name, RData, RecordType, Ttl};
use app::dns::RecordForm;
use app::layouts::model::{AddressChoice, LayoutNetwork};
use app::layouts::names::DnsAction;
use app::layouts::service::apply::Removal;
use app::layouts::service::names;
use app::layouts::{ApplyRun, HostChoice, LayoutSpec, LayoutVm, Nic, RunOutcome, StepStatus};

fn vm(name: &str) -> LayoutVm {
    LayoutVm {
        fqdn: None,
        image: None,
        packages: Vec::new(),
        commands: Vec::new(),
        user_data: None,
        name: name.into(),
        template: None,
        vcpus: 1,
        memory_mib: 256,
        disk_gib: 1,
        host: HostChoice::Host("demo".into()),
        network: Nic::Network("br0".into()),
        ip: Some(AddressChoice::Auto),
        start: true,
    }
}

fn steps(run: &ApplyRun) -> Vec<(String, String, &'static str)> {
    run.steps
        .iter()
        .map(|s| (s.vm.clone(), s.step.clone(), s.status.as_str()))
        .collect()
}

fn step(vm: &str, step: &str, status: &'static str) -> (String, String, &'static str) {
    (vm.into(), step.into(), status)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs nsd: apt-get install nsd dnsutils; run with --include-ignored"]
async fn auto_addresses_and_names_reach_nsd_and_a_stopped_primary_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let db = app::testing::database(dir.path()).await;
    let (reg, handle) = registry("demo", &common::demo());
    assert!(handle.wait_reachable(Duration::from_secs(10)).await);

    // The NSD primary, its zones made in Stackyard; www holds 192.0.2.10.
    let keys = app::sealed::SealingKey::generate();
    let commands = app::dns::nsd::ReloadCommands::new(["true"]);
    let (pdir, pcfg) = Nsd::prepare(free_port());
    let pconf = pdir.path().join("nsd.conf");
    let primary = dns::add_server(
        &db,
        dns::Allowed {
            keys: &keys,
            commands: &commands,
        },
        &app::testing::nsd::primary_form(&pcfg, &pconf, "ns1.example.test"),
    )
    .await
    .unwrap();
    let zone = dns::create_forward(&db, "alice", "example.test")
        .await
        .unwrap();
    dns::create_reverse(&db, "alice", "192.0.2.0/24")
        .await
        .unwrap();
    let www = RecordForm {
        owner: "www".into(),
        rtype: "A".into(),
        address: "192.0.2.10".into(),
        ..RecordForm::default()
    };
    dns::save_record(&db, "alice", zone.id, None, &www, PtrChoice::default())
        .await
        .unwrap();
    let conf = dns::server_conf(&db, &keys, primary.id).await.unwrap();
    let mut nsd = Nsd::start(pdir, pcfg, &conf);
    let port = nsd.port();

    // Another layout has typed 192.0.2.11.
    let mut other = LayoutSpec {
        zone: None,
        networks: Vec::new(),
        cloud_init: Default::default(),
        name: "other".into(),
        description: String::new(),
        vms: vec![vm("db1")],
    };
    other.vms[0].ip = Some(AddressChoice::Fixed("192.0.2.11".parse().unwrap()));
    app::layouts::store::save(&db, None, &other).await.unwrap();

    let mut spec = LayoutSpec {
        zone: Some("example.test".into()),
        networks: vec![LayoutNetwork {
            nic: Nic::Network("br0".into()),
            subnet: "192.0.2.0/24".parse().unwrap(),
            gateway: Some("192.0.2.1".parse().unwrap()),
            resolvers: vec!["192.0.2.1".parse().unwrap()],
            range: Some("192.0.2.10-192.0.2.20".parse().unwrap()),
        }],
        cloud_init: Default::default(),
        name: "services".into(),
        description: String::new(),
        vms: vec![vm("ns2"), vm("web1")],
    };
    let id = app::layouts::store::save(&db, None, &spec).await.unwrap();
    assert_eq!(app::layouts::store::load(&db, id).await.unwrap(), spec);

    // The plan: .10 is www's, .11 the other layout's.
    let plan = names::addressing(&db, id, &spec).await.unwrap();
    assert_eq!(plan.addresses["ns2"].to_string(), "192.0.2.12");
    assert_eq!(plan.addresses["web1"].to_string(), "192.0.2.13");
    let planned: Vec<String> = plan.names.changes.iter().map(|c| c.line()).collect();
    assert_eq!(
        planned,
        [
            "ns2.example.test. A 192.0.2.12 (new)",
            "12.2.0.192.in-addr.arpa. PTR ns2.example.test. (new)",
            "web1.example.test. A 192.0.2.13 (new)",
            "13.2.0.192.in-addr.arpa. PTR web1.example.test. (new)",
        ]
    );
    assert_eq!(
        plan.publish.keys().collect::<Vec<_>>(),
        ["2.0.192.in-addr.arpa.", "example.test."]
    );

    // NSD stopped: the VMs are made and started, the records saved in
    // Stackyard's zones, and the DNS step fails with NSD's message.
    nsd.stop();
    let first = run(&db, &reg, id, &spec, None, vec![]).await;
    assert_eq!(first.outcome, RunOutcome::Failed, "{}", lines(&first));
    assert_eq!(
        steps(&first),
        [
            step("", "check", "done"),
            step("ns2", "volume", "done"),
            step("ns2", "define", "done"),
            step("ns2", "start", "done"),
            step("web1", "volume", "done"),
            step("web1", "define", "done"),
            step("web1", "start", "done"),
            step("", "records", "done"),
            step("", "dns", "failed"),
        ],
        "{}",
        lines(&first)
    );
    let failed = &first.steps.last().unwrap().message;
    assert!(failed.contains("NSD did not reload it"), "{failed}");
    assert!(
        failed.contains("connect") || failed.contains("refused") || failed.contains("No such"),
        "NSD's own words: {failed}"
    );
    assert!(dig(port, "web1.example.test", "A").is_empty());

    // NSD back: applying again runs only the DNS step.
    nsd.restart();
    let second = run(&db, &reg, id, &spec, None, vec![]).await;
    assert_eq!(second.outcome, RunOutcome::Succeeded, "{}", lines(&second));
    assert_eq!(
        steps(&second),
        [step("", "check", "done"), step("", "dns", "done")],
        "{}",
        lines(&second)
    );
    wait_for(&nsd, "web1.example.test", "A", &["192.0.2.13"]);
    wait_for(&nsd, "ns2.example.test", "A", &["192.0.2.12"]);
    wait_for(
        &nsd,
        "13.2.0.192.in-addr.arpa",
        "PTR",
        &["web1.example.test."],
    );
    // A mail domain names web1 as its mail host: the readiness check knows
    // the host and its address without typing, and the PTR the apply
    // published is forward-confirmed.
    app::mail::store::add_domain(&db, "example.test")
        .await
        .unwrap();
    let settings =
        app::mail::service::input::check_settings("", "", "", &format!("127.0.0.1:{port}"))
            .unwrap();
    let saved =
        app::mail::store::save_settings(&db, "example.test", &settings, &format!("{id}/web1"))
            .await
            .unwrap();
    assert_eq!(saved.mail_vm, format!("{id}/web1"));
    let check = app::mail::service::check::run(&db, &keys, "example.test")
        .await
        .unwrap();
    assert_eq!(check.mail_host.as_deref(), Some("web1.example.test"));
    assert_eq!(check.mail_ip.as_deref(), Some("192.0.2.13"));
    let ptr = check.items.iter().find(|i| i.id == "ptr").unwrap();
    assert_eq!(ptr.status, "pass", "{}", ptr.detail);
    assert!(ptr.detail.contains("forward-confirmed"), "{}", ptr.detail);
    let named = names::named_vms(&db).await.unwrap();
    let web1 = named
        .iter()
        .find(|v| v.key == format!("{id}/web1"))
        .unwrap();
    assert_eq!(
        web1.label,
        "web1 of services · web1.example.test · 192.0.2.13"
    );
    assert!(
        names::named_vm(&db, id, "nope").await.is_err(),
        "a VM the layout does not have"
    );

    // Nothing left to do.
    let third = run(&db, &reg, id, &spec, None, vec![]).await;
    assert_eq!(
        steps(&third),
        [step("", "check", "done")],
        "{}",
        lines(&third)
    );

    // web1's A changed by hand: the plan shows the conflict, the apply
    // stops at its check and writes nothing.
    let by_hand = |ip: &str| {
        let db = db.clone();
        let rdata = RData::A(ip.parse().unwrap());
        async move {
            app::dns::store::replace_rrset(
                &db,
                "bob",
                zone.id,
                &Name::parse("web1.example.test").unwrap(),
                RecordType::A,
                Ttl(3600),
                vec![rdata],
            )
            .await
            .unwrap();
        }
    };
    by_hand("192.0.2.99").await;
    let plan = names::addressing(&db, id, &spec).await.unwrap();
    let conflicts = plan.refusals();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert!(
        conflicts[0].starts_with(
            "web1.example.test. A is 192.0.2.99, which this layout did not write: web1 wants 192.0.2.13"
        ),
        "{conflicts:?}"
    );
    let stopped = run(&db, &reg, id, &spec, None, vec![]).await;
    assert_eq!(stopped.outcome, RunOutcome::Failed);
    assert_eq!(steps(&stopped), [step("", "check", "failed")]);
    assert!(
        stopped.message.contains("192.0.2.99"),
        "{}",
        stopped.message
    );

    // Back as the layout wrote it; then web1 leaves the layout and is
    // removed: its records go, ns2's stay.
    by_hand("192.0.2.13").await;
    spec.vms.truncate(1);
    app::layouts::store::save(&db, Some(id), &spec)
        .await
        .unwrap();
    let plan = names::addressing(&db, id, &spec).await.unwrap();
    let removals: Vec<(&str, DnsAction)> = plan
        .names
        .changes
        .iter()
        .map(|c| (c.owner.as_str(), c.action))
        .collect();
    assert_eq!(
        removals,
        [
            ("ns2.example.test.", DnsAction::Unchanged),
            ("12.2.0.192.in-addr.arpa.", DnsAction::Unchanged),
            ("web1.example.test.", DnsAction::Remove),
            ("13.2.0.192.in-addr.arpa.", DnsAction::Remove),
        ]
    );
    let removed = run(
        &db,
        &reg,
        id,
        &spec,
        None,
        vec![Removal {
            host: "demo".into(),
            vm: "web1".into(),
        }],
    )
    .await;
    assert_eq!(
        removed.outcome,
        RunOutcome::Succeeded,
        "{}",
        lines(&removed)
    );
    assert!(removed
        .steps
        .iter()
        .any(|s| s.step == "records" && s.status == StepStatus::Done));
    wait_for(&nsd, "web1.example.test", "A", &[]);
    wait_for(&nsd, "13.2.0.192.in-addr.arpa", "PTR", &[]);
    wait_for(&nsd, "ns2.example.test", "A", &["192.0.2.12"]);
}

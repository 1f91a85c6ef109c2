#![cfg(feature = "ssr")]
//! The per-host worker on the test driver: cache, actions, events, errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use app::testing::libvirt as common;

use std::time::{Duration, Instant};

use app::hosts::service::{
    HostError, HostWorker, Hypervisor, LibvirtHost, NetworkAttach, VmEventKind, VmSpec, VmState,
    WorkerConfig,
};
use common::{demo, unique, wait_event};

const SECOND: Duration = Duration::from_secs(1);

fn spec(name: &str) -> VmSpec {
    VmSpec {
        name: name.into(),
        memory_mib: 256,
        vcpus: 1,
        disk: None,
        network: NetworkAttach::None,
        mac: None,
        domain_type: None,
        cdroms: Vec::new(),
    }
}

#[tokio::test]
async fn cache_events_and_actions_through_the_worker() {
    let h = HostWorker::spawn("dl380", &demo());
    assert!(h.wait_reachable(5 * SECOND).await, "{:?}", h.snapshot());
    let snap = h.snapshot();
    assert_eq!(snap.host, "dl380");
    assert!(snap.reachable && snap.last_error.is_none() && snap.updated_at.is_some());
    assert_eq!(snap.capacity.as_ref().unwrap().cpus, 16);
    assert_eq!(snap.vms.keys().collect::<Vec<_>>(), ["mail", "ns1", "web"]);

    let mut events = h.subscribe();

    // The cache is updated before the call returns…
    h.start("mail").await.unwrap();
    assert_eq!(h.cached_vm("mail").unwrap().state, VmState::Running);
    // …and libvirt's event is re-broadcast.
    let (ev, took) = wait_event(&mut events, "mail", VmEventKind::Started, SECOND).await;
    assert_eq!(ev.host, "dl380");
    assert_eq!(ev.state, Some(VmState::Running));
    println!("start -> event in {took:?}");

    h.pause("mail").await.unwrap();
    let (ev, _) = wait_event(&mut events, "mail", VmEventKind::Suspended, SECOND).await;
    assert_eq!(ev.state, Some(VmState::Paused));
    assert_eq!(h.cached_vm("mail").unwrap().state, VmState::Paused);

    h.resume("mail").await.unwrap();
    wait_event(&mut events, "mail", VmEventKind::Resumed, SECOND).await;
    h.reboot("mail").await.unwrap();
    h.shutdown("mail").await.unwrap();
    let (ev, _) = wait_event(&mut events, "mail", VmEventKind::Stopped, SECOND).await;
    assert_eq!(ev.state, Some(VmState::ShutOff));
    h.start("mail").await.unwrap();
    h.force_off("mail").await.unwrap();
    wait_event(&mut events, "mail", VmEventKind::Stopped, SECOND).await;
    assert_eq!(h.cached_vm("mail").unwrap().state, VmState::ShutOff);

    h.set_autostart("ns1", true).await.unwrap();
    assert!(h.cached_vm("ns1").unwrap().autostart);

    // Errors come back as values, and the cache stays right.
    let e = h.resume("ns1").await.unwrap_err();
    assert!(matches!(e, HostError::InvalidState(_)), "{e:?}");
    assert_eq!(
        h.start("ghost").await,
        Err(HostError::NoSuchVm("ghost".into()))
    );

    // Define, create a volume, delete.
    let vol = h
        .create_volume("default", "app.qcow2", 1 << 30)
        .await
        .unwrap();
    assert_eq!(vol.allocation, 0);
    let mut s = spec("app");
    s.disk = Some(("default".into(), "app.qcow2".into()));
    h.define_vm(s).await.unwrap();
    let (ev, _) = wait_event(&mut events, "app", VmEventKind::Defined, SECOND).await;
    assert_eq!(ev.state, Some(VmState::ShutOff));
    assert!(h.cached_vm("app").is_some());
    assert!(h.vm_xml("app").await.unwrap().contains("app.qcow2"));
    let r = h.delete("app", true).await.unwrap();
    assert_eq!(r.deleted_volumes, ["/var/lib/libvirt/images/app.qcow2"]);
    let (ev, _) = wait_event(&mut events, "app", VmEventKind::Undefined, SECOND).await;
    assert_eq!(ev.state, None);
    assert!(h.cached_vm("app").is_none());

    // Fresh reads go through the worker and refresh the cache.
    assert_eq!(h.list_vms().await.unwrap().len(), 3);
    assert_eq!(h.vm("web").await.unwrap().memory_mib, 1024);
    assert_eq!(h.capacity().await.unwrap().memory_total_mib, 32 * 1024);
    h.refresh().await.unwrap();
}

/// test:///default is one shared instance per process, so a second
/// connection can act "behind the worker's back", like virsh on a real host.
#[tokio::test]
async fn vm_started_behind_the_workers_back_shows_within_a_second() {
    let h = HostWorker::spawn("shared", "test:///default");
    assert!(h.wait_reachable(5 * SECOND).await);
    let mut events = h.subscribe();
    let other = LibvirtHost::connect("test:///default").unwrap();
    let name = unique("behind");
    other.define_vm(&spec(&name)).unwrap();
    wait_event(&mut events, &name, VmEventKind::Defined, SECOND).await;

    let t0 = Instant::now();
    other.start(&name).unwrap();
    let (ev, _) = wait_event(&mut events, &name, VmEventKind::Started, SECOND).await;
    assert_eq!(ev.state, Some(VmState::Running));
    assert_eq!(h.cached_vm(&name).unwrap().state, VmState::Running);
    println!(
        "start on a second connection -> worker cache+broadcast in {:?}",
        t0.elapsed()
    );

    other.force_off(&name).unwrap();
    wait_event(&mut events, &name, VmEventKind::Stopped, SECOND).await;
    assert_eq!(h.cached_vm(&name).unwrap().state, VmState::ShutOff);
    other.delete(&name, false).unwrap();
    wait_event(&mut events, &name, VmEventKind::Undefined, SECOND).await;
    assert!(h.cached_vm(&name).is_none());
    other.close().unwrap();
}

#[tokio::test]
async fn unreachable_host_is_reported_and_calls_fail_fast() {
    let cfg = WorkerConfig {
        backoff_initial: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        ..WorkerConfig::default()
    };
    let h = HostWorker::spawn_with(
        "dead",
        "qemu+unix:///system?socket=/nonexistent/libvirt-sock",
        cfg,
    );
    let mut w = h.watch();
    tokio::time::timeout(SECOND, w.wait_for(|s| s.last_error.is_some()))
        .await
        .unwrap()
        .unwrap();
    let snap = h.snapshot();
    assert!(!snap.reachable);
    assert!(snap.last_error.unwrap().contains("is libvirtd"));
    let t0 = Instant::now();
    let e = h.list_vms().await.unwrap_err();
    assert!(e.is_connection_lost(), "{e:?}");
    assert!(t0.elapsed() < SECOND);
    assert!(!h.wait_reachable(Duration::from_millis(300)).await);
}

#[tokio::test]
async fn dropping_the_last_handle_stops_the_worker() {
    let h = HostWorker::spawn("short", &demo());
    assert!(h.wait_reachable(5 * SECOND).await);
    let w = h.watch();
    let h2 = h.clone();
    drop(h);
    assert!(h2.is_reachable());
    drop(h2);
    let mut w = w;
    tokio::time::timeout(SECOND, w.wait_for(|s| !s.reachable))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        w.borrow().last_error.as_deref(),
        Some("the host worker has stopped")
    );
}

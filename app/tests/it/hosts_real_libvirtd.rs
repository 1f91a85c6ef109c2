#![cfg(feature = "ssr")]
//! Against a real libvirtd (`qemu:///system`): a diskless 64 MiB VM that
//! boots to its BIOS is enough to exercise the whole lifecycle.
//!
//! Ignored by default (needs root, libvirtd and qemu-system-x86); run with
//! `cargo test -- --include-ignored`. If no daemon answers, the tests start
//! one the way a developer would: `virtlogd -d; libvirtd -d`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use app::testing::libvirt as common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use app::hosts::service::{
    DomainType, HostWorker, Hypervisor, LibvirtHost, NetworkAttach, VmEventKind, VmSpec, VmState,
};
use common::{ensure_libvirtd, unique, wait_event, SYSTEM_URI as URI};

/// The restart test stops the daemon; the others must not run meanwhile
/// (nor the other files' real-daemon tests).
use common::DAEMON as SERIAL;
const SECOND: Duration = Duration::from_secs(1);

/// Removes the test VM whatever happens to the test.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Ok(h) = LibvirtHost::connect(URI) {
            let _ = h.force_off(&self.0);
            let _ = h.delete(&self.0, false);
            let _ = h.close();
        }
    }
}

fn tiny(name: &str) -> VmSpec {
    VmSpec {
        name: name.into(),
        memory_mib: 64,
        vcpus: 1,
        disk: None,
        network: NetworkAttach::None,
        mac: None,
        // TCG always: nested KVM stalls guests on these machines, and a
        // fresh machine's /dev/kvm may not be QEMU's to open.
        domain_type: Some(DomainType::Qemu),
        cdroms: Vec::new(),
    }
}

#[tokio::test]
#[ignore = "needs root, libvirtd and qemu-system-x86; run with --include-ignored"]
async fn real_vm_lifecycle_through_the_worker() {
    let _serial = SERIAL.lock().await;
    ensure_libvirtd();
    let name = unique("stackyard-it");
    let _cleanup = Cleanup(name.clone());
    let h = HostWorker::spawn("local", URI);
    assert!(h.wait_reachable(10 * SECOND).await, "{:?}", h.snapshot());
    let cap = h.capacity().await.unwrap();
    assert!(cap.cpus >= 1 && cap.memory_total_mib > 0);
    println!(
        "host: {} cpus, {} MiB, model {:?}, hw_virt {}",
        cap.cpus, cap.memory_total_mib, cap.cpu_model, cap.hw_virt
    );
    let mut ev = h.subscribe();

    let spec = tiny(&name);
    let vm = h.define_vm(spec.clone()).await.unwrap();
    assert_eq!(
        (vm.state, vm.memory_mib, vm.vcpus),
        (VmState::ShutOff, 64, 1)
    );
    wait_event(&mut ev, &name, VmEventKind::Defined, 5 * SECOND).await;
    let xml = h.vm_xml(&name).await.unwrap();
    let dtype = spec.domain_type.unwrap().as_str();
    assert!(xml.contains(&format!("<domain type='{dtype}'")), "{xml}");
    assert!(xml.contains("listen='127.0.0.1'"));
    assert!(xml.contains("<serial type='pty'>"));

    h.start(&name).await.unwrap();
    let (e, took) = wait_event(&mut ev, &name, VmEventKind::Started, 5 * SECOND).await;
    assert_eq!(e.state, Some(VmState::Running));
    assert_eq!(h.cached_vm(&name).unwrap().state, VmState::Running);
    println!("started; event after the call returned: {took:?}");

    h.pause(&name).await.unwrap();
    let (e, _) = wait_event(&mut ev, &name, VmEventKind::Suspended, 5 * SECOND).await;
    assert_eq!(e.state, Some(VmState::Paused));
    assert_eq!(h.cached_vm(&name).unwrap().state, VmState::Paused);

    h.resume(&name).await.unwrap();
    let (e, _) = wait_event(&mut ev, &name, VmEventKind::Resumed, 5 * SECOND).await;
    assert_eq!(e.state, Some(VmState::Running));

    // The BIOS ignores ACPI, but the requests must be accepted.
    h.shutdown(&name).await.unwrap();
    h.reboot(&name).await.unwrap();
    h.set_autostart(&name, true).await.unwrap();
    assert!(h.cached_vm(&name).unwrap().autostart);
    h.set_autostart(&name, false).await.unwrap();

    // Deleting a running VM is refused.
    assert!(h.delete(&name, false).await.is_err());

    h.force_off(&name).await.unwrap();
    let (e, _) = wait_event(&mut ev, &name, VmEventKind::Stopped, 5 * SECOND).await;
    assert_eq!(e.state, Some(VmState::ShutOff));
    assert_eq!(h.cached_vm(&name).unwrap().state, VmState::ShutOff);

    h.delete(&name, false).await.unwrap();
    let (e, _) = wait_event(&mut ev, &name, VmEventKind::Undefined, 5 * SECOND).await;
    assert_eq!(e.state, None);
    assert!(h.cached_vm(&name).is_none());
}

#[tokio::test]
#[ignore = "needs root, libvirtd and qemu-system-x86; run with --include-ignored"]
async fn real_vm_started_by_virsh_shows_within_a_second() {
    let _serial = SERIAL.lock().await;
    ensure_libvirtd();
    let name = unique("stackyard-virsh");
    let _cleanup = Cleanup(name.clone());
    let h = HostWorker::spawn("local", URI);
    assert!(h.wait_reachable(10 * SECOND).await);
    let mut ev = h.subscribe();
    h.define_vm(tiny(&name)).await.unwrap();

    // Behind the worker's back: virsh, a separate client process.
    let out = Command::new("virsh")
        .args(["-c", URI, "start", &name])
        .output()
        .expect("virsh is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t0 = Instant::now();
    wait_event(&mut ev, &name, VmEventKind::Started, SECOND).await;
    assert_eq!(h.cached_vm(&name).unwrap().state, VmState::Running);
    println!(
        "virsh start -> cache running {:?} after virsh returned",
        t0.elapsed()
    );

    let out = Command::new("virsh")
        .args(["-c", URI, "destroy", &name])
        .output()
        .unwrap();
    assert!(out.status.success());
    wait_event(&mut ev, &name, VmEventKind::Stopped, SECOND).await;
    assert_eq!(h.cached_vm(&name).unwrap().state, VmState::ShutOff);
    h.delete(&name, false).await.unwrap();
}

/// Stops and restarts libvirtd, so it also needs
/// STACKYARD_RESTART_LIBVIRTD=1: never on a machine whose daemon others use.
#[tokio::test]
#[ignore = "stops and restarts libvirtd; also needs STACKYARD_RESTART_LIBVIRTD=1"]
async fn real_daemon_restart_marks_unreachable_then_reconnects() {
    if std::env::var("STACKYARD_RESTART_LIBVIRTD").as_deref() != Ok("1") {
        println!("skipped: set STACKYARD_RESTART_LIBVIRTD=1 to let this test restart libvirtd");
        return;
    }
    let _serial = SERIAL.lock().await;
    ensure_libvirtd();
    let cfg = app::hosts::service::WorkerConfig {
        backoff_initial: Duration::from_millis(200),
        ..app::hosts::service::WorkerConfig::default()
    };
    let h = HostWorker::spawn_with("local", URI, cfg);
    assert!(h.wait_reachable(10 * SECOND).await);
    let pid = std::fs::read_to_string("/var/run/libvirtd.pid").unwrap();
    let st = Command::new("kill").arg(pid.trim()).status().unwrap();
    assert!(st.success());
    let mut w = h.watch();
    let t0 = Instant::now();
    tokio::time::timeout(5 * SECOND, w.wait_for(|s| !s.reachable))
        .await
        .unwrap()
        .unwrap();
    let err = h.snapshot().last_error.unwrap();
    println!("unreachable after {:?}: {err}", t0.elapsed());
    assert!(err.contains("libvirtd stopped or restarted"), "{err}");
    // Wait for the old daemon to be gone before starting a new one.
    while Path::new(&format!("/proc/{}", pid.trim())).exists() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ensure_libvirtd();
    let t1 = Instant::now();
    assert!(h.wait_reachable(15 * SECOND).await, "{:?}", h.snapshot());
    println!(
        "reachable again {:?} after the daemon was back",
        t1.elapsed()
    );
}

//! Figures for the console's hot paths on a test-driver host with 500 VMs:
//! a fresh `list_vms()`, a read of the worker's cache, and the time from an
//! action on a second connection to its event in the worker's broadcast.
//!
//! Uses `test:///default`, the test driver's one shared in-process
//! instance, so a second connection sees (and acts on) the worker's VMs.
//! Run with `cargo bench --bench host_list`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use app::hosts::service::{
    HostWorker, Hypervisor, LibvirtHost, NetworkAttach, VmEventKind, VmSpec, WorkerConfig,
};
use tokio::sync::broadcast;

const VMS: usize = 500;

fn stats(label: &str, mut d: Vec<Duration>) {
    d.sort();
    let n = d.len();
    let mean = d.iter().sum::<Duration>() / n as u32;
    println!(
        "{label:<44} n={n:<6} min={:>10.3?} median={:>10.3?} mean={:>10.3?} p95={:>10.3?} max={:>10.3?}",
        d[0],
        d[n / 2],
        mean,
        d[(n * 95 / 100).min(n - 1)],
        d[n - 1]
    );
}

async fn wait(
    rx: &mut broadcast::Receiver<app::hosts::service::HostEvent>,
    vm: &str,
    kind: VmEventKind,
) {
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("event within 5 s")
            .expect("channel open");
        if ev.vm == vm && ev.kind == kind {
            return;
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let uri = "test:///default";
    let cfg = WorkerConfig {
        // Long defines are fine; nothing here should come close.
        call_timeout: Duration::from_secs(60),
        ..WorkerConfig::default()
    };
    let h = HostWorker::spawn_with("bench", uri, cfg);
    assert!(h.wait_reachable(Duration::from_secs(5)).await);

    // 500 VMs defined through the service.
    let t0 = Instant::now();
    let mut define = Vec::with_capacity(VMS);
    for i in 0..VMS {
        let t = Instant::now();
        h.define_vm(VmSpec {
            name: format!("vm{i:03}"),
            memory_mib: 512,
            vcpus: 1,
            disk: None,
            network: NetworkAttach::Bridge("br0".into()),
            mac: None,
            domain_type: None,
            cdroms: Vec::new(),
        })
        .await
        .unwrap();
        define.push(t.elapsed());
    }
    println!(
        "defined {VMS} VMs through the worker in {:.3?} (+1 preset 'test' VM)",
        t0.elapsed()
    );
    stats("define_vm via HostHandle", define);

    // Let the Defined events drain so the cache holds everything.
    let mut snap = h.watch();
    snap.wait_for(|s| s.vms.len() > VMS).await.unwrap();

    // A fresh listing, direct (blocking) and through the worker.
    let direct = LibvirtHost::connect(uri).unwrap();
    let mut d = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let vms = direct.list_vms().unwrap();
        d.push(t.elapsed());
        assert_eq!(vms.len(), VMS + 1);
    }
    stats("list_vms() LibvirtHost, 501 VMs", d);
    let mut d = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let vms = h.list_vms().await.unwrap();
        d.push(t.elapsed());
        assert_eq!(vms.len(), VMS + 1);
    }
    stats("list_vms() via HostHandle, 501 VMs", d);

    // Cache reads: no libvirt round trip.
    let mut d = Vec::new();
    for i in 0..10_000 {
        let name = format!("vm{:03}", i % VMS);
        let t = Instant::now();
        let vm = h.cached_vm(&name);
        d.push(t.elapsed());
        assert!(vm.is_some());
    }
    stats("cache read: cached_vm(name)", d);
    let mut d = Vec::new();
    for _ in 0..1_000 {
        let t = Instant::now();
        let s = h.snapshot();
        d.push(t.elapsed());
        assert_eq!(s.vms.len(), VMS + 1);
    }
    stats("cache read: snapshot() clone, 501 VMs", d);
    let mut d = Vec::new();
    for _ in 0..10_000 {
        let t = Instant::now();
        let n = h.watch().borrow().vms.len();
        d.push(t.elapsed());
        assert_eq!(n, VMS + 1);
    }
    stats("cache read: watch().borrow() (no clone)", d);

    // Action on a second connection -> event in the worker's broadcast
    // (event loop thread -> worker refreshes the VM -> broadcast).
    let mut rx = h.subscribe();
    let (mut start, mut stop) = (Vec::new(), Vec::new());
    for i in 0..100 {
        let name = format!("vm{i:03}");
        let t = Instant::now();
        direct.start(&name).unwrap();
        wait(&mut rx, &name, VmEventKind::Started).await;
        start.push(t.elapsed());
        let t = Instant::now();
        direct.force_off(&name).unwrap();
        wait(&mut rx, &name, VmEventKind::Stopped).await;
        stop.push(t.elapsed());
    }
    stats("2nd conn start -> worker broadcast", start);
    stats("2nd conn force_off -> worker broadcast", stop);
    direct.close().unwrap();
}

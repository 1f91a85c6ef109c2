//! Benchmark (prints figures, asserts nothing): the host page of a
//! test-driver host with 500 VMs — server render time and bytes — and the
//! time from a libvirt event (a VM started through a second connection) to
//! the event reaching a browser's server-sent-event stream.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use app::auth::{service as auth, Role};
use app::hosts::service::{Hypervisor as _, LibvirtHost, NetworkAttach, VmSpec};
use axum::body::Body;
use futures::StreamExt as _;
use http::{header, Request};
use http_body_util::BodyExt as _;
use sea_orm::{ActiveModelTrait, Set};
use std::time::{Duration, Instant};
use tower::ServiceExt as _;

const VMS: usize = 500;

fn stats(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let n = samples.len();
    let mean = samples.iter().sum::<Duration>() / n as u32;
    println!(
        "{label:<44} n={n:<4} min={:>10.3?} median={:>10.3?} mean={:>10.3?} p95={:>10.3?} max={:>10.3?}",
        samples[0],
        samples[n / 2],
        mean,
        samples[(n * 95 / 100).min(n - 1)],
        samples[n - 1]
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("b.db").display());
    let db = stackyard_server::db::connect(&url).await.unwrap();
    migrations::migrate(&db).await.unwrap();

    // 500 VMs on the shared in-process test host.
    let setup = LibvirtHost::connect("test:///default").unwrap();
    let t = Instant::now();
    for i in 0..VMS {
        setup
            .define_vm(&VmSpec {
                name: format!("vm-{i:03}"),
                memory_mib: 512,
                vcpus: 1,
                disk: None,
                network: NetworkAttach::None,
                mac: None,
                domain_type: None,
                cdroms: Vec::new(),
            })
            .unwrap();
    }
    println!("defined {VMS} VMs in {:.1?}", t.elapsed());

    let now = chrono::Utc::now();
    let host = app::hosts::entity::host::ActiveModel {
        name: Set("bench".into()),
        uri: Set("test:///default".into()),
        label: Set(String::new()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&db)
    .await
    .unwrap();
    let config = auth::AuthConfig {
        hash_cost: auth::HashCost::TESTING,
        ..auth::AuthConfig::default()
    };
    let options = stackyard_server::web::leptos_options(dir.path(), "127.0.0.1:0".parse().unwrap());
    let state = app::state::AppState::new(
        db.clone(),
        options,
        config.clone(),
        app::sealed::SealingKey::generate(),
    );
    state.hosts.load(&db).await.unwrap();
    let (_, handle) = state.hosts.get(host.id).unwrap();
    handle.wait_reachable(Duration::from_secs(10)).await;
    while handle.snapshot().vms.len() < VMS {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let account = auth::create_account(
        &db,
        "viewer",
        "bench password 1",
        Role::Viewer,
        auth::HashCost::TESTING,
    )
    .await
    .unwrap();
    let token = auth::create_session(&db, account.id, "127.0.0.1", &config)
        .await
        .unwrap();
    let cookie = format!("{}={token}", auth::SESSION_COOKIE);
    let router = stackyard_server::web::router(state.clone());

    // The host page, rendered on the server.
    let mut render = Vec::new();
    let (mut raw, mut brotli) = (0, 0);
    for i in 0..30 {
        let mut request = Request::get(format!("/hosts/{}", host.id))
            .header(header::HOST, "bench")
            .header(header::COOKIE, &cookie);
        if i % 2 == 1 {
            request = request.header(header::ACCEPT_ENCODING, "br");
        }
        let t = Instant::now();
        let response = router
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        if i % 2 == 1 {
            brotli = body.len();
        } else {
            render.push(t.elapsed());
            raw = body.len();
        }
    }
    stats(&format!("host page, {VMS} VMs: server render"), render);
    println!("host page bytes: {raw} raw, {brotli} brotli");

    // libvirt event → the browser's event stream.
    let request = Request::get("/events/hosts")
        .header(header::HOST, "bench")
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    let mut events = router
        .clone()
        .oneshot(request)
        .await
        .unwrap()
        .into_body()
        .into_data_stream();
    let other = LibvirtHost::connect("test:///default").unwrap();
    let mut latency = Vec::new();
    for i in 0..50 {
        let vm = format!("vm-{:03}", i);
        let t = Instant::now();
        other.start(&vm).unwrap();
        loop {
            let chunk = tokio::time::timeout(Duration::from_secs(5), events.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            if String::from_utf8_lossy(&chunk).contains(&format!("data: {}", host.id)) {
                break;
            }
        }
        latency.push(t.elapsed());
        other.force_off(&vm).unwrap();
        // Let the stop's own notice pass before the next start is timed.
        tokio::time::sleep(Duration::from_millis(20)).await;
        while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(5), events.next()).await
        {
        }
    }
    stats("libvirt event → SSE message (incl. the start)", latency);
    let _ = other.close();
    let _ = setup.close();
}

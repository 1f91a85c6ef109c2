//! Benchmark (prints figures, asserts nothing): uploading an image into a
//! local directory pool of the real libvirtd, through Stackyard's
//! `POST /images/upload` over a TCP connection as a browser sends it,
//! against `virsh vol-upload` of the same file; and the serving process's
//! memory while it streams (sampled every 20 ms: VmRSS above what it used
//! before).
//!
//! `cargo bench -p stackyard --bench images` (root, libvirtd; the file is
//! `$UPLOAD_MIB` MiB of random bytes, 2048 by default, made once in
//! `/var/cache/stackyard-test`; `$RUNS` uploads of each, alternating).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use app::auth::{service as auth, Role};
use app::testing::libvirt::{ensure_libvirtd, virsh, ScratchPool, SYSTEM_URI};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `mib` MiB of random bytes, made once.
fn test_file(mib: u64) -> PathBuf {
    let dir = PathBuf::from(
        std::env::var("STACKYARD_GUEST_CACHE").unwrap_or("/var/cache/stackyard-test".into()),
    );
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("upload-{mib}m.bin"));
    if std::fs::metadata(&path).map(|m| m.len()).ok() != Some(mib << 20) {
        let t = Instant::now();
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let mut random = std::fs::File::open("/dev/urandom").unwrap();
        let mut buf = vec![0u8; 1 << 20];
        for _ in 0..mib {
            std::io::Read::read_exact(&mut random, &mut buf).unwrap();
            out.write_all(&buf).unwrap();
        }
        out.flush().unwrap();
        println!("made {} ({mib} MiB) in {:.1?}", path.display(), t.elapsed());
    }
    path
}

/// This process's resident memory now, KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// One upload through Stackyard over TCP: the answer's status line and
/// the time it took.
async fn upload(addr: &str, cookie: &str, query: &str, file: &Path) -> (String, Duration) {
    let len = std::fs::metadata(file).unwrap().len();
    let t = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /images/upload?{query} HTTP/1.1\r\nHost: bench\r\nOrigin: http://bench\r\n\
         Cookie: {cookie}\r\nContent-Type: application/octet-stream\r\nContent-Length: {len}\r\n\
         Connection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut f = tokio::fs::File::open(file).await.unwrap();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        stream.write_all(&buf[..n]).await.unwrap();
    }
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let elapsed = t.elapsed();
    let text = String::from_utf8_lossy(&answer);
    (text.lines().next().unwrap_or("").to_owned(), elapsed)
}

fn mib_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / 1048576.0 / d.as_secs_f64()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    ensure_libvirtd();
    let mib = env_u64("UPLOAD_MIB", 2048);
    let runs = env_u64("RUNS", 3);
    let file = test_file(mib);
    let bytes = mib << 20;
    let pool = ScratchPool::new("stackyard-bench");

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("b.db").display());
    let db = stackyard_server::db::connect(&url).await.unwrap();
    migrations::migrate(&db).await.unwrap();
    let config = auth::AuthConfig {
        hash_cost: auth::HashCost::TESTING,
        public_origin: Some("http://bench".into()),
        ..auth::AuthConfig::default()
    };
    let options = stackyard_server::web::leptos_options(dir.path(), "127.0.0.1:0".parse().unwrap());
    let state = app::state::AppState::new(
        db.clone(),
        options,
        config.clone(),
        app::sealed::SealingKey::generate(),
    );
    let host = app::hosts::store::insert(&db, "local".into(), SYSTEM_URI.into(), String::new())
        .await
        .unwrap();
    state.hosts.load(&db).await.unwrap();
    let (_, handle) = state.hosts.get(host.id).unwrap();
    handle.wait_reachable(Duration::from_secs(15)).await;
    handle.capacity().await.unwrap();
    let account = auth::create_account(
        &db,
        "op",
        "bench password 1",
        Role::Operator,
        auth::HashCost::TESTING,
    )
    .await
    .unwrap();
    let token = auth::create_session(&db, account.id, "127.0.0.1", &config)
        .await
        .unwrap();
    let cookie = format!("{}={token}", auth::SESSION_COOKIE);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let router = stackyard_server::web::router(state.clone());
    tokio::spawn(stackyard_server::listen::serve(
        listener,
        router,
        std::future::pending(),
        stackyard_server::listen::Limits::default(),
    ));

    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let mut peak_above = 0u64;
    for run in 0..runs {
        // virsh vol-upload into a raw volume of the same size.
        let name = format!("virsh-{run}.img");
        virsh(&[
            "vol-create-as",
            &pool.name,
            &name,
            &bytes.to_string(),
            "--format",
            "raw",
        ])
        .unwrap();
        let t = Instant::now();
        virsh(&[
            "vol-upload",
            "--pool",
            &pool.name,
            &name,
            &file.display().to_string(),
        ])
        .unwrap();
        theirs.push(t.elapsed());
        virsh(&["vol-delete", "--pool", &pool.name, &name]).unwrap();

        // Stackyard, with the memory sampled on the side.
        let base = rss_kib();
        let peak = Arc::new(AtomicU64::new(base));
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (peak, stop) = (Arc::clone(&peak), Arc::clone(&stop));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    peak.fetch_max(rss_kib(), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        };
        let query = format!(
            "host={}&pool={}&name=bench-{run}&kind=cloud",
            host.id, pool.name
        );
        let (status, took) = upload(&addr, &cookie, &query, &file).await;
        stop.store(true, Ordering::Relaxed);
        sampler.join().unwrap();
        assert!(status.contains("201"), "{status}");
        ours.push(took);
        peak_above = peak_above.max(peak.load(Ordering::Relaxed).saturating_sub(base));
        for vol in pool.volumes() {
            let _ = virsh(&["vol-delete", "--pool", &pool.name, &vol]);
        }
        let _ = <app::images::entity::image::Entity as sea_orm::EntityTrait>::delete_many()
            .exec(&db)
            .await;
        println!(
            "run {run}: virsh vol-upload {:.2?} ({:.0} MiB/s), stackyard {:.2?} ({:.0} MiB/s)",
            theirs[run as usize],
            mib_s(bytes, theirs[run as usize]),
            took,
            mib_s(bytes, took)
        );
    }
    let (ours, theirs) = (median(ours), median(theirs));
    println!("file: {mib} MiB of random bytes, {runs} runs each, alternating");
    println!(
        "virsh vol-upload median {:.2?} = {:.0} MiB/s",
        theirs,
        mib_s(bytes, theirs)
    );
    println!(
        "stackyard upload median {:.2?} = {:.0} MiB/s (SHA-256 included)",
        ours,
        mib_s(bytes, ours)
    );
    println!(
        "throughput ratio stackyard/virsh: {:.2}",
        mib_s(bytes, ours) / mib_s(bytes, theirs)
    );
    println!(
        "serving process's peak memory above its baseline during an upload: {:.1} MiB (VmRSS sampled every 20 ms)",
        peak_above as f64 / 1024.0
    );
}

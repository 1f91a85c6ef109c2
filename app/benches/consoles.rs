//! Figures for the consoles, against the local libvirtd and real QEMU
//! guests (TCG), made from Debian packages by `scripts/guest-images.sh`:
//!
//! - the serial line: keystroke to echo on a busybox shell, 100 keys
//!   (median and p95), through the console's own stream and thread;
//! - the screen: frames per second while GRUB's menu redraws (the
//!   selection moved up and down as fast as the frames come), read with a
//!   minimal RFB client on the socket libvirt hands over;
//! - the bytes a console page adds on its first load: the noVNC and
//!   xterm.js modules, brotli (from `target/site/pkg/vendor`, which
//!   `make build` fills).
//!
//! `cargo bench -p app --features testing --bench consoles` (as root, with
//! libvirtd and qemu-system-x86; the benchmark starts libvirtd if nothing
//! answers).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use app::consoles::service::{open_screen, open_serial, SerialOutput};
use app::testing::libvirt::{ensure_libvirtd, guest_images, unique, Guest, SYSTEM_URI};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn until(out: &mut tokio::sync::mpsc::Receiver<SerialOutput>, needle: &str) {
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !seen.contains(needle) {
        match tokio::time::timeout_at(deadline, out.recv()).await {
            Ok(Some(SerialOutput::Data(b))) => seen.push_str(&String::from_utf8_lossy(&b)),
            other => panic!("no {needle:?}: {other:?}\n{seen}"),
        }
    }
}

async fn serial(images: &Path) {
    let name = unique("sy-bench-serial");
    let _guest = Guest::shell(&name, images);
    let mut console = open_serial(SYSTEM_URI, &name).await.unwrap();
    until(&mut console.output, "stackyard test guest ready").await;
    console.send(b"\r".to_vec());
    until(&mut console.output, "# ").await;
    let mut latencies = Vec::new();
    for i in 0..100u8 {
        let key = [b'a' + i % 26];
        let sent = Instant::now();
        console.send(key.to_vec());
        until(&mut console.output, std::str::from_utf8(&key).unwrap()).await;
        latencies.push(sent.elapsed());
    }
    latencies.sort();
    println!(
        "serial console, keystroke to echo (100 keys): median {:.2?}, p95 {:.2?}, max {:.2?}",
        latencies[49], latencies[94], latencies[99]
    );
}

/// Reads exactly `n` bytes.
async fn take(s: &mut app::consoles::service::ScreenIo, n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    s.reader.read_exact(&mut b).await.unwrap();
    b
}

async fn screen(images: &Path) {
    let name = unique("sy-bench-screen");
    let _guest = Guest::grub(&name, images);
    let mut s = open_screen(SYSTEM_URI, &name).await.unwrap();
    // RFB 3.8: version, security (libvirt skipped the password: "None"),
    // shared ClientInit, ServerInit.
    assert_eq!(take(&mut s, 12).await, b"RFB 003.008\n");
    s.writer.write_all(b"RFB 003.008\n").await.unwrap();
    let n = take(&mut s, 1).await[0] as usize;
    let types = take(&mut s, n).await;
    assert!(types.contains(&1), "no 'None' security: {types:?}");
    s.writer.write_all(&[1]).await.unwrap();
    assert_eq!(take(&mut s, 4).await, [0, 0, 0, 0], "security result");
    s.writer.write_all(&[1]).await.unwrap();
    let init = take(&mut s, 24).await;
    let (w, h) = (
        u16::from_be_bytes([init[0], init[1]]),
        u16::from_be_bytes([init[2], init[3]]),
    );
    let bytes_per_pixel = usize::from(init[4] / 8);
    let name_len = u32::from_be_bytes([init[20], init[21], init[22], init[23]]) as usize;
    take(&mut s, name_len).await;
    // Raw encoding only: each rectangle's size is known from its header.
    s.writer.write_all(&[2, 0, 0, 1, 0, 0, 0, 0]).await.unwrap();
    let request = |incremental: u8| {
        let mut r = vec![3, incremental, 0, 0, 0, 0];
        r.extend_from_slice(&w.to_be_bytes());
        r.extend_from_slice(&h.to_be_bytes());
        r
    };
    s.writer.write_all(&request(0)).await.unwrap();
    // GRUB's menu waits for a key; give it time to draw first.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let key = |down: bool, sym: u32| {
        let mut k = vec![4, u8::from(down), 0, 0];
        k.extend_from_slice(&sym.to_be_bytes());
        k
    };
    let (mut frames, mut bytes) = (0u64, 0u64);
    let started = Instant::now();
    let mut next_key = Instant::now();
    let mut up = false;
    while started.elapsed() < Duration::from_secs(10) {
        if Instant::now() >= next_key {
            // Down, Up, Down…: the highlighted entry moves, the menu redraws.
            let sym = if up { 0xff52 } else { 0xff54 };
            s.writer.write_all(&key(true, sym)).await.unwrap();
            s.writer.write_all(&key(false, sym)).await.unwrap();
            up = !up;
            next_key = Instant::now() + Duration::from_millis(20);
        }
        let kind = match tokio::time::timeout(Duration::from_millis(50), s.reader.read_u8()).await {
            Ok(r) => r.unwrap(),
            Err(_) => continue,
        };
        match kind {
            0 => {
                // FramebufferUpdate: padding, rectangle count, rectangles.
                let head = take(&mut s, 3).await;
                let rects = u16::from_be_bytes([head[1], head[2]]);
                for _ in 0..rects {
                    let r = take(&mut s, 12).await;
                    let (rw, rh) = (
                        u16::from_be_bytes([r[4], r[5]]) as usize,
                        u16::from_be_bytes([r[6], r[7]]) as usize,
                    );
                    let encoding = i32::from_be_bytes([r[8], r[9], r[10], r[11]]);
                    if encoding == 0 {
                        take(&mut s, rw * rh * bytes_per_pixel).await;
                        bytes += (rw * rh * bytes_per_pixel) as u64;
                    }
                }
                frames += 1;
                s.writer.write_all(&request(1)).await.unwrap();
            }
            1 => {
                // SetColourMapEntries.
                let head = take(&mut s, 5).await;
                let n = u16::from_be_bytes([head[3], head[4]]) as usize;
                take(&mut s, n * 6).await;
            }
            2 => {}
            3 => {
                let head = take(&mut s, 7).await;
                let n = u32::from_be_bytes([head[3], head[4], head[5], head[6]]) as usize;
                take(&mut s, n).await;
            }
            other => panic!("unexpected RFB message {other}"),
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "screen console, GRUB menu redrawing ({w}x{h}, raw): {:.1} frames/s, {:.1} MB/s over {secs:.1} s",
        frames as f64 / secs,
        bytes as f64 / secs / 1e6
    );
}

fn vendor_bytes() {
    let root = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/site/pkg/vendor"
    ));
    let sum = |dir: &str| -> Option<u64> {
        let mut total = 0;
        let mut stack = vec![root.join(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).ok()? {
                let p = e.ok()?.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "br") {
                    total += std::fs::metadata(&p).ok()?.len();
                }
            }
        }
        Some(total)
    };
    match (sum("novnc"), sum("xterm")) {
        (Some(n), Some(x)) => println!(
            "console page's added first-load bytes (brotli): noVNC {:.1} KB (screen), xterm.js {:.1} KB (serial)",
            n as f64 / 1024.0,
            x as f64 / 1024.0
        ),
        _ => println!("no target/site/pkg/vendor: run `make build` for the console page's bytes"),
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    ensure_libvirtd();
    let images = guest_images();
    serial(&images).await;
    screen(&images).await;
    vendor_bytes();
}

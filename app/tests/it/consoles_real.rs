#![cfg(feature = "ssr")]
//! Consoles against a real libvirtd and QEMU (TCG: nested KVM stalls
//! booting guests on these machines), with guests from Debian packages
//! (`scripts/guest-images.sh`): the serial line of a VM booting Debian's
//! cloud kernel into a busybox shell, and the VNC screen of a VM booting
//! the grub-rescue CD. Ignored by default like the other real-daemon
//! tests; `make test` runs them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use app::consoles::service::{open_screen, open_serial, SerialOutput};
use app::testing::libvirt::{
    ensure_libvirtd, guest_images, unique, Guest, LoopbackSshd, DAEMON, SYSTEM_URI,
};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

/// Reads the console until `needle` has appeared in what it wrote (since
/// the call), within `limit`; returns all it read.
async fn read_until(
    out: &mut tokio::sync::mpsc::Receiver<SerialOutput>,
    needle: &str,
    limit: Duration,
) -> String {
    let deadline = tokio::time::Instant::now() + limit;
    let mut seen = String::new();
    loop {
        match tokio::time::timeout_at(deadline, out.recv()).await {
            Ok(Some(SerialOutput::Data(bytes))) => {
                seen.push_str(&String::from_utf8_lossy(&bytes));
                if seen.contains(needle) {
                    return seen;
                }
            }
            Ok(Some(SerialOutput::Closed(why))) => {
                panic!("closed ({why}) before {needle:?}:\n{seen}")
            }
            Ok(None) => panic!("ended before {needle:?}:\n{seen}"),
            Err(_) => panic!("no {needle:?} within {limit:?}:\n{seen}"),
        }
    }
}

#[tokio::test]
#[ignore = "needs libvirtd, qemu-system-x86 and Debian's archive (guest images); run with --include-ignored"]
async fn the_serial_console_reaches_a_shell_and_echoes() {
    let _daemon = DAEMON.lock().await;
    ensure_libvirtd();
    let images = guest_images();
    let name = unique("sy-serial");
    let _guest = Guest::shell(&name, &images);
    let t0 = Instant::now();
    let mut console = open_serial(SYSTEM_URI, &name).await.unwrap();
    read_until(
        &mut console.output,
        "stackyard test guest ready",
        Duration::from_secs(60),
    )
    .await;
    println!("shell after {:?}", t0.elapsed());
    // The shell's prompt may have been printed before we looked.
    assert!(console.send(b"\r".to_vec()));
    read_until(&mut console.output, "# ", Duration::from_secs(10)).await;
    assert!(console.send(b"echo $((6*7))\r".to_vec()));
    let said = read_until(&mut console.output, "42", Duration::from_secs(10)).await;
    println!("{said:?}");

    // Keystroke-to-echo figures: `cargo bench -p app --features testing --bench consoles`.
    drop(console);

    // A second console on the same VM takes over (the first was closed):
    // the line still answers.
    let mut again = open_serial(SYSTEM_URI, &name).await.unwrap();
    // A fresh line first: whatever the first console left typed is run
    // (and fails) on its own.
    assert!(again.send(b"\recho $((7*6))x\r".to_vec()));
    read_until(&mut again.output, "42x", Duration::from_secs(10)).await;
}

#[tokio::test]
#[ignore = "needs libvirtd, qemu-system-x86 and Debian's archive (guest images); run with --include-ignored"]
async fn the_screen_socket_speaks_vnc() {
    let _daemon = DAEMON.lock().await;
    ensure_libvirtd();
    let images = guest_images();
    let name = unique("sy-screen");
    let _guest = Guest::grub(&name, &images);
    let mut screen = open_screen(SYSTEM_URI, &name).await.unwrap();
    let mut banner = [0u8; 12];
    tokio::time::timeout(
        Duration::from_secs(10),
        screen.reader.read_exact(&mut banner),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(&banner, b"RFB 003.008\n");

    // Without a serial port, the serial console says so.
    let e = open_serial(SYSTEM_URI, &name)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("has no serial port"), "{e}");
}

/// The same screen through `qemu+ssh://`: the local daemon behind an sshd
/// of the test's own on loopback; the screen comes through `ssh -W`.
#[tokio::test]
#[ignore = "needs libvirtd, qemu-system-x86, openssh-server and Debian's archive; run with --include-ignored"]
async fn the_screen_travels_over_ssh() {
    let _daemon = DAEMON.lock().await;
    ensure_libvirtd();
    let images = guest_images();
    let sshd = LoopbackSshd::start();
    let name = unique("sy-ssh");
    let _guest = Guest::grub(&name, &images);
    let mut screen = open_screen(&sshd.uri(), &name).await.unwrap();
    let mut banner = [0u8; 12];
    tokio::time::timeout(
        Duration::from_secs(20),
        screen.reader.read_exact(&mut banner),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(&banner, b"RFB 003.008\n");
    // The serial console goes over the same URI, inside libvirt's own
    // connection; this VM has none, and says so.
    let e = open_serial(&sshd.uri(), &name)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("has no serial port"), "{e}");
}

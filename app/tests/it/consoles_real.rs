#![cfg(feature = "ssr")]
//! Consoles against a real libvirtd and QEMU (TCG: nested KVM stalls
//! booting guests on these machines), with guests from Debian packages
//! (`scripts/guest-images.sh`): the serial line of a VM booting Debian's
//! cloud kernel into a busybox shell, and the VNC screen of a VM booting
//! the grub-rescue CD. Ignored by default like the other real-daemon
//! tests; `make test` runs them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use app::consoles::service::{open_screen, open_serial, SerialOutput};
use app::testing::libvirt::{ensure_libvirtd, unique, virsh, DAEMON, SYSTEM_URI};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

/// The guest images' directory (made once, cached outside the repository).
fn guest_images() -> PathBuf {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/guest-images.sh");
    let out = std::process::Command::new(script).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// A transient VM, destroyed (and so gone) on drop.
struct Guest(String);

impl Guest {
    fn create(name: &str, os: &str, devices: &str) -> Guest {
        let xml = format!(
            "<domain type='qemu'><name>{name}</name><memory unit='MiB'>192</memory><vcpu>1</vcpu>\
             <os><type arch='x86_64' machine='pc'>hvm</type>{os}</os>\
             <on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot>\
             <devices>{devices}</devices></domain>"
        );
        let file = std::env::temp_dir().join(format!("{name}.xml"));
        std::fs::write(&file, xml).unwrap();
        virsh(&["create", &file.display().to_string()]).unwrap();
        let _ = std::fs::remove_file(&file);
        Guest(name.to_owned())
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        let _ = virsh(&["destroy", &self.0]);
    }
}

const SERIAL: &str = "<serial type='pty'><target port='0'/></serial>\
                      <console type='pty'><target type='serial' port='0'/></console>";

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
    let os = format!(
        "<kernel>{}</kernel><initrd>{}</initrd><cmdline>console=ttyS0 quiet panic=-1</cmdline>",
        images.join("vmlinuz").display(),
        images.join("initrd.gz").display()
    );
    let _guest = Guest::create(&name, &os, SERIAL);
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
    let devices = format!(
        "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>\
         <source file='{}'/><target dev='hdc' bus='ide'/><readonly/></disk>\
         <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'/>",
        images.join("grub-rescue.iso").display()
    );
    let _guest = Guest::create(&name, "<boot dev='cdrom'/>", &devices);
    let mut screen = open_screen(SYSTEM_URI, &name).await.unwrap();
    let mut banner = [0u8; 12];
    tokio::time::timeout(Duration::from_secs(10), screen.read_exact(&mut banner))
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

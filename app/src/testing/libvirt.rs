//! Hypervisors for the tests: the bundled demo node on libvirt's test
//! driver (no daemon needed, a private copy per connection) and a real
//! `libvirtd` on `qemu:///system`, started the way a developer would when
//! nothing answers.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::hosts::service::{HostEvent, Hypervisor, LibvirtHost, VmEventKind};
use tokio::sync::broadcast;

pub const GIB: u64 = 1024 * 1024 * 1024;

/// The bundled demo node as a test-driver URI (a private instance per connection).
pub fn demo() -> String {
    crate::hosts::service::demo_uri(crate::hosts::service::demo_node_path())
}

/// A name no other test (or earlier run) uses.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        nanos % 100_000
    )
}

/// Waits for the event `kind` of `vm`, skipping others; returns it and how
/// long it took.
pub async fn wait_event(
    rx: &mut broadcast::Receiver<HostEvent>,
    vm: &str,
    kind: VmEventKind,
    within: Duration,
) -> (HostEvent, Duration) {
    let t0 = Instant::now();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Ok(ev)) if ev.vm == vm && ev.kind == kind => return (ev, t0.elapsed()),
            Ok(Ok(_)) => continue,
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => continue,
            Ok(Err(e)) => panic!("event channel closed: {e}"),
            Err(_) => panic!("no {kind:?} event for {vm} within {within:?}"),
        }
    }
}

/// The local system daemon, for the tests that need a real hypervisor.
pub const SYSTEM_URI: &str = "qemu:///system";

/// Held by every test of one process that uses the real daemon: those that
/// stop or kill it must not pull it from under the others.
pub static DAEMON: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Kills libvirtd abruptly (SIGKILL, by the pid in its pidfile) and waits
/// until it is gone; [`ensure_libvirtd`] starts it again.
pub fn kill_libvirtd() {
    let pid = std::fs::read_to_string("/var/run/libvirtd.pid").expect("libvirtd's pidfile");
    let pid = pid.trim().to_string();
    let status = Command::new("kill")
        .args(["-KILL", &pid])
        .status()
        .expect("kill");
    assert!(status.success(), "kill -KILL {pid}: {status}");
    let t0 = Instant::now();
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "libvirtd {pid} lingers"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Connects to [`SYSTEM_URI`], starting virtlogd and libvirtd first if
/// nothing answers (both daemonise themselves; a second virtlogd just exits).
pub fn ensure_libvirtd() {
    if let Ok(h) = LibvirtHost::connect(SYSTEM_URI) {
        h.close().unwrap();
        return;
    }
    for d in ["/var/log/libvirt", "/var/run/libvirt"] {
        std::fs::create_dir_all(d).unwrap();
    }
    let _ = Command::new("virtlogd")
        .arg("-d")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let status = Command::new("libvirtd")
        .arg("-d")
        .status()
        .expect("libvirtd is installed");
    assert!(status.success(), "libvirtd -d failed: {status}");
    let t0 = Instant::now();
    loop {
        match LibvirtHost::connect(SYSTEM_URI) {
            Ok(h) => return h.close().unwrap(),
            Err(e) if t0.elapsed() > Duration::from_secs(15) => {
                panic!("libvirtd did not come up: {e}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// `virsh -c qemu:///system ARGS`: its output, or its error text.
pub fn virsh(args: &[&str]) -> Result<String, String> {
    let out = Command::new("virsh")
        .arg("-c")
        .arg(SYSTEM_URI)
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The console tests' guest images (`scripts/guest-images.sh`: Debian's
/// grub-rescue CD, cloud kernel and a busybox initramfs, made once and
/// cached outside the repository); returns their directory.
pub fn guest_images() -> std::path::PathBuf {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/guest-images.sh");
    let out = Command::new(script)
        .output()
        .expect("scripts/guest-images.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// A transient TCG guest on [`SYSTEM_URI`] (nested KVM stalls booting
/// guests on the test machines), with ACPI; destroyed, and so gone, on drop.
pub struct Guest(pub String);

impl Guest {
    /// Starts `name` with `os` (the `<os>` element's children after its
    /// type) and `devices`.
    pub fn create(name: &str, os: &str, devices: &str) -> Guest {
        let xml = format!(
            "<domain type='qemu'><name>{name}</name><memory unit='MiB'>192</memory><vcpu>1</vcpu>\
             <os><type arch='x86_64' machine='pc'>hvm</type>{os}</os>\
             <features><acpi/><apic/></features>\
             <on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot>\
             <devices>{devices}</devices></domain>"
        );
        let file = std::env::temp_dir().join(format!("{name}.xml"));
        std::fs::write(&file, xml).expect("the guest's definition");
        virsh(&["create", &file.display().to_string()]).expect("virsh create");
        let _ = std::fs::remove_file(&file);
        Guest(name.to_owned())
    }

    /// Debian's cloud kernel into a busybox shell on the serial line.
    pub fn shell(name: &str, images: &std::path::Path) -> Guest {
        let os = format!(
            "<kernel>{}</kernel><initrd>{}</initrd><cmdline>console=ttyS0 quiet panic=-1</cmdline>",
            images.join("vmlinuz").display(),
            images.join("initrd.gz").display()
        );
        Guest::create(name, &os, SERIAL_DEVICES)
    }

    /// The grub-rescue CD with a VNC screen (no serial port).
    pub fn grub(name: &str, images: &std::path::Path) -> Guest {
        let devices = format!(
            "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>\
             <source file='{}'/><target dev='hdc' bus='ide'/><readonly/></disk>\
             <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'/>",
            images.join("grub-rescue.iso").display()
        );
        Guest::create(name, "<boot dev='cdrom'/>", &devices)
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        let _ = virsh(&["destroy", &self.0]);
    }
}

/// A serial port that is also the VM's console.
pub const SERIAL_DEVICES: &str = "<serial type='pty'><target port='0'/></serial>\
                                  <console type='pty'><target type='serial' port='0'/></console>";

/// An `sshd` of the test's own on a loopback port, logging in `root` with a
/// key made for it (so `qemu+ssh://` can be tried against the local
/// daemon); stopped, by its pid, on drop.
pub struct LoopbackSshd {
    child: std::process::Child,
    dir: tempfile::TempDir,
    pub port: u16,
}

impl LoopbackSshd {
    pub fn start() -> LoopbackSshd {
        let dir = tempfile::tempdir().expect("a directory for sshd");
        let path = |f: &str| dir.path().join(f).display().to_string();
        for key in ["host_key", "client_key"] {
            let st = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f", &path(key)])
                .status()
                .expect("ssh-keygen (apt-get install openssh-client)");
            assert!(st.success());
        }
        std::fs::copy(path("client_key.pub"), path("authorized_keys")).expect("authorized_keys");
        // sshd's privilege separation directory.
        std::fs::create_dir_all("/run/sshd").expect("/run/sshd");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\n\
             AuthorizedKeysFile {}\nPermitRootLogin prohibit-password\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
             StrictModes no\nAllowTcpForwarding yes\n",
            path("host_key"),
            path("sshd.pid"),
            path("authorized_keys")
        );
        std::fs::write(path("sshd_config"), config).expect("sshd_config");
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f", &path("sshd_config")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sshd (apt-get install openssh-server)");
        let t0 = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "sshd did not listen"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        LoopbackSshd { child, dir, port }
    }

    /// The local daemon through this sshd.
    pub fn uri(&self) -> String {
        format!(
            "qemu+ssh://root@127.0.0.1:{}/system?keyfile={}&no_verify=1",
            self.port,
            self.dir.path().join("client_key").display()
        )
    }
}

impl Drop for LoopbackSshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A transient directory pool of its own on [`SYSTEM_URI`], gone with its
/// volumes (and the VMs named in `vms`) on drop.
pub struct ScratchPool {
    pub name: String,
    pub dir: std::path::PathBuf,
    pub vms: Vec<String>,
}

impl ScratchPool {
    pub fn new(prefix: &str) -> ScratchPool {
        ensure_libvirtd();
        let name = unique(prefix);
        let dir = std::path::PathBuf::from("/var/lib/libvirt/images").join(&name);
        std::fs::create_dir_all(&dir).expect("the pool's directory");
        virsh(&[
            "pool-create-as",
            &name,
            "dir",
            "--target",
            &dir.display().to_string(),
        ])
        .expect("virsh pool-create-as");
        ScratchPool {
            name,
            dir,
            vms: Vec::new(),
        }
    }

    /// The names of the pool's volumes (`virsh vol-list` has no `--name`
    /// on Debian 12's libvirt 9: the first column after the header's rule).
    pub fn volumes(&self) -> Vec<String> {
        virsh(&["vol-list", &self.name])
            .unwrap_or_default()
            .lines()
            .skip_while(|l| !l.starts_with("---"))
            .skip(1)
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_string)
            .collect()
    }
}

impl Drop for ScratchPool {
    fn drop(&mut self) {
        for vm in &self.vms {
            let _ = virsh(&["destroy", vm]);
            let _ = virsh(&["undefine", vm]);
        }
        for vol in self.volumes() {
            let _ = virsh(&["vol-delete", &vol, "--pool", &self.name]);
        }
        let _ = virsh(&["pool-destroy", &self.name]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A transient libvirt network of its own on [`SYSTEM_URI`]: a bridge with
/// no address on the host side and no forwarding, so its VMs reach only
/// each other; destroyed on drop.
pub struct IsolatedNetwork {
    pub name: String,
}

impl IsolatedNetwork {
    /// Creates the network; `Err` with virsh's message (or the file's
    /// error) when it cannot.
    pub fn new(prefix: &str) -> Result<IsolatedNetwork, String> {
        ensure_libvirtd();
        let name = unique(prefix);
        // A bridge name has at most 15 characters.
        let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        let bridge = format!("sy{:08x}", hash & 0xffff_ffff);
        let xml = format!(
            "<network>\n  <name>{name}</name>\n  <bridge name='{bridge}' stp='off' delay='0'/>\n</network>\n"
        );
        let file = std::env::temp_dir().join(format!("{name}.xml"));
        std::fs::write(&file, xml).map_err(|e| format!("{}: {e}", file.display()))?;
        let made = virsh(&["net-create", &file.display().to_string()]);
        let _ = std::fs::remove_file(&file);
        made.map(|_| IsolatedNetwork { name })
    }
}

impl Drop for IsolatedNetwork {
    fn drop(&mut self) {
        let _ = virsh(&["net-destroy", &self.name]);
    }
}

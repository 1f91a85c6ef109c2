//! The seed checked by the programs that read it for real: `isoinfo` and
//! `blkid` (what finds the `cidata` volume), PyYAML (what cloud-init parses
//! the documents with), and Linux's isofs in a guest that mounts the seed
//! as its CD-ROM.
//!
//! Linux is booted under QEMU rather than asked to loop-mount the image:
//! the kernel building Stackyard may have no ISO9660 at all (the test
//! machines' has none), and a guest's CD-ROM is how a VM sees its seed.
//!
//! `make test` installs the tools (Debian packages `genisoimage`,
//! `util-linux`, `python3-yaml`, `qemu-system-x86`, `cpio`); a missing tool
//! fails the test rather than letting it pass without having checked
//! anything.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};
use sha2::Digest as _;

use super::iso::{iso9660, SECTOR};
use super::tests::{hostile, minimal, spec, spec_with};
use super::{InstanceId, SeedSpec, VOLUME_LABEL};

/// A program from PATH or the sbin directories, or a failed test saying
/// which package brings it.
fn tool(name: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("{name} not found: apt-get install {package} (make test installs it)")
        })
}

/// Runs a program and returns its output, failing the test (with its
/// stderr) when it does not succeed.
fn run(program: &Path, args: &[&str]) -> Output {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{} {args:?} failed: {}{}",
        program.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The seed of `spec` written to `dir/seed.iso`, and its files.
fn seed_iso(spec: &SeedSpec, dir: &Path) -> (PathBuf, Vec<(&'static str, Vec<u8>)>) {
    let files = spec.files().unwrap();
    let borrowed: Vec<(&str, &[u8])> = files.iter().map(|(n, d)| (*n, d.as_slice())).collect();
    let image = iso9660(VOLUME_LABEL, &borrowed).unwrap();
    let path = dir.join("seed.iso");
    std::fs::write(&path, &image).unwrap();
    (path, files)
}

#[test]
fn isoinfo_sees_cidata_with_rock_ridge_and_the_files_as_written() {
    let isoinfo = tool("isoinfo", "genisoimage");
    let dir = tempfile::tempdir().unwrap();
    let (iso, files) = seed_iso(&spec(), dir.path());
    let iso_arg = iso.to_str().unwrap();
    let size = std::fs::metadata(&iso).unwrap().len() as usize;

    let info = String::from_utf8(run(&isoinfo, &["-d", "-i", iso_arg]).stdout).unwrap();
    println!("isoinfo -d:\n{info}");
    assert!(info.contains("Volume id: cidata\n"), "{info}");
    assert!(info.contains("Logical block size is: 2048\n"), "{info}");
    assert!(
        info.contains(&format!("Volume size is: {}\n", size / SECTOR)),
        "{info}"
    );
    assert!(info.contains("NO Joliet present"), "{info}");
    assert!(
        info.contains("Rock Ridge signatures version 1 found"),
        "{info}"
    );

    let listing = String::from_utf8(run(&isoinfo, &["-R", "-l", "-i", iso_arg]).stdout).unwrap();
    println!("isoinfo -R -l:\n{listing}");
    let mut seen = BTreeMap::new();
    for line in listing.lines().filter(|l| l.starts_with(['-', 'd'])) {
        let mode = line.split_whitespace().next().unwrap_or_default();
        let name = line.split("]  ").nth(1).unwrap_or_default().trim_end();
        seen.insert(name.to_owned(), mode.to_owned());
    }
    let expected: BTreeMap<String, String> = [
        (".", "dr-xr-xr-x"),
        ("..", "dr-xr-xr-x"),
        ("meta-data", "-r--r--r--"),
        ("network-config", "-r--r--r--"),
        ("user-data", "-r--r--r--"),
    ]
    .into_iter()
    .map(|(n, m)| (n.to_owned(), m.to_owned()))
    .collect();
    assert_eq!(seen, expected, "{listing}");

    for (name, data) in &files {
        let read = run(&isoinfo, &["-R", "-i", iso_arg, "-x", &format!("/{name}")]).stdout;
        assert_eq!(&read, data, "{name} through Rock Ridge");
    }
    // Without Rock Ridge, the 8.3 names hold the same data.
    let plain = run(&isoinfo, &["-i", iso_arg, "-x", "/NETWORK_.;1"]).stdout;
    assert_eq!(
        Some(&plain),
        files
            .iter()
            .find(|(n, _)| *n == "network-config")
            .map(|(_, d)| d)
    );
}

#[test]
fn blkid_finds_an_iso9660_labelled_cidata() {
    let blkid = tool("blkid", "util-linux");
    let dir = tempfile::tempdir().unwrap();
    let (iso, _) = seed_iso(&minimal(), dir.path());
    let out = String::from_utf8(run(&blkid, &["-p", iso.to_str().unwrap()]).stdout).unwrap();
    println!("blkid -p: {out}");
    assert!(out.contains(" TYPE=\"iso9660\""), "{out}");
    assert!(out.contains(" LABEL=\"cidata\""), "{out}");
    assert!(out.contains(" BLOCK_SIZE=\"2048\""), "{out}");
    // NoCloud asks for the label this way (`blkid -tLABEL=cidata -odevice`).
    let found = run(
        &blkid,
        &[
            "-p",
            "-t",
            "LABEL=cidata",
            "-o",
            "device",
            iso.to_str().unwrap(),
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&found.stdout).trim(),
        iso.to_str().unwrap()
    );
}

/// The documents as PyYAML's `safe_load` (what cloud-init uses) reads them,
/// as JSON values.
fn pyyaml(docs: &[String]) -> Vec<Value> {
    let python = tool("python3", "python3-yaml");
    let mut child = Command::new(python)
        .args([
            "-c",
            "import json, sys, yaml\n\
             docs = json.load(sys.stdin)\n\
             print(json.dumps([yaml.safe_load(d) for d in docs]))",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = serde_json::to_vec(docs).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "PyYAML could not read the documents (python3-yaml installed?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn pyyaml_reads_the_documents_as_meant() {
    let s = spec();
    let id = InstanceId("sy-0123456789abcdef".into());
    let read = pyyaml(&[s.meta_data(&id), s.user_data(), s.network_config().unwrap()]);
    assert_eq!(
        read[0],
        json!({"instance-id": "sy-0123456789abcdef", "local-hostname": "web1"})
    );
    assert_eq!(
        read[1],
        json!({
            "hostname": "web1",
            "fqdn": "web1.example.org",
            "prefer_fqdn_over_hostname": false,
            "manage_etc_hosts": true,
            "users": [{
                "name": "admin",
                "sudo": "ALL=(ALL) NOPASSWD:ALL",
                "shell": "/bin/bash",
                "lock_passwd": true,
                "ssh_authorized_keys": [super::tests::ED25519],
            }],
            "ssh_pwauth": false,
            "package_update": true,
            "packages": ["nginx", "python3-yaml"],
            "runcmd": ["systemctl enable --now nginx"],
        })
    );
    assert_eq!(
        read[2],
        json!({
            "version": 2,
            "ethernets": {"primary": {
                "match": {"macaddress": "52:54:00:12:34:56"},
                "dhcp4": false,
                "dhcp6": false,
                "addresses": ["192.0.2.10/24"],
                "gateway4": "192.0.2.1",
                "nameservers": {
                    "addresses": ["192.0.2.53", "2001:db8::53"],
                    "search": ["example.org"],
                },
            }},
        })
    );
}

#[test]
fn pyyaml_reads_hostile_values_back_as_plain_strings() {
    let values = hostile();
    let mut docs = Vec::new();
    for v in &values {
        let s = spec_with(v);
        docs.push(s.user_data());
        docs.push(s.network_config().unwrap());
    }
    let read = pyyaml(&docs);
    for (i, v) in values.iter().enumerate() {
        let key = format!("ssh-ed25519 AAAA {v}\nssh-rsa AAAA evil");
        assert_eq!(
            read[2 * i],
            json!({
                "hostname": v,
                "fqdn": v,
                "prefer_fqdn_over_hostname": false,
                "manage_etc_hosts": true,
                "users": [{
                    "name": v,
                    "sudo": "ALL=(ALL) NOPASSWD:ALL",
                    "shell": "/bin/bash",
                    "lock_passwd": true,
                    "ssh_authorized_keys": [key.trim()],
                }],
                "ssh_pwauth": false,
                "package_update": true,
                "packages": [v, v],
                "runcmd": [v],
            }),
            "{v:?}"
        );
        let net = &read[2 * i + 1]["ethernets"]["primary"];
        assert_eq!(
            net["match"]["macaddress"],
            json!(v.to_ascii_lowercase()),
            "{v:?}"
        );
        assert_eq!(net["nameservers"]["search"], json!([v]), "{v:?}");
    }
}

/// The guest of `scripts/isofs-guest.sh` (Debian's cloud kernel and an
/// initramfs that mounts its CD-ROM and prints what it sees); returns its
/// directory.
fn isofs_guest() -> PathBuf {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/isofs-guest.sh");
    let out = Command::new(script).output().unwrap();
    assert!(
        out.status.success(),
        "scripts/isofs-guest.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// Kills QEMU when dropped, so a failed test leaves no guest behind.
struct Qemu(std::process::Child);

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What the guest printed on its serial line between STACKYARD-BEGIN and
/// STACKYARD-END, after booting with `iso` as its IDE CD-ROM (as libvirt
/// attaches a seed), under TCG.
fn guest_sees(iso: &Path) -> Vec<String> {
    let guest = isofs_guest();
    let qemu = tool("qemu-system-x86_64", "qemu-system-x86");
    let drive = format!(
        "file={},media=cdrom,readonly=on,format=raw,if=ide",
        iso.display()
    );
    let child = Command::new(qemu)
        .args(["-nodefaults", "-machine", "pc,accel=tcg", "-m", "256"])
        .args(["-display", "none", "-serial", "stdio", "-no-reboot"])
        .arg("-kernel")
        .arg(guest.join("vmlinuz"))
        .arg("-initrd")
        .arg(guest.join("initrd.gz"))
        .args(["-append", "console=ttyS0 panic=-1 quiet", "-drive", &drive])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut qemu = Qemu(child);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    while qemu.0.try_wait().unwrap().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "the guest did not power off within 180 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let mut serial = String::new();
    if let Some(mut out) = qemu.0.stdout.take() {
        std::io::Read::read_to_string(&mut out, &mut serial).unwrap();
    }
    let serial = serial.replace('\r', "");
    let lines: Vec<String> = serial
        .lines()
        .skip_while(|l| *l != "STACKYARD-BEGIN")
        .skip(1)
        .take_while(|l| *l != "STACKYARD-END")
        .map(str::to_owned)
        .collect();
    assert!(
        serial.contains("STACKYARD-END") && !serial.contains("STACKYARD-MOUNT-FAILED"),
        "the guest could not read the seed:\n{serial}"
    );
    lines
}

#[test]
#[ignore = "boots Debian's kernel under QEMU (make test runs it)"]
fn linux_isofs_shows_the_seed_with_its_names_modes_and_contents() {
    let dir = tempfile::tempdir().unwrap();
    let (iso, files) = seed_iso(&spec(), dir.path());
    let lines = guest_sees(&iso);
    println!(
        "the guest's ls -ln, sha256sum and dmesg:\n{}",
        lines.join("\n")
    );

    // `ls -ln`: mode, links, owner, group, size, date, name.
    let mut listed = Vec::new();
    for line in lines.iter().filter(|l| l.starts_with('-')) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        listed.push((
            fields[fields.len() - 1].to_owned(),
            fields[0].to_owned(),
            fields[2..4].join(":"),
            fields[4].parse::<usize>().unwrap(),
        ));
    }
    let expected: Vec<(String, String, String, usize)> =
        ["meta-data", "network-config", "user-data"]
            .into_iter()
            .map(|name| {
                let data = &files.iter().find(|(n, _)| *n == name).unwrap().1;
                (
                    name.to_owned(),
                    "-r--r--r--".to_owned(),
                    "0:0".to_owned(),
                    data.len(),
                )
            })
            .collect();
    assert_eq!(listed, expected);

    // The directory: read-only for everyone, root's.
    let mnt = lines
        .iter()
        .find(|l| l.ends_with(" /mnt"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>());
    assert_eq!(
        mnt.as_ref().map(|f| (f[0], f[2], f[3])),
        Some(("dr-xr-xr-x", "0", "0")),
        "{lines:#?}"
    );

    // The contents, byte for byte.
    for (name, data) in &files {
        let digest: String = sha2::Sha256::digest(data)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let line = format!("{digest}  /mnt/{name}");
        assert!(lines.contains(&line), "{name}: no {line:?} in {lines:#?}");
    }
    // Linux found the ER entry and so reads Rock Ridge (not by chance).
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("ISO 9660 Extensions: RRIP_1991A")),
        "{lines:#?}"
    );
}

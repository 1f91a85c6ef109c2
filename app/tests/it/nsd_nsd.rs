#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg(feature = "ssr")]
//! Integration tests against real NSD processes.
//!
//! Each test starts private NSD instances on 127.0.0.1 with free high
//! ports, each with its own temporary directory and an `nsd.conf` generated
//! by Stackyard (sharing one generated TSIG key). NSD runs in the
//! foreground (`nsd -d`) in its own process group, and the [`Nsd`] guard
//! stops the whole group on drop, so no NSD process outlives a test, even
//! a failing one. Answers are read with `dig +short`.
//!
//! They need `nsd`, `nsd-checkzone`, `nsd-control` and `dig` (Debian:
//! `apt-get install nsd dnsutils`), so they are ignored by default:
//! `cargo test -- --include-ignored`.

use app::testing::nsd as nsd_common;

use app::dns::nsd::{
    apply_and_reload, apply_zone_text, nsd_conf_zones, ApplyError, DnsServer, NsdCheckzone,
    ReloadError, ReloadMethod, ServerRole, TsigKey,
};
use app::dns::zone::{next_serial, reverse_name, reverse_zone_for, RData, Record, Soa, Ttl, Zone};
use nsd_common::*;
use std::fs;
use std::net::{IpAddr, Ipv4Addr};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// A fixed "today" for next_serial, so serials are predictable.
const TODAY: (u32, u32, u32) = (2024, 6, 1);

fn wait_for_serial(nsd: &Nsd, zone: &str, want: u32) {
    wait_for(
        nsd,
        zone,
        "SOA",
        &[&format!(
            "ns1.example.test. hostmaster.example.test. {want} 7200 3600 1209600 300"
        )],
    );
    assert_eq!(serial(nsd.port(), zone), Some(want));
}

fn soa(serial: u32) -> Soa {
    // refresh 7200: a secondary will not poll by itself during a test, so
    // any change it shows within seconds arrived through NOTIFY.
    Soa {
        mname: n("ns1.example.test."),
        rname: n("hostmaster.example.test."),
        serial,
        refresh: 7200,
        retry: 3600,
        expire: 1_209_600,
        minimum: 300,
    }
}

fn rec(owner: &str, rdata: RData) -> Record {
    Record {
        owner: n(owner),
        ttl: Ttl(3600),
        rdata,
    }
}

const MAIL_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 25);
const SPF: &str = "v=spf1 a mx ip4:192.0.2.25 ~all";

fn forward_zone(serial: u32) -> Zone {
    let mut z = Zone::new(n("example.test."), Ttl(3600), soa(serial));
    z.records = vec![
        rec("example.test.", RData::Ns(n("ns1.example.test."))),
        rec("ns1.example.test.", RData::A(Ipv4Addr::new(192, 0, 2, 53))),
        rec("mail.example.test.", RData::A(MAIL_V4)),
        rec(
            "example.test.",
            RData::Mx {
                preference: 10,
                exchange: n("mail.example.test."),
            },
        ),
        rec("example.test.", RData::Txt(vec![SPF.as_bytes().to_vec()])),
    ];
    z
}

fn reverse_zone(serial: u32) -> Zone {
    let origin = reverse_zone_for(IpAddr::V4(MAIL_V4), 24).unwrap();
    let mut z = Zone::new(origin.clone(), Ttl(3600), soa(serial));
    z.records = vec![
        rec(origin.as_str(), RData::Ns(n("ns1.example.test."))),
        Record {
            owner: reverse_name(IpAddr::V4(MAIL_V4)),
            ttl: Ttl(3600),
            rdata: RData::Ptr(n("mail.example.test.")),
        },
    ];
    z
}

#[test]
#[ignore = "needs nsd: apt-get install nsd dnsutils; run with --include-ignored"]
fn primary_to_secondary_with_tsig() {
    let key = TsigKey::generate("stackyard-xfr").unwrap();
    let (pdir, pcfg) = Nsd::prepare(free_port());
    let (sdir, scfg) = Nsd::prepare(free_port());
    let primary = DnsServer {
        name: "ns1".into(),
        role: ServerRole::Primary,
        address: LOCALHOST,
        port: pcfg.port,
        reload: ReloadMethod::NsdControl {
            config: pdir.path().join("nsd.conf"),
        },
    };
    let secondary = DnsServer {
        name: "ns2".into(),
        role: ServerRole::Secondary,
        address: LOCALHOST,
        port: scfg.port,
        reload: ReloadMethod::NsdControl {
            config: sdir.path().join("nsd.conf"),
        },
    };
    let all = vec![primary.clone(), secondary.clone()];
    let fwd = forward_zone(next_serial(1, TODAY));
    let rev = reverse_zone(next_serial(1, TODAY));
    let zones = vec![fwd.origin.clone(), rev.origin.clone()];
    let p_zones = nsd_conf_zones(&primary, &all, &zones, &key).unwrap();
    let s_zones = nsd_conf_zones(&secondary, &all, &zones, &key).unwrap();

    let secondary_nsd = Nsd::start(sdir, scfg, &s_zones);
    let primary_nsd = Nsd::start(pdir, pcfg, &p_zones);
    let checker = NsdCheckzone::default();

    // Publish both zones on the primary; it loads them and NOTIFYs.
    for z in [&fwd, &rev] {
        let out = apply_and_reload(primary_nsd.zonesdir(), z, &checker, &primary.reload)
            .unwrap_or_else(|e| panic!("{e}\n{}", primary_nsd.logs()));
        assert_eq!(out.reload.unwrap().output, "ok");
    }
    assert_eq!(
        serial(primary_nsd.port(), "example.test."),
        Some(2024060100)
    );

    // The secondary gets everything through TSIG-signed NOTIFY + AXFR.
    let s = &secondary_nsd;
    wait_for(s, "mail.example.test.", "A", &["192.0.2.25"]);
    wait_for(s, "example.test.", "MX", &["10 mail.example.test."]);
    wait_for(s, "example.test.", "TXT", &[&format!("\"{SPF}\"")]);
    wait_for(s, "example.test.", "NS", &["ns1.example.test."]);
    wait_for(
        s,
        "25.2.0.192.in-addr.arpa.",
        "PTR",
        &["mail.example.test."],
    );
    wait_for_serial(s, "example.test.", 2024060100);
    wait_for_serial(s, "2.0.192.in-addr.arpa.", 2024060100);

    // Change a record and bump the serial: the secondary follows within
    // seconds, which with refresh 7200 can only be the NOTIFY.
    let mut changed = fwd.clone();
    changed.soa.serial = next_serial(fwd.soa.serial, TODAY);
    for r in &mut changed.records {
        if r.owner == n("mail.example.test.") {
            r.rdata = RData::A(Ipv4Addr::new(192, 0, 2, 26));
        }
    }
    let out =
        apply_and_reload(primary_nsd.zonesdir(), &changed, &checker, &primary.reload).unwrap();
    assert_eq!(out.previous_serial, Some(2024060100));
    assert_eq!(out.serial, Some(2024060101));
    assert_eq!(out.serial_advanced(), Some(true));
    wait_for(&primary_nsd, "mail.example.test.", "A", &["192.0.2.26"]);
    wait_for(s, "mail.example.test.", "A", &["192.0.2.26"]);
    wait_for_serial(s, "example.test.", 2024060101);
    // NSD's log (verbosity 2) confirms how it got there.
    wait_for_log(
        s,
        "notify for example.test. from 127.0.0.1 serial 2024060101",
    );
    wait_for_log(s, "received update to serial 2024060101");
    assert!(
        s.log_text()
            .lines()
            .any(|l| l.contains("update to serial 2024060101")
                && l.contains("TSIG verified with key stackyard-xfr")),
        "{}",
        s.logs()
    );

    // A broken zone from the model: CNAME next to the A of mail.
    let zone_file = primary_nsd.zonesdir().join("example.test.zone");
    let installed = fs::read(&zone_file).unwrap();
    let mut broken = changed.clone();
    broken.soa.serial = next_serial(changed.soa.serial, TODAY);
    broken.records.push(rec(
        "mail.example.test.",
        RData::Cname(n("ns1.example.test.")),
    ));
    let e =
        apply_and_reload(primary_nsd.zonesdir(), &broken, &checker, &primary.reload).unwrap_err();
    match &e {
        ApplyError::Rejected { message } => assert!(
            message.starts_with("example.test.zone:")
                && message.ends_with("CNAME and other data at the same name"),
            "{message}"
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // A raw file nsd-checkzone refuses (no SOA, syntax error).
    let e = apply_zone_text(
        primary_nsd.zonesdir(),
        &n("example.test."),
        "$ORIGIN example.test.\nmail IN A 192.0.2.99\nthis is not a record\n",
        &checker,
    )
    .unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, ApplyError::Rejected { .. }), "{e:?}");
    assert!(text.contains("example.test.zone:3: syntax error"), "{text}");
    assert!(text.contains("has no SOA record"), "{text}");
    // Nothing changed: file, directory, and both servers' answers.
    assert_eq!(fs::read(&zone_file).unwrap(), installed);
    assert_eq!(
        zone_files(primary_nsd.zonesdir()),
        ["2.0.192.in-addr.arpa.zone", "example.test.zone"]
    );
    // Give a wrongly sent NOTIFY time to have an effect before looking.
    sleep(Duration::from_secs(2));
    for nsd in [&primary_nsd, s] {
        assert_eq!(dig(nsd.port(), "mail.example.test.", "A"), ["192.0.2.26"]);
        assert_eq!(serial(nsd.port(), "example.test."), Some(2024060101));
    }

    // TSIG is required for AXFR from the primary.
    let unsigned = axfr(primary_nsd.port(), "example.test.", None);
    assert!(unsigned.contains("Transfer failed"), "{unsigned}");
    assert!(!unsigned.contains("192.0.2.26"), "{unsigned}");
    let other_key = TsigKey::generate("stackyard-xfr").unwrap();
    let wrong = axfr(
        primary_nsd.port(),
        "example.test.",
        Some((other_key.name(), other_key.secret().reveal_base64())),
    );
    assert!(!wrong.contains("192.0.2.26"), "{wrong}");
    let signed = axfr(
        primary_nsd.port(),
        "example.test.",
        Some((key.name(), key.secret().reveal_base64())),
    );
    assert!(signed.contains("192.0.2.26"), "{signed}");
    assert!(signed.contains("2024060101"), "{signed}");
    // The secondary does not provide transfers at all.
    let from_secondary = axfr(
        s.port(),
        "example.test.",
        Some((key.name(), key.secret().reveal_base64())),
    );
    assert!(!from_secondary.contains("192.0.2.26"), "{from_secondary}");
}

/// NSD serving `zone` for `server` (reloaded by SIGHUP to the pid in its
/// pidfile), once its pidfile is there.
fn start_signalled(
    dir: tempfile::TempDir,
    cfg: app::dns::nsd::NsdServerConfig,
    server: &DnsServer,
    zone: &Zone,
    key: &TsigKey,
) -> Nsd {
    let pidfile = cfg.pidfile.clone();
    let zones_part = nsd_conf_zones(server, &[], std::slice::from_ref(&zone.origin), key).unwrap();
    let nsd = Nsd::start(dir, cfg, &zones_part);
    // NSD writes its pidfile shortly after it starts listening.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !pidfile.exists() {
        assert!(Instant::now() < deadline, "no pidfile\n{}", nsd.logs());
        sleep(Duration::from_millis(50));
    }
    nsd
}

#[test]
#[ignore = "needs nsd: apt-get install nsd dnsutils; run with --include-ignored"]
fn reload_by_signal_and_by_command() {
    let key = TsigKey::generate("stackyard-xfr").unwrap();
    let (dir, mut cfg) = Nsd::prepare(free_port());
    // No control socket: this server is reloaded by SIGHUP.
    cfg.control_socket = None;
    let pidfile = cfg.pidfile.clone();
    let conf = dir.path().join("nsd.conf");
    let server = DnsServer {
        name: "solo".into(),
        role: ServerRole::Primary,
        address: LOCALHOST,
        port: cfg.port,
        reload: ReloadMethod::Signal(pidfile.clone()),
    };
    let zone = forward_zone(2024060100);
    let nsd = start_signalled(dir, cfg, &server, &zone, &key);
    let checker = NsdCheckzone::default();
    let out = apply_and_reload(nsd.zonesdir(), &zone, &checker, &server.reload).unwrap();
    assert!(out.reload.unwrap().action.starts_with("SIGHUP to process"));
    wait_for(&nsd, "mail.example.test.", "A", &["192.0.2.25"]);

    // A reload command that fails (nsd-control, but this server has
    // control disabled) is reported with the command's output, and the
    // checked file is installed regardless.
    let failing = ReloadMethod::Command(vec![
        "nsd-control".into(),
        "-c".into(),
        conf.to_string_lossy().into_owned(),
        "reload".into(),
        "{zone}".into(),
    ]);
    let mut next = zone.clone();
    next.soa.serial = next_serial(zone.soa.serial, TODAY);
    let e = apply_and_reload(nsd.zonesdir(), &next, &checker, &failing).unwrap_err();
    match &e {
        ApplyError::Reload {
            error: ReloadError::Failed { message, .. },
            ..
        } => assert!(
            message.contains("control-enable is 'no'") && message.contains("error: connect"),
            "{e}"
        ),
        other => panic!("expected a reload failure, got {other:?}"),
    }
    // The installed file is picked up by the next working reload.
    let sighup = ReloadMethod::Command(vec![
        "sh".into(),
        "-c".into(),
        format!("kill -HUP \"$(cat '{}')\"", pidfile.display()),
    ]);
    apply_and_reload(nsd.zonesdir(), &next, &checker, &sighup).unwrap();
    wait_for_serial(&nsd, "example.test.", 2024060101);
}

/// A small tmpfs mounted over a directory, unmounted (lazily, in case a
/// process still has it as its directory) on drop.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(dir: &std::path::Path, size: &str) -> SmallDisk {
        let st = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(dir)
            .status()
            .expect("mount");
        assert!(st.success(), "mounting a tmpfs needs root: {st}");
        SmallDisk(dir.to_path_buf())
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
        // NSD's directory could not be removed with the mount in it.
        if let Some(parent) = self.0.parent() {
            if parent.to_string_lossy().contains("stackyard-nsd-") {
                let _ = fs::remove_dir_all(parent);
            }
        }
    }
}

/// The fault run of the hardening issue: the disk holding the zone files
/// fills up while a zone is written. The apply says so, the old file stays
/// as it was (no temporary file left beside it), NSD goes on serving the
/// old zone, and once there is space the same apply goes through.
#[test]
#[ignore = "needs nsd and root (mounts a small tmpfs); run with --include-ignored"]
fn a_full_disk_keeps_the_old_zone_served() {
    let key = TsigKey::generate("stackyard-xfr").unwrap();
    let (dir, mut cfg) = Nsd::prepare(free_port());
    cfg.control_socket = None;
    let pidfile = cfg.pidfile.clone();
    // Mounted before NSD starts (NSD works in its zones directory) and
    // unmounted after it stops: declared first, dropped last.
    let disk = SmallDisk::mount(&cfg.zonesdir, "256k");
    let server = DnsServer {
        name: "full".into(),
        role: ServerRole::Primary,
        address: LOCALHOST,
        port: cfg.port,
        reload: ReloadMethod::Signal(pidfile.clone()),
    };
    let zone = forward_zone(2024060100);
    let nsd = start_signalled(dir, cfg, &server, &zone, &key);
    let checker = NsdCheckzone::default();
    apply_and_reload(nsd.zonesdir(), &zone, &checker, &server.reload).unwrap();
    wait_for(&nsd, "mail.example.test.", "A", &["192.0.2.25"]);
    let zone_file = nsd.zonesdir().join("example.test.zone");
    let served = fs::read(&zone_file).unwrap();

    // Something else fills the disk.
    let filler = disk.0.join("filler");
    {
        use std::io::Write;
        let mut f = fs::File::create(&filler).unwrap();
        let block = vec![0u8; 4096];
        while f.write_all(&block).and_then(|()| f.sync_all()).is_ok() {}
    }
    // A bigger zone: a thousand more names, and mail moved.
    let mut bigger = zone.clone();
    bigger.soa.serial = next_serial(zone.soa.serial, TODAY);
    for r in &mut bigger.records {
        if r.owner == n("mail.example.test.") {
            r.rdata = RData::A(Ipv4Addr::new(192, 0, 2, 26));
        }
    }
    for i in 0..1000u32 {
        bigger.records.push(rec(
            &format!("host{i}.example.test."),
            RData::A(Ipv4Addr::new(198, 51, (i / 250) as u8, (i % 250) as u8 + 1)),
        ));
    }
    let e = apply_and_reload(nsd.zonesdir(), &bigger, &checker, &server.reload).unwrap_err();
    let text = e.to_string();
    println!("what the user sees: {text}");
    assert!(matches!(e, ApplyError::Io { .. }), "{e:?}");
    assert!(text.contains("No space left on device"), "{text}");
    assert!(text.contains("NSD still serves the old file"), "{text}");
    assert_eq!(fs::read(&zone_file).unwrap(), served);
    let mut left: Vec<String> = zone_files(nsd.zonesdir());
    left.retain(|f| f != "filler");
    assert_eq!(left, ["example.test.zone"], "nothing half-written is left");
    sleep(Duration::from_millis(500));
    assert_eq!(dig(nsd.port(), "mail.example.test.", "A"), ["192.0.2.25"]);
    assert_eq!(serial(nsd.port(), "example.test."), Some(2024060100));

    // Space again: the same zone goes through.
    fs::remove_file(&filler).unwrap();
    apply_and_reload(nsd.zonesdir(), &bigger, &checker, &server.reload).unwrap();
    wait_for(&nsd, "mail.example.test.", "A", &["192.0.2.26"]);
    wait_for(&nsd, "host999.example.test.", "A", &["198.51.3.250"]);
    drop(nsd);
    drop(disk);
}

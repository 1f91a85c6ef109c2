//! Real NSD instances: each on 127.0.0.1 with a free high port and its own
//! temporary directory, run in the foreground in its own process group and
//! stopped (group and all) on drop; answers read with `dig +short`. Used by
//! the DNS tests (the NSD library, the store and apply service, the
//! dashboard) through [`Nsd::prepare`] and [`Nsd::start`], and by the mail
//! readiness checks through [`Nsd::serving`] (fixed zones, no control).

use crate::dns::nsd::{standalone_nsd_conf, NsdServerConfig};
use crate::dns::zone::Name;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use std::fs;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

pub const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// How long a change may take to reach the secondary.
pub const PROPAGATION: Duration = Duration::from_secs(10);

pub fn n(s: &str) -> Name {
    Name::parse(s).unwrap()
}

/// A port free for both TCP and UDP on 127.0.0.1 right now. Another
/// process could take it before NSD binds; that would show as a start
/// failure with NSD's log, not as a wrong answer.
pub fn free_port() -> u16 {
    for _ in 0..50 {
        let port = TcpListener::bind((LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if port >= 1024 && UdpSocket::bind((LOCALHOST, port)).is_ok() {
            return port;
        }
    }
    panic!("no free port found");
}

/// A running NSD, stopped (with its whole process group) on drop.
pub struct Nsd {
    pub child: Child,
    pub dir: tempfile::TempDir,
    pub cfg: NsdServerConfig,
    pub conf: PathBuf,
}

impl Nsd {
    /// A directory and the server settings for an instance on `port`.
    pub fn prepare(port: u16) -> (tempfile::TempDir, NsdServerConfig) {
        let dir = tempfile::Builder::new()
            .prefix("stackyard-nsd-")
            .tempdir()
            .unwrap();
        let mut cfg = NsdServerConfig::in_dir(dir.path(), LOCALHOST, port);
        cfg.verbosity = 2;
        fs::create_dir_all(&cfg.zonesdir).unwrap();
        fs::create_dir_all(&cfg.xfrdir).unwrap();
        (dir, cfg)
    }

    pub fn start(dir: tempfile::TempDir, cfg: NsdServerConfig, zones_part: &str) -> Nsd {
        let mut nsd = Nsd::spawn(dir, cfg, zones_part);
        nsd.wait_ready();
        nsd
    }

    /// NSD serving `zones` (origin, zone text) from files, without remote
    /// control, once it answers the first zone's SOA. Each zone must pass
    /// `nsd-checkzone`. A port taken between probing and NSD binding it
    /// shows as NSD exiting: then it tries again on another port.
    pub fn serving(zones: &[(String, String)]) -> Nsd {
        let mut last_log = String::new();
        for _ in 0..5 {
            let (dir, mut cfg) = Nsd::prepare(free_port());
            cfg.verbosity = 1;
            cfg.control_socket = None;
            let mut zones_part = String::new();
            for (origin, text) in zones {
                let file = cfg.zonesdir.join(format!("{origin}.zone"));
                fs::write(&file, text).unwrap();
                let check = Command::new("nsd-checkzone")
                    .arg(origin)
                    .arg(&file)
                    .output()
                    .expect("nsd-checkzone (apt-get install -y nsd)");
                assert!(check.status.success(), "{origin}: {check:?}\n{text}");
                zones_part.push_str(&format!(
                    "zone:\n\tname: \"{origin}\"\n\tzonefile: \"{origin}.zone\"\n"
                ));
            }
            let mut nsd = Nsd::spawn(dir, cfg, &zones_part);
            if nsd.answers(zones.first().map_or(".", |(origin, _)| origin.as_str())) {
                return nsd;
            }
            last_log = nsd.logs();
        }
        panic!("NSD did not start; its last log:\n{last_log}");
    }

    /// NSD started on `cfg` with `zones_part`, not yet waited for.
    fn spawn(dir: tempfile::TempDir, cfg: NsdServerConfig, zones_part: &str) -> Nsd {
        let conf = dir.path().join("nsd.conf");
        fs::write(&conf, standalone_nsd_conf(&cfg, zones_part).unwrap()).unwrap();
        let child = Nsd::launch(dir.path(), &conf);
        Nsd {
            child,
            dir,
            cfg,
            conf,
        }
    }

    /// `nsd -d -c conf` in its own process group, its output appended to
    /// `dir/stderr.log`.
    fn launch(dir: &Path, conf: &Path) -> Child {
        let out = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("stderr.log"))
            .unwrap();
        Command::new("nsd")
            .arg("-d")
            .arg("-c")
            .arg(conf)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            // Own process group: NSD forks xfrd and server processes, and
            // the guard stops them all by group id.
            .process_group(0)
            .spawn()
            .expect("start nsd (apt-get install -y nsd)")
    }

    /// Stops NSD (its whole process group), keeping its directory, zone
    /// files and configuration for [`Nsd::restart`].
    pub fn stop(&mut self) {
        let Ok(raw) = i32::try_from(self.child.id()) else {
            return;
        };
        let group = Pid::from_raw(raw);
        // SIGTERM first so NSD shuts down its children itself; then SIGKILL
        // the group for anything left.
        let _ = killpg(group, Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            sleep(Duration::from_millis(20));
        }
        let _ = killpg(group, Signal::SIGKILL);
        let _ = self.child.wait();
        // Wait (briefly) until no member of the group can be signalled.
        // Children that already exited but wait to be reaped by init still
        // count, so this is bounded rather than asserted.
        let deadline = Instant::now() + Duration::from_secs(2);
        while killpg(group, None).is_ok() && Instant::now() < deadline {
            sleep(Duration::from_millis(20));
        }
    }

    /// Starts NSD again after [`Nsd::stop`], on the same port, files and
    /// configuration; returns once it is ready.
    pub fn restart(&mut self) {
        self.child = Nsd::launch(self.dir.path(), &self.conf);
        self.wait_ready();
    }

    /// Whether NSD answers `origin SOA` within 15 seconds (false at once
    /// if it exits).
    fn answers(&mut self, origin: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if !dig(self.port(), origin, "SOA").is_empty() {
                return true;
            }
            sleep(Duration::from_millis(100));
        }
        false
    }

    /// Until NSD accepts TCP on its port and has created its control socket.
    pub fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("nsd exited at start ({status}):\n{}", self.logs());
            }
            let sock_ok = self.cfg.control_socket.as_ref().is_none_or(|s| s.exists());
            if sock_ok && TcpStream::connect((LOCALHOST, self.cfg.port)).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "nsd did not start:\n{}",
                self.logs()
            );
            sleep(Duration::from_millis(50));
        }
    }

    pub fn port(&self) -> u16 {
        self.cfg.port
    }

    /// Where NSD listens (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.cfg.ip_address, self.cfg.port)
    }

    pub fn zonesdir(&self) -> &Path {
        &self.cfg.zonesdir
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.cfg.logfile).unwrap_or_default()
    }

    pub fn logs(&self) -> String {
        let read = |p: &Path| fs::read_to_string(p).unwrap_or_default();
        format!(
            "--- {} ---\n{}{}",
            self.conf.display(),
            read(&self.cfg.logfile),
            read(&self.dir.path().join("stderr.log"))
        )
    }
}

impl Drop for Nsd {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.logs());
        }
        self.stop();
    }
}

/// `dig +short` lines for `name type` asked from 127.0.0.1:`port`.
pub fn dig(port: u16, name: &str, rtype: &str) -> Vec<String> {
    let out = Command::new("dig")
        .args(["@127.0.0.1", "-p", &port.to_string()])
        .args(["+short", "+norecurse", "+time=1", "+tries=1", name, rtype])
        .output()
        .expect("run dig");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with(';'))
        .map(str::to_string)
        .collect()
}

/// The serial from `dig +short SOA` (third field).
pub fn serial(port: u16, zone: &str) -> Option<u32> {
    dig(port, zone, "SOA")
        .first()
        .and_then(|l| l.split_whitespace().nth(2)?.parse().ok())
}

/// Polls (briefly: NSD logs as it goes) until NSD's log contains `needle`.
pub fn wait_for_log(nsd: &Nsd, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(3);
    while !nsd.log_text().contains(needle) {
        assert!(
            Instant::now() < deadline,
            "log lacks {needle:?}\n{}",
            nsd.logs()
        );
        sleep(Duration::from_millis(100));
    }
}

/// Polls until `name type` answers exactly `want` (sorted), or panics.
pub fn wait_for(nsd: &Nsd, name: &str, rtype: &str, want: &[&str]) {
    let deadline = Instant::now() + PROPAGATION;
    let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    want.sort();
    loop {
        let mut got = dig(nsd.port(), name, rtype);
        got.sort();
        if got == want {
            return;
        }
        if Instant::now() >= deadline {
            panic!(
                "{name} {rtype} on port {}: got {got:?}, want {want:?}\n{}",
                nsd.port(),
                nsd.logs()
            );
        }
        sleep(Duration::from_millis(200));
    }
}

/// Only the files the console installed: no temporary files left behind.
pub fn zone_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// `dig AXFR` output from the primary, optionally TSIG-signed with
/// `name:secret`.
pub fn axfr(port: u16, zone: &str, key: Option<(&str, String)>) -> String {
    let mut cmd = Command::new("dig");
    cmd.args(["@127.0.0.1", "-p", &port.to_string(), "+time=2", "+tries=1"]);
    if let Some((name, secret)) = key {
        cmd.arg("-y").arg(format!("hmac-sha256:{name}:{secret}"));
    }
    cmd.args([zone, "AXFR"]);
    let out = cmd.output().expect("run dig");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The DNS servers page's form for an NSD primary on `cfg`, reloaded by
/// `nsd-control` with the `nsd.conf` at `conf`, named `ns1` (`ns_name` in
/// the NS records).
pub fn primary_form(cfg: &NsdServerConfig, conf: &Path, ns_name: &str) -> crate::dns::ServerForm {
    crate::dns::ServerForm {
        name: "ns1".into(),
        role: "primary".into(),
        ns_name: ns_name.into(),
        address: "127.0.0.1".into(),
        port: cfg.port.to_string(),
        zones_dir: cfg.zonesdir.display().to_string(),
        reload_kind: "nsd_control".into(),
        reload_value: conf.display().to_string(),
    }
}

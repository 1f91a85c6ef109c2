//! `nsd.conf` generation.
//!
//! Two pieces of text are produced:
//!
//! * [`nsd_conf_zones`] – the `key:` and `zone:` clauses for one server,
//!   meant to be written to a file the server's main `nsd.conf` includes
//!   (`include: "/etc/nsd/stackyard.conf"`), so the console owns only its
//!   part of the configuration;
//! * [`standalone_nsd_conf`] – a complete configuration with a `server:`
//!   clause, used by the integration tests to run private NSD instances and
//!   usable for single-purpose deployments.
//!
//! Everything that goes into the text is either generated here or checked
//! to be free of quotes, line breaks and `#`, so no input can add clauses
//! to the configuration (zone names with escapes, for instance, are
//! refused rather than quoted, because NSD's configuration syntax has no
//! escape for a quote inside a quoted string).
//!
//! Syntax follows nsd.conf(5) of NSD 4.6: ACL entries are
//! `<ip-spec> <key-name>`, and a port is given as `address@port`.

use crate::dns::nsd::server::{DnsServer, ServerRole};
use crate::dns::nsd::tsig::TsigKey;
use crate::dns::zone::Name;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The file name (inside the zones directory) of a zone's master file:
/// `example.test.zone`, or `root.zone` for the root.
///
/// Only names made of letters, digits, `-`, `_` and dots are accepted, so
/// the result can never contain `/`, start with `.` or need quoting.
pub fn zone_file_name(origin: &Name) -> Result<String, ConfigError> {
    if origin.is_root() {
        return Ok("root.zone".to_string());
    }
    let text = origin.as_str();
    let bare = text.strip_suffix('.').unwrap_or(text);
    let safe = bare
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if !safe {
        return Err(ConfigError::UnsupportedZoneName(text.to_string()));
    }
    Ok(format!("{bare}.zone"))
}

/// The `key:` clause and one `zone:` clause per zone for `server`.
///
/// On a primary each zone gets, for every secondary in `all_servers`,
/// `notify: <addr>@<port> <key>` (where to send signed NOTIFYs) and
/// `provide-xfr: <addr> <key>` (who may transfer, with the key).
/// On a secondary each zone gets, for every primary,
/// `allow-notify: <addr> <key>` and `request-xfr: AXFR <addr>@<port> <key>`.
///
/// The ACLs that match *incoming* packets (`provide-xfr`, `allow-notify`)
/// carry no port: NOTIFYs and transfer requests come from ephemeral source
/// ports, and an `@port` there would match the source port.
///
/// `request-xfr` says `AXFR` because NSD as a primary does not serve IXFR
/// (nsd.conf(5)); asking IXFR first would only cost a round trip.
///
/// `server` itself is skipped if it appears in `all_servers` (matched by
/// address and port). The output contains the key's secret.
pub fn nsd_conf_zones(
    server: &DnsServer,
    all_servers: &[DnsServer],
    zones: &[Name],
    key: &TsigKey,
) -> Result<String, ConfigError> {
    let is_self = |s: &DnsServer| s.address == server.address && s.port == server.port;
    let peer_role = match server.role {
        ServerRole::Primary => ServerRole::Secondary,
        ServerRole::Secondary => ServerRole::Primary,
    };
    let peers: Vec<&DnsServer> = all_servers
        .iter()
        .filter(|s| s.role == peer_role && !is_self(s))
        .collect();
    if server.role == ServerRole::Secondary && peers.is_empty() {
        return Err(ConfigError::NoPrimary);
    }
    let k = key.name();

    let mut out = String::new();
    // `write!` into a String cannot fail; the results are ignored on purpose.
    out.push_str(
        "# TSIG key and zones managed by Stackyard; regenerated on every change.\n\
         # Contains the key's secret: readable by root and nsd only.\n\n",
    );
    let _ = write!(
        out,
        "key:\n\tname: \"{k}\"\n\talgorithm: {}\n\tsecret: \"{}\"\n",
        key.algorithm(),
        key.secret().reveal_base64()
    );

    let mut seen = HashSet::new();
    for zone in zones {
        if !seen.insert(zone) {
            return Err(ConfigError::DuplicateZone(zone.to_string()));
        }
        let file = zone_file_name(zone)?;
        let _ = write!(
            out,
            "\nzone:\n\tname: \"{}\"\n\tzonefile: \"{file}\"\n",
            zone.as_str()
        );
        for peer in &peers {
            match server.role {
                ServerRole::Primary => {
                    let _ = write!(
                        out,
                        "\tnotify: {} {k}\n\tprovide-xfr: {} {k}\n",
                        peer.acl_address_with_port(),
                        peer.address
                    );
                }
                ServerRole::Secondary => {
                    let _ = write!(
                        out,
                        "\tallow-notify: {} {k}\n\trequest-xfr: AXFR {} {k}\n",
                        peer.address,
                        peer.acl_address_with_port()
                    );
                }
            }
        }
    }
    Ok(out)
}

/// Settings for a complete, self-contained `nsd.conf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsdServerConfig {
    /// Address to answer on.
    pub ip_address: IpAddr,
    /// Port to answer on.
    pub port: u16,
    /// Where NSD writes its process id.
    pub pidfile: PathBuf,
    /// Directory relative zone file names are resolved in.
    pub zonesdir: PathBuf,
    /// Transfer daemon state (timers, serials) across restarts.
    pub xfrdfile: PathBuf,
    /// Scratch directory for incoming transfers.
    pub xfrdir: PathBuf,
    /// Zones added with `nsd-control addzone`.
    pub zonelistfile: PathBuf,
    /// Log file.
    pub logfile: PathBuf,
    /// 0 (quiet) to 3; 1 and up log NOTIFY and transfers.
    pub verbosity: u8,
    /// Absolute path of a unix control socket for `nsd-control`; `None`
    /// disables remote control. A local socket needs no TLS certificates,
    /// unlike NSD's TCP control port.
    pub control_socket: Option<PathBuf>,
}

impl NsdServerConfig {
    /// Every file under `dir` (which must be absolute): `nsd.pid`,
    /// `zones/`, `xfrd.state`, `xfr/`, `zone.list`, `nsd.log`, `nsd.ctl`.
    pub fn in_dir(dir: &Path, ip_address: IpAddr, port: u16) -> NsdServerConfig {
        NsdServerConfig {
            ip_address,
            port,
            pidfile: dir.join("nsd.pid"),
            zonesdir: dir.join("zones"),
            xfrdfile: dir.join("xfrd.state"),
            xfrdir: dir.join("xfr"),
            zonelistfile: dir.join("zone.list"),
            logfile: dir.join("nsd.log"),
            verbosity: 1,
            control_socket: Some(dir.join("nsd.ctl")),
        }
    }
}

/// A complete `nsd.conf`: a `server:` clause from `cfg`, a
/// `remote-control:` clause, then `zones_part` (normally the output of
/// [`nsd_conf_zones`]).
///
/// `username: ""` keeps NSD from switching user (it runs as whoever
/// starts it) and `database: ""` makes it serve straight from zone files,
/// so NSD needs nothing outside the listed paths. One server process is
/// enough for a console's zones and keeps test instances light.
pub fn standalone_nsd_conf(cfg: &NsdServerConfig, zones_part: &str) -> Result<String, ConfigError> {
    let p = |path: &Path| quoted_path(path);
    let mut out = String::new();
    out.push_str("# Generated by Stackyard.\n\nserver:\n");
    let _ = write!(
        out,
        "\tip-address: {}\n\tport: {}\n\tusername: \"\"\n\tdatabase: \"\"\n\
         \tpidfile: {}\n\tzonesdir: {}\n\txfrdfile: {}\n\txfrdir: {}\n\
         \tzonelistfile: {}\n\tlogfile: {}\n\tverbosity: {}\n\tserver-count: 1\n",
        cfg.ip_address,
        cfg.port,
        p(&cfg.pidfile)?,
        p(&cfg.zonesdir)?,
        p(&cfg.xfrdfile)?,
        p(&cfg.xfrdir)?,
        p(&cfg.zonelistfile)?,
        p(&cfg.logfile)?,
        cfg.verbosity
    );
    out.push_str("\nremote-control:\n");
    match &cfg.control_socket {
        Some(sock) => {
            let _ = write!(
                out,
                "\tcontrol-enable: yes\n\tcontrol-interface: {}\n",
                p(sock)?
            );
        }
        None => out.push_str("\tcontrol-enable: no\n"),
    }
    out.push('\n');
    out.push_str(zones_part);
    Ok(out)
}

/// Quotes an absolute path for `nsd.conf`, refusing what the syntax cannot
/// carry (quotes, line breaks, `#`, non-UTF-8) and relative paths, which
/// NSD would resolve against its working directory.
fn quoted_path(path: &Path) -> Result<String, ConfigError> {
    let unsafe_path = || ConfigError::UnsafePath(path.to_path_buf());
    let text = path.to_str().ok_or_else(unsafe_path)?;
    if !path.is_absolute() || text.chars().any(|c| c == '"' || c == '#' || c.is_control()) {
        return Err(unsafe_path());
    }
    Ok(format!("\"{text}\""))
}

/// Why configuration text could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The zone name contains characters NSD configuration or file names
    /// cannot carry safely.
    #[error(
        "zone {0} cannot be served by this console: zone names may only contain \
         letters, digits, '-', '_' and dots"
    )]
    UnsupportedZoneName(String),
    /// The same zone was listed twice (NSD refuses such a configuration).
    #[error("zone {0} is listed twice")]
    DuplicateZone(String),
    /// A secondary was configured but no primary exists.
    #[error(
        "a secondary server needs a primary to transfer from; add the primary server \
         first"
    )]
    NoPrimary,
    /// A path that is relative or cannot be written into `nsd.conf`.
    #[error(
        "path {} cannot be used in nsd.conf: it must be absolute and contain no \
         quotes, '#' or control characters",
        .0.display()
    )]
    UnsafePath(PathBuf),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::nsd::server::ReloadMethod;
    use crate::dns::nsd::tsig::{Secret, TsigAlgorithm};

    fn key() -> TsigKey {
        TsigKey::new(
            "stackyard-xfr",
            TsigAlgorithm::HmacSha256,
            Secret::from_base64("K2tf3TRjvQkVCmJF3/Z9vA==").unwrap(),
        )
        .unwrap()
    }

    fn server(name: &str, role: ServerRole, addr: &str, port: u16) -> DnsServer {
        DnsServer {
            name: name.into(),
            role,
            address: addr.parse().unwrap(),
            port,
            reload: ReloadMethod::Signal("/run/nsd/nsd.pid".into()),
        }
    }

    fn servers() -> Vec<DnsServer> {
        vec![
            server("ns1", ServerRole::Primary, "192.0.2.1", 53),
            server("ns2", ServerRole::Secondary, "192.0.2.2", 5353),
            server("ns3", ServerRole::Secondary, "2001:db8::3", 53),
        ]
    }

    fn zones() -> Vec<Name> {
        vec![
            Name::parse("example.test.").unwrap(),
            Name::parse("2.0.192.in-addr.arpa.").unwrap(),
        ]
    }

    const HEADER: &str = "# TSIG key and zones managed by Stackyard; regenerated on every change.\n\
# Contains the key's secret: readable by root and nsd only.\n\n\
key:\n\tname: \"stackyard-xfr\"\n\talgorithm: hmac-sha256\n\tsecret: \"K2tf3TRjvQkVCmJF3/Z9vA==\"\n";

    #[test]
    fn primary_zones_exact() {
        let all = servers();
        let text = nsd_conf_zones(&all[0], &all, &zones(), &key()).unwrap();
        let expected = format!(
            "{HEADER}\n\
zone:\n\tname: \"example.test.\"\n\tzonefile: \"example.test.zone\"\n\
\tnotify: 192.0.2.2@5353 stackyard-xfr\n\tprovide-xfr: 192.0.2.2 stackyard-xfr\n\
\tnotify: 2001:db8::3@53 stackyard-xfr\n\tprovide-xfr: 2001:db8::3 stackyard-xfr\n\
\n\
zone:\n\tname: \"2.0.192.in-addr.arpa.\"\n\tzonefile: \"2.0.192.in-addr.arpa.zone\"\n\
\tnotify: 192.0.2.2@5353 stackyard-xfr\n\tprovide-xfr: 192.0.2.2 stackyard-xfr\n\
\tnotify: 2001:db8::3@53 stackyard-xfr\n\tprovide-xfr: 2001:db8::3 stackyard-xfr\n"
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn secondary_zones_exact() {
        let all = servers();
        let text = nsd_conf_zones(&all[1], &all, &zones()[..1], &key()).unwrap();
        let expected = format!(
            "{HEADER}\n\
zone:\n\tname: \"example.test.\"\n\tzonefile: \"example.test.zone\"\n\
\tallow-notify: 192.0.2.1 stackyard-xfr\n\trequest-xfr: AXFR 192.0.2.1@53 stackyard-xfr\n"
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn edge_cases() {
        let all = servers();
        // A primary with no secondaries: zones without ACLs.
        let text = nsd_conf_zones(&all[0], &all[..1], &zones()[..1], &key()).unwrap();
        assert!(
            text.ends_with("zone:\n\tname: \"example.test.\"\n\tzonefile: \"example.test.zone\"\n")
        );
        // No zones: just the key.
        assert_eq!(nsd_conf_zones(&all[0], &all, &[], &key()).unwrap(), HEADER);
        // A secondary without a primary cannot be configured.
        assert_eq!(
            nsd_conf_zones(&all[1], &all[1..], &zones(), &key()).unwrap_err(),
            ConfigError::NoPrimary
        );
        // Duplicate zones are refused (NSD would refuse to start).
        let dup = vec![zones()[0].clone(), zones()[0].clone()];
        assert_eq!(
            nsd_conf_zones(&all[0], &all, &dup, &key()).unwrap_err(),
            ConfigError::DuplicateZone("example.test.".into())
        );
        // A zone name that would need quoting inside the config is refused.
        let odd = Name::parse("a\\\"b.example.").unwrap();
        assert!(matches!(
            nsd_conf_zones(&all[0], &all, &[odd], &key()).unwrap_err(),
            ConfigError::UnsupportedZoneName(_)
        ));
        // The server itself in the list is skipped (same address and port).
        let me = server("ns2-again", ServerRole::Secondary, "192.0.2.2", 5353);
        let text = nsd_conf_zones(&me, &all, &zones()[..1], &key()).unwrap();
        assert_eq!(text.matches("request-xfr").count(), 1);
        assert!(!text.contains("192.0.2.2"));
    }

    #[test]
    fn zone_file_names() {
        let f = |s: &str| zone_file_name(&Name::parse(s).unwrap());
        assert_eq!(f("Example.TEST").unwrap(), "example.test.zone");
        assert_eq!(f(".").unwrap(), "root.zone");
        assert_eq!(f("_dmarc.example.").unwrap(), "_dmarc.example.zone");
        assert!(f("a\\/b.example.").is_err());
        assert!(f("a\\032b.example.").is_err());
    }

    #[test]
    fn standalone_exact() {
        let cfg = NsdServerConfig {
            verbosity: 2,
            ..NsdServerConfig::in_dir(Path::new("/srv/nsd1"), "127.0.0.1".parse().unwrap(), 5300)
        };
        let text = standalone_nsd_conf(&cfg, "key:\n").unwrap();
        assert_eq!(
            text,
            "# Generated by Stackyard.\n\nserver:\n\
\tip-address: 127.0.0.1\n\tport: 5300\n\tusername: \"\"\n\tdatabase: \"\"\n\
\tpidfile: \"/srv/nsd1/nsd.pid\"\n\tzonesdir: \"/srv/nsd1/zones\"\n\
\txfrdfile: \"/srv/nsd1/xfrd.state\"\n\txfrdir: \"/srv/nsd1/xfr\"\n\
\tzonelistfile: \"/srv/nsd1/zone.list\"\n\tlogfile: \"/srv/nsd1/nsd.log\"\n\
\tverbosity: 2\n\tserver-count: 1\n\
\nremote-control:\n\tcontrol-enable: yes\n\tcontrol-interface: \"/srv/nsd1/nsd.ctl\"\n\
\nkey:\n"
        );
        let no_control = NsdServerConfig {
            control_socket: None,
            ..cfg.clone()
        };
        assert!(standalone_nsd_conf(&no_control, "")
            .unwrap()
            .ends_with("remote-control:\n\tcontrol-enable: no\n\n"));
        for bad in ["relative/nsd.pid", "/tmp/a\"b", "/tmp/a\nb", "/tmp/#x"] {
            let c = NsdServerConfig {
                pidfile: bad.into(),
                ..cfg.clone()
            };
            assert_eq!(
                standalone_nsd_conf(&c, "").unwrap_err(),
                ConfigError::UnsafePath(bad.into())
            );
        }
    }
}

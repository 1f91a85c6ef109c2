//! The NSD servers the console manages.
//!
//! A deployment has one primary, which loads the zone files Stackyard
//! writes, and any number of secondaries, which get every zone from the
//! primary by AXFR after a NOTIFY. These entries are stored by the web app,
//! so they are `Serialize`/`Deserialize`; they hold no secrets (the TSIG key
//! is kept apart, see [`crate::dns::nsd::tsig`]).

use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::path::PathBuf;

/// What a server does for Stackyard's zones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerRole {
    /// Loads zone files, sends NOTIFY, provides AXFR.
    Primary,
    /// Accepts NOTIFY from the primary and transfers zones from it.
    Secondary,
}

/// How to make a running NSD load changed zone files.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReloadMethod {
    /// `nsd-control -c CONFIG reload [ZONE]`: preferred, because it reports
    /// errors and can reload a single zone.
    NsdControl {
        /// The server's `nsd.conf` (nsd-control reads the control socket
        /// or port and certificates from it).
        config: PathBuf,
    },
    /// Any command, given as program and arguments (no shell). An argument
    /// that is exactly `{zone}` is replaced by the zone name, or dropped
    /// when all zones are reloaded.
    Command(Vec<String>),
    /// `SIGHUP` to the process whose id is in this pidfile. NSD then
    /// re-reads zone files whose modification time changed. It reports
    /// nothing back, so a bad file is only visible in NSD's log – which is
    /// why files are checked before they are installed.
    Signal(PathBuf),
}

/// One NSD server.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DnsServer {
    /// Display name in the console (never written into configuration).
    pub name: String,
    /// Primary or secondary.
    pub role: ServerRole,
    /// Address the server answers DNS on; also the address ACLs of the
    /// other servers name, so it must be the address NOTIFY and AXFR
    /// requests come from (set NSD's `outgoing-interface` on multi-homed
    /// hosts).
    pub address: IpAddr,
    /// DNS port, normally 53.
    pub port: u16,
    /// How to reload it.
    pub reload: ReloadMethod,
}

impl DnsServer {
    /// `address@port` as NSD's ACLs write it (IPv6 without brackets).
    pub fn acl_address_with_port(&self) -> String {
        format!("{}@{}", self.address, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_shape_is_stable() {
        let s = DnsServer {
            name: "ns2".into(),
            role: ServerRole::Secondary,
            address: "2001:db8::2".parse().unwrap(),
            port: 53,
            reload: ReloadMethod::Command(vec!["systemctl".into(), "reload".into(), "nsd".into()]),
        };
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            json,
            r#"{"name":"ns2","role":"secondary","address":"2001:db8::2","port":53,"reload":{"command":["systemctl","reload","nsd"]}}"#
        );
        assert_eq!(serde_json::from_str::<DnsServer>(&json).unwrap(), s);
        let m = ReloadMethod::NsdControl {
            config: "/etc/nsd/nsd.conf".into(),
        };
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"nsd_control":{"config":"/etc/nsd/nsd.conf"}}"#
        );
        assert_eq!(
            serde_json::to_string(&ReloadMethod::Signal("/run/nsd/nsd.pid".into())).unwrap(),
            r#"{"signal":"/run/nsd/nsd.pid"}"#
        );
        assert_eq!(s.acl_address_with_port(), "2001:db8::2@53");
    }
}

//! The live [`DnsResolver`], over hickory-resolver's async resolver.
//!
//! Each lookup awaits hickory directly on the caller's runtime: no thread,
//! no runtime of its own.
//!
//! # No caching between checks
//!
//! Every lookup builds a fresh hickory `Resolver` from the stored
//! configuration (cheap: no I/O until the query), so no answer, positive or
//! negative, outlives its lookup; consistency within one check comes from
//! [`crate::mail::check::dns::CheckDns`]. A console that re-runs the check
//! after a fix therefore sees the new records at once (subject only to the
//! upstream recursive resolver's own cache).
//!
//! # Timeouts
//!
//! Each query attempt times out after [`ResolverSettings::timeout`]
//! (default 3 s) and is tried [`ResolverSettings::attempts`] times; on top
//! of that every lookup has an overall deadline, so one dead server cannot
//! hold a check for longer than a few seconds per question.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::NetError;
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use hickory_resolver::{Resolver, TokioResolver};

use crate::mail::check::dns::{normalise_name, Answer, DnsResolver, LookupError, MxRecord};

/// How to reach DNS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverSettings {
    /// A recursive resolver (or, in tests, an authoritative server) to ask,
    /// over UDP with TCP fallback. `None` reads `/etc/resolv.conf`.
    pub nameserver: Option<SocketAddr>,
    /// Per attempt.
    pub timeout: Duration,
    /// Attempts per query (hickory retries after a failure).
    pub attempts: usize,
}

impl Default for ResolverSettings {
    fn default() -> Self {
        Self {
            nameserver: None,
            timeout: Duration::from_secs(3),
            attempts: 2,
        }
    }
}

impl ResolverSettings {
    /// Settings for one nameserver given as `IP`, `IP:PORT` or
    /// `[IPv6]:PORT` (port 53 when left out).
    pub fn with_nameserver(spec: &str) -> Result<Self, DnsSetupError> {
        Ok(Self {
            nameserver: Some(parse_nameserver(spec)?),
            ..Self::default()
        })
    }

    /// The longest a single lookup may take: every attempt timing out,
    /// once over UDP and once over TCP, plus a margin.
    fn deadline(&self) -> Duration {
        let attempts = u32::try_from(self.attempts.max(1)).unwrap_or(u32::MAX);
        self.timeout
            .saturating_mul(attempts)
            .saturating_mul(2)
            .saturating_add(Duration::from_secs(1))
    }
}

/// Parses `IP`, `IP:PORT` or `[IPv6]:PORT`.
pub fn parse_nameserver(spec: &str) -> Result<SocketAddr, DnsSetupError> {
    let spec = spec.trim();
    if let Ok(addr) = spec.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Ok(ip) = spec.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    Err(DnsSetupError(format!(
        "\"{spec}\" is not a nameserver address; write e.g. 192.0.2.53, 192.0.2.53:5353 or \
         [2001:db8::53]:53"
    )))
}

/// Why a [`HickoryDns`] could not be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DnsSetupError(pub String);

/// A [`DnsResolver`] backed by hickory-resolver; see the module docs for
/// the caching and timeout choices.
pub struct HickoryDns {
    config: ResolverConfig,
    opts: ResolverOpts,
    deadline: Duration,
    description: String,
}

impl fmt::Debug for HickoryDns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HickoryDns")
            .field("servers", &self.description)
            .finish()
    }
}

impl HickoryDns {
    /// Uses the system's resolvers (`/etc/resolv.conf`).
    pub fn system() -> Result<Self, DnsSetupError> {
        Self::new(&ResolverSettings::default())
    }

    pub fn new(settings: &ResolverSettings) -> Result<Self, DnsSetupError> {
        let (config, mut opts) = match settings.nameserver {
            Some(addr) => {
                let mut udp = ConnectionConfig::udp();
                udp.port = addr.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = addr.port();
                let server = NameServerConfig::new(addr.ip(), true, vec![udp, tcp]);
                (
                    ResolverConfig::from_name_servers(vec![server]),
                    ResolverOpts::default(),
                )
            }
            None => hickory_resolver::system_conf::read_system_conf().map_err(|e| {
                DnsSetupError(format!(
                    "cannot read the system resolver configuration: {e}"
                ))
            })?,
        };
        opts.timeout = settings.timeout;
        opts.attempts = settings.attempts.max(1);
        // Every name asked is absolute; /etc/hosts must not answer for
        // public mail names, since receivers never see it.
        opts.use_hosts_file = ResolveHosts::Never;
        opts.ndots = 0;
        // The resolver is rebuilt per lookup anyway (see module docs).
        opts.cache_size = 0;
        let description = match settings.nameserver {
            Some(addr) => addr.to_string(),
            None => {
                let ips: Vec<String> = config
                    .name_servers()
                    .iter()
                    .map(|s| s.ip.to_string())
                    .collect();
                format!("system ({})", ips.join(", "))
            }
        };
        Ok(Self {
            config,
            opts,
            deadline: settings.deadline(),
            description,
        })
    }

    /// Which servers are asked, for display.
    pub fn servers(&self) -> &str {
        &self.description
    }

    fn resolver(&self, opts: ResolverOpts) -> Result<TokioResolver, String> {
        Resolver::builder_with_config(self.config.clone(), TokioRuntimeProvider::default())
            .with_options(opts)
            .build()
            .map_err(|e| format!("cannot set up the resolver: {e}"))
    }

    /// One question, within the overall deadline: hickory's own answer or
    /// error, or why there is neither.
    async fn send(
        &self,
        opts: ResolverOpts,
        name: Name,
        rtype: RecordType,
    ) -> Result<Result<Vec<RData>, NetError>, String> {
        let resolver = self.resolver(opts)?;
        let answer = tokio::time::timeout(self.deadline, resolver.lookup(name, rtype))
            .await
            .map_err(|_| format!("no answer within {} s", self.deadline.as_secs()))?;
        // Answers may include the CNAMEs that led to the data; the callers
        // keep only the type asked for.
        Ok(answer.map(|lookup| lookup.answers().iter().map(|r| r.data.clone()).collect()))
    }

    async fn lookup(&self, name: Name, rtype: RecordType) -> Answer<RData> {
        match self.send(self.opts.clone(), name, rtype).await {
            Ok(Ok(data)) => Ok(data),
            // NXDOMAIN and NODATA alike: "nothing there".
            Ok(Err(e)) if e.is_no_records_found() => Err(LookupError::NotFound),
            Ok(Err(e)) => Err(LookupError::Temporary(e.to_string())),
            Err(reason) => Err(LookupError::Temporary(reason)),
        }
    }
}

fn absolute(name: &str) -> Result<Name, LookupError> {
    let name = normalise_name(name);
    // A name that cannot even be encoded (bad label, too long) cannot
    // exist in DNS, so "not found" is the truthful answer.
    Name::from_utf8(format!("{name}.")).map_err(|_| LookupError::NotFound)
}

fn host_name(name: &Name) -> String {
    normalise_name(&name.to_ascii())
}

impl DnsResolver for HickoryDns {
    async fn a(&self, name: &str) -> Answer<Ipv4Addr> {
        let data = self.lookup(absolute(name)?, RecordType::A).await?;
        Ok(data
            .into_iter()
            .filter_map(|d| match d {
                RData::A(a) => Some(a.0),
                _ => None,
            })
            .collect())
    }

    async fn aaaa(&self, name: &str) -> Answer<Ipv6Addr> {
        let data = self.lookup(absolute(name)?, RecordType::AAAA).await?;
        Ok(data
            .into_iter()
            .filter_map(|d| match d {
                RData::AAAA(a) => Some(a.0),
                _ => None,
            })
            .collect())
    }

    async fn mx(&self, name: &str) -> Answer<MxRecord> {
        let data = self.lookup(absolute(name)?, RecordType::MX).await?;
        Ok(data
            .into_iter()
            .filter_map(|d| match d {
                RData::MX(mx) => Some(MxRecord {
                    preference: mx.preference,
                    exchange: host_name(&mx.exchange),
                }),
                _ => None,
            })
            .collect())
    }

    async fn txt(&self, name: &str) -> Answer<String> {
        let data = self.lookup(absolute(name)?, RecordType::TXT).await?;
        Ok(data
            .into_iter()
            .filter_map(|d| match d {
                RData::TXT(txt) => {
                    let joined: Vec<u8> = txt
                        .txt_data
                        .iter()
                        .flat_map(|s| s.iter())
                        .copied()
                        .collect();
                    Some(String::from_utf8_lossy(&joined).into_owned())
                }
                _ => None,
            })
            .collect())
    }

    async fn ptr(&self, ip: IpAddr) -> Answer<String> {
        let data = self.lookup(Name::from(ip), RecordType::PTR).await?;
        Ok(data
            .into_iter()
            .filter_map(|d| match d {
                RData::PTR(p) => Some(host_name(&p.0)),
                _ => None,
            })
            .collect())
    }

    async fn unreachable(&self, name: &str) -> Option<String> {
        // One try is enough to tell silence from an answer.
        let mut opts = self.opts.clone();
        opts.attempts = 1;
        let name = absolute(name).unwrap_or_else(|_| Name::root());
        let reason = match self.send(opts, name, RecordType::SOA).await {
            // Records, NXDOMAIN, NODATA or an error code: a server answered.
            Ok(Ok(_)) | Ok(Err(NetError::Dns(_))) => return None,
            Ok(Err(e)) => e.to_string(),
            Err(reason) => reason,
        };
        Some(format!(
            "the resolver {} does not answer ({reason})",
            self.description
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nameserver_specs() {
        assert_eq!(
            parse_nameserver("127.0.0.1:5353").unwrap(),
            "127.0.0.1:5353".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(parse_nameserver("192.0.2.53").unwrap().port(), 53);
        assert_eq!(parse_nameserver("[::1]:53").unwrap().port(), 53);
        assert!(parse_nameserver("ns.example")
            .unwrap_err()
            .to_string()
            .contains("is not a nameserver address"));
    }

    #[test]
    fn system_configuration_is_read_once_at_construction() {
        // Machines without /etc/resolv.conf get an error, never a panic.
        match HickoryDns::system() {
            Ok(dns) => assert!(dns.servers().starts_with("system ("), "{dns:?}"),
            Err(e) => assert!(e.to_string().contains("system resolver configuration")),
        }
    }

    #[tokio::test]
    async fn unreachable_server_is_a_temporary_error_not_a_panic() {
        // Port 9 on loopback: nothing listens, so UDP gets ICMP refused or
        // times out; both must come back as Temporary, quickly.
        let dns = HickoryDns::new(&ResolverSettings {
            nameserver: Some("127.0.0.1:9".parse().unwrap()),
            timeout: Duration::from_millis(200),
            attempts: 1,
        })
        .unwrap();
        assert!(matches!(
            dns.a("example.org").await,
            Err(LookupError::Temporary(_))
        ));
    }

    #[tokio::test]
    async fn silence_is_out_of_reach_and_a_refusal_is_not() {
        let dead = HickoryDns::new(&ResolverSettings {
            nameserver: Some("127.0.0.1:9".parse().unwrap()),
            timeout: Duration::from_millis(200),
            attempts: 2,
        })
        .unwrap();
        let reason = dead
            .unreachable("example.org")
            .await
            .expect("nothing listens on port 9");
        assert!(
            reason.starts_with("the resolver 127.0.0.1:9 does not answer ("),
            "{reason}"
        );

        // A server that answers REFUSED to everything is there: the check
        // must keep asking it (each answer is its own "could not check").
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = socket.local_addr().unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        let server = std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            let mut answered = 0;
            while let Ok((n, from)) = socket.recv_from(&mut buf) {
                if n < 12 {
                    continue;
                }
                let mut reply = buf[..n].to_vec();
                reply[2] |= 0x80; // QR: a response
                reply[3] = (reply[3] & 0xf0) | 5; // RCODE 5: REFUSED
                socket.send_to(&reply, from).unwrap();
                answered += 1;
            }
            // Ends 3 s after the last question.
            answered
        });
        let refusing = HickoryDns::new(&ResolverSettings {
            nameserver: Some(addr),
            timeout: Duration::from_secs(2),
            attempts: 1,
        })
        .unwrap();
        assert!(matches!(
            refusing.txt("example.org").await,
            Err(LookupError::Temporary(_))
        ));
        assert_eq!(refusing.unreachable("example.org").await, None);
        assert!(
            server.join().unwrap() >= 2,
            "both questions reached the server"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn usable_on_a_single_threaded_runtime() {
        // The lookups run on the caller's runtime, even one without worker
        // threads: nothing blocks it.
        let dns = HickoryDns::new(&ResolverSettings {
            nameserver: Some("127.0.0.1:9".parse().unwrap()),
            timeout: Duration::from_millis(100),
            attempts: 1,
        })
        .unwrap();
        assert!(dns.txt("example.org").await.is_err());
    }
}

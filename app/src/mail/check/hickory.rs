//! The live [`DnsResolver`], built on `hickory-resolver`.
//!
//! # Blocking over async: the choice
//!
//! hickory-resolver 0.26 is async-only (the synchronous `Resolver` was
//! removed in 0.25), while `mailauth_core`'s SPF traits are blocking. A
//! [`HickoryDns`] therefore owns one background thread running a
//! single-threaded Tokio runtime; each blocking lookup sends its question
//! there over a channel and waits for the reply with a deadline.
//!
//! This was chosen over calling `Runtime::block_on` in the caller's thread
//! because `block_on` panics when the caller is itself inside a Tokio
//! runtime, which is exactly where a web console runs; with the dedicated
//! thread a lookup is safe from any thread. Async callers should still run
//! the whole check with `tokio::task::spawn_blocking` (see
//! [`crate::mail::check::check_async`]) so that a slow DNS server blocks a pool thread
//! rather than an executor worker.
//!
//! # No caching between checks
//!
//! Every lookup builds a fresh hickory `Resolver` from the stored
//! configuration (cheap: no I/O until the query), so no answer, positive or
//! negative, outlives its lookup; consistency within one check comes from
//! [`crate::mail::check::dns::CheckDns`]. A console that re-runs the check after a fix
//! therefore sees the new records at once (subject only to the upstream
//! recursive resolver's own cache).
//!
//! # Timeouts
//!
//! Each query attempt times out after [`ResolverSettings::timeout`]
//! (default 3 s) and is tried [`ResolverSettings::attempts`] times; on top
//! of that every lookup has an overall deadline, so one dead server cannot
//! hold a check for longer than a few seconds per question.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::NetError;
use hickory_resolver::proto::rr::{Name, RData, RecordType};
use hickory_resolver::Resolver;
use tokio::sync::mpsc;

use crate::mail::check::dns::{normalise_name, DnsResolver, LookupError, MxRecord};

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsSetupError(pub String);

impl fmt::Display for DnsSetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DnsSetupError {}

enum Question {
    A(String),
    Aaaa(String),
    Mx(String),
    Txt(String),
    Ptr(IpAddr),
    /// Any response at all about this name (see [`DnsResolver::unreachable`]).
    Probe(String),
}

enum Answer {
    A(Vec<Ipv4Addr>),
    Aaaa(Vec<Ipv6Addr>),
    Mx(Vec<MxRecord>),
    Txt(Vec<String>),
    Ptr(Vec<String>),
    /// `Some(reason)` when no server responded.
    Unreachable(Option<String>),
}

struct Job {
    question: Question,
    reply: std_mpsc::Sender<Result<Answer, LookupError>>,
}

/// A blocking [`DnsResolver`] backed by hickory-resolver; see the module
/// docs for the threading and caching choices.
///
/// Dropping it stops its resolver thread.
pub struct HickoryDns {
    jobs: mpsc::UnboundedSender<Job>,
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

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| DnsSetupError(format!("cannot start the DNS runtime: {e}")))?;
        let (jobs, mut rx) = mpsc::unbounded_channel::<Job>();
        let deadline = settings.deadline();
        std::thread::Builder::new()
            .name("mailcheck-dns".to_string())
            .spawn(move || {
                runtime.block_on(async move {
                    // Each question runs as its own task so that lookups
                    // from several checks proceed concurrently; the loop
                    // ends when the HickoryDns (the only sender) is
                    // dropped.
                    while let Some(job) = rx.recv().await {
                        let config = config.clone();
                        let opts = opts.clone();
                        tokio::spawn(async move {
                            let answer =
                                tokio::time::timeout(deadline, ask(config, opts, job.question))
                                    .await
                                    .unwrap_or_else(|_| {
                                        Err(LookupError::Temporary(format!(
                                            "no answer within {} s",
                                            deadline.as_secs()
                                        )))
                                    });
                            // The asker may have given up; nothing to do then.
                            let _ = job.reply.send(answer);
                        });
                    }
                });
            })
            .map_err(|e| DnsSetupError(format!("cannot start the DNS thread: {e}")))?;
        Ok(Self {
            jobs,
            deadline,
            description,
        })
    }

    /// Which servers are asked, for display.
    pub fn servers(&self) -> &str {
        &self.description
    }

    fn ask_blocking(&self, question: Question) -> Result<Answer, LookupError> {
        let (reply, answer) = std_mpsc::channel();
        self.jobs
            .send(Job { question, reply })
            .map_err(|_| LookupError::Temporary("the DNS thread has stopped".to_string()))?;
        // A little longer than the worker's own deadline, so the worker's
        // more precise message normally wins.
        answer
            .recv_timeout(self.deadline + Duration::from_secs(1))
            .map_err(|_| LookupError::Temporary("no answer from the DNS thread".to_string()))?
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

async fn ask(
    config: ResolverConfig,
    mut opts: ResolverOpts,
    question: Question,
) -> Result<Answer, LookupError> {
    if matches!(question, Question::Probe(_)) {
        // One try is enough to tell silence from an answer.
        opts.attempts = 1;
    }
    let resolver = Resolver::builder_with_config(config, TokioRuntimeProvider::default())
        .with_options(opts)
        .build()
        .map_err(|e| LookupError::Temporary(format!("cannot set up the resolver: {e}")))?;
    let (name, rtype) = match &question {
        Question::A(n) => (absolute(n)?, RecordType::A),
        Question::Aaaa(n) => (absolute(n)?, RecordType::AAAA),
        Question::Mx(n) => (absolute(n)?, RecordType::MX),
        Question::Txt(n) => (absolute(n)?, RecordType::TXT),
        Question::Ptr(ip) => (Name::from(*ip), RecordType::PTR),
        Question::Probe(n) => (
            absolute(n).unwrap_or_else(|_| Name::root()),
            RecordType::SOA,
        ),
    };
    if let Question::Probe(_) = question {
        return Ok(Answer::Unreachable(
            match resolver.lookup(name, rtype).await {
                // Records, NXDOMAIN, NODATA or an error code: a server answered.
                Ok(_) | Err(NetError::Dns(_)) => None,
                Err(e) => Some(e.to_string()),
            },
        ));
    }
    let lookup = match resolver.lookup(name, rtype).await {
        Ok(l) => l,
        // NXDOMAIN and NODATA alike: "nothing there".
        Err(e) if e.is_no_records_found() => return Err(LookupError::NotFound),
        Err(e) => return Err(LookupError::Temporary(e.to_string())),
    };
    // Answers may include the CNAMEs that led to the data; keep only the
    // type asked for.
    let data = lookup.answers().iter().map(|r| &r.data);
    Ok(match question {
        Question::A(_) => Answer::A(
            data.filter_map(|d| match d {
                RData::A(a) => Some(a.0),
                _ => None,
            })
            .collect(),
        ),
        Question::Aaaa(_) => Answer::Aaaa(
            data.filter_map(|d| match d {
                RData::AAAA(a) => Some(a.0),
                _ => None,
            })
            .collect(),
        ),
        Question::Mx(_) => Answer::Mx(
            data.filter_map(|d| match d {
                RData::MX(mx) => Some(MxRecord {
                    preference: mx.preference,
                    exchange: host_name(&mx.exchange),
                }),
                _ => None,
            })
            .collect(),
        ),
        Question::Txt(_) => Answer::Txt(
            data.filter_map(|d| match d {
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
            .collect(),
        ),
        Question::Probe(_) => return Err(mismatch()),
        Question::Ptr(_) => Answer::Ptr(
            data.filter_map(|d| match d {
                RData::PTR(p) => Some(host_name(&p.0)),
                _ => None,
            })
            .collect(),
        ),
    })
}

fn mismatch() -> LookupError {
    LookupError::Temporary("internal error: answer of the wrong type".to_string())
}

impl DnsResolver for HickoryDns {
    fn a(&self, name: &str) -> Result<Vec<Ipv4Addr>, LookupError> {
        match self.ask_blocking(Question::A(name.to_string()))? {
            Answer::A(v) => Ok(v),
            _ => Err(mismatch()),
        }
    }

    fn aaaa(&self, name: &str) -> Result<Vec<Ipv6Addr>, LookupError> {
        match self.ask_blocking(Question::Aaaa(name.to_string()))? {
            Answer::Aaaa(v) => Ok(v),
            _ => Err(mismatch()),
        }
    }

    fn mx(&self, name: &str) -> Result<Vec<MxRecord>, LookupError> {
        match self.ask_blocking(Question::Mx(name.to_string()))? {
            Answer::Mx(v) => Ok(v),
            _ => Err(mismatch()),
        }
    }

    fn txt(&self, name: &str) -> Result<Vec<String>, LookupError> {
        match self.ask_blocking(Question::Txt(name.to_string()))? {
            Answer::Txt(v) => Ok(v),
            _ => Err(mismatch()),
        }
    }

    fn ptr(&self, ip: IpAddr) -> Result<Vec<String>, LookupError> {
        match self.ask_blocking(Question::Ptr(ip))? {
            Answer::Ptr(v) => Ok(v),
            _ => Err(mismatch()),
        }
    }

    fn unreachable(&self, name: &str) -> Option<String> {
        let reason = match self.ask_blocking(Question::Probe(name.to_string())) {
            Ok(Answer::Unreachable(None)) => return None,
            Ok(Answer::Unreachable(Some(reason))) | Err(LookupError::Temporary(reason)) => reason,
            Ok(_) | Err(LookupError::NotFound) => return None,
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

    #[test]
    fn unreachable_server_is_a_temporary_error_not_a_panic() {
        // Port 9 on loopback: nothing listens, so UDP gets ICMP refused or
        // times out; both must come back as Temporary, quickly.
        let dns = HickoryDns::new(&ResolverSettings {
            nameserver: Some("127.0.0.1:9".parse().unwrap()),
            timeout: Duration::from_millis(200),
            attempts: 1,
        })
        .unwrap();
        assert!(matches!(
            dns.a("example.org"),
            Err(LookupError::Temporary(_))
        ));
    }

    #[test]
    fn silence_is_out_of_reach_and_a_refusal_is_not() {
        let dead = HickoryDns::new(&ResolverSettings {
            nameserver: Some("127.0.0.1:9".parse().unwrap()),
            timeout: Duration::from_millis(200),
            attempts: 2,
        })
        .unwrap();
        let reason = dead
            .unreachable("example.org")
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
            refusing.txt("example.org"),
            Err(LookupError::Temporary(_))
        ));
        assert_eq!(refusing.unreachable("example.org"), None);
        assert!(
            server.join().unwrap() >= 2,
            "both questions reached the server"
        );
    }

    #[test]
    fn usable_inside_an_async_runtime() {
        // block_on in the caller's thread would panic here; the dedicated
        // DNS thread must not.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let dns = HickoryDns::new(&ResolverSettings {
                nameserver: Some("127.0.0.1:9".parse().unwrap()),
                timeout: Duration::from_millis(100),
                attempts: 1,
            })
            .unwrap();
            assert!(dns.txt("example.org").is_err());
        });
    }
}

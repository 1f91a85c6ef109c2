//! The DNS questions the readiness check asks, behind one small trait.
//!
//! [`DnsResolver`] is deliberately *blocking*: the SPF evaluator in
//! `mailauth_core` calls its resolver traits ([`SpfLookup`],
//! [`SpfResolver`]) synchronously, deep inside include/redirect chains, so
//! an async trait would have to be bridged back to blocking calls anyway.
//! The live implementation ([`crate::mail::check::HickoryDns`]) does that bridging once,
//! on its own resolver thread; everything else here stays plain functions.
//!
//! Also here:
//! - [`StaticDns`], an in-memory resolver (the unit tests use it, and the
//!   console can use it to check a draft zone before publishing it);
//! - [`CheckDns`], the per-check wrapper that memoises answers for one check
//!   only and adapts a [`DnsResolver`] to `mailauth_core`'s SPF traits.
//!
//! Names are passed without a trailing dot, like `mailauth_core` does, and
//! compared case-insensitively.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::mail::records::dnsbl::dnsbl_query_name;
pub use crate::mail::records::spf::LookupError;
use crate::mail::records::spf::{SpfLookup, SpfResolver};
use serde::{Deserialize, Serialize};

/// One MX record: lower preference is tried first.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MxRecord {
    pub preference: u16,
    /// The exchange host, without trailing dot; empty for a null MX
    /// (`MX 0 .`, RFC 7505).
    pub exchange: String,
}

/// The lookups the readiness check needs.
///
/// "Nothing there" (NXDOMAIN, or the name exists without records of the
/// type) may be reported as `Ok(vec![])` or `Err(LookupError::NotFound)`;
/// callers treat both alike. `LookupError::Temporary` is for timeouts,
/// SERVFAIL, REFUSED and the like, where the answer may exist: the check
/// reports those as "could not check", never as a failure of the record.
///
/// `Send + Sync` so one resolver can be shared (in an `Arc`) by checks that
/// run on different threads.
pub trait DnsResolver: Send + Sync {
    fn a(&self, name: &str) -> Result<Vec<Ipv4Addr>, LookupError>;
    fn aaaa(&self, name: &str) -> Result<Vec<Ipv6Addr>, LookupError>;
    fn mx(&self, name: &str) -> Result<Vec<MxRecord>, LookupError>;
    /// Each TXT record with its character-strings joined (RFC 7208 §3.3,
    /// RFC 6376 §3.6.2.2), so long DKIM keys arrive whole.
    fn txt(&self, name: &str) -> Result<Vec<String>, LookupError>;
    /// The PTR names of `ip` (the query goes to `in-addr.arpa`/`ip6.arpa`).
    fn ptr(&self, ip: IpAddr) -> Result<Vec<String>, LookupError>;

    /// Asked once per check, after a lookup failed temporarily: whether
    /// the resolver itself is out of reach. `Some(reason)` when no server
    /// gave any DNS response to a question about `name` (timeouts,
    /// connection refused); `None` when one did, even NXDOMAIN or REFUSED.
    /// The check then stops asking, so a dead resolver costs one timeout,
    /// not one per question. Resolvers that cannot be out of reach keep
    /// the default.
    fn unreachable(&self, _name: &str) -> Option<String> {
        None
    }
}

/// Lower-case, no trailing dot: the one spelling used for map keys and
/// comparisons, because DNS names are case-insensitive.
pub fn normalise_name(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// An in-memory resolver answering from records added to it.
///
/// Anything not added is NXDOMAIN; names added with [`StaticDns::with_failure`]
/// answer with a temporary error, to exercise the "could not check" paths.
#[derive(Debug, Clone, Default)]
pub struct StaticDns {
    a: HashMap<String, Vec<Ipv4Addr>>,
    aaaa: HashMap<String, Vec<Ipv6Addr>>,
    mx: HashMap<String, Vec<MxRecord>>,
    txt: HashMap<String, Vec<String>>,
    ptr: HashMap<IpAddr, Vec<String>>,
    failing: HashSet<String>,
}

impl StaticDns {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an A or AAAA record, depending on the address family.
    pub fn with_addr(mut self, name: &str, ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => self.a.entry(normalise_name(name)).or_default().push(v4),
            IpAddr::V6(v6) => self.aaaa.entry(normalise_name(name)).or_default().push(v6),
        }
        self
    }

    pub fn with_mx(mut self, name: &str, preference: u16, exchange: &str) -> Self {
        self.mx
            .entry(normalise_name(name))
            .or_default()
            .push(MxRecord {
                preference,
                exchange: normalise_name(exchange),
            });
        self
    }

    /// Adds one TXT record (already joined; its case is kept).
    pub fn with_txt(mut self, name: &str, value: &str) -> Self {
        self.txt
            .entry(normalise_name(name))
            .or_default()
            .push(value.to_string());
        self
    }

    pub fn with_ptr(mut self, ip: IpAddr, name: &str) -> Self {
        self.ptr.entry(ip).or_default().push(normalise_name(name));
        self
    }

    /// Makes every lookup of `name` (and PTR lookups of `name` when it is
    /// an address) fail temporarily.
    pub fn with_failure(mut self, name: &str) -> Self {
        self.failing.insert(normalise_name(name));
        self
    }

    fn get<T: Clone>(
        &self,
        map: &HashMap<String, Vec<T>>,
        name: &str,
    ) -> Result<Vec<T>, LookupError> {
        let key = normalise_name(name);
        if self.failing.contains(&key) {
            return Err(LookupError::Temporary(format!(
                "SERVFAIL for {key} (simulated)"
            )));
        }
        map.get(&key).cloned().ok_or(LookupError::NotFound)
    }
}

impl DnsResolver for StaticDns {
    fn a(&self, name: &str) -> Result<Vec<Ipv4Addr>, LookupError> {
        self.get(&self.a, name)
    }

    fn aaaa(&self, name: &str) -> Result<Vec<Ipv6Addr>, LookupError> {
        self.get(&self.aaaa, name)
    }

    fn mx(&self, name: &str) -> Result<Vec<MxRecord>, LookupError> {
        self.get(&self.mx, name)
    }

    fn txt(&self, name: &str) -> Result<Vec<String>, LookupError> {
        self.get(&self.txt, name)
    }

    fn ptr(&self, ip: IpAddr) -> Result<Vec<String>, LookupError> {
        if self.failing.contains(&ip.to_string()) {
            return Err(LookupError::Temporary(format!(
                "SERVFAIL for the PTR of {ip} (simulated)"
            )));
        }
        self.ptr.get(&ip).cloned().ok_or(LookupError::NotFound)
    }
}

type Memo<K, T> = RefCell<HashMap<K, Result<Vec<T>, LookupError>>>;

/// The resolver as one check sees it: every answer is remembered for the
/// rest of *this* check and forgotten with it.
///
/// Why memoise here rather than rely on a resolver cache: the check asks
/// the same questions several times (the host's A record for the forward
/// check, for forward-confirming the PTR and for SPF `mx`), and all of its
/// verdicts must rest on the same answer; but a console that re-runs the
/// check after someone fixed a record must see the new data at once, so
/// nothing may survive between checks. It lives on one thread (the check
/// is sequential), hence `RefCell`.
pub struct CheckDns<'a> {
    inner: &'a dyn DnsResolver,
    a: Memo<String, Ipv4Addr>,
    aaaa: Memo<String, Ipv6Addr>,
    mx: Memo<String, MxRecord>,
    txt: Memo<String, String>,
    ptr: Memo<IpAddr, String>,
    /// Whether [`DnsResolver::unreachable`] was asked in this check.
    probed: Cell<bool>,
    /// Its answer: once set, no further question is sent.
    down: RefCell<Option<String>>,
}

fn memoised<K, T, F>(memo: &Memo<K, T>, key: K, ask: F) -> Result<Vec<T>, LookupError>
where
    K: std::hash::Hash + Eq,
    T: Clone,
    F: FnOnce() -> Result<Vec<T>, LookupError>,
{
    if let Some(hit) = memo.borrow().get(&key) {
        return hit.clone();
    }
    let answer = ask();
    memo.borrow_mut().insert(key, answer.clone());
    answer
}

impl<'a> CheckDns<'a> {
    pub fn new(inner: &'a dyn DnsResolver) -> Self {
        Self {
            inner,
            a: RefCell::default(),
            aaaa: RefCell::default(),
            mx: RefCell::default(),
            txt: RefCell::default(),
            ptr: RefCell::default(),
            probed: Cell::new(false),
            down: RefCell::default(),
        }
    }

    /// Why the resolver is out of reach, when a failed lookup in this
    /// check led to that finding.
    pub fn resolver_down(&self) -> Option<String> {
        self.down.borrow().clone()
    }

    /// Sends one question to the resolver, unless it was found out of
    /// reach; a first temporary failure asks whether it is.
    fn ask<T>(
        &self,
        name: &str,
        question: impl FnOnce() -> Result<Vec<T>, LookupError>,
    ) -> Result<Vec<T>, LookupError> {
        if let Some(reason) = self.down.borrow().as_ref() {
            return Err(LookupError::Temporary(format!("not asked: {reason}")));
        }
        let answer = question();
        if matches!(answer, Err(LookupError::Temporary(_))) && !self.probed.replace(true) {
            *self.down.borrow_mut() = self.inner.unreachable(name);
        }
        answer
    }

    pub fn a(&self, name: &str) -> Result<Vec<Ipv4Addr>, LookupError> {
        let key = normalise_name(name);
        memoised(&self.a, key.clone(), || {
            self.ask(&key, || self.inner.a(&key))
        })
    }

    pub fn aaaa(&self, name: &str) -> Result<Vec<Ipv6Addr>, LookupError> {
        let key = normalise_name(name);
        memoised(&self.aaaa, key.clone(), || {
            self.ask(&key, || self.inner.aaaa(&key))
        })
    }

    /// A and AAAA together. A temporary failure of either is returned as
    /// such, because a partial answer could make a missing address look
    /// like a wrong one.
    pub fn addrs(&self, name: &str) -> Result<Vec<IpAddr>, LookupError> {
        let mut out: Vec<IpAddr> = Vec::new();
        match self.a(name) {
            Ok(v) => out.extend(v.into_iter().map(IpAddr::V4)),
            Err(LookupError::NotFound) => {}
            Err(e) => return Err(e),
        }
        match self.aaaa(name) {
            Ok(v) => out.extend(v.into_iter().map(IpAddr::V6)),
            Err(LookupError::NotFound) => {}
            Err(e) => return Err(e),
        }
        Ok(out)
    }

    /// MX records sorted by preference, then name, so "the best MX" is
    /// deterministic when preferences tie.
    pub fn mx_records(&self, name: &str) -> Result<Vec<MxRecord>, LookupError> {
        let key = normalise_name(name);
        let mut records = memoised(&self.mx, key.clone(), || {
            self.ask(&key, || self.inner.mx(&key))
        })?;
        for r in &mut records {
            r.exchange = normalise_name(&r.exchange);
        }
        records.sort_by(|x, y| (x.preference, &x.exchange).cmp(&(y.preference, &y.exchange)));
        Ok(records)
    }

    pub fn txt_records(&self, name: &str) -> Result<Vec<String>, LookupError> {
        let key = normalise_name(name);
        memoised(&self.txt, key.clone(), || {
            self.ask(&key, || self.inner.txt(&key))
        })
    }

    pub fn ptr_names(&self, ip: IpAddr) -> Result<Vec<String>, LookupError> {
        let names = memoised(&self.ptr, ip, || {
            let owner = match ip {
                IpAddr::V4(_) => dnsbl_query_name(ip, "in-addr.arpa"),
                IpAddr::V6(_) => dnsbl_query_name(ip, "ip6.arpa"),
            };
            self.ask(&owner, || self.inner.ptr(ip))
        })?;
        Ok(names.iter().map(|n| normalise_name(n)).collect())
    }
}

impl SpfLookup for CheckDns<'_> {
    fn txt(&self, name: &str) -> Result<Vec<String>, LookupError> {
        self.txt_records(name)
    }
}

impl SpfResolver for CheckDns<'_> {
    fn a(&self, name: &str) -> Result<Vec<Ipv4Addr>, LookupError> {
        CheckDns::a(self, name)
    }

    fn aaaa(&self, name: &str) -> Result<Vec<Ipv6Addr>, LookupError> {
        CheckDns::aaaa(self, name)
    }

    fn mx(&self, name: &str) -> Result<Vec<String>, LookupError> {
        Ok(self
            .mx_records(name)?
            .into_iter()
            // A null MX names no host; SPF's mx mechanism then matches
            // nothing rather than looking up the root.
            .filter(|r| !r.exchange.is_empty())
            .map(|r| r.exchange)
            .collect())
    }

    fn ptr(&self, ip: IpAddr) -> Result<Vec<String>, LookupError> {
        self.ptr_names(ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting {
        inner: StaticDns,
        calls: AtomicUsize,
    }

    impl DnsResolver for Counting {
        fn a(&self, name: &str) -> Result<Vec<Ipv4Addr>, LookupError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.inner.a(name)
        }
        fn aaaa(&self, name: &str) -> Result<Vec<Ipv6Addr>, LookupError> {
            self.inner.aaaa(name)
        }
        fn mx(&self, name: &str) -> Result<Vec<MxRecord>, LookupError> {
            self.inner.mx(name)
        }
        fn txt(&self, name: &str) -> Result<Vec<String>, LookupError> {
            self.inner.txt(name)
        }
        fn ptr(&self, ip: IpAddr) -> Result<Vec<String>, LookupError> {
            self.inner.ptr(ip)
        }
    }

    #[test]
    fn static_dns_answers_and_fails() {
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let dns = StaticDns::new()
            .with_addr("Mail.Example.ORG.", ip)
            .with_txt("example.org", "v=spf1 -all")
            .with_failure("broken.example");
        assert_eq!(
            dns.a("mail.example.org").unwrap(),
            vec![Ipv4Addr::new(192, 0, 2, 1)]
        );
        assert_eq!(dns.aaaa("mail.example.org"), Err(LookupError::NotFound));
        assert!(matches!(
            dns.txt("broken.example"),
            Err(LookupError::Temporary(_))
        ));
        assert_eq!(dns.ptr(ip), Err(LookupError::NotFound));
    }

    #[test]
    fn check_dns_memoises_within_one_check_only() {
        let counting = Counting {
            inner: StaticDns::new().with_addr("a.example", "192.0.2.1".parse().unwrap()),
            calls: AtomicUsize::new(0),
        };
        {
            let dns = CheckDns::new(&counting);
            dns.a("a.example").unwrap();
            dns.a("A.EXAMPLE.").unwrap();
            assert_eq!(counting.calls.load(Ordering::SeqCst), 1);
        }
        let again = CheckDns::new(&counting);
        again.a("a.example").unwrap();
        assert_eq!(counting.calls.load(Ordering::SeqCst), 2);
    }

    /// Every question fails temporarily; `down` says whether the
    /// resolver admits being out of reach.
    struct Silent {
        calls: AtomicUsize,
        probes: AtomicUsize,
        down: bool,
    }

    impl Silent {
        fn new(down: bool) -> Self {
            Self {
                calls: AtomicUsize::new(0),
                probes: AtomicUsize::new(0),
                down,
            }
        }
        fn fail<T>(&self) -> Result<Vec<T>, LookupError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            Err(LookupError::Temporary("request timed out".to_string()))
        }
    }

    impl DnsResolver for Silent {
        fn a(&self, _: &str) -> Result<Vec<Ipv4Addr>, LookupError> {
            self.fail()
        }
        fn aaaa(&self, _: &str) -> Result<Vec<Ipv6Addr>, LookupError> {
            self.fail()
        }
        fn mx(&self, _: &str) -> Result<Vec<MxRecord>, LookupError> {
            self.fail()
        }
        fn txt(&self, _: &str) -> Result<Vec<String>, LookupError> {
            self.fail()
        }
        fn ptr(&self, _: IpAddr) -> Result<Vec<String>, LookupError> {
            self.fail()
        }
        fn unreachable(&self, name: &str) -> Option<String> {
            self.probes.fetch_add(1, Ordering::SeqCst);
            self.down
                .then(|| format!("the resolver 192.0.2.53:53 does not answer (asked about {name})"))
        }
    }

    #[test]
    fn a_resolver_out_of_reach_is_asked_once_then_left_alone() {
        let silent = Silent::new(true);
        let dns = CheckDns::new(&silent);
        assert!(dns.mx_records("example.org").is_err());
        assert_eq!(
            dns.resolver_down().as_deref(),
            Some("the resolver 192.0.2.53:53 does not answer (asked about example.org)")
        );
        let later = dns.txt_records("_dmarc.example.org").unwrap_err();
        assert!(
            later
                .to_string()
                .starts_with("not asked: the resolver 192.0.2.53:53"),
            "{later}"
        );
        assert!(dns.addrs("mail.example.org").is_err());
        assert!(dns.ptr_names("192.0.2.1".parse().unwrap()).is_err());
        assert_eq!(silent.calls.load(Ordering::SeqCst), 1);
        assert_eq!(silent.probes.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_resolver_that_answers_keeps_being_asked() {
        // SERVFAIL for one name says nothing about the others.
        let silent = Silent::new(false);
        let dns = CheckDns::new(&silent);
        assert!(dns.mx_records("example.org").is_err());
        assert!(dns.txt_records("_dmarc.example.org").is_err());
        assert!(dns.a("mail.example.org").is_err());
        assert_eq!(dns.resolver_down(), None);
        assert_eq!(silent.calls.load(Ordering::SeqCst), 3);
        // Asked once per check, not once per failure.
        assert_eq!(silent.probes.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn mx_sorted_and_null_mx_hidden_from_spf() {
        let dns = StaticDns::new()
            .with_mx("example.org", 20, "b.example.org")
            .with_mx("example.org", 10, "a.example.org")
            .with_mx("null.example", 0, ".");
        let check = CheckDns::new(&dns);
        let mx = check.mx_records("example.org").unwrap();
        assert_eq!(mx[0].exchange, "a.example.org");
        assert_eq!(
            SpfResolver::mx(&check, "null.example").unwrap(),
            Vec::<String>::new()
        );
    }
}

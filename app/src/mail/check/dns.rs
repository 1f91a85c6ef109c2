//! The DNS questions the readiness check asks, behind one small async trait.
//!
//! - [`DnsResolver`]: the lookups the check makes. The live implementation
//!   is [`crate::mail::check::HickoryDns`]; [`StaticDns`] answers from
//!   memory and is the one resolver the tests use (the SPF tests included).
//!   Every `DnsResolver` is also an SPF resolver ([`SpfLookup`],
//!   [`SpfResolver`]), so the SPF evaluator runs over the same answers.
//! - [`CheckDns`]: the per-check wrapper that remembers answers for one
//!   check only and stops asking a resolver found out of reach.
//!
//! Names are passed without a trailing dot and compared case-insensitively.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::dns::zone::reverse::reverse_name;
pub use crate::mail::records::spf::{Answer, LookupError};
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
/// Implement it with `async fn`s; the futures must be `Send` (the check
/// runs inside server functions), and the resolver `Sync`, since one check
/// holds it across its awaits.
pub trait DnsResolver: Send + Sync {
    fn a(&self, name: &str) -> impl Future<Output = Answer<Ipv4Addr>> + Send;
    fn aaaa(&self, name: &str) -> impl Future<Output = Answer<Ipv6Addr>> + Send;
    fn mx(&self, name: &str) -> impl Future<Output = Answer<MxRecord>> + Send;
    /// Each TXT record with its character-strings joined (RFC 7208 §3.3,
    /// RFC 6376 §3.6.2.2), so long DKIM keys arrive whole.
    fn txt(&self, name: &str) -> impl Future<Output = Answer<String>> + Send;
    /// The PTR names of `ip` (the query goes to `in-addr.arpa`/`ip6.arpa`).
    fn ptr(&self, ip: IpAddr) -> impl Future<Output = Answer<String>> + Send;

    /// Asked once per check, after a lookup failed temporarily: whether
    /// the resolver itself is out of reach. `Some(reason)` when no server
    /// gave any DNS response to a question about `name` (timeouts,
    /// connection refused); `None` when one did, even NXDOMAIN or REFUSED.
    /// The check then stops asking, so a dead resolver costs one timeout,
    /// not one per question. Resolvers that cannot be out of reach keep
    /// the default.
    fn unreachable(&self, _name: &str) -> impl Future<Output = Option<String>> + Send {
        async { None }
    }
}

/// Every DNS resolver answers SPF's questions; a null MX names no host, so
/// SPF's `mx` mechanism then matches nothing rather than looking up the
/// root.
impl<R: DnsResolver> SpfLookup for R {
    async fn txt(&self, name: &str) -> Answer<String> {
        DnsResolver::txt(self, name).await
    }
}

impl<R: DnsResolver> SpfResolver for R {
    async fn a(&self, name: &str) -> Answer<Ipv4Addr> {
        DnsResolver::a(self, name).await
    }

    async fn aaaa(&self, name: &str) -> Answer<Ipv6Addr> {
        DnsResolver::aaaa(self, name).await
    }

    async fn mx(&self, name: &str) -> Answer<String> {
        Ok(DnsResolver::mx(self, name)
            .await?
            .into_iter()
            .filter(|r| !r.exchange.is_empty())
            .map(|r| r.exchange)
            .collect())
    }

    async fn ptr(&self, ip: IpAddr) -> Answer<String> {
        DnsResolver::ptr(self, ip).await
    }
}

/// The one spelling of a name used for map keys and comparisons.
pub use crate::dns::zone::host::normalise as normalise_name;

/// An in-memory resolver answering from records added to it.
///
/// Anything not added is NXDOMAIN. Names added with
/// [`StaticDns::with_failure`] answer with a temporary error, and
/// [`StaticDns::out_of_reach`] makes the whole resolver silent, to exercise
/// the "could not check" paths. It counts the questions it is asked, so
/// tests can see what was asked and what was remembered.
#[derive(Debug, Default)]
pub struct StaticDns {
    a: HashMap<String, Vec<Ipv4Addr>>,
    aaaa: HashMap<String, Vec<Ipv6Addr>>,
    mx: HashMap<String, Vec<MxRecord>>,
    txt: HashMap<String, Vec<String>>,
    ptr: HashMap<IpAddr, Vec<String>>,
    /// Name (or address, for PTR) → the temporary error it answers with.
    failing: HashMap<String, String>,
    /// Why no question gets an answer, when none does.
    silent: Option<String>,
    questions: AtomicUsize,
    probes: AtomicUsize,
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
    pub fn with_failure(self, name: &str) -> Self {
        let key = normalise_name(name);
        let message = format!("SERVFAIL for {key} (simulated)");
        self.with_error(name, &message)
    }

    /// Like [`StaticDns::with_failure`], with the error's exact text.
    pub fn with_error(mut self, name: &str, message: &str) -> Self {
        self.failing
            .insert(normalise_name(name), message.to_string());
        self
    }

    /// Makes the resolver silent: every question times out, and asked
    /// whether it is out of reach it answers `"{reason} (asked about
    /// {name})"`.
    pub fn out_of_reach(mut self, reason: &str) -> Self {
        self.silent = Some(reason.to_string());
        self
    }

    /// How many lookups were asked (not counting [`DnsResolver::unreachable`]).
    pub fn questions(&self) -> usize {
        self.questions.load(Ordering::SeqCst)
    }

    /// How many times [`DnsResolver::unreachable`] was asked.
    pub fn probes(&self) -> usize {
        self.probes.load(Ordering::SeqCst)
    }

    fn answer<K, T>(&self, map: &HashMap<K, Vec<T>>, key: &K, shown: &str) -> Answer<T>
    where
        K: Hash + Eq,
        T: Clone,
    {
        self.questions.fetch_add(1, Ordering::SeqCst);
        if self.silent.is_some() {
            return Err(LookupError::Temporary(
                "request timed out (simulated)".to_string(),
            ));
        }
        if let Some(message) = self.failing.get(shown) {
            return Err(LookupError::Temporary(message.clone()));
        }
        map.get(key).cloned().ok_or(LookupError::NotFound)
    }

    fn named<T: Clone>(&self, map: &HashMap<String, Vec<T>>, name: &str) -> Answer<T> {
        let key = normalise_name(name);
        self.answer(map, &key, &key)
    }
}

impl DnsResolver for StaticDns {
    async fn a(&self, name: &str) -> Answer<Ipv4Addr> {
        self.named(&self.a, name)
    }

    async fn aaaa(&self, name: &str) -> Answer<Ipv6Addr> {
        self.named(&self.aaaa, name)
    }

    async fn mx(&self, name: &str) -> Answer<MxRecord> {
        self.named(&self.mx, name)
    }

    async fn txt(&self, name: &str) -> Answer<String> {
        self.named(&self.txt, name)
    }

    async fn ptr(&self, ip: IpAddr) -> Answer<String> {
        self.answer(&self.ptr, &ip, &ip.to_string())
    }

    async fn unreachable(&self, name: &str) -> Option<String> {
        self.probes.fetch_add(1, Ordering::SeqCst);
        self.silent
            .as_ref()
            .map(|reason| format!("{reason} (asked about {name})"))
    }
}

type Memo<K, T> = Mutex<HashMap<K, Answer<T>>>;

/// A poisoned lock only means another lookup panicked; the map is still
/// a valid cache.
fn lock<V>(m: &Mutex<V>) -> MutexGuard<'_, V> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn memoised<K, T>(
    memo: &Memo<K, T>,
    key: K,
    ask: impl Future<Output = Answer<T>>,
) -> Answer<T>
where
    K: Hash + Eq,
    T: Clone,
{
    let hit = lock(memo).get(&key).cloned();
    if let Some(hit) = hit {
        return hit;
    }
    let answer = ask.await;
    lock(memo).insert(key, answer.clone());
    answer
}

/// The resolver as one check sees it: every answer is remembered for the
/// rest of *this* check and forgotten with it.
///
/// Why memoise here rather than rely on a resolver cache: the check asks
/// the same questions several times (the host's A record for the forward
/// check, for forward-confirming the PTR and for SPF `mx`), and all of its
/// verdicts must rest on the same answer; but a console that re-runs the
/// check after someone fixed a record must see the new data at once, so
/// nothing may survive between checks.
pub struct CheckDns<'a, R> {
    inner: &'a R,
    a: Memo<String, Ipv4Addr>,
    aaaa: Memo<String, Ipv6Addr>,
    mx: Memo<String, MxRecord>,
    txt: Memo<String, String>,
    ptr: Memo<IpAddr, String>,
    /// Whether [`DnsResolver::unreachable`] was asked in this check.
    probed: AtomicBool,
    /// Its answer: once set, no further question is sent.
    down: Mutex<Option<String>>,
}

impl<'a, R: DnsResolver> CheckDns<'a, R> {
    pub fn new(inner: &'a R) -> Self {
        Self {
            inner,
            a: Mutex::default(),
            aaaa: Mutex::default(),
            mx: Mutex::default(),
            txt: Mutex::default(),
            ptr: Mutex::default(),
            probed: AtomicBool::new(false),
            down: Mutex::default(),
        }
    }

    /// Why the resolver is out of reach, when a failed lookup in this
    /// check led to that finding.
    pub fn resolver_down(&self) -> Option<String> {
        lock(&self.down).clone()
    }

    /// Sends one question to the resolver, unless it was found out of
    /// reach; a first temporary failure asks whether it is.
    async fn ask<T>(&self, name: &str, question: impl Future<Output = Answer<T>>) -> Answer<T> {
        if let Some(reason) = self.resolver_down() {
            return Err(LookupError::Temporary(format!("not asked: {reason}")));
        }
        let answer = question.await;
        if matches!(answer, Err(LookupError::Temporary(_)))
            && !self.probed.swap(true, Ordering::SeqCst)
        {
            let down = self.inner.unreachable(name).await;
            *lock(&self.down) = down;
        }
        answer
    }

    pub async fn a(&self, name: &str) -> Answer<Ipv4Addr> {
        let key = normalise_name(name);
        memoised(&self.a, key.clone(), self.ask(&key, self.inner.a(&key))).await
    }

    pub async fn aaaa(&self, name: &str) -> Answer<Ipv6Addr> {
        let key = normalise_name(name);
        memoised(
            &self.aaaa,
            key.clone(),
            self.ask(&key, self.inner.aaaa(&key)),
        )
        .await
    }

    /// A and AAAA together. A temporary failure of either is returned as
    /// such, because a partial answer could make a missing address look
    /// like a wrong one.
    pub async fn addrs(&self, name: &str) -> Answer<IpAddr> {
        let mut out: Vec<IpAddr> = Vec::new();
        match self.a(name).await {
            Ok(v) => out.extend(v.into_iter().map(IpAddr::V4)),
            Err(LookupError::NotFound) => {}
            Err(e) => return Err(e),
        }
        match self.aaaa(name).await {
            Ok(v) => out.extend(v.into_iter().map(IpAddr::V6)),
            Err(LookupError::NotFound) => {}
            Err(e) => return Err(e),
        }
        Ok(out)
    }

    /// MX records sorted by preference, then name, so "the best MX" is
    /// deterministic when preferences tie.
    pub async fn mx_records(&self, name: &str) -> Answer<MxRecord> {
        let key = normalise_name(name);
        let mut records =
            memoised(&self.mx, key.clone(), self.ask(&key, self.inner.mx(&key))).await?;
        for r in &mut records {
            r.exchange = normalise_name(&r.exchange);
        }
        records.sort_by(|x, y| (x.preference, &x.exchange).cmp(&(y.preference, &y.exchange)));
        Ok(records)
    }

    pub async fn txt_records(&self, name: &str) -> Answer<String> {
        let key = normalise_name(name);
        memoised(&self.txt, key.clone(), self.ask(&key, self.inner.txt(&key))).await
    }

    pub async fn ptr_names(&self, ip: IpAddr) -> Answer<String> {
        let owner = normalise_name(reverse_name(ip).as_str());
        let names = memoised(&self.ptr, ip, self.ask(&owner, self.inner.ptr(ip))).await?;
        Ok(names.iter().map(|n| normalise_name(n)).collect())
    }
}

/// So the SPF evaluator (through the blanket SPF impls above) shares this
/// check's answers.
impl<R: DnsResolver> DnsResolver for CheckDns<'_, R> {
    async fn a(&self, name: &str) -> Answer<Ipv4Addr> {
        CheckDns::a(self, name).await
    }

    async fn aaaa(&self, name: &str) -> Answer<Ipv6Addr> {
        CheckDns::aaaa(self, name).await
    }

    async fn mx(&self, name: &str) -> Answer<MxRecord> {
        self.mx_records(name).await
    }

    async fn txt(&self, name: &str) -> Answer<String> {
        self.txt_records(name).await
    }

    async fn ptr(&self, ip: IpAddr) -> Answer<String> {
        self.ptr_names(ip).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn static_dns_answers_and_fails() {
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let dns = StaticDns::new()
            .with_addr("Mail.Example.ORG.", ip)
            .with_txt("example.org", "v=spf1 -all")
            .with_failure("broken.example");
        assert_eq!(
            DnsResolver::a(&dns, "mail.example.org").await.unwrap(),
            vec![Ipv4Addr::new(192, 0, 2, 1)]
        );
        assert_eq!(
            DnsResolver::aaaa(&dns, "mail.example.org").await,
            Err(LookupError::NotFound)
        );
        assert!(matches!(
            DnsResolver::txt(&dns, "broken.example").await,
            Err(LookupError::Temporary(_))
        ));
        assert_eq!(DnsResolver::ptr(&dns, ip).await, Err(LookupError::NotFound));
    }

    #[tokio::test]
    async fn check_dns_memoises_within_one_check_only() {
        let counting = StaticDns::new().with_addr("a.example", "192.0.2.1".parse().unwrap());
        {
            let dns = CheckDns::new(&counting);
            dns.a("a.example").await.unwrap();
            dns.a("A.EXAMPLE.").await.unwrap();
            assert_eq!(counting.questions(), 1);
        }
        let again = CheckDns::new(&counting);
        again.a("a.example").await.unwrap();
        assert_eq!(counting.questions(), 2);
    }

    #[tokio::test]
    async fn a_resolver_out_of_reach_is_asked_once_then_left_alone() {
        let silent = StaticDns::new().out_of_reach("the resolver 192.0.2.53:53 does not answer");
        let dns = CheckDns::new(&silent);
        assert!(dns.mx_records("example.org").await.is_err());
        assert_eq!(
            dns.resolver_down().as_deref(),
            Some("the resolver 192.0.2.53:53 does not answer (asked about example.org)")
        );
        let later = dns.txt_records("_dmarc.example.org").await.unwrap_err();
        assert!(
            later
                .to_string()
                .starts_with("not asked: the resolver 192.0.2.53:53"),
            "{later}"
        );
        assert!(dns.addrs("mail.example.org").await.is_err());
        assert!(dns.ptr_names("192.0.2.1".parse().unwrap()).await.is_err());
        assert_eq!(silent.questions(), 1);
        assert_eq!(silent.probes(), 1);
    }

    #[tokio::test]
    async fn a_resolver_that_answers_keeps_being_asked() {
        // SERVFAIL for one name says nothing about the others.
        let silent = StaticDns::new()
            .with_failure("example.org")
            .with_failure("_dmarc.example.org")
            .with_failure("mail.example.org");
        let dns = CheckDns::new(&silent);
        assert!(dns.mx_records("example.org").await.is_err());
        assert!(dns.txt_records("_dmarc.example.org").await.is_err());
        assert!(dns.a("mail.example.org").await.is_err());
        assert_eq!(dns.resolver_down(), None);
        assert_eq!(silent.questions(), 3);
        // Asked once per check, not once per failure.
        assert_eq!(silent.probes(), 1);
    }

    #[tokio::test]
    async fn mx_sorted_and_null_mx_hidden_from_spf() {
        let dns = StaticDns::new()
            .with_mx("example.org", 20, "b.example.org")
            .with_mx("example.org", 10, "a.example.org")
            .with_mx("null.example", 0, ".");
        let check = CheckDns::new(&dns);
        let mx = check.mx_records("example.org").await.unwrap();
        assert_eq!(mx[0].exchange, "a.example.org");
        assert_eq!(
            SpfResolver::mx(&check, "null.example").await.unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn ptr_owner_names_are_the_zone_module_reverse_names() {
        // The check names the PTR owner with dns::zone's reverse_name; these
        // are the strings its own helper produced before.
        let v4: IpAddr = "192.0.2.10".parse().unwrap();
        assert_eq!(
            normalise_name(reverse_name(v4).as_str()),
            "10.2.0.192.in-addr.arpa"
        );
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(
            normalise_name(reverse_name(v6).as_str()),
            crate::mail::records::dnsbl::dnsbl_query_name(v6, "ip6.arpa")
        );
    }
}

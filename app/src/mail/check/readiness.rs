//! The mail readiness check: what a receiving server sees of our sender.
//!
//! A receiving mail server does not take a sender's word for who it is
//! (figure 3 of the reference paper): it traces the connecting IP address
//! back through its PTR record to a name, checks that name against the
//! address, evaluates the sending domain's SPF record, verifies DKIM
//! signatures against the key in DNS, applies the DMARC policy and asks
//! blocklists such as Spamhaus whether the address is known for spam. Each
//! of those steps can quietly send a small organisation's mail to spam, so
//! [`check`] walks the same path and reports every step as a [`CheckItem`]
//! with a concrete fix (the record to add, with its value).
//!
//! Items, in order (their `id`s are stable for the console and `--json`):
//! - `host-address`: the mail host's A/AAAA is the mail IP;
//! - `ptr`: the IP's PTR names the mail host and that name resolves back
//!   to the IP (forward-confirmed reverse DNS);
//! - `mx`: the domain's MX leads to the mail host;
//! - `spf`: exactly one valid SPF record, within 10 lookups, authorising
//!   the IP;
//! - `dkim:<selector>` for each selector (`dkim` when none is given);
//! - `dmarc`: a valid policy at `_dmarc.<domain>`;
//! - `dnsbl:<zone>` for each blocklist.
//!
//! Temporary DNS failures give [`Status::Warn`] ("could not check"), never
//! [`Status::Fail`]: a timeout says nothing about the records.

use std::net::IpAddr;

use crate::dns::zone::reverse::{reverse_name, reverse_zone_for};
use crate::mail::records::dkim::{DkimKeyRecord, DkimPrivateKey};
use crate::mail::records::dmarc::validate_dmarc;
use crate::mail::records::dnsbl::{
    dnsbl_query_name, interpret_dnsbl_answer, DnsblError, DnsblOutcome,
};
use crate::mail::records::spf::{
    authorises_ip, count_lookups, select_spf_record, validate_spf, SpfError, SpfOutcome,
};
use crate::mail::records::{to_zone_txt, Diagnostic, Severity};
use serde::{Deserialize, Serialize};

use crate::mail::check::dns::{normalise_name, CheckDns, DnsResolver, LookupError, MxRecord};

/// Spamhaus ZEN combines SBL, XBL and PBL: the list the paper's receivers
/// consult.
pub const DEFAULT_DNSBL_ZONE: &str = "zen.spamhaus.org";

/// What to check and how.
#[derive(Clone)]
pub struct CheckOptions<R> {
    /// Where the answers come from: [`crate::mail::check::HickoryDns`] live,
    /// [`crate::mail::check::StaticDns`] in tests.
    pub resolver: R,
    /// Blocklist zones; [`CheckOptions::new`] sets `["zen.spamhaus.org"]`.
    pub dnsbl_zones: Vec<String>,
    /// `(selector, private key PEM)`: the key record at
    /// `<selector>._domainkey.<domain>` must exist and parse, and match the
    /// private key when one is given.
    pub dkim: Vec<(String, Option<String>)>,
}

impl<R> CheckOptions<R> {
    pub fn new(resolver: R) -> Self {
        Self {
            resolver,
            dnsbl_zones: vec![DEFAULT_DNSBL_ZONE.to_string()],
            dkim: Vec::new(),
        }
    }
}

impl<R> std::fmt::Debug for CheckOptions<R> {
    // Private keys must never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let selectors: Vec<(&str, bool)> = self
            .dkim
            .iter()
            .map(|(s, k)| (s.as_str(), k.is_some()))
            .collect();
        f.debug_struct("CheckOptions")
            .field("dnsbl_zones", &self.dnsbl_zones)
            .field("dkim (selector, has key)", &selectors)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    /// Works but risky, or could not be checked (DNS trouble, a blocklist
    /// refusing the query).
    Warn,
    /// Not applicable, e.g. no address to look up.
    Skipped,
}

/// One step of the check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckItem {
    /// Stable identifier, e.g. `ptr`, `dkim:mail`, `dnsbl:zen.spamhaus.org`.
    pub id: String,
    pub title: String,
    pub status: Status,
    /// What was found, in a sentence or two.
    pub detail: String,
    /// What to change, concretely (the record and its value).
    pub fix: Option<String>,
}

/// The checklist for one domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub domain: String,
    /// The host checked: as given, else the best MX.
    pub mail_host: Option<String>,
    /// The address checked: as given, else the host's first A (or AAAA).
    pub mail_ip: Option<IpAddr>,
    pub items: Vec<CheckItem>,
}

impl Report {
    /// True when no item failed or warned. Skipped items do not count
    /// against it: they are skipped only when there is nothing to check,
    /// and whatever caused that has its own failing item.
    pub fn all_passed(&self) -> bool {
        self.items
            .iter()
            .all(|i| matches!(i.status, Status::Pass | Status::Skipped))
    }

    pub fn item(&self, id: &str) -> Option<&CheckItem> {
        self.items.iter().find(|i| i.id == id)
    }

    /// Items that failed or warned, in checklist order.
    pub fn problems(&self) -> impl Iterator<Item = &CheckItem> {
        self.items
            .iter()
            .filter(|i| matches!(i.status, Status::Fail | Status::Warn))
    }
}

fn item(id: &str, title: String, status: Status, detail: String, fix: Option<String>) -> CheckItem {
    CheckItem {
        id: id.to_string(),
        title,
        status,
        detail,
        fix,
    }
}

/// A DNS lookup that failed temporarily: the record may be fine.
fn unknown(id: &str, title: String, name: &str, e: &LookupError) -> CheckItem {
    item(
        id,
        title,
        Status::Warn,
        format!("could not check: the DNS lookup of {name} failed ({e})"),
        Some("Run the check again; if it keeps failing, check that the domain's nameservers answer (e.g. dig +trace).".to_string()),
    )
}

/// `Err(NotFound)` and an empty answer mean the same.
fn found<T>(r: Result<Vec<T>, LookupError>) -> Result<Vec<T>, LookupError> {
    match r {
        Err(LookupError::NotFound) => Ok(Vec::new()),
        other => other,
    }
}

fn addr_record(name: &str, ip: IpAddr) -> String {
    let rtype = if ip.is_ipv4() { "A" } else { "AAAA" };
    format!("{name}. IN {rtype} {ip}")
}

fn join_ips(ips: &[IpAddr]) -> String {
    let v: Vec<String> = ips.iter().map(IpAddr::to_string).collect();
    v.join(", ")
}

/// The PTR owner name of `ip` and its usual reverse zone (the /24 for IPv4,
/// which is what ISPs delegate or keep), without trailing dots.
fn reverse_names(ip: IpAddr) -> (String, String) {
    let owner = normalise_name(reverse_name(ip).as_str());
    let zone = match reverse_zone_for(ip, 24) {
        Ok(zone) if ip.is_ipv4() => normalise_name(zone.as_str()),
        _ => "the ip6.arpa zone of your IPv6 prefix".to_string(),
    };
    (owner, zone)
}

/// Runs the readiness check.
///
/// `mail_host` defaults to the domain's best MX (lowest preference) and
/// `mail_ip` to that host's first A record (AAAA when it has none). Pass
/// `mail_ip` explicitly when the server sends from another address than
/// the one its name resolves to, since receivers judge the sending address.
pub async fn check<R: DnsResolver>(
    domain: &str,
    mail_host: Option<&str>,
    mail_ip: Option<IpAddr>,
    opts: &CheckOptions<R>,
) -> Report {
    let domain = normalise_name(domain);
    let dns = CheckDns::new(&opts.resolver);
    let mx = found(dns.mx_records(&domain).await);

    let host = match mail_host {
        Some(h) => Some(normalise_name(h)),
        None => match &mx {
            Ok(records) => records
                .iter()
                .find(|r| !r.exchange.is_empty())
                .map(|r| r.exchange.clone()),
            Err(_) => None,
        },
    };
    let host_addrs = match host.as_deref() {
        Some(h) => Some(found(dns.addrs(h).await)),
        None => None,
    };
    let ip = mail_ip.or_else(|| match &host_addrs {
        Some(Ok(addrs)) => addrs
            .iter()
            .find(|a| a.is_ipv4())
            .or_else(|| addrs.first())
            .copied(),
        _ => None,
    });

    let mut items = vec![
        check_host_address(
            &domain,
            host.as_deref(),
            host_addrs.as_ref(),
            ip,
            mail_ip.is_some(),
        ),
        check_ptr(&dns, host.as_deref(), ip).await,
        check_mx(&domain, host.as_deref(), &mx),
        check_spf(&dns, &domain, ip).await,
    ];
    if opts.dkim.is_empty() {
        items.push(item(
            "dkim",
            "DKIM key records".to_string(),
            Status::Skipped,
            "no DKIM selector was given, so no key record was checked".to_string(),
            None,
        ));
    }
    for (selector, key) in &opts.dkim {
        items.push(check_dkim(&dns, &domain, selector, key.as_deref()).await);
    }
    items.push(check_dmarc(&dns, &domain).await);
    for zone in &opts.dnsbl_zones {
        items.push(check_dnsbl(&dns, zone, ip).await);
    }
    if let Some(reason) = dns.resolver_down() {
        // Every "could not check" has the one cause, with the one fix.
        for item in items.iter_mut().filter(|i| i.status == Status::Warn) {
            if item.detail.starts_with("could not check") {
                item.fix = Some(format!(
                    "Make the resolver reachable, then run the check again: {reason}. Set \
                     another resolver in the check settings (--resolver on the command \
                     line), or let this machine reach it on port 53 over UDP and TCP."
                ));
            }
        }
    }
    Report {
        domain,
        mail_host: host,
        mail_ip: ip,
        items,
    }
}

fn check_host_address(
    domain: &str,
    host: Option<&str>,
    addrs: Option<&Result<Vec<IpAddr>, LookupError>>,
    ip: Option<IpAddr>,
    ip_given: bool,
) -> CheckItem {
    const ID: &str = "host-address";
    let Some(host) = host else {
        return item(
            ID,
            "Mail host address".to_string(),
            Status::Fail,
            format!(
                "cannot tell which host handles mail for {domain}: it has no usable MX record \
                 and no mail host was given"
            ),
            Some(format!(
                "Add an MX record and an address for the host: `{domain}. IN MX 10 \
                 mail.{domain}.` and `mail.{domain}. IN A <the server's public IPv4 address>`."
            )),
        );
    };
    let title = format!("Address of {host} (A/AAAA)");
    let addrs = match addrs {
        Some(Ok(a)) => a.clone(),
        Some(Err(e)) => return unknown(ID, title, host, e),
        None => Vec::new(),
    };
    match ip {
        Some(ip) if addrs.contains(&ip) => {
            let how = if ip_given {
                format!("{host} resolves to {ip}, the mail server's address")
            } else {
                format!("{host} resolves to {ip}; the check uses it as the mail server's address")
            };
            let others: Vec<IpAddr> = addrs.iter().copied().filter(|a| *a != ip).collect();
            let detail = if others.is_empty() {
                how
            } else {
                format!(
                    "{how} (it also resolves to {}; give the mail IP to check another)",
                    join_ips(&others)
                )
            };
            item(ID, title, Status::Pass, detail, None)
        }
        Some(ip) if addrs.is_empty() => item(
            ID,
            title,
            Status::Fail,
            format!("{host} has no A or AAAA record, so it does not lead to {ip}"),
            Some(format!("Add `{}`.", addr_record(host, ip))),
        ),
        Some(ip) => item(
            ID,
            title,
            Status::Fail,
            format!(
                "{host} resolves to {}, not to the mail server's address {ip}",
                join_ips(&addrs)
            ),
            Some(format!(
                "Point the name at the server: `{}` (replacing the old address record).",
                addr_record(host, ip)
            )),
        ),
        None => item(
            ID,
            title,
            Status::Fail,
            format!("{host} has no A or AAAA record, so the mail server's address is unknown"),
            Some(format!(
                "Add `{host}. IN A <the server's public IPv4 address>`."
            )),
        ),
    }
}

async fn check_ptr<R: DnsResolver>(
    dns: &CheckDns<'_, R>,
    host: Option<&str>,
    ip: Option<IpAddr>,
) -> CheckItem {
    const ID: &str = "ptr";
    let Some(ip) = ip else {
        return item(
            ID,
            "Reverse DNS (PTR)".to_string(),
            Status::Skipped,
            "no mail server address is known, so its PTR record cannot be checked".to_string(),
            None,
        );
    };
    let title = format!("Reverse DNS (PTR) of {ip}");
    let (owner, zone) = reverse_names(ip);
    let want = host.unwrap_or("<your mail host name>");
    let ask_isp = format!(
        "The reverse zone {zone} usually belongs to whoever assigned you {ip} (your ISP or \
         hosting provider), not to you: ask them to set the PTR record `{owner}. IN PTR \
         {want}.`; if you run that zone yourself, add the record there."
    );
    let names = match found(dns.ptr_names(ip).await) {
        Ok(n) => n,
        Err(e) => return unknown(ID, title, &owner, &e),
    };
    if names.is_empty() {
        return item(
            ID,
            title,
            Status::Fail,
            format!(
                "{ip} has no PTR record; receiving servers trace the sending address back to a \
                 name and reject or spam-file mail from addresses without one"
            ),
            Some(ask_isp),
        );
    }
    // Forward-confirm each PTR name: it must resolve back to the address.
    let mut confirmed: Vec<String> = Vec::new();
    for name in &names {
        let back = if ip.is_ipv4() {
            found(dns.a(name).await).map(|v| v.into_iter().map(IpAddr::V4).collect::<Vec<_>>())
        } else {
            found(dns.aaaa(name).await).map(|v| v.into_iter().map(IpAddr::V6).collect::<Vec<_>>())
        };
        match back {
            Ok(addrs) if addrs.contains(&ip) => confirmed.push(name.clone()),
            Ok(_) => {}
            Err(e) => return unknown(ID, title, name, &e),
        }
    }
    let listed = names.join(", ");
    match host {
        Some(h) if confirmed.iter().any(|c| c == h) => item(
            ID,
            title,
            Status::Pass,
            format!("{ip} → {h} → {ip}: the PTR names the mail host and is forward-confirmed"),
            None,
        ),
        None if !confirmed.is_empty() => item(
            ID,
            title,
            Status::Pass,
            format!(
                "{ip} → {} → {ip}: forward-confirmed (no mail host to compare with)",
                confirmed.join(", ")
            ),
            None,
        ),
        _ if confirmed.is_empty() => {
            let fix = match host {
                Some(h) if names.iter().any(|n| n == h) => format!(
                    "Make the name resolve back to the address: add `{}`.",
                    addr_record(h, ip)
                ),
                Some(h) => format!("{ask_isp} Then make sure `{}` exists.", addr_record(h, ip)),
                None => ask_isp,
            };
            item(
                ID,
                title,
                Status::Fail,
                format!(
                    "the PTR of {ip} is {listed}, but {listed} does not resolve back to {ip}, \
                     so forward-confirmed reverse DNS fails and receivers treat the address \
                     as having no valid name"
                ),
                Some(fix),
            )
        }
        _ => item(
            ID,
            title,
            Status::Fail,
            format!(
                "the PTR of {ip} is {listed} (forward-confirmed), not the mail host {want}; \
                 receivers compare it with the name the server greets them with"
            ),
            Some(format!(
                "{ask_isp} Alternatively make the mail server use {} as its host name \
                 (Postfix myhostname) and point the MX at it.",
                confirmed.join(" or ")
            )),
        ),
    }
}

fn check_mx(
    domain: &str,
    host: Option<&str>,
    mx: &Result<Vec<MxRecord>, LookupError>,
) -> CheckItem {
    const ID: &str = "mx";
    let title = format!("MX of {domain}");
    let records = match mx {
        Ok(r) => r,
        Err(e) => return unknown(ID, title, domain, e),
    };
    let target = host.map_or_else(|| format!("mail.{domain}"), str::to_string);
    let add = format!("`{domain}. IN MX 10 {target}.`");
    if records.is_empty() {
        return item(
            ID,
            title,
            Status::Fail,
            format!(
                "{domain} has no MX record; senders fall back to its A record, and many \
                 treat the domain as not receiving mail"
            ),
            Some(format!("Add {add}.")),
        );
    }
    if records.iter().all(|r| r.exchange.is_empty()) {
        return item(
            ID,
            title,
            Status::Fail,
            format!("{domain} publishes a null MX (RFC 7505): it declares that it accepts no mail"),
            Some(format!("Replace the null MX with {add}.")),
        );
    }
    let listed: Vec<String> = records
        .iter()
        .map(|r| format!("{} {}", r.preference, r.exchange))
        .collect();
    // `records` is sorted and non-empty here; without a host the best MX
    // was taken as the host, so neither `else` is reached in practice.
    let (Some(host), Some(best)) = (host, records.first()) else {
        return item(
            ID,
            title,
            Status::Pass,
            format!("MX: {}", listed.join(", ")),
            None,
        );
    };
    match records.iter().find(|r| r.exchange == host) {
        Some(r) if r.preference == best.preference => item(
            ID,
            title,
            Status::Pass,
            format!(
                "{domain} MX {} {host}: mail for {domain} goes to the mail host",
                r.preference
            ),
            None,
        ),
        Some(r) => item(
            ID,
            title,
            Status::Warn,
            format!(
                "{host} is only a backup MX (preference {}); mail goes first to {} \
                 (preference {})",
                r.preference, best.exchange, best.preference
            ),
            Some(format!(
                "If {host} is the main server, give it the lowest preference: `{domain}. IN \
                 MX {} {host}.`",
                best.preference.saturating_sub(1)
            )),
        ),
        None => item(
            ID,
            title,
            Status::Fail,
            format!(
                "the MX records of {domain} ({}) do not lead to {host}",
                listed.join(", ")
            ),
            Some(format!(
                "Add {add}, and remove the old MX records if those hosts no longer take mail \
                 for {domain}."
            )),
        ),
    }
}

fn messages(diags: &[Diagnostic], severity: Severity) -> Vec<String> {
    diags
        .iter()
        .filter(|d| d.severity == severity)
        .map(|d| d.message.clone())
        .collect()
}

/// The ip4:/ip6: term authorising `ip`.
fn ip_term(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("ip4:{v4}"),
        IpAddr::V6(v6) => format!("ip6:{v6}"),
    }
}

async fn check_spf<R: DnsResolver>(
    dns: &CheckDns<'_, R>,
    domain: &str,
    ip: Option<IpAddr>,
) -> CheckItem {
    const ID: &str = "spf";
    let title = format!("SPF record of {domain}");
    let txts = match found(dns.txt_records(domain).await) {
        Ok(t) => t,
        Err(e) => return unknown(ID, title, domain, &e),
    };
    let ip_part = ip.map(|i| format!(" {}", ip_term(i))).unwrap_or_default();
    let suggested = format!("v=spf1 mx{ip_part} ~all");
    let record = match select_spf_record(&txts) {
        Ok(Some(r)) => r.to_string(),
        Ok(None) => {
            return item(
                ID,
                title,
                Status::Fail,
                format!(
                    "{domain} publishes no SPF record, so receivers cannot tell which servers \
                     may send its mail"
                ),
                Some(format!("Add `{domain}. IN TXT \"{suggested}\"`.")),
            )
        }
        Err(e) => {
            return item(
                ID,
                title,
                Status::Fail,
                e.to_string(),
                Some(format!(
                    "Delete all but one TXT record starting with v=spf1 at {domain}, merging \
                     their terms, e.g. `{domain}. IN TXT \"{suggested}\"`."
                )),
            )
        }
    };

    let diags = validate_spf(&record);
    let errors = messages(&diags, Severity::Error);
    let warnings = messages(&diags, Severity::Warning);
    let mut problems: Vec<String> = Vec::new();
    let mut fixes: Vec<String> = Vec::new();
    if !errors.is_empty() {
        problems.extend(errors);
        fixes.push(format!(
            "Correct the TXT record at {domain} as described, e.g. `{domain}. IN TXT \
             \"{suggested}\"`."
        ));
    } else {
        match count_lookups(&record, dns).await {
            Ok(count) if !count.within_limit() => {
                problems.push(format!(
                    "evaluating it needs too many DNS lookups ({}), so receivers stop with \
                     permerror (RFC 7208 §4.6.4)",
                    count.summary()
                ));
                fixes.push(format!(
                    "Bring the record within {} lookups: replace a, mx, ptr, exists and \
                     include terms with ip4:/ip6: terms for the addresses they stand for.",
                    count.limit
                ));
            }
            Ok(_) => {}
            // DNS trouble while following includes says nothing about the
            // record itself.
            Err(e @ SpfError::Lookup { .. }) => {
                return item(
                    ID,
                    title,
                    Status::Warn,
                    format!("could not follow the includes of `{record}`: {e}"),
                    Some("Run the check again.".to_string()),
                )
            }
            Err(e) => {
                problems.push(e.to_string());
                fixes.push("Fix or remove the include/redirect named above.".to_string());
            }
        }
    }
    let mut passed_term = None;
    if let Some(ip) = ip {
        if problems.is_empty() {
            let result = authorises_ip(&record, ip, domain, dns).await;
            match result.outcome {
                SpfOutcome::Pass => passed_term = result.term,
                SpfOutcome::TempError => {
                    return item(
                        ID,
                        title,
                        Status::Warn,
                        format!("could not evaluate `{record}`: {}", result.reason),
                        Some("Run the check again.".to_string()),
                    )
                }
                outcome => {
                    problems.push(format!(
                        "`{record}` does not authorise the mail server {ip} (result {outcome}): {}",
                        result.reason
                    ));
                    let fixed = match record.split_once(' ') {
                        Some((version, rest)) => format!("{version} {} {rest}", ip_term(ip)),
                        None => format!("{record} {} ~all", ip_term(ip)),
                    };
                    fixes.push(format!(
                        "Add {} to the record: `{domain}. IN TXT \"{fixed}\"`.",
                        ip_term(ip)
                    ));
                }
            }
        }
    }
    if !problems.is_empty() {
        return item(
            ID,
            title,
            Status::Fail,
            problems.join("; "),
            Some(fixes.join(" ")),
        );
    }
    let what = match (ip, passed_term) {
        (Some(ip), Some(term)) => format!("`{record}` authorises {ip} (matched {term})"),
        _ => format!("`{record}` is valid (no mail server address to evaluate it for)"),
    };
    if warnings.is_empty() {
        item(ID, title, Status::Pass, what, None)
    } else {
        item(
            ID,
            title,
            Status::Warn,
            format!("{what}, but: {}", warnings.join("; ")),
            Some(format!("Adjust the TXT record at {domain} as described.")),
        )
    }
}

async fn check_dkim<R: DnsResolver>(
    dns: &CheckDns<'_, R>,
    domain: &str,
    selector: &str,
    pem: Option<&str>,
) -> CheckItem {
    let selector = normalise_name(selector);
    let id = format!("dkim:{selector}");
    let name = format!("{selector}._domainkey.{domain}");
    let title = format!("DKIM key {name}");
    // The record to publish, when the stored key tells us.
    let key = pem.map(DkimPrivateKey::from_pem);
    let expected = match &key {
        Some(Ok(k)) => k.public_record().ok(),
        _ => None,
    };
    if let Some(Err(e)) = &key {
        return item(
            &id,
            title,
            Status::Fail,
            format!("the stored private key for selector {selector} cannot be read: {e}"),
            Some(format!(
                "Store the signing key (PEM) for selector {selector} again, or generate a new \
                 key pair and publish its record at {name}."
            )),
        );
    }
    let publish = match &expected {
        Some(rec) => format!("`{name}. IN TXT {}`", to_zone_txt(rec)),
        None => format!("`{name}. IN TXT \"v=DKIM1; k=rsa; p=<the public key>\"`"),
    };
    let txts = match found(dns.txt_records(&name).await) {
        Ok(t) => t,
        Err(e) => return unknown(&id, title, &name, &e),
    };
    let candidates: Vec<&String> = txts.iter().filter(|t| t.contains("p=")).collect();
    let record = match candidates.as_slice() {
        [] if txts.is_empty() => {
            return item(
                &id,
                title,
                Status::Fail,
                format!(
                    "there is no TXT record at {name}, so receivers cannot verify signatures \
                     made with selector {selector}"
                ),
                Some(format!("Publish the public key: {publish}.")),
            )
        }
        [] => {
            return item(
                &id,
                title,
                Status::Fail,
                format!("the TXT record at {name} is not a DKIM key record (it has no p= tag)"),
                Some(format!("Replace it with {publish}.")),
            )
        }
        [one] => one.as_str(),
        many => {
            return item(
                &id,
                title,
                Status::Fail,
                format!(
                    "{name} has {} key records; receivers pick one arbitrarily, so \
                     signatures fail unpredictably",
                    many.len()
                ),
                Some(format!("Keep a single record: {publish}.")),
            )
        }
    };
    let parsed = match DkimKeyRecord::parse(record) {
        Ok(p) => p,
        Err(e) => {
            return item(
                &id,
                title,
                Status::Fail,
                format!("the key record at {name} is invalid: {e}"),
                Some(format!("Replace it with {publish}.")),
            )
        }
    };
    if parsed.is_revoked() {
        return item(
            &id,
            title,
            Status::Fail,
            format!("the key at {name} is revoked (empty p=), so every signature with selector {selector} fails"),
            Some(format!("If the server still signs with {selector}, publish {publish}.")),
        );
    }
    if let Some(pem) = pem {
        if !crate::mail::records::dkim::record_matches_private_key(record, pem) {
            return item(
                &id,
                title,
                Status::Fail,
                format!(
                    "the key published at {name} does not match the private key the mail \
                     server signs with, so receivers reject every signature"
                ),
                Some(format!("Replace the TXT record with {publish}.")),
            );
        }
    }
    let kind = match parsed.rsa_bits() {
        Some(bits) => format!("{bits}-bit RSA"),
        None => parsed.key_type.to_string(),
    };
    let matching = if pem.is_some() {
        ", matching the stored private key"
    } else {
        ""
    };
    let what = format!("{name} publishes a valid {kind} key{matching}");
    let warnings = messages(
        &crate::mail::records::dkim::validate_dkim(record),
        Severity::Warning,
    );
    if warnings.is_empty() {
        item(&id, title, Status::Pass, what, None)
    } else {
        item(
            &id,
            title,
            Status::Warn,
            format!("{what}, but: {}", warnings.join("; ")),
            Some(format!("Adjust the record at {name} as described.")),
        )
    }
}

async fn check_dmarc<R: DnsResolver>(dns: &CheckDns<'_, R>, domain: &str) -> CheckItem {
    const ID: &str = "dmarc";
    let name = format!("_dmarc.{domain}");
    let title = format!("DMARC policy at {name}");
    let suggested = format!(
        "`{name}. IN TXT \"v=DMARC1; p=none; rua=mailto:postmaster@{domain}\"`, then move to \
         p=quarantine once the reports show all your mail passes"
    );
    let txts = match found(dns.txt_records(&name).await) {
        Ok(t) => t,
        Err(e) => return unknown(ID, title, &name, &e),
    };
    // RFC 7489 §6.6.3: records not starting with v=DMARC1 are ignored.
    // Compared case-insensitively so a "v=dmarc1" typo is reported by the
    // validator rather than reported as missing.
    let candidates: Vec<&String> = txts
        .iter()
        .filter(|t| {
            t.trim_start()
                .get(..7)
                .is_some_and(|p| p.eq_ignore_ascii_case("v=dmarc"))
        })
        .collect();
    let record = match candidates.as_slice() {
        [] => {
            return item(
                ID,
                title,
                Status::Fail,
                format!(
                    "there is no DMARC record at {name}, so receivers apply no policy to mail \
                     forging {domain} and send you no reports"
                ),
                Some(format!("Add {suggested}.")),
            )
        }
        [one] => one.as_str(),
        many => {
            return item(
                ID,
                title,
                Status::Fail,
                format!(
                    "{name} has {} DMARC records; receivers then ignore DMARC for {domain} \
                     entirely (RFC 7489 §6.6.3)",
                    many.len()
                ),
                Some(format!("Keep a single record, e.g. {suggested}.")),
            )
        }
    };
    let diags = validate_dmarc(record);
    let errors = messages(&diags, Severity::Error);
    let warnings = messages(&diags, Severity::Warning);
    let notes = messages(&diags, Severity::Info);
    if !errors.is_empty() {
        return item(
            ID,
            title,
            Status::Fail,
            format!("`{record}` is invalid: {}", errors.join("; ")),
            Some(format!(
                "Correct the record as described, e.g. {suggested}."
            )),
        );
    }
    if !warnings.is_empty() {
        return item(
            ID,
            title,
            Status::Warn,
            format!("`{record}` is valid, but: {}", warnings.join("; ")),
            Some(format!("Adjust the record at {name} as described.")),
        );
    }
    let detail = if notes.is_empty() {
        format!("`{record}` is valid")
    } else {
        format!("`{record}` is valid ({})", notes.join("; "))
    };
    item(ID, title, Status::Pass, detail, None)
}

fn is_spamhaus(zone: &str) -> bool {
    zone == "spamhaus.org" || zone.ends_with(".spamhaus.org") || zone.ends_with(".spamhaus.net")
}

async fn check_dnsbl<R: DnsResolver>(
    dns: &CheckDns<'_, R>,
    zone: &str,
    ip: Option<IpAddr>,
) -> CheckItem {
    let zone = normalise_name(zone);
    let id = format!("dnsbl:{zone}");
    let title = format!("Blocklist {zone}");
    let Some(ip) = ip else {
        return item(
            &id,
            title,
            Status::Skipped,
            "no mail server address is known, so it cannot be looked up".to_string(),
            None,
        );
    };
    let qname = dnsbl_query_name(ip, &zone);
    let addrs = match found(dns.a(&qname).await) {
        Ok(a) => a,
        Err(e) => return unknown(&id, title, &qname, &e),
    };
    let outcome = interpret_dnsbl_answer(&addrs);
    match &outcome {
        DnsblOutcome::NotListed => item(
            &id,
            title,
            Status::Pass,
            format!("{ip} is not listed on {zone}"),
            None,
        ),
        DnsblOutcome::Listed { listings } => {
            let pbl =
                is_spamhaus(&zone) && listings.iter().any(|l| l.list.as_deref() == Some("PBL"));
            let fix = if pbl {
                format!(
                    "{ip} is in a range that should not send mail directly: ask your ISP for an \
                     address outside the Policy Block List (or to remove it), or relay \
                     outgoing mail through your ISP's smarthost. Check the listing at \
                     https://check.spamhaus.org/."
                )
            } else {
                format!(
                    "Find and stop the cause first (an open relay, a compromised account or \
                     host, mail sent without authentication), then request removal from the \
                     list's operator (for Spamhaus: https://check.spamhaus.org/, listing for \
                     {ip})."
                )
            };
            // The DNSBL module names codes by Spamhaus ZEN's meanings; on
            // another list the same code means something else, so only
            // the code itself is reported there.
            let detail = if is_spamhaus(&zone) {
                format!("{ip} is {} (on {zone})", outcome.message())
            } else {
                let codes: Vec<String> = listings.iter().map(|l| l.code.to_string()).collect();
                format!(
                    "{ip} is listed on {zone} (return code {})",
                    codes.join(", ")
                )
            };
            item(&id, title, Status::Fail, detail, Some(fix))
        }
        DnsblOutcome::BlocklistError { code, error } => {
            let fix = match error {
                DnsblError::PublicResolver => {
                    "Query the blocklist through your own recursive resolver (e.g. unbound on \
                     the mail server), not a public one such as 8.8.8.8 or 1.1.1.1, and run the \
                     check again."
                }
                DnsblError::TypingError => "Check the spelling of the blocklist zone.",
                DnsblError::ExcessiveQueries => {
                    "Your resolver sends the blocklist too many queries: use your own \
                     resolver, lower the query volume, or register for the operator's data \
                     service (Spamhaus DQS)."
                }
                DnsblError::Other => "Check the blocklist's documentation for this code.",
            };
            item(
                &id,
                title,
                Status::Warn,
                format!(
                    "{zone} answered {code}, which is an error from the blocklist, not a \
                     listing: {error}; whether {ip} is listed is unknown"
                ),
                Some(fix.to_string()),
            )
        }
        DnsblOutcome::UnexpectedAnswer { .. } => item(
            &id,
            title,
            Status::Warn,
            format!("{qname}: {}", outcome.message()),
            Some(
                "Use a resolver that returns NXDOMAIN unchanged (no \"search assist\" or \
                 ad redirection) and run the check again."
                    .to_string(),
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::check::dns::StaticDns;
    use crate::mail::records::dkim::{generate_ed25519, DkimKeyPair};
    use std::sync::OnceLock;

    const IP: &str = "192.0.2.10";

    fn ip() -> IpAddr {
        IP.parse().unwrap()
    }

    fn key() -> &'static DkimKeyPair {
        static KEY: OnceLock<DkimKeyPair> = OnceLock::new();
        KEY.get_or_init(|| generate_ed25519().unwrap())
    }

    /// A domain set up the way the paper's Table 1 and figure 3 ask.
    fn good() -> StaticDns {
        StaticDns::new()
            .with_mx("example.org", 10, "mail.example.org")
            .with_addr("mail.example.org", ip())
            .with_ptr(ip(), "mail.example.org")
            .with_txt("example.org", "v=spf1 mx -all")
            .with_txt("example.org", "google-site-verification=abc")
            .with_txt("mail._domainkey.example.org", &key().record)
            .with_txt(
                "_dmarc.example.org",
                "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.org",
            )
    }

    async fn run(dns: StaticDns) -> Report {
        let mut opts = CheckOptions::new(dns);
        opts.dkim = vec![(
            "mail".to_string(),
            Some(key().private_key.pem().to_string()),
        )];
        check("Example.ORG.", None, None, &opts).await
    }

    /// Every item of a check with the `mail` selector and the default
    /// blocklist, in order.
    const ITEM_IDS: [&str; 7] = [
        "host-address",
        "ptr",
        "mx",
        "spf",
        "dkim:mail",
        "dmarc",
        "dnsbl:zen.spamhaus.org",
    ];

    fn get<'r>(report: &'r Report, id: &str) -> &'r CheckItem {
        report
            .item(id)
            .unwrap_or_else(|| panic!("no item {id} in {report:#?}"))
    }

    #[tokio::test]
    async fn a_resolver_out_of_reach_is_named_once_with_its_fix() {
        use crate::mail::check::{HickoryDns, ResolverSettings};
        let dead = HickoryDns::new(&ResolverSettings {
            nameserver: Some("127.0.0.1:9".parse().unwrap()),
            timeout: std::time::Duration::from_millis(200),
            attempts: 1,
        })
        .unwrap();
        let mut opts = CheckOptions::new(dead);
        opts.dkim = vec![("mail".to_string(), None)];
        let report = check("example.org", Some("mail.example.org"), Some(ip()), &opts).await;
        let ids: Vec<&str> = report.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ITEM_IDS);
        for item in &report.items {
            assert_eq!(item.status, Status::Warn, "{item:#?}");
            assert!(item.detail.starts_with("could not check"), "{item:#?}");
            let fix = item.fix.as_deref().unwrap_or_default();
            assert!(
                fix.starts_with(
                    "Make the resolver reachable, then run the check again: the resolver \
                     127.0.0.1:9 does not answer ("
                ),
                "{item:#?}"
            );
        }
        // Only the first question went out; the others say so.
        assert!(
            get(&report, "dmarc")
                .detail
                .contains("(not asked: the resolver 127.0.0.1:9"),
            "{report:#?}"
        );
    }

    #[tokio::test]
    async fn good_domain_passes() {
        let report = run(good()).await;
        assert!(report.all_passed(), "{report:#?}");
        assert_eq!(report.domain, "example.org");
        assert_eq!(report.mail_host.as_deref(), Some("mail.example.org"));
        assert_eq!(report.mail_ip, Some(ip()));
        let ids: Vec<&str> = report.items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ITEM_IDS);
        assert_eq!(
            get(&report, "ptr").detail,
            "192.0.2.10 → mail.example.org → 192.0.2.10: the PTR names the mail host and is \
             forward-confirmed"
        );
        assert_eq!(
            get(&report, "spf").detail,
            "`v=spf1 mx -all` authorises 192.0.2.10 (matched mx)"
        );
        assert_eq!(
            get(&report, "dkim:mail").detail,
            "mail._domainkey.example.org publishes a valid ed25519 key, matching the stored \
             private key"
        );
        assert_eq!(
            get(&report, "dnsbl:zen.spamhaus.org").detail,
            "192.0.2.10 is not listed on zen.spamhaus.org"
        );
        assert!(report.items.iter().all(|i| i.fix.is_none()));
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["items"][1]["status"], "pass");
        assert_eq!(json["mail_ip"], IP);
    }

    #[tokio::test]
    async fn missing_ptr() {
        let dns = StaticDns::new()
            .with_mx("example.org", 10, "mail.example.org")
            .with_addr("mail.example.org", ip());
        let report = run(dns).await;
        let ptr = get(&report, "ptr");
        assert_eq!(ptr.status, Status::Fail);
        assert_eq!(
            ptr.detail,
            "192.0.2.10 has no PTR record; receiving servers trace the sending address back to \
             a name and reject or spam-file mail from addresses without one"
        );
        assert_eq!(
            ptr.fix.as_deref(),
            Some(
                "The reverse zone 2.0.192.in-addr.arpa usually belongs to whoever assigned you \
                 192.0.2.10 (your ISP or hosting provider), not to you: ask them to set the \
                 PTR record `10.2.0.192.in-addr.arpa. IN PTR mail.example.org.`; if you run \
                 that zone yourself, add the record there."
            )
        );
        assert!(!report.all_passed());
    }

    #[tokio::test]
    async fn ptr_not_forward_confirmed() {
        // The ISP's generic name, which resolves to another address.
        let dns = StaticDns::new()
            .with_mx("example.org", 10, "mail.example.org")
            .with_addr("mail.example.org", ip())
            .with_ptr(ip(), "host-10.pool.isp.example")
            .with_addr("host-10.pool.isp.example", "198.51.100.7".parse().unwrap());
        let report = run(dns).await;
        let ptr = get(&report, "ptr");
        assert_eq!(ptr.status, Status::Fail);
        assert_eq!(
            ptr.detail,
            "the PTR of 192.0.2.10 is host-10.pool.isp.example, but host-10.pool.isp.example \
             does not resolve back to 192.0.2.10, so forward-confirmed reverse DNS fails and \
             receivers treat the address as having no valid name"
        );
        let fix = ptr.fix.as_deref().unwrap();
        assert!(
            fix.starts_with("The reverse zone 2.0.192.in-addr.arpa usually belongs to"),
            "{fix}"
        );
        assert!(
            fix.ends_with("Then make sure `mail.example.org. IN A 192.0.2.10` exists."),
            "{fix}"
        );
    }

    #[tokio::test]
    async fn ptr_names_host_but_host_points_elsewhere() {
        // PTR is right, but the A record was changed: the fix is ours, not
        // the ISP's.
        let dns = StaticDns::new()
            .with_mx("example.org", 10, "mail.example.org")
            .with_addr("mail.example.org", "192.0.2.99".parse().unwrap())
            .with_ptr(ip(), "mail.example.org");
        let mut opts = CheckOptions::new(dns);
        opts.dnsbl_zones.clear();
        let report = check("example.org", None, Some(ip()), &opts).await;
        let ptr = get(&report, "ptr");
        assert_eq!(ptr.status, Status::Fail);
        assert_eq!(
            ptr.fix.as_deref(),
            Some("Make the name resolve back to the address: add `mail.example.org. IN A 192.0.2.10`.")
        );
        let a = get(&report, "host-address");
        assert_eq!(
            a.detail,
            "mail.example.org resolves to 192.0.2.99, not to the mail server's address 192.0.2.10"
        );
        assert_eq!(
            a.fix.as_deref(),
            Some(
                "Point the name at the server: `mail.example.org. IN A 192.0.2.10` (replacing \
                 the old address record)."
            )
        );
    }

    #[tokio::test]
    async fn ptr_confirmed_but_not_the_mail_host() {
        let dns = good()
            .with_ptr("192.0.2.11".parse().unwrap(), "other.example.org")
            .with_addr("other.example.org", "192.0.2.11".parse().unwrap());
        let mut opts = CheckOptions::new(dns);
        opts.dnsbl_zones.clear();
        let report = check(
            "example.org",
            None,
            Some("192.0.2.11".parse().unwrap()),
            &opts,
        )
        .await;
        let ptr = get(&report, "ptr");
        assert_eq!(
            ptr.detail,
            "the PTR of 192.0.2.11 is other.example.org (forward-confirmed), not the mail host \
             mail.example.org; receivers compare it with the name the server greets them with"
        );
        assert!(ptr
            .fix
            .as_deref()
            .unwrap()
            .ends_with("Alternatively make the mail server use other.example.org as its host name (Postfix myhostname) and point the MX at it."));
    }

    #[tokio::test]
    async fn spf_without_the_ip() {
        let dns = good().with_txt("example.org", "v=spf1 ip4:198.51.100.0/24 -all");
        // Two SPF records now: first check that this is caught …
        let report = run(dns).await;
        let spf = get(&report, "spf");
        assert_eq!(spf.status, Status::Fail);
        assert!(
            spf.detail.starts_with("found 2 SPF records"),
            "{}",
            spf.detail
        );

        // … then the record that simply leaves the server out.
        let dns = StaticDns::new()
            .with_mx("example.org", 10, "mail.example.org")
            .with_addr("mail.example.org", ip())
            .with_ptr(ip(), "mail.example.org")
            .with_txt("example.org", "v=spf1 ip4:198.51.100.0/24 -all");
        let report = run(dns).await;
        let spf = get(&report, "spf");
        assert_eq!(spf.status, Status::Fail);
        assert_eq!(
            spf.detail,
            "`v=spf1 ip4:198.51.100.0/24 -all` does not authorise the mail server 192.0.2.10 \
             (result fail): 192.0.2.10 matched \"-all\" in the SPF record of example.org: fail"
        );
        assert_eq!(
            spf.fix.as_deref(),
            Some(
                "Add ip4:192.0.2.10 to the record: `example.org. IN TXT \"v=spf1 \
                 ip4:192.0.2.10 ip4:198.51.100.0/24 -all\"`."
            )
        );
    }

    #[tokio::test]
    async fn spf_missing() {
        let dns = StaticDns::new()
            .with_mx("example.org", 10, "mail.example.org")
            .with_addr("mail.example.org", ip());
        let spf = run(dns).await.items[3].clone();
        assert_eq!(spf.id, "spf");
        assert_eq!(
            spf.detail,
            "example.org publishes no SPF record, so receivers cannot tell which servers may \
             send its mail"
        );
        assert_eq!(
            spf.fix.as_deref(),
            Some("Add `example.org. IN TXT \"v=spf1 mx ip4:192.0.2.10 ~all\"`.")
        );
    }

    #[tokio::test]
    async fn spf_over_ten_lookups() {
        let five = "v=spf1 a:h1.example.net a:h2.example.net a:h3.example.net \
                    a:h4.example.net a:h5.example.net -all";
        let dns = StaticDns::new()
            .with_mx("example.org", 10, "mail.example.org")
            .with_addr("mail.example.org", ip())
            .with_ptr(ip(), "mail.example.org")
            .with_txt(
                "example.org",
                "v=spf1 include:_spf1.example.net include:_spf2.example.net ip4:192.0.2.10 -all",
            )
            .with_txt("_spf1.example.net", five)
            .with_txt("_spf2.example.net", five);
        let report = run(dns).await;
        let spf = get(&report, "spf");
        assert_eq!(spf.status, Status::Fail);
        assert_eq!(
            spf.detail,
            "evaluating it needs too many DNS lookups (include:_spf2.example.net → \
             a:h4.example.net: 12 lookups, the limit is 10), so receivers stop with permerror \
             (RFC 7208 §4.6.4)"
        );
        assert_eq!(
            spf.fix.as_deref(),
            Some(
                "Bring the record within 10 lookups: replace a, mx, ptr, exists and include \
                 terms with ip4:/ip6: terms for the addresses they stand for."
            )
        );
    }

    #[tokio::test]
    async fn spf_include_trouble() {
        let base = || {
            StaticDns::new()
                .with_mx("example.org", 10, "mail.example.org")
                .with_addr("mail.example.org", ip())
                .with_txt(
                    "example.org",
                    "v=spf1 include:_spf.provider.example mx -all",
                )
        };
        // The included name does not answer: unknown, not wrong.
        let report = run(base().with_failure("_spf.provider.example")).await;
        let spf = get(&report, "spf");
        assert_eq!(spf.status, Status::Warn);
        assert!(
            spf.detail
                .starts_with("could not follow the includes of `v=spf1 include:_spf.provider.example mx -all`: DNS lookup of _spf.provider.example failed"),
            "{}",
            spf.detail
        );
        // The included name has no SPF record: receivers permerror.
        let report = run(base()).await;
        let spf = get(&report, "spf");
        assert_eq!(spf.status, Status::Fail);
        assert_eq!(
            spf.detail,
            "\"include:_spf.provider.example\": _spf.provider.example has no SPF record, so \
             receivers return permerror whenever they reach this term"
        );
    }

    #[tokio::test]
    async fn dkim_mismatch_and_missing() {
        let other = generate_ed25519().unwrap();
        let dns = StaticDns::new()
            .with_mx("example.org", 10, "mail.example.org")
            .with_addr("mail.example.org", ip())
            .with_txt("mail._domainkey.example.org", &other.record);
        let report = run(dns).await;
        let dkim = get(&report, "dkim:mail");
        assert_eq!(dkim.status, Status::Fail);
        assert_eq!(
            dkim.detail,
            "the key published at mail._domainkey.example.org does not match the private key \
             the mail server signs with, so receivers reject every signature"
        );
        assert_eq!(
            dkim.fix.as_deref().unwrap(),
            format!(
                "Replace the TXT record with `mail._domainkey.example.org. IN TXT \"{}\"`.",
                key().record
            )
        );

        let mut opts = CheckOptions::new(good());
        opts.dkim = vec![("s2025".to_string(), None)];
        let report = check("example.org", None, None, &opts).await;
        let dkim = get(&report, "dkim:s2025");
        assert_eq!(
            dkim.detail,
            "there is no TXT record at s2025._domainkey.example.org, so receivers cannot verify \
             signatures made with selector s2025"
        );
        assert_eq!(
            dkim.fix.as_deref(),
            Some(
                "Publish the public key: `s2025._domainkey.example.org. IN TXT \"v=DKIM1; \
                 k=rsa; p=<the public key>\"`."
            )
        );
    }

    #[tokio::test]
    async fn dmarc_missing_and_invalid() {
        let dns = StaticDns::new()
            .with_mx("example.org", 10, "mail.example.org")
            .with_addr("mail.example.org", ip())
            .with_txt("_dmarc.example.org", "some-other-token");
        let report = run(dns).await;
        let dmarc = get(&report, "dmarc");
        assert_eq!(dmarc.status, Status::Fail);
        assert_eq!(
            dmarc.detail,
            "there is no DMARC record at _dmarc.example.org, so receivers apply no policy to \
             mail forging example.org and send you no reports"
        );
        assert_eq!(
            dmarc.fix.as_deref(),
            Some(
                "Add `_dmarc.example.org. IN TXT \"v=DMARC1; p=none; \
                 rua=mailto:postmaster@example.org\"`, then move to p=quarantine once the \
                 reports show all your mail passes."
            )
        );

        let report = run(good().with_txt("_dmarc.other.example", "x")).await;
        assert_eq!(get(&report, "dmarc").status, Status::Pass);
        let dns = StaticDns::new().with_txt("_dmarc.example.org", "v=DMARC1; p=maybe");
        let report = run(dns).await;
        let dmarc = get(&report, "dmarc");
        assert_eq!(dmarc.status, Status::Fail);
        assert!(
            dmarc.detail.starts_with("`v=DMARC1; p=maybe` is invalid: "),
            "{}",
            dmarc.detail
        );
    }

    #[tokio::test]
    async fn listed_ip() {
        let report =
            run(good().with_addr("10.2.0.192.zen.spamhaus.org", "127.0.0.2".parse().unwrap()))
                .await;
        let bl = get(&report, "dnsbl:zen.spamhaus.org");
        assert_eq!(bl.status, Status::Fail);
        assert_eq!(
            bl.detail,
            "192.0.2.10 is listed: SBL (127.0.0.2): a known spam source or spam operation (on \
             zen.spamhaus.org)"
        );
        assert_eq!(
            bl.fix.as_deref(),
            Some(
                "Find and stop the cause first (an open relay, a compromised account or host, \
                 mail sent without authentication), then request removal from the list's \
                 operator (for Spamhaus: https://check.spamhaus.org/, listing for 192.0.2.10)."
            )
        );
        let report =
            run(good().with_addr("10.2.0.192.zen.spamhaus.org", "127.0.0.10".parse().unwrap()))
                .await;
        let fix = get(&report, "dnsbl:zen.spamhaus.org").fix.clone().unwrap();
        assert!(fix.contains("Policy Block List"), "{fix}");
    }

    #[tokio::test]
    async fn other_lists_are_not_given_spamhaus_meanings() {
        let mut opts = CheckOptions::new(
            good().with_addr("10.2.0.192.bl.example", "127.0.0.2".parse().unwrap()),
        );
        opts.dnsbl_zones = vec!["bl.example".to_string()];
        let report = check("example.org", None, None, &opts).await;
        assert_eq!(
            get(&report, "dnsbl:bl.example").detail,
            "192.0.2.10 is listed on bl.example (return code 127.0.0.2)"
        );
    }

    #[tokio::test]
    async fn blocklist_error_is_a_warning_not_a_listing() {
        let report = run(good().with_addr(
            "10.2.0.192.zen.spamhaus.org",
            "127.255.255.254".parse().unwrap(),
        ))
        .await;
        let bl = get(&report, "dnsbl:zen.spamhaus.org");
        assert_eq!(bl.status, Status::Warn);
        assert_eq!(
            bl.detail,
            "zen.spamhaus.org answered 127.255.255.254, which is an error from the blocklist, \
             not a listing: the blocklist refuses queries that come through a public or open \
             resolver; query it through your own recursive resolver, not 8.8.8.8 or 1.1.1.1; \
             whether 192.0.2.10 is listed is unknown"
        );
        assert_eq!(
            bl.fix.as_deref(),
            Some(
                "Query the blocklist through your own recursive resolver (e.g. unbound on the \
                 mail server), not a public one such as 8.8.8.8 or 1.1.1.1, and run the check \
                 again."
            )
        );
        assert!(!report.all_passed());
    }

    #[tokio::test]
    async fn no_mx_and_dns_trouble() {
        let report = run(StaticDns::new()).await;
        let a = get(&report, "host-address");
        assert_eq!(a.status, Status::Fail);
        assert_eq!(
            a.fix.as_deref(),
            Some(
                "Add an MX record and an address for the host: `example.org. IN MX 10 \
                 mail.example.org.` and `mail.example.org. IN A <the server's public IPv4 \
                 address>`."
            )
        );
        assert_eq!(get(&report, "ptr").status, Status::Skipped);
        assert_eq!(
            get(&report, "mx").fix.as_deref(),
            Some("Add `example.org. IN MX 10 mail.example.org.`.")
        );
        assert_eq!(
            get(&report, "dnsbl:zen.spamhaus.org").status,
            Status::Skipped
        );

        let report = run(good().with_failure("_dmarc.example.org")).await;
        let dmarc = get(&report, "dmarc");
        assert_eq!(dmarc.status, Status::Warn);
        assert_eq!(
            dmarc.detail,
            "could not check: the DNS lookup of _dmarc.example.org failed (SERVFAIL for \
             _dmarc.example.org (simulated))"
        );
    }

    #[tokio::test]
    async fn explicit_host_not_in_mx() {
        let dns = good().with_addr("mx2.example.org", "192.0.2.20".parse().unwrap());
        let opts = CheckOptions::new(dns);
        let report = check("example.org", Some("MX2.example.org."), None, &opts).await;
        let mx = get(&report, "mx");
        assert_eq!(mx.status, Status::Fail);
        assert_eq!(
            mx.detail,
            "the MX records of example.org (10 mail.example.org) do not lead to mx2.example.org"
        );
        assert_eq!(report.mail_ip, Some("192.0.2.20".parse().unwrap()));
    }

    #[test]
    fn options_debug_hides_keys() {
        let mut opts = CheckOptions::new(StaticDns::new());
        opts.dkim = vec![(
            "mail".to_string(),
            Some("-----BEGIN PRIVATE KEY-----".to_string()),
        )];
        let shown = format!("{opts:?}");
        assert!(!shown.contains("BEGIN"), "{shown}");
        assert!(shown.contains("zen.spamhaus.org"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn check_runs_on_a_runtime_worker() {
        let opts = CheckOptions::new(good());
        let report = check("example.org", None, None, &opts).await;
        assert_eq!(report.mail_ip, Some(ip()));
    }
}

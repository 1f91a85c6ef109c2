//! Form input to typed values, with the message for the field that is wrong.
//!
//! The record logic in [`crate::mail::records`] and the row types in
//! `mail::check::mailstore` do the real validation; this module only turns
//! what a person typed into their inputs (one field per input, lists one per
//! line or separated by spaces) and names the field when something is wrong,
//! so the page can show the message next to it. Pure: tested without a server.

use crate::dns::zone::{HostNameError, Name, NameError};
use crate::error::Invalid;
use crate::mail::records::dmarc::{Alignment, DmarcPolicy, DmarcRecord, DmarcUri, FailureOption};
use crate::mail::records::spf::{Ip4Net, Ip6Net, Qualifier, SpfBuilder};
use crate::mail::{DmarcChoices, SpfChoices};
use std::net::IpAddr;

/// Splits a list typed one per line, or separated by spaces or commas.
pub fn list(input: &str) -> Vec<String> {
    input
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A domain name as mail uses it: lower case, no trailing dot, two labels
/// or more. The message is the mail store's own.
pub fn domain(field: &str, input: &str) -> Result<String, Invalid> {
    crate::mail::check::mailstore::valid_domain(input)
        .map_err(|e| Invalid::new(field, e.to_string()))
}

/// `true` for the values an HTML checkbox or select sends for "yes".
pub fn flag(input: &str) -> bool {
    matches!(input.trim(), "on" | "true" | "1" | "yes")
}

/// A DKIM selector: one or more host-name labels (`mail`, `2026-11`,
/// `s1.eu`), read as a [`Name`] like every other DNS name.
pub fn selector(input: &str) -> Result<String, Invalid> {
    let field = "selector";
    let name = Name::host(input, 1).map_err(|e| {
        let message = match e {
            HostNameError::Name(NameError::Empty) => {
                "Enter a selector, such as mail or 2026.".to_string()
            }
            HostNameError::NotLdh(label) | HostNameError::EdgeHyphen(label) => {
                format!("\"{label}\" is not a DNS label: use letters, digits and inner hyphens.")
            }
            HostNameError::Name(NameError::EmptyLabel | NameError::LabelTooLong { .. }) => {
                "Each part of the selector needs 1 to 63 characters.".to_string()
            }
            other => format!("The selector is not a DNS name: {other}."),
        };
        Invalid::new(field, message)
    })?;
    // `selector._domainkey.domain.` must still fit in a name.
    if name.without_dot().len() > 200 {
        return Err(Invalid::new(field, "The selector is too long."));
    }
    Ok(name.without_dot().to_string())
}

/// A quota typed in MiB (empty or 0 = no limit), as bytes.
pub fn quota_mib(input: &str) -> Result<u64, Invalid> {
    let t = input.trim();
    if t.is_empty() {
        return Ok(0);
    }
    let mib: u64 = t.parse().map_err(|_| {
        Invalid::new(
            "quota_mib",
            format!("\"{t}\" is not a whole number of MiB; leave it empty or 0 for no limit."),
        )
    })?;
    mib.checked_mul(1024 * 1024)
        .filter(|b| i64::try_from(*b).is_ok())
        .ok_or_else(|| Invalid::new("quota_mib", "That quota is too large."))
}

/// What the readiness check is told about the mail server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckSettings {
    pub mail_host: Option<String>,
    pub mail_ip: Option<IpAddr>,
    pub dnsbl_zones: Vec<String>,
    /// `IP:PORT`; `None` = the system's resolver.
    pub resolver: Option<std::net::SocketAddr>,
}

/// Parses the settings form (also used for what is stored, which went
/// through it).
pub fn check_settings(
    mail_host: &str,
    mail_ip: &str,
    dnsbl_zones: &str,
    resolver: &str,
) -> Result<CheckSettings, Invalid> {
    let mail_host = match mail_host.trim() {
        "" => None,
        h => Some(domain("mail_host", h)?),
    };
    let mail_ip = match mail_ip.trim() {
        "" => None,
        ip => Some(ip.parse::<IpAddr>().map_err(|_| {
            Invalid::new(
                "mail_ip",
                format!("\"{ip}\" is not an IPv4 or IPv6 address, such as 192.0.2.25."),
            )
        })?),
    };
    let mut zones = Vec::new();
    for z in list(dnsbl_zones) {
        let z = domain("dnsbl_zones", &z)?;
        if !zones.contains(&z) {
            zones.push(z);
        }
    }
    if zones.len() > MAX_DNSBL_ZONES {
        return Err(Invalid::new(
            "dnsbl_zones",
            format!(
                "At most {MAX_DNSBL_ZONES} blocklists: the check asks each of them, and \
                 {} is more than a mail server is usually listed on.",
                zones.len()
            ),
        ));
    }
    let resolver = match resolver.trim() {
        "" => None,
        r => Some(parse_nameserver(r)?),
    };
    Ok(CheckSettings {
        mail_host,
        mail_ip,
        dnsbl_zones: zones,
        resolver,
    })
}

/// How many blocklists the readiness check asks at most.
pub const MAX_DNSBL_ZONES: usize = 8;

/// Whether the readiness check may ask `addr`: unless the server's
/// configuration allows any resolver (`--mail-resolver-any`), port 53 on an
/// address that is not loopback, link-local, multicast or unspecified, so
/// the check cannot be turned on the server's own neighbourhood.
pub fn resolver_allowed(addr: std::net::SocketAddr, any: bool) -> Result<(), Invalid> {
    if any {
        return Ok(());
    }
    let ip = addr.ip();
    let local = match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_unspecified()
                || v4.is_broadcast()
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_multicast()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6.to_ipv4_mapped().is_some()
        }
    };
    if local {
        return Err(Invalid::new(
            "resolver",
            format!(
                "{ip} is a loopback, link-local or multicast address: the check does not ask \
                 those (the server's --mail-resolver-any option allows it)."
            ),
        ));
    }
    if addr.port() != 53 {
        return Err(Invalid::new(
            "resolver",
            format!(
                "Port {} is not DNS's: the check asks resolvers on port 53 only (the \
                 server's --mail-resolver-any option allows others).",
                addr.port()
            ),
        ));
    }
    Ok(())
}

/// `IP`, `IP:PORT` or `[IPv6]:PORT` (port 53 when left out).
pub fn parse_nameserver(input: &str) -> Result<std::net::SocketAddr, Invalid> {
    let t = input.trim();
    if let Ok(addr) = t.parse::<std::net::SocketAddr>() {
        return Ok(addr);
    }
    if let Ok(ip) = t.parse::<IpAddr>() {
        return Ok(std::net::SocketAddr::new(ip, 53));
    }
    Err(Invalid::new(
        "resolver",
        format!(
            "\"{t}\" is not a resolver address; write e.g. 192.0.2.53, 192.0.2.53:5353 or \
             [2001:db8::53]:53, or leave it empty for the system's."
        ),
    ))
}

/// The choices as an [`SpfBuilder`], naming the field of the first mistake.
pub fn spf_builder(c: &SpfChoices) -> Result<SpfBuilder, Invalid> {
    let all = match c.all.trim() {
        "-" | "fail" | "" => Qualifier::Fail,
        "~" | "softfail" => Qualifier::SoftFail,
        "?" | "neutral" => Qualifier::Neutral,
        "+" | "pass" => {
            return Err(Invalid::new(
                "all",
                "+all authorises every server on the Internet to send as this domain; choose \
                 -all (reject), ~all (mark) or ?all (neutral).",
            ))
        }
        other => {
            return Err(Invalid::new(
                "all",
                format!("\"{other}\" is not a qualifier: choose -, ~ or ?."),
            ))
        }
    };
    let mut b = SpfBuilder::new(all);
    b.a = flag(&c.a);
    b.mx = flag(&c.mx);
    for net in list(&c.ip4) {
        let net = net.strip_prefix("ip4:").unwrap_or(&net).to_owned();
        b.ip4.push(
            net.parse::<Ip4Net>()
                .map_err(|e| Invalid::new("ip4", format!("{net}: {e}")))?,
        );
    }
    for net in list(&c.ip6) {
        let net = net.strip_prefix("ip6:").unwrap_or(&net).to_owned();
        b.ip6.push(
            net.parse::<Ip6Net>()
                .map_err(|e| Invalid::new("ip6", format!("{net}: {e}")))?,
        );
    }
    for d in list(&c.include) {
        let d = d.strip_prefix("include:").unwrap_or(&d).to_owned();
        b.include.push(d);
    }
    if !(b.a || b.mx) && b.ip4.is_empty() && b.ip6.is_empty() && b.include.is_empty() {
        return Err(Invalid::new(
            "ip4",
            "Choose at least one sender (a, mx, an address or an include); a record with only \
             -all says no server may send mail for this domain.",
        ));
    }
    Ok(b)
}

fn policy(field: &str, input: &str) -> Result<Option<DmarcPolicy>, Invalid> {
    Ok(match input.trim() {
        "" => None,
        "none" => Some(DmarcPolicy::None),
        "quarantine" => Some(DmarcPolicy::Quarantine),
        "reject" => Some(DmarcPolicy::Reject),
        other => {
            return Err(Invalid::new(
                field,
                format!("\"{other}\" is not a policy: choose none, quarantine or reject."),
            ))
        }
    })
}

fn alignment(field: &str, input: &str) -> Result<Option<Alignment>, Invalid> {
    Ok(match input.trim() {
        "" => None,
        "r" | "relaxed" => Some(Alignment::Relaxed),
        "s" | "strict" => Some(Alignment::Strict),
        other => {
            return Err(Invalid::new(
                field,
                format!("\"{other}\" is not an alignment mode: choose r (relaxed) or s (strict)."),
            ))
        }
    })
}

fn report_uris(field: &str, input: &str) -> Result<Vec<DmarcUri>, Invalid> {
    let mut out = Vec::new();
    for item in list(input) {
        let uri = if item.contains(':') {
            item.clone()
        } else {
            format!("mailto:{item}")
        };
        let Some(address) = uri.strip_prefix("mailto:") else {
            return Err(Invalid::new(
                field,
                format!("{item}: reports go to mail addresses (mailto:dmarc@example.org)."),
            ));
        };
        let address = address.split('!').next().unwrap_or_default();
        if crate::mail::check::mailstore::valid_address(address).is_err() {
            return Err(Invalid::new(
                field,
                format!("\"{address}\" is not a mail address such as dmarc@example.org."),
            ));
        }
        out.push(DmarcUri {
            uri: format!("mailto:{address}"),
            max_size: None,
        });
    }
    Ok(out)
}

/// The fields as a [`DmarcRecord`] (built and checked by
/// [`DmarcRecord::build`] afterwards).
pub fn dmarc_record(c: &DmarcChoices) -> Result<DmarcRecord, Invalid> {
    let p = policy("p", &c.p)?.ok_or_else(|| {
        Invalid::new(
            "p",
            "Choose a policy: none (monitor), quarantine or reject.",
        )
    })?;
    let mut r = DmarcRecord::new(p);
    r.subdomain_policy = policy("sp", &c.sp)?;
    r.pct = match c.pct.trim() {
        "" => None,
        t => Some(t.parse::<u8>().ok().filter(|n| *n <= 100).ok_or_else(|| {
            Invalid::new("pct", format!("\"{t}\" is not a percentage from 0 to 100."))
        })?),
    };
    r.rua = report_uris("rua", &c.rua)?;
    r.ruf = report_uris("ruf", &c.ruf)?;
    r.adkim = alignment("adkim", &c.adkim)?;
    r.aspf = alignment("aspf", &c.aspf)?;
    for o in
        c.fo.split(|ch: char| ch.is_whitespace() || ch == ',' || ch == ':')
            .filter(|s| !s.is_empty())
    {
        let opt = match o {
            "0" => FailureOption::All,
            "1" => FailureOption::Any,
            "d" => FailureOption::Dkim,
            "s" => FailureOption::Spf,
            other => {
                return Err(Invalid::new(
                    "fo",
                    format!("\"{other}\" is not a failure option: use 0, 1, d or s."),
                ))
            }
        };
        if !r.fo.contains(&opt) {
            r.fo.push(opt);
        }
    }
    if !r.fo.is_empty() && r.ruf.is_empty() {
        return Err(Invalid::new(
            "fo",
            "Failure options only matter with a failure report address (ruf); add one or leave \
             fo empty.",
        ));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(e: Invalid) -> String {
        e.field
    }

    #[test]
    fn spf_from_choices_builds_the_record() {
        let c = SpfChoices {
            mx: "on".into(),
            ip4: "192.0.2.10\n198.51.100.0/24".into(),
            include: "_spf.google.com".into(),
            all: "~".into(),
            ..SpfChoices::default()
        };
        let record = spf_builder(&c).unwrap().build().unwrap();
        assert_eq!(
            record,
            "v=spf1 ip4:192.0.2.10 ip4:198.51.100.0/24 mx include:_spf.google.com ~all"
        );
    }

    #[test]
    fn spf_mistakes_name_their_field() {
        let bad_ip = SpfChoices {
            ip4: "192.0.2.300".into(),
            ..SpfChoices::default()
        };
        assert_eq!(field(spf_builder(&bad_ip).unwrap_err()), "ip4");
        let pass_all = SpfChoices {
            mx: "on".into(),
            all: "+".into(),
            ..SpfChoices::default()
        };
        let e = spf_builder(&pass_all).unwrap_err();
        assert!(
            e.to_string().contains("+all authorises every server"),
            "{e}"
        );
        assert_eq!(field(e), "all");
        assert_eq!(
            field(spf_builder(&SpfChoices::default()).unwrap_err()),
            "ip4"
        );
        let v6 = SpfChoices {
            ip6: "2001:db8::/129".into(),
            ..SpfChoices::default()
        };
        assert_eq!(field(spf_builder(&v6).unwrap_err()), "ip6");
    }

    #[test]
    fn dmarc_from_fields() {
        let c = DmarcChoices {
            p: "quarantine".into(),
            sp: "reject".into(),
            pct: "50".into(),
            rua: "dmarc@example.org".into(),
            ruf: "mailto:forensic@example.org".into(),
            adkim: "s".into(),
            aspf: "r".into(),
            fo: "1:d".into(),
        };
        let text = dmarc_record(&c).unwrap().build().unwrap();
        assert_eq!(
            text,
            "v=DMARC1; p=quarantine; sp=reject; rua=mailto:dmarc@example.org; \
             ruf=mailto:forensic@example.org; adkim=s; aspf=r; fo=1:d; pct=50"
        );
        for (c, f) in [
            (DmarcChoices::default(), "p"),
            (
                DmarcChoices {
                    p: "none".into(),
                    pct: "101".into(),
                    ..DmarcChoices::default()
                },
                "pct",
            ),
            (
                DmarcChoices {
                    p: "none".into(),
                    rua: "not-an-address".into(),
                    ..DmarcChoices::default()
                },
                "rua",
            ),
            (
                DmarcChoices {
                    p: "none".into(),
                    fo: "1".into(),
                    ..DmarcChoices::default()
                },
                "fo",
            ),
            (
                DmarcChoices {
                    p: "none".into(),
                    adkim: "x".into(),
                    ..DmarcChoices::default()
                },
                "adkim",
            ),
        ] {
            assert_eq!(field(dmarc_record(&c).unwrap_err()), f, "{c:?}");
        }
    }

    #[test]
    fn settings_and_small_fields() {
        let s = check_settings(
            "Mail.Example.org.",
            "192.0.2.25",
            "zen.spamhaus.org bl.test\nbl.test",
            "127.0.0.1:5353",
        )
        .unwrap();
        assert_eq!(s.mail_host.as_deref(), Some("mail.example.org"));
        assert_eq!(s.dnsbl_zones, ["zen.spamhaus.org", "bl.test"]);
        assert_eq!(s.resolver, Some("127.0.0.1:5353".parse().unwrap()));
        assert_eq!(
            field(check_settings("", "192.0.2", "", "").unwrap_err()),
            "mail_ip"
        );
        assert_eq!(
            field(check_settings("", "", "", "resolver.example").unwrap_err()),
            "resolver"
        );
        assert_eq!(
            field(check_settings("-x", "", "", "").unwrap_err()),
            "mail_host"
        );
        assert_eq!(selector(" Mail ").unwrap(), "mail");
        assert_eq!(field(selector("bad_sel").unwrap_err()), "selector");
        assert_eq!(quota_mib("").unwrap(), 0);
        assert_eq!(quota_mib("2").unwrap(), 2 * 1024 * 1024);
        assert_eq!(field(quota_mib("2GB").unwrap_err()), "quota_mib");
    }

    #[test]
    fn the_check_asks_public_resolvers_on_port_53_and_few_blocklists() {
        let addr = |s: &str| parse_nameserver(s).unwrap();
        for ok in ["192.0.2.53", "[2001:db8::53]:53", "9.9.9.9"] {
            assert_eq!(resolver_allowed(addr(ok), false), Ok(()), "{ok}");
        }
        for (bad, says) in [
            ("127.0.0.1", "loopback"),
            ("169.254.169.254", "link-local"),
            ("224.0.0.251:5353", "multicast"),
            ("[::1]:53", "loopback"),
            ("[fe80::1]:53", "link-local"),
            ("[::ffff:127.0.0.1]:53", "loopback"),
            ("0.0.0.0", "loopback"),
            ("192.0.2.53:6379", "Port 6379"),
        ] {
            let e = resolver_allowed(addr(bad), false).unwrap_err();
            assert_eq!(e.field, "resolver");
            assert!(e.message.contains(says), "{bad}: {}", e.message);
        }
        assert_eq!(resolver_allowed(addr("127.0.0.1:5353"), true), Ok(()));
        let many: String = (0..9).map(|i| format!("bl{i}.test ")).collect();
        let e = check_settings("", "", &many, "").unwrap_err();
        assert_eq!(e.field, "dnsbl_zones");
        assert!(check_settings("", "", "a.test b.test", "").is_ok());
    }
}

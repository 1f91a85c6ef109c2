//! DNS blocklist (DNSBL) helpers (RFC 5782).
//!
//! A mail server's address is looked up as `<reversed address>.<zone>`:
//! an A answer in 127.0.0.0/8 means "listed", NXDOMAIN means "not listed".
//! Spamhaus also answers 127.255.255.252/254/255 to say the *query* was
//! bad (mistyped zone, public resolver, too many queries). Those are easy
//! to misread as listings, so [`interpret_dnsbl_answer`] keeps them apart.
//! The meanings of 127.0.0.x codes follow Spamhaus ZEN; other lists use
//! 127.0.0.2 for a plain "listed" and their own codes beyond it.

use crate::dns::zone::reverse::reverse_name;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr};

/// The name to query for `ip` in `zone`: octets reversed for IPv4
/// (`2.0.0.127.zen.spamhaus.org`), nibbles reversed for IPv6 (RFC 5782
/// §2.4). IPv4-mapped IPv6 addresses are queried as IPv4, since that is
/// the address the blocklist knows.
pub fn dnsbl_query_name(ip: IpAddr, zone: &str) -> String {
    let zone = zone.trim_matches('.');
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    };
    // The PTR name's address labels, without `in-addr.arpa` / `ip6.arpa`.
    let reversed = reverse_name(ip);
    let labels: Vec<String> = reversed
        .labels()
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    let address = labels
        .get(..labels.len().saturating_sub(2))
        .unwrap_or_default()
        .join(".");
    format!("{address}.{zone}")
}

/// Codes by which a blocklist says the query itself was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
pub enum DnsblError {
    /// 127.255.255.252
    #[error(
        "the blocklist says the zone name is mistyped; check the DNSBL zone \
         (e.g. zen.spamhaus.org)"
    )]
    TypingError,
    /// 127.255.255.254
    #[error(
        "the blocklist refuses queries that come through a public or open resolver; \
         query it through your own recursive resolver, not 8.8.8.8 or 1.1.1.1"
    )]
    PublicResolver,
    /// 127.255.255.255
    #[error(
        "the blocklist says your resolver sent too many queries; reduce the query \
         volume or use a data feed"
    )]
    ExcessiveQueries,
    /// Another 127.255.255.x code.
    #[error("the blocklist returned an error code")]
    Other,
}

/// One listing code from an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsblListing {
    pub code: Ipv4Addr,
    /// Sub-list, e.g. `SBL`, `XBL`, `PBL`, when the code is a known
    /// Spamhaus ZEN code.
    pub list: Option<String>,
    pub meaning: Option<String>,
}

/// What a DNSBL answer means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DnsblOutcome {
    /// No addresses (the caller got NXDOMAIN or an empty answer).
    NotListed,
    Listed {
        listings: Vec<DnsblListing>,
    },
    /// The query was refused; the address's status is unknown.
    BlocklistError {
        code: Ipv4Addr,
        error: DnsblError,
    },
    /// Addresses outside 127.0.0.0/8 are not blocklist answers: typically a
    /// resolver that rewrites NXDOMAIN to an advertising page.
    UnexpectedAnswer {
        addrs: Vec<Ipv4Addr>,
    },
}

impl DnsblOutcome {
    pub fn is_listed(&self) -> bool {
        matches!(self, DnsblOutcome::Listed { .. })
    }

    /// A sentence for the console.
    pub fn message(&self) -> String {
        match self {
            DnsblOutcome::NotListed => "not listed".to_string(),
            DnsblOutcome::Listed { listings } => {
                let parts: Vec<String> = listings
                    .iter()
                    .map(|l| match (&l.list, &l.meaning) {
                        (Some(list), Some(meaning)) => format!("{list} ({}): {meaning}", l.code),
                        _ => format!("return code {} (its meaning depends on the list)", l.code),
                    })
                    .collect();
                format!("listed: {}", parts.join("; "))
            }
            DnsblOutcome::BlocklistError { code, error } => {
                format!("not a listing ({code}): {error}; the address's status is unknown")
            }
            DnsblOutcome::UnexpectedAnswer { addrs } => {
                let shown: Vec<String> = addrs.iter().map(Ipv4Addr::to_string).collect();
                format!(
                    "the answer {} is outside 127.0.0.0/8, so it is not a blocklist answer \
                     (the resolver may be rewriting missing names); the status is unknown",
                    shown.join(", ")
                )
            }
        }
    }
}

fn spamhaus_meaning(code: Ipv4Addr) -> Option<(&'static str, &'static str)> {
    match code.octets() {
        [127, 0, 0, 2] => Some(("SBL", "a known spam source or spam operation")),
        [127, 0, 0, 3] => Some(("SBL CSS", "a low-reputation address sending snowshoe spam")),
        [127, 0, 0, 4..=7] => Some((
            "XBL",
            "a host infected with malware or exploited as a proxy (Exploits Block List)",
        )),
        [127, 0, 0, 9] => Some(("SBL DROP", "a hijacked or criminal network (DROP/EDROP)")),
        [127, 0, 0, 10] => Some((
            "PBL",
            "an address its ISP says should not send mail directly (Policy Block List, ISP \
             maintained); send through your provider's relay or ask for removal",
        )),
        [127, 0, 0, 11] => Some((
            "PBL",
            "an address range that should not send mail directly (Policy Block List, \
             Spamhaus maintained); send through a relay or request removal",
        )),
        _ => None,
    }
}

/// Interprets the A records returned for a DNSBL query.
///
/// Error codes win over listings in a mixed answer because they mean the
/// whole answer cannot be trusted.
pub fn interpret_dnsbl_answer(addrs: &[Ipv4Addr]) -> DnsblOutcome {
    if addrs.is_empty() {
        return DnsblOutcome::NotListed;
    }
    if addrs.iter().any(|a| a.octets()[0] != 127) {
        return DnsblOutcome::UnexpectedAnswer {
            addrs: addrs.to_vec(),
        };
    }
    if let Some(code) = addrs
        .iter()
        .find(|a| matches!(a.octets(), [127, 255, 255, _]))
    {
        let error = match code.octets()[3] {
            252 => DnsblError::TypingError,
            254 => DnsblError::PublicResolver,
            255 => DnsblError::ExcessiveQueries,
            _ => DnsblError::Other,
        };
        return DnsblOutcome::BlocklistError { code: *code, error };
    }
    let mut listings: Vec<DnsblListing> = Vec::new();
    for code in addrs {
        if listings.iter().any(|l| l.code == *code) {
            continue;
        }
        let known = spamhaus_meaning(*code);
        listings.push(DnsblListing {
            code: *code,
            list: known.map(|(l, _)| l.to_string()),
            meaning: known.map(|(_, m)| m.to_string()),
        });
    }
    DnsblOutcome::Listed { listings }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn query_names() {
        assert_eq!(
            dnsbl_query_name("192.0.2.99".parse().unwrap(), "zen.spamhaus.org"),
            "99.2.0.192.zen.spamhaus.org"
        );
        // RFC 5782 §2.4's example address.
        assert_eq!(
            dnsbl_query_name(
                "2001:db8:1:2:3:4:567:89ab".parse().unwrap(),
                "ugly.example.com."
            ),
            "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ugly.example.com"
        );
        assert_eq!(
            dnsbl_query_name("::ffff:192.0.2.1".parse().unwrap(), "bl.example"),
            "1.2.0.192.bl.example"
        );
    }

    #[test]
    fn not_listed() {
        assert_eq!(interpret_dnsbl_answer(&[]), DnsblOutcome::NotListed);
        assert!(!interpret_dnsbl_answer(&[]).is_listed());
    }

    #[test]
    fn spamhaus_error_codes_are_not_listings() {
        for (addr, error) in [
            ("127.255.255.252", DnsblError::TypingError),
            ("127.255.255.254", DnsblError::PublicResolver),
            ("127.255.255.255", DnsblError::ExcessiveQueries),
            ("127.255.255.253", DnsblError::Other),
        ] {
            let outcome = interpret_dnsbl_answer(&[v4(addr)]);
            assert_eq!(
                outcome,
                DnsblOutcome::BlocklistError {
                    code: v4(addr),
                    error
                }
            );
            assert!(!outcome.is_listed());
        }
        assert_eq!(
            interpret_dnsbl_answer(&[v4("127.255.255.254")]).message(),
            "not a listing (127.255.255.254): the blocklist refuses queries that come through \
             a public or open resolver; query it through your own recursive resolver, not \
             8.8.8.8 or 1.1.1.1; the address's status is unknown"
        );
        // An error code poisons the whole answer.
        assert!(matches!(
            interpret_dnsbl_answer(&[v4("127.0.0.2"), v4("127.255.255.255")]),
            DnsblOutcome::BlocklistError {
                error: DnsblError::ExcessiveQueries,
                ..
            }
        ));
    }

    #[test]
    fn listings_carry_spamhaus_meanings() {
        let outcome = interpret_dnsbl_answer(&[
            v4("127.0.0.2"),
            v4("127.0.0.4"),
            v4("127.0.0.11"),
            v4("127.0.0.2"),
        ]);
        let DnsblOutcome::Listed { listings } = &outcome else {
            panic!("{outcome:?}");
        };
        let lists: Vec<_> = listings.iter().map(|l| l.list.as_deref()).collect();
        assert_eq!(lists, vec![Some("SBL"), Some("XBL"), Some("PBL")]);
        assert!(outcome.is_listed());
        let cases = [
            ("127.0.0.3", "SBL CSS"),
            ("127.0.0.7", "XBL"),
            ("127.0.0.9", "SBL DROP"),
            ("127.0.0.10", "PBL"),
        ];
        for (code, list) in cases {
            let DnsblOutcome::Listed { listings } = interpret_dnsbl_answer(&[v4(code)]) else {
                panic!("{code}");
            };
            assert_eq!(listings[0].list.as_deref(), Some(list), "{code}");
        }
        assert_eq!(
            interpret_dnsbl_answer(&[v4("127.0.0.2")]).message(),
            "listed: SBL (127.0.0.2): a known spam source or spam operation"
        );
        assert_eq!(
            interpret_dnsbl_answer(&[v4("127.0.0.8")]).message(),
            "listed: return code 127.0.0.8 (its meaning depends on the list)"
        );
    }

    #[test]
    fn answers_outside_loopback_are_not_trusted() {
        let outcome = interpret_dnsbl_answer(&[v4("203.0.113.7")]);
        assert_eq!(
            outcome.message(),
            "the answer 203.0.113.7 is outside 127.0.0.0/8, so it is not a blocklist answer (the \
             resolver may be rewriting missing names); the status is unknown"
        );
        assert!(!outcome.is_listed());
    }
}

//! The zone data model: TTLs, record types, typed RDATA, records and zones.
//!
//! RDATA is kept typed (addresses as `Ipv4Addr`/`Ipv6Addr`, targets as
//! [`Name`]) rather than as text so that a record which exists in memory is
//! already well-formed; the remaining cross-record rules live in
//! [`crate::dns::zone::validate`].

use crate::dns::zone::error::FieldError;
use crate::dns::zone::name::Name;
use crate::dns::zone::txt::quote_character_string;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// A time-to-live in seconds. RFC 2181 §8 limits TTLs to 0..=2^31−1; the
/// field is public for convenient construction, so the limit is checked by
/// [`Ttl::new`], the parsers and [`crate::dns::zone::validate_record`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Ttl(pub u32);

impl Ttl {
    /// Largest TTL allowed by RFC 2181 §8.
    pub const MAX: u32 = 0x7fff_ffff;

    /// Checks the range.
    pub fn new(seconds: u32) -> Result<Ttl, FieldError> {
        if seconds > Ttl::MAX {
            Err(FieldError::new("ttl", ttl_too_large(u64::from(seconds))))
        } else {
            Ok(Ttl(seconds))
        }
    }

    /// Parses `3600`, `1h`, `1h30m`, `2d`, `1w` (units s, m, h, d, w, any case).
    pub fn parse(input: &str) -> Result<Ttl, FieldError> {
        let seconds = parse_duration(input.trim()).map_err(|m| FieldError::new("ttl", m))?;
        if seconds > u64::from(Ttl::MAX) {
            return Err(FieldError::new("ttl", ttl_too_large(seconds)));
        }
        // Fits: checked against MAX above.
        Ok(Ttl(seconds as u32))
    }

    /// True when inside the RFC 2181 range.
    pub fn is_valid(self) -> bool {
        self.0 <= Ttl::MAX
    }
}

impl fmt::Display for Ttl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

pub(crate) fn ttl_too_large(v: u64) -> String {
    format!(
        "TTL {v} is larger than {} (2^31 − 1), the largest allowed by RFC 2181",
        Ttl::MAX
    )
}

/// Message for SOA timers beyond 2^31−1. RFC 1035 types them as 32-bit
/// unsigned, but they are durations like TTLs and NSD silently replaces
/// larger values with its default, so they are refused rather than changed.
pub(crate) fn soa_timer_too_large(what: &str, v: u64) -> String {
    format!(
        "SOA {what} {v} is larger than {} (2^31 − 1), the largest time value name servers \
         accept",
        Ttl::MAX
    )
}

/// Parses a BIND-style duration into seconds (u64 so callers can range-check).
pub(crate) fn parse_duration(s: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "\"{s}\" is not a time value: use a number of seconds (3600) or a duration like \
             1h, 2d or 1w"
        )
    };
    if !s.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return Err(bad());
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for c in s.chars() {
        if let Some(d) = c.to_digit(10) {
            let v = number
                .unwrap_or(0)
                .saturating_mul(10)
                .saturating_add(u64::from(d));
            number = Some(v);
            continue;
        }
        let unit: u64 = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(bad()),
        };
        let n = number.take().ok_or_else(bad)?;
        total = total.saturating_add(n.saturating_mul(unit));
    }
    if let Some(n) = number {
        // A bare trailing number counts as seconds ("1h30" = 3630), as BIND does.
        total = total.saturating_add(n);
    }
    if total > u64::from(u32::MAX) {
        // Report with the real number but keep it bounded for the message.
        return Err(ttl_too_large(total));
    }
    Ok(total)
}

/// The record types Stackyard manages.
///
/// Declared in type-code order so the derived `Ord` sorts by type number,
/// which is the deterministic order the renderer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RecordType {
    /// IPv4 address (1).
    A,
    /// Authoritative name server (2).
    Ns,
    /// Canonical name / alias (5).
    Cname,
    /// Start of authority (6).
    Soa,
    /// Pointer, for reverse zones (12).
    Ptr,
    /// Mail exchanger (15).
    Mx,
    /// Text (16).
    Txt,
    /// IPv6 address (28).
    Aaaa,
    /// Service locator (33).
    Srv,
    /// Certification authority authorisation (257).
    Caa,
}

impl RecordType {
    /// Every supported type, in type-code order.
    pub const ALL: [RecordType; 10] = [
        RecordType::A,
        RecordType::Ns,
        RecordType::Cname,
        RecordType::Soa,
        RecordType::Ptr,
        RecordType::Mx,
        RecordType::Txt,
        RecordType::Aaaa,
        RecordType::Srv,
        RecordType::Caa,
    ];

    /// The IANA type number.
    pub fn code(self) -> u16 {
        match self {
            RecordType::A => 1,
            RecordType::Ns => 2,
            RecordType::Cname => 5,
            RecordType::Soa => 6,
            RecordType::Ptr => 12,
            RecordType::Mx => 15,
            RecordType::Txt => 16,
            RecordType::Aaaa => 28,
            RecordType::Srv => 33,
            RecordType::Caa => 257,
        }
    }

    /// Mnemonic as written in zone files.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::A => "A",
            RecordType::Ns => "NS",
            RecordType::Cname => "CNAME",
            RecordType::Soa => "SOA",
            RecordType::Ptr => "PTR",
            RecordType::Mx => "MX",
            RecordType::Txt => "TXT",
            RecordType::Aaaa => "AAAA",
            RecordType::Srv => "SRV",
            RecordType::Caa => "CAA",
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RecordType {
    type Err = FieldError;
    fn from_str(s: &str) -> Result<RecordType, FieldError> {
        RecordType::ALL
            .iter()
            .copied()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                FieldError::new(
                    "type",
                    format!(
                        "record type {s} is not supported; use one of A, AAAA, CNAME, MX, NS, \
                         PTR, TXT, SRV, CAA, SOA"
                    ),
                )
            })
    }
}

/// SOA RDATA (RFC 1035 §3.3.13). Timers are plain seconds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Soa {
    /// Primary name server.
    pub mname: Name,
    /// Responsible person's mailbox, first label is the local part.
    pub rname: Name,
    /// Zone serial (RFC 1982 arithmetic).
    pub serial: u32,
    /// Secondary refresh interval.
    pub refresh: u32,
    /// Secondary retry interval.
    pub retry: u32,
    /// Secondary expiry.
    pub expire: u32,
    /// Negative-caching TTL (RFC 2308).
    pub minimum: u32,
}

/// Typed RDATA for each supported type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RData {
    /// IPv4 address.
    A(Ipv4Addr),
    /// IPv6 address.
    Aaaa(Ipv6Addr),
    /// Alias target.
    Cname(Name),
    /// Mail exchanger.
    Mx {
        /// Lower is preferred.
        preference: u16,
        /// Mail host.
        exchange: Name,
    },
    /// Name server.
    Ns(Name),
    /// Reverse pointer.
    Ptr(Name),
    /// Character-strings, each at most 255 octets.
    Txt(Vec<Vec<u8>>),
    /// Service locator (RFC 2782).
    Srv {
        /// Lower is tried first.
        priority: u16,
        /// Load share among equal priorities.
        weight: u16,
        /// TCP/UDP port.
        port: u16,
        /// Host providing the service (`.` = not available).
        target: Name,
    },
    /// CA authorisation (RFC 8659).
    Caa {
        /// Flags octet; 128 = issuer critical.
        flags: u8,
        /// Property tag, e.g. `issue`.
        tag: String,
        /// Property value.
        value: Vec<u8>,
    },
    /// Start of authority.
    Soa(Soa),
}

impl RData {
    /// The record type this RDATA belongs to.
    pub fn rtype(&self) -> RecordType {
        match self {
            RData::A(_) => RecordType::A,
            RData::Aaaa(_) => RecordType::Aaaa,
            RData::Cname(_) => RecordType::Cname,
            RData::Mx { .. } => RecordType::Mx,
            RData::Ns(_) => RecordType::Ns,
            RData::Ptr(_) => RecordType::Ptr,
            RData::Txt(_) => RecordType::Txt,
            RData::Srv { .. } => RecordType::Srv,
            RData::Caa { .. } => RecordType::Caa,
            RData::Soa(_) => RecordType::Soa,
        }
    }

    /// Canonical wire form (RFC 4034 §6.2: uncompressed, lower-case names).
    /// Used to order records and to detect duplicates: two RDATA are the
    /// same record exactly when these octets are equal.
    pub fn canonical_wire(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            RData::A(a) => out.extend_from_slice(&a.octets()),
            RData::Aaaa(a) => out.extend_from_slice(&a.octets()),
            RData::Cname(n) | RData::Ns(n) | RData::Ptr(n) => out.extend_from_slice(n.wire()),
            RData::Mx {
                preference,
                exchange,
            } => {
                out.extend_from_slice(&preference.to_be_bytes());
                out.extend_from_slice(exchange.wire());
            }
            RData::Txt(strings) => {
                for s in strings {
                    // Over-long strings are a validation error; saturating
                    // keeps this function total.
                    out.push(u8::try_from(s.len()).unwrap_or(u8::MAX));
                    out.extend_from_slice(s);
                }
            }
            RData::Srv {
                priority,
                weight,
                port,
                target,
            } => {
                out.extend_from_slice(&priority.to_be_bytes());
                out.extend_from_slice(&weight.to_be_bytes());
                out.extend_from_slice(&port.to_be_bytes());
                out.extend_from_slice(target.wire());
            }
            RData::Caa { flags, tag, value } => {
                out.push(*flags);
                out.push(u8::try_from(tag.len()).unwrap_or(u8::MAX));
                out.extend_from_slice(tag.as_bytes());
                out.extend_from_slice(value);
            }
            RData::Soa(s) => {
                out.extend_from_slice(s.mname.wire());
                out.extend_from_slice(s.rname.wire());
                for v in [s.serial, s.refresh, s.retry, s.expire, s.minimum] {
                    out.extend_from_slice(&v.to_be_bytes());
                }
            }
        }
        out
    }
}

impl fmt::Display for RData {
    /// Master-file presentation of the RDATA with absolute names, so the
    /// text means the same whatever `$ORIGIN` is in force.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RData::A(a) => write!(f, "{a}"),
            RData::Aaaa(a) => write!(f, "{a}"),
            RData::Cname(n) | RData::Ns(n) | RData::Ptr(n) => write!(f, "{n}"),
            RData::Mx {
                preference,
                exchange,
            } => write!(f, "{preference} {exchange}"),
            RData::Txt(strings) => {
                let parts: Vec<String> =
                    strings.iter().map(|s| quote_character_string(s)).collect();
                write!(f, "{}", parts.join(" "))
            }
            RData::Srv {
                priority,
                weight,
                port,
                target,
            } => write!(f, "{priority} {weight} {port} {target}"),
            RData::Caa { flags, tag, value } => {
                write!(f, "{flags} {tag} {}", quote_character_string(value))
            }
            RData::Soa(s) => write!(
                f,
                "{} {} {} {} {} {} {}",
                s.mname, s.rname, s.serial, s.refresh, s.retry, s.expire, s.minimum
            ),
        }
    }
}

/// One resource record (class IN is implied).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Record {
    /// Owner name.
    pub owner: Name,
    /// Time to live.
    pub ttl: Ttl,
    /// Typed data.
    pub rdata: RData,
}

impl Record {
    /// The record's type.
    pub fn rtype(&self) -> RecordType {
        self.rdata.rtype()
    }
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} IN {} {}",
            self.owner,
            self.ttl,
            self.rtype(),
            self.rdata
        )
    }
}

/// An authoritative zone.
///
/// The SOA is held apart from `records` because a zone has exactly one and
/// it always sits at the origin; keeping it typed makes that impossible to
/// get wrong. `soa_ttl` is separate from `default_ttl` so that an imported
/// SOA with its own TTL survives a round trip unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Zone {
    /// Apex of the zone.
    pub origin: Name,
    /// `$TTL` of the rendered file.
    pub default_ttl: Ttl,
    /// TTL of the SOA record.
    pub soa_ttl: Ttl,
    /// SOA data.
    pub soa: Soa,
    /// Every record except the SOA.
    pub records: Vec<Record>,
}

impl Zone {
    /// A zone with only its SOA; the SOA TTL equals the default TTL.
    pub fn new(origin: Name, default_ttl: Ttl, soa: Soa) -> Zone {
        Zone {
            origin,
            default_ttl,
            soa_ttl: default_ttl,
            soa,
            records: Vec::new(),
        }
    }

    /// The SOA as an ordinary record (owner = origin).
    pub fn soa_record(&self) -> Record {
        Record {
            owner: self.origin.clone(),
            ttl: self.soa_ttl,
            rdata: RData::Soa(self.soa.clone()),
        }
    }

    /// Records (SOA excluded) sorted in the renderer's deterministic order:
    /// owner in canonical DNS order, then type code, then canonical RDATA.
    pub fn sorted_records(&self) -> Vec<&Record> {
        let mut out: Vec<&Record> = self.records.iter().collect();
        out.sort_by_cached_key(|r| record_sort_key(r));
        out
    }
}

/// Sort key used everywhere a deterministic record order is needed.
pub(crate) fn record_sort_key(r: &Record) -> (Vec<u8>, RecordType, Vec<u8>, Ttl) {
    (
        r.owner.canonical_key(),
        r.rtype(),
        r.rdata.canonical_wire(),
        r.ttl,
    )
}

/// Builds A or AAAA RDATA from a form's address field, telling the person
/// when they typed the other address family.
pub fn address_rdata(rtype: RecordType, input: &str) -> Result<RData, FieldError> {
    let s = input.trim();
    let parsed = IpAddr::from_str(s).ok();
    match (rtype, parsed) {
        (RecordType::A, Some(IpAddr::V4(a))) => Ok(RData::A(a)),
        (RecordType::Aaaa, Some(IpAddr::V6(a))) => Ok(RData::Aaaa(a)),
        (RecordType::A, Some(IpAddr::V6(_))) => Err(FieldError::new(
            "address",
            format!(
                "{s} is an IPv6 address; an A record needs an IPv4 address such as 192.0.2.1 \
                 — use an AAAA record for IPv6"
            ),
        )),
        (RecordType::Aaaa, Some(IpAddr::V4(_))) => Err(FieldError::new(
            "address",
            format!(
                "{s} is an IPv4 address; an AAAA record needs an IPv6 address such as \
                 2001:db8::1 — use an A record for IPv4"
            ),
        )),
        (RecordType::A, None) => Err(FieldError::new(
            "address",
            format!(
                "\"{s}\" is not an IPv4 address; write four numbers from 0 to 255 separated \
                 by dots, such as 192.0.2.1"
            ),
        )),
        (RecordType::Aaaa, None) => Err(FieldError::new(
            "address",
            format!(
                "\"{s}\" is not an IPv6 address; write hexadecimal groups separated by colons, \
                 such as 2001:db8::1"
            ),
        )),
        (other, _) => Err(FieldError::new(
            "type",
            format!("{other} records do not hold an address; only A and AAAA do"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_units_and_range() {
        assert_eq!(Ttl::parse("3600").unwrap(), Ttl(3600));
        assert_eq!(Ttl::parse("1h").unwrap(), Ttl(3600));
        assert_eq!(Ttl::parse("1H30M").unwrap(), Ttl(5400));
        assert_eq!(Ttl::parse("2d").unwrap(), Ttl(172_800));
        assert_eq!(Ttl::parse("1w").unwrap(), Ttl(604_800));
        assert_eq!(Ttl::parse("0").unwrap(), Ttl(0));
        assert_eq!(Ttl::parse("2147483647").unwrap(), Ttl(Ttl::MAX));
        assert_eq!(
            Ttl::parse("2147483648").unwrap_err().message,
            "TTL 2147483648 is larger than 2147483647 (2^31 − 1), the largest allowed by RFC 2181"
        );
        assert_eq!(
            Ttl::parse("1x").unwrap_err().message,
            "\"1x\" is not a time value: use a number of seconds (3600) or a duration like 1h, \
             2d or 1w"
        );
        assert!(Ttl::parse("h").is_err());
        assert!(Ttl::parse("").is_err());
        assert!(Ttl::new(Ttl::MAX + 1).is_err());
        assert!(Ttl::new(Ttl::MAX).is_ok());
    }

    #[test]
    fn record_type_names() {
        assert_eq!("aaaa".parse::<RecordType>().unwrap(), RecordType::Aaaa);
        assert_eq!(RecordType::Caa.code(), 257);
        let mut sorted = RecordType::ALL;
        sorted.sort_by_key(|t| t.code());
        assert_eq!(sorted, RecordType::ALL);
        assert!("HINFO".parse::<RecordType>().is_err());
    }

    #[test]
    fn address_family_messages() {
        assert_eq!(
            address_rdata(RecordType::A, "192.0.2.1").unwrap(),
            RData::A(Ipv4Addr::new(192, 0, 2, 1))
        );
        assert!(matches!(
            address_rdata(RecordType::Aaaa, " 2001:db8::1 ").unwrap(),
            RData::Aaaa(_)
        ));
        let e = address_rdata(RecordType::A, "2001:db8::1").unwrap_err();
        assert_eq!(e.field, "address");
        assert_eq!(
            e.message,
            "2001:db8::1 is an IPv6 address; an A record needs an IPv4 address such as \
             192.0.2.1 — use an AAAA record for IPv6"
        );
        let e = address_rdata(RecordType::Aaaa, "192.0.2.1").unwrap_err();
        assert_eq!(
            e.message,
            "192.0.2.1 is an IPv4 address; an AAAA record needs an IPv6 address such as \
             2001:db8::1 — use an A record for IPv4"
        );
        let e = address_rdata(RecordType::A, "300.1.1.1").unwrap_err();
        assert!(e
            .message
            .starts_with("\"300.1.1.1\" is not an IPv4 address"));
        let e = address_rdata(RecordType::Aaaa, "nope").unwrap_err();
        assert!(e.message.starts_with("\"nope\" is not an IPv6 address"));
        assert!(address_rdata(RecordType::Mx, "192.0.2.1").is_err());
    }

    #[test]
    fn display_forms() {
        let r = Record {
            owner: Name::parse("www.example.com").unwrap(),
            ttl: Ttl(300),
            rdata: RData::A(Ipv4Addr::new(192, 0, 2, 1)),
        };
        assert_eq!(r.to_string(), "www.example.com. 300 IN A 192.0.2.1");
        assert_eq!(RecordType::Aaaa.to_string(), "AAAA");
    }
}

//! Sender Policy Framework (RFC 7208).
//!
//! - [`SpfRecord::parse`] turns a record into typed [`Term`]s and fails on
//!   the first error; [`validate_spf`] reports every problem (plus warnings
//!   and hints) as [`Diagnostic`]s for display.
//! - [`validate_spf_records`] / [`select_spf_record`] work on all the TXT
//!   strings at a name, because publishing two SPF records is itself an
//!   error (§4.5) that no single-record check can see.
//! - [`SpfBuilder`] produces a record from the few choices a small site
//!   actually makes.
//! - [`count_lookups`] walks include/redirect chains through a caller
//!   supplied [`SpfLookup`] and reports the total against the 10-lookup
//!   limit (§4.6.4), naming the path that broke it.
//! - [`authorises_ip`] evaluates `check_host()` (§4) through a
//!   [`SpfResolver`].
//!
//! No function here touches the network: the console decides whether the
//! resolver reads its own zone data or live DNS.

use crate::dns::zone::host::normalise as normalise_name;
use crate::dns::zone::txt::MAX_STRING_LEN;
use crate::mail::records::Diagnostic;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::pin::Pin;
use std::str::FromStr;

/// DNS-querying terms allowed per evaluation (RFC 7208 §4.6.4).
pub const LOOKUP_LIMIT: usize = 10;
/// Lookups returning no answer allowed per evaluation (§4.6.4 "SHOULD").
pub const VOID_LOOKUP_LIMIT: usize = 2;
/// Names an `mx` answer or `ptr` answer may hold before evaluation gives up
/// (§4.6.4).
const ADDRESS_NAME_LIMIT: usize = 10;
/// [`count_lookups`] stops descending into includes past this total so a
/// pathological diamond of includes cannot make it explode; the limit is
/// already exceeded tenfold by then, so the exact number no longer matters.
const COUNT_DESCENT_CAP: usize = 100;

// ---------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------

/// The prefix of a directive: what a match means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Qualifier {
    /// `+` (also the default when no prefix is written).
    Pass,
    /// `-`
    Fail,
    /// `~`
    SoftFail,
    /// `?`
    Neutral,
}

impl Qualifier {
    /// The character written before a mechanism.
    pub fn symbol(self) -> char {
        match self {
            Qualifier::Pass => '+',
            Qualifier::Fail => '-',
            Qualifier::SoftFail => '~',
            Qualifier::Neutral => '?',
        }
    }

    fn from_symbol(c: char) -> Option<Self> {
        match c {
            '+' => Some(Qualifier::Pass),
            '-' => Some(Qualifier::Fail),
            '~' => Some(Qualifier::SoftFail),
            '?' => Some(Qualifier::Neutral),
            _ => None,
        }
    }

    fn outcome(self) -> SpfOutcome {
        match self {
            Qualifier::Pass => SpfOutcome::Pass,
            Qualifier::Fail => SpfOutcome::Fail,
            Qualifier::SoftFail => SpfOutcome::SoftFail,
            Qualifier::Neutral => SpfOutcome::Neutral,
        }
    }
}

/// Address family, used in error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IpFamily {
    V4,
    V6,
}

impl IpFamily {
    fn label(self) -> &'static str {
        match self {
            IpFamily::V4 => "IPv4",
            IpFamily::V6 => "IPv6",
        }
    }

    fn max_prefix(self) -> u8 {
        match self {
            IpFamily::V4 => 32,
            IpFamily::V6 => 128,
        }
    }

    fn example(self) -> &'static str {
        match self {
            IpFamily::V4 => "ip4:192.0.2.10 or ip4:192.0.2.0/24",
            IpFamily::V6 => "ip6:2001:db8::10 or ip6:2001:db8::/32",
        }
    }
}

/// An IPv4 network as written after `ip4:`.
///
/// Host bits are kept as written (RFC 7208 §5.6 compares only the prefix
/// bits) so the record round-trips unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ip4Net {
    pub addr: Ipv4Addr,
    pub prefix: u8,
}

/// An IPv6 network as written after `ip6:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ip6Net {
    pub addr: Ipv6Addr,
    pub prefix: u8,
}

/// True when the top `prefix` bits of `a` and `b` (each `width` bits wide)
/// agree. Shared by both families so the masking logic exists once.
fn prefix_matches(a: u128, b: u128, prefix: u8, width: u8) -> bool {
    if prefix > width {
        return false;
    }
    if prefix == 0 {
        return true;
    }
    let shift = u32::from(width - prefix);
    (a >> shift) == (b >> shift)
}

impl Ip4Net {
    /// A network; fails if `prefix` is over 32.
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Result<Self, SpfError> {
        if prefix > 32 {
            return Err(SpfError::BadCidr {
                term: format!("ip4:{addr}/{prefix}"),
                length: format!("/{prefix}"),
                family: IpFamily::V4,
            });
        }
        Ok(Self { addr, prefix })
    }

    /// A single host (`/32`).
    pub fn host(addr: Ipv4Addr) -> Self {
        Self { addr, prefix: 32 }
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        prefix_matches(
            u128::from(u32::from(self.addr)),
            u128::from(u32::from(ip)),
            self.prefix,
            32,
        )
    }

    fn has_host_bits(&self) -> bool {
        self.prefix < 32 && u32::from(self.addr) & (u32::MAX >> self.prefix) != 0
    }
}

impl Ip6Net {
    /// A network; fails if `prefix` is over 128.
    pub fn new(addr: Ipv6Addr, prefix: u8) -> Result<Self, SpfError> {
        if prefix > 128 {
            return Err(SpfError::BadCidr {
                term: format!("ip6:{addr}/{prefix}"),
                length: format!("/{prefix}"),
                family: IpFamily::V6,
            });
        }
        Ok(Self { addr, prefix })
    }

    /// A single host (`/128`).
    pub fn host(addr: Ipv6Addr) -> Self {
        Self { addr, prefix: 128 }
    }

    pub fn contains(&self, ip: Ipv6Addr) -> bool {
        prefix_matches(u128::from(self.addr), u128::from(ip), self.prefix, 128)
    }

    fn has_host_bits(&self) -> bool {
        self.prefix < 128 && u128::from(self.addr) & (u128::MAX >> self.prefix) != 0
    }
}

impl fmt::Display for Ip4Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A bare address means /32 (§5.6), so the shorter form is written.
        if self.prefix == 32 {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

impl fmt::Display for Ip6Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix == 128 {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

impl FromStr for Ip4Net {
    type Err = SpfError;
    /// Parses `192.0.2.0/24` or `192.0.2.10`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let term = format!("ip4:{s}");
        parse_ip4_network(&term, s)
    }
}

impl FromStr for Ip6Net {
    type Err = SpfError;
    /// Parses `2001:db8::/32` or `2001:db8::10`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let term = format!("ip6:{s}");
        parse_ip6_network(&term, s)
    }
}

/// A mechanism (RFC 7208 §5). Domain specs are kept as written, macros
/// included, because they are only expanded during evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Mechanism {
    All,
    Include {
        domain: String,
    },
    A {
        domain: Option<String>,
        cidr4: Option<u8>,
        cidr6: Option<u8>,
    },
    Mx {
        domain: Option<String>,
        cidr4: Option<u8>,
        cidr6: Option<u8>,
    },
    Ptr {
        domain: Option<String>,
    },
    Ip4 {
        network: Ip4Net,
    },
    Ip6 {
        network: Ip6Net,
    },
    Exists {
        domain: String,
    },
}

impl Mechanism {
    /// The mechanism's name as written in records.
    pub fn name(&self) -> &'static str {
        match self {
            Mechanism::All => "all",
            Mechanism::Include { .. } => "include",
            Mechanism::A { .. } => "a",
            Mechanism::Mx { .. } => "mx",
            Mechanism::Ptr { .. } => "ptr",
            Mechanism::Ip4 { .. } => "ip4",
            Mechanism::Ip6 { .. } => "ip6",
            Mechanism::Exists { .. } => "exists",
        }
    }

    /// Whether evaluating it costs one of the 10 DNS lookups (§4.6.4).
    pub fn counts_lookup(&self) -> bool {
        matches!(
            self,
            Mechanism::Include { .. }
                | Mechanism::A { .. }
                | Mechanism::Mx { .. }
                | Mechanism::Ptr { .. }
                | Mechanism::Exists { .. }
        )
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn dual(
            f: &mut fmt::Formatter<'_>,
            name: &str,
            domain: &Option<String>,
            cidr4: &Option<u8>,
            cidr6: &Option<u8>,
        ) -> fmt::Result {
            f.write_str(name)?;
            if let Some(d) = domain {
                write!(f, ":{d}")?;
            }
            if let Some(c) = cidr4 {
                write!(f, "/{c}")?;
            }
            if let Some(c) = cidr6 {
                write!(f, "//{c}")?;
            }
            Ok(())
        }
        match self {
            Mechanism::All => f.write_str("all"),
            Mechanism::Include { domain } => write!(f, "include:{domain}"),
            Mechanism::A {
                domain,
                cidr4,
                cidr6,
            } => dual(f, "a", domain, cidr4, cidr6),
            Mechanism::Mx {
                domain,
                cidr4,
                cidr6,
            } => dual(f, "mx", domain, cidr4, cidr6),
            Mechanism::Ptr { domain: None } => f.write_str("ptr"),
            Mechanism::Ptr { domain: Some(d) } => write!(f, "ptr:{d}"),
            Mechanism::Ip4 { network } => write!(f, "ip4:{network}"),
            Mechanism::Ip6 { network } => write!(f, "ip6:{network}"),
            Mechanism::Exists { domain } => write!(f, "exists:{domain}"),
        }
    }
}

/// A qualifier plus mechanism, e.g. `~all`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Directive {
    pub qualifier: Qualifier,
    pub mechanism: Mechanism,
}

impl fmt::Display for Directive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `+` is the default, so it is left out in canonical form.
        if self.qualifier != Qualifier::Pass {
            write!(f, "{}", self.qualifier.symbol())?;
        }
        write!(f, "{}", self.mechanism)
    }
}

/// A `name=value` term (§6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Modifier {
    Redirect {
        domain: String,
    },
    Exp {
        domain: String,
    },
    /// Receivers must ignore modifiers they do not know (§6), so they are
    /// kept rather than rejected.
    Unknown {
        name: String,
        value: String,
    },
}

impl fmt::Display for Modifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Modifier::Redirect { domain } => write!(f, "redirect={domain}"),
            Modifier::Exp { domain } => write!(f, "exp={domain}"),
            Modifier::Unknown { name, value } => write!(f, "{name}={value}"),
        }
    }
}

/// One space-separated term after `v=spf1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Term {
    Directive(Directive),
    Modifier(Modifier),
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Term::Directive(d) => d.fmt(f),
            Term::Modifier(m) => m.fmt(f),
        }
    }
}

/// A parsed SPF record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpfRecord {
    pub terms: Vec<Term>,
}

/// Everything that can be wrong with an SPF record or its include chain.
///
/// The `Display` text is what the console shows, so each message says what
/// to change, not only what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum SpfError {
    #[error("{}", not_spf(start))]
    NotSpf { start: String },
    #[error(
        "unknown mechanism \"{term}\"; SPF understands all, include, a, mx, ptr, ip4, \
         ip6 and exists"
    )]
    UnknownMechanism { term: String },
    #[error("{}", missing_domain(term))]
    MissingDomain { term: String },
    #[error("\"{term}\": {reason}")]
    BadDomain { term: String, reason: String },
    #[error("\"{term}\" needs an {} address, e.g. {}", family.label(), family.example())]
    MissingAddress { term: String, family: IpFamily },
    #[error(
        "\"{term}\": \"{address}\" is not a valid {} address; write e.g. {}",
        family.label(),
        family.example()
    )]
    BadAddress {
        term: String,
        address: String,
        family: IpFamily,
    },
    #[error(
        "\"{term}\": {length} is not a valid {} prefix length; use /0 to /{} \
         without leading zeros",
        family.label(),
        family.max_prefix()
    )]
    BadCidr {
        term: String,
        length: String,
        family: IpFamily,
    },
    #[error("\"{term}\": all takes no domain or prefix length; write just all")]
    UnexpectedArgument { term: String },
    #[error("\"{term}\": a modifier cannot take a + - ~ ? qualifier; remove it")]
    QualifiedModifier { term: String },
    #[error("\"{term}\" is not a valid SPF mechanism or modifier")]
    InvalidTerm { term: String },
    #[error(
        "the {name}= modifier appears more than once; RFC 7208 §6 allows it only once, \
         so keep a single {name}="
    )]
    DuplicateModifier { name: String },
    #[error(
        "found {count} SPF records at this name; receivers treat more than one as a \
         permanent error (RFC 7208 §4.5), so merge them into a single v=spf1 record"
    )]
    MultipleRecords { count: usize },
    #[error(
        "the record needs {count} DNS lookups; the limit is {LOOKUP_LIMIT} (RFC 7208 \
         §4.6.4), so replace some a/mx/include terms with ip4:/ip6:"
    )]
    TooManyLookups { count: usize },
    #[error(
        "refusing to build \"+all\": it authorises every host on the internet to send \
         as this domain; choose ~all or -all"
    )]
    PassAll,
    #[error("DNS lookup of {name} failed: {message}; try again later")]
    Lookup { name: String, message: String },
    #[error(
        "include loop: {}; receivers give up with permerror, so remove the include \
         that points back",
        path.join(" → ")
    )]
    IncludeLoop { path: Vec<String> },
    #[error(
        "\"{term}\": {domain} has no SPF record, so receivers return permerror whenever \
         they reach this term"
    )]
    MissingIncludedRecord { term: String, domain: String },
    #[error("\"{term}\": the SPF record at {domain} is invalid: {error}")]
    InvalidIncludedRecord {
        term: String,
        domain: String,
        error: Box<SpfError>,
    },
}

/// An empty record, a quoted one (the zone file's quotes pasted along), or
/// another start.
fn not_spf(start: &str) -> String {
    if start.is_empty() {
        "the record is empty; an SPF record starts with \"v=spf1\"".to_owned()
    } else if start.starts_with('"') {
        format!(
            "the record must start with \"v=spf1\" but starts with \"{start}\"; remove the \
             quotation marks, they belong to the zone file, not the record"
        )
    } else {
        format!("the record must start with \"v=spf1\" but starts with \"{start}\"")
    }
}

/// The example names the term's own mechanism or modifier, with its
/// separator (`include:` but `redirect=`).
fn missing_domain(term: &str) -> String {
    let name = term
        .trim_start_matches(['+', '-', '~', '?'])
        .trim_end_matches([':', '='])
        .to_ascii_lowercase();
    let sep = if name == "redirect" || name == "exp" {
        '='
    } else {
        ':'
    };
    format!("\"{term}\" needs a domain, e.g. {name}{sep}_spf.example.com")
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

/// True when `txt` is an SPF record: `v=spf1` followed by a space or the end
/// (§4.5). Matching is case-insensitive because ABNF literals are.
pub fn is_spf_record(txt: &str) -> bool {
    let bytes = txt.as_bytes();
    bytes.len() >= 6
        && bytes[..6].eq_ignore_ascii_case(b"v=spf1")
        && (bytes.len() == 6 || bytes[6] == b' ')
}

/// Strips the version, or says what the record starts with instead.
fn terms_part(record: &str) -> Result<&str, SpfError> {
    if is_spf_record(record) {
        // The first six bytes are ASCII, so slicing there is safe.
        Ok(record.get(6..).unwrap_or(""))
    } else {
        let start: String = record
            .split(' ')
            .next()
            .unwrap_or("")
            .chars()
            .take(24)
            .collect();
        Err(SpfError::NotSpf { start })
    }
}

/// Terms as written (split on spaces; §4.6.1 allows runs of spaces).
fn raw_terms(terms: &str) -> impl Iterator<Item = &str> {
    terms.split(' ').filter(|t| !t.is_empty())
}

fn is_top_label(label: &str) -> bool {
    // toplabel = ( *alphanum ALPHA *alphanum ) /
    //            ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
    // i.e. letters, digits and inner hyphens, and not all digits (so that
    // an IP address is never mistaken for a domain).
    !label.is_empty()
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !label.starts_with('-')
        && !label.ends_with('-')
        && !label.chars().all(|c| c.is_ascii_digit())
}

/// Checks a domain-spec (§7.1): visible ASCII, well-formed macros, and when
/// it does not end in a macro, a dotted name with a proper top label.
fn check_domain_spec(term: &str, spec: &str) -> Result<(), SpfError> {
    if spec.is_empty() {
        return Err(SpfError::MissingDomain {
            term: term.to_string(),
        });
    }
    let bad = |reason: String| SpfError::BadDomain {
        term: term.to_string(),
        reason,
    };
    if let Some(c) = spec.chars().find(|c| !('\x21'..='\x7e').contains(c)) {
        return Err(bad(format!(
            "the domain contains {c:?}; only visible ASCII is allowed (use the punycode \
             xn-- form for international names)"
        )));
    }
    let ends_with_macro = check_macros(spec).map_err(|m| {
        bad(format!(
            "\"{m}\" is not a valid macro; macros look like %{{d}} or %{{ir}}, and a literal \
             % is written %%"
        ))
    })?;
    if ends_with_macro {
        return Ok(());
    }
    let name = spec.strip_suffix('.').unwrap_or(spec);
    if name.split('.').any(str::is_empty) {
        return Err(bad(format!(
            "\"{spec}\" has an empty label (two dots in a row or a leading dot)"
        )));
    }
    let mut labels = name.rsplit('.');
    let top = labels.next().unwrap_or("");
    if labels.next().is_none() {
        return Err(bad(format!(
            "\"{spec}\" is not a fully qualified domain name; write the whole name, e.g. \
             {spec}.example.com"
        )));
    }
    if !is_top_label(top) {
        return Err(bad(format!(
            "\"{spec}\" does not end in a valid top-level label (\"{top}\")"
        )));
    }
    Ok(())
}

/// Validates the macro syntax of a domain-spec. Returns whether the spec
/// ends in a macro expansion (then it need not end in a literal top label),
/// or the offending fragment.
fn check_macros(spec: &str) -> Result<bool, String> {
    let chars: Vec<char> = spec.chars().collect();
    let mut i = 0;
    let mut ends_with_macro = false;
    while i < chars.len() {
        if chars[i] != '%' {
            ends_with_macro = false;
            i += 1;
            continue;
        }
        match chars.get(i + 1) {
            Some('%') | Some('_') | Some('-') => {
                ends_with_macro = false;
                i += 2;
            }
            Some('{') => {
                let close = chars[i..]
                    .iter()
                    .position(|&c| c == '}')
                    .map(|p| p + i)
                    .ok_or_else(|| chars[i..].iter().collect::<String>())?;
                let body: String = chars[i + 2..close].iter().collect();
                if !valid_macro_body(&body) {
                    return Err(chars[i..=close].iter().collect());
                }
                ends_with_macro = true;
                i = close + 1;
            }
            _ => return Err(chars[i..(i + 2).min(chars.len())].iter().collect()),
        }
    }
    Ok(ends_with_macro)
}

/// `macro-letter transformers *delimiter` (§7.1). Only the letters allowed
/// in domain-specs are accepted: c, r and t exist only in explanations.
fn valid_macro_body(body: &str) -> bool {
    let mut chars = body.chars();
    let Some(letter) = chars.next() else {
        return false;
    };
    if !"slodiphv".contains(letter.to_ascii_lowercase()) {
        return false;
    }
    let rest: String = chars.collect();
    let digits_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (digits, tail) = rest.split_at(digits_end);
    if digits.starts_with('0') {
        // "%{d0}" keeps zero labels, which the ABNF rules out (1*DIGIT
        // starting with a non-zero digit is what implementations accept).
        return false;
    }
    let tail = tail.strip_prefix(['r', 'R']).unwrap_or(tail);
    tail.chars().all(|c| ".-+,/_=".contains(c))
}

fn parse_cidr_length(term: &str, digits: &str, family: IpFamily) -> Result<u8, SpfError> {
    let err = || SpfError::BadCidr {
        term: term.to_string(),
        length: format!("/{digits}"),
        family,
    };
    // No leading zeros (§5.6 ABNF: "0" / %x31-39 0*1DIGIT).
    if digits.is_empty()
        || !digits.chars().all(|c| c.is_ascii_digit())
        || (digits.len() > 1 && digits.starts_with('0'))
    {
        return Err(err());
    }
    let value: u16 = digits.parse().map_err(|_| err())?;
    if value > u16::from(family.max_prefix()) {
        return Err(err());
    }
    u8::try_from(value).map_err(|_| err())
}

fn parse_ip4_network(term: &str, text: &str) -> Result<Ip4Net, SpfError> {
    let (addr_text, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    if addr_text.is_empty() {
        return Err(SpfError::MissingAddress {
            term: term.to_string(),
            family: IpFamily::V4,
        });
    }
    let addr = addr_text
        .parse::<Ipv4Addr>()
        .map_err(|_| SpfError::BadAddress {
            term: term.to_string(),
            address: addr_text.to_string(),
            family: IpFamily::V4,
        })?;
    let prefix = match len {
        Some(l) => parse_cidr_length(term, l, IpFamily::V4)?,
        None => 32,
    };
    Ok(Ip4Net { addr, prefix })
}

fn parse_ip6_network(term: &str, text: &str) -> Result<Ip6Net, SpfError> {
    let (addr_text, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    if addr_text.is_empty() {
        return Err(SpfError::MissingAddress {
            term: term.to_string(),
            family: IpFamily::V6,
        });
    }
    let addr = addr_text
        .parse::<Ipv6Addr>()
        .map_err(|_| SpfError::BadAddress {
            term: term.to_string(),
            address: addr_text.to_string(),
            family: IpFamily::V6,
        })?;
    let prefix = match len {
        Some(l) => parse_cidr_length(term, l, IpFamily::V6)?,
        None => 128,
    };
    Ok(Ip6Net { addr, prefix })
}

/// `[":" domain-spec] [dual-cidr-length]` after `a` or `mx`.
type DualArgs = (Option<String>, Option<u8>, Option<u8>);

fn parse_dual(term: &str, mut rest: &str) -> Result<DualArgs, SpfError> {
    let mut cidr6 = None;
    let mut cidr4 = None;
    // A '/' inside a macro ("%{l/}") is a delimiter, not a prefix length, so
    // a slash only starts a length when no '}' follows it.
    if let Some(pos) = rest.rfind("//") {
        let digits = &rest[pos + 2..];
        if !digits.contains('}') {
            cidr6 = Some(parse_cidr_length(term, digits, IpFamily::V6)?);
            rest = &rest[..pos];
        }
    }
    if let Some(pos) = rest.rfind('/') {
        let digits = &rest[pos + 1..];
        if !digits.contains('}') {
            cidr4 = Some(parse_cidr_length(term, digits, IpFamily::V4)?);
            rest = &rest[..pos];
        }
    }
    let domain = if rest.is_empty() {
        None
    } else if let Some(spec) = rest.strip_prefix(':') {
        check_domain_spec(term, spec)?;
        Some(spec.to_string())
    } else {
        return Err(SpfError::InvalidTerm {
            term: term.to_string(),
        });
    };
    Ok((domain, cidr4, cidr6))
}

fn required_domain(term: &str, rest: &str) -> Result<String, SpfError> {
    let spec = rest.strip_prefix(':').unwrap_or(rest);
    if rest.is_empty() || spec.is_empty() {
        return Err(SpfError::MissingDomain {
            term: term.to_string(),
        });
    }
    if !rest.starts_with(':') {
        return Err(SpfError::InvalidTerm {
            term: term.to_string(),
        });
    }
    check_domain_spec(term, spec)?;
    Ok(spec.to_string())
}

/// Parses one term as written.
fn parse_term(raw: &str) -> Result<Term, SpfError> {
    let mut chars = raw.chars();
    let (qualifier, body) = match chars.next().and_then(Qualifier::from_symbol) {
        Some(q) => (Some(q), chars.as_str()),
        None => (None, raw),
    };
    // name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) (§6)
    let name_end = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
        .unwrap_or(body.len());
    let (name, rest) = body.split_at(name_end);
    let term = raw.to_string();

    if let Some(value) = rest.strip_prefix('=') {
        if qualifier.is_some() {
            return Err(SpfError::QualifiedModifier { term });
        }
        if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return Err(SpfError::InvalidTerm { term });
        }
        let lname = name.to_ascii_lowercase();
        return Ok(Term::Modifier(match lname.as_str() {
            "redirect" | "exp" => {
                check_domain_spec(&term, value)?;
                if lname == "redirect" {
                    Modifier::Redirect {
                        domain: value.to_string(),
                    }
                } else {
                    Modifier::Exp {
                        domain: value.to_string(),
                    }
                }
            }
            _ => Modifier::Unknown {
                name: name.to_string(),
                value: value.to_string(),
            },
        }));
    }

    let mechanism = match name.to_ascii_lowercase().as_str() {
        "all" => {
            if !rest.is_empty() {
                return Err(SpfError::UnexpectedArgument { term });
            }
            Mechanism::All
        }
        "include" => Mechanism::Include {
            domain: required_domain(&term, rest)?,
        },
        "exists" => Mechanism::Exists {
            domain: required_domain(&term, rest)?,
        },
        "a" => {
            let (domain, cidr4, cidr6) = parse_dual(&term, rest)?;
            Mechanism::A {
                domain,
                cidr4,
                cidr6,
            }
        }
        "mx" => {
            let (domain, cidr4, cidr6) = parse_dual(&term, rest)?;
            Mechanism::Mx {
                domain,
                cidr4,
                cidr6,
            }
        }
        "ptr" => Mechanism::Ptr {
            domain: if rest.is_empty() {
                None
            } else {
                Some(required_domain(&term, rest)?)
            },
        },
        "ip4" | "ip6" => {
            let family = if name.eq_ignore_ascii_case("ip4") {
                IpFamily::V4
            } else {
                IpFamily::V6
            };
            let Some(text) = rest.strip_prefix(':') else {
                return Err(SpfError::MissingAddress { term, family });
            };
            match family {
                IpFamily::V4 => Mechanism::Ip4 {
                    network: parse_ip4_network(&term, text)?,
                },
                IpFamily::V6 => Mechanism::Ip6 {
                    network: parse_ip6_network(&term, text)?,
                },
            }
        }
        _ => return Err(SpfError::UnknownMechanism { term }),
    };
    Ok(Term::Directive(Directive {
        qualifier: qualifier.unwrap_or(Qualifier::Pass),
        mechanism,
    }))
}

/// A term's original text (for messages) and its parse result.
type RawTerm<'a> = (&'a str, Result<Term, SpfError>);

/// Parse results for every term.
fn parse_all_terms(record: &str) -> Result<Vec<RawTerm<'_>>, SpfError> {
    let terms = terms_part(record)?;
    Ok(raw_terms(terms).map(|raw| (raw, parse_term(raw))).collect())
}

impl SpfRecord {
    /// Parses a record, failing on the first error (including a repeated
    /// `redirect=` or `exp=`). Use [`validate_spf`] to see every problem.
    pub fn parse(record: &str) -> Result<Self, SpfError> {
        let mut terms = Vec::new();
        for (_, parsed) in parse_all_terms(record)? {
            terms.push(parsed?);
        }
        let parsed = SpfRecord { terms };
        if let Some(name) = parsed.duplicate_modifier() {
            return Err(SpfError::DuplicateModifier {
                name: name.to_string(),
            });
        }
        Ok(parsed)
    }

    /// The directives, in evaluation order.
    pub fn directives(&self) -> impl Iterator<Item = &Directive> {
        self.terms.iter().filter_map(|t| match t {
            Term::Directive(d) => Some(d),
            Term::Modifier(_) => None,
        })
    }

    /// The `redirect=` target, if any.
    pub fn redirect(&self) -> Option<&str> {
        self.terms.iter().find_map(|t| match t {
            Term::Modifier(Modifier::Redirect { domain }) => Some(domain.as_str()),
            _ => None,
        })
    }

    /// The `exp=` target, if any.
    pub fn exp(&self) -> Option<&str> {
        self.terms.iter().find_map(|t| match t {
            Term::Modifier(Modifier::Exp { domain }) => Some(domain.as_str()),
            _ => None,
        })
    }

    fn duplicate_modifier(&self) -> Option<&'static str> {
        let count = |want: fn(&Modifier) -> bool| {
            self.terms
                .iter()
                .filter(|t| matches!(t, Term::Modifier(m) if want(m)))
                .count()
        };
        if count(|m| matches!(m, Modifier::Redirect { .. })) > 1 {
            Some("redirect")
        } else if count(|m| matches!(m, Modifier::Exp { .. })) > 1 {
            Some("exp")
        } else {
            None
        }
    }

    /// Lookups this record costs by itself, not following includes: the
    /// terms up to `all` (later ones are never evaluated) plus `redirect=`
    /// when there is no `all` (§6.1 says it is ignored otherwise).
    pub fn direct_lookups(&self) -> usize {
        let mut n = 0;
        for d in self.directives() {
            if d.mechanism.counts_lookup() {
                n += 1;
            }
            if d.mechanism == Mechanism::All {
                return n;
            }
        }
        n + usize::from(self.redirect().is_some())
    }
}

impl FromStr for SpfRecord {
    type Err = SpfError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for SpfRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("v=spf1")?;
        for t in &self.terms {
            write!(f, " {t}")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

/// Checks one SPF record and returns every finding, errors first in record
/// order, then warnings and hints. An empty list means nothing to fix.
pub fn validate_spf(record: &str) -> Vec<Diagnostic> {
    let parsed = match parse_all_terms(record) {
        Ok(p) => p,
        Err(e) => return vec![Diagnostic::error(e.to_string())],
    };
    let mut out = Vec::new();
    let mut good: Vec<(&str, Term)> = Vec::new();
    for (raw, result) in parsed {
        match result {
            Ok(t) => good.push((raw, t)),
            Err(e) => out.push(Diagnostic::error(e.to_string())),
        }
    }
    let rec = SpfRecord {
        terms: good.iter().map(|(_, t)| t.clone()).collect(),
    };
    if let Some(name) = rec.duplicate_modifier() {
        out.push(Diagnostic::error(
            SpfError::DuplicateModifier {
                name: name.to_string(),
            }
            .to_string(),
        ));
    }
    let direct = rec.direct_lookups();
    if direct > LOOKUP_LIMIT {
        out.push(Diagnostic::error(
            SpfError::TooManyLookups { count: direct }.to_string(),
        ));
    }

    // Directives after `all` can never match: evaluation stops at `all`.
    let all_raw = good.iter().find_map(|(raw, t)| match t {
        Term::Directive(d) if d.mechanism == Mechanism::All => Some(*raw),
        _ => None,
    });
    if let Some(all_raw) = all_raw {
        let after: Vec<String> = good
            .iter()
            .skip_while(|(raw, _)| *raw != all_raw)
            .skip(1)
            .filter(|(_, t)| matches!(t, Term::Directive(_)))
            .map(|(raw, _)| format!("\"{raw}\""))
            .collect();
        if !after.is_empty() {
            out.push(Diagnostic::warning(format!(
                "{} after \"{all_raw}\" {} never evaluated; move {} before \"{all_raw}\"",
                after.join(", "),
                if after.len() == 1 { "is" } else { "are" },
                if after.len() == 1 { "it" } else { "them" },
            )));
        }
        if let Some(target) = rec.redirect() {
            out.push(Diagnostic::warning(format!(
                "redirect={target} is ignored because the record has \"{all_raw}\" (RFC 7208 \
                 §6.1); remove one of them"
            )));
        }
    }

    for (raw, t) in &good {
        match t {
            Term::Directive(d) => match &d.mechanism {
                Mechanism::Ptr { .. } => out.push(Diagnostic::warning(format!(
                    "\"{raw}\": RFC 7208 §5.5 says the ptr mechanism SHOULD NOT be used (it is \
                     slow, unreliable and some receivers skip it); list your sending servers \
                     with ip4:, ip6:, a or mx instead"
                ))),
                Mechanism::All if d.qualifier == Qualifier::Pass => {
                    out.push(Diagnostic::warning(format!(
                        "\"{raw}\" lets every host on the internet send mail as this domain; \
                         use \"~all\" or \"-all\""
                    )))
                }
                Mechanism::Ip4 { network } if network.has_host_bits() => {
                    out.push(Diagnostic::info(format!(
                        "\"{raw}\" has host bits set; it covers the whole network {}/{}",
                        Ipv4Addr::from(u32::from(network.addr) & !(u32::MAX >> network.prefix)),
                        network.prefix
                    )))
                }
                Mechanism::Ip6 { network } if network.has_host_bits() => {
                    out.push(Diagnostic::info(format!(
                        "\"{raw}\" has host bits set; it covers the whole network {}/{}",
                        Ipv6Addr::from(u128::from(network.addr) & !(u128::MAX >> network.prefix)),
                        network.prefix
                    )))
                }
                _ => {}
            },
            Term::Modifier(Modifier::Unknown { .. }) => out.push(Diagnostic::warning(format!(
                "unknown modifier \"{raw}\" is ignored by receivers; check the spelling \
                 (SPF defines redirect= and exp=)"
            ))),
            Term::Modifier(_) => {}
        }
    }

    if all_raw.is_none() && rec.redirect().is_none() {
        out.push(Diagnostic::info(
            "the record has no \"all\" and no redirect=, so mail from servers it does not list \
             gets \"neutral\"; end it with \"~all\" or \"-all\"",
        ));
    }
    if record.len() > MAX_STRING_LEN {
        let pieces = crate::dns::zone::txt::split_txt(record).len();
        out.push(Diagnostic::info(format!(
            "the record is {} octets; one TXT string holds at most {MAX_STRING_LEN}, so publish \
             it as {pieces} quoted strings in one TXT record (receivers join them without \
             spaces)",
            record.len()
        )));
    }
    // Stable sort keeps record order within each severity.
    out.sort_by_key(|d| d.severity);
    out
}

/// Picks the SPF record out of all TXT strings at a name.
///
/// `Ok(None)` means the name publishes no SPF record (result "none");
/// more than one is [`SpfError::MultipleRecords`] (§4.5: permerror).
pub fn select_spf_record<S: AsRef<str>>(txts: &[S]) -> Result<Option<&str>, SpfError> {
    let spf: Vec<&str> = txts
        .iter()
        .map(AsRef::as_ref)
        .filter(|t| is_spf_record(t))
        .collect();
    match spf.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        many => Err(SpfError::MultipleRecords { count: many.len() }),
    }
}

/// Validates all TXT strings at one name: exactly one must be SPF, and
/// that one is checked with [`validate_spf`].
pub fn validate_spf_records<S: AsRef<str>>(txts: &[S]) -> Vec<Diagnostic> {
    match select_spf_record(txts) {
        Ok(Some(record)) => validate_spf(record),
        Ok(None) => vec![Diagnostic::warning(
            "no SPF record (a TXT record starting with \"v=spf1\") is published at this name, \
             so receivers cannot tell which servers may send its mail",
        )],
        Err(e) => vec![Diagnostic::error(e.to_string())],
    }
}

// ---------------------------------------------------------------------------
// Builder
// ---------------------------------------------------------------------------

/// The choices a small site makes about its SPF record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpfBuilder {
    /// Authorise the domain's own A/AAAA addresses.
    pub a: bool,
    /// Authorise the domain's MX hosts.
    pub mx: bool,
    pub ip4: Vec<Ip4Net>,
    pub ip6: Vec<Ip6Net>,
    /// Domains whose SPF records are included (e.g. a mail provider's).
    pub include: Vec<String>,
    /// What everyone else gets. [`Qualifier::Pass`] is refused.
    pub all: Qualifier,
}

impl SpfBuilder {
    /// An empty builder ending in `all` with the given qualifier.
    pub fn new(all: Qualifier) -> Self {
        Self {
            a: false,
            mx: false,
            ip4: Vec::new(),
            ip6: Vec::new(),
            include: Vec::new(),
            all,
        }
    }

    /// Produces the record, e.g. `v=spf1 ip4:192.0.2.10 mx -all`.
    ///
    /// Literal addresses come first because receivers evaluate left to
    /// right and `ip4`/`ip6` need no DNS query, so most mail is decided
    /// before any lookup. The result is re-parsed so that a record this
    /// returns is always one [`SpfRecord::parse`] accepts.
    pub fn build(&self) -> Result<String, SpfError> {
        if self.all == Qualifier::Pass {
            return Err(SpfError::PassAll);
        }
        let mut terms: Vec<String> = Vec::new();
        terms.extend(self.ip4.iter().map(|n| format!("ip4:{n}")));
        terms.extend(self.ip6.iter().map(|n| format!("ip6:{n}")));
        if self.a {
            terms.push("a".into());
        }
        if self.mx {
            terms.push("mx".into());
        }
        for domain in &self.include {
            let domain = domain.trim();
            check_domain_spec(&format!("include:{domain}"), domain)?;
            terms.push(format!("include:{domain}"));
        }
        terms.push(format!("{}all", self.all.symbol()));
        let record = format!("v=spf1 {}", terms.join(" "));
        let parsed = SpfRecord::parse(&record)?;
        let lookups = parsed.direct_lookups();
        if lookups > LOOKUP_LIMIT {
            return Err(SpfError::TooManyLookups { count: lookups });
        }
        Ok(record)
    }
}

// ---------------------------------------------------------------------------
// Resolver traits
// ---------------------------------------------------------------------------

/// Why a DNS query gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum LookupError {
    /// NXDOMAIN or no records of that type: a definite "nothing there".
    #[error("no such record")]
    NotFound,
    /// Timeout, SERVFAIL and the like: the answer may exist.
    #[error("{0}")]
    Temporary(String),
}

/// What a lookup gives back: the records, or why there are none.
pub type Answer<T> = Result<Vec<T>, LookupError>;

/// TXT lookups, enough for [`count_lookups`].
///
/// Async because the answers come from live DNS or the database; the
/// futures are `Send` so an evaluation can run inside a server function.
/// Implemented with `async fn` in the impl block.
pub trait SpfLookup: Sync {
    /// Every TXT record at `name`, each with its character-strings already
    /// joined (RFC 7208 §3.3). "No records" may be `Ok(vec![])` or
    /// `Err(LookupError::NotFound)`.
    fn txt(&self, name: &str) -> impl Future<Output = Answer<String>> + Send;
}

/// The lookups `check_host()` needs. Names are passed without a trailing
/// dot.
pub trait SpfResolver: SpfLookup {
    fn a(&self, name: &str) -> impl Future<Output = Answer<Ipv4Addr>> + Send;
    fn aaaa(&self, name: &str) -> impl Future<Output = Answer<Ipv6Addr>> + Send;
    /// Exchange host names of the MX records at `name` (order is irrelevant
    /// to SPF).
    fn mx(&self, name: &str) -> impl Future<Output = Answer<String>> + Send;
    /// Reverse names of `ip`. The default finds none, which makes `ptr`
    /// never match — the outcome §5.5 prescribes when PTR lookups fail.
    fn ptr(&self, _ip: IpAddr) -> impl Future<Output = Answer<String>> + Send {
        async { Ok(Vec::new()) }
    }
}

/// The future of a recursive step (include, redirect): boxed, because an
/// async function cannot contain itself.
type Step<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

// ---------------------------------------------------------------------------
// Lookup counting
// ---------------------------------------------------------------------------

/// How many DNS lookups a record costs when fully evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LookupCount {
    /// Lookup-costing terms reached, following includes and redirects.
    pub total: usize,
    /// Always [`LOOKUP_LIMIT`]; carried so serialised results explain
    /// themselves.
    pub limit: usize,
    /// When over the limit: the chain of terms leading to the first lookup
    /// past it, outermost first.
    pub over_limit_path: Vec<String>,
    /// include/redirect terms with macros, which depend on the message and
    /// were counted but not followed.
    pub unexpanded: Vec<String>,
    /// True when counting stopped descending (far past the limit), making
    /// `total` a lower bound.
    pub truncated: bool,
}

impl LookupCount {
    pub fn within_limit(&self) -> bool {
        self.total <= self.limit
    }

    /// E.g. `include:_spf.example.com → mx: 11 lookups, the limit is 10`.
    pub fn summary(&self) -> String {
        let at_least = if self.truncated { "at least " } else { "" };
        if self.within_limit() {
            format!(
                "{at_least}{} lookups, within the limit of {}",
                self.total, self.limit
            )
        } else {
            format!(
                "{}: {at_least}{} lookups, the limit is {}",
                self.over_limit_path.join(" → "),
                self.total,
                self.limit
            )
        }
    }
}

impl fmt::Display for LookupCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())
    }
}

struct Counter<'a, L> {
    resolver: &'a L,
    total: usize,
    over_limit_path: Vec<String>,
    unexpanded: Vec<String>,
    truncated: bool,
    /// Terms from the top record down to the one being walked.
    path: Vec<String>,
    /// Domains currently being walked, to spot loops (a domain reached
    /// twice through different branches is not a loop and counts twice,
    /// exactly as a receiver would count it).
    stack: HashSet<String>,
    /// Each name is fetched once even when included from several places.
    cache: HashMap<String, Result<Vec<String>, LookupError>>,
}

impl<L: SpfLookup> Counter<'_, L> {
    fn bump(&mut self, term: &str) {
        self.total += 1;
        if self.total == LOOKUP_LIMIT + 1 {
            self.over_limit_path = self.path.clone();
            self.over_limit_path.push(term.to_string());
        }
    }

    async fn fetch(&mut self, term: &str, domain: &str) -> Result<SpfRecord, SpfError> {
        let name = normalise_name(domain);
        let answer = match self.cache.get(&name) {
            Some(a) => a.clone(),
            None => {
                let a = self.resolver.txt(&name).await;
                self.cache.insert(name.clone(), a.clone());
                a
            }
        };
        let txts = match answer {
            Ok(t) => t,
            Err(LookupError::NotFound) => Vec::new(),
            Err(LookupError::Temporary(message)) => return Err(SpfError::Lookup { name, message }),
        };
        let missing = || SpfError::MissingIncludedRecord {
            term: term.to_string(),
            domain: name.clone(),
        };
        let invalid = |error: SpfError| SpfError::InvalidIncludedRecord {
            term: term.to_string(),
            domain: name.clone(),
            error: Box::new(error),
        };
        let record = select_spf_record(&txts)
            .map_err(invalid)?
            .ok_or_else(missing)?;
        SpfRecord::parse(record).map_err(invalid)
    }

    fn follow<'s>(&'s mut self, term: &'s str, domain: &'s str) -> Step<'s, Result<(), SpfError>> {
        Box::pin(async move {
            if domain.contains('%') {
                self.unexpanded.push(term.to_string());
                return Ok(());
            }
            if self.total > COUNT_DESCENT_CAP {
                self.truncated = true;
                return Ok(());
            }
            let name = normalise_name(domain);
            if self.stack.contains(&name) {
                let mut path = self.path.clone();
                path.push(term.to_string());
                return Err(SpfError::IncludeLoop { path });
            }
            let record = self.fetch(term, domain).await?;
            self.stack.insert(name.clone());
            self.path.push(term.to_string());
            let result = self.walk(&record).await;
            self.path.pop();
            self.stack.remove(&name);
            result
        })
    }

    async fn walk(&mut self, record: &SpfRecord) -> Result<(), SpfError> {
        for d in record.directives() {
            let text = d.to_string();
            if d.mechanism.counts_lookup() {
                self.bump(&text);
            }
            match &d.mechanism {
                Mechanism::Include { domain } => self.follow(&text, domain).await?,
                // Nothing after `all` is evaluated, and redirect is ignored.
                Mechanism::All => return Ok(()),
                _ => {}
            }
        }
        if let Some(target) = record.redirect() {
            let text = format!("redirect={target}");
            self.bump(&text);
            self.follow(&text, target).await?;
        }
        Ok(())
    }
}

/// Counts the DNS lookups `record` costs when every term is evaluated
/// (the worst case: a message matching nothing), following `include:` and
/// `redirect=` through `resolver`.
///
/// Errors are problems that make receivers return permerror or that stop
/// the count: an include loop, an included name without (or with an
/// invalid) SPF record, or a temporary DNS failure. Exceeding the limit is
/// not an error here: the result says by how much and where.
pub async fn count_lookups<L: SpfLookup>(
    record: &str,
    resolver: &L,
) -> Result<LookupCount, SpfError> {
    let parsed = SpfRecord::parse(record)?;
    let mut counter = Counter {
        resolver,
        total: 0,
        over_limit_path: Vec::new(),
        unexpanded: Vec::new(),
        truncated: false,
        path: Vec::new(),
        stack: HashSet::new(),
        cache: HashMap::new(),
    };
    counter.walk(&parsed).await?;
    Ok(LookupCount {
        total: counter.total,
        limit: LOOKUP_LIMIT,
        over_limit_path: counter.over_limit_path,
        unexpanded: counter.unexpanded,
        truncated: counter.truncated,
    })
}

// ---------------------------------------------------------------------------
// check_host()
// ---------------------------------------------------------------------------

/// The seven SPF results (RFC 7208 §2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpfOutcome {
    Pass,
    Fail,
    SoftFail,
    Neutral,
    None,
    PermError,
    TempError,
}

impl fmt::Display for SpfOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SpfOutcome::Pass => "pass",
            SpfOutcome::Fail => "fail",
            SpfOutcome::SoftFail => "softfail",
            SpfOutcome::Neutral => "neutral",
            SpfOutcome::None => "none",
            SpfOutcome::PermError => "permerror",
            SpfOutcome::TempError => "temperror",
        })
    }
}

/// The result of [`authorises_ip`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpfResult {
    pub outcome: SpfOutcome,
    /// The directive that decided the outcome, in canonical form (`+` left
    /// out), e.g. `ip4:192.0.2.0/24` or `include:_spf.example.com`. `None`
    /// for the default result and for errors.
    pub term: Option<String>,
    /// Whose record held that term (differs from the queried domain after
    /// a `redirect=`).
    pub domain: String,
    /// A sentence for the console.
    pub reason: String,
    /// DNS-querying terms evaluated.
    pub lookups: usize,
}

struct Evaluator<'a, R> {
    resolver: &'a R,
    ip: IpAddr,
    sender_local: String,
    sender_domain: String,
    lookups: usize,
    void_lookups: usize,
}

/// Early exit from evaluation carrying a finished result.
type Eval<T> = Result<T, SpfResult>;

impl<R: SpfResolver> Evaluator<'_, R> {
    fn stop(&self, outcome: SpfOutcome, domain: &str, reason: String) -> SpfResult {
        SpfResult {
            outcome,
            term: None,
            domain: domain.to_string(),
            reason,
            lookups: self.lookups,
        }
    }

    fn count(&mut self, domain: &str, term: &str) -> Eval<()> {
        self.lookups += 1;
        if self.lookups > LOOKUP_LIMIT {
            return Err(self.stop(
                SpfOutcome::PermError,
                domain,
                format!(
                    "\"{term}\" would be DNS lookup {}; the limit is {LOOKUP_LIMIT} (RFC 7208 \
                     §4.6.4)",
                    self.lookups
                ),
            ));
        }
        Ok(())
    }

    /// Turns a lookup answer into addresses, applying the void-lookup limit
    /// and mapping DNS trouble to temperror.
    fn answer<T>(
        &mut self,
        domain: &str,
        name: &str,
        r: Result<Vec<T>, LookupError>,
    ) -> Eval<Vec<T>> {
        match r {
            Ok(v) if !v.is_empty() => Ok(v),
            Ok(_) | Err(LookupError::NotFound) => {
                self.void_lookups += 1;
                if self.void_lookups > VOID_LOOKUP_LIMIT {
                    return Err(self.stop(
                        SpfOutcome::PermError,
                        domain,
                        format!(
                            "more than {VOID_LOOKUP_LIMIT} lookups found nothing (the last was \
                             {name}); receivers stop there (RFC 7208 §4.6.4)"
                        ),
                    ));
                }
                Ok(Vec::new())
            }
            Err(LookupError::Temporary(m)) => Err(self.stop(
                SpfOutcome::TempError,
                domain,
                format!("DNS lookup of {name} failed: {m}"),
            )),
        }
    }

    async fn host_matches(&mut self, domain: &str, name: &str, cidr4: u8, cidr6: u8) -> Eval<bool> {
        match self.ip {
            IpAddr::V4(ip) => {
                let r = self.resolver.a(name).await;
                let addrs = self.answer(domain, name, r)?;
                Ok(addrs.iter().any(|a| {
                    Ip4Net {
                        addr: *a,
                        prefix: cidr4,
                    }
                    .contains(ip)
                }))
            }
            IpAddr::V6(ip) => {
                let r = self.resolver.aaaa(name).await;
                let addrs = self.answer(domain, name, r)?;
                Ok(addrs.iter().any(|a| {
                    Ip6Net {
                        addr: *a,
                        prefix: cidr6,
                    }
                    .contains(ip)
                }))
            }
        }
    }

    fn target(&self, domain: &str, spec: &Option<String>) -> Eval<String> {
        match spec {
            Some(s) => self.expand(domain, s),
            None => Ok(domain.to_string()),
        }
    }

    /// Expands macros (§7) in a domain-spec. The sender is
    /// `postmaster@<domain>`, which is what §4.3 uses when only a domain is
    /// known (as when checking HELO or testing from the console).
    fn expand(&self, domain: &str, spec: &str) -> Eval<String> {
        let mut out = String::new();
        let mut rest = spec;
        while let Some(pos) = rest.find('%') {
            out.push_str(&rest[..pos]);
            let after = &rest[pos + 1..];
            if let Some(r) = after.strip_prefix('%') {
                out.push('%');
                rest = r;
            } else if let Some(r) = after.strip_prefix('_') {
                out.push(' ');
                rest = r;
            } else if let Some(r) = after.strip_prefix('-') {
                out.push_str("%20");
                rest = r;
            } else if let Some(body_start) = after.strip_prefix('{') {
                let Some(close) = body_start.find('}') else {
                    return Err(self.bad_macro(domain, spec));
                };
                let body = &body_start[..close];
                out.push_str(
                    &self
                        .expand_one(domain, body)
                        .ok_or_else(|| self.bad_macro(domain, spec))?,
                );
                rest = &body_start[close + 1..];
            } else {
                return Err(self.bad_macro(domain, spec));
            }
        }
        out.push_str(rest);
        // §4.8: over-long results lose labels from the left.
        let mut name = out.trim_end_matches('.').to_string();
        while name.len() > 253 {
            match name.split_once('.') {
                Some((_, tail)) => name = tail.to_string(),
                None => break,
            }
        }
        Ok(name)
    }

    fn bad_macro(&self, domain: &str, spec: &str) -> SpfResult {
        self.stop(
            SpfOutcome::PermError,
            domain,
            format!("\"{spec}\" contains an invalid macro"),
        )
    }

    fn expand_one(&self, domain: &str, body: &str) -> Option<String> {
        if !valid_macro_body(body) {
            return None;
        }
        let mut chars = body.chars();
        let letter = chars.next()?;
        let value = match letter.to_ascii_lowercase() {
            's' => format!("{}@{}", self.sender_local, self.sender_domain),
            'l' => self.sender_local.clone(),
            'o' => self.sender_domain.clone(),
            'd' => domain.to_string(),
            'i' => match self.ip {
                IpAddr::V4(v4) => v4.to_string(),
                IpAddr::V6(v6) => nibbles(v6).join("."),
            },
            // Validated PTR names are unknown here; §7.3 allows "unknown".
            'p' => "unknown".to_string(),
            'v' => match self.ip {
                IpAddr::V4(_) => "in-addr".to_string(),
                IpAddr::V6(_) => "ip6".to_string(),
            },
            // No HELO name is known; the domain is the closest stand-in.
            'h' => self.sender_domain.clone(),
            _ => return None,
        };
        let rest: String = chars.collect();
        let digits_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (digits, tail) = rest.split_at(digits_end);
        let (reverse, delims) = match tail.strip_prefix(['r', 'R']) {
            Some(d) => (true, d),
            None => (false, tail),
        };
        let delims = if delims.is_empty() { "." } else { delims };
        let mut parts: Vec<&str> = value.split(|c| delims.contains(c)).collect();
        if reverse {
            parts.reverse();
        }
        if let Ok(keep) = digits.parse::<usize>() {
            if keep < parts.len() {
                parts = parts.split_off(parts.len() - keep);
            }
        }
        let joined = parts.join(".");
        // An upper-case letter asks for URL escaping (§7.3).
        Some(if letter.is_ascii_uppercase() {
            url_escape(&joined)
        } else {
            joined
        })
    }

    async fn matches(&mut self, domain: &str, d: &Directive) -> Eval<bool> {
        let text = d.to_string();
        match &d.mechanism {
            Mechanism::All => Ok(true),
            Mechanism::Ip4 { network } => {
                Ok(matches!(self.ip, IpAddr::V4(ip) if network.contains(ip)))
            }
            Mechanism::Ip6 { network } => {
                Ok(matches!(self.ip, IpAddr::V6(ip) if network.contains(ip)))
            }
            Mechanism::A {
                domain: spec,
                cidr4,
                cidr6,
            } => {
                self.count(domain, &text)?;
                let name = self.target(domain, spec)?;
                self.host_matches(domain, &name, cidr4.unwrap_or(32), cidr6.unwrap_or(128))
                    .await
            }
            Mechanism::Mx {
                domain: spec,
                cidr4,
                cidr6,
            } => {
                self.count(domain, &text)?;
                let name = self.target(domain, spec)?;
                let r = self.resolver.mx(&name).await;
                let hosts = self.answer(domain, &name, r)?;
                if hosts.len() > ADDRESS_NAME_LIMIT {
                    return Err(self.stop(
                        SpfOutcome::PermError,
                        domain,
                        format!(
                            "\"{text}\": {name} has {} MX hosts; SPF allows at most \
                             {ADDRESS_NAME_LIMIT} (RFC 7208 §4.6.4)",
                            hosts.len()
                        ),
                    ));
                }
                for host in hosts {
                    let host = normalise_name(&host);
                    if self
                        .host_matches(domain, &host, cidr4.unwrap_or(32), cidr6.unwrap_or(128))
                        .await?
                    {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Mechanism::Ptr { domain: spec } => {
                self.count(domain, &text)?;
                let target = normalise_name(&self.target(domain, spec)?);
                // §5.5: a failing PTR lookup simply does not match.
                let names = self.resolver.ptr(self.ip).await.unwrap_or_default();
                for name in names.into_iter().take(ADDRESS_NAME_LIMIT) {
                    let name = normalise_name(&name);
                    let confirmed = match self.ip {
                        IpAddr::V4(ip) => self.resolver.a(&name).await.map(|v| v.contains(&ip)),
                        IpAddr::V6(ip) => self.resolver.aaaa(&name).await.map(|v| v.contains(&ip)),
                    };
                    let in_target = name == target || name.ends_with(&format!(".{target}"));
                    if confirmed == Ok(true) && in_target {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Mechanism::Exists { domain: spec } => {
                self.count(domain, &text)?;
                let name = self.expand(domain, spec)?;
                // exists always queries A, whatever the client's family (§5.7).
                let r = self.resolver.a(&name).await;
                Ok(!self.answer(domain, &name, r)?.is_empty())
            }
            Mechanism::Include { domain: spec } => {
                self.count(domain, &text)?;
                let name = normalise_name(&self.expand(domain, spec)?);
                let record = match self.fetch(domain, &name).await? {
                    Some(r) => r,
                    None => {
                        return Err(self.stop(
                            SpfOutcome::PermError,
                            domain,
                            format!("\"{text}\": {name} has no SPF record"),
                        ))
                    }
                };
                let inner = self.evaluate(&name, &record).await;
                // §5.2: only pass matches; errors propagate.
                match inner.outcome {
                    SpfOutcome::Pass => Ok(true),
                    SpfOutcome::Fail | SpfOutcome::SoftFail | SpfOutcome::Neutral => Ok(false),
                    SpfOutcome::TempError | SpfOutcome::PermError => Err(inner),
                    SpfOutcome::None => Err(SpfResult {
                        outcome: SpfOutcome::PermError,
                        ..inner
                    }),
                }
            }
        }
    }

    /// The record at `name`: `Ok(None)` when there is none.
    async fn fetch(&self, domain: &str, name: &str) -> Eval<Option<SpfRecord>> {
        let txts = match self.resolver.txt(name).await {
            Ok(t) => t,
            Err(LookupError::NotFound) => Vec::new(),
            Err(LookupError::Temporary(m)) => {
                return Err(self.stop(
                    SpfOutcome::TempError,
                    domain,
                    format!("DNS lookup of {name} failed: {m}"),
                ))
            }
        };
        let perm = |e: SpfError| {
            self.stop(
                SpfOutcome::PermError,
                name,
                format!("the SPF record at {name} is invalid: {e}"),
            )
        };
        match select_spf_record(&txts) {
            Ok(None) => Ok(None),
            Ok(Some(r)) => SpfRecord::parse(r).map(Some).map_err(perm),
            Err(e) => Err(perm(e)),
        }
    }

    fn evaluate<'s>(&'s mut self, domain: &'s str, record: &'s SpfRecord) -> Step<'s, SpfResult> {
        Box::pin(async move {
            for d in record.directives() {
                match self.matches(domain, d).await {
                    Ok(true) => {
                        let outcome = d.qualifier.outcome();
                        return SpfResult {
                            outcome,
                            term: Some(d.to_string()),
                            domain: domain.to_string(),
                            reason: format!(
                                "{} matched \"{d}\" in the SPF record of {domain}: {outcome}",
                                self.ip
                            ),
                            lookups: self.lookups,
                        };
                    }
                    Ok(false) => {}
                    Err(done) => return done,
                }
            }
            if let Some(spec) = record.redirect() {
                let text = format!("redirect={spec}");
                if let Err(done) = self.count(domain, &text) {
                    return done;
                }
                let name = match self.expand(domain, spec) {
                    Ok(n) => normalise_name(&n),
                    Err(done) => return done,
                };
                return match self.fetch(domain, &name).await {
                    Ok(Some(r)) => self.evaluate(&name, &r).await,
                    // §6.1: a redirect to a name without SPF is permerror.
                    Ok(None) => self.stop(
                        SpfOutcome::PermError,
                        domain,
                        format!("\"{text}\": {name} has no SPF record"),
                    ),
                    Err(done) => done,
                };
            }
            self.stop(
                SpfOutcome::Neutral,
                domain,
                format!(
                    "no term in the SPF record of {domain} matched {}, so the default result \
                     applies: neutral",
                    self.ip
                ),
            )
        })
    }
}

/// The 32 hex nibbles of an IPv6 address, most significant first.
fn nibbles(ip: Ipv6Addr) -> Vec<String> {
    ip.octets()
        .iter()
        .flat_map(|b| [b >> 4, b & 0x0f])
        .map(|n| format!("{n:x}"))
        .collect()
}

fn url_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Evaluates `check_host()` (RFC 7208 §4) for a client at `ip` sending as
/// `domain`, whose published SPF record is `record`.
///
/// The record is passed in (rather than fetched) so the console can test a
/// draft before publishing it; includes and redirects are still resolved
/// through `resolver`. The sender is taken to be `postmaster@<domain>`.
/// IPv4-mapped IPv6 addresses are treated as IPv4, as receivers do for
/// dual-stack sockets.
pub async fn authorises_ip<R: SpfResolver>(
    record: &str,
    ip: IpAddr,
    domain: &str,
    resolver: &R,
) -> SpfResult {
    let ip = match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    let domain = normalise_name(domain);
    let mut eval = Evaluator {
        resolver,
        ip,
        sender_local: "postmaster".to_string(),
        sender_domain: domain.clone(),
        lookups: 0,
        void_lookups: 0,
    };
    if !is_spf_record(record) {
        return eval.stop(
            SpfOutcome::None,
            &domain,
            format!("{domain} publishes no SPF record (the value does not start with \"v=spf1\")"),
        );
    }
    match SpfRecord::parse(record) {
        Ok(parsed) => eval.evaluate(&domain, &parsed).await,
        Err(e) => eval.stop(
            SpfOutcome::PermError,
            &domain,
            format!("the SPF record of {domain} is invalid: {e}"),
        ),
    }
}

#[cfg(test)]
mod tests;
